//! A native client that executes `wharf_oci` request descriptions with reqwest: against a
//! registry directly, or through a relay (`<relay prefix><absolute upstream URL>`, e.g.
//! `http://127.0.0.1:8080/relay/http://127.0.0.1:5000/v2/...`). It runs the 401 -> token flow
//! that `wharf_oci::auth` decides, with optional credentials, and streams blob bodies through
//! `wharf_oci::Verifier`.
//!
//! Redirects are followed here (at most [`MAX_REDIRECTS`]), not by reqwest, so that every hop is
//! recorded and `Authorization` is dropped whenever scheme, host or port changes (as the relay
//! must do too; docs/environment.md section 3).

use std::collections::HashSet;
use std::sync::{Mutex, PoisonError};
use std::time::{SystemTime, UNIX_EPOCH};

use futures_util::StreamExt as _;
use http::header::{AUTHORIZATION, CONTENT_TYPE, COOKIE, LOCATION, WWW_AUTHENTICATE};
use http::{HeaderMap, HeaderValue, Method};
use url::Url;
use wharf_oci::auth::{
    next_action, Credentials, NextAction, Scope, Timestamp, TokenCache, TokenResponse,
};
use wharf_oci::manifest::{decode, Expected, Fetched};
use wharf_oci::request::{
    blob_get, error_from_response, manifest_by_digest, manifest_get, ByteRange,
};
use wharf_oci::{Digest, Reference, Request, Verified, Verifier};

use crate::error::{Error, Result};

/// Redirect hops followed per request.
pub const MAX_REDIRECTS: usize = 5;

/// One HTTP exchange the client made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hop {
    pub method: String,
    /// The upstream URL (not the relay URL that carried it).
    pub url: String,
    pub status: u16,
    /// Whether `Authorization` was sent on this hop.
    pub authorization: bool,
}

#[derive(Default)]
struct State {
    tokens: TokenCache,
    /// Hosts that answered a Basic challenge: credentials go with every request to them.
    basic_hosts: HashSet<String>,
    hops: Vec<Hop>,
}

/// The native client. Cheap to share by reference; holds a token cache.
pub struct Client {
    http: reqwest::Client,
    relay: Option<Url>,
    credentials: Option<Credentials>,
    state: Mutex<State>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("relay", &self.relay)
            .field("credentials", &self.credentials)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// Talks to registries directly.
    pub fn new() -> Result<Client> {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(Error::http("building a client"))?;
        Ok(Client {
            http,
            relay: None,
            credentials: None,
            state: Mutex::new(State::default()),
        })
    }

    /// Sends every request through a relay; `prefix` is e.g. `http://127.0.0.1:8080/relay/`.
    pub fn via_relay(prefix: Url) -> Result<Client> {
        let mut client = Client::new()?;
        client.relay = Some(prefix);
        Ok(client)
    }

    /// Uses a user name and password when a registry asks.
    pub fn with_credentials(mut self, username: &str, password: &str) -> Result<Client> {
        self.credentials = Some(Credentials::user_password(username, password)?);
        Ok(self)
    }

