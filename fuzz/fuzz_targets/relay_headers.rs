//! The relay's header rules: what goes upstream, what comes back, what a change of origin strips,
//! and the CORS decision. Credentials never survive a change of scheme, host or port.
#![no_main]

use http::header::{AUTHORIZATION, COOKIE};
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;
use url::Url;
use wharf_relay_rules::{cors, headers, AllowOrigin};

/// `--allow-origin` lists, parsed once: one origin, and that origin plus `*`.
fn allowed() -> &'static [AllowOrigin] {
    static ALLOWED: OnceLock<Vec<AllowOrigin>> = OnceLock::new();
    ALLOWED.get_or_init(|| {
        ["http://127.0.0.1:8080", "*"]
            .iter()
            .map(|s| s.parse().expect("a valid origin"))
            .collect()
    })
}

fuzz_target!(|data: &[u8]| {
    let (urls, lines) = wharf_fuzz::split_at_byte(data, 0);
    let incoming = wharf_fuzz::header_map(lines);
    let out = headers::forward_request(&incoming);
    assert!(out.get(COOKIE).is_none(), "Cookie forwarded upstream");
    assert!(
        out.get("proxy-authorization").is_none(),
        "Proxy-Authorization forwarded"
    );
    let _ = headers::filter_response(&incoming);
    let _ = cors::decide(&incoming, &allowed()[..1]);
    let _ = cors::decide(&incoming, allowed());
    let (from, to) = wharf_fuzz::split_at_byte(urls, b' ');
    let (Some(from), Some(to)) = (wharf_fuzz::text(from), wharf_fuzz::text(to)) else {
        return;
    };
    let (Ok(from), Ok(to)) = (Url::parse(from), Url::parse(to)) else {
        return;
    };
    let same = headers::same_origin(&from, &to);
    let mut out = incoming.clone();
    headers::strip_on_cross_origin(&mut out, &from, &to);
    if !same {
        assert!(
            out.get(AUTHORIZATION).is_none(),
            "{from} -> {to} kept Authorization"
        );
        assert!(out.get(COOKIE).is_none(), "{from} -> {to} kept Cookie");
    }
});
