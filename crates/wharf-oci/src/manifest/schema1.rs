//! Docker image manifest schema 1 (legacy), unsigned and signed (`prettyjws`).
//!
//! `fsLayers[]` and `history[]` are parallel arrays, **top layer first**; each `history` entry
//! holds a `v1Compatibility` JSON *string* with the layer's `id`, `parent`, `created` and
//! `container_config.Cmd`. We check them like Docker does (ids are 64 lowercase hex, each layer's
//! `parent` is the id of the layer below, the base layer has no parent, a repeated id may only
//! repeat in adjacent entries, which are then merged) and keep the layers bottom-to-top.
//!
//! Signed manifests: the digest of a signed manifest (what `Docker-Content-Digest` names) is
//! that of its *canonical payload*, the body without the `signatures` section, rebuilt from the
//! protected header's `formatLength` and `formatTail`. We decode that payload, not the whole
//! body, so that nothing outside the digested bytes is trusted. The JWS signatures themselves are
//! not verified: they were made with throw-away keys and prove nothing about the content; the
//! digest does.

use std::collections::HashSet;

use base64::engine::{general_purpose::GeneralPurpose, DecodePaddingMode, GeneralPurposeConfig};
use base64::Engine as _;
use serde::Deserialize;

use super::config::ImageConfig;
use super::descriptor::null_default;
use crate::digest::Digest;
use crate::error::{Error, Result};
use crate::platform::Platform;

/// The gzipped empty tar that schema 1 uses for layers without content (`throwaway` steps).
pub const EMPTY_LAYER: &str =
    "sha256:a3ed95caeb02ffe68cdd9fd84406680ae93d633cb16422d00e8a7c22955b46d4";

/// A decoded schema 1 manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schema1 {
    pub name: String,
    pub tag: String,
    pub architecture: String,
    /// Whether the body carried JWS `signatures`.
    pub signed: bool,
    /// Bottom layer first (the reverse of `fsLayers`), adjacent repeats merged.
    layers: Vec<Schema1Layer>,
}

/// One layer of a schema 1 manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schema1Layer {
    pub blob_sum: Digest,
    /// The `v1Compatibility` string exactly as served (the legacy layout's `json` file).
    pub v1_compatibility: String,
    pub v1: V1Compat,
}

/// The fields of a `v1Compatibility` document that we use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct V1Compat {
    /// 64 lowercase hex digits (validated: it names a folder in the legacy archive layout).
    pub id: String,
    pub parent: Option<String>,
    pub created: Option<String>,
    /// `container_config.Cmd`: the build step that made this layer.
    pub cmd: Vec<String>,
    pub throwaway: bool,
    pub os: Option<String>,
}

impl Schema1Layer {
    /// Whether the blob is the well-known empty tar ([`EMPTY_LAYER`]).
    pub fn is_empty_blob(&self) -> bool {
        self.blob_sum.to_string() == EMPTY_LAYER
    }
}

impl Schema1 {
    /// Layers bottom-to-top.
    pub fn layers(&self) -> &[Schema1Layer] {
        &self.layers
    }

    /// Layer ids bottom-to-top.
    pub fn ids(&self) -> impl Iterator<Item = &str> {
        self.layers.iter().map(|l| l.v1.id.as_str())
    }

    /// The top layer, whose `v1Compatibility` is the image's configuration.
    pub fn top(&self) -> Option<&Schema1Layer> {
        self.layers.last()
    }

    /// The image configuration (entrypoint, cmd, env, …) from the top layer.
    pub fn config(&self) -> Result<ImageConfig> {
        let top = self.top().ok_or_else(|| Error::InvalidConfig {
            reason: "schema 1 manifest without layers".into(),
        })?;
        ImageConfig::from_json(top.v1_compatibility.as_bytes())
    }

    pub fn platform(&self) -> Platform {
        let os = self.top().and_then(|t| t.v1.os.clone());
        Platform::new(os.as_deref().unwrap_or("linux"), &self.architecture, None)
    }

