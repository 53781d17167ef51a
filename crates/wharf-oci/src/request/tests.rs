use super::*;

use http::header::{HeaderName, RETRY_AFTER};

const ALPINE: &str = "sha256:14b55f5bb845c7b810283290ce057f175de87838be56f49060e941580032c60c";

fn r(s: &str) -> Reference {
    s.parse().unwrap()
}

fn d(s: &str) -> Digest {
    s.parse().unwrap()
}

#[test]
fn builders_give_method_url_and_headers() {
    let hub = r("alpine:3.19");
    let local = r("localhost:5000/library/alpine");
    let ghcr = r("ghcr.io/homebrew/core/vim:9.0.1900");
    let pinned = r(&format!("alpine:3.19@{ALPINE}"));
    let digest = d(ALPINE);
    let tag: Tag = "b".parse().unwrap();
    // (request, method, URL, Accept values)
    let cases: Vec<(Request, Method, String, Vec<&str>)> = vec![
        (
            ping(&hub).unwrap(),
            Method::GET,
            "https://registry-1.docker.io/v2/".into(),
            vec![],
        ),
        (
            ping(&local).unwrap(),
            Method::GET,
            "http://localhost:5000/v2/".into(),
            vec![],
        ),
        (
            manifest_get(&hub).unwrap(),
            Method::GET,
            "https://registry-1.docker.io/v2/library/alpine/manifests/3.19".into(),
            manifest::ACCEPT.to_vec(),
        ),
        (
            manifest_head(&ghcr).unwrap(),
            Method::HEAD,
            "https://ghcr.io/v2/homebrew/core/vim/manifests/9.0.1900".into(),
            manifest::ACCEPT.to_vec(),
        ),
        // A pinned reference asks for its digest, not its tag.
        (
            manifest_get(&pinned).unwrap(),
            Method::GET,
            format!("https://registry-1.docker.io/v2/library/alpine/manifests/{ALPINE}"),
            manifest::ACCEPT.to_vec(),
        ),
        (
            manifest_by_digest(&ghcr, &digest).unwrap(),
            Method::GET,
            format!("https://ghcr.io/v2/homebrew/core/vim/manifests/{ALPINE}"),
            manifest::ACCEPT.to_vec(),
        ),
        (
            manifest_by_tag(&local, &tag).unwrap(),
            Method::GET,
            "http://localhost:5000/v2/library/alpine/manifests/b".into(),
            manifest::ACCEPT.to_vec(),
        ),
        (
            blob_get(&local, &digest, None).unwrap(),
            Method::GET,
            format!("http://localhost:5000/v2/library/alpine/blobs/{ALPINE}"),
            vec![],
        ),
        (
            blob_head(&ghcr, &digest).unwrap(),
            Method::HEAD,
            format!("https://ghcr.io/v2/homebrew/core/vim/blobs/{ALPINE}"),
            vec![],
        ),
        (
            tag_list(&hub, None, None).unwrap(),
            Method::GET,
            "https://registry-1.docker.io/v2/library/alpine/tags/list".into(),
            vec!["application/json"],
        ),
        (
            tag_list(&local, Some(2), Some(&tag)).unwrap(),
            Method::GET,
            "http://localhost:5000/v2/library/alpine/tags/list?n=2&last=b".into(),
            vec!["application/json"],
        ),
        (
            tag_list(&local, Some(50), None).unwrap(),
            Method::GET,
            "http://localhost:5000/v2/library/alpine/tags/list?n=50".into(),
            vec!["application/json"],
        ),
        (
            referrers(&ghcr, &digest, None).unwrap(),
            Method::GET,
            format!("https://ghcr.io/v2/homebrew/core/vim/referrers/{ALPINE}"),
            vec!["application/vnd.oci.image.index.v1+json"],
        ),
        (
            referrers(
                &ghcr,
                &digest,
                Some("application/vnd.dev.sigstore.bundle+json"),
            )
            .unwrap(),
            Method::GET,
            format!(
                "https://ghcr.io/v2/homebrew/core/vim/referrers/{ALPINE}\
                ?artifactType=application%2Fvnd.dev.sigstore.bundle%2Bjson"
            ),
            vec!["application/vnd.oci.image.index.v1+json"],
        ),
        (
            referrers_fallback(&local, &digest).unwrap(),
            Method::GET,
            "http://localhost:5000/v2/library/alpine/manifests/\
             sha256-14b55f5bb845c7b810283290ce057f175de87838be56f49060e941580032c60c"
                .into(),
            manifest::ACCEPT.to_vec(),
        ),
        (
            referrers_fallback_head(&local, &digest).unwrap(),
            Method::HEAD,
            "http://localhost:5000/v2/library/alpine/manifests/\
             sha256-14b55f5bb845c7b810283290ce057f175de87838be56f49060e941580032c60c"
                .into(),
            manifest::ACCEPT.to_vec(),
        ),
    ];
    for (request, method, url, accept) in &cases {
        assert_eq!(&request.method, method, "{url}");
        assert_eq!(request.url.as_str(), url);
        assert_eq!(&request.header_values("accept"), accept, "{url}");
    }
}

