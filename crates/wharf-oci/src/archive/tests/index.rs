//! Several platforms of one index in one archive.

use serde_json::json;

use super::image::{blob, Image};
use super::*;
use crate::Error;

const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";

/// Two platforms sharing a base layer, and an attestation of the first.
struct Fixture {
    amd64: Image,
    arm64: Image,
    attestation: Image,
    index: Vec<u8>,
}

impl Fixture {
    fn new() -> Self {
        let amd64 = Image::for_arch(&[b"shared base", b"amd64 top"], "amd64");
        let arm64 = Image::for_arch(&[b"shared base", b"arm64 top"], "arm64");
        let attestation = Image::for_arch(&[b"{\"in-toto\":1}"], "unknown");
        let entry = |image: &Image, platform: serde_json::Value| {
            json!({
                "mediaType": OCI_MANIFEST,
                "digest": Digest::sha256_of(&image.manifest),
                "size": image.manifest.len(),
                "platform": platform,
            })
        };
        let mut attests = entry(
            &attestation,
            json!({"os": "unknown", "architecture": "unknown"}),
        );
        attests["annotations"] = json!({
            "vnd.docker.reference.digest": Digest::sha256_of(&amd64.manifest),
            "vnd.docker.reference.type": "attestation-manifest",
        });
        let index = json!({
            "schemaVersion": 2,
            "mediaType": OCI_INDEX,
            "manifests": [
                entry(&amd64, json!({"os": "linux", "architecture": "amd64"})),
                entry(&arm64, json!({"os": "linux", "architecture": "arm64", "variant": "v8"})),
                attests,
            ],
        });
        // Served with its own spacing: the archive must keep these exact bytes.
        let index = serde_json::to_vec_pretty(&index).unwrap();
        Fixture {
            amd64,
            arm64,
            attestation,
            index,
        }
    }

    fn plan(&self, chosen: &[(&Image, bool)]) -> IndexPlan {
        IndexPlan {
            name: name("localhost:5000/multi:1"),
            index: self.index.clone(),
            index_digest: Digest::sha256_of(&self.index),
            index_media_type: OCI_INDEX.to_owned(),
            images: chosen
                .iter()
                .map(|(image, loadable)| {
                    let plan = image.plan("localhost:5000/multi:1");
                    IndexImage {
                        manifest: plan.manifest,
                        manifest_digest: plan.manifest_digest,
                        manifest_media_type: plan.manifest_media_type,
                        config: plan.config,
                        config_digest: plan.config_digest,
                        layers: plan.layers,
                        loadable: *loadable,
                    }
                })
                .collect(),
        }
    }

    fn all(&self) -> IndexPlan {
        self.plan(&[
            (&self.amd64, true),
            (&self.arm64, true),
            (&self.attestation, false),
        ])
    }

    fn write(&self, plan: &IndexPlan, format: Format) -> Vec<u8> {
        let layers = [&self.amd64, &self.arm64, &self.attestation]
            .iter()
            .flat_map(|image| image.layers.clone())
            .collect::<Vec<_>>();
        let blobs = store(&layers);
        let archive = plan.archive(format).unwrap();
        let bytes = archive.write_to_vec(fetch_from(&blobs)).unwrap();
        assert_well_formed(&archive, &bytes, &read_entries(&bytes));
        bytes
    }
}

fn index_json_digest(entries: &[super::Entry]) -> String {
    let index = json(content(entries, "index.json"));
    assert_eq!(index["manifests"].as_array().unwrap().len(), 1);
    assert_eq!(index["manifests"][0]["mediaType"], OCI_INDEX);
    assert_eq!(
        index["manifests"][0]["annotations"]["org.opencontainers.image.ref.name"],
        "1"
    );
    index["manifests"][0]["digest"].as_str().unwrap().to_owned()
}

