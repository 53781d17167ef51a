//! CORS decisions. Hand-written rather than tower-http's `CorsLayer` because the relay's own origin is
//! always allowed (it depends on the request's Host), and a refused origin must get a 403 JSON answer on
//! the relay routes instead of a silently unusable response.

use http::header::{self, HeaderMap, HeaderName, HeaderValue};
use std::fmt;
use std::str::FromStr;
use url::Url;

pub const ALLOW_METHODS: &str = "GET, HEAD, OPTIONS";
pub const ALLOW_HEADERS: &str = "Authorization, Accept, Range, Content-Type";
pub const EXPOSE_HEADERS: &str = "WWW-Authenticate, Docker-Content-Digest, Content-Length, \
    Content-Range, Content-Type, Link, Retry-After, RateLimit-Limit, RateLimit-Remaining, ETag";
pub const MAX_AGE: &str = "600";

const REQUEST_PRIVATE_NETWORK: &str = "access-control-request-private-network";
const ALLOW_PRIVATE_NETWORK: &str = "access-control-allow-private-network";

/// One `--allow-origin` value: an origin (`https://page.example`, `http://127.0.0.1:8080`) or `*`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AllowOrigin {
    Any,
    Origin(String),
}

/// Why an `--allow-origin` value was rejected.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error("invalid allowed origin {0:?}: expected scheme://host[:port] or *")]
pub struct AllowOriginError(String);

impl FromStr for AllowOrigin {
    type Err = AllowOriginError;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        let value = value.trim();
        if value == "*" {
            return Ok(Self::Any);
        }
        let err = || AllowOriginError(value.to_owned());
        let url = Url::parse(value).map_err(|_| err())?;
        let bare = url.path() == "/" && url.query().is_none() && url.fragment().is_none();
        if !bare || !url.username().is_empty() || url.password().is_some() {
            return Err(err());
        }
        canonical_origin(value).map(Self::Origin).ok_or_else(err)
    }
}

impl fmt::Display for AllowOrigin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Any => f.write_str("*"),
            Self::Origin(origin) => f.write_str(origin),
        }
    }
}

/// `scheme://host[:port]` as browsers serialise origins (default ports left out); None for opaque ones.
fn canonical_origin(text: &str) -> Option<String> {
    let url = Url::parse(text).ok()?;
    let origin = url.origin();
    origin.is_tuple().then(|| origin.ascii_serialization())
}

/// What to do with a request's `Origin`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision {
    /// No `Origin` header: same-origin GET or a non-browser client; no CORS headers needed.
    NoOrigin,
    /// Answer with this `Access-Control-Allow-Origin` value.
    Allowed(HeaderValue),
    /// Refused: no CORS headers at all.
    Refused(String),
}

/// Decides on a request's origin. The relay's own origin (`http(s)://<Host>`) is always allowed.
pub fn decide(headers: &HeaderMap, allowed: &[AllowOrigin]) -> Decision {
    let Some(origin) = headers.get(header::ORIGIN) else {
        return Decision::NoOrigin;
    };
    let text = origin.to_str().unwrap_or_default().to_owned();
    if allowed.contains(&AllowOrigin::Any) {
        return Decision::Allowed(HeaderValue::from_static("*"));
    }
    let Some(canonical) = canonical_origin(&text) else {
        return Decision::Refused(text);
    };
    let own = own_origins(headers);
    let listed = allowed
        .iter()
        .any(|a| matches!(a, AllowOrigin::Origin(o) if *o == canonical));
    if own.contains(&canonical) || listed {
        Decision::Allowed(origin.clone())
    } else {
        Decision::Refused(text)
    }
}

/// The relay's own origin as the browser sees it, for http and for https (behind a TLS terminator).
fn own_origins(headers: &HeaderMap) -> Vec<String> {
    let Some(host) = headers.get(header::HOST).and_then(|h| h.to_str().ok()) else {
        return Vec::new();
    };
    ["http", "https"]
        .iter()
        .filter_map(|scheme| canonical_origin(&format!("{scheme}://{host}")))
        .collect()
}

/// Headers for an actual (non-preflight) response to an allowed origin.
pub fn apply_actual(headers: &mut HeaderMap, allow_origin: &HeaderValue) {
    headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, allow_origin.clone());
    headers.insert(
        header::ACCESS_CONTROL_EXPOSE_HEADERS,
        HeaderValue::from_static(EXPOSE_HEADERS),
    );
    headers.append(header::VARY, HeaderValue::from_static("Origin"));
}

