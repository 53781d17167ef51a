//! Resuming an export from the staged file a closed tab left (in OPFS): the kept bytes are
//! checked again, writing goes on from the first missing or wrong segment, and the finished tar
//! is the planned one, with its sha256.

use std::collections::HashMap;

use wharf_oci::archive::{Archive, Segment};

use super::super::export::resume::reread;
use super::super::export::writer::{write_archive, ExportObserver, TarSink};
use super::export::{planned, FakeBlobs};
use super::job::{stage_prefix, staged_bytes};
use super::*;

/// Where each segment starts in the tar.
fn offsets(archive: &Archive) -> Vec<u64> {
    let mut at = 0;
    archive
        .segments()
        .iter()
        .map(|s| {
            let start = at;
            at += s.len();
            start
        })
        .collect()
}

/// Index of the `n`-th blob segment (0-based).
fn blob_segment(archive: &Archive, n: usize) -> usize {
    let blobs = archive.segments().iter().enumerate();
    let mut blobs = blobs.filter(|(_, s)| matches!(s, Segment::Blob { .. }));
    blobs.nth(n).map(|(i, _)| i).expect("blob segment")
}

fn sources(layers: &[Vec<u8>]) -> FakeBlobs {
    FakeBlobs(
        layers
            .iter()
            .map(|l| (Digest::sha256_of(l), FakeSource::new(l.clone())))
            .collect::<HashMap<_, _>>(),
    )
}

/// Rereads `name`, writes the rest, and returns the tar's digest.
async fn finish(name: &str, archive: &Archive, blobs: &FakeBlobs) -> (usize, bool, Digest) {
    let staging = Staging::open().await.expect("staging");
    let mut file = staging.open_sync(name).await.expect("open");
    let written = file.size().expect("size");
    let mut buffer = ChunkBuffer::new(1 << 20);
    let from = reread(&mut file, archive, written, &mut buffer, &mut |_| ()).expect("reread");
    let (segment, partial) = (from.segment, from.partial.is_some());
    let cancel = CancelToken::new();
    let mut engine = Engine {
        buffer: &mut buffer,
        policy: FAST,
        cancel: &cancel,
        window: None,
    };
    let mut emit = |_e: DownloadEvent| {};
    let mut observer = ExportObserver::new(5, archive, &mut emit);
    let mut sink = TarSink::resumed(&mut file, &from);
    write_archive(&mut engine, archive, blobs, &mut sink, &mut observer, from)
        .await
        .expect("the rest verified");
    let digest = sink.finish();
    file.close().expect("close");
    (segment, partial, digest)
}

fn expected(archive: &Archive, layers: &[Vec<u8>]) -> Vec<u8> {
    let by: HashMap<Digest, Vec<u8>> = layers
        .iter()
        .map(|l| (Digest::sha256_of(l), l.clone()))
        .collect();
    archive
        .write_to_vec(|d| by.get(d).cloned().unwrap_or_default())
        .expect("in memory")
}

#[wasm_bindgen_test]
async fn an_export_cut_mid_blob_goes_on_from_the_staged_bytes() {
    an_export_cut_mid_blob_goes_on_from_the_staged_bytes_body().await;
}

/// The body of [`an_export_cut_mid_blob_goes_on_from_the_staged_bytes`] (also run with staging in memory).
pub(super) async fn an_export_cut_mid_blob_goes_on_from_the_staged_bytes_body() {
    let (archive, layers) = planned();
    let whole = expected(&archive, &layers);
    let second = blob_segment(&archive, 1);
    let cut = offsets(&archive)[second] + 300_000;
    let name = "export-test-resume-mid.tar";
    stage_prefix(name, &whole[..cut as usize]).await;
    let blobs = sources(&layers);
    let (segment, partial, digest) = finish(name, &archive, &blobs).await;
    assert_eq!(
        (segment, partial),
        (second, true),
        "goes on inside the second blob"
    );
    assert_eq!(digest, Digest::sha256_of(&whole), "the tar's sha256");
    assert!(staged_bytes(name).await == Some(whole), "the planned tar");
    let first = blobs.0.get(&Digest::sha256_of(&layers[0])).expect("source");
    assert!(
        first.opens().is_empty(),
        "the kept blob is not fetched again"
    );
    let resumed = blobs.0.get(&Digest::sha256_of(&layers[1])).expect("source");
    assert_eq!(
        resumed.opens(),
        vec![300_000],
        "asked from its staged bytes on"
    );
    Staging::open()
        .await
        .expect("staging")
        .remove(name)
        .await
        .expect("clean");
}

#[wasm_bindgen_test]
async fn a_changed_staged_blob_is_fetched_again() {
    a_changed_staged_blob_is_fetched_again_body().await;
}

/// The body of [`a_changed_staged_blob_is_fetched_again`] (also run with staging in memory).
pub(super) async fn a_changed_staged_blob_is_fetched_again_body() {
    let (archive, layers) = planned();
    let whole = expected(&archive, &layers);
    let first = blob_segment(&archive, 0);
    let second = blob_segment(&archive, 1);
    let mut kept = whole[..offsets(&archive)[second] as usize + 1000].to_vec();
    kept[offsets(&archive)[first] as usize + 10] ^= 0xff;
    let name = "export-test-resume-changed.tar";
    stage_prefix(name, &kept).await;
    let blobs = sources(&layers);
    let (segment, partial, digest) = finish(name, &archive, &blobs).await;
    assert_eq!(
        (segment, partial),
        (first, false),
        "from the changed blob's start"
    );
    assert_eq!(digest, Digest::sha256_of(&whole));
    assert!(staged_bytes(name).await == Some(whole));
    let refetched = blobs.0.get(&Digest::sha256_of(&layers[0])).expect("source");
    assert_eq!(refetched.opens(), vec![0], "fetched whole again");
    Staging::open()
        .await
        .expect("staging")
        .remove(name)
        .await
        .expect("clean");
}
