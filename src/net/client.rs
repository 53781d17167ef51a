//! The registry client: runs `wharf-oci`'s request descriptions with `fetch`, through the relay.
//!
//! Every request goes out with what is known to work (a cached token for its scope, or the
//! registry's Basic/registry-token header); a 401 runs the auth flow once (challenge -> token,
//! anonymous or with the credentials given for *that* registry, which go to the registry and the
//! token realm its challenge names and nowhere else) and the request is repeated. Tokens are kept
//! in `wharf_oci`'s `TokenCache`, with the browser's clock.
//!
//! Runs in the page and in the download worker (no `window` needed).

use std::cell::RefCell;
use std::collections::BTreeMap;

use http::header::{HeaderValue, WWW_AUTHENTICATE};
use wasm_bindgen::JsValue;
use wharf_oci::auth::{
    bearer_authorization, next_action, Credentials, NextAction, Scope, Timestamp, TokenCache,
    TokenResponse,
};
use wharf_oci::manifest::{self, Expected, Fetched};
use wharf_oci::request::{self, ByteRange, Request};
use wharf_oci::tags::{self, TagList};
use wharf_oci::{Digest, Reference, Verifier};

use super::body::read_limited;
use super::classify::{classify, unauthorised, Context, Target};
use super::{js, IoError, RelayTemplate};

/// Largest error document read to explain a failure.
const MAX_ERROR_BODY: u64 = 64 * 1024;
/// Largest tag list page accepted.
const MAX_TAG_PAGE: u64 = 4 * 1024 * 1024;

/// One page of a tag list, and where the next one is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagPage {
    pub list: TagList,
    /// `None` on the last page.
    pub next: Option<TagCursor>,
}

/// The request for the next page (from the registry's `Link` header), opaque to the UI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagCursor(Request);

/// See the module documentation.
#[derive(Debug, Default)]
pub struct RegistryClient {
    relay: RefCell<RelayTemplate>,
    /// By registry as the user names it (`docker.io`, `ghcr.io`), lowercased.
    credentials: RefCell<BTreeMap<String, Credentials>>,
    tokens: RefCell<TokenCache>,
    /// By API host: an `Authorization` that works on its own (Basic for htpasswd registries, a
    /// registry token).
    standing: RefCell<BTreeMap<String, HeaderValue>>,
}

impl RegistryClient {
    pub fn new(relay: RelayTemplate) -> Self {
        RegistryClient {
            relay: RefCell::new(relay),
            ..RegistryClient::default()
        }
    }

    pub fn relay(&self) -> RelayTemplate {
        self.relay.borrow().clone()
    }

    pub fn set_relay(&self, relay: RelayTemplate) {
        *self.relay.borrow_mut() = relay;
    }

    /// Sets (or with `None` forgets) the credentials for one registry (`docker.io`,
    /// `ghcr.io`, `localhost:5000`: [`Reference::registry`]). Tokens fetched so far are dropped.
    pub fn set_credentials(&self, registry: &str, credentials: Option<Credentials>) {
        let key = registry.to_ascii_lowercase();
        {
            let mut map = self.credentials.borrow_mut();
            match credentials {
                Some(c) => map.insert(key, c),
                None => map.remove(&key),
            };
        }
        *self.tokens.borrow_mut() = TokenCache::new();
        self.standing.borrow_mut().clear();
    }

    pub fn credentials_for(&self, registry: &str) -> Option<Credentials> {
        self.credentials
            .borrow()
            .get(&registry.to_ascii_lowercase())
            .cloned()
    }

    /// `GET /v2/` with the auth flow: checks that the registry (and the relay) answer.
    pub async fn ping(&self, reference: &Reference) -> Result<(), IoError> {
        let request = request::ping(reference)?;
        self.send(reference, &request, Target::Ping, None)
            .await
            .map(drop)
    }

    /// The manifest the reference names (by tag, or by digest when pinned), checked against the
    /// pinned digest and `Docker-Content-Digest`.
    pub async fn manifest(&self, reference: &Reference) -> Result<Fetched, IoError> {
        let request = request::manifest_get(reference)?;
        self.fetch_manifest(reference, &request, reference.digest().cloned())
            .await
    }

