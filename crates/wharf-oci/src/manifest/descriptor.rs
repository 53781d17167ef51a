//! Content descriptors (`mediaType`, `digest`, `size`, …) and the serde helpers shared by the
//! manifest types.
//!
//! Why not `oci_spec::image::Descriptor` for decoding: its digest accepts any algorithm (ours
//! refuses what we cannot verify, before any download), its `mediaType` is required (some
//! hand-made indexes omit it), and a negative size only yields serde's generic message. We convert
//! to the `oci-spec` type with [`Descriptor::to_oci`] where a spec-exact value is wanted.

use std::collections::BTreeMap;
use std::fmt;

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize};

use crate::digest::Digest;
use crate::error::{Error, Result};
use crate::platform::Platform;

/// A descriptor as found in manifests and indexes. Unknown fields (e.g. `data`) are ignored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Descriptor {
    /// Lenient: `None` when the document omits it (OCI requires it; real documents sometimes
    /// lack it). Unknown media types are kept as they are.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    pub digest: Digest,
    #[serde(deserialize_with = "size")]
    pub size: u64,
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub urls: Vec<String>,
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub annotations: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<Platform>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifact_type: Option<String>,
}

impl Descriptor {
    pub fn new(media_type: &str, digest: Digest, size: u64) -> Self {
        Descriptor {
            media_type: Some(media_type.to_owned()),
            digest,
            size,
            urls: Vec::new(),
            annotations: BTreeMap::new(),
            platform: None,
            artifact_type: None,
        }
    }

    /// The media type, or `""` when the document omitted it.
    pub fn media_type_str(&self) -> &str {
        self.media_type.as_deref().unwrap_or("")
    }

    pub fn annotation(&self, key: &str) -> Option<&str> {
        self.annotations.get(key).map(String::as_str)
    }

    /// The same descriptor as an `oci-spec` value (fails if `mediaType` is missing, which the
    /// OCI specification requires).
    pub fn to_oci(&self) -> Result<oci_spec::image::Descriptor> {
        let invalid = |reason: String| Error::InvalidManifest {
            media_type: self.media_type_str().to_owned(),
            reason,
        };
        if self.media_type.is_none() {
            return Err(invalid(format!(
                "descriptor {} has no mediaType",
                self.digest
            )));
        }
        // Same field names on both sides, so a JSON round trip is an exact conversion.
        let value = serde_json::to_value(self).map_err(|e| invalid(e.to_string()))?;
        serde_json::from_value(value).map_err(|e| invalid(e.to_string()))
    }
}

/// Whether a JSON body is an object. serde's derived structs also accept arrays (fields by
/// position); a manifest or config is always an object, so anything else is refused up front.
pub(crate) fn is_json_object(body: &[u8]) -> bool {
    body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{')
}

/// Reads `null` as the default value (real configs write `"Env": null`, `"Labels": null`).
pub(crate) fn null_default<'de, D, T>(d: D) -> std::result::Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Option::unwrap_or_default)
}

/// A byte count: a JSON integer >= 0. A negative size gets its own message.
pub(crate) fn size<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<u64, D::Error> {
    struct SizeVisitor;
    impl Visitor<'_> for SizeVisitor {
        type Value = u64;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a size in bytes (an integer >= 0)")
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> std::result::Result<u64, E> {
            Ok(v)
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> std::result::Result<u64, E> {
            u64::try_from(v).map_err(|_| E::custom(format!("negative size {v}")))
        }
    }
    d.deserialize_u64(SizeVisitor)
}
