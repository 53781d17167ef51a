//! Docker schema 1 images, modelled on fixtures/hitch-schema1.json (`fsLayers[]` and
//! `history[]` as parallel arrays, newest first, `v1Compatibility` JSON strings with
//! `id`/`parent`, throwaway entries pointing at the well-known empty gzip layer).
//!
//! Found on distribution 2.8.2: an unsigned `application/vnd.docker.distribution.manifest.v1+json`
//! push is refused (400 MANIFEST_INVALID, "missing signature key"), with or without
//! `compatibility.schema1.enabled`. So the kit signs the document the way libtrust does (a
//! "pretty" JWS: the signatures are appended to the JSON, the protected header records where the
//! payload ends) with a throwaway P-256 key, and pushes it as `...v1+prettyjws`. The registry
//! stores the unsigned payload: `Docker-Content-Digest` is its sha256, and a GET returns it
//! re-signed with the registry's own key. Hand-written because no maintained crate writes
//! libtrust signatures.

use base64::Engine as _;
use serde_json::{json, Value};
use wharf_oci::Digest;

use crate::error::{Error, Result};
use crate::registry::Registry;
use crate::seed::{SeededBlob, SeededManifest};
use crate::tarball::gzip_tar;

pub const SCHEMA1_SIGNED: &str = "application/vnd.docker.distribution.manifest.v1+prettyjws";
pub const SCHEMA1_UNSIGNED: &str = "application/vnd.docker.distribution.manifest.v1+json";
const LAYER_TYPE: &str = "application/vnd.docker.image.rootfs.diff.tar.gzip";

/// The empty tar, gzipped as Docker writes it (`sha256:a3ed95ca...`), used by throwaway entries.
pub const EMPTY_GZIP_LAYER: [u8; 32] = [
    31, 139, 8, 0, 0, 9, 110, 136, 0, 255, 98, 24, 5, 163, 96, 20, 140, 88, 0, 8, 0, 0, 255, 255,
    46, 175, 181, 239, 0, 4, 0, 0,
];

/// A pushed schema 1 image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeededSchema1 {
    /// `bytes` is the signed document pushed; `digest` the sha256 of `unsigned`.
    pub manifest: SeededManifest,
    /// The payload without signatures.
    pub unsigned: Vec<u8>,
    /// `fsLayers[].blobSum` in document order (newest first; repeats kept).
    pub fs_layers: Vec<Digest>,
    /// The distinct layer blobs, real ones first, then the empty layer.
    pub blobs: Vec<SeededBlob>,
}

impl Registry {
    /// Pushes a schema 1 image with `real_layers` layers, each followed by a throwaway entry
    /// (so `2 * real_layers` history entries, as `docker build` wrote them).
    pub async fn push_schema1(
        &self,
        repo: &str,
        tag: &str,
        real_layers: usize,
    ) -> Result<SeededSchema1> {
        let mut blobs = Vec::new();
        for i in 0..real_layers {
            let files = vec![(
                format!("opt/layer{i}/file.txt"),
                format!("schema 1 layer {i}\n").into_bytes(),
            )];
            let (gz, _) = gzip_tar(&files)?;
            let mut blob = self.push_blob(repo, gz).await?;
            blob.media_type = LAYER_TYPE.to_owned();
            blobs.push(blob);
        }
        let mut empty = self.push_blob(repo, EMPTY_GZIP_LAYER.to_vec()).await?;
        empty.media_type = LAYER_TYPE.to_owned();
        // Oldest first: layer i, then its throwaway CMD entry.
        let mut entries = Vec::new();
        for blob in &blobs {
            entries.push((blob.digest.clone(), false));
            entries.push((empty.digest.clone(), true));
        }
        let unsigned = unsigned_document(repo, tag, &entries)?;
        let signed = sign(&unsigned)?;
        let mut manifest = self
            .push_manifest(repo, tag, SCHEMA1_SIGNED, signed)
            .await?;
        let own = Digest::sha256_of(&unsigned);
        if manifest.digest != own {
            return Err(Error::protocol(format!(
                "schema 1 stored as {}, its payload hashes to {own}",
                manifest.digest
            )));
        }
        manifest.size = manifest.bytes.len() as u64;
        let fs_layers = entries.iter().rev().map(|(d, _)| d.clone()).collect();
        blobs.push(empty);
        Ok(SeededSchema1 {
            manifest,
            unsigned,
            fs_layers,
            blobs,
        })
    }
}

