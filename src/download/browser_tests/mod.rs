//! Browser tests of the download path, in a dedicated worker of headless Chromium (the only
//! place with `FileSystemSyncAccessHandle`). Run with
//! `CHROMEDRIVER=/usr/bin/chromedriver cargo test -p wharf --target wasm32-unknown-unknown`
//! (`wasm-bindgen-test-runner` is the runner; Chromium flags are in `webdriver.json`).

mod boot;
mod engine;
mod export;
mod export_resume;
mod job;
mod memory;
mod sha256;

use std::cell::RefCell;
use std::collections::VecDeque;

use js_sys::{Function, Uint8Array};
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;
use wharf_oci::{Digest, Verifier};

use super::engine::{fetch_blob, BlobSource, CancelToken, Engine, Observer};
use super::job::BlobJob;
use super::opfs::{Sink, Staging};
use super::protocol::{staged_name, DownloadEvent};
use super::retry::RetryPolicy;
use crate::net::body::{BodyReader, ChunkBuffer};
use crate::net::IoError;

wasm_bindgen_test_configure!(run_in_dedicated_worker);

/// Deterministic bytes that differ per `seed`.
pub(super) fn data(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

pub(super) const FAST: RetryPolicy = RetryPolicy {
    max_attempts: 5,
    base_delay_ms: 5,
    max_delay_ms: 20,
    max_retry_after_ms: 1_000,
};

/// What the next `open` of a [`FakeSource`] does.
pub(super) enum Fake {
    Normal,
    /// Sends this many bytes, then the stream errors like a dropped connection.
    BreakAfter(usize),
    Fail(IoError),
}

/// A registry stand-in that serves `bytes` from memory, honouring `Range` unless told not to.
pub(super) struct FakeSource {
    bytes: Vec<u8>,
    pub(super) ignore_range: bool,
    script: RefCell<VecDeque<Fake>>,
    opens: RefCell<Vec<(u64, Option<u64>)>>,
}

impl FakeSource {
    pub(super) fn new(bytes: Vec<u8>) -> Self {
        FakeSource {
            bytes,
            ignore_range: false,
            script: RefCell::new(VecDeque::new()),
            opens: RefCell::new(Vec::new()),
        }
    }

    pub(super) fn then(self, step: Fake) -> Self {
        self.script.borrow_mut().push_back(step);
        self
    }

    /// Where each request started.
    pub(super) fn opens(&self) -> Vec<u64> {
        self.opens
            .borrow()
            .iter()
            .map(|(start, _)| *start)
            .collect()
    }

    /// Each request's range.
    pub(super) fn ranges(&self) -> Vec<(u64, Option<u64>)> {
        self.opens.borrow().clone()
    }
}

/// A byte stream that delivers `bytes`, then errors (a connection that drops).
pub(super) fn breaking_stream(bytes: &[u8]) -> web_sys::ReadableStream {
    let make = Function::new_with_args(
        "bytes",
        "let sent = false; return new ReadableStream({ type: 'bytes', pull(c) { \
           if (!sent) { sent = true; c.enqueue(bytes); } \
           else { c.error(new TypeError('network error (test)')); } } });",
    );
    make.call1(&wasm_bindgen::JsValue::NULL, &Uint8Array::from(bytes))
        .expect("stream")
        .unchecked_into()
}

impl BlobSource for FakeSource {
    async fn open(&self, start: u64, end: Option<u64>) -> Result<web_sys::Response, IoError> {
        self.opens.borrow_mut().push((start, end));
        let step = self.script.borrow_mut().pop_front().unwrap_or(Fake::Normal);
        let ranged = !self.ignore_range && (start > 0 || end.is_some());
        let (from, to) = match ranged {
            true => (
                start as usize,
                end.map_or(self.bytes.len(), |e| (e as usize + 1).min(self.bytes.len())),
            ),
            false => (0, self.bytes.len()),
        };
        let body = &self.bytes[from..to];
        let headers = web_sys::Headers::new().expect("headers");
        headers
            .set("content-length", &body.len().to_string())
            .expect("header");
        let init = web_sys::ResponseInit::new();
        if !ranged {
            init.set_status(200);
        } else {
            init.set_status(206);
            let range = format!("bytes {from}-{}/{}", to - 1, self.bytes.len());
            headers.set("content-range", &range).expect("header");
        }
        init.set_headers(&headers);
        let response = match step {
            Fake::Fail(e) => return Err(e),
            Fake::Normal => web_sys::Response::new_with_opt_js_u8_array_and_init(
                Some(&Uint8Array::from(body)),
                &init,
            ),
            Fake::BreakAfter(n) => web_sys::Response::new_with_opt_readable_stream_and_init(
                Some(&breaking_stream(&body[..n])),
                &init,
            ),
        };
        Ok(response.expect("response"))
    }
}

#[derive(Default)]
pub(super) struct Seen {
    pub(super) progress: Vec<u64>,
    pub(super) retries: Vec<(u32, u64)>,
}

impl Observer for Seen {
    fn progress(&mut self, bytes: u64) {
        self.progress.push(bytes);
    }
    fn retrying(&mut self, attempt: u32, after_ms: u64, _reason: &str) {
        self.retries.push((attempt, after_ms));
    }
}

/// A sink in memory, for the engine alone.
#[derive(Default)]
pub(super) struct MemorySink(pub(super) Vec<u8>);

impl Sink for MemorySink {
    fn position(&self) -> u64 {
        self.0.len() as u64
    }
    fn write(&mut self, bytes: &[u8]) -> Result<(), IoError> {
        self.0.extend_from_slice(bytes);
        Ok(())
    }
    fn truncate(&mut self, len: u64) -> Result<(), IoError> {
        self.0.truncate(len as usize);
        Ok(())
    }
}
