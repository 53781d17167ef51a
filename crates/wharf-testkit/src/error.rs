//! The one error type of the test kit.

use std::path::PathBuf;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A filesystem or socket operation failed.
    #[error("I/O error while {context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
    /// An external program the kit needs is not installed.
    #[error("{program} is not installed (apt-get install -y docker-registry skopeo umoci)")]
    MissingTool { program: String },
    /// An external program exited unsuccessfully.
    #[error("{program} {args} failed ({status}): {stderr}")]
    Command {
        program: String,
        args: String,
        status: String,
        stderr: String,
    },
    /// The registry process did not come up; `log` is the tail of its output.
    #[error("registry did not start: {reason}; log: {log}")]
    Startup { reason: String, log: String },
    /// An HTTP request could not be sent or its body not read.
    #[error("HTTP {context}: {source}")]
    Http {
        context: String,
        #[source]
        source: reqwest::Error,
    },
    /// A server answered with a status we did not expect.
    #[error("{method} {url} answered HTTP {status}: {body}")]
    Status {
        method: String,
        url: String,
        status: u16,
        body: String,
    },
    /// A server answered something that breaks the protocol (missing header, bad digest, ...).
    #[error("protocol error: {reason}")]
    Protocol { reason: String },
    /// A blob or manifest did not verify against its digest and size.
    #[error(transparent)]
    Oci(#[from] wharf_oci::Error),
    /// JSON that could not be encoded or decoded.
    #[error("JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// Key or certificate generation failed.
    #[error("crypto: {reason}")]
    Crypto { reason: String },
    /// A private repository and no credentials that could answer (the client's "needs
    /// credentials" case).
    #[error("{url} needs credentials ({scheme} realm {realm:?})")]
    NeedCredentials {
        url: String,
        scheme: String,
        realm: Option<String>,
    },
    /// Credentials were sent and refused (wrong password at the token server or registry, or
    /// a token without the right).
    #[error("{url}: credentials refused: {reason}")]
    Unauthorized { url: String, reason: String },
    /// More redirects than the client follows.
    #[error("too many redirects from {url}")]
    TooManyRedirects { url: String },
    /// A path that should exist does not.
    #[error("missing file {path}")]
    MissingFile { path: PathBuf },
}

impl Error {
    pub(crate) fn io(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> Error {
        let context = context.into();
        move |source| Error::Io { context, source }
    }

    pub(crate) fn http(context: impl Into<String>) -> impl FnOnce(reqwest::Error) -> Error {
        let context = context.into();
        move |source| Error::Http { context, source }
    }

    pub(crate) fn protocol(reason: impl Into<String>) -> Error {
        Error::Protocol {
            reason: reason.into(),
        }
    }

    pub(crate) fn crypto(reason: impl std::fmt::Display) -> Error {
        Error::Crypto {
            reason: reason.to_string(),
        }
    }
}
