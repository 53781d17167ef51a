use http::HeaderValue;

use super::*;

const NOW: u64 = 1_700_000_000;

fn ctx(via_relay: bool, has_credentials: bool) -> Context<'static> {
    Context {
        registry: "docker.io",
        repository: "library/alpine",
        url: "https://registry-1.docker.io/v2/library/alpine/manifests/3.20",
        via_relay,
        has_credentials,
        now_s: NOW,
    }
}

fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
    let mut map = HeaderMap::new();
    for (name, value) in pairs {
        map.append(*name, HeaderValue::from_str(value).expect("header"));
    }
    map
}

const MANIFEST: Target<'static> = Target::Manifest {
    reference: "docker.io/library/alpine:3.20",
};

fn errors_doc(code: &str) -> Vec<u8> {
    format!(r#"{{"errors":[{{"code":"{code}","message":"m","detail":null}}]}}"#).into_bytes()
}

#[test]
fn relay_refusals_only_through_a_relay_and_only_with_host() {
    let body = br#"{"error":"host not allowed","host":"evil.example"}"#;
    let got = classify(&ctx(true, false), MANIFEST, 403, &HeaderMap::new(), body);
    assert_eq!(
        got,
        IoError::RelayRefused {
            status: 403,
            host: Some("evil.example".into()),
            reason: "host not allowed".into()
        }
    );
    let upstream =
        br#"{"error":"upstream unreachable","host":"ghcr.io","reason":"connection refused"}"#;
    let got = classify(
        &ctx(true, false),
        MANIFEST,
        502,
        &HeaderMap::new(),
        upstream,
    );
    assert_eq!(
        got,
        IoError::RelayRefused {
            status: 502,
            host: Some("ghcr.io".into()),
            reason: "upstream unreachable: connection refused".into()
        }
    );
    let origin = br#"{"error":"origin not allowed","origin":"https://evil.example"}"#;
    let got = classify(&ctx(true, false), MANIFEST, 403, &HeaderMap::new(), origin);
    assert!(
        matches!(got, IoError::RelayRefused { host: None, ref reason, .. } if reason.ends_with("origin https://evil.example")),
        "{got:?}"
    );
    // The relay's busy answer has no details: it is a 503 with Retry-After, retried as such.
    let busy = headers(&[("retry-after", "1")]);
    let got = classify(
        &ctx(true, false),
        MANIFEST,
        503,
        &busy,
        br#"{"error":"relay busy"}"#,
    );
    assert!(
        matches!(
            got,
            IoError::Http {
                status: 503,
                retry_after_ms: Some(1000),
                ..
            }
        ),
        "{got:?}"
    );
    let direct = classify(&ctx(false, false), MANIFEST, 403, &HeaderMap::new(), body);
    assert!(matches!(direct, IoError::Denied { .. }), "{direct:?}");
    // An OAuth-style token error is the token server speaking.
    let oauth = classify(
        &ctx(true, true),
        Target::Token,
        401,
        &HeaderMap::new(),
        br#"{"error":"invalid_grant"}"#,
    );
    assert_eq!(
        oauth,
        IoError::Unauthorized {
            registry: "docker.io".into()
        }
    );
}

#[test]
fn rate_limits_carry_headers() {
    let h = headers(&[
        ("retry-after", "120"),
        ("ratelimit-limit", "100;w=21600"),
        ("ratelimit-remaining", "0;w=21600"),
    ]);
    let got = classify(
        &ctx(true, false),
        MANIFEST,
        429,
        &h,
        &errors_doc("TOOMANYREQUESTS"),
    );
    assert_eq!(
        got,
        IoError::RateLimited {
            registry: "docker.io".into(),
            retry_after_ms: Some(120_000),
            limit: Some("100;w=21600".into()),
            remaining: Some("0;w=21600".into()),
        }
    );
    // An HTTP date in Retry-After, relative to now.
    let date =
        httpdate::fmt_http_date(std::time::UNIX_EPOCH + std::time::Duration::from_secs(NOW + 30));
    let h = headers(&[("retry-after", &date)]);
    let got = classify(&ctx(true, false), MANIFEST, 429, &h, b"");
    assert!(
        matches!(
            got,
            IoError::RateLimited {
                retry_after_ms: Some(30_000),
                limit: None,
                ..
            }
        ),
        "{got:?}"
    );
}

#[test]
fn the_relays_own_limit_is_a_rate_limit_named_as_the_relays() {
    let body = br#"{"error":"rate limited","scope":"client","retry_after":3}"#;
    let h = headers(&[("retry-after", "3")]);
    let got = classify(&ctx(true, false), MANIFEST, 429, &h, body);
    assert_eq!(
        got,
        IoError::RateLimited {
            registry: "the relay (per-client limit)".into(),
            retry_after_ms: Some(3_000),
            limit: None,
            remaining: None,
        }
    );
    assert!(got.to_string().contains("try again in"), "{got}");
    // Without a relay in the path the same body is the registry speaking.
    let direct = classify(&ctx(false, false), MANIFEST, 429, &h, body);
    assert!(matches!(direct, IoError::RateLimited { ref registry, .. } if registry == "docker.io"));
}

#[test]
fn registry_codes_and_statuses() {
    let c = ctx(true, false);
    let none = HeaderMap::new();
    let cases: &[(u16, Target<'_>, &[u8], &str)] = &[
        (
            404,
            MANIFEST,
            &errors_doc("MANIFEST_UNKNOWN"),
            "ManifestUnknown",
        ),
        (404, MANIFEST, b"", "ManifestUnknown"),
        (404, MANIFEST, &errors_doc("NAME_UNKNOWN"), "NameUnknown"),
        (404, Target::Tags, b"404 page not found", "NameUnknown"),
        (
            404,
            Target::Blob {
                digest: "sha256:00",
            },
            &errors_doc("BLOB_UNKNOWN"),
            "BlobUnknown",
        ),
        (
            404,
            Target::Blob {
                digest: "sha256:00",
            },
            b"",
            "BlobUnknown",
        ),
        (
            401,
            MANIFEST,
            &errors_doc("UNAUTHORIZED"),
            "NeedsCredentials",
        ),
        (401, Target::Ping, b"", "NeedsCredentials"),
        (403, MANIFEST, &errors_doc("DENIED"), "Denied"),
        (403, MANIFEST, b"<html>forbidden</html>", "Denied"),
        (403, Target::Token, b"", "NeedsCredentials"),
        (500, MANIFEST, b"oops", "Http"),
        (400, MANIFEST, &errors_doc("MANIFEST_INVALID"), "Http"),
    ];
    for (status, target, body, want) in cases {
        let got = classify(&c, *target, *status, &none, body);
        let name = format!("{got:?}");
        assert!(name.starts_with(want), "{status} {target:?}: {name}");
    }
}

#[test]
fn credentials_decide_between_sign_in_and_wrong_password() {
    let none = HeaderMap::new();
    assert_eq!(
        classify(&ctx(true, true), MANIFEST, 401, &none, b""),
        IoError::Unauthorized {
            registry: "docker.io".into()
        }
    );
    assert_eq!(
        classify(&ctx(true, false), MANIFEST, 401, &none, b""),
        IoError::NeedsCredentials {
            registry: "docker.io".into()
        }
    );
}

#[test]
fn other_statuses_keep_url_message_and_retry_after() {
    let h = headers(&[("retry-after", "7")]);
    let got = classify(
        &ctx(false, false),
        MANIFEST,
        503,
        &h,
        &errors_doc("UNAVAILABLE"),
    );
    assert_eq!(
        got,
        IoError::Http {
            status: 503,
            url: "https://registry-1.docker.io/v2/library/alpine/manifests/3.20".into(),
            message: "UNAVAILABLE: m".into(),
            retry_after_ms: Some(7_000),
        }
    );
    let got = classify(
        &ctx(false, false),
        MANIFEST,
        502,
        &HeaderMap::new(),
        b"bad gateway",
    );
    assert!(
        matches!(got, IoError::Http { status: 502, ref message, retry_after_ms: None, .. } if message.contains("502")),
        "{got:?}"
    );
}
