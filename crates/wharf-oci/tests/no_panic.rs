//! Bad input gets a typed error, never a panic: every parser at the boundary is fed many broken
//! variants of real inputs (every truncation, and bytes swapped for tricky ones).

use wharf_oci::auth::{Challenge, TokenResponse};
use wharf_oci::manifest::{self, Expected, ImageConfig};
use wharf_oci::{Digest, Platform, Reference};

const TRICKY: &[&str] = &[
    "",
    ":",
    "@",
    "/",
    "\"",
    "\\",
    ",",
    "=",
    " ",
    "\u{0}",
    "é",
    "{",
    "}",
    "[",
    "]",
    "-1",
    "9999999999999999999999",
];

/// Every prefix of `seed`, and `seed` with each char position replaced by each tricky string.
fn variants(seed: &str) -> Vec<String> {
    let chars: Vec<char> = seed.chars().collect();
    let mut out: Vec<String> = (0..=chars.len())
        .map(|n| chars[..n].iter().collect())
        .collect();
    let step = (chars.len() / 64).max(1);
    for i in (0..chars.len()).step_by(step) {
        for t in TRICKY {
            let mut s: String = chars[..i].iter().collect();
            s.push_str(t);
            s.extend(&chars[i + 1..]);
            out.push(s);
        }
    }
    out
}

#[test]
fn text_parsers_never_panic() {
    let seeds = [
        "localhost:5000/library/alpine:3.19@sha256:14b55f5bb845c7b810283290ce057f175de87838be56f49060e941580032c60c",
        "ghcr.io/homebrew/core/vim:9.0.1900",
        "sha512:00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff",
        "linux/arm64/v8",
    ];
    let mut parsed = 0;
    for seed in seeds {
        for v in variants(seed) {
            parsed += usize::from(v.parse::<Reference>().is_ok());
            parsed += usize::from(v.parse::<Digest>().is_ok());
            parsed += usize::from(v.parse::<Platform>().is_ok());
        }
    }
    assert!(parsed > 0, "some variants are valid");
}

#[test]
fn challenge_parser_never_panics() {
    let seed = r#"Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/alpine:pull repository:x:pull", Basic realm="a\"b""#;
    for v in variants(seed) {
        let _ = Challenge::parse_all(&[v.as_str()]);
    }
}

#[test]
fn document_decoders_never_panic() {
    let documents = [
        include_str!("fixtures/alpine-manifest-list.json"),
        include_str!("fixtures/alpine-amd64-manifest.json"),
        include_str!("fixtures/hitch-schema1.json"),
        include_str!("fixtures/homebrew-vim-9.0.1900-index.json"),
        include_str!("fixtures/alpine-amd64-config.json"),
        r#"{"token":"abc","expires_in":300,"issued_at":"2024-01-01T00:00:00Z"}"#,
    ];
    let mut decoded = 0;
    for doc in documents {
        for v in variants(doc) {
            let body = v.as_bytes();
            decoded += usize::from(manifest::decode(None, body, &Expected::default()).is_ok());
            let _ = ImageConfig::from_json(body);
            let _ = TokenResponse::parse(body);
            let _ = wharf_oci::tags::decode_tag_list(body);
        }
    }
    assert!(decoded > 0, "the untouched documents decode");
}
