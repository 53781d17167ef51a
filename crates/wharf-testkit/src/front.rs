//! A fault-injecting HTTP front for a registry (or any loopback server): it forwards every
//! request to its upstream and streams the answer back, unless told to misbehave:
//! - [`Front::fail_with_429`]: the next N requests get `429 Too Many Requests` with a
//!   `Retry-After` value (a rate-limited registry);
//! - [`Front::cut_blobs_after`]: the next N blob GETs (`/blobs/` in the path) are cut after a
//!   number of body bytes: the connection is dropped with `Content-Length` unmet (an
//!   interrupted download). Only 2xx answers are cut; a redirect mode's CDN hop is not.
//!
//! - a path `/_fault/<fault>/...` picks its own fault ([`crate::chaos`]), for long runs.
//! - [`Front::paginate_tags`]: tag lists are answered page by page as the spec gives it
//!   ([`crate::pages`]), which the test registry does not do.
//!
//! - [`Front::serve_referrers_api`]: the referrers API, answered from the registry's
//!   `sha256-<hex>` tag ([`crate::referrers`]).
//! - [`Front::send_cors`]: answers carry CORS headers, as a registry that allows browsers does.
//!
//! Redirects are passed back as they are. Every request is recorded, but for path-chosen faults,
//! which are counted per fault.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use axum::Router;
use futures_util::{StreamExt as _, TryStreamExt as _};
use http::{header, HeaderMap, StatusCode};
use url::Url;

use crate::chaos::{self, Fault};
use crate::error::{Error, Result};
use crate::process::{bind_loopback, host_url, ServerTask};
use crate::seen::{RequestLog, SeenRequest};

/// Hop-by-hop headers (RFC 9110 7.6.1) plus `Host`: never forwarded.
const HOP_BY_HOP: &[&str] = &[
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "proxy-connection",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "host",
];

#[derive(Debug, Default)]
struct Faults {
    too_many: usize,
    retry_after: String,
    cuts: usize,
    cut_after: u64,
    /// Blob bodies are sent at this many bytes per second (a slow network).
    throttle: Option<u64>,
}

#[derive(Debug)]
struct Shared {
    upstream: Url,
    http: reqwest::Client,
    faults: Mutex<Faults>,
    log: RequestLog,
    path_faults: Mutex<BTreeMap<Fault, u64>>,
    paginate_tags: AtomicBool,
    cors: AtomicBool,
    referrers_api: AtomicBool,
}

/// The running front.
#[derive(Debug)]
pub struct Front {
    addr: SocketAddr,
    shared: Arc<Shared>,
    _task: ServerTask,
}

impl Front {
    /// Forwards to `upstream` (e.g. a registry's `base_url()`).
    pub async fn start(upstream: Url) -> Result<Front> {
        let listener = bind_loopback().await?;
        let addr = listener
            .local_addr()
            .map_err(Error::io("reading the front address"))?;
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(Error::http("building a client"))?;
        let shared = Arc::new(Shared {
            upstream,
            http,
            faults: Mutex::new(Faults::default()),
            log: RequestLog::default(),
            path_faults: Mutex::default(),
            paginate_tags: AtomicBool::new(false),
            cors: AtomicBool::new(false),
            referrers_api: AtomicBool::new(false),
        });
        let router = Router::new().fallback(forward).with_state(shared.clone());
        Ok(Front {
            addr,
            shared,
            _task: ServerTask::serve(listener, router),
        })
    }

    /// `http://127.0.0.1:<port>/`.
    pub fn base_url(&self) -> Url {
        host_url("127.0.0.1", self.addr.port())
    }

    /// `127.0.0.1:<port>`, for image references.
    pub fn host_port(&self) -> String {
        format!("127.0.0.1:{}", self.addr.port())
    }

    /// The next `times` requests answer 429 with `Retry-After: retry_after`.
    pub fn fail_with_429(&self, times: usize, retry_after: &str) {
        let mut faults = self.faults();
        faults.too_many = times;
        faults.retry_after = retry_after.to_owned();
    }

    /// The next `times` successful blob GETs are cut after `bytes` body bytes.
    pub fn cut_blobs_after(&self, bytes: u64, times: usize) {
        let mut faults = self.faults();
        faults.cuts = times;
        faults.cut_after = bytes;
    }

    /// From now on, answers carry CORS headers and preflights are answered ([`crate::cors`]):
    /// a registry a page may use `direct`.
    pub fn send_cors(&self) {
        self.shared.cors.store(true, Ordering::Relaxed);
    }

