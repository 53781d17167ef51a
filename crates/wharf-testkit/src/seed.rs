//! Seeding through the registry's own API (reqwest): blobs (in memory or streamed from a
//! deterministic generator, up to GiBs without holding them) and manifests. docs/environment.md section 2:
//! `POST /v2/<name>/blobs/uploads/` -> 202 + `Location`, then `PUT <Location>&digest=..` with
//! `Content-Type: application/octet-stream` (without it 2.8.2 answers DIGEST_INVALID).

use bytes::Bytes;
use futures_util::stream;
use http::header;
use url::Url;
use wharf_oci::digest::Hasher;
use wharf_oci::{Algorithm, Digest};

use crate::error::{Error, Result};
use crate::registry::{Mode, Registry};
use crate::token::Access;

const OCTET_STREAM: &str = "application/octet-stream";
/// Chunk size of streamed uploads (a multiple of 8, see [`Pattern`]).
const CHUNK: usize = 1 << 20;

/// A blob the kit pushed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeededBlob {
    pub digest: Digest,
    pub size: u64,
    /// The media type a descriptor of it carries (`application/octet-stream` for raw blobs).
    pub media_type: String,
}

impl SeededBlob {
    /// An OCI descriptor (`mediaType`, `digest`, `size`).
    pub fn descriptor(&self) -> serde_json::Value {
        serde_json::json!({
            "mediaType": self.media_type,
            "digest": self.digest,
            "size": self.size,
        })
    }
}

/// A manifest the kit pushed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeededManifest {
    pub repo: String,
    /// What it was pushed under: a tag, or its digest.
    pub reference: String,
    /// The registry's `Docker-Content-Digest` (for schema 1: of the unsigned payload).
    pub digest: Digest,
    pub size: u64,
    pub media_type: String,
    /// The exact bytes pushed.
    pub bytes: Vec<u8>,
}

impl SeededManifest {
    /// An index entry / descriptor for this manifest.
    pub fn descriptor(&self) -> serde_json::Value {
        serde_json::json!({
            "mediaType": self.media_type,
            "digest": self.digest,
            "size": self.size,
        })
    }
}

/// Deterministic pseudo-random bytes with random access: word `i` (8 bytes, little endian) is
/// splitmix64 of `seed + (i + 1) * golden gamma`, so any range can be regenerated alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pattern {
    seed: u64,
}

impl Pattern {
    pub fn new(seed: u64) -> Pattern {
        Pattern { seed }
    }

    fn word(&self, index: u64) -> [u8; 8] {
        let mut z = self
            .seed
            .wrapping_add(index.wrapping_add(1).wrapping_mul(0x9E37_79B9_7F4A_7C15));
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        (z ^ (z >> 31)).to_le_bytes()
    }

    /// Fills `buf` with the bytes at `offset..offset + buf.len()`.
    pub fn fill(&self, offset: u64, buf: &mut [u8]) {
        let mut position = offset;
        let mut rest = buf;
        // Unaligned head, then whole words (the fast path), then the tail.
        while !rest.is_empty() && (!position.is_multiple_of(8) || rest.len() < 8) {
            let word = self.word(position / 8);
            let skip = (position % 8) as usize;
            let take = (8 - skip).min(rest.len());
            let (head, tail) = rest.split_at_mut(take);
            head.copy_from_slice(word.get(skip..skip + take).unwrap_or_default());
            position += take as u64;
            rest = tail;
        }
        let (words, tail) = rest.split_at_mut(rest.len() / 8 * 8);
        for (i, out) in words.chunks_exact_mut(8).enumerate() {
            out.copy_from_slice(&self.word(position / 8 + i as u64));
        }
        position += words.len() as u64;
        rest = tail;
        while !rest.is_empty() {
            let word = self.word(position / 8);
            let skip = (position % 8) as usize;
            let take = (8 - skip).min(rest.len());
            let (head, tail) = rest.split_at_mut(take);
            head.copy_from_slice(word.get(skip..skip + take).unwrap_or_default());
            position += take as u64;
            rest = tail;
        }
    }

    /// The bytes at `offset..offset + len`.
    pub fn bytes(&self, offset: u64, len: usize) -> Vec<u8> {
        let mut out = vec![0; len];
        self.fill(offset, &mut out);
        out
    }

