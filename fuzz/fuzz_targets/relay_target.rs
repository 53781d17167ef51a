//! The relay's `/relay/<url>` target parsing and its allowlist check, for a client's target and
//! for a redirect's `Location`. Whatever passes must be a host the policy names.
#![no_main]

use http::{HeaderValue, Uri};
use libfuzzer_sys::fuzz_target;
use wharf_relay::policy::{Hop, Policy};
use wharf_relay::proxy::{parse_target, redirect_location};
use wharf_relay::AllowHost;

fuzz_target!(|data: &[u8]| {
    let (path, location) = wharf_fuzz::split_at_byte(data, b'\n');
    let Ok(uri) = Uri::try_from(path) else {
        return;
    };
    let Ok(url) = parse_target(&uri) else {
        return;
    };
    let explicit: Vec<AllowHost> = ["http://127.0.0.1:5000", "https://registry.example:8443"]
        .iter()
        .map(|s| s.parse().expect("a valid entry"))
        .collect();
    let policy = Policy::new(explicit);
    let checked = policy.check(&url, Hop::Client);
    if checked.is_ok() {
        assert!(url.host_str().is_some(), "{url} passed without a host");
        assert!(matches!(url.scheme(), "http" | "https"), "{url} passed");
    }
    if let Ok(location) = HeaderValue::from_bytes(location) {
        for status in [200, 302, 307, 308] {
            if let Ok(Some(next)) = redirect_location(status, Some(&location), &url) {
                let _ = policy.check(&next, Hop::Redirect);
            }
        }
    }
});