    /// From now on, `GET /v2/<name>/referrers/<digest>` is answered as a registry with the
    /// referrers API would, from the registry's `sha256-<hex>` tag ([`crate::referrers`]).
    pub fn serve_referrers_api(&self) {
        self.shared.referrers_api.store(true, Ordering::Relaxed);
    }

    /// From now on, tag lists honour `n` and `last` and link the next page.
    pub fn paginate_tags(&self) {
        self.shared.paginate_tags.store(true, Ordering::Relaxed);
    }

    /// From now on, blob bodies arrive at `bytes_per_sec` (so that a test can watch a download
    /// run, and cancel it, before it ends).
    pub fn throttle_blobs(&self, bytes_per_sec: u64) {
        self.faults().throttle = Some(bytes_per_sec.max(1));
    }

    fn faults(&self) -> std::sync::MutexGuard<'_, Faults> {
        self.shared
            .faults
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// The URL of `v2_path` (`repo/blobs/sha256:...`) with `fault` applied to every request for it.
    pub fn fault_url(&self, fault: Fault, v2_path: &str) -> String {
        format!(
            "http://{}{}",
            self.host_port(),
            chaos::fault_path(fault, v2_path)
        )
    }

    /// Requests with a path-chosen fault, per fault.
    pub fn faults_seen(&self) -> BTreeMap<Fault, u64> {
        let seen = self.shared.path_faults.lock();
        seen.unwrap_or_else(PoisonError::into_inner).clone()
    }

    /// Every request seen so far (`status` is what the front answered).
    pub fn requests(&self) -> Vec<SeenRequest> {
        self.shared.log.snapshot()
    }
}

/// What to do with one request, decided (and counted down) under the lock.
enum Plan {
    TooMany(String),
    Forward {
        cut_after: Option<u64>,
        throttle: Option<u64>,
    },
}

fn plan(shared: &Shared, request: &Request) -> Plan {
    let mut faults = shared.faults.lock().unwrap_or_else(PoisonError::into_inner);
    if faults.too_many > 0 {
        faults.too_many -= 1;
        return Plan::TooMany(faults.retry_after.clone());
    }
    let blob_get =
        request.method() == http::Method::GET && request.uri().path().contains("/blobs/");
    let throttle = faults.throttle.filter(|_| blob_get);
    if blob_get && faults.cuts > 0 {
        faults.cuts -= 1;
        return Plan::Forward {
            cut_after: Some(faults.cut_after),
            throttle,
        };
    }
    Plan::Forward {
        cut_after: None,
        throttle,
    }
}

fn count(shared: &Shared, fault: Fault) {
    let mut seen = shared
        .path_faults
        .lock()
        .unwrap_or_else(PoisonError::into_inner);
    *seen.entry(fault).or_default() += 1;
}

/// 429 with `Retry-After` and a registry error document.
pub(crate) fn too_many(retry_after: &str) -> Response {
    let doc =
        r#"{"errors":[{"code":"TOOMANYREQUESTS","message":"rate limited by the test front"}]}"#;
    let retry_after = retry_after.to_owned();
    (
        StatusCode::TOO_MANY_REQUESTS,
        [(header::RETRY_AFTER, retry_after)],
        doc,
    )
        .into_response()
}

async fn forward(State(shared): State<Arc<Shared>>, request: Request) -> Response {
    if !shared.cors.load(Ordering::Relaxed) {
        return answer(shared, request).await;
    }
    let asked = request.headers().clone();
    if crate::cors::is_preflight(request.method(), &asked) {
        return crate::cors::preflight(&asked);
    }
    let mut response = answer(shared, request).await;
    crate::cors::decorate(&mut response, &asked);
    response
}

async fn answer(shared: Arc<Shared>, request: Request) -> Response {
    if let Some((fault, path)) = chaos::split(request.uri().path()) {
        count(&shared, fault);
        return chaos::apply(&shared.http, &shared.upstream, fault, &path, request).await;
    }
    let mut seen = SeenRequest::new(request.method(), request.uri(), request.headers());
    let response = match plan(&shared, &request) {
        Plan::TooMany(retry_after) => too_many(&retry_after),
        Plan::Forward { .. }
            if shared.paginate_tags.load(Ordering::Relaxed)
                && crate::pages::is_tag_list(request.method(), request.uri().path()) =>
        {
            let uri = request.uri();
            let (http, upstream) = (&shared.http, &shared.upstream);
            crate::pages::answer(http, upstream, uri.path(), uri.query(), request.headers()).await
        }
        Plan::Forward { .. }
            if shared.referrers_api.load(Ordering::Relaxed)
                && crate::referrers::is_api(request.method(), request.uri().path()) =>
        {
            let (http, upstream) = (&shared.http, &shared.upstream);
            let path = request.uri().path();
            crate::referrers::answer_api(http, upstream, path, request.headers()).await
        }
        Plan::Forward {
            cut_after,
            throttle,
        } => relay(&shared, request, cut_after, throttle).await,
    };
    seen.status = response.status().as_u16();
    shared.log.push(seen);
    response
}

