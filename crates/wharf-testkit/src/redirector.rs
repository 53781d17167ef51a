//! A small redirecting server for redirect-matrix tests. Routes are configured at run time:
//! a path either redirects (any 3xx, `Location` = a given URL) or serves fixed bytes. The
//! stateless form `GET /r/<status>?to=<percent-encoded URL>` redirects without configuration.
//! Every request is recorded (header names and values, credentials redacted).
//!
//! Chains are built from routes: for A -> B -> A, route `/a1` on A to B's `/b`, route `/b` on B
//! to A's `/a2`, and `/a2` to the final target.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};

use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use axum::Router;
use bytes::Bytes;
use http::{header, StatusCode};
use url::Url;

use crate::error::{Error, Result};
use crate::process::{bind_loopback, host_url, ServerTask};
use crate::seen::{RequestLog, SeenRequest};

/// What a configured path answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// `status` with `Location: location`.
    Redirect { status: u16, location: String },
    /// 200 with these bytes.
    Serve { body: Bytes, content_type: String },
}

#[derive(Debug, Default)]
struct Shared {
    routes: Mutex<HashMap<String, Route>>,
    log: RequestLog,
}

/// The running redirector.
#[derive(Debug)]
pub struct Redirector {
    addr: SocketAddr,
    shared: Arc<Shared>,
    _task: ServerTask,
}

impl Redirector {
    pub async fn start() -> Result<Redirector> {
        let listener = bind_loopback().await?;
        let addr = listener
            .local_addr()
            .map_err(Error::io("reading the redirector address"))?;
        let shared = Arc::new(Shared::default());
        let router = Router::new().fallback(answer).with_state(shared.clone());
        Ok(Redirector {
            addr,
            shared,
            _task: ServerTask::serve(listener, router),
        })
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// `http://127.0.0.1:<port>/`.
    pub fn base_url(&self) -> Url {
        host_url("127.0.0.1", self.addr.port())
    }

    /// `http://localhost:<port>/`: the same server under another host name.
    pub fn base_url_localhost(&self) -> Url {
        host_url("localhost", self.addr.port())
    }

    /// `base_url()` joined with `path` (which starts with `/`).
    pub fn url(&self, path: &str) -> Url {
        with_path(self.base_url(), path)
    }

    /// `base_url_localhost()` joined with `path`.
    pub fn url_localhost(&self, path: &str) -> Url {
        with_path(self.base_url_localhost(), path)
    }

    /// Makes `path` answer `status` with `Location: location`. Only 3xx statuses are allowed.
    pub fn redirect(&self, path: &str, status: u16, location: &str) -> Result<()> {
        if !(300..400).contains(&status) {
            return Err(Error::protocol(format!(
                "{status} is not a redirect status"
            )));
        }
        self.set(
            path,
            Route::Redirect {
                status,
                location: location.to_owned(),
            },
        );
        Ok(())
    }

    /// Makes `path` answer 200 with `body`.
    pub fn serve(&self, path: &str, body: impl Into<Bytes>, content_type: &str) {
        self.set(
            path,
            Route::Serve {
                body: body.into(),
                content_type: content_type.to_owned(),
            },
        );
    }

    fn set(&self, path: &str, route: Route) {
        self.shared
            .routes
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(path.to_owned(), route);
    }

    /// The URL of the stateless form: answers `status` with `Location: target`.
    pub fn stateless_url(&self, status: u16, target: &Url) -> Url {
        let mut url = self.url(&format!("/r/{status}"));
        url.query_pairs_mut().append_pair("to", target.as_str());
        url
    }

    /// Every request seen so far.
    pub fn requests(&self) -> Vec<SeenRequest> {
        self.shared.log.snapshot()
    }

    pub fn clear_requests(&self) {
        self.shared.log.clear();
    }
}

fn with_path(mut url: Url, path: &str) -> Url {
    url.set_path(path);
    url
}

async fn answer(State(shared): State<Arc<Shared>>, request: Request) -> Response {
    let mut seen = SeenRequest::new(request.method(), request.uri(), request.headers());
    let route = lookup(&shared, request.uri());
    let response = match route {
        Some(Route::Redirect { status, location }) => redirect_response(status, &location),
        Some(Route::Serve { body, content_type }) => {
            ([(header::CONTENT_TYPE, content_type)], body).into_response()
        }
        None => StatusCode::NOT_FOUND.into_response(),
    };
    seen.status = response.status().as_u16();
    shared.log.push(seen);
    response
}

fn lookup(shared: &Shared, uri: &http::Uri) -> Option<Route> {
    let configured = shared
        .routes
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .get(uri.path())
        .cloned();
    configured.or_else(|| stateless(uri))
}

/// `/r/<status>?to=<url>`.
fn stateless(uri: &http::Uri) -> Option<Route> {
    let status: u16 = uri.path().strip_prefix("/r/")?.parse().ok()?;
    if !(300..400).contains(&status) {
        return None;
    }
    let query = uri.query()?;
    let (_, location) = url::form_urlencoded::parse(query.as_bytes()).find(|(k, _)| k == "to")?;
    Some(Route::Redirect {
        status,
        location: location.into_owned(),
    })
}

fn redirect_response(status: u16, location: &str) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::FOUND);
    match http::HeaderValue::from_str(location) {
        Ok(value) => (status, [(header::LOCATION, value)]).into_response(),
        Err(_) => (StatusCode::INTERNAL_SERVER_ERROR, "bad Location").into_response(),
    }
}
