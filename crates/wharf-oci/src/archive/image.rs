//! OCI and Docker schema 2 images: one tar that is an OCI image layout and a docker-archive.
//!
//! The layout's `index.json` names the manifest, stored exactly as the registry served it (so
//! `index.json` names the registry's manifest digest); layers stay compressed as served. Entry
//! order and names: [`super::layout`].
//!
//! `manifest.json` and `repositories` follow what Docker 25+ `docker save` writes:
//! `RepoTags` holds `familiar:tag`, and `repositories` maps the familiar name and tag to the hex
//! of the top layer's file (Docker names it by the top layer too; loaders that read
//! `manifest.json` ignore `repositories`). `index.json` annotates the manifest with
//! `org.opencontainers.image.ref.name` (the tag) and `io.containerd.image.name` (the full name).

use super::layout::{self, Part, Top};
use super::{Archive, BlobRef, ImageName};
use crate::digest::Digest;
use crate::error::Result;

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
    /// or the manifest is not an image manifest (an index is planned by [`super::IndexPlan`];
    /// schema 1 goes through [`super::LegacyPlan`]).
    pub fn archive(&self, format: Format) -> Result<Archive> {
        let part = Part {
            manifest: &self.manifest,
            manifest_digest: &self.manifest_digest,
            manifest_media_type: &self.manifest_media_type,
            config: &self.config,
            config_digest: &self.config_digest,
            layers: &self.layers,
            loadable: true,
        };
        part.check()?;
        let top = Top {
            media_type: &self.manifest_media_type,
            digest: &self.manifest_digest,
            bytes: &self.manifest,
        };
        layout::write(&self.name, &top, &[part], format)
    }
}
