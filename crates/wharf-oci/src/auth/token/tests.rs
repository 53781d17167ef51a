use super::*;

fn realm(s: &str) -> Url {
    Url::parse(s).unwrap()
}

fn scopes(names: &[&str]) -> Vec<Scope> {
    names.iter().map(|n| Scope::pull(n).unwrap()).collect()
}

fn query(request: &Request) -> Vec<(String, String)> {
    request.url.query_pairs().into_owned().collect()
}

fn pair(k: &str, v: &str) -> (String, String) {
    (k.to_owned(), v.to_owned())
}

#[test]
fn anonymous_token_request_for_docker_hub() {
    let request = token_request(
        &realm("https://auth.docker.io/token"),
        Some("registry.docker.io"),
        &scopes(&["library/hello-world"]),
        ScopeStyle::Repeated,
        None,
    )
    .unwrap();
    assert_eq!(request.method, Method::GET);
    assert_eq!(
        request.url.as_str(),
        "https://auth.docker.io/token?service=registry.docker.io&scope=repository%3Alibrary%2Fhello-world%3Apull"
    );
    assert_eq!(request.headers.get(ACCEPT).unwrap(), "application/json");
    assert!(request.headers.get(AUTHORIZATION).is_none());
}

#[test]
fn several_scopes_are_sorted_deduplicated_and_styled() {
    let wanted = scopes(&["b/two", "a/one", "b/two"]);
    let url = realm("http://127.0.0.1:5081/token?keep=me");
    let repeated = token_request(&url, Some("svc"), &wanted, ScopeStyle::Repeated, None).unwrap();
    assert_eq!(
        query(&repeated),
        [
            pair("keep", "me"),
            pair("service", "svc"),
            pair("scope", "repository:a/one:pull"),
            pair("scope", "repository:b/two:pull"),
        ]
    );
    let joined = token_request(&url, Some("svc"), &wanted, ScopeStyle::SpaceJoined, None).unwrap();
    assert_eq!(
        query(&joined),
        [
            pair("keep", "me"),
            pair("service", "svc"),
            pair("scope", "repository:a/one:pull repository:b/two:pull"),
        ]
    );
    assert!(joined
        .url
        .as_str()
        .contains("scope=repository%3Aa%2Fone%3Apull+repository"));
}

#[test]
fn no_service_and_no_scope_leave_a_clean_url() {
    for style in [ScopeStyle::Repeated, ScopeStyle::SpaceJoined] {
        let request =
            token_request(&realm("https://ghcr.io/token"), None, &[], style, None).unwrap();
        assert_eq!(request.url.as_str(), "https://ghcr.io/token");
    }
}

#[test]
fn credentials_go_as_basic_and_stay_hidden() {
    let creds = Credentials::user_password("alice", "s3cret").unwrap();
    let request = token_request(
        &realm("http://127.0.0.1:5081/token"),
        Some("loopback-registry"),
        &scopes(&["test"]),
        ScopeStyle::Repeated,
        Some(&creds),
    )
    .unwrap();
    let auth = request.headers.get(AUTHORIZATION).unwrap();
    assert_eq!(auth, "Basic YWxpY2U6czNjcmV0");
    assert!(auth.is_sensitive());
    let shown = format!("{request:?}");
    assert!(
        !shown.contains("YWxpY2U6czNjcmV0") && !shown.contains("s3cret"),
        "{shown}"
    );
}

#[test]
fn token_credentials_and_bad_realms_are_refused() {
    let creds = Credentials::token("abc").unwrap();
    let err = token_request(
        &realm("https://a.example/t"),
        None,
        &[],
        ScopeStyle::Repeated,
        Some(&creds),
    )
    .unwrap_err();
    assert!(matches!(err, Error::InvalidCredentials { .. }), "{err:?}");
    assert!(!err.to_string().contains("abc"));

    for bad in ["ftp://a.example/t", "data:text/plain,x"] {
        let err = token_request(&realm(bad), None, &[], ScopeStyle::Repeated, None).unwrap_err();
        assert!(matches!(err, Error::InvalidUrl { .. }), "{bad}: {err:?}");
    }
}

const ISSUED: u64 = 1_715_603_696; // 2024-05-13T12:34:56Z

