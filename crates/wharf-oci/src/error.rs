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
    InvalidReference {
        input: String,
        reason: crate::reference::ReferenceProblem,
    },

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

    // --- auth (auth.rs, auth/) ---
    /// A `WWW-Authenticate` value that cannot be parsed, or a challenge that is unusable
    /// (e.g. a Bearer challenge without an absolute http(s) `realm`).
    #[error("invalid WWW-Authenticate header {input:?}: {reason}")]
    InvalidChallenge { input: String, reason: String },
    /// A 401 whose challenges name no scheme we speak (the schemes it offered).
    #[error("unsupported authentication scheme(s) {schemes:?} (supported: Bearer, Basic)")]
    UnsupportedAuthScheme { schemes: Vec<String> },
    /// A 401 without any `WWW-Authenticate` challenge.
    #[error("401 Unauthorized without a WWW-Authenticate challenge")]
    MissingChallenge,
    /// A token scope that cannot be sent (not `type:name:actions`, or a bad repository name).
    #[error("invalid token scope {input:?}: {reason}")]
    InvalidScope { input: String, reason: String },
    /// Credentials that cannot be sent as they are. Never carries the secret itself.
    #[error("invalid credentials: {reason}")]
    InvalidCredentials { reason: String },
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
    /// A manifest whose `schemaVersion` is missing or not the one its media type requires.
    #[error("unsupported schemaVersion {} for {media_type} (expected {expected})",
        found.map_or_else(|| "(missing)".to_owned(), |v| v.to_string()))]
    UnsupportedSchemaVersion {
        media_type: String,
        found: Option<i64>,
        expected: u32,
    },
    /// An image configuration blob that cannot be decoded.
    #[error("invalid image config: {reason}")]
    InvalidConfig { reason: String },

    // --- platforms and bottles (platform.rs, bottle.rs) ---
    /// A platform string that is not `os/arch[/variant]`.
    #[error("invalid platform {input:?}: {reason}")]
    InvalidPlatform { input: String, reason: String },
    /// No entry of an index matches what the user chose (`available` lists what there is).
    #[error("no entry matches {wanted} (available: {})", available.join(", "))]
    NoMatch {
        wanted: String,
        available: Vec<String>,
    },
    /// An index entry that carries Homebrew bottle annotations that do not make sense.
    #[error("invalid Homebrew bottle entry {ref_name:?}: {reason}")]
    InvalidBottle { ref_name: String, reason: String },

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

    /// A relay setting that is neither `direct` nor a usable URL template.
    #[error("invalid relay setting {input:?}: {reason}")]
    InvalidRelay { input: String, reason: String },

    /// The registry answered with its error document (`{"errors":[...]}`).
    #[error(
        "registry error (HTTP {status}): {}",
        crate::request::RegistryErrors::summary(errors)
    )]
    Registry {
        status: u16,
        errors: Vec<crate::request::RegistryError>,
    },
    /// A response (or request) header whose value cannot be read (`Retry-After`,
    /// `RateLimit-*`, `Content-Range`, `Range`).
    #[error("invalid {name} header {value:?}: {reason}")]
    InvalidHeader {
        name: &'static str,
        value: String,
        reason: &'static str,
    },
    /// The registry answered with an unexpected status and no error document.
    #[error("unexpected HTTP status {status}")]
    UnexpectedStatus { status: u16 },

    // --- image archives (archive/) ---
    /// Archive inputs that do not fit together (no tag for a schema 1 archive, a broken
    /// schema 1 parent chain, a layer id that is not 64 hex digits, …).
    #[error("cannot plan the image archive: {reason}")]
    InvalidArchivePlan { reason: String },
}
