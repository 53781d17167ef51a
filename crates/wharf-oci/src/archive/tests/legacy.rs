//! Schema 1 images in the Docker image v1.0 layout, checked entry by entry.

use std::io::Read;

use serde_json::json;

use super::*;
use crate::Error;

const HITCH: &str = include_str!("../../../tests/fixtures/hitch-schema1.json");
const EMPTY: &str = "sha256:a3ed95caeb02ffe68cdd9fd84406680ae93d633cb16422d00e8a7c22955b46d4";
const TOP_ID: &str = "6703605aae83084affcafb4abcc7c556f0e436c4992ae224f1f58e88242328cb";

/// The fixture's layers, top first: (blobSum, v1Compatibility, v1 id).
fn hitch() -> Vec<(Digest, String, String)> {
    let doc = json(HITCH.as_bytes());
    let fs_layers = doc["fsLayers"].as_array().unwrap();
    let history = doc["history"].as_array().unwrap();
    assert_eq!((fs_layers.len(), history.len()), (13, 13));
    fs_layers
        .iter()
        .zip(history)
        .map(|(layer, h)| {
            let v1 = h["v1Compatibility"].as_str().unwrap().to_owned();
            let id = json(v1.as_bytes())["id"].as_str().unwrap().to_owned();
            (layer["blobSum"].as_str().unwrap().parse().unwrap(), v1, id)
        })
        .collect()
}

/// A plan for hitch where each non-empty blob is swapped for synthetic content (the real
/// blobs are not in the fixtures), returned alongside for the fetcher.
fn hitch_with_synthetic_blobs() -> (LegacyPlan, HashMap<Digest, Vec<u8>>) {
    let mut blobs = HashMap::new();
    let layers = hitch()
        .into_iter()
        .enumerate()
        .map(|(index, (digest, v1_compatibility, _))| {
            let bytes = if is_empty_layer(&digest) {
                EMPTY_LAYER_GZIP.to_vec()
            } else {
                format!("synthetic gzip for layer {index}").into_bytes()
            };
            let digest = Digest::sha256_of(&bytes);
            let blob = BlobRef::new(digest.clone(), bytes.len() as u64);
            blobs.insert(digest, bytes);
            LegacyLayer {
                blob,
                v1_compatibility,
            }
        })
        .collect();
    let plan = LegacyPlan {
        name: name("hitch:1.8.0-1"),
        layers,
    };
    (plan, blobs)
}

#[test]
fn the_empty_layer_constant_is_the_a3ed95_blob() {
    let digest: Digest = EMPTY.parse().unwrap();
    assert_eq!(Digest::sha256_of(&EMPTY_LAYER_GZIP), digest);
    assert!(is_empty_layer(&digest));
    assert!(!is_empty_layer(&Digest::sha256_of(b"not empty")));
    let mut tar = Vec::new();
    flate2::read::GzDecoder::new(&EMPTY_LAYER_GZIP[..])
        .read_to_end(&mut tar)
        .unwrap();
    assert_eq!(tar, vec![0; 1024], "an empty tar: two zero blocks");
}

#[test]
fn hitch_is_written_folder_by_folder() {
    let (plan, blobs) = hitch_with_synthetic_blobs();
    let archive = plan.archive().unwrap();
    let bytes = archive.write_to_vec(fetch_from(&blobs)).unwrap();
    let entries = read_entries(&bytes);
    assert_well_formed(&archive, &bytes, &entries);
    assert_eq!(entries.len(), 1 + 13 * 4);
    assert_eq!(entries[0].path, "repositories");
    assert_eq!(
        json(&entries[0].content),
        json!({"hitch": {"1.8.0-1": TOP_ID}})
    );
    // Bottom layer first, each folder named by its v1 id.
    for ((_, v1, id), folder) in hitch().iter().rev().zip(entries[1..].chunks(4)) {
        let names: Vec<_> = folder.iter().map(|e| e.path.clone()).collect();
        let expected = ["/", "/VERSION", "/json", "/layer.tar"].map(|s| format!("{id}{s}"));
        assert_eq!(names, expected);
        assert_eq!(folder[0].kind, tar::EntryType::Directory);
        assert_eq!(folder[1].content, b"1.0");
        assert_eq!(folder[2].content, v1.as_bytes());
    }
}

