//! The relay's one error type, mapped to a status, headers and a JSON body in one place; each driver
//! turns [`RelayError::answer`] into its own response type.

use http::{header, HeaderMap, HeaderValue, StatusCode};
use serde_json::{json, Value};
use std::net::IpAddr;

/// Everything the relay refuses or fails at. Policy refusals are 403, upstream trouble 502/504.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum RelayError {
    #[error("missing target url")]
    MissingTarget,
    #[error("bad target url")]
    BadTarget { reason: String },
    #[error("scheme not allowed")]
    SchemeNotAllowed { scheme: String, host: String },
    #[error("userinfo not allowed")]
    UserinfoNotAllowed { host: String },
    #[error("host not allowed")]
    HostNotAllowed { host: String },
    #[error("port not allowed")]
    PortNotAllowed { host: String, port: u16 },
    #[error("address not allowed")]
    AddressNotAllowed { host: String, address: IpAddr },
    #[error("origin not allowed")]
    OriginNotAllowed { origin: String },
    #[error("method not allowed")]
    MethodNotAllowed { method: String },
    #[error("not found")]
    NotFound,
    #[error("relay busy")]
    Busy,
    /// A per-client or per-Origin limit; `retry_after` in whole seconds.
    #[error("rate limited")]
    RateLimited {
        scope: crate::limits::Scope,
        retry_after: u64,
    },
    #[error("too many redirects")]
    TooManyRedirects { max: usize },
    #[error("bad redirect")]
    BadRedirect { reason: String },
    #[error("name not resolved")]
    NotResolved { host: String },
    #[error("upstream unreachable")]
    Upstream { host: String, reason: String },
    #[error("upstream timeout")]
    Timeout { host: String },
    #[error("relay not configured")]
    Misconfigured { reason: String },
}

impl RelayError {
    /// The HTTP status for this error; the only place where statuses are chosen.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::MissingTarget | Self::BadTarget { .. } => StatusCode::BAD_REQUEST,
            Self::SchemeNotAllowed { .. }
            | Self::UserinfoNotAllowed { .. }
            | Self::HostNotAllowed { .. }
            | Self::PortNotAllowed { .. }
            | Self::AddressNotAllowed { .. }
            | Self::OriginNotAllowed { .. } => StatusCode::FORBIDDEN,
            Self::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::Busy => StatusCode::SERVICE_UNAVAILABLE,
            Self::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::TooManyRedirects { .. }
            | Self::BadRedirect { .. }
            | Self::NotResolved { .. }
            | Self::Upstream { .. } => StatusCode::BAD_GATEWAY,
            Self::Timeout { .. } => StatusCode::GATEWAY_TIMEOUT,
            Self::Misconfigured { .. } => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The JSON body: `{"error": <message>, ...details}`. Never holds header values or query strings.
    pub fn body(&self) -> Value {
        let mut body = json!({ "error": self.to_string() });
        let details = match self {
            Self::MissingTarget | Self::NotFound | Self::Busy => json!({}),
            Self::BadTarget { reason }
            | Self::BadRedirect { reason }
            | Self::Misconfigured { reason } => json!({ "reason": reason }),
            Self::SchemeNotAllowed { scheme, host } => json!({ "scheme": scheme, "host": host }),
            Self::UserinfoNotAllowed { host }
            | Self::HostNotAllowed { host }
            | Self::NotResolved { host }
            | Self::Timeout { host } => json!({ "host": host }),
            Self::PortNotAllowed { host, port } => json!({ "host": host, "port": port }),
            Self::AddressNotAllowed { host, address } => {
                json!({ "host": host, "address": address.to_string() })
            }
            Self::OriginNotAllowed { origin } => json!({ "origin": origin }),
            Self::MethodNotAllowed { method } => json!({ "method": method }),
            Self::TooManyRedirects { max } => json!({ "max": max }),
            Self::RateLimited { scope, retry_after } => {
                json!({ "scope": scope.as_str(), "retry_after": retry_after })
            }
            Self::Upstream { host, reason } => json!({ "host": host, "reason": reason }),
        };
        if let (Some(target), Value::Object(extra)) = (body.as_object_mut(), details) {
            target.extend(extra);
        }
        body
    }
}

impl From<crate::limits::Limited> for RelayError {
    fn from(limited: crate::limits::Limited) -> Self {
        Self::RateLimited {
            scope: limited.scope,
            retry_after: limited.retry_after,
        }
    }
}

/// A refusal as HTTP: status, headers, JSON body.
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl RelayError {
    /// The whole answer: `Content-Type: application/json`, `Cache-Control: no-store`, `Retry-After`
    /// on 429 and 503, `Allow` on 405.
    pub fn answer(&self) -> Answer {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        match self {
            Self::Busy => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            }
            Self::RateLimited { retry_after, .. } => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from(*retry_after));
            }
            Self::MethodNotAllowed { .. } => {
                headers.insert(
                    header::ALLOW,
                    HeaderValue::from_static("GET, HEAD, OPTIONS"),
                );
            }
            _ => {}
        }
        Answer {
            status: self.status(),
            headers,
            body: self.body().to_string().into_bytes(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::RelayError;
    use http::StatusCode;

    #[test]
    fn statuses_and_bodies() {
        let host_refused = RelayError::HostNotAllowed {
            host: "10.0.0.1".into(),
        };
        assert_eq!(host_refused.status(), StatusCode::FORBIDDEN);
        assert_eq!(
            host_refused.body(),
            serde_json::json!({"error": "host not allowed", "host": "10.0.0.1"})
        );
        let address = RelayError::AddressNotAllowed {
            host: "registry-1.docker.io".into(),
            address: "127.0.0.1".parse().unwrap(),
        };
        assert_eq!(address.status(), StatusCode::FORBIDDEN);
        assert_eq!(address.body()["address"], "127.0.0.1");
        assert_eq!(
            RelayError::Timeout { host: "h".into() }.status(),
            StatusCode::GATEWAY_TIMEOUT
        );
        assert_eq!(
            RelayError::TooManyRedirects { max: 5 }.status(),
            StatusCode::BAD_GATEWAY
        );
        assert_eq!(
            RelayError::MethodNotAllowed {
                method: "POST".into()
            }
            .status(),
            StatusCode::METHOD_NOT_ALLOWED
        );
    }

    #[test]
    fn busy_carries_retry_after() {
        let answer = RelayError::Busy.answer();
        assert_eq!(answer.status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(answer.headers["retry-after"], "1");
        assert_eq!(answer.headers["content-type"], "application/json");
        assert_eq!(answer.body, br#"{"error":"relay busy"}"#);
    }

    #[test]
    fn rate_limited_says_who_and_when() {
        let limited = RelayError::RateLimited {
            scope: crate::limits::Scope::Origin,
            retry_after: 7,
        };
        assert_eq!(
            limited.body(),
            serde_json::json!({"error": "rate limited", "scope": "origin", "retry_after": 7})
        );
        let answer = limited.answer();
        assert_eq!(answer.status, StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(answer.headers["retry-after"], "7");
        assert_eq!(answer.headers["cache-control"], "no-store");
    }
}
