//! The upstream URL a request names (`/relay/<absolute URL>`, or `/relay?url=<percent-encoded
//! URL>` as CORS proxies take it, for a page whose relay setting uses `{url_encoded}`) and where
//! a redirect leads.

use crate::error::RelayError;
use http::{HeaderValue, Uri};
use url::Url;

/// The upstream URL in `/relay/<url>` (the request's query string carried over), or in the
/// `url` parameter of `/relay?url=<percent-encoded url>`.
pub fn parse_target(uri: &Uri) -> Result<Url, RelayError> {
    let path = uri.path();
    let rest = path.strip_prefix("/relay").unwrap_or(path);
    let rest = rest.strip_prefix('/').unwrap_or(rest);
    let text = match (rest, uri.query()) {
        ("", query) => query
            .and_then(encoded_target)
            .ok_or(RelayError::MissingTarget)?,
        (rest, Some(query)) => format!("{rest}?{query}"),
        (rest, None) => rest.to_owned(),
    };
    Url::parse(&text).map_err(|e| RelayError::BadTarget {
        reason: e.to_string(),
    })
}

/// The decoded `url` parameter of a query string.
fn encoded_target(query: &str) -> Option<String> {
    url::form_urlencoded::parse(query.as_bytes())
        .find(|(key, _)| key == "url")
        .map(|(_, value)| value.into_owned())
        .filter(|value| !value.is_empty())
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
            (
                "/relay?url=http%3A%2F%2F127.0.0.1%3A5000%2Fv2%2Fx%2Ftags%2Flist%3Fn%3D2%26last%3Da",
                Ok("http://127.0.0.1:5000/v2/x/tags/list?n=2&last=a"),
            ),
            (
                "/relay/?url=https%3A%2F%2Fghcr.io%2Fv2%2F&other=1",
                Ok("https://ghcr.io/v2/"),
            ),
            ("/relay?other=1", Err("missing target url")),
            ("/relay?url=", Err("missing target url")),
            ("/relay?url=not%20a%20url", Err("bad target url")),
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
