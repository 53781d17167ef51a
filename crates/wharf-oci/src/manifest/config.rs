//! The image configuration blob (`application/vnd.oci.image.config.v1+json`, Docker's
//! `application/vnd.docker.container.image.v1+json`, and a schema 1 `v1Compatibility`), decoded
//! leniently for the page's summary.
//!
//! Why not `oci_spec::image::ImageConfiguration`: real configs write `null` for empty lists and
//! maps (`"Env": null`, `"Labels": null`), omit `rootfs` or `history` (schema 1, Homebrew), and
//! carry Docker-only fields; a summary should not fail on any of that. Every field here is
//! optional and `null` reads as empty. Only `rootfs.diff_ids` is strict (they are digests).

use std::collections::BTreeMap;

use serde::de::IgnoredAny;
use serde::Deserialize;

use super::descriptor::{is_json_object, null_default};
use crate::digest::Digest;
use crate::error::{Error, Result};
use crate::platform::Platform;

/// What the page shows of an image configuration.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct ImageConfig {
    #[serde(default, deserialize_with = "null_default")]
    pub architecture: String,
    #[serde(default, deserialize_with = "null_default")]
    pub os: String,
    #[serde(default)]
    pub variant: Option<String>,
    #[serde(rename = "os.version", default)]
    pub os_version: Option<String>,
    #[serde(rename = "os.features", default, deserialize_with = "null_default")]
    pub os_features: Vec<String>,
    #[serde(default)]
    pub created: Option<String>,
    #[serde(default)]
    pub author: Option<String>,
    #[serde(default, deserialize_with = "null_default")]
    pub config: ContainerConfig,
    #[serde(default, deserialize_with = "null_default")]
    pub history: Vec<HistoryEntry>,
    #[serde(default)]
    pub rootfs: Option<RootFs>,
}

/// The runtime defaults (`config` object; Docker's capitalised keys, as OCI keeps them).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct ContainerConfig {
    #[serde(rename = "User", default)]
    pub user: Option<String>,
    #[serde(rename = "Env", default, deserialize_with = "null_default")]
    pub env: Vec<String>,
    #[serde(rename = "Entrypoint", default, deserialize_with = "null_default")]
    pub entrypoint: Vec<String>,
    #[serde(rename = "Cmd", default, deserialize_with = "null_default")]
    pub cmd: Vec<String>,
    #[serde(rename = "WorkingDir", default)]
    pub working_dir: Option<String>,
    #[serde(rename = "Labels", default, deserialize_with = "null_default")]
    pub labels: BTreeMap<String, String>,
    #[serde(rename = "ExposedPorts", default, deserialize_with = "keys")]
    pub exposed_ports: Vec<String>,
    #[serde(rename = "Volumes", default, deserialize_with = "keys")]
    pub volumes: Vec<String>,
    #[serde(rename = "StopSignal", default)]
    pub stop_signal: Option<String>,
}

/// One build step.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct HistoryEntry {
    #[serde(default)]
    pub created: Option<String>,
    #[serde(default)]
    pub created_by: Option<String>,
    #[serde(default)]
    pub author: Option<String>,
    #[serde(default)]
    pub comment: Option<String>,
    /// A step that made no layer (`ENV`, `CMD`, …): it has no entry in `rootfs.diff_ids`.
    #[serde(default, deserialize_with = "null_default")]
    pub empty_layer: bool,
}

/// The uncompressed layer digests.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct RootFs {
    #[serde(rename = "type", default)]
    pub kind: String,
    #[serde(default, deserialize_with = "null_default")]
    pub diff_ids: Vec<Digest>,
}

impl ImageConfig {
    pub fn from_json(body: &[u8]) -> Result<ImageConfig> {
        let invalid = |reason: String| Error::InvalidConfig { reason };
        if !is_json_object(body) {
            return Err(invalid("not a JSON object".into()));
        }
        serde_json::from_slice(body).map_err(|e| invalid(e.to_string()))
    }

    pub fn platform(&self) -> Platform {
        Platform {
            architecture: self.architecture.clone(),
            os: self.os.clone(),
            os_version: self.os_version.clone(),
            os_features: self.os_features.clone(),
            variant: self.variant.clone(),
        }
    }

    /// The uncompressed layer digests (empty if the config has no `rootfs`).
    pub fn diff_ids(&self) -> &[Digest] {
        self.rootfs.as_ref().map_or(&[], |r| r.diff_ids.as_slice())
    }
}

/// `{"443/tcp": {}}` -> `["443/tcp"]` (the values are always empty objects).
fn keys<'de, D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Vec<String>, D::Error> {
    let map: BTreeMap<String, IgnoredAny> = null_default(d)?;
    Ok(map.into_keys().collect())
}
