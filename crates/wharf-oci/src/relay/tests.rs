use super::*;

fn url(s: &str) -> Url {
    Url::parse(s).expect("test URL")
}

#[test]
fn parses_and_applies_templates() {
    let upstream = url("https://registry-1.docker.io/v2/library/alpine/manifests/3.20?x=1&y=a b");
    let cases: &[(&str, &str)] = &[
        (
            "/relay/{url}",
            "/relay/https://registry-1.docker.io/v2/library/alpine/manifests/3.20?x=1&y=a%20b",
        ),
        (
            "https://relay.example/relay/{url}",
            "https://relay.example/relay/https://registry-1.docker.io/v2/library/alpine/manifests/3.20?x=1&y=a%20b",
        ),
        (
            "https://corsproxy.example/?url={url_encoded}",
            "https://corsproxy.example/?url=https%3A%2F%2Fregistry-1.docker.io%2Fv2%2Flibrary%2Falpine%2Fmanifests%2F3.20%3Fx%3D1%26y%3Da%2520b",
        ),
        (
            "  http://127.0.0.1:8080/p?u={url_encoded}&mode=raw ",
            "http://127.0.0.1:8080/p?u=https%3A%2F%2Fregistry-1.docker.io%2Fv2%2Flibrary%2Falpine%2Fmanifests%2F3.20%3Fx%3D1%26y%3Da%2520b&mode=raw",
        ),
        (
            "direct",
            "https://registry-1.docker.io/v2/library/alpine/manifests/3.20?x=1&y=a%20b",
        ),
        (
            " DIRECT ",
            "https://registry-1.docker.io/v2/library/alpine/manifests/3.20?x=1&y=a%20b",
        ),
    ];
    for (template, want) in cases {
        let parsed = RelayTemplate::parse(template).unwrap_or_else(|e| panic!("{template}: {e}"));
        assert_eq!(parsed.apply(&upstream), *want, "template {template}");
    }
}

#[test]
fn encoded_placeholder_keeps_uri_component_safe_characters() {
    let t = RelayTemplate::parse("https://p.example/?u={url_encoded}").expect("valid");
    let got = t.apply(&url("https://h.example/a-b_c.d!~*'()"));
    assert_eq!(
        got,
        "https://p.example/?u=https%3A%2F%2Fh.example%2Fa-b_c.d!~*'()"
    );
}

#[test]
fn rejects_bad_templates() {
    let cases: &[(&str, &str)] = &[
        ("", "empty"),
        ("   ", "empty"),
        ("https://relay.example/relay/", "no {url}"),
        ("https://relay.example/{url}/{url}", "exactly one"),
        ("https://relay.example/{url}?e={url_encoded}", "exactly one"),
        ("https://relay.example/{uri}/{url}", "unknown placeholder"),
        ("ftp://relay.example/{url}", "http or https"),
        ("//relay.example/{url}", "scheme-relative"),
        ("{url}", "must start"),
        ("relay.example/{url}", "not a URL"),
        ("https:///{url}", "not a URL"),
        ("https://{url}", "not a URL"),
        ("https://relay.example{url}", "host must come before"),
        ("http:relay.example/{url}", "not a URL"),
    ];
    for (input, fragment) in cases {
        match RelayTemplate::parse(input) {
            Err(Error::InvalidRelay { input: got, reason }) => {
                assert_eq!(&got, input);
                assert!(
                    reason.contains(fragment),
                    "{input:?}: reason {reason:?} lacks {fragment:?}"
                );
            }
            other => panic!("{input:?} gave {other:?}"),
        }
    }
}

#[test]
fn display_round_trips() {
    for input in [
        "direct",
        "/relay/{url}",
        "https://corsproxy.example/?url={url_encoded}",
        "https://r.example/x/{url}/end",
    ] {
        let parsed = RelayTemplate::parse(input).expect("valid");
        assert_eq!(parsed.to_string(), input);
        assert_eq!(
            RelayTemplate::parse(&parsed.to_string()).expect("again"),
            parsed
        );
    }
}

#[test]
fn serde_uses_the_template_string() {
    let t = RelayTemplate::parse("https://corsproxy.example/?url={url_encoded}").expect("valid");
    let json = serde_json::to_string(&t).expect("serialize");
    assert_eq!(json, r#""https://corsproxy.example/?url={url_encoded}""#);
    let back: RelayTemplate = serde_json::from_str(&json).expect("deserialize");
    assert_eq!(back, t);
    let bad = serde_json::from_str::<RelayTemplate>(r#""https://x.example/none""#);
    assert!(bad.is_err());
}

#[test]
fn default_is_wharf_relay_route_and_direct_is_detected() {
    let d = RelayTemplate::default();
    assert_eq!(d.to_string(), "/relay/{url}");
    assert!(!d.is_direct());
    assert!(RelayTemplate::parse("direct").expect("direct").is_direct());
}

#[test]
fn several_relays_in_one_setting() {
    let cases: &[(&str, Result<&[&str], &str>)] = &[
        ("/relay/{url}", Ok(&["/relay/{url}"])),
        (
            "/relay/{url}  https://other.example/relay/{url}\nhttps://p.example/?url={url_encoded}",
            Ok(&[
                "/relay/{url}",
                "https://other.example/relay/{url}",
                "https://p.example/?url={url_encoded}",
            ]),
        ),
        ("direct /relay/{url}", Ok(&["direct", "/relay/{url}"])),
        ("", Err("empty")),
        ("   ", Err("empty")),
        ("/relay/{url} ftp://x/{url}", Err("http or https")),
        ("/relay/{url} /other", Err("no {url}")),
    ];
    for (input, want) in cases {
        let got = RelayTemplate::parse_list(input)
            .map(|list| list.iter().map(ToString::to_string).collect::<Vec<_>>())
            .map_err(|e| e.to_string());
        match (got, want) {
            (Ok(list), Ok(want)) => assert_eq!(list, *want, "{input:?}"),
            (Err(e), Err(needle)) => assert!(e.contains(needle), "{input:?}: {e}"),
            (got, want) => panic!("{input:?}: {got:?}, wanted {want:?}"),
        }
    }
}
