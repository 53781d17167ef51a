//! Manifests and indexes of every media type, with any Content-Type (or none), and what the page
//! derives from them: platform entries, a platform choice, bottles, and image configs.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wharf_oci::manifest::{self, Expected};
use wharf_oci::{platform, BottleIndex, ImageConfig, Manifest, Platform};

const TYPES: &[&str] = &[
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.docker.distribution.manifest.v1+prettyjws",
    "application/vnd.docker.distribution.manifest.v1+json",
    "application/json",
    "text/plain; charset=utf-8",
];

fuzz_target!(|data: &[u8]| {
    let (which, body) = wharf_fuzz::selector(data);
    let content_type = TYPES.get(usize::from(which)).copied();
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
