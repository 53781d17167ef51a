//! The app's one IO error enum, with messages written for people.
//!
//! It crosses the page/worker boundary inside download events, so it is plain data (serde):
//! errors of `wharf-oci` that the page shows differently (digest and size mismatch, unsupported
//! media type) get their own variants, the rest keep their message in [`IoError::Protocol`].

use serde::{Deserialize, Serialize};
use wharf_oci::Digest;

/// What a failed registry request, relay request, download or staging step means.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IoError {
    /// The registry wants a sign-in and no credentials are set for it.
    #[error("{registry} asks for a sign-in: add a username and password or token for it")]
    NeedsCredentials { registry: String },
    /// The registry (or its token service) refused the credentials given for it.
    #[error("{registry} did not accept the credentials given for it: check the username and password or token")]
    Unauthorized { registry: String },
    /// Signed in (or anonymous) but not allowed to read this repository.
    #[error("{registry} denied access: {message}")]
    Denied { registry: String, message: String },
    /// No manifest with this tag or digest.
    #[error("{reference} was not found ({message}); the Tags view lists the tags that exist")]
    ManifestUnknown { reference: String, message: String },
    /// No repository with this name (or it is private and the registry hides it).
    #[error("repository {repository} was not found ({message}); check the name, or add credentials if it is private")]
    NameUnknown { repository: String, message: String },
    /// No blob with this digest in the repository.
    #[error("blob {digest} was not found in the repository ({message})")]
    BlobUnknown { digest: String, message: String },
    /// HTTP 429: too many requests.
    #[error("{}", rate_limited_message(registry, *retry_after_ms, limit.as_deref(), remaining.as_deref()))]
    RateLimited {
        registry: String,
        /// From `Retry-After` (seconds or an HTTP date), in milliseconds from the answer.
        retry_after_ms: Option<u64>,
        /// `RateLimit-Limit` as sent (e.g. `100;w=21600`).
        limit: Option<String>,
        /// `RateLimit-Remaining` as sent.
        remaining: Option<String>,
    },
    /// `fetch` failed without an HTTP answer: the relay is down, or (direct, or a relay that
    /// forgot its CORS headers) the browser blocked a cross-origin answer.
    #[error("{}", unreachable_message(url, *via_relay, detail))]
    Unreachable {
        url: String,
        via_relay: bool,
        detail: String,
    },
    /// wharf-relay refused the request (its `{"error", "host"}` answer), e.g. a host that is
    /// not on its allowlist.
    #[error("{}", relay_message(*status, host.as_deref(), reason))]
    RelayRefused {
        status: u16,
        host: Option<String>,
        reason: String,
    },
    /// The bytes do not hash to the digest they were asked for. Nothing was saved.
    #[error("digest mismatch: expected {expected}, got {actual}; nothing was saved")]
    DigestMismatch { expected: Digest, actual: Digest },
    /// The bytes are not as many as the descriptor says. Nothing was saved.
    #[error("size mismatch: expected {expected} bytes, got {actual}; nothing was saved")]
    SizeMismatch { expected: u64, actual: u64 },
    /// A manifest or blob media type that wharf cannot read.
    #[error("unsupported media type {media_type:?}")]
    UnsupportedMediaType { media_type: String },
    /// An HTTP status that none of the cases above explains.
    #[error("HTTP {status} from {url}: {message}")]
    Http {
        status: u16,
        url: String,
        message: String,
        /// From `Retry-After` (e.g. on 503), in milliseconds.
        retry_after_ms: Option<u64>,
    },
    /// The body broke off (or the server sent something unusable) and retries ran out.
    #[error("the download broke off: {message}")]
    Stream { message: String },
    /// Staged in memory (no private file system here), a file may not be this large.
    #[error("{}", too_large_message(*size, *ceiling))]
    TooLargeForMemory { size: u64, ceiling: u64 },
    /// The Origin Private File System refused an operation.
    #[error("browser storage failed ({operation}): {message}")]
    Storage { operation: String, message: String },
    /// The relay setting is not a usable template.
    #[error("invalid relay setting {input:?}: {reason}")]
    InvalidRelay { input: String, reason: String },
    /// Any other `wharf-oci` error (bad reference, bad manifest, bad challenge, ...).
    #[error("{message}")]
    Protocol { message: String },
    /// The same blob is already being downloaded.
    #[error("{digest} is already being downloaded")]
    Busy { digest: Digest },
    /// An unexpected exception from a browser API.
    #[error("browser error: {message}")]
    Browser { message: String },
    /// The user cancelled.
    #[error("cancelled")]
    Cancelled,
}

impl IoError {
    /// True for errors that say nothing about the bytes themselves, so that a later attempt at
    /// the same download may succeed and its staged bytes are worth keeping.
    pub fn keeps_staged_bytes(&self) -> bool {
        !matches!(
            self,
            IoError::DigestMismatch { .. }
                | IoError::SizeMismatch { .. }
                | IoError::Cancelled
                | IoError::Busy { .. }
        )
    }
}

impl From<wharf_oci::Error> for IoError {
    fn from(e: wharf_oci::Error) -> Self {
        match e {
            wharf_oci::Error::DigestMismatch { expected, actual } => {
                IoError::DigestMismatch { expected, actual }
            }
            wharf_oci::Error::SizeMismatch { expected, actual } => {
                IoError::SizeMismatch { expected, actual }
            }
            wharf_oci::Error::UnsupportedMediaType { media_type } => {
                IoError::UnsupportedMediaType { media_type }
            }
            wharf_oci::Error::InvalidRelay { input, reason } => {
                IoError::InvalidRelay { input, reason }
            }
            other => IoError::Protocol {
                message: other.to_string(),
            },
        }
    }
}

