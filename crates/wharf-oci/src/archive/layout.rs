//! The tar both [`super::ImagePlan`] (one platform) and [`super::IndexPlan`] (several) write:
//! an OCI image layout whose `index.json` names one document (the image manifest, or an index),
//! and, in the combined format, a docker-archive `manifest.json` with one entry per loadable
//! image.
//!
//! Entry order (fixed): `blobs/`, `blobs/<algorithm>/` for each algorithm in use, `oci-layout`,
//! `index.json`, then (combined format) `manifest.json` and `repositories`, then the top
//! document, and for each image its manifest, config and layers as `blobs/<algorithm>/<hex>`,
//! each blob once.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use serde::Serialize;

use super::tarball::TarBuilder;
use super::{blob_path, Archive, BlobRef, Format, ImageName};
use crate::digest::{Algorithm, Digest};
use crate::error::{Error, Result};

pub(super) const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
pub(super) const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
const OCI_LAYOUT: &[u8] = br#"{"imageLayoutVersion":"1.0.0"}"#;
const ANNOTATION_REF_NAME: &str = "org.opencontainers.image.ref.name";
const ANNOTATION_IMAGE_NAME: &str = "io.containerd.image.name";

/// One image of a layout, borrowed from its plan.
#[derive(Clone, Copy)]
pub(super) struct Part<'a> {
    pub manifest: &'a [u8],
    pub manifest_digest: &'a Digest,
    pub manifest_media_type: &'a str,
    pub config: &'a [u8],
    pub config_digest: &'a Digest,
    pub layers: &'a [BlobRef],
    /// Listed in the docker-archive `manifest.json` (attestations are not).
    pub loadable: bool,
}

impl Part<'_> {
    /// The manifest is an image manifest, and the in-memory bytes match their digests.
    pub fn check(&self) -> Result<()> {
        if self.manifest_media_type != OCI_MANIFEST && self.manifest_media_type != DOCKER_MANIFEST {
            return Err(Error::UnsupportedMediaType {
                media_type: self.manifest_media_type.to_owned(),
            });
        }
        check_digest(self.manifest_digest, self.manifest)?;
        check_digest(self.config_digest, self.config)?;
        // A layer that is byte-for-byte the config or manifest is written once, from memory.
        let in_memory = [
            (self.manifest_digest, self.manifest.len() as u64),
            (self.config_digest, self.config.len() as u64),
        ];
        for layer in self.layers {
            for (digest, size) in in_memory {
                if &layer.digest == digest && layer.size != size {
                    return Err(Error::SizeMismatch {
                        expected: layer.size,
                        actual: size,
                    });
                }
            }
        }
        Ok(())
    }

    fn digests(&self) -> impl Iterator<Item = &Digest> {
        [self.manifest_digest, self.config_digest]
            .into_iter()
            .chain(self.layers.iter().map(|layer| &layer.digest))
    }
}

/// The document `index.json` names: the image manifest, or an index of the images.
pub(super) struct Top<'a> {
    pub media_type: &'a str,
    pub digest: &'a Digest,
    pub bytes: &'a [u8],
}

/// Writes the layout; the parts must have been checked.
pub(super) fn write(
    name: &ImageName,
    top: &Top,
    parts: &[Part],
    format: Format,
) -> Result<Archive> {
    let mut tar = TarBuilder::new();
    tar.dir("blobs/")?;
    for algorithm in algorithms(top, parts) {
        tar.dir(&format!("blobs/{algorithm}/"))?;
    }
    tar.file("oci-layout", OCI_LAYOUT)?;
    tar.file("index.json", &index_json(name, top)?)?;
    let loadable: Vec<&Part> = parts.iter().filter(|p| p.loadable).collect();
    if format == Format::Combined {
        tar.file("manifest.json", &docker_manifest_json(name, &loadable)?)?;
        if let Some(repositories) = repositories_json(name, &loadable)? {
            tar.file("repositories", &repositories)?;
        }
    }
    let mut written = HashSet::new();
    written.insert(top.digest);
    tar.file(&blob_path(top.digest), top.bytes)?;
    for part in parts {
        for (digest, bytes) in [
            (part.manifest_digest, part.manifest),
            (part.config_digest, part.config),
        ] {
            if written.insert(digest) {
                tar.file(&blob_path(digest), bytes)?;
            }
        }
        for layer in part.layers {
            if written.insert(&layer.digest) {
                tar.blob(&blob_path(&layer.digest), &layer.digest, layer.size)?;
            }
        }
    }
    Ok(tar.finish())
}

