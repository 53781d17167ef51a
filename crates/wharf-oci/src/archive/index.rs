//! Several platforms of one multi-platform index in one tar (`skopeo copy --all`,
//! `docker save` of an index, `regctl image export` write the same shape).
//!
//! `index.json` names one index:
//! - when every entry of the registry's OCI index is in the archive, that index exactly as the
//!   registry served it (so the archive keeps the registry's index digest);
//! - otherwise a new OCI image index of the chosen entries only, in the registry's order, each
//!   entry's descriptor copied as served (platform, annotations and all). A loader that follows it
//!   finds every blob it names. A Docker manifest list always becomes such an index: OCI layout
//!   readers (skopeo 1.9's among them) look for an OCI index in `index.json`, not a Docker list,
//!   which is also what `skopeo copy --all` into an OCI layout writes.
//!
//! In the combined format `manifest.json` has one entry per loadable image (not the
//! attestations), in index order, the first with the `RepoTags`. Blobs shared between platforms
//! are written once.

use std::collections::HashSet;

use serde::Serialize;
use serde_json::Value;

use super::layout::{self, check_digest, Part, Top};
use super::{Archive, BlobRef, Format, ImageName};
use crate::digest::Digest;
use crate::error::{Error, Result};

const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
const DOCKER_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";

/// Everything needed to archive the chosen entries of one index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexPlan {
    pub name: ImageName,
    /// The index exactly as the registry served it.
    pub index: Vec<u8>,
    /// Its digest (checked against `index`).
    pub index_digest: Digest,
    /// An OCI image index or a Docker manifest list.
    pub index_media_type: String,
    /// The chosen entries (each one of the index's), in any order; at least one.
    pub images: Vec<IndexImage>,
}

/// One chosen entry of an index: an image manifest and what it names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexImage {
    /// The manifest exactly as the registry served it.
    pub manifest: Vec<u8>,
    pub manifest_digest: Digest,
    pub manifest_media_type: String,
    pub config: Vec<u8>,
    pub config_digest: Digest,
    pub layers: Vec<BlobRef>,
    /// A runnable image (listed in `manifest.json`); false for an attestation manifest.
    pub loadable: bool,
}

impl IndexImage {
    fn part(&self) -> Part<'_> {
        Part {
            manifest: &self.manifest,
            manifest_digest: &self.manifest_digest,
            manifest_media_type: &self.manifest_media_type,
            config: &self.config,
            config_digest: &self.config_digest,
            layers: &self.layers,
            loadable: self.loadable,
        }
    }
}

/// The document the archive's `index.json` names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedIndex {
    /// The registry's index as served (every entry chosen), or a new index of the chosen ones.
    pub bytes: Vec<u8>,
    pub digest: Digest,
    /// True when `bytes` is the registry's index.
    pub as_served: bool,
}

impl PlannedIndex {
    /// The registry's OCI index, or a new one: always an OCI image index.
    pub fn media_type(&self) -> &'static str {
        OCI_INDEX
    }
}

impl IndexPlan {
    /// Plans the archive. Fails if the index or any manifest or config does not match its
    /// digest, an image is not one of the index's entries (or is chosen twice), or nothing is
    /// chosen.
    pub fn archive(&self, format: Format) -> Result<Archive> {
        let entries = self.entries()?;
        let planned = self.plan_index(&entries)?;
        let parts = self.parts(&entries);
        let top = Top {
            media_type: planned.media_type(),
            digest: &planned.digest,
            bytes: &planned.bytes,
        };
        layout::write(&self.name, &top, &parts, format)
    }

    /// The index the archive names, checking the whole plan on the way.
    pub fn planned_index(&self) -> Result<PlannedIndex> {
        let entries = self.entries()?;
        self.plan_index(&entries)
    }