fn too_large_message(size: u64, ceiling: u64) -> String {
    use crate::view::human_bytes;
    format!(
        "this browser gives wharf no private file system (a private window?), so a download is \
         held in memory, up to {}; this one needs {}. Nothing was saved. Open wharf in a \
         normal window, or in a browser that has one (Chromium, Firefox, Safari), to save it",
        human_bytes(ceiling),
        human_bytes(size)
    )
}

fn rate_limited_message(
    registry: &str,
    retry_after_ms: Option<u64>,
    limit: Option<&str>,
    remaining: Option<&str>,
) -> String {
    let mut out = format!("{registry} is rate limiting requests");
    match (limit, remaining) {
        (Some(l), Some(r)) => out.push_str(&format!(" (limit {l}, remaining {r})")),
        (Some(l), None) => out.push_str(&format!(" (limit {l})")),
        (None, Some(r)) => out.push_str(&format!(" (remaining {r})")),
        (None, None) => {}
    }
    match retry_after_ms {
        Some(ms) => out.push_str(&format!("; try again in {}", human_duration(ms))),
        None => out.push_str("; try again later, or sign in for a higher limit"),
    }
    out
}

fn relay_message(status: u16, host: Option<&str>, reason: &str) -> String {
    let host = host.unwrap_or("the registry");
    if status >= 500 {
        format!("the relay could not get an answer from {host} (HTTP {status}): {reason}")
    } else {
        format!(
            "the relay refused the request for {host} (HTTP {status}): {reason}; a relay of your \
             own, or another Relay setting, may allow it"
        )
    }
}

fn unreachable_message(url: &str, via_relay: bool, detail: &str) -> String {
    if via_relay {
        format!(
            "could not reach the relay for {url} ({detail}): it may be down, or it answers without \
             CORS headers; check the Relay setting"
        )
    } else {
        format!(
            "could not reach {url} directly ({detail}): registries rarely send CORS headers, so \
             the browser blocks the answer; set a relay in the Relay setting"
        )
    }
}

/// `90 s`, `2 min 5 s`, `6 h 3 min`: rounded up to whole seconds.
pub fn human_duration(ms: u64) -> String {
    let secs = ms.div_ceil(1000);
    let (h, m, s) = (secs / 3600, (secs % 3600) / 60, secs % 60);
    match (h, m, s) {
        (0, 0, s) => format!("{s} s"),
        (0, m, 0) => format!("{m} min"),
        (0, m, s) => format!("{m} min {s} s"),
        (h, 0, _) => format!("{h} h"),
        (h, m, _) => format!("{h} h {m} min"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn human_durations() {
        let cases = [
            (0, "0 s"),
            (1, "1 s"),
            (1000, "1 s"),
            (1001, "2 s"),
            (59_000, "59 s"),
            (60_000, "1 min"),
            (125_000, "2 min 5 s"),
            (3_600_000, "1 h"),
            (21_780_000, "6 h 3 min"),
        ];
        for (ms, want) in cases {
            assert_eq!(human_duration(ms), want, "{ms} ms");
        }
    }

    #[test]
    fn messages_name_what_to_do() {
        let e = IoError::RateLimited {
            registry: "registry-1.docker.io".into(),
            retry_after_ms: Some(125_000),
            limit: Some("100;w=21600".into()),
            remaining: Some("0;w=21600".into()),
        };
        assert_eq!(
            e.to_string(),
            "registry-1.docker.io is rate limiting requests (limit 100;w=21600, remaining \
             0;w=21600); try again in 2 min 5 s"
        );
        let e = IoError::Unreachable {
            url: "https://ghcr.io/v2/".into(),
            via_relay: false,
            detail: "TypeError: Failed to fetch".into(),
        };
        assert!(e.to_string().contains("set a relay in the Relay setting"));
        let e = IoError::Unreachable {
            url: "https://ghcr.io/v2/".into(),
            via_relay: true,
            detail: "TypeError: Failed to fetch".into(),
        };
        assert!(e.to_string().contains("check the Relay setting"));
    }

    #[test]
    fn core_errors_keep_their_kind() {
        let a = Digest::sha256_of(b"a");
        let b = Digest::sha256_of(b"b");
        let e: IoError = wharf_oci::Error::DigestMismatch {
            expected: a.clone(),
            actual: b.clone(),
        }
        .into();
        assert_eq!(
            e,
            IoError::DigestMismatch {
                expected: a,
                actual: b
            }
        );
        assert!(!e.keeps_staged_bytes());
        let e: IoError = wharf_oci::Error::MissingChallenge.into();
        assert!(matches!(e, IoError::Protocol { ref message } if message.contains("401")));
        assert!(e.keeps_staged_bytes());
    }

    #[test]
    fn serde_round_trip_is_named_by_variant() {
        let e = IoError::SizeMismatch {
            expected: 10,
            actual: 12,
        };
        let json = serde_json::to_string(&e).expect("serialize");
        assert_eq!(json, r#"{"size_mismatch":{"expected":10,"actual":12}}"#);
        assert_eq!(serde_json::from_str::<IoError>(&json).expect("back"), e);
    }
}
