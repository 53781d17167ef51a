//! The download worker's hasher (`wharf_oci::digest::Hasher`), exported to JavaScript so that the
//! benchmark page can time it against hash-wasm and WebCrypto on the same bytes.
//!
//! `update(&[u8])` copies each chunk from a JS `Uint8Array` into Wasm memory once, as the worker
//! copies each BYOB chunk into its Wasm buffer before hashing it.

use wasm_bindgen::prelude::*;
use wharf_oci::digest::Hasher;
use wharf_oci::Algorithm;

/// A streaming SHA-256.
#[wasm_bindgen]
pub struct Sha256 {
    inner: Option<Hasher>,
}

impl Default for Sha256 {
    fn default() -> Self {
        Sha256::new()
    }
}

#[wasm_bindgen]
impl Sha256 {
    #[wasm_bindgen(constructor)]
    pub fn new() -> Sha256 {
        Sha256 {
            inner: Some(Hasher::new(Algorithm::Sha256)),
        }
    }

    /// Hashes the next chunk.
    pub fn update(&mut self, bytes: &[u8]) {
        if let Some(hasher) = self.inner.as_mut() {
            hasher.update(bytes);
        }
    }

    /// The lowercase hex digest; the hasher starts over afterwards.
    pub fn finish(&mut self) -> String {
        let hasher = self
            .inner
            .replace(Hasher::new(Algorithm::Sha256))
            .unwrap_or_else(|| Hasher::new(Algorithm::Sha256));
        hasher.finish().hex().to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::Sha256;

    #[test]
    fn chunked_hash_matches_the_known_digest() {
        let mut hasher = Sha256::new();
        hasher.update(b"hello ");
        hasher.update(b"world");
        assert_eq!(
            hasher.finish(),
            "b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9"
        );
        assert_eq!(
            hasher.finish(),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            "a finished hasher starts over"
        );
    }
}
