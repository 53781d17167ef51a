//! Writing a planned archive into one sink: small segments as they are, each blob through
//! [`fetch_blob`] (verified while it streams, resumed inside the blob by the engine), hashing the
//! whole tar on the way.

use wharf_oci::archive::{Archive, Segment};
use wharf_oci::digest::Hasher;
use wharf_oci::{Algorithm, Digest, Verifier};

use super::super::engine::{fetch_blob, BlobSource, Engine, Observer};
use super::super::opfs::Sink;
use super::super::protocol::{DownloadEvent, JobId};
use super::resume::Resumed;
use crate::net::{js, IoError};

/// Progress events at most this often (and always at the end of a blob).
const PROGRESS_EVERY_MS: u64 = 100;

/// Serves the blobs of one archive, by digest.
#[allow(async_fn_in_trait)] // used with concrete types only, on one thread
pub trait Blobs {
    /// Like [`BlobSource::open`], for the blob `digest`.
    async fn open(
        &self,
        digest: &Digest,
        start: u64,
        end: Option<u64>,
    ) -> Result<web_sys::Response, IoError>;
}

/// One blob of a [`Blobs`], as the engine wants it.
struct OneBlob<'a, B> {
    blobs: &'a B,
    digest: &'a Digest,
}

impl<B: Blobs> BlobSource for OneBlob<'_, B> {
    async fn open(&self, start: u64, end: Option<u64>) -> Result<web_sys::Response, IoError> {
        self.blobs.open(self.digest, start, end).await
    }
}

/// A sink that hashes everything written to it (the sha256 of the whole tar).
///
/// The engine cuts a blob back to its first byte when a server restarts it; a running hash
/// cannot be rewound, so the hash state at the start of the current blob is kept and put back.
/// Cutting anywhere else is refused (it would make the hash lie).
pub struct TarSink<'a, K: Sink> {
    inner: &'a mut K,
    hasher: Hasher,
    /// Where the current blob starts, and the hash of everything before it.
    mark: Option<(u64, Hasher)>,
}

impl<'a, K: Sink> TarSink<'a, K> {
    pub fn new(inner: &'a mut K) -> Self {
        TarSink {
            inner,
            hasher: Hasher::new(Algorithm::Sha256),
            mark: None,
        }
    }

    /// Goes on after what a resumed export kept (`inner` is positioned after it): the hash of
    /// every kept byte, and for a half-written blob its start and the hash before it.
    pub fn resumed(inner: &'a mut K, from: &Resumed) -> Self {
        let mark = from.partial.as_ref().map(|p| {
            let start = inner.position() - p.verifier.bytes_seen();
            (start, p.before.clone())
        });
        TarSink {
            inner,
            hasher: from.hasher.clone(),
            mark,
        }
    }

    /// Remembers the current position as the start of a blob.
    pub fn begin_blob(&mut self) {
        self.mark = Some((self.inner.position(), self.hasher.clone()));
    }

    /// The sha256 of everything written (and not cut).
    pub fn finish(self) -> Digest {
        self.hasher.finish()
    }
}

impl<K: Sink> Sink for TarSink<'_, K> {
    fn position(&self) -> u64 {
        self.inner.position()
    }

    fn write(&mut self, bytes: &[u8]) -> Result<(), IoError> {
        self.inner.write(bytes)?;
        self.hasher.update(bytes);
        Ok(())
    }

    fn truncate(&mut self, len: u64) -> Result<(), IoError> {
        if len == self.inner.position() {
            return Ok(());
        }
        match &self.mark {
            Some((start, before)) if *start == len => {
                self.inner.truncate(len)?;
                self.hasher = before.clone();
                Ok(())
            }
            _ => Err(IoError::Browser {
                message: format!(
                    "the archive cannot be cut back to byte {len} (only to the start of the \
                     blob being written)"
                ),
            }),
        }
    }
}

/// Turns engine callbacks into (throttled) [`DownloadEvent::Exporting`] events.
pub struct ExportObserver<'a> {
    id: JobId,
    total: u64,
    layers: u32,
    layer: u32,
    layer_size: u64,
    /// Tar bytes before the current blob.
    before: u64,
    last_ms: u64,
    emit: &'a mut dyn FnMut(DownloadEvent),
}

impl<'a> ExportObserver<'a> {
    pub fn new(id: JobId, archive: &Archive, emit: &'a mut dyn FnMut(DownloadEvent)) -> Self {
        let layers = u32::try_from(archive.blobs().len()).unwrap_or(u32::MAX);
        ExportObserver {
            id,
            total: archive.total_size(),
            layers,
            layer: 0,
            layer_size: 0,
            before: 0,
            last_ms: 0,
            emit,
        }
    }

    /// A resumed export: `blobs` blobs are written already.
    pub fn skip(&mut self, blobs: usize) {
        self.layer = u32::try_from(blobs).unwrap_or(u32::MAX);
    }