    /// The sha256 of the first `size` bytes, computed in chunks.
    pub fn digest(&self, size: u64) -> Digest {
        let mut hasher = Hasher::new(Algorithm::Sha256);
        let mut buf = vec![0; CHUNK];
        let mut offset = 0;
        while offset < size {
            let len = (size - offset).min(CHUNK as u64) as usize;
            let chunk = buf.get_mut(..len).unwrap_or_default();
            self.fill(offset, chunk);
            hasher.update(chunk);
            offset += len as u64;
        }
        hasher.finish()
    }
}

impl Registry {
    /// The `Authorization` value the seeding admin pushes `repo` with, if the mode needs one.
    pub(crate) fn push_authorization(&self, repo: &str) -> Result<Option<String>> {
        match (self.mode(), self.token_server()) {
            (Mode::Basic, _) => Ok(Some(self.admin().basic_header())),
            (Mode::Token, Some(token)) => {
                let access = [Access::repository(repo, &["pull", "push"])];
                let token = token.mint(&self.admin().username, &access)?;
                Ok(Some(format!("Bearer {token}")))
            }
            _ => Ok(None),
        }
    }

    fn with_auth(
        &self,
        request: reqwest::RequestBuilder,
        auth: &Option<String>,
    ) -> reqwest::RequestBuilder {
        match auth {
            Some(value) => request.header(header::AUTHORIZATION, value),
            None => request,
        }
    }

    /// Starts an upload; returns its `Location` (absolute).
    async fn start_upload(&self, repo: &str, auth: &Option<String>) -> Result<Url> {
        let url = self.v2_url(&format!("{repo}/blobs/uploads/"));
        let response = self
            .with_auth(self.http.post(url.clone()), auth)
            .send()
            .await;
        let response = expect(response, 202, "POST", &url).await?;
        location(&response, &url)
    }

    /// Pushes `bytes` as one blob (monolithic PUT).
    pub async fn push_blob(&self, repo: &str, bytes: impl Into<Bytes>) -> Result<SeededBlob> {
        let bytes: Bytes = bytes.into();
        let digest = Digest::sha256_of(&bytes);
        let size = bytes.len() as u64;
        let auth = self.push_authorization(repo)?;
        let mut url = self.start_upload(repo, &auth).await?;
        url.query_pairs_mut()
            .append_pair("digest", &digest.to_string());
        let request = self
            .with_auth(self.http.put(url.clone()), &auth)
            .header(header::CONTENT_TYPE, OCTET_STREAM)
            .body(bytes);
        let response = expect(request.send().await, 201, "PUT", &url).await?;
        check_digest(&response, &digest)?;
        Ok(SeededBlob {
            digest,
            size,
            media_type: OCTET_STREAM.to_owned(),
        })
    }

    /// Pushes `size` bytes of [`Pattern::new(seed)`], generated and hashed while they stream
    /// out in one `PATCH` (never all in memory), then commits with `PUT ?digest=`.
    pub async fn push_blob_stream(&self, repo: &str, size: u64, seed: u64) -> Result<SeededBlob> {
        let auth = self.push_authorization(repo)?;
        let url = self.start_upload(repo, &auth).await?;
        let (body, digest_rx) = pattern_body(Pattern::new(seed), size);
        let request = self
            .with_auth(self.http.patch(url.clone()), &auth)
            .header(header::CONTENT_TYPE, OCTET_STREAM)
            .body(body);
        let response = expect(request.send().await, 202, "PATCH", &url).await?;
        let mut commit = location(&response, &url)?;
        let digest = digest_rx
            .await
            .map_err(|_| Error::protocol("the upload body ended before its last byte"))?;
        commit
            .query_pairs_mut()
            .append_pair("digest", &digest.to_string());
        let request = self
            .with_auth(self.http.put(commit.clone()), &auth)
            .header(header::CONTENT_TYPE, OCTET_STREAM)
            .header(header::CONTENT_LENGTH, 0);
        let response = expect(request.send().await, 201, "PUT", &commit).await?;
        check_digest(&response, &digest)?;
        Ok(SeededBlob {
            digest,
            size,
            media_type: OCTET_STREAM.to_owned(),
        })
    }

