//! Manifests of every media type: the Accept list, decoding by media type, and the checks
//! (size limit, digest) applied before a body is trusted.
//!
//! [`decode`] takes what a driver received (the `Content-Type`, the body) and what it expected
//! (the pinned digest, the `Docker-Content-Digest` header) and returns a [`Fetched`]: the
//! manifest, its media kind and its own digest. Order of checks: size (before parsing), media
//! type, digests, then the full decode.

use std::borrow::Cow;
use std::collections::BTreeMap;

use serde::de::IgnoredAny;
use serde::Deserialize;

use crate::digest::Digest;
use crate::error::{Error, Result};

mod config;
mod descriptor;
mod image;
mod schema1;

pub use config::{ContainerConfig, HistoryEntry, ImageConfig, RootFs};
pub use descriptor::Descriptor;
pub(crate) use descriptor::{is_json_object, null_default};
pub use image::{ImageManifest, Index};
pub use schema1::{Schema1, Schema1Layer, V1Compat, EMPTY_LAYER};

pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
pub const DOCKER_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
pub const DOCKER_V2: &str = "application/vnd.docker.distribution.manifest.v2+json";
pub const DOCKER_V1_SIGNED: &str = "application/vnd.docker.distribution.manifest.v1+prettyjws";
pub const DOCKER_V1: &str = "application/vnd.docker.distribution.manifest.v1+json";

/// Image config media types (anything else in `config.mediaType` marks an artifact).
pub const OCI_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
pub const DOCKER_CONFIG: &str = "application/vnd.docker.container.image.v1+json";
/// The empty descriptor's media type (artifact manifests without a config).
pub const OCI_EMPTY: &str = "application/vnd.oci.empty.v1+json";

/// Every manifest media type we decode, in order of preference; sent as separate `Accept`
/// headers (registries such as distribution 2.8 need them all to serve an index).
pub const ACCEPT: &[&str] = &[
    OCI_INDEX,
    OCI_MANIFEST,
    DOCKER_LIST,
    DOCKER_V2,
    DOCKER_V1_SIGNED,
    DOCKER_V1,
];

/// Largest manifest body we accept (distribution refuses larger ones too).
pub const MAX_MANIFEST_BYTES: u64 = 4 * 1024 * 1024;

/// The media types we decode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MediaKind {
    OciIndex,
    DockerManifestList,
    OciManifest,
    DockerManifest,
    DockerSchema1Signed,
    DockerSchema1,
}

impl MediaKind {
    pub fn from_media_type(media_type: &str) -> Option<Self> {
        Some(match media_type {
            OCI_INDEX => MediaKind::OciIndex,
            DOCKER_LIST => MediaKind::DockerManifestList,
            OCI_MANIFEST => MediaKind::OciManifest,
            DOCKER_V2 => MediaKind::DockerManifest,
            DOCKER_V1_SIGNED => MediaKind::DockerSchema1Signed,
            DOCKER_V1 => MediaKind::DockerSchema1,
            _ => return None,
        })
    }

    pub fn media_type(self) -> &'static str {
        match self {
            MediaKind::OciIndex => OCI_INDEX,
            MediaKind::DockerManifestList => DOCKER_LIST,
            MediaKind::OciManifest => OCI_MANIFEST,
            MediaKind::DockerManifest => DOCKER_V2,
            MediaKind::DockerSchema1Signed => DOCKER_V1_SIGNED,
            MediaKind::DockerSchema1 => DOCKER_V1,
        }
    }

    pub fn is_index(self) -> bool {
        matches!(self, MediaKind::OciIndex | MediaKind::DockerManifestList)
    }

    pub fn is_schema1(self) -> bool {
        matches!(
            self,
            MediaKind::DockerSchema1Signed | MediaKind::DockerSchema1
        )
    }

    fn schema_version(self) -> u32 {
        if self.is_schema1() {
            1
        } else {
            2
        }
    }
}

/// What the body must match: the digest the user pinned (if any) and the registry's
/// `Docker-Content-Digest` header (if sent). Each is checked with its own algorithm.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Expected {
    pub requested: Option<Digest>,
    pub docker_content_digest: Option<Digest>,
}

/// A decoded manifest, with what identifies it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fetched {
    pub kind: MediaKind,
    /// The sha256 of the content: the body, or for a signed schema 1 manifest its canonical
    /// payload (that is the digest registries name it by).
    pub digest: Digest,
    pub manifest: Manifest,
    /// The body exactly as received.
    pub bytes: Vec<u8>,
}