/// What happens to a forwarded 2xx body.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum BodyFault {
    None,
    /// The connection is dropped after this many bytes (`Content-Length` unmet).
    Cut(u64),
    /// Nothing more is sent after this many bytes; the connection stays open.
    Stall(u64),
    /// Sent at this many bytes per second.
    Throttle(u64),
}

async fn relay(
    shared: &Shared,
    request: Request,
    cut_after: Option<u64>,
    throttle: Option<u64>,
) -> Response {
    let fault = match (cut_after, throttle) {
        (Some(after), _) => BodyFault::Cut(after),
        (None, Some(rate)) => BodyFault::Throttle(rate),
        (None, None) => BodyFault::None,
    };
    let path = request.uri().path().to_owned();
    forward_to(&shared.http, &shared.upstream, &path, request, fault).await
}

/// Forwards `request` to `path` on `upstream` and streams the answer back, with `fault` applied.
pub(crate) async fn forward_to(
    http: &reqwest::Client,
    upstream: &Url,
    path: &str,
    request: Request,
    fault: BodyFault,
) -> Response {
    let mut url = upstream.clone();
    url.set_path(path);
    url.set_query(request.uri().query());
    let (parts, body) = request.into_parts();
    let upstream = http
        .request(parts.method, url)
        .headers(end_to_end(&parts.headers))
        .body(reqwest::Body::wrap_stream(body.into_data_stream()))
        .send()
        .await;
    let upstream = match upstream {
        Ok(response) => response,
        Err(e) => return (StatusCode::BAD_GATEWAY, e.to_string()).into_response(),
    };
    let status = upstream.status();
    let headers = end_to_end(upstream.headers());
    let fault = if status.is_success() {
        fault
    } else {
        BodyFault::None
    };
    let body = match fault {
        BodyFault::None => Body::from_stream(upstream.bytes_stream()),
        BodyFault::Cut(after) => Body::from_stream(limit(upstream, after)),
        BodyFault::Throttle(rate) => Body::from_stream(throttled(upstream, rate)),
        BodyFault::Stall(after) => {
            let stalled = futures_util::stream::pending();
            Body::from_stream(
                limit(upstream, after)
                    .take_while(|c| std::future::ready(c.is_ok()))
                    .chain(stalled),
            )
        }
    };
    let mut response = Response::new(body);
    *response.status_mut() = status;
    *response.headers_mut() = headers;
    response
}

/// The body in pieces of at most 64 KiB, each after the time `rate` gives it.
fn throttled(
    upstream: reqwest::Response,
    rate: u64,
) -> impl futures_util::Stream<Item = std::io::Result<bytes::Bytes>> {
    const PIECE: usize = 64 << 10;
    upstream
        .bytes_stream()
        .map(|chunk| {
            let chunk = chunk.map_err(std::io::Error::other)?;
            let pieces: Vec<bytes::Bytes> = (0..chunk.len())
                .step_by(PIECE)
                .map(|at| chunk.slice(at..(at + PIECE).min(chunk.len())))
                .collect();
            let pieces = pieces.into_iter().map(Ok::<_, std::io::Error>);
            Ok::<_, std::io::Error>(futures_util::stream::iter(pieces))
        })
        .try_flatten()
        .then(move |piece: std::io::Result<bytes::Bytes>| async move {
            if let Ok(piece) = &piece {
                let secs = piece.len() as f64 / rate as f64;
                tokio::time::sleep(std::time::Duration::from_secs_f64(secs)).await;
            }
            piece
        })
}

/// The first `after` body bytes, then an error.
fn limit(
    upstream: reqwest::Response,
    after: u64,
) -> impl futures_util::Stream<Item = std::io::Result<bytes::Bytes>> {
    let mut left = after;
    upstream.bytes_stream().map(move |chunk| {
        let chunk = chunk.map_err(std::io::Error::other)?;
        if left == 0 {
            return Err(std::io::Error::other("cut by the test front"));
        }
        let keep = usize::try_from(left).unwrap_or(usize::MAX).min(chunk.len());
        left -= keep as u64;
        Ok(chunk.slice(..keep))
    })
}

pub(crate) fn end_to_end(headers: &HeaderMap) -> HeaderMap {
    let mut out = headers.clone();
    for name in HOP_BY_HOP {
        out.remove(*name);
    }
    out
}
