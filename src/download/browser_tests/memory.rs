//! The staging path without OPFS (Firefox private windows, Tor Browser), forced here in
//! Chromium: the same jobs and export resumes as with OPFS, held in memory, and the ceiling.

use super::super::memory::{self, MEMORY_CEILING};
use super::super::opfs::choose_staging_path;
use super::super::protocol::StagingPath;
use super::*;

/// Stages in memory until dropped (then in OPFS again, as the other tests expect).
struct InMemory;

impl InMemory {
    fn new() -> Self {
        choose_staging_path(StagingPath::Memory {
            reason: "forced by a test".into(),
            ceiling: MEMORY_CEILING,
        });
        InMemory
    }
}

impl Drop for InMemory {
    fn drop(&mut self) {
        choose_staging_path(StagingPath::Opfs);
    }
}

#[wasm_bindgen_test]
async fn memory_files_write_across_parts_read_back_cut_and_reopen() {
    let _memory = InMemory::new();
    let staging = Staging::open().await.expect("staging");
    assert!(staging.in_memory());
    let name = "test-memory.part";
    staging.remove(name).await.expect("clean");
    // More than one 8 MiB part, in odd-sized writes.
    let bytes = data((9 << 20) + 12_345, 21);
    let mut file = staging.open_sync(name).await.expect("open");
    for chunk in bytes.chunks(1_000_003) {
        file.write(chunk).expect("write");
    }
    assert_eq!(file.position(), bytes.len() as u64);
    assert!(
        staging.open_sync(name).await.is_err(),
        "a second writer is refused, as OPFS locks a file"
    );
    let mut back = vec![0; 70_000];
    let at = (8 << 20) - 30_000;
    let n = file.read_at(at, &mut back).expect("read across two parts");
    assert_eq!(&back[..n], &bytes[at as usize..at as usize + 70_000]);
    file.truncate(5_000_000).expect("cut");
    file.write(&bytes[5_000_000..5_000_100])
        .expect("write after the cut");
    file.close().expect("close");
    assert!(staging
        .names()
        .await
        .expect("names")
        .contains(&name.to_owned()));

    let file = staging.open_sync(name).await.expect("reopen");
    assert_eq!(
        file.size().expect("size"),
        5_000_100,
        "writes continue at the end"
    );
    file.close().expect("close");
    let snapshot = staging.file(name).await.expect("file");
    let buffer = wasm_bindgen_futures::JsFuture::from(snapshot.array_buffer())
        .await
        .expect("read");
    assert!(Uint8Array::new(&buffer).to_vec() == bytes[..5_000_100]);
    staging.remove(name).await.expect("remove");
    assert!(matches!(
        staging.file(name).await,
        Err(IoError::Storage { .. })
    ));
}

#[wasm_bindgen_test]
async fn memory_jobs_verify_resume_and_keep_nothing_wrong() {
    let _memory = InMemory::new();
    super::job::job_verifies_and_keeps_the_staged_file_body().await;
    super::job::job_resumes_from_a_staged_prefix_body().await;
    super::job::job_mismatch_deletes_the_staged_file_and_names_both_digests_body().await;
    assert!(
        memory::names().iter().all(|n| !n.starts_with("sha256-")),
        "every job cleaned up: {:?}",
        memory::names()
    );
}

#[wasm_bindgen_test]
async fn memory_export_resumes_within_the_tab() {
    let _memory = InMemory::new();
    super::export_resume::an_export_cut_mid_blob_goes_on_from_the_staged_bytes_body().await;
    super::export_resume::a_changed_staged_blob_is_fetched_again_body().await;
}

#[wasm_bindgen_test]
async fn a_blob_above_the_memory_ceiling_fails_before_any_request() {
    let _memory = InMemory::new();
    let digest = Digest::sha256_of(b"too large");
    let source = FakeSource::new(Vec::new());
    let size = MEMORY_CEILING + 1;
    let (last, _) = super::job::run_job(&source, &digest, size, &CancelToken::new()).await;
    let DownloadEvent::Failed { error, .. } = &last else {
        panic!("{last:?}");
    };
    assert_eq!(
        error,
        &IoError::TooLargeForMemory {
            size,
            ceiling: MEMORY_CEILING
        }
    );
    assert!(error.to_string().contains("1.0 GiB"), "{error}");
    assert!(source.opens().is_empty(), "nothing was fetched");
    assert!(memory::blob(&staged_name(&digest)).is_none());
}
