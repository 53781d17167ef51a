//! The engine alone: BYOB reading, retries, resume, windows.

use super::*;

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

/// The branch for bodies that are not byte streams (Safari before 26.4 has no BYOB readers on
/// fetch bodies), forced with a default-type stream: chunks larger and smaller than the buffer.
#[wasm_bindgen_test]
async fn default_reader_hashes_a_stream_without_byob() {
    let bytes = data((3 << 20) + 777, 3);
    let make = Function::new_with_args(
        "bytes",
        "const sizes = [3 << 20, 100, 1, 676]; let at = 0; \
         return new ReadableStream({ pull(c) { \
           if (at >= bytes.length) { c.close(); return; } \
           const n = sizes.shift() ?? bytes.length; \
           c.enqueue(bytes.slice(at, at + n)); at += n; } });",
    );
    let body: web_sys::ReadableStream = make
        .call1(&wasm_bindgen::JsValue::NULL, &Uint8Array::from(&bytes[..]))
        .expect("stream")
        .unchecked_into();
    let mut buffer = ChunkBuffer::new(1 << 20);
    let mut reader = BodyReader::new(&body, &mut buffer).expect("reader");
    assert!(
        !reader.is_byob(),
        "a default-type stream has no BYOB reader"
    );
    let mut verifier = Verifier::new(Digest::sha256_of(&bytes), bytes.len() as u64);
    let mut chunks = 0;
    while let Some(chunk) = reader.next().await.expect("read") {
        assert!(
            chunk.len() <= 1 << 20,
            "a 3 MiB chunk is handed on in buffer-sized parts"
        );
        verifier.update(chunk).expect("not too long");
        chunks += 1;
    }
    assert_eq!(
        verifier.finish().expect("verified").size,
        bytes.len() as u64
    );
    assert!(chunks >= 4, "{chunks} chunks");
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
        window: None,
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
        window: None,
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
async fn windows_fetch_successive_ranges() {
    let bytes = data((2 << 20) + 10, 13);
    let source = FakeSource::new(bytes.clone())
        .then(Fake::Normal)
        .then(Fake::BreakAfter(300_000));
    let cancel = CancelToken::new();
    let mut buffer = ChunkBuffer::new(256 * 1024);
    let mut engine = Engine {
        buffer: &mut buffer,
        policy: FAST,
        cancel: &cancel,
        window: Some(1 << 20),
    };
    let mut sink = MemorySink::default();
    let mut seen = Seen::default();
    let verifier = Verifier::new(Digest::sha256_of(&bytes), bytes.len() as u64);
    fetch_blob(&mut engine, &source, verifier, &mut sink, &mut seen)
        .await
        .expect("verified");
    assert_eq!(sink.0, bytes);
    let ranges = source.ranges();
    assert_eq!(ranges[0], (0, Some((1 << 20) - 1)));
    assert_eq!(ranges[1], (1 << 20, Some((2 << 20) - 1)));
    // The second window broke after 300 000 bytes (less what the BYOB read in flight held):
    // the next request continues where the verified bytes end, for one more window at most.
    let (start, end) = ranges[2];
    assert!(
        start > 1 << 20 && start <= (1 << 20) + 300_000,
        "{ranges:?} {:?}",
        seen.progress
    );
    assert_eq!(
        end,
        Some((start + (1 << 20) - 1).min(bytes.len() as u64 - 1))
    );
    assert_eq!(
        ranges.last().map(|r| r.1),
        Some(Some(bytes.len() as u64 - 1))
    );
    assert_eq!(
        seen.retries.len(),
        1,
        "only the break is a retry, not the windows"
    );

    // A blob no larger than the window is asked for whole.
    let small = data(1000, 14);
    let source = FakeSource::new(small.clone());
    let verifier = Verifier::new(Digest::sha256_of(&small), 1000);
    let mut sink = MemorySink::default();
    fetch_blob(
        &mut engine,
        &source,
        verifier,
        &mut sink,
        &mut Seen::default(),
    )
    .await
    .expect("verified");
    assert_eq!(source.ranges(), vec![(0, None)]);
}
