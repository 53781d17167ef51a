//! Messages between the page and the download worker.
//!
//! They travel as JSON strings through `postMessage` (small, and the same code is tested
//! natively). Commands go page -> worker, events come back; every event names its job.

use std::fmt;

use serde::{Deserialize, Serialize};
use wharf_oci::auth::{Credentials, Secret};
use wharf_oci::{Digest, Reference};

use crate::net::{IoError, RelayTemplate};

/// Chosen by the page; unique among the jobs of one worker.
pub type JobId = u64;

/// Page -> worker.
///
/// The enums here (and `IoError`) use serde's default, externally tagged form
/// (`{"start":{...}}`): an internally tagged one (`{"cmd":"start",...}`) buffers every message
/// before decoding it and made the page's Wasm ~60 KB larger.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Command {
    Start(Box<StartDownload>),
    /// Save a whole image as one archive (see [`super::export`]).
    Export(Box<StartExport>),
    Cancel {
        id: JobId,
    },
}

/// Download one blob, verify it, stage it in OPFS.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StartDownload {
    pub id: JobId,
    /// The image the blob belongs to (registry and repository are what matter).
    pub reference: Reference,
    /// The descriptor: digest and size.
    pub digest: Digest,
    pub size: u64,
    /// The name the file gets when it is saved (carried back in [`DownloadEvent::Verified`]).
    pub file_name: String,
    pub relay: RelayTemplate,
    /// For the reference's registry only.
    pub credentials: Option<WireCredentials>,
    /// Only stream and verify the blob (through `relay`, a second one): nothing is staged or
    /// saved, and the final event is [`DownloadEvent::Checked`].
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub check_only: bool,
}

/// Which archive an export writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExportFormat {
    /// One tar that is both an OCI image layout and a docker-archive (schema 1 images: the
    /// legacy Docker image v1.0 layout).
    #[default]
    Combined,
    /// A pure OCI image layout (not for schema 1 images).
    Oci,
}

impl ExportFormat {
    /// As it appears in staged file names.
    pub fn as_str(self) -> &'static str {
        match self {
            ExportFormat::Combined => "archive",
            ExportFormat::Oci => "oci",
        }
    }
}

/// Save one image (one platform) as a verified tar, staged in OPFS.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StartExport {
    pub id: JobId,
    /// The image manifest, pinned by its digest; a tag, if any, names the image in the archive
    /// (`RepoTags`, `index.json`, `repositories`).
    pub reference: Reference,
    /// The name the file gets when it is saved.
    pub file_name: String,
    pub format: ExportFormat,
    /// The staged file to write (and, when it holds bytes, to resume: what a closed tab left).
    /// None: the worker names a new one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub staged_name: Option<String>,
    /// When `reference` is pinned to a multi-platform index: the entries to save (by manifest
    /// digest), all in one archive. Empty when `reference` is one image.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub platforms: Vec<Digest>,
    pub relay: RelayTemplate,
    /// For the reference's registry only.
    pub credentials: Option<WireCredentials>,
}

/// Worker -> page, about one job.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DownloadEvent {
    /// `bytes` of `total` are verified so far (staged bytes re-hashed on resume count too).
    Progress { id: JobId, bytes: u64, total: u64 },
    /// An export: `bytes` of the `total` bytes of the tar are written (every blob byte verified
    /// as it streamed), and blob `layer` of `layers` (1-based; the config is not counted) has
    /// `layer_bytes` of its `layer_size` bytes. `layer` is 0 before the first blob.
    Exporting {
        id: JobId,
        bytes: u64,
        total: u64,
        layer: u32,
        layers: u32,
        layer_bytes: u64,
        layer_size: u64,
    },
    /// Attempt `attempt` failed for `reason`; the next starts in `after_ms`.
    Retrying {
        id: JobId,
        attempt: u32,
        after_ms: u64,
        reason: String,
    },
    /// A check-only job: every byte streamed, and they are the blob the digest names.
    Checked {
        id: JobId,
        digest: Digest,
        size: u64,
    },
    /// Size and digest matched; the bytes are in the staging folder under `staged_name`, ready
    /// for [`save_verified`](super::save_verified). For an export: every blob verified, and
    /// `digest` is the sha256 of the whole tar (deterministic, so comparable between machines).
    Verified {
        id: JobId,
        digest: Digest,
        size: u64,
        staged_name: String,
        file_name: String,
    },
    /// Nothing was saved. A digest mismatch carries both digests
    /// ([`IoError::DigestMismatch`]).
    Failed { id: JobId, error: IoError },
    /// Stopped on request; the staged bytes are removed.
    Cancelled { id: JobId },
}

