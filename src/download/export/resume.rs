//! Resuming an export that a closed tab left half-written. The archive is deterministic, so the
//! staged file's first bytes are what the plan says they are: they are read back segment by
//! segment, small segments compared byte for byte, blobs verified again (nothing from the last
//! run is trusted), and the tar's hash is rebuilt on the way. Writing goes on from the first
//! segment that is missing or wrong; a blob cut off mid-way continues from its staged bytes,
//! with its verifier fed with them.

use wharf_oci::archive::{Archive, Segment};
use wharf_oci::digest::Hasher;
use wharf_oci::{Algorithm, Verifier};

use super::super::opfs::{Sink, SyncFile};
use crate::net::body::ChunkBuffer;
use crate::net::IoError;

/// Where writing goes on.
pub struct Resumed {
    /// The index of the first segment to write.
    pub segment: usize,
    /// The hash of every byte kept.
    pub hasher: Hasher,
    /// When that segment is a blob whose first bytes are kept: its verifier (fed with them) and
    /// the tar's hash before it (to cut back to its start).
    pub partial: Option<Partial>,
}

pub struct Partial {
    pub verifier: Verifier,
    pub before: Hasher,
}

impl Resumed {
    /// Nothing kept: the whole archive is written.
    pub fn fresh() -> Resumed {
        Resumed {
            segment: 0,
            hasher: Hasher::new(Algorithm::Sha256),
            partial: None,
        }
    }

    /// How many blobs come before the first segment to write.
    pub fn blobs_before(&self, archive: &Archive) -> usize {
        let done = archive.segments().iter().take(self.segment);
        done.filter(|s| matches!(s, Segment::Blob { .. })).count()
    }
}

/// Checks the first `written` bytes of `file` against `archive`, cuts the file after the last
/// good byte, and says where writing goes on. `progress` hears how far the check is.
pub fn reread(
    file: &mut SyncFile,
    archive: &Archive,
    written: u64,
    buffer: &mut ChunkBuffer,
    progress: &mut dyn FnMut(u64),
) -> Result<Resumed, IoError> {
    let mut hasher = Hasher::new(Algorithm::Sha256);
    let mut position = 0u64;
    for (segment, part) in archive.segments().iter().enumerate() {
        let available = written.saturating_sub(position);
        let kept = match part {
            Segment::Bytes(bytes) => {
                let same = available >= part.len() && read_equal(file, position, bytes)?;
                same.then(|| hasher.update(bytes))
            }
            Segment::Blob { digest, size } => {
                let before = hasher.clone();
                let mut verifier = Verifier::new(digest.clone(), *size);
                let take = available.min(*size);
                read_into(file, position, take, buffer, &mut |chunk| {
                    hasher.update(chunk);
                    verifier.update(chunk)
                })?;
                if take < *size {
                    // With nothing of the blob read, `hasher` is still `before`.
                    file.truncate(position + take)?;
                    return Ok(Resumed {
                        segment,
                        hasher,
                        partial: (take > 0).then_some(Partial { verifier, before }),
                    });
                }
                match verifier.finish() {
                    Ok(_) => Some(()),
                    Err(_) => {
                        hasher = before;
                        None
                    }
                }
            }
        };
        if kept.is_none() {
            file.truncate(position)?;
            return Ok(Resumed {
                segment,
                hasher,
                partial: None,
            });
        }
        position += part.len();
        progress(position);
    }
    file.truncate(position)?;
    Ok(Resumed {
        segment: archive.segments().len(),
        hasher,
        partial: None,
    })
}

/// Whether the file holds exactly `expected` at `offset`.
fn read_equal(file: &mut SyncFile, offset: u64, expected: &[u8]) -> Result<bool, IoError> {
    let mut found = vec![0u8; expected.len()];
    let mut read = 0;
    while read < found.len() {
        let n = file.read_at(offset + read as u64, &mut found[read..])?;
        if n == 0 {
            return Ok(false);
        }
        read += n;
    }
    Ok(found == expected)
}

/// Feeds `len` bytes of the file from `offset` to `each`, a buffer at a time.
fn read_into(
    file: &mut SyncFile,
    offset: u64,
    len: u64,
    buffer: &mut ChunkBuffer,
    each: &mut dyn FnMut(&[u8]) -> Result<(), wharf_oci::Error>,
) -> Result<(), IoError> {
    let mut done = 0u64;
    while done < len {
        let want = usize::try_from(len - done)
            .unwrap_or(usize::MAX)
            .min(buffer.capacity());
        let chunk = &mut buffer.wasm_mut()[..want];
        let n = file.read_at(offset + done, chunk)?;
        let Some(read) = chunk.get(..n).filter(|r| !r.is_empty()) else {
            return Err(IoError::Storage {
                operation: "read back a staged archive".into(),
                message: format!("the file ended at byte {}", offset + done),
            });
        };
        each(read)?;
        done += n as u64;
    }
    Ok(())
}
