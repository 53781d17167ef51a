//! A fault front for long runs (`cargo xtask soak`): like [`crate::Front`], it forwards to an
//! upstream, but every request says in its path which fault it gets, so a driver knows what to expect
//! of each transfer: `/_fault/<fault>/v2/...` is forwarded as `/v2/...` with [`Fault`] applied.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use axum::Router;
use http::{header, StatusCode};
use url::Url;

use crate::error::{Error, Result};
use crate::front::{forward_to, BodyFault};
use crate::process::{bind_loopback, ServerTask};

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

#[derive(Debug)]
struct Shared {
    upstream: Url,
    http: reqwest::Client,
    seen: Mutex<BTreeMap<Fault, u64>>,
}

/// The running front.
#[derive(Debug)]
pub struct Chaos {
    addr: SocketAddr,
    shared: Arc<Shared>,
    _task: ServerTask,
}

impl Chaos {
    /// Forwards to `upstream` (a registry's `base_url()`).
    pub async fn start(upstream: Url) -> Result<Chaos> {
        let listener = bind_loopback().await?;
        let addr = listener
            .local_addr()
            .map_err(Error::io("reading the fault front's address"))?;
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(Error::http("building a client"))?;
        let shared = Arc::new(Shared {
            upstream,
            http,
            seen: Mutex::default(),
        });
        let router = Router::new().fallback(handle).with_state(shared.clone());
        Ok(Chaos {
            addr,
            shared,
            _task: ServerTask::serve(listener, router),
        })
    }

    /// `http://127.0.0.1:<port>`, for `--allow-host`.
    pub fn origin(&self) -> String {
        format!("http://127.0.0.1:{}", self.addr.port())
    }

    /// The URL of `v2_path` (`repo/blobs/sha256:...`) with `fault` applied.
    pub fn url(&self, fault: Fault, v2_path: &str) -> String {
        format!("{}/_fault/{}/v2/{v2_path}", self.origin(), fault.name())
    }

    /// Requests seen per fault.
    pub fn seen(&self) -> BTreeMap<Fault, u64> {
        self.shared
            .seen
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

/// `/_fault/<name>/<rest>` → the fault and `/<rest>`.
fn split(path: &str) -> Option<(Fault, String)> {
    let rest = path.strip_prefix("/_fault/")?;
    let (name, rest) = rest.split_once('/')?;
    Some((Fault::parse(name)?, format!("/{rest}")))
}

async fn handle(State(shared): State<Arc<Shared>>, request: Request) -> Response {
    let Some((fault, path)) = split(request.uri().path()) else {
        return (StatusCode::NOT_FOUND, "no /_fault/<fault>/ prefix").into_response();
    };
    *shared
        .seen
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .entry(fault)
        .or_default() += 1;
    let error_doc = |code: &str| {
        format!(r#"{{"errors":[{{"code":"{code}","message":"from the fault front"}}]}}"#)
    };
    let body_fault = match fault {
        Fault::TooMany => {
            let doc = error_doc("TOOMANYREQUESTS");
            return (
                StatusCode::TOO_MANY_REQUESTS,
                [(header::RETRY_AFTER, "1")],
                doc,
            )
                .into_response();
        }
        Fault::Unavailable => {
            return (StatusCode::SERVICE_UNAVAILABLE, error_doc("UNAVAILABLE")).into_response();
        }
        Fault::SlowHeaders => {
            tokio::time::sleep(Duration::from_millis(300)).await;
            BodyFault::None
        }
        Fault::Pass => BodyFault::None,
        Fault::Cut => BodyFault::Cut(FAULT_AFTER),
        Fault::Stall => BodyFault::Stall(FAULT_AFTER),
    };
    forward_to(&shared.http, &shared.upstream, &path, request, body_fault).await
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