    /// Another manifest of the same repository by digest (an index entry).
    pub async fn manifest_by_digest(
        &self,
        reference: &Reference,
        digest: &Digest,
    ) -> Result<Fetched, IoError> {
        let request = request::manifest_by_digest(reference, digest)?;
        self.fetch_manifest(reference, &request, Some(digest.clone()))
            .await
    }

    /// The index of what refers to `subject`: from the referrers API, or where the registry
    /// has none (404), from the `sha256-<hex>` tag; `None` when neither has any.
    pub async fn referrers(
        &self,
        reference: &Reference,
        subject: &Digest,
    ) -> Result<Option<(ReferrersSource, Fetched)>, IoError> {
        let api = request::referrers(reference, subject, None)?;
        match self.fetch_manifest(reference, &api, None).await {
            Ok(fetched) => return Ok(Some((ReferrersSource::Api, fetched))),
            Err(e) if !no_such_document(&e) => return Err(e),
            Err(_) => {}
        }
        // HEAD first: it costs no Docker Hub pull, and most images have no referrers.
        let shown = reference.to_string();
        let target = Target::Manifest { reference: &shown };
        let head = request::referrers_fallback_head(reference, subject)?;
        match self.send(reference, &head, target, None).await {
            Err(e) if no_such_document(&e) => return Ok(None),
            Err(e) => return Err(e),
            Ok(_) => {}
        }
        let fallback = request::referrers_fallback(reference, subject)?;
        match self.fetch_manifest(reference, &fallback, None).await {
            Ok(fetched) => Ok(Some((ReferrersSource::Tag, fetched))),
            Err(e) if no_such_document(&e) => Ok(None),
            Err(e) => Err(e),
        }
    }

    async fn fetch_manifest(
        &self,
        reference: &Reference,
        request: &Request,
        requested: Option<Digest>,
    ) -> Result<Fetched, IoError> {
        let shown = reference.to_string();
        let target = Target::Manifest { reference: &shown };
        let response = self.send(reference, request, target, None).await?;
        let headers = js::response_headers(&response);
        let text = |name| {
            headers
                .get(name)
                .and_then(|v: &HeaderValue| v.to_str().ok())
        };
        let content_type = text("content-type").map(str::to_owned);
        let expected = Expected {
            requested,
            docker_content_digest: text("docker-content-digest").and_then(|d| d.parse().ok()),
        };
        let body = read_limited(&response, manifest::MAX_MANIFEST_BYTES).await?;
        Ok(manifest::decode(content_type.as_deref(), &body, &expected)?)
    }

    /// The first page of the tag list (`page_size` tags, or the registry's default).
    pub async fn tags(
        &self,
        reference: &Reference,
        page_size: Option<u32>,
    ) -> Result<TagPage, IoError> {
        let request = request::tag_list(reference, page_size, None)?;
        self.tag_page(reference, request).await
    }

    /// The page after one returned earlier.
    pub async fn next_tags(
        &self,
        reference: &Reference,
        cursor: &TagCursor,
    ) -> Result<TagPage, IoError> {
        self.tag_page(reference, cursor.0.clone()).await
    }

    async fn tag_page(&self, reference: &Reference, request: Request) -> Result<TagPage, IoError> {
        let response = self.send(reference, &request, Target::Tags, None).await?;
        let headers = js::response_headers(&response);
        let body = read_limited(&response, MAX_TAG_PAGE).await?;
        let list = tags::decode_tag_list(&body)?;
        let next = tags::next_page(&request, &headers)?.map(TagCursor);
        Ok(TagPage { list, next })
    }

    /// A small blob (an image config), read whole and verified. Refuses sizes over `limit`.
    pub async fn blob_bytes(
        &self,
        reference: &Reference,
        digest: &Digest,
        size: u64,
        limit: u64,
    ) -> Result<Vec<u8>, IoError> {
        if size > limit {
            return Err(IoError::Stream {
                message: format!("{digest} has {size} bytes, more than the {limit} read in memory"),
            });
        }
        let response = self.open_blob(reference, digest, 0, None).await?;
        let body = read_limited(&response, limit).await?;
        let mut verifier = Verifier::new(digest.clone(), size);
        verifier.update(&body)?;
        verifier.finish()?;
        Ok(body)
    }

