//! One blob download job in the worker: stage by digest, resume what an earlier run left,
//! verify, and clean up according to the outcome.

use wharf_oci::{Digest, Reference, Verifier};

use super::engine::{fetch_blob, BlobSource, CancelToken, Engine, Observer};
use super::opfs::{Sink, Staging, SyncFile};
use super::protocol::{staged_name, DownloadEvent, JobId, StartDownload};
use super::retry::RetryPolicy;
use crate::net::body::ChunkBuffer;
use crate::net::{js, IoError, RegistryClient};

/// Progress events at most this often (and always at the end).
const PROGRESS_EVERY_MS: u64 = 100;

/// A blob of a repository, opened through a [`RegistryClient`].
pub struct RegistryBlob<'a> {
    pub client: &'a RegistryClient,
    pub reference: &'a Reference,
    pub digest: &'a Digest,
    pub cancel: &'a CancelToken,
}

impl BlobSource for RegistryBlob<'_> {
    async fn open(&self, start: u64) -> Result<web_sys::Response, IoError> {
        let signal = self.cancel.signal();
        self.client
            .open_blob(self.reference, self.digest, start, signal.as_ref())
            .await
    }
}

/// Turns engine callbacks into (throttled) [`DownloadEvent`]s.
pub struct EventObserver<'a> {
    pub id: JobId,
    pub total: u64,
    pub emit: &'a mut dyn FnMut(DownloadEvent),
    last_ms: u64,
}

impl<'a> EventObserver<'a> {
    pub fn new(id: JobId, total: u64, emit: &'a mut dyn FnMut(DownloadEvent)) -> Self {
        EventObserver {
            id,
            total,
            emit,
            last_ms: 0,
        }
    }
}

impl Observer for EventObserver<'_> {
    fn progress(&mut self, bytes: u64) {
        let now = js::now_ms();
        if bytes < self.total && now.saturating_sub(self.last_ms) < PROGRESS_EVERY_MS {
            return;
        }
        self.last_ms = now;
        (self.emit)(DownloadEvent::Progress {
            id: self.id,
            bytes,
            total: self.total,
        });
    }

    fn retrying(&mut self, attempt: u32, after_ms: u64, reason: &str) {
        (self.emit)(DownloadEvent::Retrying {
            id: self.id,
            attempt,
            after_ms,
            reason: reason.to_owned(),
        });
    }
}

/// Feeds the staged prefix of `file` (what an interrupted run left) into a new verifier, so
/// that the download continues after it. A file longer than the blob is emptied.
pub fn resume_verifier<O: Observer>(
    file: &mut SyncFile,
    digest: &Digest,
    size: u64,
    buffer: &mut ChunkBuffer,
    observer: &mut O,
) -> Result<Verifier, IoError> {
    let mut verifier = Verifier::new(digest.clone(), size);
    let staged = file.size()?;
    if staged > size {
        file.truncate(0)?;
        return Ok(verifier);
    }
    let mut offset = 0u64;
    while offset < staged {
        let want = usize::try_from(staged - offset)
            .unwrap_or(usize::MAX)
            .min(buffer.capacity());
        let chunk = &mut buffer.wasm_mut()[..want];
        let n = file.read_at(offset, chunk)?;
        if n == 0 {
            break;
        }
        verifier.update(&chunk[..n])?;
        offset += n as u64;
        observer.progress(offset);
    }
    if offset != file.position() {
        file.truncate(offset)?;
    }
    Ok(verifier)
}

/// Runs one download to its final event ([`DownloadEvent::is_final`]); progress and retries go
/// to `emit` on the way.
pub async fn run_download(
    job: &StartDownload,
    client: &RegistryClient,
    cancel: &CancelToken,
    emit: &mut dyn FnMut(DownloadEvent),
) -> DownloadEvent {
    let source = RegistryBlob {
        client,
        reference: &job.reference,
        digest: &job.digest,
        cancel,
    };
    let blob = BlobJob {
        id: job.id,
        digest: &job.digest,
        size: job.size,
        file_name: &job.file_name,
        policy: RetryPolicy::default(),
    };
    blob.run(&source, cancel, emit).await
}

/// One blob to stage under its digest, from any [`BlobSource`].
#[derive(Debug, Clone)]
pub struct BlobJob<'a> {
    pub id: JobId,
    pub digest: &'a Digest,
    pub size: u64,
    pub file_name: &'a str,
    pub policy: RetryPolicy,
}

impl BlobJob<'_> {
    /// Stages, verifies and cleans up; returns the final event.
    pub async fn run<S: BlobSource>(
        &self,
        source: &S,
        cancel: &CancelToken,
        emit: &mut dyn FnMut(DownloadEvent),
    ) -> DownloadEvent {
        let id = self.id;
        let name = staged_name(self.digest);
        let staging = match Staging::open().await {
            Ok(s) => s,
            Err(error) => return DownloadEvent::Failed { id, error },
        };
        let outcome = match staging.open_sync(&name).await {
            Ok(mut file) => {
                let result = self.stage(source, cancel, &mut file, emit).await;
                let closed = file.close();
                result.and_then(|v| closed.map(|()| v))
            }
            Err(error) => Err(error),
        };
        match outcome {
            Ok(verified) => DownloadEvent::Verified {
                id,
                digest: verified.digest,
                size: verified.size,
                staged_name: name,
                file_name: self.file_name.to_owned(),
            },
            Err(error) => {
                if !error.keeps_staged_bytes() {
                    // Best effort: a file that cannot be removed now is replaced by the next run.
                    let _ = staging.remove(&name).await;
                }
                match error {
                    IoError::Cancelled => DownloadEvent::Cancelled { id },
                    error => DownloadEvent::Failed { id, error },
                }
            }
        }
    }

    async fn stage<S: BlobSource>(
        &self,
        source: &S,
        cancel: &CancelToken,
        file: &mut SyncFile,
        emit: &mut dyn FnMut(DownloadEvent),
    ) -> Result<wharf_oci::Verified, IoError> {
        let mut buffer = ChunkBuffer::new(crate::net::body::DEFAULT_CHUNK);
        let mut observer = EventObserver::new(self.id, self.size, emit);
        let verifier = resume_verifier(file, self.digest, self.size, &mut buffer, &mut observer)?;
        let resumed = verifier.bytes_seen() > 0;
        let mut engine = Engine {
            buffer: &mut buffer,
            policy: self.policy,
            cancel,
        };
        let first = fetch_blob(&mut engine, source, verifier, file, &mut observer).await;
        match first {
            // Staged bytes from an earlier run may be what failed: start over once, from nothing.
            Err(IoError::DigestMismatch { .. } | IoError::SizeMismatch { .. }) if resumed => {
                observer.retrying(
                    1,
                    0,
                    "the staged bytes did not verify; downloading from the start",
                );
                file.truncate(0)?;
                observer.progress(0);
                let fresh = Verifier::new(self.digest.clone(), self.size);
                fetch_blob(&mut engine, source, fresh, file, &mut observer).await
            }
            other => other,
        }
    }
}
