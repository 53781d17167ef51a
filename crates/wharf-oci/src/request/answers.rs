//! Reading registry answers: error documents, rate-limit headers, `Content-Range`.
//!
//! Hand-written rather than `oci_spec::distribution::ErrorResponse`: that type fails on codes
//! it does not list (Docker's `TAG_INVALID`, `MANIFEST_UNVERIFIED`, distribution's `UNKNOWN`,
//! vendor codes) and on a missing `message`, and a failed decode would hide the registry's
//! reason. Here unknown codes are kept as [`ErrorCode::Other`].

use std::fmt;

use http::HeaderMap;
use serde::{Deserialize, Deserializer};

use crate::error::{Error, Result};

/// The `code` of a registry error (OCI distribution spec, plus Docker's and distribution's).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorCode {
    BlobUnknown,
    BlobUploadInvalid,
    BlobUploadUnknown,
    DigestInvalid,
    ManifestBlobUnknown,
    ManifestInvalid,
    ManifestUnknown,
    ManifestUnverified,
    NameInvalid,
    NameUnknown,
    PaginationNumberInvalid,
    RangeInvalid,
    SizeInvalid,
    TagInvalid,
    Unauthorized,
    Denied,
    Unsupported,
    TooManyRequests,
    Unavailable,
    Unknown,
    /// A code not listed above, as the registry spelled it.
    Other(String),
}

const CODES: &[(&str, ErrorCode)] = &[
    ("BLOB_UNKNOWN", ErrorCode::BlobUnknown),
    ("BLOB_UPLOAD_INVALID", ErrorCode::BlobUploadInvalid),
    ("BLOB_UPLOAD_UNKNOWN", ErrorCode::BlobUploadUnknown),
    ("DIGEST_INVALID", ErrorCode::DigestInvalid),
    ("MANIFEST_BLOB_UNKNOWN", ErrorCode::ManifestBlobUnknown),
    ("MANIFEST_INVALID", ErrorCode::ManifestInvalid),
    ("MANIFEST_UNKNOWN", ErrorCode::ManifestUnknown),
    ("MANIFEST_UNVERIFIED", ErrorCode::ManifestUnverified),
    ("NAME_INVALID", ErrorCode::NameInvalid),
    ("NAME_UNKNOWN", ErrorCode::NameUnknown),
    (
        "PAGINATION_NUMBER_INVALID",
        ErrorCode::PaginationNumberInvalid,
    ),
    ("RANGE_INVALID", ErrorCode::RangeInvalid),
    ("SIZE_INVALID", ErrorCode::SizeInvalid),
    ("TAG_INVALID", ErrorCode::TagInvalid),
    ("UNAUTHORIZED", ErrorCode::Unauthorized),
    ("DENIED", ErrorCode::Denied),
    ("UNSUPPORTED", ErrorCode::Unsupported),
    ("TOOMANYREQUESTS", ErrorCode::TooManyRequests),
    ("UNAVAILABLE", ErrorCode::Unavailable),
    ("UNKNOWN", ErrorCode::Unknown),
];

impl ErrorCode {
    /// The code as registries spell it (`MANIFEST_UNKNOWN`).
    pub fn as_str(&self) -> &str {
        match self {
            ErrorCode::Other(code) => code,
            known => CODES
                .iter()
                .find(|(_, c)| c == known)
                .map_or("UNKNOWN", |(name, _)| name),
        }
    }

    /// Whether asking again later may succeed (rate limits, outages).
    pub fn is_transient(&self) -> bool {
        matches!(self, ErrorCode::TooManyRequests | ErrorCode::Unavailable)
    }
}

impl From<&str> for ErrorCode {
    fn from(code: &str) -> Self {
        CODES
            .iter()
            .find(|(name, _)| *name == code)
            .map_or_else(|| ErrorCode::Other(code.to_owned()), |(_, c)| c.clone())
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for ErrorCode {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let code = std::borrow::Cow::<'de, str>::deserialize(d)?;
        Ok(ErrorCode::from(code.as_ref()))
    }
}

/// One entry of a registry error document.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct RegistryError {
    pub code: ErrorCode,
    /// Registries send `""`, `null` or nothing when they have no message.
    #[serde(default, deserialize_with = "null_as_empty")]
    pub message: String,
    /// Free-form; e.g. the requested access for `UNAUTHORIZED`, the digest for `BLOB_UNKNOWN`.
    #[serde(default)]
    pub detail: Option<serde_json::Value>,
}

fn null_as_empty<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<String, D::Error> {
    Ok(Option::<String>::deserialize(d)?.unwrap_or_default())
}

/// A registry error document, `{"errors":[{"code","message","detail"}]}`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct RegistryErrors {
    pub errors: Vec<RegistryError>,
}

impl RegistryErrors {
    /// Decodes an error document; None if `body` is not one (or lists no error).
    pub fn decode(body: &[u8]) -> Option<Vec<RegistryError>> {
        serde_json::from_slice::<RegistryErrors>(body)
            .ok()
            .map(|doc| doc.errors)
            .filter(|errors| !errors.is_empty())
    }

    /// One line for people: `MANIFEST_UNKNOWN: manifest unknown; NAME_UNKNOWN: …`.
    pub fn summary(errors: &[RegistryError]) -> String {
        if errors.is_empty() {
            return "no error details".to_owned();
        }
        errors
            .iter()
            .map(|e| match e.message.as_str() {
                "" => e.code.to_string(),
                message => format!("{}: {message}", e.code),
            })
            .collect::<Vec<_>>()
            .join("; ")
    }
}

