//! Turning an [`IoError`] into what the page says: a title, the detail, and the remedy.

use crate::net::IoError;
use crate::view::{Problem, Remedy};

impl From<&IoError> for Problem {
    fn from(e: &IoError) -> Self {
        let (title, remedy) = match e {
            IoError::NeedsCredentials { registry } => (
                "Needs credentials",
                Remedy::Credentials {
                    host: registry.clone(),
                },
            ),
            IoError::Unauthorized { registry } => (
                "Credentials refused",
                Remedy::Credentials {
                    host: registry.clone(),
                },
            ),
            IoError::Denied { .. } => ("Access denied", Remedy::Nothing),
            IoError::ManifestUnknown { .. } => ("Not found", Remedy::Tags),
            IoError::NameUnknown { .. } => ("Repository not found", Remedy::Nothing),
            IoError::BlobUnknown { .. } => ("Blob not found", Remedy::Nothing),
            IoError::RateLimited { retry_after_ms, .. } => (
                "Rate limited",
                Remedy::Wait {
                    seconds: retry_after_ms.map(|ms| ms.div_ceil(1000)),
                },
            ),
            IoError::Unreachable { .. } => ("Relay unreachable", Remedy::RelaySettings),
            IoError::RelayRefused { .. } => {
                ("The relay refused the request", Remedy::RelaySettings)
            }
            IoError::InvalidRelay { .. } => ("Relay setting is not usable", Remedy::RelaySettings),
            IoError::DigestMismatch { .. } => ("Digest mismatch", Remedy::Nothing),
            IoError::SizeMismatch { .. } => ("Size mismatch", Remedy::Nothing),
            IoError::UnsupportedMediaType { .. } => ("Unsupported media type", Remedy::Nothing),
            IoError::Http { .. } => ("The registry answered with an error", Remedy::Nothing),
            IoError::Stream { .. } => ("Download broke off", Remedy::Nothing),
            IoError::TooLargeForMemory { .. } => ("Too large for this window", Remedy::Nothing),
            IoError::Storage { .. } => ("Browser storage failed", Remedy::Nothing),
            IoError::Protocol { .. } => ("Cannot read the registry's answer", Remedy::Nothing),
            IoError::Busy { .. } => ("Already downloading", Remedy::Nothing),
            IoError::Browser { .. } => ("Browser error", Remedy::Nothing),
            IoError::Cancelled => ("Cancelled", Remedy::Nothing),
        };
        Problem {
            title: title.to_owned(),
            detail: e.to_string(),
            remedy,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remedies_point_somewhere_useful() {
        let creds = IoError::NeedsCredentials {
            registry: "localhost:5000".into(),
        };
        assert_eq!(
            Problem::from(&creds).remedy,
            Remedy::Credentials {
                host: "localhost:5000".into()
            }
        );
        let unknown = IoError::ManifestUnknown {
            reference: "x".into(),
            message: "m".into(),
        };
        assert_eq!(Problem::from(&unknown).remedy, Remedy::Tags);
        let down = IoError::Unreachable {
            url: "u".into(),
            via_relay: true,
            detail: "d".into(),
        };
        let p = Problem::from(&down);
        assert_eq!(p.remedy, Remedy::RelaySettings);
        assert!(p.detail.contains("Relay setting"), "{}", p.detail);
        let limited = IoError::RateLimited {
            registry: "docker.io".into(),
            retry_after_ms: Some(1500),
            limit: Some("100;w=21600".into()),
            remaining: Some("0".into()),
        };
        let p = Problem::from(&limited);
        assert_eq!(p.remedy, Remedy::Wait { seconds: Some(2) });
        assert!(p.detail.contains("100;w=21600"), "{}", p.detail);
    }
}