    /// Opens a blob for streaming, from byte `start` (`Range: bytes=<start>-` when > 0). The
    /// answer is a 200, 206 or 416 (for the caller to check with `download::check_answer`);
    /// anything else is returned as an error. `signal` aborts the request and its body.
    pub async fn open_blob(
        &self,
        reference: &Reference,
        digest: &Digest,
        start: u64,
        signal: Option<&web_sys::AbortSignal>,
    ) -> Result<web_sys::Response, IoError> {
        let range = (start > 0).then(|| ByteRange::from_offset(start));
        self.open_blob_range(reference, digest, range, signal).await
    }

    /// [`open_blob`](Self::open_blob) for any byte range (`None`: the whole blob), e.g. the
    /// windows of a download in a browser without stream backpressure.
    pub async fn open_blob_range(
        &self,
        reference: &Reference,
        digest: &Digest,
        range: Option<ByteRange>,
        signal: Option<&web_sys::AbortSignal>,
    ) -> Result<web_sys::Response, IoError> {
        let request = request::blob_get(reference, digest, range)?;
        let shown = digest.to_string();
        self.send(reference, &request, Target::Blob { digest: &shown }, signal)
            .await
    }

    /// The size of a blob from a `HEAD` request's `Content-Length` (for schema 1 layers, whose
    /// manifests give none).
    pub async fn blob_size(&self, reference: &Reference, digest: &Digest) -> Result<u64, IoError> {
        let request = request::blob_head(reference, digest)?;
        let shown = digest.to_string();
        let response = self
            .send(reference, &request, Target::Blob { digest: &shown }, None)
            .await?;
        js::response_headers(&response)
            .get(http::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok())
            .ok_or_else(|| IoError::Protocol {
                message: format!("the registry did not say how large {digest} is"),
            })
    }

    /// Runs a request with the auth flow; returns 2xx answers (and 416 for blobs).
    async fn send(
        &self,
        reference: &Reference,
        request: &Request,
        target: Target<'_>,
        signal: Option<&web_sys::AbortSignal>,
    ) -> Result<web_sys::Response, IoError> {
        let scopes = [Scope::pull(reference.repository())?];
        let url = request.url.to_string();
        let ctx = Context {
            registry: reference.registry(),
            repository: reference.repository(),
            url: &url,
            via_relay: !self.relay.borrow().is_direct(),
            has_credentials: self.credentials_for(reference.registry()).is_some(),
            now_s: js::now_ms() / 1000,
        };
        let known = self.known_authorization(reference, &scopes);
        let mut response = self.execute(request, known.as_ref(), signal).await?;
        if response.status() == 401 {
            let challenge = js::response_headers(&response)
                .get_all(WWW_AUTHENTICATE)
                .iter()
                .map(|v| v.as_bytes().to_vec())
                .collect::<Vec<_>>();
            self.forget_authorization(reference, &scopes);
            let authorization = self
                .authorize(reference, &ctx, &challenge, &scopes, signal)
                .await?;
            response = self.execute(request, Some(&authorization), signal).await?;
            if response.status() == 401 {
                self.forget_authorization(reference, &scopes);
                return Err(unauthorised(&ctx));
            }
        }
        let status = response.status();
        let accepted = (200..300).contains(&status)
            || (status == 416 && matches!(target, Target::Blob { .. }));
        if accepted {
            return Ok(response);
        }
        Err(self.failure(&ctx, target, &response).await)
    }

    /// Answers a 401's challenge: fetches a token, or picks the header that works alone.
    async fn authorize(
        &self,
        reference: &Reference,
        ctx: &Context<'_>,
        challenge: &[Vec<u8>],
        scopes: &[Scope],
        signal: Option<&web_sys::AbortSignal>,
    ) -> Result<HeaderValue, IoError> {
        let credentials = self.credentials_for(reference.registry());
        match next_action(challenge, credentials.as_ref(), scopes)? {
            NextAction::FetchToken { request, .. } => {
                let response = self.execute(&request, None, signal).await?;
                let token_url = request.url.to_string();
                let token_ctx = Context {
                    url: &token_url,
                    ..*ctx
                };
                if !(200..300).contains(&response.status()) {
                    return Err(self.failure(&token_ctx, Target::Token, &response).await);
                }
                let limit = wharf_oci::auth::token::MAX_TOKEN_RESPONSE_BYTES as u64;
                let body = read_limited(&response, limit).await?;
                let token = TokenResponse::parse(&body)?;
                let now = Timestamp::from_unix_seconds(js::now_ms() / 1000);
                self.tokens
                    .borrow_mut()
                    .insert(reference.api_host(), scopes, &token, now);
                Ok(token.authorization()?)
            }
            NextAction::UseBasic(header) | NextAction::UseBearer(header) => {
                self.standing
                    .borrow_mut()
                    .insert(reference.api_host().to_ascii_lowercase(), header.clone());
                Ok(header)
            }
            NextAction::NeedCredentials { .. } => Err(unauthorised(ctx)),
        }
    }

