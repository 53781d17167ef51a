//! Helpers shared by the test kit's own integration tests (raw HTTP, no wharf_oci client).
#![allow(dead_code)]

use std::collections::HashMap;

use futures_util::StreamExt as _;
use wharf_oci::{Digest, Verified, Verifier};

/// A client that does not follow redirects, so tests see them.
pub fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// The parameters of a `WWW-Authenticate` challenge (scheme lowercased under `"scheme"`).
pub fn challenge(response: &reqwest::Response) -> HashMap<String, String> {
    let value = response.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .to_owned();
    let (scheme, rest) = value.split_once(' ').unwrap();
    let mut out = HashMap::from([("scheme".to_owned(), scheme.to_lowercase())]);
    for part in rest.split("\",") {
        let (k, v) = part.split_once('=').unwrap();
        out.insert(k.trim().to_owned(), v.trim_matches('"').to_owned());
    }
    out
}

/// Streams a response body through a Verifier.
pub async fn verify_body(
    response: reqwest::Response,
    digest: &Digest,
    size: u64,
) -> wharf_oci::Result<Verified> {
    let mut verifier = Verifier::new(digest.clone(), size);
    let mut body = response.bytes_stream();
    while let Some(chunk) = body.next().await {
        verifier.update(&chunk.unwrap())?;
    }
    verifier.finish()
}

pub const MANIFEST_ACCEPT: &[&str] = &[
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.docker.distribution.manifest.v1+prettyjws",
    "application/vnd.docker.distribution.manifest.v1+json",
];

/// A manifest GET with the full Accept list, as separate headers.
pub fn manifest_get(http: &reqwest::Client, url: url::Url) -> reqwest::RequestBuilder {
    MANIFEST_ACCEPT
        .iter()
        .fold(http.get(url), |r, accept| r.header("accept", *accept))
}
