//! One blob download job in the worker: stage by digest, resume what an earlier run left,
//! verify, and clean up according to the outcome.

use wharf_oci::{Digest, Reference, Verifier};

use wharf_oci::request::ByteRange;

use super::engine::{
    fetch_blob, window_for_this_browser, BlobSource, CancelToken, Engine, Observer,
};
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
    async fn open(&self, start: u64, end: Option<u64>) -> Result<web_sys::Response, IoError> {
        let signal = self.cancel.signal();
        let range = match end {
            Some(end) => ByteRange::window(start, end.saturating_sub(start).saturating_add(1)),
            None => (start > 0).then(|| ByteRange::from_offset(start)),
        };
        self.client
            .open_blob_range(self.reference, self.digest, range, signal.as_ref())
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

/// Asks for the blob's whole size once, before any byte is fetched, so that a disk or quota
/// that is too small fails now and not after gigabytes (growing the file is free on the
/// storage side: it is sparse), then gives the file back its length.
fn check_room(file: &mut SyncFile, size: u64, written: u64) -> Result<(), IoError> {
    file.set_len(size)?;
    file.set_len(written)
}

/// Feeds the first `written` bytes of `file` (what an interrupted run left) into a new
/// verifier for a blob of `size` bytes, and positions the file after them.
pub fn resume_verifier<O: Observer>(
    file: &mut SyncFile,
    written: u64,
    digest: &Digest,
    size: u64,
    buffer: &mut ChunkBuffer,
    observer: &mut O,
) -> Result<Verifier, IoError> {
    let mut verifier = Verifier::new(digest.clone(), size);
    let mut offset = 0u64;
    while offset < written {
        let want = usize::try_from(written - offset)
            .unwrap_or(usize::MAX)
            .min(buffer.capacity());
        let chunk = &mut buffer.wasm_mut()[..want];
        let n = file.read_at(offset, chunk)?;
        let Some(read) = chunk.get(..n).filter(|r| !r.is_empty()) else {
            break;
        };
        verifier.update(read)?;
        offset += n as u64;
        observer.progress(offset);
    }
    file.truncate(offset)?;
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
        window: window_for_this_browser(),
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
    /// See [`Engine::window`].
    pub window: Option<u64>,
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
            Ok(file) => self.stage(source, cancel, file, emit).await,
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

    /// Downloads into the staged file, continuing after what an earlier run left in it.
    async fn stage<S: BlobSource>(
        &self,
        source: &S,
        cancel: &CancelToken,
        mut file: SyncFile,
        emit: &mut dyn FnMut(DownloadEvent),
    ) -> Result<wharf_oci::Verified, IoError> {
        let written = file.size()?;
        // A file longer than the blob is not an earlier run of this download.
        let written = if written > self.size { 0 } else { written };
        check_room(&mut file, self.size, written)?;
        let result = self.fill(source, cancel, &mut file, written, emit).await;
        let closed = file.close();
        result.and_then(|verified| closed.map(|()| verified))
    }

    async fn fill<S: BlobSource>(
        &self,
        source: &S,
        cancel: &CancelToken,
        file: &mut SyncFile,
        written: u64,
        emit: &mut dyn FnMut(DownloadEvent),
    ) -> Result<wharf_oci::Verified, IoError> {
        let mut buffer = ChunkBuffer::new(crate::net::body::DEFAULT_CHUNK);
        let mut observer = EventObserver::new(self.id, self.size, emit);
        let verifier = resume_verifier(
            file,
            written,
            self.digest,
            self.size,
            &mut buffer,
            &mut observer,
        )?;
        let resumed = verifier.bytes_seen() > 0;
        let mut engine = Engine {
            buffer: &mut buffer,
            policy: self.policy,
            cancel,
            window: self.window,
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
