//! Checking one blob's bytes as they stream: sizes here, the sha256 here or in the job's
//! second hasher ([`SideHasher`], a nested worker), so that hashing runs beside reading and
//! writing instead of between them.
//!
//! Either way nothing counts as verified before the digest of exactly the expected number of
//! bytes matched. Blobs resumed from staged bytes are checked here ([`BlobCheck::Here`]): the
//! staged bytes are fed to a [`Verifier`] as they are read back.

use wharf_oci::{Algorithm, Digest, Verified, Verifier};

use super::hasher::SideHasher;
use crate::net::IoError;

/// The check of one blob.
pub enum BlobCheck {
    Here(Box<Verifier>),
    Beside(Counted),
}

/// Sizes counted here, bytes hashed by a side hasher that was fresh (or finished) when the
/// blob started.
pub struct Counted {
    expected: Digest,
    size: u64,
    seen: u64,
    side: SideHasher,
}

impl BlobCheck {
    /// A new blob of `size` bytes, hashed by `side` where there is one (and the digest is a
    /// sha256, the only one it computes).
    pub fn start(expected: Digest, size: u64, side: Option<&SideHasher>) -> Self {
        match side {
            Some(side) if expected.algorithm() == Algorithm::Sha256 => {
                side.reset();
                BlobCheck::Beside(Counted {
                    expected,
                    size,
                    seen: 0,
                    side: side.clone(),
                })
            }
            _ => BlobCheck::Here(Box::new(Verifier::new(expected, size))),
        }
    }

    pub fn expected_size(&self) -> u64 {
        match self {
            BlobCheck::Here(v) => v.expected_size(),
            BlobCheck::Beside(c) => c.size,
        }
    }

    pub fn bytes_seen(&self) -> u64 {
        match self {
            BlobCheck::Here(v) => v.bytes_seen(),
            BlobCheck::Beside(c) => c.seen,
        }
    }

    /// Feeds the next bytes. Fails if the stream grows past the expected size.
    pub fn update(&mut self, bytes: &[u8]) -> Result<(), IoError> {
        match self {
            BlobCheck::Here(v) => v.update(bytes).map_err(IoError::from),
            BlobCheck::Beside(c) => {
                let seen = c.seen.saturating_add(bytes.len() as u64);
                if seen > c.size {
                    return Err(IoError::SizeMismatch {
                        expected: c.size,
                        actual: seen,
                    });
                }
                c.seen = seen;
                c.side.update(bytes);
                Ok(())
            }
        }
    }

    /// Forgets every byte: the blob starts again from its first.
    pub fn restart(&mut self) {
        match self {
            BlobCheck::Here(v) => **v = Verifier::new(v.expected().clone(), v.expected_size()),
            BlobCheck::Beside(c) => {
                c.seen = 0;
                c.side.reset();
            }
        }
    }

    /// Waits until another chunk can be fed without growing the buffers in flight.
    pub async fn ready(&mut self) -> Result<(), IoError> {
        match self {
            BlobCheck::Here(_) => Ok(()),
            BlobCheck::Beside(c) => c.side.ready().await,
        }
    }

    /// Checks the total size, then the digest.
    pub async fn finish(self) -> Result<Verified, IoError> {
        let c = match self {
            BlobCheck::Here(v) => return v.finish().map_err(IoError::from),
            BlobCheck::Beside(c) => c,
        };
        if c.seen != c.size {
            return Err(IoError::SizeMismatch {
                expected: c.size,
                actual: c.seen,
            });
        }
        let actual = c.side.digest().await?;
        if actual != c.expected {
            return Err(IoError::DigestMismatch {
                expected: c.expected,
                actual,
            });
        }
        Ok(Verified {
            digest: actual,
            size: c.seen,
        })
    }
}

impl From<Verifier> for BlobCheck {
    fn from(verifier: Verifier) -> Self {
        BlobCheck::Here(Box::new(verifier))
    }
}