/// The digest algorithms in use, in name order (one `blobs/<algorithm>/` each).
fn algorithms(top: &Top, parts: &[Part]) -> BTreeSet<&'static str> {
    std::iter::once(top.digest)
        .chain(parts.iter().flat_map(Part::digests))
        .map(|digest| Algorithm::name(digest.algorithm()))
        .collect()
}

/// `index.json` annotates the top document with `org.opencontainers.image.ref.name` (the tag)
/// and `io.containerd.image.name` (the full name).
fn index_json(name: &ImageName, top: &Top) -> Result<Vec<u8>> {
    let mut annotations = BTreeMap::new();
    let image_name = match name.tag() {
        Some(tag) => {
            annotations.insert(ANNOTATION_REF_NAME, tag.to_owned());
            format!("{}:{tag}", name.canonical())
        }
        None => format!("{}@{}", name.canonical(), top.digest),
    };
    annotations.insert(ANNOTATION_IMAGE_NAME, image_name);
    let index = OciIndex {
        schema_version: 2,
        media_type: OCI_INDEX,
        manifests: [IndexEntry {
            media_type: top.media_type,
            digest: top.digest,
            size: top.bytes.len() as u64,
            annotations,
        }],
    };
    to_json(&index)
}

/// One entry per loadable image; `RepoTags` on the first only, so that a loader tags one image
/// (two entries with the same tag would leave it on whichever loaded last).
fn docker_manifest_json(name: &ImageName, loadable: &[&Part]) -> Result<Vec<u8>> {
    let items: Vec<DockerArchiveItem> = loadable
        .iter()
        .enumerate()
        .map(|(i, part)| DockerArchiveItem {
            config: blob_path(part.config_digest),
            repo_tags: name.repo_tag().filter(|_| i == 0).into_iter().collect(),
            layers: part.layers.iter().map(|l| blob_path(&l.digest)).collect(),
        })
        .collect();
    let mut json = to_json(&items)?;
    json.push(b'\n');
    Ok(json)
}

/// `{"<familiar>":{"<tag>":"<top layer hex>"}}` for the first loadable image, when there is a
/// tag and a layer.
fn repositories_json(name: &ImageName, loadable: &[&Part]) -> Result<Option<Vec<u8>>> {
    let top = loadable.first().and_then(|part| part.layers.last());
    let (Some(tag), Some(top)) = (name.tag(), top) else {
        return Ok(None);
    };
    let tags = BTreeMap::from([(tag, top.digest.hex())]);
    let repositories = BTreeMap::from([(name.familiar(), tags)]);
    let mut json = to_json(&repositories)?;
    json.push(b'\n');
    Ok(Some(json))
}

/// Checks that in-memory bytes are the blob their digest names.
pub(super) fn check_digest(expected: &Digest, bytes: &[u8]) -> Result<()> {
    let actual = Digest::of(expected.algorithm(), bytes);
    if &actual != expected {
        return Err(Error::DigestMismatch {
            expected: expected.clone(),
            actual,
        });
    }
    Ok(())
}

pub(super) fn to_json<T: Serialize + ?Sized>(value: &T) -> Result<Vec<u8>> {
    serde_json::to_vec(value).map_err(|e| Error::InvalidArchivePlan {
        reason: format!("cannot encode JSON: {e}"),
    })
}

// Hand-written documents rather than oci-spec's types: those keep annotations in a HashMap,
// whose order changes from run to run, and the archive must be byte-identical every time.

#[derive(Serialize)]
struct OciIndex<'a> {
    #[serde(rename = "schemaVersion")]
    schema_version: u32,
    #[serde(rename = "mediaType")]
    media_type: &'a str,
    manifests: [IndexEntry<'a>; 1],
}

#[derive(Serialize)]
struct IndexEntry<'a> {
    #[serde(rename = "mediaType")]
    media_type: &'a str,
    digest: &'a Digest,
    size: u64,
    annotations: BTreeMap<&'static str, String>,
}

/// One entry of a docker-archive `manifest.json`.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct DockerArchiveItem {
    config: String,
    repo_tags: Vec<String>,
    layers: Vec<String>,
}
