//! Schema 2 documents: image indexes (OCI index, Docker manifest list) and image manifests
//! (OCI manifest, Docker schema 2, and artifact manifests, which are OCI manifests too).
//!
//! Why not `oci_spec::image::{ImageIndex, ImageManifest}`: they hold `oci-spec` descriptors (see
//! `descriptor.rs`), and they would accept `schemaVersion` 3 silently where we must refuse it.
//! `schemaVersion` is checked by `decode` before these structs are built, so they do not keep it.
//! Unknown fields are ignored; unknown media types are kept as strings.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::descriptor::{null_default, Descriptor};
use super::{DOCKER_CONFIG, OCI_CONFIG};

/// An OCI image index or a Docker manifest list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Index {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifact_type: Option<String>,
    /// Required (may be empty); `null` reads as empty.
    #[serde(deserialize_with = "null_default")]
    pub manifests: Vec<Descriptor>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<Descriptor>,
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub annotations: BTreeMap<String, String>,
}

/// An OCI image manifest, a Docker schema 2 manifest, or an artifact manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImageManifest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifact_type: Option<String>,
    pub config: Descriptor,
    /// Bottom layer first. Required; `null` reads as empty.
    #[serde(deserialize_with = "null_default")]
    pub layers: Vec<Descriptor>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<Descriptor>,
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub annotations: BTreeMap<String, String>,
}

impl ImageManifest {
    /// The artifact type: `artifactType` if set, else the config media type when it is not an
    /// image config (Helm charts, Sigstore bundles, …). `None` for container images (Homebrew
    /// bottles use an OCI image config, so they count as images here).
    pub fn artifact_type(&self) -> Option<&str> {
        if let Some(t) = self.artifact_type.as_deref() {
            return Some(t);
        }
        match self.config.media_type.as_deref() {
            None | Some(OCI_CONFIG | DOCKER_CONFIG) => None,
            Some(other) => Some(other),
        }
    }

    pub fn is_artifact(&self) -> bool {
        self.artifact_type().is_some()
    }

    /// Config plus layers, in bytes (saturating: sizes come from an untrusted document).
    pub fn total_size(&self) -> u64 {
        self.layers
            .iter()
            .fold(self.config.size, |sum, l| sum.saturating_add(l.size))
    }

    /// Layers carrying `urls` (foreign / non-distributable layers).
    pub fn foreign_layers(&self) -> impl Iterator<Item = &Descriptor> {
        self.layers.iter().filter(|l| !l.urls.is_empty())
    }
}

impl Index {
    /// Whether this is a Homebrew bottle index (see `crate::bottle`).
    pub fn is_bottle_index(&self) -> bool {
        crate::bottle::is_bottle_index(self)
    }
}
