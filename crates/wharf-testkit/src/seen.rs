//! What the in-process servers (CDN, redirector, token server) saw: one record per request, in a
//! log that tests read. Credential values are never stored, only whether they were present.

use std::sync::{Arc, Mutex, PoisonError};

use http::HeaderMap;

/// One request as a server saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeenRequest {
    pub method: String,
    /// The path, without the query.
    pub path: String,
    pub query: Option<String>,
    /// Header names in arrival order (lowercase), repeated names repeated.
    pub header_names: Vec<String>,
    /// Header values in arrival order; `Authorization`, `Cookie` and `Proxy-Authorization`
    /// values are replaced by `<redacted>`.
    pub headers: Vec<(String, String)>,
    pub authorization: bool,
    pub cookie: bool,
    /// The status the server answered (0 until known).
    pub status: u16,
}

impl SeenRequest {
    pub fn new(method: &http::Method, uri: &http::Uri, headers: &HeaderMap) -> SeenRequest {
        let mut names = Vec::with_capacity(headers.len());
        let mut pairs = Vec::with_capacity(headers.len());
        for (name, value) in headers {
            let name = name.as_str().to_owned();
            let value = if is_credential(&name) {
                "<redacted>".to_owned()
            } else {
                String::from_utf8_lossy(value.as_bytes()).into_owned()
            };
            names.push(name.clone());
            pairs.push((name, value));
        }
        SeenRequest {
            method: method.as_str().to_owned(),
            path: uri.path().to_owned(),
            query: uri.query().map(str::to_owned),
            header_names: names,
            headers: pairs,
            authorization: headers.contains_key(http::header::AUTHORIZATION),
            cookie: headers.contains_key(http::header::COOKIE),
            status: 0,
        }
    }

    /// Every value of header `name` (lowercase), in order.
    pub fn header_values(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .collect()
    }
}

fn is_credential(name: &str) -> bool {
    matches!(name, "authorization" | "cookie" | "proxy-authorization")
}

/// A shared, append-only log of requests.
#[derive(Debug, Clone, Default)]
pub struct RequestLog(Arc<Mutex<Vec<SeenRequest>>>);

impl RequestLog {
    pub fn push(&self, seen: SeenRequest) {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(seen);
    }

    /// A copy of every record so far.
    pub fn snapshot(&self) -> Vec<SeenRequest> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    pub fn clear(&self) {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
    }
}
