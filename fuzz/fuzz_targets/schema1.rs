//! Docker schema 1 manifests, signed (JWS, with the canonical payload rebuilt from
//! `protected`) and unsigned, read as the legacy registries answer them.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wharf_oci::manifest::{self, Expected};

const TYPES: &[&str] = &[
    "application/vnd.docker.distribution.manifest.v1+prettyjws",
    "application/vnd.docker.distribution.manifest.v1+json",
];

fuzz_target!(|data: &[u8]| {
    let (which, body) = wharf_fuzz::selector(data);
    let content_type = TYPES.get(usize::from(which % 3)).copied();
    let _ = manifest::decode(content_type, body, &Expected::default());
});
