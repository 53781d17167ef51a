//! The relay route: `GET`/`HEAD` `/relay/<absolute upstream URL>` and its `OPTIONS` preflight.

use crate::body::{self, Transfer};
use crate::cors::{self, AllowOrigin, Decision};
use crate::error::RelayError;
use crate::headers;
use crate::limits::{self, Key, Limiter, Permit};
use crate::policy::{canonical_host, Hop, Policy};
use crate::resolve::{self, ResolveError};
use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use std::error::Error as StdError;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;
use url::Url;

/// Shared state of the relay route.
#[derive(Debug)]
pub struct Relay {
    pub policy: Arc<Policy>,
    pub client: reqwest::Client,
    pub limit: Arc<Semaphore>,
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
        return RelayError::OriginNotAllowed { origin }.into_response();
    }
    let keys = relay.limit_keys(&parts, &decision);
    let mut response = match parts.method {
        Method::OPTIONS => return preflight(&parts.headers, &decision),
        Method::GET | Method::HEAD => match relay
            .forward(&parts.method, &parts.uri, &parts.headers, keys)
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
    e.into_response()
}

fn preflight(request: &HeaderMap, decision: &Decision) -> Response {
    let headers = match decision {
        Decision::Allowed(origin) => cors::preflight(request, origin),
        Decision::NoOrigin | Decision::Refused(_) => HeaderMap::new(),
    };
    (StatusCode::NO_CONTENT, headers).into_response()
}

/// The upstream URL in `/relay/<url>`, with the request's query string carried over.
pub fn parse_target(uri: &Uri) -> Result<Url, RelayError> {
    let path = uri.path();
    let rest = path.strip_prefix("/relay").unwrap_or(path);
    let rest = rest.strip_prefix('/').unwrap_or(rest);
    if rest.is_empty() {
        return Err(RelayError::MissingTarget);
    }
    let text = match uri.query() {
        Some(query) => format!("{rest}?{query}"),
        None => rest.to_owned(),
    };
    Url::parse(&text).map_err(|e| RelayError::BadTarget {
        reason: e.to_string(),
    })
}

/// Where a redirect response points, if it is one the relay follows.
fn redirect_target(response: &reqwest::Response, current: &Url) -> Result<Option<Url>, RelayError> {
    let location = response.headers().get(header::LOCATION);
    redirect_location(response.status().as_u16(), location, current)
}

