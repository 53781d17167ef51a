//! Image references as users type them: parse, and a parsed reference prints to a text that parses
//! back to the same reference.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wharf_oci::Reference;

fuzz_target!(|data: &[u8]| {
    let Some(text) = wharf_fuzz::text(data) else {
        return;
    };
    if let Ok(reference) = text.parse::<Reference>() {
        let printed = reference.to_string();
        let again: Reference = printed
            .parse()
            .unwrap_or_else(|e| panic!("{printed:?} (from {text:?}) does not parse: {e}"));
        assert_eq!(again, reference, "round trip of {text:?}");
        let _ = reference.manifest_target().to_string();
    }
});