#[test]
fn token_response_table() {
    type Want = std::result::Result<(&'static str, u64, Option<u64>), &'static str>;
    let cases: Vec<(&str, Want)> = vec![
        (
            // What distribution's token servers (and the test kit's) answer.
            r#"{"token":"T1","access_token":"T1","expires_in":300,"issued_at":"2024-05-13T12:34:56Z"}"#,
            Ok(("T1", 300, Some(ISSUED))),
        ),
        (r#"{"token":"T2"}"#, Ok(("T2", 60, None))),
        (
            r#"{"access_token":"A1","expires_in":3600}"#,
            Ok(("A1", 3600, None)),
        ),
        (r#"{"token":"T","access_token":"A"}"#, Ok(("T", 60, None))),
        (r#"{"token":"","access_token":"A"}"#, Ok(("A", 60, None))),
        (r#"{"token":null,"access_token":"A"}"#, Ok(("A", 60, None))),
        (
            r#"{"token":"T","expires_in":null,"issued_at":null}"#,
            Ok(("T", 60, None)),
        ),
        (r#"{"token":"T","expires_in":0}"#, Ok(("T", 0, None))),
        (
            r#"{"token":"T","issued_at":"2024-05-13T12:34:56.789012345Z","refresh_token":"R","scope":"x"}"#,
            Ok(("T", 60, Some(ISSUED))),
        ),
        (
            r#"{"token":"T","issued_at":"2024-05-13T14:34:56+02:00"}"#,
            Ok(("T", 60, Some(ISSUED))),
        ),
        (
            r#"{"token":"T","issued_at":"2024-05-13t12:34:56z"}"#,
            Ok(("T", 60, Some(ISSUED))),
        ),
        (
            r#"{"token":"eyJhbGciOiJFUzI1NiJ9.e30.c2ln","expires_in":18446744073709551615}"#,
            Ok(("eyJhbGciOiJFUzI1NiJ9.e30.c2ln", u64::MAX, None)),
        ),
        // --- errors ---
        ("", Err("not valid JSON")),
        ("<html>502 Bad Gateway</html>", Err("not valid JSON")),
        (r#"["token"]"#, Err("not a JSON object")),
        ("{}", Err("neither token nor access_token")),
        (
            r#"{"token":"","access_token":""}"#,
            Err("neither token nor access_token"),
        ),
        (r#"{"token":12345}"#, Err("token is not a string")),
        (
            r#"{"token":"T","access_token":7}"#,
            Err("access_token is not a string"),
        ),
        (r#"{"token":"has space"}"#, Err("not visible ASCII")),
        (
            r#"{"token":"T","expires_in":-1}"#,
            Err("expires_in is not a non-negative integer"),
        ),
        (
            r#"{"token":"T","expires_in":"300"}"#,
            Err("expires_in is not a non-negative integer"),
        ),
        (
            r#"{"token":"T","expires_in":1.5}"#,
            Err("expires_in is not a non-negative integer"),
        ),
        (
            r#"{"token":"T","issued_at":"yesterday"}"#,
            Err("issued_at is not an RFC 3339"),
        ),
        (
            r#"{"token":"T","issued_at":"2024-02-30T00:00:00Z"}"#,
            Err("issued_at is not an RFC 3339"),
        ),
        (
            r#"{"token":"T","issued_at":"1969-12-31T23:59:59Z"}"#,
            Err("issued_at is not an RFC 3339"),
        ),
        (
            r#"{"token":"T","issued_at":1715603696}"#,
            Err("issued_at is not a string"),
        ),
    ];
    for (body, want) in cases {
        let got = TokenResponse::parse(body.as_bytes());
        match (want, got) {
            (Ok((token, expires_in, issued_at)), Ok(got)) => {
                assert_eq!(got.token.expose(), token, "{body}");
                assert_eq!(got.expires_in, expires_in, "{body}");
                assert_eq!(
                    got.issued_at,
                    issued_at.map(Timestamp::from_unix_seconds),
                    "{body}"
                );
            }
            (Err(fragment), Err(Error::InvalidTokenResponse { reason })) => {
                assert!(
                    reason.contains(fragment),
                    "{body}: {reason:?} lacks {fragment:?}"
                )
            }
            (_, got) => panic!("{body}: unexpected {got:?}"),
        }
    }
}

#[test]
fn token_response_errors_and_debug_never_show_the_token() {
    let parsed = TokenResponse::parse(br#"{"token":"SeCrEtJwT","expires_in":300}"#).unwrap();
    let shown = format!("{parsed:?}");
    assert!(
        !shown.contains("SeCrEtJwT") && shown.contains("***"),
        "{shown}"
    );
    assert_eq!(parsed.authorization().unwrap(), "Bearer SeCrEtJwT");
    assert!(parsed.authorization().unwrap().is_sensitive());

    for body in [
        r#"{"token":"SeCrEt JwT"}"#,
        r#"{"token":"SeCrEtJwT","expires_in":"SeCrEtJwT"}"#,
        r#"{"token":"SeCrEtJwT","issued_at":"SeCrEtJwT"}"#,
        r#"{"token":"SeCrEtJwT""#,
    ] {
        let err = TokenResponse::parse(body.as_bytes()).unwrap_err();
        let shown = format!("{err} {err:?}");
        assert!(!shown.contains("SeCrEt"), "{shown}");
    }
}

#[test]
fn oversized_token_response_is_refused() {
    let body = format!(
        r#"{{"token":"T","pad":"{}"}}"#,
        "x".repeat(MAX_TOKEN_RESPONSE_BYTES)
    );
    let err = TokenResponse::parse(body.as_bytes()).unwrap_err();
    assert_eq!(
        err,
        Error::InvalidTokenResponse {
            reason: "body over 1 MiB".into()
        }
    );
}

#[test]
fn timestamp_arithmetic_saturates() {
    let t = Timestamp::from_unix_seconds(u64::MAX - 1);
    assert_eq!(t.saturating_add(5).unix_seconds(), u64::MAX);
    assert_eq!(
        Timestamp::from_unix_seconds(10).saturating_add(5),
        Timestamp::from_unix_seconds(15)
    );
    assert_eq!(
        Timestamp::parse_rfc3339("2016-01-02T03:04:05Z"),
        Some(Timestamp::from_unix_seconds(1_451_703_845))
    );
    assert_eq!(Timestamp::parse_rfc3339("2016-01-02"), None);
}