#[test]
fn every_entry_chosen_keeps_the_registry_index_as_served() {
    let fx = Fixture::new();
    let plan = fx.all();
    let planned = plan.planned_index().unwrap();
    assert!(planned.as_served);
    assert_eq!(planned.bytes, fx.index);
    let bytes = fx.write(&plan, Format::Combined);
    let entries = read_entries(&bytes);
    assert_eq!(
        index_json_digest(&entries),
        Digest::sha256_of(&fx.index).to_string()
    );
    assert_eq!(content(&entries, &blob(&fx.index)), fx.index);
    for image in [&fx.amd64, &fx.arm64, &fx.attestation] {
        assert_eq!(content(&entries, &blob(&image.manifest)), image.manifest);
        assert_eq!(content(&entries, &blob(&image.config)), image.config);
    }
    let shared = blob(b"shared base");
    assert_eq!(paths(&entries).iter().filter(|p| **p == shared).count(), 1);
}

#[test]
fn docker_manifest_lists_the_loadable_images_in_index_order_tagging_the_first() {
    let fx = Fixture::new();
    // Given in another order than the index's: the archive follows the index.
    let plan = fx.plan(&[
        (&fx.attestation, false),
        (&fx.arm64, true),
        (&fx.amd64, true),
    ]);
    let entries = read_entries(&fx.write(&plan, Format::Combined));
    assert_eq!(
        json(content(&entries, "manifest.json")),
        json!([
            {
                "Config": blob(&fx.amd64.config),
                "RepoTags": ["localhost:5000/multi:1"],
                "Layers": [blob(b"shared base"), blob(b"amd64 top")],
            },
            {
                "Config": blob(&fx.arm64.config),
                "RepoTags": [],
                "Layers": [blob(b"shared base"), blob(b"arm64 top")],
            },
        ])
    );
    assert_eq!(
        json(content(&entries, "repositories")),
        json!({"localhost:5000/multi": {"1": Digest::sha256_of(b"amd64 top").hex()}})
    );
    let order: Vec<&str> = paths(&entries);
    let at = |path: &str| order.iter().position(|p| *p == path).unwrap();
    assert!(at(&blob(&fx.amd64.manifest)) < at(&blob(&fx.arm64.manifest)));
    assert!(at(&blob(&fx.arm64.manifest)) < at(&blob(&fx.attestation.manifest)));
}

#[test]
fn a_subset_gets_a_new_index_of_the_chosen_entries_as_served() {
    let fx = Fixture::new();
    let plan = fx.plan(&[(&fx.arm64, true)]);
    let planned = plan.planned_index().unwrap();
    assert!(!planned.as_served);
    assert_eq!(planned.digest, Digest::sha256_of(&planned.bytes));
    let served = json(&fx.index);
    assert_eq!(
        json(&planned.bytes),
        json!({
            "schemaVersion": 2,
            "mediaType": OCI_INDEX,
            "manifests": [served["manifests"][1].clone()],
        })
    );
    let entries = read_entries(&fx.write(&plan, Format::Combined));
    assert_eq!(index_json_digest(&entries), planned.digest.to_string());
    assert_eq!(content(&entries, &blob(&planned.bytes)), planned.bytes);
    assert!(!paths(&entries).contains(&blob(&fx.amd64.manifest).as_str()));
    assert!(!paths(&entries).contains(&blob(&fx.index).as_str()));
}

#[test]
fn attestations_off_means_a_new_index_of_the_platforms() {
    let fx = Fixture::new();
    let plan = fx.plan(&[(&fx.amd64, true), (&fx.arm64, true)]);
    let planned = plan.planned_index().unwrap();
    let manifests = json(&planned.bytes)["manifests"].clone();
    let platforms: Vec<&str> = manifests
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["platform"]["architecture"].as_str().unwrap())
        .collect();
    assert_eq!(platforms, ["amd64", "arm64"]);
    let entries = read_entries(&fx.write(&plan, Format::Combined));
    assert!(!paths(&entries).contains(&blob(&fx.attestation.manifest).as_str()));
}

