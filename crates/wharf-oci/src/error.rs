//! The one error type of `wharf-oci`.
//!
//! Every variant is structured: it carries what was wrong, so that the app can say it in words
//! and tests can match on it. Nothing in this crate panics on bad input; it returns one of these.

use crate::digest::Digest;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    // --- references (reference.rs) ---
    /// A reference that does not follow the Docker reference grammar.
    #[error("invalid image reference {input:?}: {reason}")]
    InvalidReference { input: String, reason: String },

    // --- digests (digest.rs) ---
    /// A digest string that is not `<algorithm>:<lowercase hex of the right length>`.
    #[error("invalid digest {input:?}: {reason}")]
    InvalidDigest { input: String, reason: String },
    /// A digest with an algorithm we do not verify (rejected before any download).
    #[error("unsupported digest algorithm {algorithm:?} (supported: sha256, sha512)")]
    UnsupportedAlgorithm { algorithm: String },
    /// Content whose digest differs from the one that was promised.
    #[error("digest mismatch: expected {expected}, got {actual}")]
    DigestMismatch { expected: Digest, actual: Digest },
    /// Content whose length differs from the one that was promised.
    #[error("size mismatch: expected {expected} bytes, got {actual}")]
    SizeMismatch { expected: u64, actual: u64 },

    // --- auth (auth.rs) ---
    /// A `WWW-Authenticate` header that cannot be parsed.
    #[error("invalid WWW-Authenticate header: {reason}")]
    InvalidChallenge { reason: String },
    /// A 401 whose challenges name no scheme we speak.
    #[error("unsupported authentication scheme {scheme:?}")]
    UnsupportedAuthScheme { scheme: String },
    /// A token endpoint answer without a usable token.
    #[error("invalid token response: {reason}")]
    InvalidTokenResponse { reason: String },

    // --- manifests (manifest.rs) ---
    /// A manifest body over the size limit (4 MiB).
    #[error("manifest of {size} bytes is over the {limit}-byte limit")]
    ManifestTooLarge { size: u64, limit: u64 },
    /// A media type we cannot decode.
    #[error("unsupported media type {media_type:?}")]
    UnsupportedMediaType { media_type: String },
    /// A manifest that does not decode as its media type says.
    #[error("invalid manifest ({media_type}): {reason}")]
    InvalidManifest { media_type: String, reason: String },

    // --- platforms and bottles (platform.rs, bottle.rs) ---
    /// A platform string that is not `os/arch[/variant]`.
    #[error("invalid platform {input:?}: {reason}")]
    InvalidPlatform { input: String, reason: String },
    /// No entry of an index matches what the user chose.
    #[error("no entry matches {wanted}")]
    NoMatch { wanted: String },

    // --- tags (tags.rs) ---
    /// A tag list response that cannot be decoded.
    #[error("invalid tag list: {reason}")]
    InvalidTagList { reason: String },
    /// A `Link` header that cannot be parsed.
    #[error("invalid Link header: {reason}")]
    InvalidLink { reason: String },

    // --- requests and registry answers (request.rs) ---
    /// A URL that could not be built from its parts.
    #[error("invalid URL {input:?}: {reason}")]
    InvalidUrl { input: String, reason: String },
    /// The registry answered with its error document (`{"errors":[...]}`).
    #[error("registry error (HTTP {status}): {}", crate::request::RegistryErrors::summary(errors))]
    Registry { status: u16, errors: Vec<crate::request::RegistryError> },
    /// The registry answered with an unexpected status and no error document.
    #[error("unexpected HTTP status {status}")]
    UnexpectedStatus { status: u16 },
}
