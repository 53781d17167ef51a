//! Tag-list pages (`{"name", "tags"}`), every tag validated.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wharf_oci::tags;

fuzz_target!(|data: &[u8]| {
    let _ = tags::decode_tag_list(data);
});