    /// Every exchange so far (redirect hops and token requests included).
    pub fn hops(&self) -> Vec<Hop> {
        self.lock().hops.clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Fetches and checks the reference's manifest (its tag or pinned digest).
    pub async fn pull_manifest(&self, reference: &Reference) -> Result<Fetched> {
        let request = manifest_get(reference)?;
        self.fetch_manifest(reference, &request, reference.digest().cloned())
            .await
    }

    /// Fetches and checks another manifest of the same repository by digest.
    pub async fn pull_manifest_by_digest(
        &self,
        reference: &Reference,
        digest: &Digest,
    ) -> Result<Fetched> {
        let request = manifest_by_digest(reference, digest)?;
        self.fetch_manifest(reference, &request, Some(digest.clone()))
            .await
    }

    async fn fetch_manifest(
        &self,
        reference: &Reference,
        request: &Request,
        requested: Option<Digest>,
    ) -> Result<Fetched> {
        let response = self.execute(request, reference.repository()).await?;
        let response = success(response, &request.url).await?;
        let content_type = header_str(response.headers(), CONTENT_TYPE.as_str());
        let docker_content_digest = header_str(response.headers(), "docker-content-digest")
            .map(|d| d.parse::<Digest>())
            .transpose()?;
        let body = response
            .bytes()
            .await
            .map_err(Error::http(format!("reading {}", request.url)))?;
        let expected = Expected {
            requested,
            docker_content_digest,
        };
        Ok(decode(content_type.as_deref(), &body, &expected)?)
    }

    /// Downloads a blob, verifying size and digest as it streams; keeps nothing.
    pub async fn pull_blob(
        &self,
        reference: &Reference,
        digest: &Digest,
        size: u64,
    ) -> Result<Verified> {
        self.stream_blob(reference, digest, size, |_| {}).await
    }

    /// Downloads a blob into memory (small blobs), verified.
    pub async fn pull_blob_bytes(
        &self,
        reference: &Reference,
        digest: &Digest,
        size: u64,
    ) -> Result<(Verified, Vec<u8>)> {
        let mut bytes = Vec::new();
        let verified = self
            .stream_blob(reference, digest, size, |chunk| {
                bytes.extend_from_slice(chunk)
            })
            .await?;
        Ok((verified, bytes))
    }

    /// Downloads a blob, handing each verified-so-far chunk to `sink`; fails on a size or
    /// digest mismatch (a short body is an error, never success).
    pub async fn stream_blob(
        &self,
        reference: &Reference,
        digest: &Digest,
        size: u64,
        mut sink: impl FnMut(&[u8]),
    ) -> Result<Verified> {
        let request = blob_get(reference, digest, None)?;
        let response = self.execute(&request, reference.repository()).await?;
        let response = success(response, &request.url).await?;
        let mut verifier = Verifier::new(digest.clone(), size);
        let mut body = response.bytes_stream();
        while let Some(chunk) = body.next().await {
            let chunk = chunk.map_err(Error::http(format!("reading {}", request.url)))?;
            verifier.update(&chunk)?;
            sink(&chunk);
        }
        Ok(verifier.finish()?)
    }

    /// A ranged blob GET (expects 206), returned unverified.
    pub async fn pull_blob_range(
        &self,
        reference: &Reference,
        digest: &Digest,
        range: ByteRange,
    ) -> Result<Vec<u8>> {
        let request = blob_get(reference, digest, Some(range))?;
        let response = self.execute(&request, reference.repository()).await?;
        let response = success(response, &request.url).await?;
        Ok(response
            .bytes()
            .await
            .map_err(Error::http(format!("reading {}", request.url)))?
            .to_vec())
    }

    /// Executes `request` for `repository` with the auth flow: a cached token or Basic value
    /// first; on 401 one step of `wharf_oci::auth::next_action`, then one retry.
    pub async fn execute(&self, request: &Request, repository: &str) -> Result<reqwest::Response> {
        let scopes = [Scope::pull(repository)?];
        let host = authority(&request.url);
        let cached = self.cached_authorization(&host, &scopes)?;
        let response = self.send(request, cached.clone()).await?;
        if response.status() != 401 {
            return Ok(response);
        }
        if cached.is_some() {
            self.lock().tokens.remove(&host, &scopes);
        }
        let challenges: Vec<HeaderValue> = response
            .headers()
            .get_all(WWW_AUTHENTICATE)
            .iter()
            .cloned()
            .collect();
        let authorization = match next_action(&challenges, self.credentials.as_ref(), &scopes)? {
            NextAction::FetchToken {
                request: token,
                scopes,
            } => self.fetch_token(&token, &host, &scopes).await?,
            NextAction::UseBasic(value) => {
                self.lock().basic_hosts.insert(host.clone());
                value
            }
            NextAction::UseBearer(value) => value,
            NextAction::NeedCredentials { scheme, realm } => {
                return Err(Error::NeedCredentials {
                    url: request.url.to_string(),
                    scheme: format!("{scheme:?}"),
                    realm,
                })
            }
        };
        let retry = self.send(request, Some(authorization)).await?;
        if retry.status() != 401 {
            return Ok(retry);
        }
        // Retried once already. An anonymous token that was not enough means "needs
        // credentials"; anything else is a refusal of what we sent.
        let challenges: Vec<HeaderValue> = retry
            .headers()
            .get_all(WWW_AUTHENTICATE)
            .iter()
            .cloned()
            .collect();
        match next_action(&challenges, self.credentials.as_ref(), &scopes) {
            Ok(NextAction::NeedCredentials { scheme, realm }) => Err(Error::NeedCredentials {
                url: request.url.to_string(),
                scheme: format!("{scheme:?}"),
                realm,
            }),
            _ => Err(Error::Unauthorized {
                url: request.url.to_string(),
                reason: "the registry refused the token or credentials".to_owned(),
            }),
        }
    }

    fn cached_authorization(&self, host: &str, scopes: &[Scope]) -> Result<Option<HeaderValue>> {
        let state = self.lock();
        if let Some(token) = state.tokens.get(host, scopes, now()) {
            return Ok(Some(wharf_oci::auth::bearer_authorization(token)?));
        }
        match (&self.credentials, state.basic_hosts.contains(host)) {
            (Some(credentials), true) => Ok(Some(credentials.authorization()?)),
            _ => Ok(None),
        }
    }

    async fn fetch_token(
        &self,
        token: &Request,
        host: &str,
        scopes: &[Scope],
    ) -> Result<HeaderValue> {
        let response = self.send(token, None).await?;
        if response.status() == 401 || response.status() == 403 {
            return Err(Error::Unauthorized {
                url: token.url.to_string(),
                reason: format!("the token server answered {}", response.status().as_u16()),
            });
        }
        let response = success(response, &token.url).await?;
        let body = response
            .bytes()
            .await
            .map_err(Error::http("reading a token answer"))?;
        let answer = TokenResponse::parse(&body)?;
        self.lock().tokens.insert(host, scopes, &answer, now());
        Ok(answer.authorization()?)
    }

    /// Sends one request (with `authorization` if given), following redirects.
    async fn send(
        &self,
        request: &Request,
        authorization: Option<HeaderValue>,
    ) -> Result<reqwest::Response> {
        let mut url = request.url.clone();
        let mut method = request.method.clone();
        let mut headers = request.headers.clone();
        if let Some(value) = authorization {
            headers.insert(AUTHORIZATION, value);
        }
        for _ in 0..=MAX_REDIRECTS {
            let target = self.route(&url)?;
            let response = self
                .http
                .request(method.clone(), target.clone())
                .headers(headers.clone())
                .send()
                .await
                .map_err(Error::http(format!("{method} {target}")))?;
            self.lock().hops.push(Hop {
                method: method.to_string(),
                url: url.to_string(),
                status: response.status().as_u16(),
                authorization: headers.contains_key(AUTHORIZATION),
            });
            let Some(location) = redirect_target(&response, &url)? else {
                return Ok(response);
            };
            if authority_with_scheme(&location) != authority_with_scheme(&url) {
                headers.remove(AUTHORIZATION);
                headers.remove(COOKIE);
            }
            if response.status() == 303 && method != Method::HEAD {
                method = Method::GET;
            }
            url = location;
        }
        Err(Error::TooManyRedirects {
            url: request.url.to_string(),
        })
    }

    /// The URL actually requested: the upstream URL, or the relay prefix + the upstream URL.
    fn route(&self, upstream: &Url) -> Result<Url> {
        match &self.relay {
            None => Ok(upstream.clone()),
            Some(prefix) => {
                let text = format!("{prefix}{upstream}");
                Url::parse(&text).map_err(|e| Error::protocol(format!("bad relay URL {text}: {e}")))
            }
        }
    }
}

/// `Some(next URL)` for a 3xx answer with a `Location`.
fn redirect_target(response: &reqwest::Response, base: &Url) -> Result<Option<Url>> {
    if !response.status().is_redirection() {
        return Ok(None);
    }
    let Some(value) = header_str(response.headers(), LOCATION.as_str()) else {
        return Ok(None);
    };
    base.join(&value)
        .map(Some)
        .map_err(|e| Error::protocol(format!("bad Location {value:?}: {e}")))
}

/// A 2xx answer, or the registry's error turned into an error.
async fn success(response: reqwest::Response, url: &Url) -> Result<reqwest::Response> {
    if response.status().is_success() {
        return Ok(response);
    }
    let status = response.status().as_u16();
    let body = response
        .bytes()
        .await
        .map_err(Error::http(format!("reading the error answer of {url}")))?;
    Err(error_from_response(status, &body).into())
}

fn header_str(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

/// `host[:port]` of a URL: the token cache key.
fn authority(url: &Url) -> String {
    match (url.host_str(), url.port()) {
        (Some(host), Some(port)) => format!("{host}:{port}"),
        (Some(host), None) => host.to_owned(),
        _ => String::new(),
    }
}

fn authority_with_scheme(url: &Url) -> (String, Option<String>, Option<u16>) {
    (
        url.scheme().to_owned(),
        url.host_str().map(str::to_owned),
        url.port_or_known_default(),
    )
}

fn now() -> Timestamp {
    let seconds = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    Timestamp::from_unix_seconds(seconds)
}
