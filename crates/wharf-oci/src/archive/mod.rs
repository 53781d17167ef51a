//! Image archives that `docker load`, `podman load`, containerd and skopeo accept, planned
//! without IO.
//!
//! A plan ([`ImagePlan`] for OCI and Docker schema 2 images, [`IndexPlan`] for several platforms
//! of one index, [`LegacyPlan`] for Docker schema 1)
//! becomes an [`Archive`]: an ordered list of [`Segment`]s whose total length is known before the
//! first byte. Small entries (tar headers, `manifest.json`, `index.json`, configs, padding) are
//! [`Segment::Bytes`]; every layer is a [`Segment::Blob`] that the driver streams from the
//! registry into the output at that point, verifying it with a [`Verifier`] as it goes. So the
//! driver never holds a layer in memory, and the output is deterministic: the same inputs give
//! byte-identical tars (mtime 0, owner 0:0, modes 0644/0755, fixed entry order).
//!
//! A driver's loop:
//!
//! ```
//! # use wharf_oci::archive::{Archive, Segment};
//! # use wharf_oci::{Result, Verifier};
//! fn drive(archive: &Archive, out: &mut Vec<u8>) -> Result<()> {
//!     for segment in archive.segments() {
//!         match segment {
//!             Segment::Bytes(bytes) => out.extend_from_slice(bytes),
//!             Segment::Blob { digest, size } => {
//!                 let mut verifier = Verifier::new(digest.clone(), *size);
//!                 // for each chunk fetched from the registry:
//!                 //     verifier.update(chunk)?; out.extend_from_slice(chunk);
//!                 verifier.finish()?;
//!             }
//!         }
//!     }
//!     Ok(())
//! }
//! ```

mod image;
mod index;
mod layout;
mod legacy;
mod tarball;

#[cfg(test)]
mod tests;

pub use image::{Format, ImagePlan};
pub use index::{IndexImage, IndexPlan, PlannedIndex};
pub use legacy::{is_empty_layer, LegacyLayer, LegacyPlan, EMPTY_LAYER_GZIP};

use crate::digest::{Digest, Verifier};
use crate::error::Result;
use crate::reference::{Reference, DOCKER_HUB};

/// One piece of an archive, in output order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment {
    /// Bytes to copy as they are (tar headers, small files, padding, the end-of-archive blocks).
    Bytes(Vec<u8>),
    /// Exactly `size` bytes of the blob `digest`, streamed from the registry and verified.
    Blob { digest: Digest, size: u64 },
}

impl Segment {
    /// How many bytes this segment puts into the output.
    pub fn len(&self) -> u64 {
        match self {
            Segment::Bytes(bytes) => bytes.len() as u64,
            Segment::Blob { size, .. } => *size,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A planned archive: its segments and its total size.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Archive {
    segments: Vec<Segment>,
    total_size: u64,
}

impl Archive {
    /// The segments, in output order. Each blob appears once.
    pub fn segments(&self) -> &[Segment] {
        &self.segments
    }

    pub fn into_segments(self) -> Vec<Segment> {
        self.segments
    }

    /// The exact length of the tar, known before the first byte is written.
    pub fn total_size(&self) -> u64 {
        self.total_size
    }

    /// The blobs the driver must fetch, in the order they are written, each once.
    pub fn blobs(&self) -> Vec<(&Digest, u64)> {
        self.segments
            .iter()
            .filter_map(|segment| match segment {
                Segment::Blob { digest, size } => Some((digest, *size)),
                Segment::Bytes(_) => None,
            })
            .collect()
    }

    /// Writes the whole archive into memory, taking each blob's bytes from `fetch` and
    /// verifying them. For tests and small tools: a real driver streams instead.
    pub fn write_to_vec(&self, mut fetch: impl FnMut(&Digest) -> Vec<u8>) -> Result<Vec<u8>> {
        let mut out = Vec::with_capacity(usize::try_from(self.total_size).unwrap_or(0));
        for segment in &self.segments {
            match segment {
                Segment::Bytes(bytes) => out.extend_from_slice(bytes),
                Segment::Blob { digest, size } => {
                    let bytes = fetch(digest);
                    let mut verifier = Verifier::new(digest.clone(), *size);
                    verifier.update(&bytes)?;
                    verifier.finish()?;
                    out.extend_from_slice(&bytes);
                }
            }
        }
        Ok(out)
    }
}

/// A blob named by a manifest: its digest and its size in bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlobRef {
    pub digest: Digest,
    pub size: u64,
}

impl BlobRef {
    pub fn new(digest: Digest, size: u64) -> Self {
        BlobRef { digest, size }
    }
}

/// How an image is named inside an archive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageName {
    familiar: String,
    canonical: String,
    tag: Option<String>,
}

impl ImageName {
    /// The names Docker would use for `reference` (a digest, if any, is not part of them).
    pub fn from_reference(reference: &Reference) -> Self {
        let repository = reference.repository();
        let familiar = if reference.registry() == DOCKER_HUB {
            repository
                .strip_prefix("library/")
                .filter(|rest| !rest.contains('/'))
                .unwrap_or(repository)
                .to_owned()
        } else {
            format!("{}/{repository}", reference.registry())
        };
        ImageName {
            familiar,
            canonical: format!("{}/{repository}", reference.registry()),
            tag: reference.tag().map(str::to_owned),
        }
    }

    /// The short repository name Docker prints: `alpine`, `user/app`, `localhost:5000/test`.
    pub fn familiar(&self) -> &str {
        &self.familiar
    }

    /// The full repository name: `docker.io/library/alpine`, `localhost:5000/test`.
    pub fn canonical(&self) -> &str {
        &self.canonical
    }

    pub fn tag(&self) -> Option<&str> {
        self.tag.as_deref()
    }

    /// `familiar:tag`, as in `manifest.json` `RepoTags` (none without a tag).
    pub fn repo_tag(&self) -> Option<String> {
        self.tag
            .as_ref()
            .map(|tag| format!("{}:{tag}", self.familiar))
    }
}

/// `blobs/<algorithm>/<hex>`: where a blob lives in an OCI image layout.
fn blob_path(digest: &Digest) -> String {
    format!("blobs/{}/{}", digest.algorithm(), digest.hex())
}
