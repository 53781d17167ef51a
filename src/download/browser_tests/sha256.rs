//! `wharf_oci`'s SHA-256 as the worker runs it (wasm32 with SIMD128, hand-written there) against
//! WebCrypto's `crypto.subtle.digest` and the FIPS 180-4 examples: every length up to 300 bytes,
//! block boundaries up to 1 MiB and past it, and many ways of cutting the same bytes into chunks.

use js_sys::{ArrayBuffer, Promise};
use wasm_bindgen::JsValue;
use wasm_bindgen_futures::JsFuture;
use wharf_oci::digest::Hasher;
use wharf_oci::Algorithm;

use super::*;

/// WebCrypto's SHA-256 of `bytes`, in lowercase hex.
async fn webcrypto(bytes: &[u8]) -> String {
    let digest = Function::new_with_args("bytes", "return crypto.subtle.digest('SHA-256', bytes);");
    let promise: Promise = digest
        .call1(&JsValue::NULL, &Uint8Array::from(bytes))
        .expect("crypto.subtle.digest")
        .unchecked_into();
    let buffer: ArrayBuffer = JsFuture::from(promise)
        .await
        .expect("digest resolves")
        .unchecked_into();
    Uint8Array::new(&buffer)
        .to_vec()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Ours, fed in chunks of the given sizes (cycled until the bytes run out).
fn ours_in_chunks(bytes: &[u8], sizes: &[usize]) -> String {
    let mut hasher = Hasher::new(Algorithm::Sha256);
    let mut rest = bytes;
    for &size in sizes.iter().cycle() {
        if rest.is_empty() {
            break;
        }
        let (chunk, tail) = rest.split_at(size.min(rest.len()));
        hasher.update(chunk);
        rest = tail;
    }
    hasher.finish().hex().to_owned()
}

fn ours(bytes: &[u8]) -> String {
    Digest::sha256_of(bytes).hex().to_owned()
}

#[wasm_bindgen_test]
fn fips_180_examples() {
    let million_a = vec![b'a'; 1_000_000];
    let cases: &[(&str, &[u8], &str)] = &[
        (
            "empty",
            b"",
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        ),
        (
            "abc",
            b"abc",
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
        ),
        (
            "448 bits",
            b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
        ),
        (
            "896 bits",
            b"abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
            "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1",
        ),
        (
            "one million a",
            &million_a,
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0",
        ),
    ];
    for (name, bytes, want) in cases {
        assert_eq!(ours(bytes), *want, "{name}: one call");
        assert_eq!(ours_in_chunks(bytes, &[63, 65]), *want, "{name}: 63 + 65");
        if bytes.len() < 1000 {
            assert_eq!(ours_in_chunks(bytes, &[1]), *want, "{name}: byte by byte");
        }
    }
}

#[wasm_bindgen_test]
async fn every_length_up_to_300_matches_webcrypto() {
    let bytes = data(300, 7);
    for len in 0..=300 {
        let part = &bytes[..len];
        let want = webcrypto(part).await;
        assert_eq!(ours(part), want, "length {len}");
        assert_eq!(
            ours_in_chunks(part, &[7, 64, 1]),
            want,
            "length {len} in chunks"
        );
    }
}

#[wasm_bindgen_test]
async fn block_boundaries_up_to_past_one_mib_match_webcrypto() {
    const MIB: usize = 1 << 20;
    let bytes = data(MIB + 200, 11);
    let mut lengths = vec![MIB - 1, MIB, MIB + 1, MIB + 56, MIB + 199];
    for blocks in [2, 3, 7, 16, 17, 255, 1000] {
        lengths.extend([
            64 * blocks - 9,
            64 * blocks - 8,
            64 * blocks - 1,
            64 * blocks,
        ]);
        lengths.extend([64 * blocks + 1, 64 * blocks + 55, 64 * blocks + 56]);
    }
    for len in lengths {
        let part = &bytes[..len];
        assert_eq!(ours(part), webcrypto(part).await, "length {len}");
    }
}

#[wasm_bindgen_test]
async fn any_chunking_gives_the_same_digest() {
    // Splits with small chunks only on the smaller inputs: the tests run unoptimized.
    let small: &[&[usize]] = &[
        &[1],
        &[2],
        &[3],
        &[55],
        &[56],
        &[63],
        &[64],
        &[65],
        &[0, 5, 0, 64],
        &[1, 63, 64, 65, 127, 128, 129],
    ];
    let large: &[&[usize]] = &[
        &[129],
        &[4096],
        &[1 << 20],
        &[200_000, 3, 61, 1],
        &[65_536, 65_535, 65_537],
    ];
    for (len, seed, splits) in [
        (1000, 21, small),
        (100_003, 22, small),
        (100_003, 22, large),
        ((1 << 20) + 77, 23, large),
    ] {
        let bytes = data(len, seed);
        let want = webcrypto(&bytes).await;
        // Every row has a non-zero size, so each split consumes all the bytes.
        for sizes in splits {
            assert_eq!(
                ours_in_chunks(&bytes, sizes),
                want,
                "{len} bytes in {sizes:?}"
            );
        }
        let mut x = seed;
        let random: Vec<usize> = (0..64)
            .map(|_| {
                x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
                (x >> 33) as usize % 3000
            })
            .collect();
        assert_eq!(
            ours_in_chunks(&bytes, &random),
            want,
            "{len} bytes, random cuts"
        );
    }
}

#[wasm_bindgen_test]
fn a_cloned_hasher_continues_independently() {
    let bytes = data(5000, 31);
    let mut first = Hasher::new(Algorithm::Sha256);
    first.update(&bytes[..1234]);
    let mut second = first.clone();
    first.update(&bytes[1234..]);
    second.update(&bytes[1234..4000]);
    assert_eq!(first.finish(), Digest::sha256_of(&bytes));
    assert_eq!(second.finish(), Digest::sha256_of(&bytes[..4000]));
}