    /// Decodes a (canonical) schema 1 body. `media_type` only labels errors.
    pub(crate) fn decode(body: &[u8], media_type: &str, signed: bool) -> Result<Schema1> {
        let invalid = |reason: String| Error::InvalidManifest {
            media_type: media_type.to_owned(),
            reason,
        };
        let raw: RawSchema1 = serde_json::from_slice(body).map_err(|e| invalid(e.to_string()))?;
        let layers = raw_layers(raw.fs_layers, raw.history).map_err(invalid)?;
        Ok(Schema1 {
            name: raw.name,
            tag: raw.tag,
            architecture: raw.architecture,
            signed,
            layers,
        })
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawSchema1 {
    #[serde(default)]
    name: String,
    #[serde(default)]
    tag: String,
    #[serde(default)]
    architecture: String,
    fs_layers: Vec<FsLayer>,
    history: Vec<History>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct FsLayer {
    blob_sum: Digest,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct History {
    v1_compatibility: String,
}

#[derive(Deserialize)]
struct RawV1 {
    id: String,
    #[serde(default)]
    parent: Option<String>,
    #[serde(default)]
    created: Option<String>,
    #[serde(default)]
    container_config: Option<RawContainerConfig>,
    #[serde(default)]
    throwaway: bool,
    #[serde(default)]
    os: Option<String>,
}

#[derive(Deserialize)]
struct RawContainerConfig {
    #[serde(rename = "Cmd", default, deserialize_with = "null_default")]
    cmd: Vec<String>,
}

type Checked<T> = std::result::Result<T, String>;

/// Pairs `fsLayers` with `history`, checks the chain, returns the layers bottom-to-top.
fn raw_layers(fs_layers: Vec<FsLayer>, history: Vec<History>) -> Checked<Vec<Schema1Layer>> {
    if fs_layers.is_empty() {
        return Err("fsLayers is empty".into());
    }
    if fs_layers.len() != history.len() {
        return Err(format!(
            "{} fsLayers but {} history entries",
            fs_layers.len(),
            history.len()
        ));
    }
    let mut layers = fs_layers
        .into_iter()
        .zip(history)
        .enumerate()
        .map(|(i, (fs, h))| layer(i, fs, h))
        .collect::<Checked<Vec<_>>>()?;
    layers.reverse();
    check_chain(&mut layers)?;
    Ok(layers)
}

fn layer(position: usize, fs: FsLayer, history: History) -> Checked<Schema1Layer> {
    let raw: RawV1 = serde_json::from_str(&history.v1_compatibility)
        .map_err(|e| format!("history[{position}].v1Compatibility: {e}"))?;
    check_id(&raw.id).map_err(|e| format!("history[{position}] id: {e}"))?;
    let parent = raw.parent.filter(|p| !p.is_empty());
    if let Some(p) = &parent {
        check_id(p).map_err(|e| format!("history[{position}] parent: {e}"))?;
    }
    let v1 = V1Compat {
        id: raw.id,
        parent,
        created: raw.created,
        cmd: raw.container_config.map(|c| c.cmd).unwrap_or_default(),
        throwaway: raw.throwaway,
        os: raw.os,
    };
    Ok(Schema1Layer {
        blob_sum: fs.blob_sum,
        v1_compatibility: history.v1_compatibility,
        v1,
    })
}

fn check_id(id: &str) -> Checked<()> {
    let ok = id.len() == 64 && id.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
    if ok {
        Ok(())
    } else {
        Err(format!("{id:?} is not 64 lowercase hex digits"))
    }
}

/// Docker's rules, on the bottom-first list: the base has no parent; an id may repeat only in
/// adjacent entries, which are merged (keeping the lowest, as Docker does); every other layer's
/// parent is the id of the layer below.
fn check_chain(bottom_first: &mut Vec<Schema1Layer>) -> Checked<()> {
    if let Some(parent) = bottom_first
        .first()
        .and_then(|base| base.v1.parent.as_ref())
    {
        return Err(format!("the base layer has a parent ({parent})"));
    }
    let mut seen = HashSet::new();
    let mut previous: Option<&str> = None;
    for l in bottom_first.iter() {
        let id = l.v1.id.as_str();
        if previous != Some(id) && !seen.insert(id) {
            return Err(format!("layer id {id} appears more than once"));
        }
        previous = Some(id);
    }
    // `dedup_by` keeps the first of a run, i.e. the lowest entry.
    bottom_first.dedup_by(|above, below| above.v1.id == below.v1.id);
    for pair in bottom_first.windows(2) {
        if let [below, above] = pair {
            if above.v1.parent.as_deref() != Some(below.v1.id.as_str()) {
                return Err(format!(
                    "layer {} names parent {:?}, but the layer below is {}",
                    above.v1.id, above.v1.parent, below.v1.id
                ));
            }
        }
    }
    Ok(())
}

/// The `signatures` of a signed manifest (only what we need of them).
#[derive(Deserialize)]
struct Signed {
    signatures: Vec<Signature>,
}

#[derive(Deserialize)]
struct Signature {
    protected: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Protected {
    format_length: u64,
    format_tail: String,
}

/// libtrust writes unpadded base64url; accept padding too.
const BASE64URL: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::URL_SAFE,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// The canonical payload of a signed manifest: `body[..formatLength] + formatTail`. Every
/// signature's protected header must agree on both.
pub(crate) fn canonical_payload(body: &[u8]) -> Checked<Vec<u8>> {
    let signed: Signed = serde_json::from_slice(body).map_err(|e| format!("signatures: {e}"))?;
    let mut format: Option<(u64, Vec<u8>)> = None;
    for (i, s) in signed.signatures.iter().enumerate() {
        let this = protected_format(&s.protected).map_err(|e| format!("signatures[{i}]: {e}"))?;
        match &format {
            Some(first) if *first != this => {
                return Err("signatures disagree on the payload format".into())
            }
            Some(_) => {}
            None => format = Some(this),
        }
    }
    let (length, tail) = format.ok_or("signatures is empty")?;
    let head = usize::try_from(length)
        .ok()
        .and_then(|n| body.get(..n))
        .ok_or_else(|| format!("formatLength {length} is past the end of the body"))?;
    Ok([head, tail.as_slice()].concat())
}

fn protected_format(protected: &str) -> Checked<(u64, Vec<u8>)> {
    let json = BASE64URL
        .decode(protected)
        .map_err(|e| format!("protected header is not base64url: {e}"))?;
    let p: Protected =
        serde_json::from_slice(&json).map_err(|e| format!("protected header: {e}"))?;
    let tail = BASE64URL
        .decode(&p.format_tail)
        .map_err(|e| format!("formatTail is not base64url: {e}"))?;
    Ok((p.format_length, tail))
}

#[cfg(test)]
mod tests;