impl Fetched {
    pub fn media_type(&self) -> &'static str {
        self.kind.media_type()
    }

    /// A descriptor of this document (for an index or image manifest; `None` for schema 1,
    /// which has no descriptor form).
    pub fn descriptor(&self) -> Option<Descriptor> {
        match self.manifest {
            Manifest::Schema1(_) => None,
            _ => Some(Descriptor::new(
                self.media_type(),
                self.digest.clone(),
                self.bytes.len() as u64,
            )),
        }
    }
}

/// A manifest of any kind we decode.
#[derive(Debug, Clone, PartialEq, Eq)]
///
/// Index and image manifest are boxed: they hold descriptors (with platforms) inline.
pub enum Manifest {
    Index(Box<Index>),
    Image(Box<ImageManifest>),
    Schema1(Schema1),
}

impl Manifest {
    /// Layers of an image manifest (bottom first); empty for an index or schema 1 (see
    /// [`Schema1::layers`]).
    pub fn layers(&self) -> &[Descriptor] {
        match self {
            Manifest::Image(m) => &m.layers,
            _ => &[],
        }
    }

    pub fn config(&self) -> Option<&Descriptor> {
        match self {
            Manifest::Image(m) => Some(&m.config),
            _ => None,
        }
    }

    /// Every descriptor the document references: config, layers, subject (image); manifests,
    /// subject (index); none for schema 1.
    pub fn descriptors(&self) -> Vec<&Descriptor> {
        match self {
            Manifest::Image(m) => std::iter::once(&m.config)
                .chain(&m.layers)
                .chain(&m.subject)
                .collect(),
            Manifest::Index(i) => i.manifests.iter().chain(&i.subject).collect(),
            Manifest::Schema1(_) => Vec::new(),
        }
    }

    /// Config plus layers for an image manifest; `None` otherwise (schema 1 has no sizes).
    pub fn total_size(&self) -> Option<u64> {
        match self {
            Manifest::Image(m) => Some(m.total_size()),
            _ => None,
        }
    }

    pub fn annotations(&self) -> Option<&BTreeMap<String, String>> {
        match self {
            Manifest::Image(m) => Some(&m.annotations),
            Manifest::Index(i) => Some(&i.annotations),
            Manifest::Schema1(_) => None,
        }
    }
}

/// Checks and decodes a manifest body. See the module documentation for the order of checks.
pub fn decode(content_type: Option<&str>, body: &[u8], expected: &Expected) -> Result<Fetched> {
    let size = body.len() as u64;
    if size > MAX_MANIFEST_BYTES {
        return Err(Error::ManifestTooLarge {
            size,
            limit: MAX_MANIFEST_BYTES,
        });
    }
    let invalid = |reason: String| Error::InvalidManifest {
        media_type: content_type.unwrap_or("(none)").to_owned(),
        reason,
    };
    if !is_json_object(body) {
        return Err(invalid("the body is not a JSON object".into()));
    }
    let probe: Probe = serde_json::from_slice(body).map_err(|e| invalid(e.to_string()))?;
    let kind = resolve_kind(content_type, &probe)?;
    check_shape(kind, &probe)?;
    let content = content(kind, &probe, body)?;
    let digest = check_digests(&content, expected)?;
    let manifest = decode_as(kind, &probe, &content)?;
    Ok(Fetched {
        kind,
        digest,
        manifest,
        bytes: body.to_vec(),
    })
}

/// The few top-level fields that tell the kinds apart.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Probe {
    schema_version: Option<i64>,
    media_type: Option<String>,
    manifests: Option<IgnoredAny>,
    config: Option<IgnoredAny>,
    layers: Option<IgnoredAny>,
    fs_layers: Option<IgnoredAny>,
    signatures: Option<IgnoredAny>,
}

/// Content types that say nothing about the manifest kind: decide from the body.
const GENERIC_TYPES: &[&str] = &[
    "",
    "application/json",
    "text/plain",
    "application/octet-stream",
    "binary/octet-stream",
];

/// `Content-Type` first (parameters such as `charset` dropped); a generic or missing one falls
/// back to the body. A known `Content-Type` must agree with the body's own `mediaType`.
fn resolve_kind(content_type: Option<&str>, probe: &Probe) -> Result<MediaKind> {
    let declared = content_type
        .map(|c| {
            c.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        })
        .unwrap_or_default();
    let Some(kind) = MediaKind::from_media_type(&declared) else {
        return if GENERIC_TYPES.contains(&declared.as_str()) {
            sniff(probe)
        } else {
            Err(Error::UnsupportedMediaType {
                media_type: declared,
            })
        };
    };
    match probe.media_type.as_deref() {
        Some(inner) if !same_kind(kind, inner) => Err(Error::InvalidManifest {
            reason: format!("served as {declared} but the document's mediaType is {inner}"),
            media_type: declared,
        }),
        _ => Ok(kind),
    }
}

