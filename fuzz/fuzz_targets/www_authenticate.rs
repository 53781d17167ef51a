//! `WWW-Authenticate` values from any server (the relay carries them from the registry verbatim).
#![no_main]

use libfuzzer_sys::fuzz_target;
use wharf_oci::auth::{next_action, Credentials, Scope, Secret};

fuzz_target!(|data: &[u8]| {
    let values: Vec<&[u8]> = data.split(|b| *b == b'\n').collect();
    // next_action parses the values itself (Challenge::parse_all), then decides on them.
    let wanted: Vec<Scope> = Scope::pull("library/alpine").into_iter().collect();
    let credentials = Credentials::UserPassword {
        username: "user".into(),
        password: Secret::new("secret"),
    };
    let _ = next_action(&values, None, &wanted);
    let _ = next_action(&values, Some(&credentials), &wanted);
});
