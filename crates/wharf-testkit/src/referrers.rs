//! Referrers as ORAS and cosign push them to a registry without the referrers API
//! (distribution 2.8): each artifact is an OCI image manifest with `artifactType`, the empty
//! config, one layer and a `subject`; the subject's referrers are listed in an index under the
//! tag `sha256-<hex>` (the OCI distribution 1.1 tag schema).

use serde_json::{json, Value};

use crate::error::Result;
use crate::registry::Registry;
use crate::seed::{SeededBlob, SeededManifest};

const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
const EMPTY: &str = "application/vnd.oci.empty.v1+json";

/// One artifact to push.
#[derive(Debug, Clone)]
pub struct ReferrerSpec {
    pub artifact_type: String,
    /// The layer's media type.
    pub layer_type: String,
    /// `org.opencontainers.image.title` of the layer.
    pub title: String,
    pub bytes: Vec<u8>,
    pub created: String,
}

/// An artifact the kit pushed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeededReferrer {
    pub manifest: SeededManifest,
    pub layer: SeededBlob,
    pub artifact_type: String,
}

impl Registry {
    /// Pushes each artifact with `subject` as its subject, then the `sha256-<hex>` index of all
    /// of them. Returns them in order, and the index.
    pub async fn push_referrers(
        &self,
        repo: &str,
        subject: &SeededManifest,
        specs: &[ReferrerSpec],
    ) -> Result<(Vec<SeededReferrer>, SeededManifest)> {
        let empty = self.push_blob(repo, b"{}".to_vec()).await?;
        let mut pushed = Vec::new();
        for spec in specs {
            pushed.push(self.push_artifact(repo, subject, &empty, spec).await?);
        }
        let entries: Vec<Value> = pushed
            .iter()
            .zip(specs)
            .map(|(r, spec)| {
                let mut entry = r.manifest.descriptor();
                entry["artifactType"] = json!(r.artifact_type);
                entry["annotations"] = json!({"org.opencontainers.image.created": spec.created});
                entry
            })
            .collect();
        let index = json!({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": entries});
        let tag = format!("{}-{}", subject.digest.algorithm(), subject.digest.hex());
        let bytes = serde_json::to_vec(&index)?;
        let index = self.push_manifest(repo, &tag, OCI_INDEX, bytes).await?;
        Ok((pushed, index))
    }

    async fn push_artifact(
        &self,
        repo: &str,
        subject: &SeededManifest,
        empty: &SeededBlob,
        spec: &ReferrerSpec,
    ) -> Result<SeededReferrer> {
        let mut layer = self.push_blob(repo, spec.bytes.clone()).await?;
        layer.media_type = spec.layer_type.clone();
        let mut layer_descriptor = layer.descriptor();
        layer_descriptor["annotations"] = json!({"org.opencontainers.image.title": spec.title});
        let mut config = empty.descriptor();
        config["mediaType"] = json!(EMPTY);
        let manifest = json!({
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "artifactType": spec.artifact_type,
            "config": config,
            "layers": [layer_descriptor],
            "subject": subject.descriptor(),
            "annotations": {"org.opencontainers.image.created": spec.created},
        });
        let bytes = serde_json::to_vec(&manifest)?;
        let manifest = self
            .push_manifest_by_digest(repo, OCI_MANIFEST, bytes)
            .await?;
        Ok(SeededReferrer {
            manifest,
            layer,
            artifact_type: spec.artifact_type.clone(),
        })
    }
}

/// Whether a request asks the referrers API: `GET /v2/<name>/referrers/<digest>`.
pub(crate) fn is_api(method: &http::Method, path: &str) -> bool {
    method == http::Method::GET && path.starts_with("/v2/") && path.contains("/referrers/")
}

/// Answers the referrers API for [`crate::Front::serve_referrers_api`] from what the registry
/// holds under the `sha256-<hex>` tag (distribution 2.8 has no API of its own): that index, or
/// an empty one, as the API answers when nothing refers to the digest.
pub(crate) async fn answer_api(
    http: &reqwest::Client,
    upstream: &url::Url,
    path: &str,
    headers: &http::HeaderMap,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let Some((repository, digest)) = path.split_once("/referrers/") else {
        return http::StatusCode::NOT_FOUND.into_response();
    };
    let mut url = upstream.clone();
    url.set_path(&format!(
        "{repository}/manifests/{}",
        digest.replacen(':', "-", 1)
    ));
    let mut request = http.get(url).header(http::header::ACCEPT, OCI_INDEX);
    if let Some(auth) = headers.get(http::header::AUTHORIZATION) {
        request = request.header(http::header::AUTHORIZATION, auth);
    }
    let body = match request.send().await {
        Ok(r) if r.status().is_success() => r.bytes().await.map(|b| b.to_vec()),
        Ok(r) if r.status() == http::StatusCode::NOT_FOUND => Ok(serde_json::to_vec(
            &json!({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": []}),
        )
        .unwrap_or_default()),
        Ok(r) => return r.status().into_response(),
        Err(e) => return (http::StatusCode::BAD_GATEWAY, e.to_string()).into_response(),
    };
    match body {
        Ok(body) => ([(http::header::CONTENT_TYPE, OCI_INDEX)], body).into_response(),
        Err(e) => (http::StatusCode::BAD_GATEWAY, e.to_string()).into_response(),
    }
}
