//! OPFS staging and whole blob jobs.

use super::*;

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

    let mut file = staging.open_sync("test-sweep.part").await.expect("open");
    file.write(b"old").expect("write");
    file.close().expect("close");
    assert!(staging
        .names()
        .await
        .expect("names")
        .contains(&"test-sweep.part".to_owned()));
    assert_eq!(
        staging.sweep_stale(60_000).await.expect("sweep"),
        0,
        "a fresh file stays"
    );
    assert!(staging.sweep_stale(0).await.expect("sweep") >= 1);
    assert!(!staging
        .names()
        .await
        .expect("names")
        .contains(&"test-sweep.part".to_owned()));
    assert!(staging.open_sync("../escape").await.is_err());
}

pub(super) async fn run_job(
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
        window: None,
    };
    let mut events = Vec::new();
    let last = job.run(source, cancel, &mut |e| events.push(e)).await;
    (last, events)
}

pub(super) async fn staged_bytes(name: &str) -> Option<Vec<u8>> {
    let staging = Staging::open().await.expect("staging");
    let file = staging.file(name).await.ok()?;
    let buffer = wasm_bindgen_futures::JsFuture::from(file.array_buffer())
        .await
        .expect("read");
    Some(Uint8Array::new(&buffer).to_vec())
}

pub(super) async fn stage_prefix(name: &str, prefix: &[u8]) {
    let staging = Staging::open().await.expect("staging");
    staging.remove(name).await.expect("clean");
    let mut file = staging.open_sync(name).await.expect("open");
    file.write(prefix).expect("write");
    file.close().expect("close");
}

#[wasm_bindgen_test]
async fn job_verifies_and_keeps_the_staged_file() {
    job_verifies_and_keeps_the_staged_file_body().await;
}

/// The body of [`job_verifies_and_keeps_the_staged_file`] (also run with staging in memory).
pub(super) async fn job_verifies_and_keeps_the_staged_file_body() {
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
    job_mismatch_deletes_the_staged_file_and_names_both_digests_body().await;
}

/// The body of [`job_mismatch_deletes_the_staged_file_and_names_both_digests`] (also run with staging in memory).
pub(super) async fn job_mismatch_deletes_the_staged_file_and_names_both_digests_body() {
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
    job_resumes_from_a_staged_prefix_body().await;
}

/// The body of [`job_resumes_from_a_staged_prefix`] (also run with staging in memory).
pub(super) async fn job_resumes_from_a_staged_prefix_body() {
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
async fn failed_network_keeps_the_staged_bytes_and_a_later_run_resumes() {
    let bytes = data((3 << 20) + 5, 12);
    let digest = Digest::sha256_of(&bytes);
    let name = staged_name(&digest);
    Staging::open()
        .await
        .expect("staging")
        .remove(&name)
        .await
        .expect("clean");
    // The stream breaks after 1.5 MiB, then the relay stays unreachable.
    let mut source = FakeSource::new(bytes.clone()).then(Fake::BreakAfter(3 << 19));
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
    // Five failures in a row after the last progress: the break and four unreachable
    // attempts are retried, the fifth unreachable one ends the job.
    assert_eq!(retries, 5);
    // Kept: the verified prefix, whole chunks only (what the broken read held is dropped).
    let staged = staged_bytes(&name).await.expect("kept");
    let written = staged.len();
    assert!((1 << 20..=3 << 19).contains(&written), "{written}");
    assert_eq!(&staged[..], &bytes[..written]);

    // The same digest again (a new tab): only the rest is fetched.
    let again = FakeSource::new(bytes.clone());
    let (last, _) = run_job(&again, &digest, bytes.len() as u64, &CancelToken::new()).await;
    assert!(matches!(last, DownloadEvent::Verified { .. }), "{last:?}");
    assert_eq!(again.opens(), vec![written as u64]);
    assert_eq!(staged_bytes(&name).await.as_deref(), Some(&bytes[..]));
    Staging::open()
        .await
        .expect("staging")
        .remove(&name)
        .await
        .expect("clean");
}