/// Headers for a preflight answer to an allowed origin.
pub fn preflight(request: &HeaderMap, allow_origin: &HeaderValue) -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, allow_origin.clone());
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_METHODS,
        HeaderValue::from_static(ALLOW_METHODS),
    );
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_HEADERS,
        HeaderValue::from_static(ALLOW_HEADERS),
    );
    headers.insert(
        header::ACCESS_CONTROL_MAX_AGE,
        HeaderValue::from_static(MAX_AGE),
    );
    headers.append(header::VARY, HeaderValue::from_static("Origin"));
    // Chromium's Private Network Access: a public page may use a relay on loopback.
    if request
        .get(REQUEST_PRIVATE_NETWORK)
        .is_some_and(|v| v == "true")
    {
        headers.insert(
            HeaderName::from_static(ALLOW_PRIVATE_NETWORK),
            HeaderValue::from_static("true"),
        );
    }
    headers
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(origin: Option<&str>, host: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::HOST, HeaderValue::from_str(host).unwrap());
        if let Some(origin) = origin {
            headers.insert(header::ORIGIN, HeaderValue::from_str(origin).unwrap());
        }
        headers
    }

    fn origins(list: &[&str]) -> Vec<AllowOrigin> {
        list.iter().map(|o| o.parse().unwrap()).collect()
    }

    #[test]
    fn parses_allow_origin() {
        let cases: &[(&str, Option<&str>)] = &[
            ("*", Some("*")),
            ("https://page.example", Some("https://page.example")),
            ("https://Page.Example:443/", Some("https://page.example")),
            ("http://127.0.0.1:8080", Some("http://127.0.0.1:8080")),
            ("https://page.example/path", None),
            ("page.example", None),
            ("https://u@page.example", None),
            ("null", None),
        ];
        for (input, expected) in cases {
            let got = input.parse::<AllowOrigin>().ok().map(|o| o.to_string());
            assert_eq!(got.as_deref(), *expected, "{input}");
        }
    }

    #[test]
    fn decisions() {
        let listed = origins(&["https://page.example"]);
        // (Origin, Host, allowed list, expected Access-Control-Allow-Origin or "refused")
        type Case<'a> = (Option<&'a str>, &'a str, &'a [AllowOrigin], Option<&'a str>);
        let cases: &[Case] = &[
            (None, "127.0.0.1:8080", &listed, None),
            (
                Some("http://127.0.0.1:8080"),
                "127.0.0.1:8080",
                &[],
                Some("http://127.0.0.1:8080"),
            ),
            (
                Some("https://relay.example"),
                "relay.example",
                &[],
                Some("https://relay.example"),
            ),
            (
                Some("http://relay.example"),
                "relay.example:80",
                &[],
                Some("http://relay.example"),
            ),
            (
                Some("https://page.example"),
                "127.0.0.1:8080",
                &listed,
                Some("https://page.example"),
            ),
            (
                Some("https://evil.example"),
                "127.0.0.1:8080",
                &listed,
                Some("refused"),
            ),
            (
                Some("http://127.0.0.1:8081"),
                "127.0.0.1:8080",
                &listed,
                Some("refused"),
            ),
            (
                Some("https://page.example.evil"),
                "127.0.0.1:8080",
                &listed,
                Some("refused"),
            ),
            (Some("null"), "127.0.0.1:8080", &listed, Some("refused")),
        ];
        for (origin, host, allowed, expected) in cases {
            let decision = decide(&request(*origin, host), allowed);
            let got = match &decision {
                Decision::NoOrigin => None,
                Decision::Allowed(value) => Some(value.to_str().unwrap()),
                Decision::Refused(_) => Some("refused"),
            };
            assert_eq!(got, *expected, "{origin:?} at {host}");
        }
    }

    #[test]
    fn star_allows_any_origin_with_star() {
        let decision = decide(
            &request(Some("https://any.example"), "r:1"),
            &origins(&["*"]),
        );
        assert_eq!(decision, Decision::Allowed(HeaderValue::from_static("*")));
    }

    #[test]
    fn actual_and_preflight_headers() {
        let origin = HeaderValue::from_static("https://page.example");
        let mut headers = HeaderMap::new();
        apply_actual(&mut headers, &origin);
        assert_eq!(
            headers["access-control-allow-origin"],
            "https://page.example"
        );
        let exposed = headers["access-control-expose-headers"].to_str().unwrap();
        for name in [
            "WWW-Authenticate",
            "Docker-Content-Digest",
            "Content-Range",
            "RateLimit-Remaining",
        ] {
            assert!(exposed.contains(name), "{name}");
        }
        assert_eq!(headers["vary"], "Origin");
        assert!(!headers.contains_key("access-control-allow-credentials"));

        let mut pna = HeaderMap::new();
        pna.insert(REQUEST_PRIVATE_NETWORK, HeaderValue::from_static("true"));
        let answer = preflight(&pna, &origin);
        assert_eq!(answer["access-control-allow-methods"], ALLOW_METHODS);
        assert_eq!(answer["access-control-allow-headers"], ALLOW_HEADERS);
        assert_eq!(answer["access-control-allow-private-network"], "true");
        assert!(!preflight(&HeaderMap::new(), &origin).contains_key(ALLOW_PRIVATE_NETWORK));
    }
}
