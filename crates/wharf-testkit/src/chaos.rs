//! Faults chosen per request by its path, for long runs (`cargo xtask soak`): a [`crate::Front`]
//! forwards `/_fault/<fault>/v2/...` as `/v2/...` with that [`Fault`] applied, so a driver knows what
//! to expect of each transfer. Such requests are counted per fault, not logged one by one (a soak
//! sends hundreds of thousands).

use std::time::Duration;

use axum::extract::Request;
use axum::response::{IntoResponse, Response};
use http::StatusCode;
use url::Url;

use crate::front::{forward_to, too_many, BodyFault};

/// Bytes of a body that pass before a cut or a stall.
pub const FAULT_AFTER: u64 = 64 * 1024;

/// What the front does to one request.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Fault {
    /// Forwarded as it is.
    Pass,
    /// The body is cut after [`FAULT_AFTER`] bytes (the connection drops, `Content-Length` unmet).
    Cut,
    /// The body stops after [`FAULT_AFTER`] bytes and the connection stays open.
    Stall,
    /// 429 with `Retry-After: 1` and a registry error document.
    TooMany,
    /// 503 with a registry error document.
    Unavailable,
    /// Headers come after 300 ms.
    SlowHeaders,
}

impl Fault {
    pub const ALL: [Fault; 6] = [
        Fault::Pass,
        Fault::Cut,
        Fault::Stall,
        Fault::TooMany,
        Fault::Unavailable,
        Fault::SlowHeaders,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Fault::Pass => "pass",
            Fault::Cut => "cut",
            Fault::Stall => "stall",
            Fault::TooMany => "429",
            Fault::Unavailable => "503",
            Fault::SlowHeaders => "slow-headers",
        }
    }

    fn parse(name: &str) -> Option<Fault> {
        Fault::ALL.into_iter().find(|f| f.name() == name)
    }
}

/// The path of `v2_path` (`repo/blobs/sha256:...`) with `fault` applied.
pub fn fault_path(fault: Fault, v2_path: &str) -> String {
    format!("/_fault/{}/v2/{v2_path}", fault.name())
}

/// `/_fault/<name>/<rest>` → the fault and `/<rest>`.
pub(crate) fn split(path: &str) -> Option<(Fault, String)> {
    let rest = path.strip_prefix("/_fault/")?;
    let (name, rest) = rest.split_once('/')?;
    Some((Fault::parse(name)?, format!("/{rest}")))
}

/// Answers `request` (already split into `fault` and upstream `path`) with the fault applied.
pub(crate) async fn apply(
    http: &reqwest::Client,
    upstream: &Url,
    fault: Fault,
    path: &str,
    request: Request,
) -> Response {
    let body_fault = match fault {
        Fault::TooMany => return too_many("1"),
        Fault::Unavailable => {
            let doc = r#"{"errors":[{"code":"UNAVAILABLE","message":"from the test front"}]}"#;
            return (StatusCode::SERVICE_UNAVAILABLE, doc).into_response();
        }
        Fault::SlowHeaders => {
            tokio::time::sleep(Duration::from_millis(300)).await;
            BodyFault::None
        }
        Fault::Pass => BodyFault::None,
        Fault::Cut => BodyFault::Cut(FAULT_AFTER),
        Fault::Stall => BodyFault::Stall(FAULT_AFTER),
    };
    forward_to(http, upstream, path, request, body_fault).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_name_their_fault() {
        assert_eq!(
            split("/_fault/cut/v2/r/blobs/sha256:00"),
            Some((Fault::Cut, "/v2/r/blobs/sha256:00".into()))
        );
        assert_eq!(
            split("/_fault/429/v2/"),
            Some((Fault::TooMany, "/v2/".into()))
        );
        assert_eq!(split("/_fault/nope/v2/"), None);
        assert_eq!(split("/v2/"), None);
        for fault in Fault::ALL {
            assert_eq!(Fault::parse(fault.name()), Some(fault));
        }
    }
}
