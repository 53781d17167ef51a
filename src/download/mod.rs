//! Verified downloads, run in a Web Worker so the page never stalls.
//!
//! - [`protocol`]: messages page <-> worker (JSON), staged file names.
//! - [`engine`]: fetch one blob -> BYOB reader -> sha256 -> a [`Sink`], with retries
//!   ([`retry`]) and resume checks ([`range`]); reusable for archives (several blobs, one sink).
//! - [`opfs`]: the staging folder in the Origin Private File System (sync access handles).
//! - [`memory`]: the same, in memory, where the browser has no such file system.
//! - [`check`]: a blob streamed again through another relay and verified, nothing kept.
//! - [`job`]: one blob job (stage by digest, resume after a closed tab, clean up).
//! - [`export`]: one image saved as one archive (tar headers and several blobs, one file).
//! - [`worker`]: the worker's main loop; [`manager`]: the page side, and saving.

pub mod check;
pub mod engine;
pub mod export;
pub mod job;
pub mod manager;
pub mod memory;
pub mod opfs;
pub mod protocol;
pub mod range;
pub mod retry;
pub mod worker;

pub use engine::{fetch_blob, BlobSource, CancelToken, Engine, Observer};
pub use manager::{remove_staged, save_verified, DownloadManager, WORKER_SCRIPT};
pub use opfs::{choose_staging_path, staging_path, Sink, Staging, SyncFile, STAGING_DIR};
pub use protocol::{
    export_staged_name, staged_name, Command, DownloadEvent, ExportFormat, JobId, StagingPath,
    StartDownload, StartExport, WireCredentials, WorkerMessage,
};
pub use range::{check_answer, AnswerProblem, BodyStart};
pub use retry::{Decision, Failure, RetryPolicy};

#[cfg(all(test, target_arch = "wasm32"))]
mod browser_tests;
