//! The relay route: `GET`/`HEAD` `/relay/<absolute upstream URL>` and its `OPTIONS` preflight.

use crate::body::{self, Transfer};
use crate::error;
use crate::limits::{self, Key, Limiter, Permit};
use crate::resolve::{self, ResolveError};
use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderName, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use std::error::Error as StdError;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};
use url::Url;
use wharf_relay_rules::cors::{self, AllowOrigin, Decision};
use wharf_relay_rules::headers;
use wharf_relay_rules::policy::{canonical_host, Policy};
use wharf_relay_rules::{Chain, Outgoing, RelayError, Step};

/// Shared state of the relay route.
#[derive(Debug)]
pub struct Relay {
    pub policy: Arc<Policy>,
    pub client: reqwest::Client,
    pub limiter: Arc<Limiter>,
    pub client_ip_header: Option<HeaderName>,
    pub origins: Vec<AllowOrigin>,
    pub idle: Duration,
    pub connect: Duration,
    pub max_redirects: usize,
}

/// Entry point for every method on `/relay/...`.
pub async fn handle(State(relay): State<Arc<Relay>>, request: Request) -> Response {
    let (parts, _body) = request.into_parts();
    let decision = cors::decide(&parts.headers, &relay.origins);
    if let Decision::Refused(origin) = decision {
        tracing::info!(method = %parts.method, "origin refused");
        return error::response(&RelayError::OriginNotAllowed { origin });
    }
    let mut response = match parts.method {
        Method::OPTIONS => return preflight(&parts.headers, &decision),
        Method::GET | Method::HEAD => match relay
            .forward(&parts, relay.limit_keys(&parts, &decision))
            .await
        {
            Ok(response) => response,
            Err(e) => refusal(&parts.method, e),
        },
        ref other => refusal(
            other,
            RelayError::MethodNotAllowed {
                method: other.to_string(),
            },
        ),
    };
    if let Decision::Allowed(origin) = &decision {
        cors::apply_actual(response.headers_mut(), origin);
    }
    response
}

fn refusal(method: &Method, e: RelayError) -> Response {
    // The error's fields hold hosts and addresses only, never header values or query strings.
    if let RelayError::RateLimited { scope, .. } = &e {
        // A client over its limit may send thousands a second: one line each would flood the log.
        tracing::debug!(method = %method, scope = scope.as_str(), "rate limited");
    } else {
        tracing::info!(method = %method, status = e.status().as_u16(), error = %e, detail = %e.body(), "refused");
    }
    error::response(&e)
}

fn preflight(request: &HeaderMap, decision: &Decision) -> Response {
    let headers = match decision {
        Decision::Allowed(origin) => cors::preflight(request, origin),
        Decision::NoOrigin | Decision::Refused(_) => HeaderMap::new(),
    };
    (StatusCode::NO_CONTENT, headers).into_response()
}

/// Host (canonical) and path, without query, for logs and errors.
fn describe(url: &Url) -> (String, String) {
    (
        canonical_host(url).unwrap_or_default(),
        url.path().to_owned(),
    )
}

impl Relay {
    /// What the per-client limits count this request under: its client address and its `Origin`.
    fn limit_keys(&self, parts: &Parts, decision: &Decision) -> Vec<Key> {
        // Without connection info (a router driven in-process) every request is one client.
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |c| c.0.ip());
        let client = limits::client_key(peer, &parts.headers, self.client_ip_header.as_ref());
        let mut keys = vec![Key::Client(client)];
        // The page's own origin, also when the relay answers `*` to every origin.
        let origin = parts
            .headers
            .get(header::ORIGIN)
            .and_then(|o| o.to_str().ok());
        if let (Decision::Allowed(_), Some(origin)) = (decision, origin) {
            keys.push(Key::Origin(origin.to_ascii_lowercase()));
        }
        keys
    }

    async fn forward(&self, request: &Parts, keys: Vec<Key>) -> Result<Response, RelayError> {
        let started = Instant::now();
        let mut chain = Chain::start(
            &self.policy,
            self.max_redirects,
            request.method.clone(),
            &request.uri,
            &request.headers,
        )?;
        // The target was checked before taking a permit, so refusals never count against the bound.
        let permit = self.limiter.admit(keys)?;
        loop {
            let Outgoing {
                method,
                url,
                headers,
            } = chain.request().clone();
            let upstream = self.send(&method, &url, &headers).await?;
            let location = upstream.headers().get(header::LOCATION);
            match chain.answered(upstream.status().as_u16(), location)? {
                Step::Deliver => {
                    let (host, path) = describe(&url);
                    let transfer = Transfer {
                        method: method.to_string(),
                        host,
                        path,
                        status: upstream.status().as_u16(),
                        started,
                    };
                    return Ok(self.respond(upstream, &method, permit, transfer));
                }
                Step::Follow(hop) => {
                    let ((from_host, from_path), (to_host, to_path)) =
                        (describe(&hop.from), describe(&chain.request().url));
                    tracing::debug!(
                        status = hop.status, %from_host, %from_path, %to_host, %to_path,
                        credentials_stripped = hop.credentials_stripped, "following redirect"
                    );
                }
            }
        }
    }

    async fn send(
        &self,
        method: &Method,
        url: &Url,
        headers: &HeaderMap,
    ) -> Result<reqwest::Response, RelayError> {
        let (host, _) = describe(url);
        let request = self
            .client
            .request(method.clone(), url.clone())
            .headers(headers.clone());
        match tokio::time::timeout(self.connect + self.idle, request.send()).await {
            Err(_) => Err(RelayError::Timeout { host }),
            Ok(Err(e)) => Err(client_error(&e, host)),
            Ok(Ok(response)) => Ok(response),
        }
    }

    fn respond(
        &self,
        upstream: reqwest::Response,
        method: &Method,
        permit: Permit,
        transfer: Transfer,
    ) -> Response {
        let status = upstream.status();
        let headers = headers::filter_response(upstream.headers());
        let bodiless = *method == Method::HEAD
            || status == StatusCode::NO_CONTENT
            || status == StatusCode::NOT_MODIFIED;
        let body = if bodiless {
            transfer.finish(0, "complete");
            Body::empty()
        } else {
            let expected = content_length(&headers);
            body::relay(
                upstream.bytes_stream(),
                expected,
                self.idle,
                permit,
                transfer,
            )
        };
        let mut response = Response::new(body);
        *response.status_mut() = status;
        *response.headers_mut() = headers;
        response
    }
}

fn content_length(headers: &HeaderMap) -> Option<u64> {
    headers
        .get(header::CONTENT_LENGTH)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()
}

/// Maps a client error; the URL (which may hold a presigned query) is never put in the message.
fn client_error(e: &reqwest::Error, host: String) -> RelayError {
    match resolve::find(e) {
        Some(ResolveError::Refused { address, .. }) => {
            return RelayError::AddressNotAllowed {
                host,
                address: *address,
            }
        }
        Some(ResolveError::NotFound { .. }) => return RelayError::NotResolved { host },
        None => {}
    }
    if e.is_timeout() {
        return RelayError::Timeout { host };
    }
    let reason = root_cause(e);
    let reason = if e.is_connect() {
        format!("connect failed: {reason}")
    } else {
        reason
    };
    RelayError::Upstream { host, reason }
}

/// The innermost error message (an OS or protocol error; reqwest's own message names the URL).
fn root_cause(e: &(dyn StdError + 'static)) -> String {
    let mut current = e;
    while let Some(next) = current.source() {
        current = next;
    }
    current.to_string()
}