/// The URL an answer with `status` and `Location` sends the relay to, resolved against `current`;
/// None when the relay does not follow it (not a redirect status, or no `Location`).
pub fn redirect_location(
    status: u16,
    location: Option<&HeaderValue>,
    current: &Url,
) -> Result<Option<Url>, RelayError> {
    const FOLLOWED: [u16; 5] = [301, 302, 303, 307, 308];
    let Some(location) = location.filter(|_| FOLLOWED.contains(&status)) else {
        return Ok(None);
    };
    let bad = |reason: &str| RelayError::BadRedirect {
        reason: reason.to_owned(),
    };
    let location = location.to_str().map_err(|_| bad("location is not text"))?;
    current
        .join(location)
        .map(Some)
        .map_err(|_| bad("location is not a URL"))
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
    fn limit_keys(&self, parts: &axum::http::request::Parts, decision: &Decision) -> Vec<Key> {
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

    /// Takes the client's slots, then a global one; refusals never count against either.
    fn admit(&self, keys: Vec<Key>) -> Result<Permit, RelayError> {
        let client = self
            .limiter
            .admit(keys)
            .map_err(|l| RelayError::RateLimited {
                scope: l.scope,
                retry_after: l.retry_after,
            })?;
        let global = Arc::clone(&self.limit)
            .try_acquire_owned()
            .map_err(|_| RelayError::Busy)?;
        Ok(Permit::new(global, client))
    }

    async fn forward(
        &self,
        method: &Method,
        uri: &Uri,
        incoming: &HeaderMap,
        keys: Vec<Key>,
    ) -> Result<Response, RelayError> {
        let started = Instant::now();
        let mut url = parse_target(uri)?;
        let mut method = method.clone();
        let mut headers = headers::forward_request(incoming);
        let mut redirects = 0;
        // Checked before taking a permit, so refusals never count against the bound.
        self.policy.check(&url, Hop::Client)?;
        let permit = self.admit(keys)?;
        loop {
            let upstream = self.send(&method, &url, &headers).await?;
            let Some(next) = redirect_target(&upstream, &url)? else {
                let (host, path) = describe(&url);
                let transfer = Transfer {
                    method: method.to_string(),
                    host,
                    path,
                    status: upstream.status().as_u16(),
                    started,
                };
                return Ok(self.respond(upstream, &method, permit, transfer));
            };
            if redirects >= self.max_redirects {
                return Err(RelayError::TooManyRedirects {
                    max: self.max_redirects,
                });
            }
            redirects += 1;
            self.policy.check(&next, Hop::Redirect)?;
            let stripped = headers::strip_on_cross_origin(&mut headers, &url, &next);
            let ((from_host, from_path), (to_host, to_path)) = (describe(&url), describe(&next));
            tracing::debug!(
                status = upstream.status().as_u16(), %from_host, %from_path, %to_host, %to_path,
                credentials_stripped = stripped, "following redirect"
            );
            if upstream.status() == StatusCode::SEE_OTHER && method != Method::HEAD {
                method = Method::GET;
            }
            url = next;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets() {
        let cases: &[(&str, Result<&str, &str>)] = &[
            (
                "/relay/https://registry-1.docker.io/v2/library/alpine/manifests/latest",
                Ok("https://registry-1.docker.io/v2/library/alpine/manifests/latest"),
            ),
            (
                "/relay/https://auth.docker.io/token?service=registry.docker.io&scope=repository:library/alpine:pull",
                Ok("https://auth.docker.io/token?service=registry.docker.io&scope=repository:library/alpine:pull"),
            ),
            ("/relay/http://127.0.0.1:5000/v2/", Ok("http://127.0.0.1:5000/v2/")),
            ("/relay/http://2130706433/", Ok("http://127.0.0.1/")),
            ("/relay/https://registry-1.docker.io@10.0.0.1/", Ok("https://registry-1.docker.io@10.0.0.1/")),
            ("/relay/", Err("missing target url")),
            ("/relay", Err("missing target url")),
            ("/relay/not%20a%20url", Err("bad target url")),
            ("/relay/registry-1.docker.io/v2/", Err("bad target url")),
        ];
        for (uri, expected) in cases {
            let got = parse_target(&uri.parse::<Uri>().unwrap());
            let got = got.map(|u| u.to_string()).map_err(|e| e.to_string());
            assert_eq!(
                got,
                expected.map(str::to_owned).map_err(str::to_owned),
                "{uri}"
            );
        }
    }

    #[test]
    fn redirect_locations() {
        let current = Url::parse("https://ghcr.io/v2/x/blobs/sha256:00?n=1").unwrap();
        let value = |s: &str| HeaderValue::from_str(s).unwrap();
        // (status, Location, where it leads: Ok(None) not followed, Err a bad Location)
        type Case<'a> = (u16, Option<&'a str>, Result<Option<&'a str>, ()>);
        let cases: &[Case] = &[
            (
                307,
                Some("https://pkg-containers.githubusercontent.com/b?sig=1"),
                Ok(Some("https://pkg-containers.githubusercontent.com/b?sig=1")),
            ),
            (302, Some("/v2/y"), Ok(Some("https://ghcr.io/v2/y"))),
            (
                308,
                Some("//other.example/z"),
                Ok(Some("https://other.example/z")),
            ),
            (200, Some("https://elsewhere.example/"), Ok(None)),
            (304, Some("/v2/y"), Ok(None)),
            (301, None, Ok(None)),
            (303, Some("http://[::1"), Err(())),
        ];
        for (status, location, expected) in cases {
            let location = location.map(value);
            let got = redirect_location(*status, location.as_ref(), &current)
                .map(|u| u.map(|u| u.to_string()))
                .map_err(|_| ());
            let expected = expected.map(|u| u.map(str::to_owned));
            assert_eq!(got, expected, "{status} {location:?}");
        }
        let not_text = HeaderValue::from_bytes(b"/caf\xc3\xa9").unwrap();
        assert!(redirect_location(302, Some(&not_text), &current).is_err());
    }
}
