//! The archive's second hasher (`download/hasher.rs`): served on a port of this thread (the
//! protocol is the same as with a nested worker), and the fallback when no worker starts.

use std::cell::Cell;

use js_sys::Reflect;
use wasm_bindgen::JsValue;

use super::super::export::writer::TarHash;
use super::super::hasher::{self, SideHasher, WINDOW};
use super::job::{
    job_mismatch_deletes_the_staged_file_and_names_both_digests_body,
    job_resumes_from_a_staged_prefix_body, job_verifies_and_keeps_the_staged_file_body,
};
use super::*;

thread_local! {
    /// Whether [`for_jobs`] gives the job tests a side hasher.
    static BESIDE: Cell<bool> = const { Cell::new(false) };
}

/// The hasher blob jobs get in tests: none, unless a test here asks for one.
pub(super) async fn for_jobs() -> Option<SideHasher> {
    match BESIDE.with(Cell::get) {
        true => Some(side().await),
        false => None,
    }
}

/// A hasher served on the other end of a channel on this thread.
pub(super) async fn side() -> SideHasher {
    let channel = web_sys::MessageChannel::new().expect("channel");
    hasher::serve(channel.port2());
    SideHasher::connect(channel.port1(), None)
        .await
        .expect("the hasher answers")
}

/// [`side`] as the tar's hash.
pub(super) async fn on_this_thread() -> TarHash {
    let hash = TarHash::Beside(side().await);
    assert!(hash.is_beside());
    hash
}

#[wasm_bindgen_test]
async fn the_side_hash_is_the_sha256_with_marks_and_rewinds() {
    let bytes = data(5 << 20, 7);
    let side = side().await;
    side.update(&bytes[..1000]);
    side.mark();
    // A blob's first bytes, then a restart: cut back to the mark and written again.
    side.update(&bytes[1000..3_000_000]);
    side.rewind();
    // Longer than one pooled buffer: split on the way.
    side.update(&bytes[1000..]);
    let digest = side.finish().await.expect("digest");
    assert_eq!(digest, Digest::sha256_of(&bytes));
}

#[wasm_bindgen_test]
async fn buffers_out_stay_within_the_window() {
    // One body chunk at a time, as the engine feeds it (a chunk is one pooled buffer).
    let bytes = data(crate::net::body::DEFAULT_CHUNK, 9);
    let side = side().await;
    let mut most = 0;
    for _ in 0..160 {
        side.ready().await.expect("ready");
        side.update(&bytes);
        most = most.max(side.out());
    }
    assert!(most <= WINDOW, "{most} buffers out");
    assert!(most >= WINDOW / 2, "the hasher lags behind: {most} out at most");
    let mut all = Vec::new();
    for _ in 0..160 {
        all.extend_from_slice(&bytes);
    }
    assert_eq!(
        side.finish().await.expect("digest"),
        Digest::sha256_of(&all)
    );
}

#[wasm_bindgen_test]
async fn without_a_boot_the_tar_is_hashed_here() {
    assert!(!TarHash::beside().await.is_beside(), "no wharfBoot here");
}

#[wasm_bindgen_test]
async fn a_hasher_that_cannot_start_falls_back_to_here() {
    // The boot script is not served next to the test runner's worker: the nested worker fails.
    let global = js_sys::global();
    let boot = js_sys::Object::new();
    Reflect::set(&boot, &"glue".into(), &"./no-such-glue.js".into()).expect("set");
    Reflect::set(&boot, &"module".into(), &wasm_bindgen::module()).expect("set");
    Reflect::set(&global, &"wharfBoot".into(), &boot).expect("set");
    let hash = TarHash::beside().await;
    Reflect::delete_property(&global, &JsValue::from_str("wharfBoot")).expect("delete");
    assert!(!hash.is_beside());
}

#[wasm_bindgen_test]
async fn jobs_hashed_beside_verify_resume_and_keep_nothing_wrong() {
    BESIDE.with(|b| b.set(true));
    job_verifies_and_keeps_the_staged_file_body().await;
    job_mismatch_deletes_the_staged_file_and_names_both_digests_body().await;
    job_resumes_from_a_staged_prefix_body().await;
    BESIDE.with(|b| b.set(false));
}

#[wasm_bindgen_test]
async fn a_blob_checked_beside_fails_on_a_wrong_digest_and_on_extra_bytes() {
    use super::super::verify::BlobCheck;
    let bytes = data(300_000, 3);
    let side = side().await;
    let mut check = BlobCheck::start(Digest::sha256_of(b"other"), 300_000, Some(&side));
    assert!(matches!(check, BlobCheck::Beside(_)));
    check.update(&bytes).expect("as many bytes as promised");
    let result = check.finish().await;
    assert!(
        matches!(&result, Err(IoError::DigestMismatch { actual, .. }) if *actual == Digest::sha256_of(&bytes)),
        "{result:?}"
    );
    let mut check = BlobCheck::start(Digest::sha256_of(&bytes), 299_999, Some(&side));
    assert!(matches!(
        check.update(&bytes),
        Err(IoError::SizeMismatch {
            expected: 299_999,
            actual: 300_000
        })
    ));
    // After a restart only the bytes since count, and the next blob starts from nothing.
    let mut check = BlobCheck::start(Digest::sha256_of(&bytes), 300_000, Some(&side));
    check.update(&bytes[..1000]).expect("update");
    check.restart();
    check.update(&bytes).expect("update");
    assert_eq!(check.finish().await.expect("verified").size, 300_000);
    let check = BlobCheck::start(Digest::sha256_of(&bytes), 300_000, Some(&side));
    assert!(matches!(
        check.finish().await,
        Err(IoError::SizeMismatch { actual: 0, .. })
    ));
}
