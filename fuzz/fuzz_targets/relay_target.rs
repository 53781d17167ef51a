//! The relay's `/relay/<url>` target parsing and its allowlist check, for a client's target and
//! for a redirect's `Location`. Whatever passes must be a host the policy names.
#![no_main]

use http::{HeaderValue, Uri};
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;
use wharf_relay_rules::policy::{Hop, Policy};
use wharf_relay_rules::target::{parse_target, redirect_location};
use wharf_relay_rules::AllowHost;

/// Built once, not per input: two explicit entries besides the built-in registries.
fn policy() -> &'static Policy {
    static POLICY: OnceLock<Policy> = OnceLock::new();
    POLICY.get_or_init(|| {
        let explicit: Vec<AllowHost> = ["http://127.0.0.1:5000", "https://registry.example:8443"]
            .iter()
            .map(|s| s.parse().expect("a valid entry"))
            .collect();
        Policy::new(explicit)
    })
}

fuzz_target!(|data: &[u8]| {
    let (path, location) = wharf_fuzz::split_at_byte(data, b'\n');
    let Ok(uri) = Uri::try_from(path) else {
        return;
    };
    let Ok(url) = parse_target(&uri) else {
        return;
    };
    let policy = policy();
    let checked = policy.check(&url, Hop::Client);
    if checked.is_ok() {
        assert!(url.host_str().is_some(), "{url} passed without a host");
        assert!(matches!(url.scheme(), "http" | "https"), "{url} passed");
    }
    // Which statuses are followed is a table test beside redirect_location; one suffices here.
    let Ok(location) = HeaderValue::from_bytes(location) else {
        return;
    };
    if let Ok(Some(next)) = redirect_location(302, Some(&location), &url) {
        if policy.check(&next, Hop::Redirect).is_ok() {
            assert!(
                next.host_str().is_some(),
                "redirect to {next} passed without a host"
            );
        }
    }
});