#[test]
fn layer_tar_is_the_blob_as_served() {
    let (plan, blobs) = hitch_with_synthetic_blobs();
    let bytes = plan
        .archive()
        .unwrap()
        .write_to_vec(fetch_from(&blobs))
        .unwrap();
    let entries = read_entries(&bytes);
    for layer in &plan.layers {
        let id = json(layer.v1_compatibility.as_bytes())["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let stored = content(&entries, &format!("{id}/layer.tar"));
        assert_eq!(Digest::sha256_of(stored), layer.blob.digest, "{id}");
    }
}

#[test]
fn only_non_empty_blobs_are_fetched_bottom_first() {
    let sizes = [("3148f4af", 3000), ("a0e9543d", 2000), ("728328ac", 1000)];
    let layers = hitch()
        .into_iter()
        .map(|(digest, v1_compatibility, _)| {
            let size = sizes
                .iter()
                .find(|(prefix, _)| digest.hex().starts_with(prefix))
                .map_or(32, |(_, size)| *size);
            LegacyLayer {
                blob: BlobRef::new(digest, size),
                v1_compatibility,
            }
        })
        .collect();
    let plan = LegacyPlan {
        name: name("hitch:1.8.0-1"),
        layers,
    };
    let archive = plan.archive().unwrap();
    let fetched: Vec<_> = archive
        .blobs()
        .into_iter()
        .map(|(d, size)| (d.hex()[..8].to_owned(), size))
        .collect();
    let expected = [("728328ac", 1000), ("a0e9543d", 2000), ("3148f4af", 3000)];
    assert_eq!(fetched, expected.map(|(p, s)| (p.to_owned(), s)));
    let small: u64 = archive
        .segments()
        .iter()
        .filter(|s| matches!(s, Segment::Bytes(_)))
        .map(Segment::len)
        .sum();
    assert_eq!(archive.total_size(), small + 6000);
}

#[test]
fn a_repeated_blob_becomes_a_hard_link() {
    let (mut plan, blobs) = hitch_with_synthetic_blobs();
    // Make the top layer reuse the bottom layer's (non-empty) blob.
    let bottom = plan.layers.last().unwrap().blob.clone();
    plan.layers[0].blob = bottom.clone();
    let archive = plan.archive().unwrap();
    assert_eq!(
        archive
            .blobs()
            .iter()
            .filter(|(d, _)| **d == bottom.digest)
            .count(),
        1
    );
    let bytes = archive.write_to_vec(fetch_from(&blobs)).unwrap();
    let entries = read_entries(&bytes);
    let bottom_id = hitch().last().unwrap().2.clone();
    let top = entries
        .iter()
        .find(|e| e.path == format!("{TOP_ID}/layer.tar"))
        .unwrap();
    assert_eq!(top.kind, tar::EntryType::Link);
    assert_eq!(
        top.link.as_deref(),
        Some(format!("{bottom_id}/layer.tar").as_str())
    );
}

#[test]
fn same_plan_gives_identical_bytes() {
    let (first, blobs) = hitch_with_synthetic_blobs();
    let (second, _) = hitch_with_synthetic_blobs();
    let a = first
        .archive()
        .unwrap()
        .write_to_vec(fetch_from(&blobs))
        .unwrap();
    let b = second
        .archive()
        .unwrap()
        .write_to_vec(fetch_from(&blobs))
        .unwrap();
    assert_eq!(a, b);
}

fn plan_error(edit: impl FnOnce(&mut LegacyPlan)) -> Error {
    let (mut plan, _) = hitch_with_synthetic_blobs();
    edit(&mut plan);
    plan.archive().unwrap_err()
}

#[test]
fn bad_plans_are_refused_with_a_reason() {
    let invalid = |e: Error, needle: &str| match e {
        Error::InvalidArchivePlan { reason } => assert!(reason.contains(needle), "{reason}"),
        other => panic!("expected InvalidArchivePlan containing {needle:?}, got {other:?}"),
    };
    let pinned = format!("hitch@{EMPTY}");
    invalid(plan_error(|p| p.name = name(&pinned)), "needs a tag");
    invalid(plan_error(|p| p.layers.clear()), "no layers");
    invalid(plan_error(|p| p.layers.swap(3, 4)), "parent");
    invalid(
        plan_error(|p| {
            p.layers.pop();
        }),
        "parent",
    );
    invalid(
        plan_error(|p| p.layers[0].v1_compatibility = "not json".into()),
        "history[0]",
    );
    let traversal = r#"{"id":"../../etc/passwd"}"#;
    invalid(
        plan_error(|p| p.layers[12].v1_compatibility = traversal.into()),
        "64 lowercase hex",
    );
    let upper = format!(r#"{{"id":"{}"}}"#, TOP_ID.to_uppercase());
    invalid(
        plan_error(|p| p.layers[12].v1_compatibility = upper),
        "64 lowercase hex",
    );
    invalid(
        plan_error(|p| {
            let top = p.layers[0].clone();
            p.layers.insert(0, top);
        }),
        "parent",
    );
    let duplicate = format!(r#"{{"id":"{TOP_ID}","parent":"{TOP_ID}"}}"#);
    invalid(
        plan_error(|p| {
            p.layers.insert(
                0,
                LegacyLayer {
                    blob: BlobRef::new(EMPTY.parse().unwrap(), 32),
                    v1_compatibility: duplicate,
                },
            )
        }),
        "appears twice",
    );
}

#[test]
fn sizes_must_be_consistent() {
    let empty = plan_error(|p| {
        let i = p
            .layers
            .iter()
            .position(|l| is_empty_layer(&l.blob.digest))
            .unwrap();
        p.layers[i].blob.size = 33;
    });
    assert_eq!(
        empty,
        Error::SizeMismatch {
            expected: 32,
            actual: 33
        }
    );
    let repeated = plan_error(|p| {
        let mut bottom = p.layers.last().unwrap().blob.clone();
        bottom.size += 1;
        p.layers[0].blob = bottom;
    });
    assert!(
        matches!(repeated, Error::SizeMismatch { .. }),
        "{repeated:?}"
    );
}
