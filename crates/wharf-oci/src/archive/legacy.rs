//! Docker schema 1 images: the Docker image v1.0 layout that the manual curl recipe builds.
//!
//! ```text
//! repositories            {"<familiar name>":{"<tag>":"<top layer id>"}}
//! <id>/                   one folder per layer id, bottom layer first
//! <id>/VERSION            1.0
//! <id>/json               that layer's v1Compatibility JSON, verbatim
//! <id>/layer.tar          the blob as the registry served it (gzip)
//! ```
//!
//! Decisions:
//! - `layer.tar` stays gzip-compressed. Docker's legacy loader opens it with
//!   `DecompressStream`, which detects gzip, so this loads like the recipe's output does.
//! - Every id folder gets a `layer.tar` (the loader opens one for each id). The empty layer
//!   `a3ed95ca…` is the fixed 32-byte gzip of an empty tar ([`EMPTY_LAYER_GZIP`]): it is
//!   written from memory, so the registry is not asked for it. Its digest is a test.
//! - Another blob used by several ids is streamed once; later ids get a hard link to it.
//! - Schema 1 has no sizes: the driver learns each blob's size (HEAD) and passes it in.
//! - Only Docker's legacy loader (Docker 1.10 to 28, graph-driver image store) reads this
//!   layout; Docker 29 removed it (moby/moby#50324), and skopeo/podman never read it.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde::Deserialize;

use super::layout::to_json;
use super::tarball::TarBuilder;
use super::{Archive, BlobRef, ImageName};
use crate::digest::Digest;
use crate::error::{Error, Result};

/// The gzip of an empty tar (1024 zero bytes): the blob `sha256:a3ed95ca…` that schema 1
/// images use for layers that change no files.
pub const EMPTY_LAYER_GZIP: [u8; 32] = [
    31, 139, 8, 0, 0, 9, 110, 136, 0, 255, 98, 24, 5, 163, 96, 20, 140, 88, 0, 8, 0, 0, 255, 255,
    46, 175, 181, 239, 0, 4, 0, 0,
];

const EMPTY_LAYER_HEX: &str = "a3ed95caeb02ffe68cdd9fd84406680ae93d633cb16422d00e8a7c22955b46d4";

/// Whether `digest` is the empty schema 1 layer (no need to fetch it).
pub fn is_empty_layer(digest: &Digest) -> bool {
    digest.algorithm() == crate::digest::Algorithm::Sha256 && digest.hex() == EMPTY_LAYER_HEX
}

/// One `fsLayers[i]` / `history[i]` pair of a schema 1 manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LegacyLayer {
    /// `fsLayers[i].blobSum` and its size (for the empty layer: 32).
    pub blob: BlobRef,
    /// `history[i].v1Compatibility`, the JSON string as served.
    pub v1_compatibility: String,
}

/// Everything needed to archive a schema 1 image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LegacyPlan {
    /// Must have a tag: `repositories` names the image by it.
    pub name: ImageName,
    /// In schema 1 order: top layer first, as `fsLayers` and `history` list them.
    pub layers: Vec<LegacyLayer>,
}

/// The fields of a v1Compatibility document that the layout needs.
#[derive(Deserialize)]
struct V1Compatibility {
    id: String,
    #[serde(default)]
    parent: Option<String>,
}

impl LegacyPlan {
    /// Plans the archive. Fails on a missing tag, no layers, a v1Compatibility without a
    /// valid `id`, a broken parent chain, a repeated id, or an empty layer whose size is not 32.
    pub fn archive(&self) -> Result<Archive> {
        let tag = self
            .name
            .tag()
            .ok_or_else(|| invalid("a schema 1 archive needs a tag for `repositories`"))?;
        let ids = self.layer_ids()?;
        let top = ids
            .first()
            .ok_or_else(|| invalid("the image has no layers"))?;

        let mut tar = TarBuilder::new();
        let tags = BTreeMap::from([(tag, top.as_str())]);
        let mut repositories = to_json(&BTreeMap::from([(self.name.familiar(), tags)]))?;
        repositories.push(b'\n');
        tar.file("repositories", &repositories)?;

        let mut streamed: HashMap<&Digest, String> = HashMap::new();
        for (layer, id) in self.layers.iter().zip(&ids).rev() {
            tar.dir(&format!("{id}/"))?;
            tar.file(&format!("{id}/VERSION"), b"1.0")?;
            tar.file(&format!("{id}/json"), layer.v1_compatibility.as_bytes())?;
            let path = format!("{id}/layer.tar");
            let blob = &layer.blob;
            if is_empty_layer(&blob.digest) {
                tar.file(&path, &EMPTY_LAYER_GZIP)?;
            } else if let Some(first) = streamed.get(&blob.digest) {
                tar.hard_link(&path, first)?;
            } else {
                tar.blob(&path, &blob.digest, blob.size)?;
                streamed.insert(&blob.digest, path);
            }
        }
        Ok(tar.finish())
    }

    /// The layer ids, top first, after checking ids, parents, sizes and uniqueness.
    fn layer_ids(&self) -> Result<Vec<String>> {
        let mut ids = Vec::with_capacity(self.layers.len());
        let mut parents = Vec::with_capacity(self.layers.len());
        let mut sizes: HashMap<&Digest, u64> = HashMap::new();
        for (index, layer) in self.layers.iter().enumerate() {
            let v1: V1Compatibility = serde_json::from_str(&layer.v1_compatibility)
                .map_err(|e| invalid(&format!("history[{index}].v1Compatibility: {e}")))?;
            check_id(index, "id", &v1.id)?;
            if let Some(parent) = v1.parent.as_deref().filter(|p| !p.is_empty()) {
                check_id(index, "parent", parent)?;
            }
            self.check_size(&layer.blob, &mut sizes)?;
            ids.push(v1.id);
            parents.push(v1.parent.filter(|p| !p.is_empty()));
        }
        check_chain(&ids, &parents)?;
        Ok(ids)
    }

    fn check_size<'a>(
        &self,
        blob: &'a BlobRef,
        sizes: &mut HashMap<&'a Digest, u64>,
    ) -> Result<()> {
        let expected = if is_empty_layer(&blob.digest) {
            EMPTY_LAYER_GZIP.len() as u64
        } else {
            *sizes.entry(&blob.digest).or_insert(blob.size)
        };
        if blob.size != expected {
            return Err(Error::SizeMismatch {
                expected,
                actual: blob.size,
            });
        }
        Ok(())
    }
}

/// Each layer's parent is the next (older) layer; the bottom layer has none; ids are unique.
fn check_chain(ids: &[String], parents: &[Option<String>]) -> Result<()> {
    let mut seen = HashSet::new();
    for (index, id) in ids.iter().enumerate() {
        if !seen.insert(id) {
            return Err(invalid(&format!("layer id {id} appears twice")));
        }
        let expected = ids.get(index + 1);
        let actual = parents.get(index).and_then(Option::as_ref);
        if expected != actual {
            return Err(invalid(&format!(
                "history[{index}] has parent {actual:?}, expected {expected:?}"
            )));
        }
    }
    Ok(())
}

/// A v1 id is 64 lowercase hex digits (Docker's rule); it names a folder, so no other form
/// may pass.
fn check_id(index: usize, field: &str, id: &str) -> Result<()> {
    let valid = id.len() == 64 && id.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
    if valid {
        Ok(())
    } else {
        Err(invalid(&format!(
            "history[{index}].v1Compatibility {field} {id:?} is not 64 lowercase hex digits"
        )))
    }
}

fn invalid(reason: &str) -> Error {
    Error::InvalidArchivePlan {
        reason: reason.to_owned(),
    }
}
