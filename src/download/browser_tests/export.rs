//! Writing an archive: tar bytes and several verified blobs into one sink, hashed as a whole.

use std::collections::HashMap;

use wharf_oci::archive::{Archive, BlobRef, Format, ImageName, ImagePlan};

use super::super::export::resume::Resumed;
use super::super::export::writer::{write_archive, Blobs, ExportObserver, TarSink};
use super::*;

/// Each blob from its own scripted [`FakeSource`].
pub(super) struct FakeBlobs(pub(super) HashMap<Digest, FakeSource>);

impl Blobs for FakeBlobs {
    async fn open(
        &self,
        digest: &Digest,
        start: u64,
        end: Option<u64>,
    ) -> Result<web_sys::Response, IoError> {
        match self.0.get(digest) {
            Some(source) => source.open(start, end).await,
            None => Err(IoError::BlobUnknown {
                digest: digest.to_string(),
                message: "not in the fake registry".into(),
            }),
        }
    }
}

/// A planned combined archive of three layers (sizes 1.5 MiB, 700 KB, 2 MiB + 3).
pub(super) fn planned() -> (Archive, Vec<Vec<u8>>) {
    let layers: Vec<Vec<u8>> = [(3 << 19, 11), (700_000, 12), ((2 << 20) + 3, 13)]
        .into_iter()
        .map(|(len, seed)| data(len, seed))
        .collect();
    let refs: Vec<BlobRef> = layers
        .iter()
        .map(|l| BlobRef::new(Digest::sha256_of(l), l.len() as u64))
        .collect();
    let config = br#"{"architecture":"amd64","os":"linux","rootfs":{"type":"layers"}}"#.to_vec();
    let descriptor = |digest: &Digest, size: u64| {
        format!(
            r#"{{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"{digest}","size":{size}}}"#
        )
    };
    let layer_json: Vec<String> = refs.iter().map(|r| descriptor(&r.digest, r.size)).collect();
    let manifest = format!(
        r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"{}","size":{}}},"layers":[{}]}}"#,
        Digest::sha256_of(&config),
        config.len(),
        layer_json.join(",")
    )
    .into_bytes();
    let reference = "localhost:5000/test/app:1".parse().expect("reference");
    let plan = ImagePlan {
        name: ImageName::from_reference(&reference),
        manifest_digest: Digest::sha256_of(&manifest),
        manifest,
        manifest_media_type: "application/vnd.oci.image.manifest.v1+json".into(),
        config_digest: Digest::sha256_of(&config),
        config,
        layers: refs,
    };
    (plan.archive(Format::Combined).expect("plan"), layers)
}

async fn write(
    archive: &Archive,
    blobs: &FakeBlobs,
) -> (Result<(), IoError>, Vec<u8>, Digest, Vec<DownloadEvent>) {
    let cancel = CancelToken::new();
    let mut buffer = ChunkBuffer::new(1 << 20);
    let mut engine = Engine {
        buffer: &mut buffer,
        policy: FAST,
        cancel: &cancel,
        window: None,
    };
    let mut events = Vec::new();
    let mut emit = |e: DownloadEvent| events.push(e);
    let mut out = MemorySink::default();
    let mut sink = TarSink::new(&mut out);
    let mut observer = ExportObserver::new(4, archive, &mut emit);
    let from = Resumed::fresh();
    let result = write_archive(&mut engine, archive, blobs, &mut sink, &mut observer, from).await;
    let digest = sink.finish();
    (result, out.0, digest, events)
}

