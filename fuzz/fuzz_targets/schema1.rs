//! Docker schema 1 manifests, signed (JWS, with the canonical payload rebuilt from
//! `protected`) and unsigned, read as the legacy registries answer them.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wharf_oci::manifest::{self, Expected, DOCKER_V1, DOCKER_V1_SIGNED};

/// Selector 0 and 1: the two schema 1 types; 2: no Content-Type (the kind is sniffed).
const TYPES: &[&str] = &[DOCKER_V1_SIGNED, DOCKER_V1];

fuzz_target!(|data: &[u8]| {
    let (which, body) = wharf_fuzz::selector(data);
    let content_type = TYPES.get(usize::from(which % 3)).copied();
    let _ = manifest::decode(content_type, body, &Expected::default());
});