#[test]
fn manifest_requests_send_each_media_type_as_its_own_header() {
    let request = manifest_get(&r("alpine")).unwrap();
    let accept: Vec<_> = request.headers.get_all(ACCEPT).iter().collect();
    assert_eq!(accept.len(), manifest::ACCEPT.len());
    assert!(accept.len() >= 4);
    assert!(accept.iter().all(|v| !v.to_str().unwrap().contains(',')));
    assert_eq!(request.headers.len(), accept.len(), "no other headers");
}

#[test]
fn blob_ranges() {
    let local = r("localhost:5000/x");
    let digest = d(ALPINE);
    let cases = [
        (Some(ByteRange::from_offset(0)), Some("bytes=0-")),
        (
            Some(ByteRange::from_offset(1_048_576)),
            Some("bytes=1048576-"),
        ),
        (ByteRange::window(0, 16 << 20), Some("bytes=0-16777215")),
        (
            ByteRange::window(12_884_901_888, 1),
            Some("bytes=12884901888-12884901888"),
        ),
        (None, None),
    ];
    for (range, want) in cases {
        let request = blob_get(&local, &digest, range).unwrap();
        let got = request.headers.get(RANGE).map(|v| v.to_str().unwrap());
        assert_eq!(got, want);
    }
    assert_eq!(ByteRange::window(5, 0), None);
    assert_eq!(ByteRange::window(u64::MAX, 2), None);
    assert_eq!(
        ByteRange::window(u64::MAX, 1).and_then(|w| w.end()),
        Some(u64::MAX)
    );
}

#[test]
fn content_range_table() {
    let ok = [
        ("bytes 0-99/1234", 0, 99, Some(1234), 100),
        ("bytes 100-100/101", 100, 100, Some(101), 1),
        ("bytes 5-9/*", 5, 9, None, 5),
        (
            " bytes 12884901888-12884901999/12884902000",
            12_884_901_888,
            12_884_901_999,
            Some(12_884_902_000),
            112,
        ),
    ];
    for (value, start, end, total, count) in ok {
        let range = ContentRange::parse(value).unwrap();
        assert_eq!(
            (range.start, range.end, range.total),
            (start, end, total),
            "{value}"
        );
        assert_eq!(range.byte_count(), count);
    }
    let bad = [
        "",
        "0-99/1234",
        "bytes 0-99",
        "bytes 99-0/1234",
        "bytes 0-1234/1234",
        "bytes a-1/2",
        "bytes -1/2",
        "bytes */1234",
        "items 0-1/2",
        "bytes 0-+1/5",
    ];
    for value in bad {
        let err = ContentRange::parse(value).unwrap_err();
        assert!(
            matches!(
                err,
                Error::InvalidHeader {
                    name: "Content-Range",
                    ..
                }
            ),
            "{value:?} gave {err:?}"
        );
    }
    let asked = ByteRange::window(100, 50).unwrap();
    assert!(ContentRange::parse("bytes 100-149/500")
        .unwrap()
        .answers(&asked));
    assert!(!ContentRange::parse("bytes 0-149/500")
        .unwrap()
        .answers(&asked));
    assert!(!ContentRange::parse("bytes 100-499/500")
        .unwrap()
        .answers(&asked));
    let resume = ByteRange::from_offset(100);
    assert!(ContentRange::parse("bytes 100-499/500")
        .unwrap()
        .answers(&resume));
}

fn code(s: &str) -> ErrorCode {
    ErrorCode::from(s)
}

