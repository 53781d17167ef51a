//! What a non-success answer means, as an [`IoError`] (pure, tested natively).
//!
//! Order: a relay's own refusal (`{"error", "host"}`) first, then rate limits, then the
//! registry's error document (`{"errors": [...]}`, read with `wharf_oci::request`), then the
//! status alone.

use http::HeaderMap;
use serde::Deserialize;
use wharf_oci::request::{
    error_from_response, ErrorCode, RateLimit, RegistryError, RegistryErrors,
};

use super::IoError;

/// What was asked for, to name it in the error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target<'a> {
    Ping,
    Manifest { reference: &'a str },
    Tags,
    Blob { digest: &'a str },
    Token,
}

/// Where the answer came from.
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    /// The registry as the user named it (`docker.io`, `ghcr.io`).
    pub registry: &'a str,
    pub repository: &'a str,
    /// The URL that was requested (upstream, not the relay's).
    pub url: &'a str,
    pub via_relay: bool,
    /// Whether credentials were given for this registry.
    pub has_credentials: bool,
    /// Seconds since the Unix epoch (for `Retry-After` dates).
    pub now_s: u64,
}

/// wharf-relay's error document: `{"error": <message>, ...details}`. Only documents with one of
/// the relay's details (`host`, `reason`, `origin`) count: OAuth-style token endpoints answer
/// `{"error": "invalid_grant"}` too, and that is the token server speaking, not the relay.
#[derive(Deserialize)]
struct RelayRefusal {
    error: String,
    #[serde(default)]
    host: Option<String>,
    #[serde(default)]
    reason: Option<String>,
    #[serde(default)]
    origin: Option<String>,
    /// Which of the relay's own limits refused (`client`, `origin`), on its 429.
    #[serde(default)]
    scope: Option<String>,
}

impl RelayRefusal {
    fn into_error(self, status: u16, retry_after_ms: Option<u64>) -> Option<IoError> {
        if let (429, Some(scope)) = (status, &self.scope) {
            // Honoured like a registry's 429 (the download waits and retries), but named as the
            // relay's: signing in to the registry would not help.
            return Some(IoError::RateLimited {
                registry: format!("the relay (per-{scope} limit)"),
                retry_after_ms,
                limit: None,
                remaining: None,
            });
        }
        if self.host.is_none() && self.reason.is_none() && self.origin.is_none() {
            return None;
        }
        let mut reason = self.error;
        for detail in [self.reason, self.origin.map(|o| format!("origin {o}"))]
            .into_iter()
            .flatten()
        {
            reason = format!("{reason}: {detail}");
        }
        Some(IoError::RelayRefused {
            status,
            host: self.host,
            reason,
        })
    }
}

/// The error for a non-success answer.
pub fn classify(
    ctx: &Context<'_>,
    target: Target<'_>,
    status: u16,
    headers: &HeaderMap,
    body: &[u8],
) -> IoError {
    let rate = RateLimit::from_headers(headers, ctx.now_s);
    let retry_after_ms = rate.retry_after_seconds.map(|s| s.saturating_mul(1000));
    if ctx.via_relay {
        let refusal = serde_json::from_slice::<RelayRefusal>(body).ok();
        if let Some(e) = refusal.and_then(|r| r.into_error(status, retry_after_ms)) {
            return e;
        }
    }
    let errors = RegistryErrors::decode(body).unwrap_or_default();
    let too_many = errors.iter().any(|e| e.code == ErrorCode::TooManyRequests);
    if status == 429 || too_many {
        let quota = |q: Option<wharf_oci::request::Quota>| {
            q.map(|q| match q.window_seconds {
                Some(w) => format!("{};w={w}", q.count),
                None => q.count.to_string(),
            })
        };
        return IoError::RateLimited {
            registry: ctx.registry.to_owned(),
            retry_after_ms,
            limit: quota(rate.limit),
            remaining: quota(rate.remaining),
        };
    }
    if let Some(e) = from_codes(ctx, target, status, &errors) {
        return e;
    }
    let message = || match errors.is_empty() {
        true => error_from_response(status, body).to_string(),
        false => RegistryErrors::summary(&errors),
    };
    match (status, target) {
        (401, _) | (403, Target::Token) => unauthorised(ctx),
        (403, _) => IoError::Denied {
            registry: ctx.registry.to_owned(),
            message: message(),
        },
        (404, Target::Manifest { reference }) => IoError::ManifestUnknown {
            reference: reference.to_owned(),
            message: message(),
        },
        (404, Target::Blob { digest }) => IoError::BlobUnknown {
            digest: digest.to_owned(),
            message: message(),
        },
        (404, Target::Tags) => IoError::NameUnknown {
            repository: ctx.repository.to_owned(),
            message: message(),
        },
        _ => IoError::Http {
            status,
            url: ctx.url.to_owned(),
            message: message(),
            retry_after_ms,
        },
    }
}

/// The error for a request that is still refused after the auth flow ran.
pub fn unauthorised(ctx: &Context<'_>) -> IoError {
    let registry = ctx.registry.to_owned();
    if ctx.has_credentials {
        IoError::Unauthorized { registry }
    } else {
        IoError::NeedsCredentials { registry }
    }
}

fn from_codes(
    ctx: &Context<'_>,
    target: Target<'_>,
    status: u16,
    errors: &[RegistryError],
) -> Option<IoError> {
    let first = errors.first()?;
    let message = RegistryErrors::summary(errors);
    let e = match &first.code {
        ErrorCode::ManifestUnknown => IoError::ManifestUnknown {
            reference: match target {
                Target::Manifest { reference } => reference.to_owned(),
                _ => ctx.repository.to_owned(),
            },
            message,
        },
        ErrorCode::NameUnknown => IoError::NameUnknown {
            repository: ctx.repository.to_owned(),
            message,
        },
        ErrorCode::BlobUnknown => IoError::BlobUnknown {
            digest: match target {
                Target::Blob { digest } => digest.to_owned(),
                _ => String::new(),
            },
            message,
        },
        ErrorCode::Denied => IoError::Denied {
            registry: ctx.registry.to_owned(),
            message,
        },
        ErrorCode::Unauthorized if status == 401 || status == 403 => unauthorised(ctx),
        _ => return None,
    };
    Some(e)
}

#[cfg(test)]
mod tests;