    fn known_authorization(&self, reference: &Reference, scopes: &[Scope]) -> Option<HeaderValue> {
        let now = Timestamp::from_unix_seconds(js::now_ms() / 1000);
        let host = reference.api_host();
        if let Some(token) = self.tokens.borrow().get(host, scopes, now) {
            return bearer_authorization(token).ok();
        }
        self.standing
            .borrow()
            .get(&host.to_ascii_lowercase())
            .cloned()
    }

    fn forget_authorization(&self, reference: &Reference, scopes: &[Scope]) {
        let host = reference.api_host();
        self.tokens.borrow_mut().remove(host, scopes);
        self.standing
            .borrow_mut()
            .remove(&host.to_ascii_lowercase());
    }

    async fn failure(
        &self,
        ctx: &Context<'_>,
        target: Target<'_>,
        response: &web_sys::Response,
    ) -> IoError {
        let headers = js::response_headers(response);
        // The explanation is best effort: an unreadable error body still gives the status.
        let body = read_limited(response, MAX_ERROR_BODY)
            .await
            .unwrap_or_default();
        classify(ctx, target, response.status(), &headers, &body)
    }

    /// One `fetch`, through the relay, with `authorization` if given.
    async fn execute(
        &self,
        request: &Request,
        authorization: Option<&HeaderValue>,
        signal: Option<&web_sys::AbortSignal>,
    ) -> Result<web_sys::Response, IoError> {
        let relay = self.relay();
        let url = relay.apply(&request.url);
        let upstream = request.url.to_string();
        let browser_request = build_request(request, &url, authorization, signal)
            .map_err(|e| js::browser("building a request", &e))?;
        js::fetch(&browser_request).await.map_err(|e| {
            match js::error_name(&e).as_str() {
                "AbortError" => IoError::Cancelled,
                // fetch rejects with a TypeError when no answer can be read: connection
                // refused, DNS, or a cross-origin answer without CORS headers.
                "TypeError" => IoError::Unreachable {
                    url: upstream,
                    via_relay: !relay.is_direct(),
                    detail: js::error_text(&e),
                },
                _ => js::browser("fetch", &e),
            }
        })
    }
}

fn build_request(
    request: &Request,
    url: &str,
    authorization: Option<&HeaderValue>,
    signal: Option<&web_sys::AbortSignal>,
) -> Result<web_sys::Request, JsValue> {
    let headers = web_sys::Headers::new()?;
    for (name, value) in &request.headers {
        if let Ok(value) = value.to_str() {
            headers.append(name.as_str(), value)?;
        }
    }
    if let Some(value) = authorization.and_then(|v| v.to_str().ok()) {
        headers.set("authorization", value)?;
    }
    let init = web_sys::RequestInit::new();
    init.set_method(request.method.as_str());
    init.set_headers(&headers);
    init.set_mode(web_sys::RequestMode::Cors);
    // Cookies of the relay's origin are of no use to a registry.
    init.set_credentials(web_sys::RequestCredentials::Omit);
    // Blobs are large and verified by digest: keep them out of the HTTP cache.
    init.set_cache(web_sys::RequestCache::NoStore);
    init.set_redirect(web_sys::RequestRedirect::Follow);
    if let Some(signal) = signal {
        init.set_signal(Some(signal));
    }
    web_sys::Request::new_with_str_and_init(url, &init)
}

/// Where a referrers index came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReferrersSource {
    /// `GET /v2/<name>/referrers/<digest>`.
    Api,
    /// The `sha256-<hex>` tag (registries without the API).
    Tag,
}

/// A 404 of some kind: the registry has no such document (or no such route).
fn no_such_document(e: &IoError) -> bool {
    matches!(
        e,
        IoError::ManifestUnknown { .. }
            | IoError::NameUnknown { .. }
            | IoError::Http { status: 404, .. }
    )
}
