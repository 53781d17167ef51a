//! Platforms as users and deep links write them (`linux/arm64/v8`), and Homebrew's macOS tags.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wharf_oci::{MacOs, Platform};

fuzz_target!(|data: &[u8]| {
    let Some(text) = wharf_fuzz::text(data) else {
        return;
    };
    if let Ok(platform) = text.parse::<Platform>() {
        let normalized = platform.normalized();
        assert!(platform.same_target(&normalized), "{text:?}");
    }
    let _ = MacOs::from_tag(text);
    let _ = MacOs::from_os_version(text);
});