/// The error for a non-success answer: [`Error::Registry`] when the body is a registry error
/// document, [`Error::UnexpectedStatus`] otherwise (HEAD answers, HTML error pages, proxies).
pub fn error_from_response(status: u16, body: &[u8]) -> Error {
    match RegistryErrors::decode(body) {
        Some(errors) => Error::Registry { status, errors },
        None => Error::UnexpectedStatus { status },
    }
}

/// A `RateLimit-Limit` or `RateLimit-Remaining` value: `count` requests per `window_seconds`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quota {
    pub count: u64,
    pub window_seconds: Option<u64>,
}

/// What a registry said about rate limits (Docker Hub: `RateLimit-Limit: 100;w=21600`,
/// `RateLimit-Remaining: 76;w=21600`; any registry: `Retry-After` on 429 and 503).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RateLimit {
    pub limit: Option<Quota>,
    pub remaining: Option<Quota>,
    /// Seconds to wait from `now`.
    pub retry_after_seconds: Option<u64>,
}

impl RateLimit {
    /// Reads the headers of an answer. `now` is seconds since the Unix epoch (the driver's
    /// clock), needed when `Retry-After` is a date. Lenient by design: these headers are advice,
    /// so a malformed one is left out rather than failing the answer it came with (the strict
    /// parsers are [`parse_quota`] and [`parse_retry_after`]).
    pub fn from_headers(headers: &HeaderMap, now: u64) -> Self {
        let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
        RateLimit {
            limit: text("ratelimit-limit").and_then(|v| parse_quota(v).ok()),
            remaining: text("ratelimit-remaining").and_then(|v| parse_quota(v).ok()),
            retry_after_seconds: text("retry-after").and_then(|v| parse_retry_after(v, now).ok()),
        }
    }

    /// True when the registry said no requests remain.
    pub fn is_exhausted(&self) -> bool {
        self.remaining.is_some_and(|q| q.count == 0)
    }
}

fn bad_header(name: &'static str, value: &str, reason: &'static str) -> Error {
    Error::InvalidHeader {
        name,
        value: value.to_owned(),
        reason,
    }
}

/// Parses `100;w=21600` (Docker Hub), `100` or the first policy of a list (`10, 100;w=60`).
pub fn parse_quota(value: &str) -> Result<Quota> {
    let bad = |reason| bad_header("RateLimit", value, reason);
    let first = value.split(',').next().unwrap_or_default();
    let mut parts = first.split(';').map(str::trim);
    let count = parts
        .next()
        .and_then(parse_digits)
        .ok_or_else(|| bad("expected a count of requests"))?;
    let mut window_seconds = None;
    for param in parts {
        if let Some(w) = param.strip_prefix("w=") {
            window_seconds =
                Some(parse_digits(w).ok_or_else(|| bad("the window is not a number"))?);
        }
    }
    Ok(Quota {
        count,
        window_seconds,
    })
}

/// Seconds to wait according to `Retry-After`: delta seconds, or an HTTP date relative to `now`
/// (seconds since the Unix epoch; a date in the past gives 0).
pub fn parse_retry_after(value: &str, now: u64) -> Result<u64> {
    let value = value.trim();
    if let Some(seconds) = parse_digits(value) {
        return Ok(seconds);
    }
    let date = httpdate::parse_http_date(value)
        .map_err(|_| bad_header("Retry-After", value, "neither seconds nor an HTTP date"))?;
    let at = date
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    Ok(at.saturating_sub(now))
}

fn parse_digits(text: &str) -> Option<u64> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

/// A `Content-Range: bytes <start>-<end>/<total or *>` answer to a ranged blob GET; a driver
/// checks it against the [`ByteRange`](super::ByteRange) it asked for before trusting the bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ContentRange {
    pub start: u64,
    /// Last byte, inclusive.
    pub end: u64,
    pub total: Option<u64>,
}

impl ContentRange {
    pub fn parse(value: &str) -> Result<Self> {
        let bad = |reason| bad_header("Content-Range", value, reason);
        let spec = value
            .trim()
            .strip_prefix("bytes ")
            .ok_or_else(|| bad("expected the `bytes` unit"))?;
        let (range, total) = spec
            .split_once('/')
            .ok_or_else(|| bad("expected <start>-<end>/<total>"))?;
        let (start, end) = range
            .split_once('-')
            .ok_or_else(|| bad("expected <start>-<end>"))?;
        let number = |s| parse_digits(s).ok_or_else(|| bad("a position is not a number"));
        let (start, end) = (number(start)?, number(end)?);
        let total = match total {
            "*" => None,
            t => Some(number(t)?),
        };
        if end < start || total.is_some_and(|t| end >= t) {
            return Err(bad("the range is empty or passes the total"));
        }
        Ok(ContentRange { start, end, total })
    }

    /// Number of bytes in the range.
    pub fn byte_count(&self) -> u64 {
        self.end.saturating_sub(self.start).saturating_add(1)
    }

    /// Whether this answers a request for `asked` (same start; same end when a window was asked).
    pub fn answers(&self, asked: &super::ByteRange) -> bool {
        self.start == asked.start() && asked.end().is_none_or(|end| end == self.end)
    }
}
