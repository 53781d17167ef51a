use super::*;

use http::HeaderValue;

fn tags(list: &TagList) -> Vec<&str> {
    list.tags.iter().map(Tag::as_str).collect()
}

#[test]
fn tag_list_table() {
    let ok: &[(&str, &str, &[&str])] = &[
        (
            r#"{"name":"library/alpine","tags":["3.19","3.20","latest"]}"#,
            "library/alpine",
            &["3.19", "3.20", "latest"],
        ),
        (r#"{"name":"test","tags":null}"#, "test", &[]),
        (r#"{"name":"test"}"#, "test", &[]),
        (r#"{"name":"test","tags":[]}"#, "test", &[]),
        (
            r#"{"name":"homebrew/core/vim","tags":["9.0.1900","9.0.1900_1"],"extra":{}}"#,
            "homebrew/core/vim",
            &["9.0.1900", "9.0.1900_1"],
        ),
        (
            r#"{"tags":["sha256-14b55f5bb845c7b810283290ce057f175de87838be56f49060e941580032c60c"],"name":"x"}"#,
            "x",
            &["sha256-14b55f5bb845c7b810283290ce057f175de87838be56f49060e941580032c60c"],
        ),
    ];
    for (body, name, want) in ok {
        let list = decode_tag_list(body.as_bytes()).unwrap();
        assert_eq!(list.name, *name);
        assert_eq!(&tags(&list), want, "{body}");
    }
    let bad = [
        "",
        "[]",
        "null",
        r#"{"tags":["a"]}"#,
        r#"{"name":"x","tags":"a"}"#,
        r#"{"name":"x","tags":[1]}"#,
        r#"{"name":"x","tags":["ok","-bad"]}"#,
        r#"{"name":"x","tags":[""]}"#,
        r#"{"name":"x","tags":["#,
    ];
    for body in bad {
        let err = decode_tag_list(body.as_bytes()).unwrap_err();
        assert!(
            matches!(err, Error::InvalidTagList { .. }),
            "{body:?} gave {err:?}"
        );
    }
    let err = decode_tag_list(br#"{"name":"x","tags":["-bad"]}"#).unwrap_err();
    assert!(err.to_string().contains("\"-bad\" is not a valid tag"));
}

#[test]
fn link_values_parse() {
    let links = parse_link(
        r#"</v2/x/tags/list?n=2&last=b>; rel="next"; title="a, b; \"c\"", <https://r.io/p>;rel=prev"#,
    )
    .unwrap();
    assert_eq!(links.len(), 2);
    assert_eq!(links[0].target, "/v2/x/tags/list?n=2&last=b");
    assert_eq!(
        links[0].params,
        vec![
            ("rel".to_owned(), "next".to_owned()),
            ("title".to_owned(), "a, b; \"c\"".to_owned())
        ]
    );
    assert!(links[0].has_rel("next"));
    assert!(!links[0].has_rel("prev"));
    assert_eq!(links[1].target, "https://r.io/p");
    assert!(links[1].has_rel("prev"));
    assert!(parse_link("").unwrap().is_empty());

    let bad = [
        "/v2/x; rel=next",
        "</v2/x; rel=next",
        r#"</v2/x>; rel="next"#,
        "</v2/x> rel=next",
        "</v2/x>; =next",
        "</v2/x>; rel=next junk",
    ];
    for value in bad {
        let err = parse_link(value).unwrap_err();
        assert!(
            matches!(err, Error::InvalidLink { .. }),
            "{value:?} gave {err:?}"
        );
    }
}

#[test]
fn next_link_table() {
    let base = Url::parse("http://127.0.0.1:5000/v2/x/tags/list?n=2").unwrap();
    let ok: &[(&[&str], Option<&str>)] = &[
        // distribution 2.8.2
        (
            &[r#"</v2/x/tags/list?last=b&n=2>; rel="next""#],
            Some("http://127.0.0.1:5000/v2/x/tags/list?last=b&n=2"),
        ),
        // unquoted rel, odd spacing, extra parameters
        (
            &["</v2/x/tags/list?n=2&last=b> ;rel=next;type=\"application/json\""],
            Some("http://127.0.0.1:5000/v2/x/tags/list?n=2&last=b"),
        ),
        // rel in capitals, several relations
        (
            &[r#"</v2/x/tags/list?last=c>; REL="prefetch NEXT""#],
            Some("http://127.0.0.1:5000/v2/x/tags/list?last=c"),
        ),
        // absolute URL on the same origin
        (
            &[r#"<http://127.0.0.1:5000/v2/x/tags/list?n=2&last=b>; rel="next""#],
            Some("http://127.0.0.1:5000/v2/x/tags/list?n=2&last=b"),
        ),
        // relative to the request path
        (
            &[r#"<list?last=d>; rel="next""#],
            Some("http://127.0.0.1:5000/v2/x/tags/list?last=d"),
        ),
        // the next link among others, and in a second header
        (
            &[r#"</v2/x/tags/list?last=a>; rel="prev", </v2/x/tags/list?last=e>; rel="next""#],
            Some("http://127.0.0.1:5000/v2/x/tags/list?last=e"),
        ),
        (
            &[
                r#"</a>; rel="prev""#,
                r#"</v2/x/tags/list?last=f>; rel="next""#,
            ],
            Some("http://127.0.0.1:5000/v2/x/tags/list?last=f"),
        ),
        // last page
        (&[], None),
        (&[r#"</v2/x/tags/list?last=a>; rel="prev""#], None),
    ];
    for (values, want) in ok {
        let got = next_link(values.iter().copied(), &base).unwrap();
        assert_eq!(got.as_ref().map(Url::as_str), *want, "{values:?}");
    }
    let bad: &[&str] = &[
        r#"<https://evil.example/v2/x/tags/list?last=b>; rel="next""#,
        r#"<https://127.0.0.1:5000/v2/x/tags/list?last=b>; rel="next""#,
        r#"<http://127.0.0.1:5001/v2/x/tags/list?last=b>; rel="next""#,
        r#"</v2/x/tags/list?n=2>; rel="next""#,
        r#"<http://[::1>; rel="next""#,
        r#"</v2/x/tags/list?last=b; rel="next""#,
    ];
    for value in bad {
        let err = next_link([*value], &base).unwrap_err();
        assert!(
            matches!(err, Error::InvalidLink { .. }),
            "{value:?} gave {err:?}"
        );
    }
}

#[test]
fn next_page_follows_links_until_the_end() {
    let reference: crate::Reference = "localhost:5000/x".parse().unwrap();
    let first = crate::request::tag_list(&reference, Some(2), None).unwrap();
    let mut headers = HeaderMap::new();
    headers.append(
        LINK,
        HeaderValue::from_static(r#"</v2/x/tags/list?last=b&n=2>; rel="next""#),
    );
    let second = next_page(&first, &headers).unwrap().unwrap();
    assert_eq!(
        second.url.as_str(),
        "http://localhost:5000/v2/x/tags/list?last=b&n=2"
    );
    assert_eq!(second.method, first.method);
    assert_eq!(second.headers, first.headers, "the Accept header is kept");
    assert_eq!(
        last_of(&second.url).unwrap().map(|t| t.to_string()),
        Some("b".into())
    );
    assert_eq!(last_of(&first.url).unwrap(), None);

    assert_eq!(next_page(&second, &HeaderMap::new()).unwrap(), None);

    let mut bad = HeaderMap::new();
    bad.append(
        LINK,
        HeaderValue::from_bytes(b"</v2/\xff>; rel=next").unwrap(),
    );
    assert!(matches!(
        next_page(&first, &bad),
        Err(Error::InvalidLink { .. })
    ));

    let url = Url::parse("http://localhost:5000/v2/x/tags/list?last=-x").unwrap();
    assert!(matches!(last_of(&url), Err(Error::InvalidReference { .. })));
}