#[test]
fn a_docker_manifest_list_becomes_an_oci_index_of_its_entries() {
    let fx = Fixture::new();
    let list = "application/vnd.docker.distribution.manifest.list.v2+json";
    let mut served = json(&fx.index);
    served["mediaType"] = json!(list);
    let bytes = serde_json::to_vec(&served).unwrap();
    let mut plan = fx.all();
    plan.index_digest = Digest::sha256_of(&bytes);
    plan.index = bytes;
    plan.index_media_type = list.into();
    let planned = plan.planned_index().unwrap();
    assert!(!planned.as_served, "every entry, but a Docker list");
    assert_eq!(
        json(&planned.bytes),
        json!({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": served["manifests"]})
    );
    let entries = read_entries(&fx.write(&plan, Format::Combined));
    assert_eq!(index_json_digest(&entries), planned.digest.to_string());
}

#[test]
fn oci_format_has_no_docker_files_and_saves_are_identical() {
    let fx = Fixture::new();
    let first = fx.write(&fx.all(), Format::Oci);
    let entries = read_entries(&first);
    assert!(!paths(&entries).contains(&"manifest.json"));
    assert!(!paths(&entries).contains(&"repositories"));
    assert_eq!(first, fx.write(&fx.all(), Format::Oci));
    let subset = fx.plan(&[(&fx.arm64, true), (&fx.amd64, true)]);
    let again = fx.plan(&[(&fx.amd64, true), (&fx.arm64, true)]);
    assert_eq!(
        fx.write(&subset, Format::Combined),
        fx.write(&again, Format::Combined)
    );
}

/// Whether an error is the one a case expects.
type Refusal = fn(&Error) -> bool;

#[test]
fn plans_that_do_not_hold_together_are_refused() {
    let fx = Fixture::new();
    let stranger = Image::for_arch(&[b"not listed"], "s390x");
    let cases: Vec<(&str, IndexPlan, Refusal)> = vec![
        (
            "nothing chosen",
            fx.plan(&[]),
            |e| matches!(e, Error::InvalidArchivePlan { reason } if reason.contains("at least one")),
        ),
        (
            "not an entry",
            fx.plan(&[(&stranger, true)]),
            |e| matches!(e, Error::InvalidArchivePlan { reason } if reason.contains("not an entry")),
        ),
        (
            "chosen twice",
            fx.plan(&[(&fx.amd64, true), (&fx.amd64, true)]),
            |e| matches!(e, Error::InvalidArchivePlan { reason } if reason.contains("twice")),
        ),
        (
            "index bytes changed",
            {
                let mut plan = fx.all();
                plan.index.push(b' ');
                plan
            },
            |e| matches!(e, Error::DigestMismatch { .. }),
        ),
        (
            "not an index",
            {
                let mut plan = fx.all();
                plan.index_media_type = OCI_MANIFEST.into();
                plan
            },
            |e| matches!(e, Error::UnsupportedMediaType { .. }),
        ),
        (
            "manifest of another size",
            {
                let mut plan = fx.plan(&[(&fx.amd64, true)]);
                plan.images[0].manifest.push(b' ');
                plan.images[0].manifest_digest = Digest::sha256_of(&plan.images[0].manifest);
                plan.index = fx.index.clone();
                plan
            },
            |e| {
                matches!(
                    e,
                    Error::InvalidArchivePlan { .. } | Error::SizeMismatch { .. }
                )
            },
        ),
        (
            "media type differs",
            {
                let mut plan = fx.plan(&[(&fx.amd64, true)]);
                plan.images[0].manifest_media_type =
                    "application/vnd.docker.distribution.manifest.v2+json".into();
                plan
            },
            |e| matches!(e, Error::InvalidArchivePlan { reason } if reason.contains("served as")),
        ),
        (
            "config changed",
            {
                let mut plan = fx.plan(&[(&fx.amd64, true)]);
                plan.images[0].config.push(b' ');
                plan
            },
            |e| matches!(e, Error::DigestMismatch { .. }),
        ),
        (
            "not JSON",
            {
                let mut plan = fx.all();
                plan.index = b"{not json".to_vec();
                plan.index_digest = Digest::sha256_of(&plan.index);
                plan
            },
            |e| matches!(e, Error::InvalidArchivePlan { reason } if reason.contains("not JSON")),
        ),
    ];
    for (case, plan, expected) in cases {
        let error = plan.archive(Format::Combined).expect_err(case);
        assert!(expected(&error), "{case}: {error}");
    }
}
