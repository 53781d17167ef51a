//! `Retry-After` (seconds or an HTTP date, at any clock reading), `RateLimit-*` quotas, and
//! registry error documents of 4xx/5xx answers.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wharf_oci::request::{self, RateLimit, RegistryErrors};

fuzz_target!(|data: &[u8]| {
    let (now, rest) = wharf_fuzz::number(data);
    let _ = RegistryErrors::decode(rest);
    let _ = request::error_from_response(429, rest);
    let _ = RateLimit::from_headers(&wharf_fuzz::header_map(rest), now);
    if let Some(text) = wharf_fuzz::text(rest) {
        let _ = request::parse_retry_after(text, now);
        let _ = request::parse_quota(text);
    }
});