#[wasm_bindgen_test]
async fn archive_streams_every_blob_verified_and_hashes_the_whole_tar() {
    let (archive, layers) = planned();
    let by_digest: HashMap<Digest, Vec<u8>> = layers
        .iter()
        .map(|l| (Digest::sha256_of(l), l.clone()))
        .collect();
    let expected = archive
        .write_to_vec(|d| by_digest.get(d).cloned().unwrap_or_default())
        .expect("in memory");
    // Layer 1 breaks mid-stream (resumed with Range); layer 3 breaks and its server then
    // ignores Range (restarted from its first byte: the tar hash must be rewound too).
    let mut restarting = FakeSource::new(layers[2].clone()).then(Fake::BreakAfter(1_500_000));
    restarting.ignore_range = true;
    let blobs = FakeBlobs(HashMap::from([
        (
            Digest::sha256_of(&layers[0]),
            FakeSource::new(layers[0].clone()).then(Fake::BreakAfter((1 << 20) + 100_000)),
        ),
        (
            Digest::sha256_of(&layers[1]),
            FakeSource::new(layers[1].clone()),
        ),
        (Digest::sha256_of(&layers[2]), restarting),
    ]));

    let (result, out, digest, events) = write(&archive, &blobs).await;
    result.expect("every blob verified");
    assert_eq!(out.len() as u64, archive.total_size());
    assert!(out == expected, "the tar is byte for byte the planned one");
    assert_eq!(digest, Digest::sha256_of(&expected), "the tar's sha256");

    // It was asked to resume and answered 200 with the whole blob: the blob restarted.
    let restarted = blobs.0.get(&Digest::sha256_of(&layers[2])).expect("source");
    let opens = restarted.opens();
    assert_eq!(opens.len(), 2, "{opens:?}");
    assert!(opens[1] > 0, "a resume was asked: {opens:?}");
    let resumed = blobs.0.get(&Digest::sha256_of(&layers[0])).expect("source");
    assert_eq!(resumed.opens().len(), 2);
    assert!(resumed.opens()[1] > 0, "resumed inside the blob");

    let mut seen_layers = Vec::new();
    let mut last = 0;
    for event in &events {
        if let DownloadEvent::Exporting {
            id,
            bytes,
            total,
            layer,
            layers,
            layer_bytes,
            layer_size,
        } = event
        {
            assert_eq!((*id, *total, *layers), (4, archive.total_size(), 3));
            assert!(layer_bytes <= layer_size);
            if !seen_layers.contains(layer) {
                seen_layers.push(*layer);
            }
            last = *bytes;
        }
    }
    assert_eq!(seen_layers, vec![0, 1, 2, 3], "layer 1, 2, 3 of 3 in order");
    assert_eq!(
        last,
        archive.total_size(),
        "the last event is the whole tar"
    );
    let retries = events
        .iter()
        .filter(|e| matches!(e, DownloadEvent::Retrying { .. }))
        .count();
    assert_eq!(retries, 2, "one retry per broken stream");
}

#[wasm_bindgen_test]
async fn a_tampered_blob_fails_the_archive() {
    let (archive, layers) = planned();
    let mut tampered = layers[1].clone();
    tampered[12_345] ^= 0x01;
    let blobs = FakeBlobs(HashMap::from([
        (
            Digest::sha256_of(&layers[0]),
            FakeSource::new(layers[0].clone()),
        ),
        (Digest::sha256_of(&layers[1]), FakeSource::new(tampered)),
        (
            Digest::sha256_of(&layers[2]),
            FakeSource::new(layers[2].clone()),
        ),
    ]));
    let (result, _, _, _) = write(&archive, &blobs).await;
    match result {
        Err(IoError::DigestMismatch { expected, actual }) => {
            assert_eq!(expected, Digest::sha256_of(&layers[1]));
            assert_ne!(actual, expected);
        }
        other => panic!("expected a digest mismatch, got {other:?}"),
    }
    let third = blobs.0.get(&Digest::sha256_of(&layers[2])).expect("source");
    assert!(third.opens().is_empty(), "nothing after the failed blob");
}

#[wasm_bindgen_test]
async fn a_missing_blob_is_reported_not_skipped() {
    let (archive, layers) = planned();
    let blobs = FakeBlobs(HashMap::from([(
        Digest::sha256_of(&layers[0]),
        FakeSource::new(layers[0].clone()),
    )]));
    let (result, _, _, _) = write(&archive, &blobs).await;
    match result {
        Err(IoError::BlobUnknown { digest, .. }) => {
            assert_eq!(digest, Digest::sha256_of(&layers[1]).to_string())
        }
        other => panic!("expected blob unknown, got {other:?}"),
    }
}

#[wasm_bindgen_test]
async fn a_cancelled_archive_stops_between_blobs() {
    let (archive, layers) = planned();
    let blobs = FakeBlobs(HashMap::from([(
        Digest::sha256_of(&layers[0]),
        FakeSource::new(layers[0].clone()),
    )]));
    let cancel = CancelToken::new();
    cancel.cancel();
    let mut buffer = ChunkBuffer::new(1 << 20);
    let mut engine = Engine {
        buffer: &mut buffer,
        policy: FAST,
        cancel: &cancel,
        window: None,
    };
    let mut emit = |_: DownloadEvent| {};
    let mut out = MemorySink::default();
    let mut sink = TarSink::new(&mut out);
    let mut observer = ExportObserver::new(1, &archive, &mut emit);
    let from = Resumed::fresh();
    let result = write_archive(
        &mut engine,
        &archive,
        &blobs,
        &mut sink,
        &mut observer,
        from,
    )
    .await;
    assert!(matches!(result, Err(IoError::Cancelled)), "{result:?}");
    assert!(out.0.is_empty(), "nothing written");
    let first = blobs.0.get(&Digest::sha256_of(&layers[0])).expect("source");
    assert!(first.opens().is_empty(), "nothing fetched");
}
