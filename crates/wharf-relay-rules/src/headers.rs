//! Header rules, as small pure functions: what is forwarded upstream, what comes back, what a redirect
//! to another origin must lose.

use http::header::{self, HeaderMap, HeaderName, HeaderValue};
use std::collections::HashSet;
use url::Url;

/// Request headers the relay forwards (every value, in order). Everything else (Cookie, Origin, Referer,
/// Host, X-Forwarded-*, Accept-Encoding, ...) stays with the relay.
const FORWARDED_REQUEST: [HeaderName; 8] = [
    header::ACCEPT,
    header::AUTHORIZATION,
    header::RANGE,
    header::IF_RANGE,
    header::IF_NONE_MATCH,
    header::IF_MODIFIED_SINCE,
    header::USER_AGENT,
    header::CONTENT_TYPE,
];

/// Hop-by-hop headers (RFC 9110 7.6.1) plus the ones a proxy must drop by name.
const HOP_BY_HOP: [&str; 9] = [
    "connection",
    "keep-alive",
    "proxy-connection",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
];

/// Response headers never passed to the client: cookies, the upstream's own CORS answer (the relay gives
/// its own), and headers that would bind the relay's origin to upstream policy.
const DROPPED_RESPONSE: [&str; 6] = [
    "set-cookie",
    "set-cookie2",
    "strict-transport-security",
    "alt-svc",
    "clear-site-data",
    "public-key-pins",
];

/// The user agent sent when the client sent none.
pub const DEFAULT_USER_AGENT: &str = concat!("wharf-relay/", env!("CARGO_PKG_VERSION"));

/// Names that are hop-by-hop in this message: the fixed list, any `Proxy-*`, and what `Connection` names.
fn hop_by_hop_names(headers: &HeaderMap) -> HashSet<String> {
    let mut names: HashSet<String> = HOP_BY_HOP.iter().map(|n| (*n).to_owned()).collect();
    for value in headers.get_all(header::CONNECTION) {
        if let Ok(text) = value.to_str() {
            names.extend(
                text.split(',')
                    .map(|token| token.trim().to_ascii_lowercase())
                    .filter(|token| !token.is_empty()),
            );
        }
    }
    names
}

/// True when `name` must not cross the relay in either direction.
pub fn is_hop_by_hop(name: &HeaderName, connection_named: &HashSet<String>) -> bool {
    let name = name.as_str();
    name.starts_with("proxy-") || connection_named.contains(name)
}

/// The headers to send upstream for a client request: only the forwarded set, repeated values kept in
/// order, hop-by-hop ones (including those the client's `Connection` names) dropped.
pub fn forward_request(incoming: &HeaderMap) -> HeaderMap {
    let hop = hop_by_hop_names(incoming);
    let mut out = HeaderMap::new();
    for name in FORWARDED_REQUEST.iter().filter(|n| !is_hop_by_hop(n, &hop)) {
        for value in incoming.get_all(name) {
            out.append(name.clone(), value.clone());
        }
    }
    if !out.contains_key(header::USER_AGENT) {
        out.insert(
            header::USER_AGENT,
            HeaderValue::from_static(DEFAULT_USER_AGENT),
        );
    }
    out
}

/// The upstream response headers the client gets: all end-to-end headers in order, minus hop-by-hop,
/// cookies and upstream CORS headers.
pub fn filter_response(upstream: &HeaderMap) -> HeaderMap {
    let hop = hop_by_hop_names(upstream);
    let mut out = HeaderMap::new();
    for (name, value) in upstream {
        let text = name.as_str();
        let dropped = is_hop_by_hop(name, &hop)
            || DROPPED_RESPONSE.contains(&text)
            || text.starts_with("access-control-");
        if !dropped {
            out.append(name.clone(), value.clone());
        }
    }
    out
}

/// True when scheme, host and port are the same (ports compared with their defaults filled in).
pub fn same_origin(a: &Url, b: &Url) -> bool {
    a.scheme() == b.scheme()
        && a.host_str() == b.host_str()
        && a.port_or_known_default() == b.port_or_known_default()
}

