//! A check-only job (`StartDownload::check_only`): the blob is streamed again, through the relay
//! the job names, and verified against its digest and size; the bytes are dropped as they pass.
//! Nothing is staged, so nothing can be saved.

use wharf_oci::Verifier;

use super::engine::{fetch_blob, window_for_this_browser, CancelToken, Engine};
use super::job::{EventObserver, RegistryBlob};
use super::opfs::Sink;
use super::protocol::{DownloadEvent, StartDownload};
use super::retry::RetryPolicy;
use crate::net::body::{ChunkBuffer, DEFAULT_CHUNK};
use crate::net::{IoError, RegistryClient};

/// A sink that keeps nothing but its position (so that the engine can resume and restart).
#[derive(Debug, Default)]
pub struct Discard {
    position: u64,
}

impl Sink for Discard {
    fn position(&self) -> u64 {
        self.position
    }

    fn write(&mut self, bytes: &[u8]) -> Result<(), IoError> {
        self.position += bytes.len() as u64;
        Ok(())
    }

    fn truncate(&mut self, len: u64) -> Result<(), IoError> {
        self.position = len;
        Ok(())
    }
}

/// Runs a check-only job to its final event.
pub async fn run_check(
    job: &StartDownload,
    client: &RegistryClient,
    cancel: &CancelToken,
    emit: &mut dyn FnMut(DownloadEvent),
) -> DownloadEvent {
    let id = job.id;
    let source = RegistryBlob {
        client,
        reference: &job.reference,
        digest: &job.digest,
        cancel,
    };
    let mut buffer = ChunkBuffer::new(DEFAULT_CHUNK);
    let mut engine = Engine {
        buffer: &mut buffer,
        policy: RetryPolicy::default(),
        cancel,
        window: window_for_this_browser(),
    };
    let mut observer = EventObserver::new(id, job.size, emit);
    let verifier = Verifier::new(job.digest.clone(), job.size);
    let mut sink = Discard::default();
    match fetch_blob(&mut engine, &source, verifier, &mut sink, &mut observer).await {
        Ok(verified) => DownloadEvent::Checked {
            id,
            digest: verified.digest,
            size: verified.size,
        },
        Err(IoError::Cancelled) => DownloadEvent::Cancelled { id },
        Err(error) => DownloadEvent::Failed { id, error },
    }
}
