//! Where an export's blobs come from: the registry, and for foreign (non-distributable) layers
//! that the registry does not have, the first URL their descriptor names, through the relay.

use std::cell::RefCell;
use std::collections::{HashMap, HashSet};

use wharf_oci::request::ByteRange;
use wharf_oci::{Digest, Reference};

use super::super::engine::CancelToken;
use super::writer::Blobs;
use crate::net::body::read_limited;
use crate::net::classify::{classify, Context, Target};
use crate::net::{js, IoError, RegistryClient, RelayTemplate};

/// Largest error document read to explain a failed foreign fetch.
const MAX_ERROR_BODY: u64 = 64 * 1024;

/// The blobs of one image in its repository; see the module documentation.
pub struct RegistryBlobs<'a> {
    pub client: &'a RegistryClient,
    pub reference: &'a Reference,
    pub cancel: &'a CancelToken,
    /// Foreign layers: the `urls` of their descriptors.
    pub urls: &'a HashMap<Digest, Vec<String>>,
    /// Foreign layers the registry said it does not have (fetched from their URL from then on).
    elsewhere: RefCell<HashSet<Digest>>,
}

impl<'a> RegistryBlobs<'a> {
    pub fn new(
        client: &'a RegistryClient,
        reference: &'a Reference,
        cancel: &'a CancelToken,
        urls: &'a HashMap<Digest, Vec<String>>,
    ) -> Self {
        RegistryBlobs {
            client,
            reference,
            cancel,
            urls,
            elsewhere: RefCell::default(),
        }
    }

    fn foreign_url(&self, digest: &Digest) -> Option<&str> {
        self.urls
            .get(digest)
            .and_then(|urls| urls.first())
            .map(String::as_str)
    }
}

/// The `Range` of a request from `start` to `end` (inclusive); `None` for the whole blob.
fn byte_range(start: u64, end: Option<u64>) -> Option<ByteRange> {
    match end {
        Some(end) => ByteRange::window(start, end.saturating_sub(start).saturating_add(1)),
        None => (start > 0).then(|| ByteRange::from_offset(start)),
    }
}

impl Blobs for RegistryBlobs<'_> {
    async fn open(
        &self,
        digest: &Digest,
        start: u64,
        end: Option<u64>,
    ) -> Result<web_sys::Response, IoError> {
        let signal = self.cancel.signal();
        let range = byte_range(start, end);
        let foreign = self.foreign_url(digest);
        if let Some(url) = foreign.filter(|_| self.elsewhere.borrow().contains(digest)) {
            let relay = self.client.relay();
            return open_foreign(&relay, url, digest, range, signal.as_ref()).await;
        }
        let opened = self
            .client
            .open_blob_range(self.reference, digest, range, signal.as_ref())
            .await;
        match (opened, foreign) {
            (Err(IoError::BlobUnknown { .. }), Some(url)) => {
                self.elsewhere.borrow_mut().insert(digest.clone());
                let relay = self.client.relay();
                open_foreign(&relay, url, digest, range, signal.as_ref()).await
            }
            (opened, _) => opened,
        }
    }
}

/// Opens a foreign layer at `url` through the relay (no credentials: they are for the
/// registry only). Transient failures keep their kind so that the engine retries them; any
/// other failure names the URL.
async fn open_foreign(
    relay: &RelayTemplate,
    url: &str,
    digest: &Digest,
    range: Option<ByteRange>,
    signal: Option<&web_sys::AbortSignal>,
) -> Result<web_sys::Response, IoError> {
    let named = |e: IoError| IoError::Protocol {
        message: format!(
            "foreign layer {digest} is not in the registry, and fetching it from {url} failed: {e}"
        ),
    };
    let upstream = url::Url::parse(url)
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https"))
        .ok_or_else(|| {
            named(IoError::Protocol {
                message: "not an http(s) URL".into(),
            })
        })?;
    let request = foreign_request(&relay.apply(&upstream), range, signal)
        .map_err(|e| js::browser("building a request", &e))?;
    let response = js::fetch(&request)
        .await
        .map_err(|e| match js::error_name(&e).as_str() {
            "AbortError" => IoError::Cancelled,
            _ => IoError::Unreachable {
                url: url.to_owned(),
                via_relay: !relay.is_direct(),
                detail: js::error_text(&e),
            },
        })?;
    let status = response.status();
    if (200..300).contains(&status) || status == 416 {
        return Ok(response);
    }
    let headers = js::response_headers(&response);
    // The explanation is best effort: an unreadable (or huge) error body still gives the status.
    let body = read_limited(&response, MAX_ERROR_BODY)
        .await
        .unwrap_or_default();
    let shown = digest.to_string();
    let ctx = Context {
        registry: upstream.host_str().unwrap_or_default(),
        repository: "",
        url,
        via_relay: !relay.is_direct(),
        has_credentials: false,
        now_s: js::now_ms() / 1000,
    };
    let error = classify(
        &ctx,
        Target::Blob { digest: &shown },
        status,
        &headers,
        &body,
    );
    Err(match error {
        // Transient: the engine retries these, and their messages name the URL already.
        IoError::Http { status, .. } if status >= 500 => error,
        IoError::RelayRefused { status, .. } if status >= 500 => error,
        IoError::RateLimited { .. } => error,
        other => named(other),
    })
}

fn foreign_request(
    url: &str,
    range: Option<ByteRange>,
    signal: Option<&web_sys::AbortSignal>,
) -> Result<web_sys::Request, wasm_bindgen::JsValue> {
    let headers = web_sys::Headers::new()?;
    if let Some(range) = range {
        headers.set("range", &range.header_value())?;
    }
    let init = web_sys::RequestInit::new();
    init.set_method("GET");
    init.set_headers(&headers);
    init.set_mode(web_sys::RequestMode::Cors);
    init.set_credentials(web_sys::RequestCredentials::Omit);
    init.set_cache(web_sys::RequestCache::NoStore);
    init.set_redirect(web_sys::RequestRedirect::Follow);
    if let Some(signal) = signal {
        init.set_signal(Some(signal));
    }
    web_sys::Request::new_with_str_and_init(url, &init)
}