/// Before following a redirect from `from` to `to`: credentials go only to the origin they were sent to.
/// Returns true when something was removed.
pub fn strip_on_cross_origin(headers: &mut HeaderMap, from: &Url, to: &Url) -> bool {
    if same_origin(from, to) {
        return false;
    }
    let had_auth = headers.remove(header::AUTHORIZATION).is_some();
    let had_cookie = headers.remove(header::COOKIE).is_some();
    let had_proxy = headers.remove(header::PROXY_AUTHORIZATION).is_some();
    had_auth || had_cookie || had_proxy
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for (name, value) in pairs {
            headers.append(
                HeaderName::from_bytes(name.as_bytes()).unwrap(),
                HeaderValue::from_str(value).unwrap(),
            );
        }
        headers
    }

    fn values(headers: &HeaderMap, name: &str) -> Vec<String> {
        headers
            .get_all(name)
            .iter()
            .map(|v| v.to_str().unwrap().to_owned())
            .collect()
    }

    #[test]
    fn request_keeps_safe_set_and_repeated_accept() {
        let incoming = map(&[
            ("accept", "application/vnd.oci.image.index.v1+json"),
            (
                "accept",
                "application/vnd.docker.distribution.manifest.v2+json",
            ),
            ("authorization", "Bearer abc"),
            ("range", "bytes=0-9"),
            ("cookie", "session=1"),
            ("origin", "http://page.example"),
            ("referer", "http://page.example/x"),
            ("host", "relay.example"),
            ("x-forwarded-for", "1.2.3.4"),
            ("accept-encoding", "gzip"),
            ("proxy-authorization", "Basic eA=="),
            ("te", "trailers"),
            ("user-agent", "browser/1"),
        ]);
        let out = forward_request(&incoming);
        assert_eq!(
            values(&out, "accept"),
            [
                "application/vnd.oci.image.index.v1+json",
                "application/vnd.docker.distribution.manifest.v2+json"
            ]
        );
        assert_eq!(values(&out, "authorization"), ["Bearer abc"]);
        assert_eq!(values(&out, "range"), ["bytes=0-9"]);
        assert_eq!(values(&out, "user-agent"), ["browser/1"]);
        for gone in [
            "cookie",
            "origin",
            "referer",
            "host",
            "x-forwarded-for",
            "accept-encoding",
        ] {
            assert!(!out.contains_key(gone), "{gone} forwarded");
        }
        assert!(!out.contains_key("proxy-authorization"));
        assert!(!out.contains_key("te"));
        assert_eq!(out.len(), 5);
    }

    #[test]
    fn request_drops_what_connection_names_and_sets_user_agent() {
        let incoming = map(&[
            ("connection", "close, Authorization"),
            ("authorization", "Bearer abc"),
            ("accept", "*/*"),
        ]);
        let out = forward_request(&incoming);
        assert!(!out.contains_key("authorization"));
        assert_eq!(values(&out, "user-agent"), [DEFAULT_USER_AGENT]);
        assert_eq!(values(&out, "accept"), ["*/*"]);
    }

    #[test]
    fn response_drops_hop_by_hop_cookies_and_cors() {
        let upstream = map(&[
            ("connection", "keep-alive, x-secret-hop"),
            ("keep-alive", "timeout=5"),
            ("x-secret-hop", "1"),
            ("transfer-encoding", "chunked"),
            ("trailer", "x-digest"),
            ("upgrade", "h2c"),
            ("proxy-authenticate", "Basic"),
            ("set-cookie", "a=1"),
            ("set-cookie", "b=2"),
            ("access-control-allow-origin", "*"),
            ("strict-transport-security", "max-age=1"),
            ("content-type", "application/json"),
            ("content-length", "42"),
            ("docker-content-digest", "sha256:00"),
            ("www-authenticate", "Bearer realm=\"r\""),
            ("link", "<a>; rel=next"),
            ("link", "<b>; rel=prev"),
        ]);
        let out = filter_response(&upstream);
        let names: Vec<&str> = out.keys().map(|k| k.as_str()).collect();
        assert_eq!(
            names,
            [
                "content-type",
                "content-length",
                "docker-content-digest",
                "www-authenticate",
                "link"
            ]
        );
        assert_eq!(values(&out, "link"), ["<a>; rel=next", "<b>; rel=prev"]);
    }

    #[test]
    fn origin_comparison() {
        let cases: &[(&str, &str, bool)] = &[
            ("http://a:5000/x", "http://a:5000/y?z", true),
            ("https://a/x", "https://a:443/y", true),
            ("http://a/x", "http://a:80/y", true),
            ("http://a:5000/x", "http://a:5001/x", false),
            ("http://localhost:5000/x", "http://127.0.0.1:5000/x", false),
            ("http://a/x", "https://a/x", false),
            ("https://a/x", "https://b/x", false),
        ];
        for (a, b, same) in cases {
            let (a, b) = (Url::parse(a).unwrap(), Url::parse(b).unwrap());
            assert_eq!(same_origin(&a, &b), *same, "{a} vs {b}");
        }
    }

    #[test]
    fn credentials_stripped_only_across_origins() {
        let base = map(&[
            ("authorization", "Bearer t"),
            ("cookie", "c=1"),
            ("accept", "*/*"),
            ("range", "bytes=1-2"),
        ]);
        let from = Url::parse("http://127.0.0.1:5000/v2/x/blobs/sha256:1").unwrap();
        let same = Url::parse("http://127.0.0.1:5000/other").unwrap();
        let mut kept = base.clone();
        assert!(!strip_on_cross_origin(&mut kept, &from, &same));
        assert_eq!(kept, base);
        for to in [
            "http://127.0.0.1:5001/x",
            "http://localhost:5000/x",
            "https://127.0.0.1:5000/x",
        ] {
            let mut headers = base.clone();
            assert!(strip_on_cross_origin(
                &mut headers,
                &from,
                &Url::parse(to).unwrap()
            ));
            assert!(!headers.contains_key("authorization"), "{to}");
            assert!(!headers.contains_key("cookie"), "{to}");
            assert_eq!(values(&headers, "range"), ["bytes=1-2"]);
            assert_eq!(values(&headers, "accept"), ["*/*"]);
        }
    }
}
