//! OCI and Docker schema 2 images: one tar that is an OCI image layout and a docker-archive.
//!
//! Entry order (fixed): `blobs/`, `blobs/<algorithm>/` for each algorithm in use, `oci-layout`,
//! `index.json`, then (combined format) `manifest.json` and `repositories`, then the manifest,
//! the config and the layers as `blobs/<algorithm>/<hex>`, each blob once. The manifest is
//! stored exactly as the registry served it (so `index.json` names the registry's manifest
//! digest); layers stay compressed as served.
//!
//! `manifest.json` and `repositories` follow what Docker 25+ `docker save` writes:
//! `RepoTags` holds `familiar:tag`, and `repositories` maps the familiar name and tag to the hex
//! of the top layer's file (Docker names it by the top layer too; loaders that read
//! `manifest.json` ignore `repositories`). `index.json` annotates the manifest with
//! `org.opencontainers.image.ref.name` (the tag) and `io.containerd.image.name` (the full name).

use std::collections::{BTreeMap, BTreeSet, HashSet};

use serde::Serialize;

use super::tarball::TarBuilder;
use super::{blob_path, Archive, BlobRef, ImageName};
use crate::digest::{Algorithm, Digest};
use crate::error::{Error, Result};

const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
const OCI_LAYOUT: &[u8] = br#"{"imageLayoutVersion":"1.0.0"}"#;
const ANNOTATION_REF_NAME: &str = "org.opencontainers.image.ref.name";
const ANNOTATION_IMAGE_NAME: &str = "io.containerd.image.name";

/// Which loaders the archive is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    /// An OCI image layout and a docker-archive in one tar (`docker load`, `podman load`,
    /// `ctr import`, `skopeo … docker-archive:` and `oci-archive:` all read it).
    #[default]
    Combined,
    /// A pure OCI image layout (`oci-layout`, `index.json`, `blobs/`), for `oci-archive:`.
    Oci,
}

/// Everything needed to archive one OCI or Docker schema 2 image (one platform).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImagePlan {
    pub name: ImageName,
    /// The manifest exactly as the registry served it.
    pub manifest: Vec<u8>,
    /// Its digest (checked against `manifest`).
    pub manifest_digest: Digest,
    /// Its media type: an OCI image manifest or a Docker schema 2 manifest.
    pub manifest_media_type: String,
    /// The image config blob (small: it is written from memory).
    pub config: Vec<u8>,
    /// Its digest, from the manifest (checked against `config`).
    pub config_digest: Digest,
    /// The layers in manifest order, bottom first. Written as served (compressed).
    pub layers: Vec<BlobRef>,
}

impl ImagePlan {
    /// Plans the archive. Fails if the manifest or config bytes do not match their digests,
    /// or the manifest is not an image manifest (an index must be resolved to one platform
    /// first; schema 1 goes through [`super::LegacyPlan`]).
    pub fn archive(&self, format: Format) -> Result<Archive> {
        self.check()?;
        let mut tar = TarBuilder::new();
        tar.dir("blobs/")?;
        for algorithm in self.algorithms() {
            tar.dir(&format!("blobs/{algorithm}/"))?;
        }
        tar.file("oci-layout", OCI_LAYOUT)?;
        tar.file("index.json", &self.index_json()?)?;
        if format == Format::Combined {
            tar.file("manifest.json", &self.docker_manifest_json()?)?;
            if let Some(repositories) = self.repositories_json()? {
                tar.file("repositories", &repositories)?;
            }
        }
        let mut written = HashSet::new();
        written.insert(self.manifest_digest.clone());
        tar.file(&blob_path(&self.manifest_digest), &self.manifest)?;
        if written.insert(self.config_digest.clone()) {
            tar.file(&blob_path(&self.config_digest), &self.config)?;
        }
        for layer in &self.layers {
            if written.insert(layer.digest.clone()) {
                tar.blob(&blob_path(&layer.digest), &layer.digest, layer.size)?;
            }
        }
        Ok(tar.finish())
    }

    fn check(&self) -> Result<()> {
        if self.manifest_media_type != OCI_MANIFEST && self.manifest_media_type != DOCKER_MANIFEST {
            return Err(Error::UnsupportedMediaType {
                media_type: self.manifest_media_type.clone(),
            });
        }
        check_digest(&self.manifest_digest, &self.manifest)?;
        check_digest(&self.config_digest, &self.config)?;
        // A layer that is byte-for-byte the config or manifest is written once, from memory.
        let in_memory = [
            (&self.manifest_digest, self.manifest.len() as u64),
            (&self.config_digest, self.config.len() as u64),
        ];
        for layer in &self.layers {
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

    /// The digest algorithms in use, in name order (one `blobs/<algorithm>/` each).
    fn algorithms(&self) -> BTreeSet<&'static str> {
        let digests = [&self.manifest_digest, &self.config_digest];
        digests
            .into_iter()
            .chain(self.layers.iter().map(|layer| &layer.digest))
            .map(|digest| Algorithm::name(digest.algorithm()))
            .collect()
    }

    fn index_json(&self) -> Result<Vec<u8>> {
        let mut annotations = BTreeMap::new();
        let image_name = match self.name.tag() {
            Some(tag) => {
                annotations.insert(ANNOTATION_REF_NAME, tag.to_owned());
                format!("{}:{tag}", self.name.canonical())
            }
            None => format!("{}@{}", self.name.canonical(), self.manifest_digest),
        };
        annotations.insert(ANNOTATION_IMAGE_NAME, image_name);
        let index = OciIndex {
            schema_version: 2,
            media_type: OCI_INDEX,
            manifests: [IndexEntry {
                media_type: &self.manifest_media_type,
                digest: &self.manifest_digest,
                size: self.manifest.len() as u64,
                annotations,
            }],
        };
        to_json(&index)
    }

    fn docker_manifest_json(&self) -> Result<Vec<u8>> {
        let item = DockerArchiveItem {
            config: blob_path(&self.config_digest),
            repo_tags: self.name.repo_tag().into_iter().collect(),
            layers: self.layers.iter().map(|l| blob_path(&l.digest)).collect(),
        };
        let mut json = to_json(&[item])?;
        json.push(b'\n');
        Ok(json)
    }

    /// `{"<familiar>":{"<tag>":"<top layer hex>"}}`, when there is a tag and a layer.
    fn repositories_json(&self) -> Result<Option<Vec<u8>>> {
        let (Some(tag), Some(top)) = (self.name.tag(), self.layers.last()) else {
            return Ok(None);
        };
        let tags = BTreeMap::from([(tag, top.digest.hex())]);
        let repositories = BTreeMap::from([(self.name.familiar(), tags)]);
        let mut json = to_json(&repositories)?;
        json.push(b'\n');
        Ok(Some(json))
    }
}

/// Checks that in-memory bytes are the blob their digest names.
fn check_digest(expected: &Digest, bytes: &[u8]) -> Result<()> {
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
