//! `Content-Range` of a ranged blob answer: what parses is a range the page can check.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wharf_oci::request::ContentRange;

fuzz_target!(|data: &[u8]| {
    let Some(text) = wharf_fuzz::text(data) else {
        return;
    };
    if let Ok(range) = ContentRange::parse(text) {
        assert!(range.start <= range.end, "{text:?} gave {range:?}");
        if let Some(total) = range.total {
            assert!(range.end < total, "{text:?} gave {range:?}");
        }
    }
});
