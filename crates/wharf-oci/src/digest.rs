//! Content digests (`sha256:<hex>`, `sha512:<hex>`) and streaming verification.
//!
//! A [`Digest`] is validated once, when it is parsed: the algorithm is one we can verify and the
//! hex part is lowercase and of the right length. Unknown algorithms are refused here, before any
//! download starts. A [`Verifier`] hashes bytes as they stream in and checks size and digest.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha2::Digest as _;

use crate::error::{Error, Result};

// In the browser (wasm32 with SIMD128) SHA-256 is hand-written for speed; sha2 everywhere else.
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod sha256_simd;
#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
use sha2::Sha256;
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
use sha256_simd::Sha256;

/// A digest algorithm that wharf can verify.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Algorithm {
    Sha256,
    Sha512,
}

impl Algorithm {
    pub fn name(self) -> &'static str {
        match self {
            Algorithm::Sha256 => "sha256",
            Algorithm::Sha512 => "sha512",
        }
    }

    /// Length of the hex encoding of a digest of this algorithm.
    pub fn hex_len(self) -> usize {
        match self {
            Algorithm::Sha256 => 64,
            Algorithm::Sha512 => 128,
        }
    }

    fn from_name(name: &str) -> Option<Self> {
        match name {
            "sha256" => Some(Algorithm::Sha256),
            "sha512" => Some(Algorithm::Sha512),
            _ => None,
        }
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A validated content digest such as `sha256:14b55f5b…`.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Digest {
    algorithm: Algorithm,
    hex: String,
}

impl Digest {
    /// Builds a digest from an algorithm and its hex part (validated).
    pub fn new(algorithm: Algorithm, hex: &str) -> Result<Self> {
        check_hex(algorithm, hex).map_err(|reason| Error::InvalidDigest {
            input: format!("{algorithm}:{hex}"),
            reason,
        })?;
        Ok(Digest {
            algorithm,
            hex: hex.to_owned(),
        })
    }

    /// The sha256 digest of `bytes`.
    pub fn sha256_of(bytes: &[u8]) -> Self {
        Digest::of(Algorithm::Sha256, bytes)
    }

    /// The digest of `bytes` with `algorithm`.
    pub fn of(algorithm: Algorithm, bytes: &[u8]) -> Self {
        let mut hasher = Hasher::new(algorithm);
        hasher.update(bytes);
        hasher.finish()
    }

    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    /// The hex part, without the algorithm.
    pub fn hex(&self) -> &str {
        &self.hex
    }
}

fn check_hex(algorithm: Algorithm, hex: &str) -> std::result::Result<(), String> {
    if hex.len() != algorithm.hex_len() {
        return Err(format!(
            "{algorithm} needs {} hex digits, found {}",
            algorithm.hex_len(),
            hex.len()
        ));
    }
    match hex.chars().find(|c| !matches!(c, '0'..='9' | 'a'..='f')) {
        Some(c) if c.is_ascii_hexdigit() => Err(format!("hex must be lowercase, found {c:?}")),
        Some(c) => Err(format!("{c:?} is not a hex digit")),
        None => Ok(()),
    }
}

fn to_hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(DIGITS[usize::from(b >> 4)] as char);
        out.push(DIGITS[usize::from(b & 0x0f)] as char);
    }
    out
}

impl FromStr for Digest {
    type Err = Error;

    fn from_str(input: &str) -> Result<Self> {
        let invalid = |reason: &str| Error::InvalidDigest {
            input: input.to_owned(),
            reason: reason.to_owned(),
        };
        let (alg, hex) = input
            .split_once(':')
            .ok_or_else(|| invalid("expected <algorithm>:<hex>"))?;
        if alg.is_empty() {
            return Err(invalid("the algorithm is empty"));
        }
        let grammar_ok = alg
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "+._-".contains(c));
        if !grammar_ok {
            return Err(invalid("the algorithm has characters outside [a-z0-9+._-]"));
        }
        let algorithm = Algorithm::from_name(alg).ok_or_else(|| Error::UnsupportedAlgorithm {
            algorithm: alg.to_owned(),
        })?;
        Digest::new(algorithm, hex).map_err(|e| match e {
            Error::InvalidDigest { reason, .. } => invalid(&reason),
            other => other,
        })
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.algorithm, self.hex)
    }
}

impl fmt::Debug for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Digest({self})")
    }
}

impl Serialize for Digest {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Digest {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let s = std::borrow::Cow::<'de, str>::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// An incremental hasher for one algorithm.
#[derive(Clone)]
pub enum Hasher {
    Sha256(Sha256),
    Sha512(sha2::Sha512),
}

impl Hasher {
    pub fn new(algorithm: Algorithm) -> Self {
        match algorithm {
            Algorithm::Sha256 => Hasher::Sha256(Sha256::new()),
            Algorithm::Sha512 => Hasher::Sha512(sha2::Sha512::new()),
        }
    }

    pub fn update(&mut self, bytes: &[u8]) {
        match self {
            Hasher::Sha256(h) => h.update(bytes),
            Hasher::Sha512(h) => h.update(bytes),
        }
    }

    pub fn finish(self) -> Digest {
        match self {
            Hasher::Sha256(h) => Digest {
                algorithm: Algorithm::Sha256,
                hex: to_hex(&h.finalize()),
            },
            Hasher::Sha512(h) => Digest {
                algorithm: Algorithm::Sha512,
                hex: to_hex(&h.finalize()),
            },
        }
    }
}

impl fmt::Debug for Hasher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self {
            Hasher::Sha256(_) => "sha256",
            Hasher::Sha512(_) => "sha512",
        };
        write!(f, "Hasher({name})")
    }
}

/// Checks a stream of bytes against an expected digest and size.
///
/// `update` fails as soon as more bytes arrive than were promised, so that a driver can stop
/// reading early; `finish` checks the length and the digest.
#[derive(Debug, Clone)]
pub struct Verifier {
    expected: Digest,
    expected_size: u64,
    seen: u64,
    hasher: Hasher,
}

/// Proof that a stream matched its digest and size.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    pub digest: Digest,
    pub size: u64,
}

impl Verifier {
    pub fn new(expected: Digest, expected_size: u64) -> Self {
        let hasher = Hasher::new(expected.algorithm());
        Verifier {
            expected,
            expected_size,
            seen: 0,
            hasher,
        }
    }

    /// Feeds the next bytes. Fails if the stream grows past the expected size.
    pub fn update(&mut self, bytes: &[u8]) -> Result<()> {
        let seen = self.seen.saturating_add(bytes.len() as u64);
        if seen > self.expected_size {
            return Err(Error::SizeMismatch {
                expected: self.expected_size,
                actual: seen,
            });
        }
        self.seen = seen;
        self.hasher.update(bytes);
        Ok(())
    }

    /// Bytes seen so far.
    pub fn bytes_seen(&self) -> u64 {
        self.seen
    }

    pub fn expected(&self) -> &Digest {
        &self.expected
    }

    pub fn expected_size(&self) -> u64 {
        self.expected_size
    }

    /// Checks the total size, then the digest.
    pub fn finish(self) -> Result<Verified> {
        if self.seen != self.expected_size {
            return Err(Error::SizeMismatch {
                expected: self.expected_size,
                actual: self.seen,
            });
        }
        let actual = self.hasher.finish();
        if actual != self.expected {
            return Err(Error::DigestMismatch {
                expected: self.expected,
                actual,
            });
        }
        Ok(Verified {
            digest: actual,
            size: self.seen,
        })
    }
}

#[cfg(test)]
mod tests;