    fn next_layer(&mut self, position: u64, size: u64) {
        self.layer = self.layer.saturating_add(1);
        self.layer_size = size;
        self.before = position;
        self.send(position, 0, true);
    }

    /// Reports how far a resumed export's check of its staged bytes is.
    pub fn report(&mut self, position: u64) {
        self.send(position, 0, false);
    }

    /// Reports the tar's `position` between segments (the current blob, if any, is done).
    fn at(&mut self, position: u64, force: bool) {
        let layer_bytes = if self.layer > 0 { self.layer_size } else { 0 };
        self.send(position, layer_bytes, force);
    }

    fn send(&mut self, bytes: u64, layer_bytes: u64, force: bool) {
        let now = js::now_ms();
        if !force && now.saturating_sub(self.last_ms) < PROGRESS_EVERY_MS {
            return;
        }
        self.last_ms = now;
        (self.emit)(DownloadEvent::Exporting {
            id: self.id,
            bytes,
            total: self.total,
            layer: self.layer,
            layers: self.layers,
            layer_bytes,
            layer_size: self.layer_size,
        });
    }
}

impl Observer for ExportObserver<'_> {
    fn progress(&mut self, bytes: u64) {
        let force = bytes == self.layer_size;
        self.send(self.before.saturating_add(bytes), bytes, force);
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

/// Writes the segments of `archive` from `from.segment` on into `sink` (which holds the ones
/// before), each blob verified; a blob `from` left half-written goes on with its verifier. Fails
/// on the first blob that does not verify (the caller removes what was written).
pub async fn write_archive<B: Blobs, K: Sink>(
    engine: &mut Engine<'_>,
    archive: &Archive,
    blobs: &B,
    sink: &mut TarSink<'_, K>,
    observer: &mut ExportObserver<'_>,
    from: Resumed,
) -> Result<(), IoError> {
    observer.skip(from.blobs_before(archive));
    let mut partial = from.partial.map(|p| p.verifier);
    for segment in archive.segments().iter().skip(from.segment) {
        if engine.cancel.is_cancelled() {
            return Err(IoError::Cancelled);
        }
        match segment {
            Segment::Bytes(bytes) => {
                sink.write(bytes)?;
                observer.at(sink.position(), false);
            }
            Segment::Blob { digest, size } => {
                let verifier = match partial.take() {
                    // Its start and the hash before it are the sink's mark already.
                    Some(verifier) => verifier,
                    None => {
                        sink.begin_blob();
                        Verifier::new(digest.clone(), *size)
                    }
                };
                let start = sink.position() - verifier.bytes_seen();
                observer.next_layer(start, *size);
                let source = OneBlob { blobs, digest };
                fetch_blob(engine, &source, verifier, sink, observer).await?;
            }
        }
    }
    let written = sink.position();
    if written != archive.total_size() {
        return Err(IoError::SizeMismatch {
            expected: archive.total_size(),
            actual: written,
        });
    }
    observer.at(sink.position(), true);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Default)]
    struct VecSink(Vec<u8>);

    impl Sink for VecSink {
        fn position(&self) -> u64 {
            self.0.len() as u64
        }
        fn write(&mut self, bytes: &[u8]) -> Result<(), IoError> {
            self.0.extend_from_slice(bytes);
            Ok(())
        }
        fn truncate(&mut self, len: u64) -> Result<(), IoError> {
            self.0.truncate(usize::try_from(len).unwrap_or(usize::MAX));
            Ok(())
        }
    }

    #[test]
    fn the_tar_hash_follows_a_blob_restart() {
        let mut out = VecSink::default();
        let mut sink = TarSink::new(&mut out);
        sink.write(b"header").expect("write");
        sink.begin_blob();
        sink.write(b"half of a bl").expect("write");
        // The server restarted the blob: cut back to its first byte.
        sink.truncate(6).expect("back to the blob's start");
        sink.write(b"the blob").expect("write");
        sink.truncate(14)
            .expect("cutting to the end changes nothing");
        sink.write(b"padding").expect("write");
        let digest = sink.finish();
        assert_eq!(out.0, b"headerthe blobpadding");
        assert_eq!(digest, Digest::sha256_of(b"headerthe blobpadding"));
    }

    #[test]
    fn cutting_anywhere_else_is_refused() {
        let cases: [(&[u8], bool, u64); 3] = [
            (b"abcdef", false, 2), // no blob started
            (b"abcdef", true, 3),  // inside the blob, not its start
            (b"abcdef", true, 0),  // before the blob
        ];
        for (bytes, blob, cut) in cases {
            let mut out = VecSink::default();
            let mut sink = TarSink::new(&mut out);
            sink.write(&bytes[..1]).expect("write");
            if blob {
                sink.begin_blob();
            }
            sink.write(&bytes[1..]).expect("write");
            assert!(
                matches!(sink.truncate(cut), Err(IoError::Browser { .. })),
                "cut to {cut} (blob started: {blob})"
            );
            assert_eq!(sink.finish(), Digest::sha256_of(bytes), "hash unchanged");
        }
    }
}
