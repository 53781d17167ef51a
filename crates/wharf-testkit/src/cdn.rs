//! A "CDN" file server for redirect mode: it serves the registry's blob storage at the paths the
//! `redirect` storage middleware points to (`/docker/registry/v2/blobs/sha256/<2>/<hex>/data`),
//! supports `Range` (tower-http's `ServeDir`), and — like S3 and Docker Hub's CDN — answers 400
//! to any request that carries an `Authorization` header. Every request is recorded.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use axum::extract::{Request, State};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::Router;
use http::StatusCode;
use tower_http::services::ServeDir;
use url::Url;
use wharf_oci::Digest;

use crate::error::{Error, Result};
use crate::process::{bind_loopback, host_url, ServerTask};
use crate::seen::{RequestLog, SeenRequest};

/// Where the registry's filesystem driver keeps blobs, below its root directory.
pub const BLOBS_PREFIX: &str = "docker/registry/v2/blobs";

/// What S3 answers when a presigned URL also gets an `Authorization` header.
const S3_AUTH_ERROR: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>InvalidArgument</Code>\
<Message>Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query \
string parameter or the Authorization header should be specified</Message></Error>";

/// The running CDN server.
#[derive(Debug)]
pub struct CdnServer {
    addr: SocketAddr,
    root: PathBuf,
    log: RequestLog,
    _task: ServerTask,
}

impl CdnServer {
    /// Serves the blobs below `storage_root` (the registry's `rootdirectory`).
    pub async fn start(storage_root: &Path) -> Result<CdnServer> {
        let listener = bind_loopback().await?;
        let addr = listener
            .local_addr()
            .map_err(Error::io("reading the CDN address"))?;
        let log = RequestLog::default();
        let router = Router::new()
            .nest_service(
                &format!("/{BLOBS_PREFIX}"),
                ServeDir::new(storage_root.join(BLOBS_PREFIX)),
            )
            .fallback(|| async { StatusCode::NOT_FOUND })
            .layer(middleware::from_fn_with_state(log.clone(), refuse_auth));
        Ok(CdnServer {
            addr,
            root: storage_root.to_path_buf(),
            log,
            _task: ServerTask::serve(listener, router),
        })
    }

    /// `http://localhost:<port>/`: a different host than the registry's `127.0.0.1`, so a
    /// redirect to it is a cross-host hop.
    pub fn base_url(&self) -> Url {
        host_url("localhost", self.addr.port())
    }

    /// `http://127.0.0.1:<port>/`.
    pub fn base_url_ip(&self) -> Url {
        host_url("127.0.0.1", self.addr.port())
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// The URL the registry redirects to for `digest`.
    pub fn blob_url(&self, digest: &Digest) -> Url {
        let mut url = self.base_url();
        url.set_path(&blob_path(digest));
        url
    }

    pub fn storage_root(&self) -> &Path {
        &self.root
    }

    /// Every request seen so far.
    pub fn requests(&self) -> Vec<SeenRequest> {
        self.log.snapshot()
    }

    pub fn clear_requests(&self) {
        self.log.clear();
    }
}

/// The storage path of a blob, relative to the registry root:
/// `docker/registry/v2/blobs/<alg>/<2 hex>/<hex>/data`.
pub fn blob_path(digest: &Digest) -> String {
    let hex = digest.hex();
    let two = hex.get(..2).unwrap_or(hex);
    format!("{BLOBS_PREFIX}/{}/{two}/{hex}/data", digest.algorithm())
}

async fn refuse_auth(State(log): State<RequestLog>, request: Request, next: Next) -> Response {
    let mut seen = SeenRequest::new(request.method(), request.uri(), request.headers());
    let response = if seen.authorization {
        (
            StatusCode::BAD_REQUEST,
            [(http::header::CONTENT_TYPE, "application/xml")],
            S3_AUTH_ERROR,
        )
            .into_response()
    } else {
        next.run(request).await
    };
    seen.status = response.status().as_u16();
    log.push(seen);
    response
}
