//! Digests (`sha256:<hex>`, `sha512:<hex>`, as headers, URLs and documents give them), and the
//! streaming verifier fed in uneven pieces.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wharf_oci::{Digest, Verifier};

fuzz_target!(|data: &[u8]| {
    let (split, rest) = wharf_fuzz::selector(data);
    let (head, body) = wharf_fuzz::split_at_byte(rest, b'\n');
    let Some(text) = wharf_fuzz::text(head) else {
        return;
    };
    let Ok(digest) = text.parse::<Digest>() else {
        return;
    };
    let again: Digest = digest
        .to_string()
        .parse()
        .expect("a digest prints as a digest");
    assert_eq!(again, digest);
    let size = body.len() as u64;
    let mut verifier = Verifier::new(digest.clone(), size);
    let cut = usize::from(split).min(body.len());
    let first = verifier
        .update(&body[..cut])
        .and_then(|()| verifier.update(&body[cut..]));
    assert!(first.is_ok(), "the declared size was exceeded");
    let mut whole = Verifier::new(digest, size);
    whole.update(body).expect("the declared size");
    assert_eq!(verifier.finish().is_ok(), whole.finish().is_ok());
});
