//! Request descriptions built by the core for every protocol step, and decoding of registry
//! error documents. Drivers (the browser app, the native test kit) only execute them.
//!
//! Builders take a [`Reference`] and validated types ([`Digest`], [`Tag`]) and return a
//! [`Request`]; the driver adds credentials (see `auth`) and performs it. Registry answers are
//! read back with [`error_from_response`], [`RateLimit::from_headers`] and [`ContentRange`].

mod answers;

pub use answers::{
    error_from_response, parse_quota, parse_retry_after, ContentRange, ErrorCode, Quota, RateLimit,
    RegistryError, RegistryErrors,
};

use http::header::{HeaderValue, ACCEPT, RANGE};
use http::{HeaderMap, Method};
use url::Url;

use crate::digest::Digest;
use crate::error::{Error, Result};
use crate::manifest;
use crate::reference::{ManifestTarget, Reference, Tag};

/// One HTTP request for a driver to execute: method, absolute URL, headers (repeated headers,
/// such as several `Accept`, are kept as separate entries).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub method: http::Method,
    pub url: url::Url,
    pub headers: http::HeaderMap,
}

impl Request {
    /// A request without headers.
    pub fn new(method: Method, url: Url) -> Self {
        Request {
            method,
            url,
            headers: HeaderMap::new(),
        }
    }

    /// The values of one header, in order (e.g. every `Accept`).
    pub fn header_values(&self, name: &str) -> Vec<&str> {
        self.headers
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect()
    }
}

/// Media type of an OCI image index (what the referrers API answers with).
const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";

/// `GET /v2/`: the API version check, which also draws the registry's auth challenge.
pub fn ping(reference: &Reference) -> Result<Request> {
    let mut url = reference.base_url();
    segments(&mut url)?.push("v2").push("");
    Ok(Request::new(Method::GET, url))
}

/// `GET /v2/<name>/manifests/<digest or tag>` for the reference's own target.
pub fn manifest_get(reference: &Reference) -> Result<Request> {
    manifest_request(reference, reference.manifest_target(), Method::GET)
}

/// `HEAD /v2/<name>/manifests/<digest or tag>`: learns the digest (`Docker-Content-Digest`)
/// without spending a Docker Hub pull (HEADs are not rate limited).
pub fn manifest_head(reference: &Reference) -> Result<Request> {
    manifest_request(reference, reference.manifest_target(), Method::HEAD)
}

/// `GET /v2/<name>/manifests/<digest>` for another manifest of the same repository (an index
/// entry, a referrer).
pub fn manifest_by_digest(reference: &Reference, digest: &Digest) -> Result<Request> {
    manifest_request(reference, ManifestTarget::Digest(digest), Method::GET)
}

/// `GET /v2/<name>/manifests/<tag>` for another tag of the same repository.
pub fn manifest_by_tag(reference: &Reference, tag: &Tag) -> Result<Request> {
    manifest_request(reference, ManifestTarget::Tag(tag), Method::GET)
}

/// Any manifest request: every media type of [`manifest::ACCEPT`] as its own `Accept` header
/// (distribution 2.8 answers 404 for an index without them, GHCR `MANIFEST_UNKNOWN`).
pub fn manifest_request(
    reference: &Reference,
    target: ManifestTarget<'_>,
    method: Method,
) -> Result<Request> {
    let target = target.to_string();
    let url = repository_url(reference, &["manifests", &target])?;
    let mut request = Request::new(method, url);
    for media_type in manifest::ACCEPT {
        request
            .headers
            .append(ACCEPT, HeaderValue::from_static(media_type));
    }
    Ok(request)
}

/// A byte range of a blob, `start` to `end` inclusive (`None`: to the end).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ByteRange {
    start: u64,
    end: Option<u64>,
}

impl ByteRange {
    /// From `start` to the end of the blob (`bytes=N-`), to resume a download.
    pub fn from_offset(start: u64) -> Self {
        ByteRange { start, end: None }
    }

    /// `len` bytes from `start` (`bytes=N-M`), for windowed downloads. None if `len` is 0 or the
    /// window would pass `u64::MAX`.
    pub fn window(start: u64, len: u64) -> Option<Self> {
        let end = start.checked_add(len.checked_sub(1)?)?;
        Some(ByteRange {
            start,
            end: Some(end),
        })
    }

    pub fn start(&self) -> u64 {
        self.start
    }

    /// Last byte, inclusive.
    pub fn end(&self) -> Option<u64> {
        self.end
    }