fn same_kind(kind: MediaKind, media_type: &str) -> bool {
    match MediaKind::from_media_type(media_type) {
        Some(other) => other == kind || (other.is_schema1() && kind.is_schema1()),
        None => false,
    }
}

/// Decides from the body: schema 1 by `schemaVersion: 1`, else `mediaType`, else the shape
/// (`manifests` -> OCI index, `config`/`layers` -> OCI manifest).
fn sniff(probe: &Probe) -> Result<MediaKind> {
    if probe.schema_version == Some(1) || probe.fs_layers.is_some() {
        return Ok(match probe.signatures {
            Some(_) => MediaKind::DockerSchema1Signed,
            None => MediaKind::DockerSchema1,
        });
    }
    if let Some(m) = probe.media_type.as_deref() {
        return MediaKind::from_media_type(m).ok_or_else(|| Error::UnsupportedMediaType {
            media_type: m.to_owned(),
        });
    }
    if probe.manifests.is_some() {
        Ok(MediaKind::OciIndex)
    } else if probe.config.is_some() || probe.layers.is_some() {
        Ok(MediaKind::OciManifest)
    } else {
        Err(Error::InvalidManifest {
            media_type: "(unknown)".into(),
            reason: "no mediaType, and neither manifests, config nor fsLayers".into(),
        })
    }
}

/// `schemaVersion` as the kind requires, and no fields of another kind (an index with
/// `config`/`layers` or a manifest with `manifests` could be read two ways: refused).
fn check_shape(kind: MediaKind, probe: &Probe) -> Result<()> {
    let expected = kind.schema_version();
    if probe.schema_version != Some(i64::from(expected)) {
        return Err(Error::UnsupportedSchemaVersion {
            media_type: kind.media_type().to_owned(),
            found: probe.schema_version,
            expected,
        });
    }
    let foreign = match kind {
        k if k.is_index() => probe.config.is_some() || probe.layers.is_some(),
        k if k.is_schema1() => probe.manifests.is_some() || probe.config.is_some(),
        _ => probe.manifests.is_some() || probe.fs_layers.is_some(),
    };
    if foreign {
        return Err(Error::InvalidManifest {
            media_type: kind.media_type().to_owned(),
            reason: "the document has fields of another manifest kind".into(),
        });
    }
    Ok(())
}

/// The bytes the digest covers: the body, or a signed schema 1 manifest's canonical payload.
fn content<'a>(kind: MediaKind, probe: &Probe, body: &'a [u8]) -> Result<Cow<'a, [u8]>> {
    if probe.signatures.is_none() || !kind.is_schema1() {
        return Ok(Cow::Borrowed(body));
    }
    schema1::canonical_payload(body)
        .map(Cow::Owned)
        .map_err(|reason| Error::InvalidManifest {
            media_type: kind.media_type().to_owned(),
            reason,
        })
}

/// Checks the content against each expected digest (with that digest's algorithm); returns
/// the content's sha256.
fn check_digests(content: &[u8], expected: &Expected) -> Result<Digest> {
    let wanted = [&expected.requested, &expected.docker_content_digest];
    for want in wanted.into_iter().flatten() {
        let actual = Digest::of(want.algorithm(), content);
        if &actual != want {
            return Err(Error::DigestMismatch {
                expected: want.clone(),
                actual,
            });
        }
    }
    Ok(Digest::sha256_of(content))
}

fn decode_as(kind: MediaKind, probe: &Probe, content: &[u8]) -> Result<Manifest> {
    let invalid = |e: serde_json::Error| Error::InvalidManifest {
        media_type: kind.media_type().to_owned(),
        reason: e.to_string(),
    };
    Ok(match kind {
        k if k.is_index() => {
            Manifest::Index(Box::new(serde_json::from_slice(content).map_err(invalid)?))
        }
        k if k.is_schema1() => Manifest::Schema1(Schema1::decode(
            content,
            k.media_type(),
            probe.signatures.is_some(),
        )?),
        _ => Manifest::Image(Box::new(serde_json::from_slice(content).map_err(invalid)?)),
    })
}

#[cfg(test)]
pub(crate) mod tests;