#[test]
fn error_codes_round_trip() {
    let known = [
        ("BLOB_UNKNOWN", ErrorCode::BlobUnknown),
        ("MANIFEST_UNKNOWN", ErrorCode::ManifestUnknown),
        ("NAME_UNKNOWN", ErrorCode::NameUnknown),
        ("NAME_INVALID", ErrorCode::NameInvalid),
        ("TAG_INVALID", ErrorCode::TagInvalid),
        ("UNAUTHORIZED", ErrorCode::Unauthorized),
        ("DENIED", ErrorCode::Denied),
        ("TOOMANYREQUESTS", ErrorCode::TooManyRequests),
        ("UNSUPPORTED", ErrorCode::Unsupported),
        ("MANIFEST_INVALID", ErrorCode::ManifestInvalid),
        ("DIGEST_INVALID", ErrorCode::DigestInvalid),
        ("SIZE_INVALID", ErrorCode::SizeInvalid),
        ("MANIFEST_BLOB_UNKNOWN", ErrorCode::ManifestBlobUnknown),
        ("UNKNOWN", ErrorCode::Unknown),
        ("UNAVAILABLE", ErrorCode::Unavailable),
    ];
    for (text, c) in known {
        assert_eq!(code(text), c);
        assert_eq!(c.as_str(), text);
    }
    assert_eq!(
        code("manifest_unknown"),
        ErrorCode::Other("manifest_unknown".into())
    );
    assert_eq!(code("QUOTA_EXCEEDED").to_string(), "QUOTA_EXCEEDED");
    assert!(code("TOOMANYREQUESTS").is_transient());
    assert!(!code("DENIED").is_transient());
}