/// The payload, pretty-printed with three spaces as Docker wrote it. `entries` is oldest first.
fn unsigned_document(repo: &str, tag: &str, entries: &[(Digest, bool)]) -> Result<Vec<u8>> {
    let ids: Vec<String> = (0..entries.len())
        .map(|i| format!("{:064x}", 0xa11ce + i))
        .collect();
    let mut fs_layers = Vec::new();
    let mut history = Vec::new();
    for (i, (digest, throwaway)) in entries.iter().enumerate().rev() {
        let mut v1 = json!({
            "id": ids.get(i),
            "created": format!("2024-05-14T05:23:{:02}Z", i % 60),
            "container_config": {"Cmd": [format!("/bin/sh -c #(nop) step {i}")]},
            "architecture": "amd64",
            "os": "linux",
        });
        if i > 0 {
            v1["parent"] = json!(ids.get(i - 1));
        }
        if *throwaway {
            v1["throwaway"] = json!(true);
        }
        fs_layers.push(json!({"blobSum": digest}));
        history.push(json!({"v1Compatibility": serde_json::to_string(&v1)?}));
    }
    let document = json!({
        "schemaVersion": 1,
        "name": repo,
        "tag": tag,
        "architecture": "amd64",
        "fsLayers": fs_layers,
        "history": history,
    });
    let mut out = Vec::new();
    let formatter = serde_json::ser::PrettyFormatter::with_indent(b"   ");
    let mut serializer = serde_json::Serializer::with_formatter(&mut out, formatter);
    serde::Serialize::serialize(&document, &mut serializer)?;
    Ok(out)
}

fn b64url(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// Appends a libtrust "pretty" JWS signature to `payload` (which ends with `}`).
fn sign(payload: &[u8]) -> Result<Vec<u8>> {
    let close = payload
        .iter()
        .rposition(|b| !b.is_ascii_whitespace())
        .filter(|&i| payload.get(i) == Some(&b'}'))
        .ok_or_else(|| Error::protocol("schema 1 payload does not end with }"))?;
    let format_length = payload
        .get(..close)
        .and_then(|head| head.iter().rposition(|b| !b.is_ascii_whitespace()))
        .map(|i| i + 1)
        .ok_or_else(|| Error::protocol("schema 1 payload is empty"))?;
    let (head, tail) = payload.split_at(format_length);
    let protected = b64url(
        serde_json::to_string(&json!({
            "formatLength": format_length,
            "formatTail": b64url(tail),
            "time": "2024-05-14T05:23:11Z",
        }))?
        .as_bytes(),
    );
    let key =
        rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).map_err(Error::crypto)?;
    let signing_input = format!("{protected}.{}", b64url(payload));
    let signature = jsonwebtoken::crypto::sign(
        signing_input.as_bytes(),
        &jsonwebtoken::EncodingKey::from_ec_der(&key.serialize_der()),
        jsonwebtoken::Algorithm::ES256,
    )
    .map_err(Error::crypto)?;
    let point = key.public_key_raw();
    let (x, y) = match (point.get(1..33), point.get(33..65)) {
        (Some(x), Some(y)) if point.first() == Some(&4) => (x, y),
        _ => return Err(Error::crypto("unexpected P-256 public key encoding")),
    };
    let signatures = json!([{
        "header": {"jwk": {"crv": "P-256", "kty": "EC", "x": b64url(x), "y": b64url(y)}, "alg": "ES256"},
        "signature": signature,
        "protected": protected,
    }]);
    let mut out = head.to_vec();
    out.extend_from_slice(b",\n   \"signatures\": ");
    out.extend_from_slice(serde_json::to_string(&signatures)?.as_bytes());
    out.extend_from_slice(b"\n}");
    Ok(out)
}

/// The payload of a signed schema 1 document: the bytes before `"signatures"` plus the
/// `formatTail` of its first protected header (what the registry hashes).
pub fn schema1_payload(signed: &[u8]) -> Result<Vec<u8>> {
    let document: Value = serde_json::from_slice(signed)?;
    let protected = document["signatures"][0]["protected"]
        .as_str()
        .ok_or_else(|| Error::protocol("schema 1 document without signatures"))?;
    let header: Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(protected)
            .map_err(|e| Error::protocol(format!("bad protected header: {e}")))?,
    )?;
    let length = header["formatLength"]
        .as_u64()
        .and_then(|n| usize::try_from(n).ok())
        .ok_or_else(|| Error::protocol("no formatLength"))?;
    let tail = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(header["formatTail"].as_str().unwrap_or_default())
        .map_err(|e| Error::protocol(format!("bad formatTail: {e}")))?;
    let head = signed
        .get(..length)
        .ok_or_else(|| Error::protocol("formatLength past the end"))?;
    Ok([head, tail.as_slice()].concat())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_empty_layer_is_dockers() {
        assert_eq!(
            Digest::sha256_of(&EMPTY_GZIP_LAYER).to_string(),
            "sha256:a3ed95caeb02ffe68cdd9fd84406680ae93d633cb16422d00e8a7c22955b46d4"
        );
    }

    #[test]
    fn signing_keeps_the_payload_recoverable() {
        let d = Digest::sha256_of(b"x");
        let unsigned = unsigned_document("a/b", "1", &[(d.clone(), false), (d, true)]).unwrap();
        let signed = sign(&unsigned).unwrap();
        assert_eq!(schema1_payload(&signed).unwrap(), unsigned);
        let doc: Value = serde_json::from_slice(&signed).unwrap();
        assert_eq!(doc["fsLayers"].as_array().map(Vec::len), Some(2));
        assert_eq!(doc["history"].as_array().map(Vec::len), Some(2));
        let newest: Value =
            serde_json::from_str(doc["history"][0]["v1Compatibility"].as_str().unwrap()).unwrap();
        assert_eq!(newest["throwaway"], true);
        assert!(newest["parent"].is_string());
    }
}
