//! The archive's second hasher (`download/hasher.rs`): served on a port of this thread (the
//! protocol is the same as with a nested worker), and the fallback when no worker starts.

use js_sys::Reflect;
use wasm_bindgen::JsValue;

use super::super::export::writer::TarHash;
use super::super::hasher::{self, SideHasher, WINDOW};
use super::*;

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
    let mut side = side().await;
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
    let bytes = data(1 << 20, 9);
    let mut side = side().await;
    let mut most = 0;
    for _ in 0..40 {
        side.ready().await.expect("ready");
        side.update(&bytes);
        most = most.max(side.out());
    }
    assert!(most <= WINDOW, "{most} buffers out");
    let mut all = Vec::new();
    for _ in 0..40 {
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
