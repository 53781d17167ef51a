//! Token server answers (`{"token", "access_token", "expires_in", "issued_at"}`), and the
//! RFC 3339 times in them.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wharf_oci::auth::{Timestamp, TokenResponse};

fuzz_target!(|data: &[u8]| {
    let _ = TokenResponse::parse(data);
    if let Some(text) = wharf_fuzz::text(data) {
        let _ = Timestamp::parse_rfc3339(text);
    }
});