    /// Pushes a manifest under `reference` (a tag or its digest) with `media_type` as
    /// Content-Type. The registry's digest must be the sha256 of `bytes` (except for schema 1,
    /// whose digest covers the payload without signatures).
    pub async fn push_manifest(
        &self,
        repo: &str,
        reference: &str,
        media_type: &str,
        bytes: Vec<u8>,
    ) -> Result<SeededManifest> {
        let auth = self.push_authorization(repo)?;
        let url = self.v2_url(&format!("{repo}/manifests/{reference}"));
        let request = self
            .with_auth(self.http.put(url.clone()), &auth)
            .header(header::CONTENT_TYPE, media_type)
            .body(bytes.clone());
        let response = expect(request.send().await, 201, "PUT", &url).await?;
        let digest = content_digest(&response)?;
        let schema1 = media_type.starts_with("application/vnd.docker.distribution.manifest.v1");
        let own = Digest::sha256_of(&bytes);
        if !schema1 && digest != own {
            return Err(Error::protocol(format!(
                "registry stored manifest as {digest}, its bytes hash to {own}"
            )));
        }
        Ok(SeededManifest {
            repo: repo.to_owned(),
            reference: reference.to_owned(),
            digest,
            size: bytes.len() as u64,
            media_type: media_type.to_owned(),
            bytes,
        })
    }

    /// Pushes a manifest under its own digest (for index entries).
    pub async fn push_manifest_by_digest(
        &self,
        repo: &str,
        media_type: &str,
        bytes: Vec<u8>,
    ) -> Result<SeededManifest> {
        let reference = Digest::sha256_of(&bytes).to_string();
        self.push_manifest(repo, &reference, media_type, bytes)
            .await
    }
}

/// A streamed request body of `size` pattern bytes, and the digest it sends once done.
fn pattern_body(
    pattern: Pattern,
    size: u64,
) -> (reqwest::Body, tokio::sync::oneshot::Receiver<Digest>) {
    let (tx, rx) = tokio::sync::oneshot::channel();
    let state = (0u64, Some(Hasher::new(Algorithm::Sha256)), Some(tx));
    let chunks = stream::unfold(state, move |(offset, mut hasher, mut tx)| async move {
        if offset >= size {
            if let (Some(hasher), Some(tx)) = (hasher.take(), tx.take()) {
                let _ = tx.send(hasher.finish());
            }
            return None;
        }
        let len = (size - offset).min(CHUNK as u64) as usize;
        let mut chunk = vec![0; len];
        pattern.fill(offset, &mut chunk);
        if let Some(hasher) = hasher.as_mut() {
            hasher.update(&chunk);
        }
        let item: std::result::Result<Bytes, std::io::Error> = Ok(Bytes::from(chunk));
        Some((item, (offset + len as u64, hasher, tx)))
    });
    (reqwest::Body::wrap_stream(chunks), rx)
}

/// Awaits a response and checks its status; otherwise an error with the body.
pub(crate) async fn expect(
    response: reqwest::Result<reqwest::Response>,
    status: u16,
    method: &str,
    url: &Url,
) -> Result<reqwest::Response> {
    let response = response.map_err(Error::http(format!("{method} {url}")))?;
    if response.status().as_u16() == status {
        return Ok(response);
    }
    let got = response.status().as_u16();
    let body = response.text().await.unwrap_or_default();
    Err(Error::Status {
        method: method.to_owned(),
        url: url.to_string(),
        status: got,
        body,
    })
}

fn location(response: &reqwest::Response, base: &Url) -> Result<Url> {
    let value = response
        .headers()
        .get(header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| Error::protocol(format!("no Location in the answer to {base}")))?;
    base.join(value)
        .map_err(|e| Error::protocol(format!("bad Location {value:?}: {e}")))
}

pub(crate) fn content_digest(response: &reqwest::Response) -> Result<Digest> {
    let value = response
        .headers()
        .get("docker-content-digest")
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| Error::protocol("no Docker-Content-Digest header"))?;
    Ok(value.parse()?)
}

fn check_digest(response: &reqwest::Response, expected: &Digest) -> Result<()> {
    let stored = content_digest(response)?;
    if &stored != expected {
        return Err(Error::protocol(format!(
            "registry stored {stored}, we sent {expected}"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pattern_ranges_agree_with_the_whole() {
        let pattern = Pattern::new(7);
        let whole = pattern.bytes(0, 100);
        for (offset, len) in [
            (0usize, 100usize),
            (3, 10),
            (8, 8),
            (13, 0),
            (95, 5),
            (1, 97),
        ] {
            assert_eq!(
                pattern.bytes(offset as u64, len),
                whole[offset..offset + len]
            );
        }
        assert_ne!(Pattern::new(8).bytes(0, 100), whole);
    }

    #[test]
    fn pattern_digest_matches_hashing_the_bytes() {
        let pattern = Pattern::new(42);
        for size in [0u64, 1, 7, 8, 1000, CHUNK as u64 + 3] {
            let bytes = pattern.bytes(0, size as usize);
            assert_eq!(
                pattern.digest(size),
                Digest::sha256_of(&bytes),
                "size {size}"
            );
        }
    }
}
