//! `Link` headers of tag-list pages (`<url>; rel="next"`), resolved against the page's URL.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wharf_oci::tags;

fuzz_target!(|data: &[u8]| {
    if let Some(text) = wharf_fuzz::text(data) {
        let _ = tags::parse_link(text);
    }
});
