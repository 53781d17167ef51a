//! Manifests and indexes of every media type, with any Content-Type (or none), and what the page
//! derives from them: platform entries, a platform choice, bottles, and image configs.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wharf_oci::manifest::{self, Expected};
use wharf_oci::{platform, BottleIndex, ImageConfig, Manifest, Platform};

/// Content-Types a registry answers with beyond the manifest types the core accepts.
const OTHER_TYPES: &[&str] = &["application/json", "text/plain; charset=utf-8"];

fuzz_target!(|data: &[u8]| {
    let (which, body) = wharf_fuzz::selector(data);
    // Selector: one of the accepted types, then the others, then no Content-Type at all.
    let which = usize::from(which);
    let content_type = match which.checked_sub(manifest::ACCEPT.len()) {
        None => Some(manifest::ACCEPT[which]),
        Some(other) => OTHER_TYPES.get(other).copied(),
    };
    let _ = ImageConfig::from_json(body);
    let Ok(fetched) = manifest::decode(content_type, body, &Expected::default()) else {
        return;
    };
    let _ = fetched.manifest.total_size();
    let _ = fetched.manifest.descriptors();
    if let Manifest::Index(index) = &fetched.manifest {
        for entry in platform::entries(index) {
            if let Some(wanted) = entry.platform {
                let _ = platform::select(index, wanted);
            }
        }
        let _ = platform::select(index, &Platform::new("linux", "amd64", None));
        if let Ok(Some(bottles)) = BottleIndex::from_index(index, "homebrew/core/vim") {
            let _ = bottles.select("arm64_sonoma");
        }
    }
});
