//! Browser tests of the download path, in a dedicated worker of headless Chromium (the only
//! place with `FileSystemSyncAccessHandle`). Run with
//! `cargo test -p wharf --target wasm32-unknown-unknown` (see the report in `download/mod.rs`).

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
fn data(len: usize, seed: u64) -> Vec<u8> {
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

const FAST: RetryPolicy = RetryPolicy {
    max_attempts: 5,
    base_delay_ms: 5,
    max_delay_ms: 20,
    max_retry_after_ms: 1_000,
};

/// What the next `open` of a [`FakeSource`] does.
enum Fake {
    Normal,
    /// Sends this many bytes, then the stream errors like a dropped connection.
    BreakAfter(usize),
    Fail(IoError),
}

/// A registry stand-in that serves `bytes` from memory, honouring `Range` unless told not to.
struct FakeSource {
    bytes: Vec<u8>,
    ignore_range: bool,
    script: RefCell<VecDeque<Fake>>,
    opens: RefCell<Vec<u64>>,
}

impl FakeSource {
    fn new(bytes: Vec<u8>) -> Self {
        FakeSource {
            bytes,
            ignore_range: false,
            script: RefCell::new(VecDeque::new()),
            opens: RefCell::new(Vec::new()),
        }
    }

    fn then(self, step: Fake) -> Self {
        self.script.borrow_mut().push_back(step);
        self
    }

    fn opens(&self) -> Vec<u64> {
        self.opens.borrow().clone()
    }
}

/// A byte stream that delivers `bytes`, then errors (a connection that drops).
fn breaking_stream(bytes: &[u8]) -> web_sys::ReadableStream {
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
    async fn open(&self, start: u64) -> Result<web_sys::Response, IoError> {
        self.opens.borrow_mut().push(start);
        let step = self.script.borrow_mut().pop_front().unwrap_or(Fake::Normal);
        let from = if self.ignore_range { 0 } else { start as usize };
        let body = &self.bytes[from..];
        let headers = web_sys::Headers::new().expect("headers");
        headers
            .set("content-length", &body.len().to_string())
            .expect("header");
        let init = web_sys::ResponseInit::new();
        if from == 0 {
            init.set_status(200);
        } else {
            init.set_status(206);
            let range = format!("bytes {from}-{}/{}", self.bytes.len() - 1, self.bytes.len());
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
struct Seen {
    progress: Vec<u64>,
    retries: Vec<(u32, u64)>,
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
struct MemorySink(Vec<u8>);

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

#[wasm_bindgen_test]
async fn byob_reader_hashes_an_in_memory_response() {
    let bytes = data((2 << 20) + 12_345, 1);
    let response = web_sys::Response::new_with_opt_js_u8_array(Some(&Uint8Array::from(&bytes[..])))
        .expect("response");
    let body = response.body().expect("body");
    let mut buffer = ChunkBuffer::new(1 << 20);
    let mut reader = BodyReader::new(&body, &mut buffer).expect("reader");
    assert!(
        reader.is_byob(),
        "a Response body is a byte stream in Chromium"
    );
    let mut verifier = Verifier::new(Digest::sha256_of(&bytes), bytes.len() as u64);
    let mut chunks = 0;
    while let Some(chunk) = reader.next().await.expect("read") {
        assert!(chunk.len() <= 1 << 20);
        verifier.update(chunk).expect("not too long");
        chunks += 1;
    }
    let verified = verifier.finish().expect("digest and size match");
    assert_eq!(verified.size, bytes.len() as u64);
    assert!(chunks >= 3, "{chunks} chunks");
}

#[wasm_bindgen_test]
async fn engine_resumes_a_broken_stream_with_range() {
    let bytes = data((3 << 20) + 99, 2);
    let source = FakeSource::new(bytes.clone()).then(Fake::BreakAfter((1 << 20) + 500_000));
    let cancel = CancelToken::new();
    let mut buffer = ChunkBuffer::new(1 << 20);
    let mut engine = Engine {
        buffer: &mut buffer,
        policy: FAST,
        cancel: &cancel,
    };
    let mut sink = MemorySink::default();
    let mut seen = Seen::default();
    let verifier = Verifier::new(Digest::sha256_of(&bytes), bytes.len() as u64);
    let verified = fetch_blob(&mut engine, &source, verifier, &mut sink, &mut seen)
        .await
        .expect("verified");
    assert_eq!(verified.digest, Digest::sha256_of(&bytes));
    assert_eq!(sink.0, bytes);
    let opens = source.opens();
    assert_eq!(opens.len(), 2, "{opens:?}");
    assert_eq!(opens[0], 0);
    assert!(opens[1] > 0 && opens[1] <= (1 << 20) + 500_000, "{opens:?}");
    assert_eq!(seen.retries, vec![(1, 5)]);
    assert_eq!(seen.progress.last(), Some(&(bytes.len() as u64)));
}

#[wasm_bindgen_test]
async fn engine_honours_retry_after_and_gives_up_on_fatal_errors() {
    let bytes = data(10_000, 3);
    let source = FakeSource::new(bytes.clone())
        .then(Fake::Fail(IoError::RateLimited {
            registry: "r".into(),
            retry_after_ms: Some(30),
            limit: None,
            remaining: None,
        }))
        .then(Fake::Fail(IoError::Http {
            status: 503,
            url: "u".into(),
            message: "m".into(),
            retry_after_ms: None,
        }));
    let cancel = CancelToken::new();
    let mut buffer = ChunkBuffer::new(1 << 20);
    let mut engine = Engine {
        buffer: &mut buffer,
        policy: FAST,
        cancel: &cancel,
    };
    let mut seen = Seen::default();
    let verifier = Verifier::new(Digest::sha256_of(&bytes), bytes.len() as u64);
    let mut sink = MemorySink::default();
    fetch_blob(&mut engine, &source, verifier, &mut sink, &mut seen)
        .await
        .expect("verified after two retries");
    assert_eq!(seen.retries, vec![(1, 30), (2, 10)]);
    assert_eq!(source.opens(), vec![0, 0, 0]);

    let denied = FakeSource::new(bytes.clone()).then(Fake::Fail(IoError::Denied {
        registry: "r".into(),
        message: "no".into(),
    }));
    let verifier = Verifier::new(Digest::sha256_of(&bytes), bytes.len() as u64);
    let mut sink = MemorySink::default();
    let got = fetch_blob(
        &mut engine,
        &denied,
        verifier,
        &mut sink,
        &mut Seen::default(),
    )
    .await;
    assert!(matches!(got, Err(IoError::Denied { .. })), "{got:?}");
    assert_eq!(denied.opens(), vec![0]);
}

#[wasm_bindgen_test]
async fn staging_writes_reads_back_and_removes() {
    let staging = Staging::open().await.expect("staging");
    let name = "test-roundtrip.part";
    staging.remove(name).await.expect("clean");
    let bytes = data(300_000, 4);
    let mut file = staging.open_sync(name).await.expect("open");
    assert_eq!(file.size().expect("size"), 0);
    for chunk in bytes.chunks(65_536) {
        file.write(chunk).expect("write");
    }
    assert_eq!(file.position(), bytes.len() as u64);
    let mut back = vec![0; 1000];
    let n = file.read_at(100_000, &mut back).expect("read");
    assert_eq!(&back[..n], &bytes[100_000..101_000]);
    file.truncate(200_000).expect("truncate");
    assert_eq!(file.size().expect("size"), 200_000);
    file.close().expect("close");

    let snapshot = staging.file(name).await.expect("file");
    assert_eq!(snapshot.size() as u64, 200_000);
    staging.remove(name).await.expect("remove");
    assert!(matches!(
        staging.file(name).await,
        Err(IoError::Storage { .. })
    ));
    staging.remove(name).await.expect("removing twice is fine");
    assert!(staging.open_sync("../escape").await.is_err());
}

async fn run_job(
    source: &FakeSource,
    digest: &Digest,
    size: u64,
    cancel: &CancelToken,
) -> (DownloadEvent, Vec<DownloadEvent>) {
    let job = BlobJob {
        id: 42,
        digest,
        size,
        file_name: "blob.bin",
        policy: FAST,
    };
    let mut events = Vec::new();
    let last = job.run(source, cancel, &mut |e| events.push(e)).await;
    (last, events)
}

async fn staged_bytes(name: &str) -> Option<Vec<u8>> {
    let staging = Staging::open().await.expect("staging");
    let file = staging.file(name).await.ok()?;
    let buffer = wasm_bindgen_futures::JsFuture::from(file.array_buffer())
        .await
        .expect("read");
    Some(Uint8Array::new(&buffer).to_vec())
}

async fn stage_prefix(name: &str, prefix: &[u8]) {
    let staging = Staging::open().await.expect("staging");
    staging.remove(name).await.expect("clean");
    let mut file = staging.open_sync(name).await.expect("open");
    file.write(prefix).expect("write");
    file.close().expect("close");
}

#[wasm_bindgen_test]
async fn job_verifies_and_keeps_the_staged_file() {
    let bytes = data((1 << 20) + 7, 5);
    let digest = Digest::sha256_of(&bytes);
    let name = staged_name(&digest);
    Staging::open()
        .await
        .expect("staging")
        .remove(&name)
        .await
        .expect("clean");
    let source = FakeSource::new(bytes.clone());
    let (last, events) = run_job(&source, &digest, bytes.len() as u64, &CancelToken::new()).await;
    assert_eq!(
        last,
        DownloadEvent::Verified {
            id: 42,
            digest: digest.clone(),
            size: bytes.len() as u64,
            staged_name: name.clone(),
            file_name: "blob.bin".into(),
        }
    );
    assert!(matches!(
        events.last(),
        Some(DownloadEvent::Progress { bytes: b, total: t, .. }) if *b == *t
    ));
    assert_eq!(staged_bytes(&name).await.as_deref(), Some(&bytes[..]));
    // The same digest again: verified from the staged file, without the network.
    let again = FakeSource::new(Vec::new());
    let (last, _) = run_job(&again, &digest, bytes.len() as u64, &CancelToken::new()).await;
    assert!(matches!(last, DownloadEvent::Verified { .. }), "{last:?}");
    assert!(again.opens().is_empty());
    Staging::open()
        .await
        .expect("staging")
        .remove(&name)
        .await
        .expect("clean");
}

#[wasm_bindgen_test]
async fn job_mismatch_deletes_the_staged_file_and_names_both_digests() {
    let served = data(500_000, 6);
    let promised = data(500_000, 7);
    let expected = Digest::sha256_of(&promised);
    let name = staged_name(&expected);
    Staging::open()
        .await
        .expect("staging")
        .remove(&name)
        .await
        .expect("clean");
    let source = FakeSource::new(served.clone());
    let (last, _) = run_job(&source, &expected, 500_000, &CancelToken::new()).await;
    assert_eq!(
        last,
        DownloadEvent::Failed {
            id: 42,
            error: IoError::DigestMismatch {
                expected: expected.clone(),
                actual: Digest::sha256_of(&served),
            },
        }
    );
    assert_eq!(staged_bytes(&name).await, None, "nothing stays staged");

    // Too many bytes: a size mismatch, also removed.
    let source = FakeSource::new(data(500_001, 6));
    let (last, _) = run_job(&source, &expected, 500_000, &CancelToken::new()).await;
    assert!(
        matches!(
            last,
            DownloadEvent::Failed {
                error: IoError::SizeMismatch {
                    expected: 500_000,
                    actual: 500_001
                },
                ..
            }
        ),
        "{last:?}"
    );
    assert_eq!(staged_bytes(&name).await, None);
}

#[wasm_bindgen_test]
async fn job_resumes_from_a_staged_prefix() {
    let bytes = data((2 << 20) + 3, 8);
    let digest = Digest::sha256_of(&bytes);
    let name = staged_name(&digest);
    let prefix = 1_234_567;
    stage_prefix(&name, &bytes[..prefix]).await;
    let source = FakeSource::new(bytes.clone());
    let (last, events) = run_job(&source, &digest, bytes.len() as u64, &CancelToken::new()).await;
    assert!(matches!(last, DownloadEvent::Verified { .. }), "{last:?}");
    assert_eq!(source.opens(), vec![prefix as u64], "one ranged request");
    assert!(events
        .iter()
        .all(|e| !matches!(e, DownloadEvent::Retrying { .. })));
    assert_eq!(staged_bytes(&name).await.as_deref(), Some(&bytes[..]));
    Staging::open()
        .await
        .expect("staging")
        .remove(&name)
        .await
        .expect("clean");
}

#[wasm_bindgen_test]
async fn job_restarts_cleanly_when_the_server_ignores_range() {
    let bytes = data(700_000, 9);
    let digest = Digest::sha256_of(&bytes);
    let name = staged_name(&digest);
    stage_prefix(&name, &bytes[..300_000]).await;
    let mut source = FakeSource::new(bytes.clone());
    source.ignore_range = true;
    let (last, _) = run_job(&source, &digest, bytes.len() as u64, &CancelToken::new()).await;
    assert!(matches!(last, DownloadEvent::Verified { .. }), "{last:?}");
    assert_eq!(source.opens(), vec![300_000]);
    assert_eq!(staged_bytes(&name).await.as_deref(), Some(&bytes[..]));
    Staging::open()
        .await
        .expect("staging")
        .remove(&name)
        .await
        .expect("clean");
}

#[wasm_bindgen_test]
async fn job_drops_a_corrupt_staged_prefix_and_starts_over() {
    let bytes = data(600_000, 10);
    let digest = Digest::sha256_of(&bytes);
    let name = staged_name(&digest);
    let mut bad = bytes[..200_000].to_vec();
    bad[1000] ^= 0xff;
    stage_prefix(&name, &bad).await;
    let source = FakeSource::new(bytes.clone());
    let (last, events) = run_job(&source, &digest, bytes.len() as u64, &CancelToken::new()).await;
    assert!(matches!(last, DownloadEvent::Verified { .. }), "{last:?}");
    assert_eq!(source.opens(), vec![200_000, 0]);
    assert!(events
        .iter()
        .any(|e| matches!(e, DownloadEvent::Retrying { .. })));
    assert_eq!(staged_bytes(&name).await.as_deref(), Some(&bytes[..]));
    Staging::open()
        .await
        .expect("staging")
        .remove(&name)
        .await
        .expect("clean");
}

#[wasm_bindgen_test]
async fn cancelled_job_removes_its_staged_file() {
    let bytes = data(400_000, 11);
    let digest = Digest::sha256_of(&bytes);
    let name = staged_name(&digest);
    stage_prefix(&name, &bytes[..100_000]).await;
    let cancel = CancelToken::new();
    cancel.cancel();
    let source = FakeSource::new(bytes.clone());
    let (last, _) = run_job(&source, &digest, bytes.len() as u64, &cancel).await;
    assert_eq!(last, DownloadEvent::Cancelled { id: 42 });
    assert_eq!(staged_bytes(&name).await, None);
}

#[wasm_bindgen_test]
async fn failed_network_keeps_the_staged_bytes_for_later() {
    let bytes = data(400_000, 12);
    let digest = Digest::sha256_of(&bytes);
    let name = staged_name(&digest);
    stage_prefix(&name, &bytes[..100_000]).await;
    let mut source = FakeSource::new(bytes.clone());
    for _ in 0..6 {
        source = source.then(Fake::Fail(IoError::Unreachable {
            url: "u".into(),
            via_relay: true,
            detail: "TypeError".into(),
        }));
    }
    let (last, events) = run_job(&source, &digest, bytes.len() as u64, &CancelToken::new()).await;
    assert!(
        matches!(
            last,
            DownloadEvent::Failed {
                error: IoError::Unreachable { .. },
                ..
            }
        ),
        "{last:?}"
    );
    let retries = events
        .iter()
        .filter(|e| matches!(e, DownloadEvent::Retrying { .. }))
        .count();
    assert_eq!(retries, 5);
    assert_eq!(
        staged_bytes(&name).await.as_deref(),
        Some(&bytes[..100_000])
    );
    Staging::open()
        .await
        .expect("staging")
        .remove(&name)
        .await
        .expect("clean");
}