#[test]
fn error_documents_decode_into_typed_errors() {
    // (status, body, expected codes; empty = not an error document)
    let cases: &[(u16, &str, &[&str])] = &[
        // distribution 2.8.2
        (
            404,
            r#"{"errors":[{"code":"MANIFEST_UNKNOWN","message":"OCI index found, but accept header does not support OCI indexes"}]}"#,
            &["MANIFEST_UNKNOWN"],
        ),
        (
            404,
            r#"{"errors":[{"code":"NAME_UNKNOWN","message":"repository name not known to registry","detail":{"name":"nope"}}]}"#,
            &["NAME_UNKNOWN"],
        ),
        // Docker Hub
        (
            401,
            r#"{"errors":[{"code":"UNAUTHORIZED","message":"authentication required","detail":[{"Type":"repository","Class":"","Name":"library/nope","Action":"pull"}]}]}"#,
            &["UNAUTHORIZED"],
        ),
        (
            429,
            r#"{"errors":[{"code":"TOOMANYREQUESTS","message":"You have reached your pull rate limit."}]}"#,
            &["TOOMANYREQUESTS"],
        ),
        // GHCR
        (
            403,
            r#"{"errors":[{"code":"DENIED","message":"denied"}]}"#,
            &["DENIED"],
        ),
        // several, unknown code, null and missing message, extra fields
        (
            400,
            r#"{"errors":[{"code":"TAG_INVALID","message":null},{"code":"X_VENDOR"}],"extra":1}"#,
            &["TAG_INVALID", "X_VENDOR"],
        ),
        // not error documents
        (404, "404 page not found\n", &[]),
        (502, "<html><body>Bad Gateway</body></html>", &[]),
        (404, "", &[]),
        (500, r#"{"errors":[]}"#, &[]),
        (500, r#"{"error":"boom"}"#, &[]),
        (400, r#"{"errors":[{"message":"no code"}]}"#, &[]),
        (400, r#"{"errors":"MANIFEST_UNKNOWN"}"#, &[]),
    ];
    for (status, body, codes) in cases {
        match error_from_response(*status, body.as_bytes()) {
            Error::Registry { status: s, errors } => {
                assert_eq!(s, *status);
                let got: Vec<_> = errors.iter().map(|e| e.code.as_str()).collect();
                assert_eq!(&got, codes, "{body}");
            }
            Error::UnexpectedStatus { status: s } => {
                assert_eq!(s, *status);
                assert!(codes.is_empty(), "{body} should be an error document");
            }
            other => panic!("{body} gave {other:?}"),
        }
    }
}

#[test]
fn error_details_and_summaries() {
    let body = br#"{"errors":[{"code":"BLOB_UNKNOWN","message":"blob unknown to registry","detail":"sha256:abc"},{"code":"TAG_INVALID","message":""}]}"#;
    let err = error_from_response(404, body);
    let Error::Registry { errors, .. } = &err else {
        panic!("{err:?}");
    };
    assert_eq!(errors[0].detail, Some(serde_json::json!("sha256:abc")));
    assert_eq!(errors[1].detail, None);
    assert_eq!(errors[1].message, "");
    assert_eq!(
        err.to_string(),
        "registry error (HTTP 404): BLOB_UNKNOWN: blob unknown to registry; TAG_INVALID"
    );
    assert_eq!(RegistryErrors::summary(&[]), "no error details");
    assert_eq!(
        error_from_response(503, b"upstream").to_string(),
        "unexpected HTTP status 503"
    );
}

#[test]
fn quota_table() {
    let ok = [
        ("100;w=21600", 100, Some(21600)),
        ("76;w=21600", 76, Some(21600)),
        ("0;w=21600", 0, Some(21600)),
        ("100", 100, None),
        (" 5 ; w=60 ", 5, Some(60)),
        ("10, 100;w=60", 10, None),
        ("100;comment=\"x\";w=3600", 100, Some(3600)),
    ];
    for (value, count, window) in ok {
        let quota = parse_quota(value).unwrap();
        assert_eq!(
            (quota.count, quota.window_seconds),
            (count, window),
            "{value}"
        );
    }
    for value in ["", "abc", ";w=1", "-1", "100;w=x", "1e3"] {
        assert!(
            matches!(
                parse_quota(value),
                Err(Error::InvalidHeader {
                    name: "RateLimit",
                    ..
                })
            ),
            "{value:?}"
        );
    }
}

#[test]
fn retry_after_table() {
    // 2015-10-21T07:28:00Z = 1445412480
    let now = 1_445_412_480 - 30;
    let ok = [
        ("120", 0, 120),
        (" 7 ", now, 7),
        ("Wed, 21 Oct 2015 07:28:00 GMT", now, 30),
        ("Wednesday, 21-Oct-15 07:28:00 GMT", now, 30),
        ("Wed Oct 21 07:28:00 2015", now, 30),
        // A date in the past means "now".
        ("Wed, 21 Oct 2015 07:28:00 GMT", now + 3600, 0),
    ];
    for (value, now, want) in ok {
        assert_eq!(parse_retry_after(value, now).unwrap(), want, "{value:?}");
    }
    for value in [
        "",
        "soon",
        "-5",
        "1.5",
        "Wed, 32 Oct 2015 07:28:00 GMT",
        "99999999999999999999",
    ] {
        assert!(
            matches!(
                parse_retry_after(value, now),
                Err(Error::InvalidHeader {
                    name: "Retry-After",
                    ..
                })
            ),
            "{value:?}"
        );
    }
}

#[test]
fn rate_limit_from_headers() {
    let mut headers = HeaderMap::new();
    headers.insert(
        HeaderName::from_static("ratelimit-limit"),
        HeaderValue::from_static("100;w=21600"),
    );
    headers.insert(
        HeaderName::from_static("ratelimit-remaining"),
        HeaderValue::from_static("0;w=21600"),
    );
    headers.insert(
        RETRY_AFTER,
        HeaderValue::from_static("Wed, 21 Oct 2015 07:28:00 GMT"),
    );
    let limit = RateLimit::from_headers(&headers, 1_445_412_480 - 600);
    assert_eq!(
        limit.limit,
        Some(Quota {
            count: 100,
            window_seconds: Some(21600)
        })
    );
    assert_eq!(
        limit.remaining,
        Some(Quota {
            count: 0,
            window_seconds: Some(21600)
        })
    );
    assert_eq!(limit.retry_after_seconds, Some(600));
    assert!(limit.is_exhausted());

    // Malformed advice is left out, not fatal.
    let mut headers = HeaderMap::new();
    headers.insert(
        HeaderName::from_static("ratelimit-remaining"),
        HeaderValue::from_static("lots"),
    );
    headers.insert(RETRY_AFTER, HeaderValue::from_static("later"));
    assert_eq!(RateLimit::from_headers(&headers, 0), RateLimit::default());
    assert!(!RateLimit::default().is_exhausted());
}