    fn plan_index(&self, entries: &[(Digest, Value)]) -> Result<PlannedIndex> {
        if self.index_media_type != OCI_INDEX && self.index_media_type != DOCKER_LIST {
            return Err(Error::UnsupportedMediaType {
                media_type: self.index_media_type.clone(),
            });
        }
        check_digest(&self.index_digest, &self.index)?;
        let chosen = self.chosen(entries)?;
        if chosen.len() == entries.len() && self.index_media_type == OCI_INDEX {
            return Ok(PlannedIndex {
                bytes: self.index.clone(),
                digest: self.index_digest.clone(),
                as_served: true,
            });
        }
        let kept: Vec<&Value> = entries
            .iter()
            .filter(|(digest, _)| chosen.contains(digest))
            .map(|(_, value)| value)
            .collect();
        let bytes = layout::to_json(&NewIndex {
            schema_version: 2,
            media_type: OCI_INDEX,
            manifests: kept,
        })?;
        Ok(PlannedIndex {
            digest: Digest::sha256_of(&bytes),
            bytes,
            as_served: false,
        })
    }

    /// The chosen images in the index's order.
    fn parts(&self, entries: &[(Digest, Value)]) -> Vec<Part<'_>> {
        let mut images: Vec<&IndexImage> = self.images.iter().collect();
        images.sort_by_key(|image| {
            entries
                .iter()
                .position(|(d, _)| d == &image.manifest_digest)
        });
        images.into_iter().map(IndexImage::part).collect()
    }

    /// The index's entries: each digest with its descriptor as served.
    fn entries(&self) -> Result<Vec<(Digest, Value)>> {
        let invalid = |reason: &str| Error::InvalidArchivePlan {
            reason: format!("the index {}: {reason}", self.index_digest),
        };
        let document: Value = serde_json::from_slice(&self.index)
            .map_err(|e| invalid(&format!("is not JSON ({e})")))?;
        let Some(Value::Array(manifests)) = document.get("manifests").cloned() else {
            return Err(invalid("has no manifests list"));
        };
        manifests
            .into_iter()
            .map(|entry| {
                let digest = entry
                    .get("digest")
                    .and_then(Value::as_str)
                    .ok_or_else(|| invalid("has an entry without a digest"))?
                    .parse()?;
                Ok((digest, entry))
            })
            .collect()
    }

    /// Checks each chosen image against its entry; returns their digests.
    fn chosen(&self, entries: &[(Digest, Value)]) -> Result<HashSet<Digest>> {
        if self.images.is_empty() {
            return Err(Error::InvalidArchivePlan {
                reason: "choose at least one platform to save".into(),
            });
        }
        let mut chosen = HashSet::new();
        for image in &self.images {
            let digest = &image.manifest_digest;
            let Some((_, entry)) = entries.iter().find(|(d, _)| d == digest) else {
                return Err(Error::InvalidArchivePlan {
                    reason: format!(
                        "{digest} is not an entry of the index {}",
                        self.index_digest
                    ),
                });
            };
            check_entry(entry, image)?;
            image.part().check()?;
            if !chosen.insert(digest.clone()) {
                return Err(Error::InvalidArchivePlan {
                    reason: format!("{digest} is chosen twice"),
                });
            }
        }
        Ok(chosen)
    }
}

/// The entry's size (and media type, when it gives one) are the manifest's.
fn check_entry(entry: &Value, image: &IndexImage) -> Result<()> {
    let size = entry.get("size").and_then(Value::as_u64);
    let actual = image.manifest.len() as u64;
    if size != Some(actual) {
        return Err(Error::SizeMismatch {
            expected: size.unwrap_or_default(),
            actual,
        });
    }
    match entry.get("mediaType").and_then(Value::as_str) {
        Some(media_type) if media_type != image.manifest_media_type => {
            Err(Error::InvalidArchivePlan {
                reason: format!(
                    "the index lists {} as {media_type}, but it was served as {}",
                    image.manifest_digest, image.manifest_media_type
                ),
            })
        }
        _ => Ok(()),
    }
}

#[derive(Serialize)]
struct NewIndex<'a> {
    #[serde(rename = "schemaVersion")]
    schema_version: u32,
    #[serde(rename = "mediaType")]
    media_type: &'a str,
    manifests: Vec<&'a Value>,
}