impl DownloadEvent {
    pub fn id(&self) -> JobId {
        match self {
            DownloadEvent::Progress { id, .. }
            | DownloadEvent::Exporting { id, .. }
            | DownloadEvent::Retrying { id, .. }
            | DownloadEvent::Verified { id, .. }
            | DownloadEvent::Checked { id, .. }
            | DownloadEvent::Failed { id, .. }
            | DownloadEvent::Cancelled { id } => *id,
        }
    }

    /// True for the last event of a job.
    pub fn is_final(&self) -> bool {
        matches!(
            self,
            DownloadEvent::Verified { .. }
                | DownloadEvent::Checked { .. }
                | DownloadEvent::Failed { .. }
                | DownloadEvent::Cancelled { .. }
        )
    }
}

/// Where downloads are staged until verified, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "path")]
pub enum StagingPath {
    /// In the Origin Private File System: a closed tab's download resumes on the next visit.
    Opfs,
    /// In memory (the file system is not there: `reason`), each file up to `ceiling` bytes; a
    /// download resumes only within its tab.
    Memory { reason: String, ceiling: u64 },
}

/// Everything the worker posts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WorkerMessage {
    /// The worker's Wasm is initialised and listening; it stages downloads as `staging` says.
    Ready {
        staging: StagingPath,
    },
    Event {
        event: DownloadEvent,
    },
    /// The worker panicked; every job in it is lost.
    Crashed {
        message: String,
    },
}

/// Credentials as they cross to the worker (the secret is in the JSON, which stays in memory;
/// `Debug` prints `***`).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WireCredentials {
    UserPassword { username: String, password: String },
    Token { token: String },
}

impl fmt::Debug for WireCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WireCredentials::UserPassword { username, .. } => f
                .debug_struct("UserPassword")
                .field("username", username)
                .field("password", &"***")
                .finish(),
            WireCredentials::Token { .. } => {
                f.debug_struct("Token").field("token", &"***").finish()
            }
        }
    }
}

impl From<&Credentials> for WireCredentials {
    fn from(c: &Credentials) -> Self {
        match c {
            Credentials::UserPassword { username, password } => WireCredentials::UserPassword {
                username: username.clone(),
                password: password.expose().to_owned(),
            },
            Credentials::Token(token) => WireCredentials::Token {
                token: token.expose().to_owned(),
            },
        }
    }
}

impl TryFrom<&WireCredentials> for Credentials {
    type Error = IoError;

    fn try_from(c: &WireCredentials) -> Result<Self, IoError> {
        let checked = match c {
            WireCredentials::UserPassword { username, password } => {
                Credentials::user_password(username.as_str(), Secret::new(password.as_str()))
            }
            WireCredentials::Token { token } => Credentials::token(Secret::new(token.as_str())),
        };
        checked.map_err(IoError::from)
    }
}

impl Command {
    pub fn to_json(&self) -> String {
        // Serializing these plain types cannot fail (no maps with non-string keys).
        serde_json::to_string(self).unwrap_or_default()
    }

    pub fn from_json(json: &str) -> Result<Self, IoError> {
        serde_json::from_str(json).map_err(|e| IoError::Browser {
            message: format!("bad message to the download worker: {e}"),
        })
    }
}

impl WorkerMessage {
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    pub fn from_json(json: &str) -> Result<Self, IoError> {
        serde_json::from_str(json).map_err(|e| IoError::Browser {
            message: format!("bad message from the download worker: {e}"),
        })
    }
}

/// The staging file name of an export: `export-<manifest hex>-<format>-<started ms>.tar`
/// (unique per run, so that a new export never overwrites a file the browser may still be
/// copying out of the staging folder).
pub fn export_staged_name(manifest: &Digest, format: ExportFormat, started_ms: u64) -> String {
    format!(
        "{EXPORT_PREFIX}{}-{}-{started_ms}.tar",
        manifest.hex(),
        format.as_str()
    )
}

/// What every export's staged file name starts with.
pub const EXPORT_PREFIX: &str = "export-";

/// The staging file name of a blob: `sha256-<hex>.part`.
pub fn staged_name(digest: &Digest) -> String {
    format!("{}-{}.part", digest.algorithm(), digest.hex())
}

#[cfg(test)]
mod tests;
