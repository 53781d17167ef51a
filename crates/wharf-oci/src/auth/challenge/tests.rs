use super::*;

fn url(s: &str) -> Url {
    Url::parse(s).unwrap()
}

fn bearer(realm: &str, service: Option<&str>, scope: &[&str], error: Option<&str>) -> Challenge {
    Challenge::Bearer {
        realm: url(realm),
        service: service.map(str::to_owned),
        scope: scope.iter().map(|s| s.to_string()).collect(),
        error: error.map(str::to_owned),
    }
}

fn basic(realm: Option<&str>) -> Challenge {
    Challenge::Basic {
        realm: realm.map(str::to_owned),
    }
}

fn other(scheme: &str) -> Challenge {
    Challenge::Other {
        scheme: scheme.to_owned(),
    }
}

enum Want {
    Ok(Vec<Challenge>),
    /// An `InvalidChallenge` whose reason contains this text.
    Err(&'static str),
}

#[test]
fn parses_challenge_table() {
    const HUB: &str = "https://auth.docker.io/token";
    let cases: Vec<(&str, Vec<&str>, Want)> = vec![
        (
            "docker hub",
            vec![
                r#"Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/hello-world:pull""#,
            ],
            Want::Ok(vec![bearer(
                HUB,
                Some("registry.docker.io"),
                &["repository:library/hello-world:pull"],
                None,
            )]),
        ),
        (
            "ghcr",
            vec![
                r#"Bearer realm="https://ghcr.io/token",service="ghcr.io",scope="repository:homebrew/core/vim:pull""#,
            ],
            Want::Ok(vec![bearer(
                "https://ghcr.io/token",
                Some("ghcr.io"),
                &["repository:homebrew/core/vim:pull"],
                None,
            )]),
        ),
        (
            "distribution token mode on loopback (plain http realm)",
            vec![r#"Bearer realm="http://127.0.0.1:5081/token",service="loopback-registry""#],
            Want::Ok(vec![bearer(
                "http://127.0.0.1:5081/token",
                Some("loopback-registry"),
                &[],
                None,
            )]),
        ),
        (
            "distribution htpasswd mode",
            vec![r#"Basic realm="test-basic""#],
            Want::Ok(vec![basic(Some("test-basic"))]),
        ),
        (
            "scheme is case-insensitive",
            vec![r#"bEaReR realm="https://auth.docker.io/token""#],
            Want::Ok(vec![bearer(HUB, None, &[], None)]),
        ),
        (
            "parameter names are case-insensitive",
            vec![r#"BEARER REALM="https://auth.docker.io/token",Service="s",SCOPE="a:b:pull""#],
            Want::Ok(vec![bearer(HUB, Some("s"), &["a:b:pull"], None)]),
        ),
        (
            "Basic then Bearer in one value",
            vec![r#"Basic realm="x", Bearer realm="https://y.example/token",service="z""#],
            Want::Ok(vec![
                basic(Some("x")),
                bearer("https://y.example/token", Some("z"), &[], None),
            ]),
        ),
        (
            "Bearer then Basic in one value",
            vec![r#"Bearer realm="https://a.example/t",scope="r:n:pull", Basic realm="b""#],
            Want::Ok(vec![
                bearer("https://a.example/t", None, &["r:n:pull"], None),
                basic(Some("b")),
            ]),
        ),
        (
            "several header values",
            vec![
                r#"Basic realm="x""#,
                r#"Bearer realm="https://y.example/token""#,
            ],
            Want::Ok(vec![
                basic(Some("x")),
                bearer("https://y.example/token", None, &[], None),
            ]),
        ),
        (
            "several space-separated scopes, comma inside a scope",
            vec![
                r#"Bearer realm="https://a.example/t",scope="repository:a:pull repository:b/c:pull,push""#,
            ],
            Want::Ok(vec![bearer(
                "https://a.example/t",
                None,
                &["repository:a:pull", "repository:b/c:pull,push"],
                None,
            )]),
        ),
        (
            "scope with runs of whitespace and a tab",
            vec!["Bearer realm=\"https://a.example/t\",scope=\"  x:y:pull \t z:w:pull  \""],
            Want::Ok(vec![bearer(
                "https://a.example/t",
                None,
                &["x:y:pull", "z:w:pull"],
                None,
            )]),
        ),
        (
            "comma inside a quoted realm",
            vec![r#"Basic realm="a, b, Bearer realm=c", Basic realm="d""#],
            Want::Ok(vec![basic(Some("a, b, Bearer realm=c")), basic(Some("d"))]),
        ),
        (
            "escaped quotes",
            vec![r#"Basic realm="say \"hi\"""#],
            Want::Ok(vec![basic(Some(r#"say "hi""#))]),
        ),
        (
            "escaped backslash and escaped plain character",
            vec![r#"Basic realm="a\\b\c""#],
            Want::Ok(vec![basic(Some(r"a\bc"))]),
        ),
        (
            "escaped quote then comma inside quotes",
            vec![r#"Basic realm="x\",y""#],
            Want::Ok(vec![basic(Some(r#"x",y"#))]),
        ),
        (
            "unquoted token values",
            vec![
                r#"Bearer realm="https://a.example/t",service=registry.example.com,error=invalid_token"#,
            ],
            Want::Ok(vec![bearer(
                "https://a.example/t",
                Some("registry.example.com"),
                &[],
                Some("invalid_token"),
            )]),
        ),
        (
            "whitespace around '=' and ','",
            vec!["Bearer realm = \"https://a.example/t\" ,\tservice\t=\t\"s\"  "],
            Want::Ok(vec![bearer("https://a.example/t", Some("s"), &[], None)]),
        ),
        (
            "error param (insufficient_scope)",
            vec![
                r#"Bearer realm="https://a.example/t",error="insufficient_scope",scope="repository:a:pull""#,
            ],
            Want::Ok(vec![bearer(
                "https://a.example/t",
                None,
                &["repository:a:pull"],
                Some("insufficient_scope"),
            )]),
        ),
        (
            "realm with a query holding ',' and '='",
            vec![r#"Bearer realm="https://a.example/t?x=1,y=2""#],
            Want::Ok(vec![bearer("https://a.example/t?x=1,y=2", None, &[], None)]),
        ),
        (
            "empty service is no service",
            vec![r#"Bearer realm="https://a.example/t",service="""#],
            Want::Ok(vec![bearer("https://a.example/t", None, &[], None)]),
        ),
        (
            "token68 challenge before Basic",
            vec![r#"Negotiate a87421000492aa874209af8bc028, Basic realm="x""#],
            Want::Ok(vec![other("Negotiate"), basic(Some("x"))]),
        ),
        (
            "Basic with a token68 and no realm",
            vec!["Basic YWxhZGRpbjpvcGVuc2VzYW1l=="],
            Want::Ok(vec![basic(None)]),
        ),
        ("scheme alone", vec!["Basic"], Want::Ok(vec![basic(None)])),
        (
            "empty list elements",
            vec![r#" , ,Basic realm="x",, ,Basic , "#],
            Want::Ok(vec![basic(Some("x")), basic(None)]),
        ),
        ("empty value", vec![""], Want::Ok(vec![])),
        ("no values", vec![], Want::Ok(vec![])),
        (
            "Digest with a comma-holding qop, then Bearer",
            vec![
                r#"Digest realm="x", qop="auth, auth-int", nonce=abc, Bearer realm="https://a.example/t""#,
            ],
            Want::Ok(vec![
                other("Digest"),
                bearer("https://a.example/t", None, &[], None),
            ]),
        ),
        (
            "UTF-8 inside quotes",
            vec![r#"Basic realm="Zürich ☃""#],
            Want::Ok(vec![basic(Some("Zürich ☃"))]),
        ),
        // --- errors ---
        (
            "Bearer without realm",
            vec![r#"Bearer service="x""#],
            Want::Err("without realm"),
        ),
        (
            "relative realm",
            vec![r#"Bearer realm="/token""#],
            Want::Err("is not a URL"),
        ),
        (
            "ftp realm",
            vec![r#"Bearer realm="ftp://a.example/t""#],
            Want::Err("absolute http(s)"),
        ),
        (
            "file realm",
            vec![r#"Bearer realm="file:///etc/passwd""#],
            Want::Err("absolute http(s)"),
        ),
        (
            "Bearer with token68",
            vec!["Bearer QQ=="],
            Want::Err("token68"),
        ),
        (
            "Bearer with a bare word",
            vec!["Bearer realm"],
            Want::Err("token68"),
        ),
        (
            "unterminated quote",
            vec![r#"Basic realm="abc"#],
            Want::Err("unterminated quoted string at byte 12"),
        ),
        (
            "backslash at the end",
            vec![r#"Basic realm="abc\"#],
            Want::Err("unterminated"),
        ),
        (
            "control character in quotes",
            vec!["Basic realm=\"a\u{1}b\""],
            Want::Err("control character"),
        ),
        (
            "newline in quotes",
            vec!["Basic realm=\"a\nb\""],
            Want::Err("control character"),
        ),
        (
            "escaped control character",
            vec!["Basic realm=\"a\\\u{7f}\""],
            Want::Err("invalid escaped character"),
        ),
        (
            "missing comma between params",
            vec![r#"Bearer realm="https://a.example/t" service="x""#],
            Want::Err("expected ','"),
        ),
        (
            "garbage after a quoted value",
            vec![r#"Basic realm="x"y"#],
            Want::Err("expected ','"),
        ),
        (
            "repeated parameter, other case",
            vec![r#"Bearer realm="https://a.example/t",REALM="https://b.example/t""#],
            Want::Err("\"realm\" repeated"),
        ),
        (
            "no space after the scheme",
            vec![r#"Basic="x""#],
            Want::Err("expected a space after the scheme"),
        ),
        (
            "value starts with '='",
            vec!["=abc"],
            Want::Err("expected an authentication scheme at byte 0"),
        ),
        (
            "parameter without a value",
            vec![r#"Bearer realm="https://a.example/t",service=,x=1"#],
            Want::Err("expected a token or a quoted string at byte 43"),
        ),
        (
            // `realm=` is a valid token68, so `service="x"` must start a challenge and cannot.
            "first parameter without a value reads as token68",
            vec![r#"Bearer realm=,service="x""#],
            Want::Err("expected a space after the scheme at byte 21"),
        ),
        (
            "parameter after a token68",
            vec![r#"Newauth abc, realm="x""#],
            Want::Err("expected a space after the scheme"),
        ),
        (
            "one bad value among several",
            vec![r#"Basic realm="x""#, r#"Bearer realm="nope""#],
            Want::Err("is not a URL"),
        ),
    ];
    assert!(cases.len() >= 45, "{} cases", cases.len());
    for (name, values, want) in cases {
        let got = Challenge::parse_all(&values);
        match (want, got) {
            (Want::Ok(expected), Ok(got)) => assert_eq!(got, expected, "case {name:?}"),
            (Want::Err(fragment), Err(Error::InvalidChallenge { reason, .. })) => {
                assert!(
                    reason.contains(fragment),
                    "case {name:?}: reason {reason:?} lacks {fragment:?}"
                )
            }
            (_, got) => panic!("case {name:?}: unexpected {got:?}"),
        }
    }
}

#[test]
fn raw_grammar_table() {
    let p = |s: &str, v: &str| (s.to_owned(), v.to_owned());
    let cases: Vec<(&str, Vec<RawChallenge>)> = vec![
        (
            // The example of RFC 9110 section 11.6.1.
            r#"Basic realm="simple", Newauth realm="apps", type=1, title="Login to \"apps\"""#,
            vec![
                RawChallenge {
                    scheme: "Basic".into(),
                    token68: None,
                    params: vec![p("realm", "simple")],
                },
                RawChallenge {
                    scheme: "Newauth".into(),
                    token68: None,
                    params: vec![
                        p("realm", "apps"),
                        p("type", "1"),
                        p("title", r#"Login to "apps""#),
                    ],
                },
            ],
        ),
        (
            "Negotiate abc+/d.e-f_g~==, Bearer QQ==",
            vec![
                RawChallenge {
                    scheme: "Negotiate".into(),
                    token68: Some("abc+/d.e-f_g~==".into()),
                    params: vec![],
                },
                RawChallenge {
                    scheme: "Bearer".into(),
                    token68: Some("QQ==".into()),
                    params: vec![],
                },
            ],
        ),
        (
            // A token68 that ends in '=' is not a parameter without value.
            "Newauth realm=",
            vec![RawChallenge {
                scheme: "Newauth".into(),
                token68: Some("realm=".into()),
                params: vec![],
            }],
        ),
        (
            "X a=b, c=\"\", Y",
            vec![
                RawChallenge {
                    scheme: "X".into(),
                    token68: None,
                    params: vec![p("a", "b"), p("c", "")],
                },
                RawChallenge {
                    scheme: "Y".into(),
                    token68: None,
                    params: vec![],
                },
            ],
        ),
    ];
    for (input, expected) in cases {
        assert_eq!(
            parse_raw(input.as_bytes()).unwrap(),
            expected,
            "input {input:?}"
        );
    }
}

#[test]
fn rejects_non_utf8_value_but_accepts_header_values() {
    let err = Challenge::parse_value(b"Basic realm=\"\xff\"").unwrap_err();
    assert!(
        matches!(err, Error::InvalidChallenge { ref reason, .. } if reason.contains("not UTF-8")),
        "{err:?}"
    );

    let values = [
        http::HeaderValue::from_static(r#"Bearer realm="https://ghcr.io/token",service="ghcr.io""#),
        http::HeaderValue::from_static(r#"Basic realm="r""#),
    ];
    let got = Challenge::parse_all(&values).unwrap();
    assert_eq!(
        got,
        vec![
            bearer("https://ghcr.io/token", Some("ghcr.io"), &[], None),
            basic(Some("r"))
        ]
    );
    assert_eq!(
        got.iter().map(Challenge::scheme).collect::<Vec<_>>(),
        ["Bearer", "Basic"]
    );
}

#[test]
fn error_quotes_a_bounded_part_of_the_input() {
    let long = format!("Basic realm=\"{}", "é".repeat(400));
    match Challenge::parse_value(&long) {
        Err(Error::InvalidChallenge { input, reason }) => {
            assert!(
                input.chars().count() <= ERROR_INPUT_LIMIT + 1,
                "{} chars",
                input.chars().count()
            );
            assert!(input.starts_with("Basic realm=\"é") && input.ends_with('…'));
            assert!(reason.contains("unterminated"));
        }
        other => panic!("unexpected {other:?}"),
    }
}