    /// The `Range` header value.
    pub fn header_value(&self) -> String {
        match self.end {
            Some(end) => format!("bytes={}-{end}", self.start),
            None => format!("bytes={}-", self.start),
        }
    }
}

/// `GET /v2/<name>/blobs/<digest>`, optionally for a byte range (resume, windows). The answer
/// is often a redirect to a CDN that refuses an `Authorization` header.
pub fn blob_get(
    reference: &Reference,
    digest: &Digest,
    range: Option<ByteRange>,
) -> Result<Request> {
    let mut request = blob_request(reference, digest, Method::GET)?;
    if let Some(range) = range {
        let value = range.header_value();
        let value = HeaderValue::try_from(value.as_str()).map_err(|_| Error::InvalidHeader {
            name: "Range",
            value,
            reason: "not a valid header value",
        })?;
        request.headers.insert(RANGE, value);
    }
    Ok(request)
}

/// `HEAD /v2/<name>/blobs/<digest>`: does the blob exist, and how large is it.
pub fn blob_head(reference: &Reference, digest: &Digest) -> Result<Request> {
    blob_request(reference, digest, Method::HEAD)
}

fn blob_request(reference: &Reference, digest: &Digest, method: Method) -> Result<Request> {
    let digest = digest.to_string();
    let url = repository_url(reference, &["blobs", &digest])?;
    Ok(Request::new(method, url))
}

/// `GET /v2/<name>/tags/list[?n=<n>][&last=<last>]`: one page of the tag list. Later pages
/// follow the `Link` header (see `tags::next_page`).
pub fn tag_list(reference: &Reference, n: Option<u32>, last: Option<&Tag>) -> Result<Request> {
    let mut url = repository_url(reference, &["tags", "list"])?;
    if n.is_some() || last.is_some() {
        let mut query = url.query_pairs_mut();
        if let Some(n) = n {
            query.append_pair("n", &n.to_string());
        }
        if let Some(last) = last {
            query.append_pair("last", last.as_str());
        }
    }
    let mut request = Request::new(Method::GET, url);
    request
        .headers
        .insert(ACCEPT, HeaderValue::from_static("application/json"));
    Ok(request)
}

/// `GET /v2/<name>/referrers/<digest>[?artifactType=<type>]` (OCI distribution 1.1). A
/// registry without the API answers 404; then use [`referrers_fallback`].
pub fn referrers(
    reference: &Reference,
    subject: &Digest,
    artifact_type: Option<&str>,
) -> Result<Request> {
    let subject = subject.to_string();
    let mut url = repository_url(reference, &["referrers", &subject])?;
    if let Some(artifact_type) = artifact_type {
        url.query_pairs_mut()
            .append_pair("artifactType", artifact_type);
    }
    let mut request = Request::new(Method::GET, url);
    request
        .headers
        .insert(ACCEPT, HeaderValue::from_static(OCI_INDEX));
    Ok(request)
}

/// The referrers tag schema fallback: `GET /v2/<name>/manifests/sha256-<hex>`, an index of the
/// subject's referrers maintained by the pushing clients (distribution 2.8 has no referrers API).
pub fn referrers_fallback(reference: &Reference, subject: &Digest) -> Result<Request> {
    manifest_by_tag(reference, &Tag::referrers_fallback(subject))
}

/// `HEAD` of the fallback tag: whether it exists, without spending a Docker Hub pull (most
/// images have no referrers, so the `GET` is asked only when this finds one).
pub fn referrers_fallback_head(reference: &Reference, subject: &Digest) -> Result<Request> {
    let tag = Tag::referrers_fallback(subject);
    manifest_request(reference, ManifestTarget::Tag(&tag), Method::HEAD)
}

/// `<base>/v2/<repository...>/<tail...>`, each part a path segment (percent-encoded if needed).
fn repository_url(reference: &Reference, tail: &[&str]) -> Result<Url> {
    let mut url = reference.base_url();
    segments(&mut url)?
        .push("v2")
        .extend(reference.repository().split('/'))
        .extend(tail);
    Ok(url)
}

fn segments(url: &mut Url) -> Result<url::PathSegmentsMut<'_>> {
    let input = url.to_string();
    let mut segments = url.path_segments_mut().map_err(|()| Error::InvalidUrl {
        input,
        reason: "the registry URL cannot hold a path".into(),
    })?;
    segments.pop_if_empty();
    Ok(segments)
}

#[cfg(test)]
mod tests;
