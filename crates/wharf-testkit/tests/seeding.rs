//! The seeding helpers, read back from real registries.

mod common;

use std::time::Instant;

use common::{http, manifest_get, verify_body};
use serde_json::Value;
use wharf_testkit::schema1::{schema1_payload, SCHEMA1_SIGNED};
use wharf_testkit::{Flavor, Mode, Pattern, Registry};

async fn get_json(registry: &Registry, repo: &str, reference: &str) -> (String, String, Vec<u8>) {
    let url = registry.v2_url(&format!("{repo}/manifests/{reference}"));
    let response = manifest_get(&http(), url).send().await.unwrap();
    assert_eq!(response.status(), 200, "{repo}:{reference}");
    let content_type = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_owned();
    let digest = response.headers()["docker-content-digest"]
        .to_str()
        .unwrap()
        .to_owned();
    (
        content_type,
        digest,
        response.bytes().await.unwrap().to_vec(),
    )
}

#[tokio::test]
async fn umoci_images_pushed_with_skopeo_are_inspectable() {
    for mode in [Mode::Anonymous, Mode::Basic, Mode::Token] {
        let registry = Registry::start(mode).await.unwrap();
        let began = Instant::now();
        let image = registry
            .push_umoci_image(
                "apps/hello",
                "1",
                &[("etc/motd", b"hi\n"), ("bin/tool", b"#!/bin/sh\n")],
            )
            .await
            .unwrap();
        eprintln!("umoci + skopeo seed ({mode:?}): {:?}", began.elapsed());
        assert_eq!(image.layers.len(), 1);
        let reference = format!("docker://{}/apps/hello:1", registry.host_port());
        let creds = registry.admin().colon_pair();
        let mut args = vec!["inspect", "--tls-verify=false"];
        if registry.is_private() {
            args.extend(["--creds", creds.as_str()]);
        }
        args.push(&reference);
        let output = wharf_testkit::process::run("skopeo", &args).await.unwrap();
        let inspected: Value = serde_json::from_str(&output).unwrap();
        assert_eq!(inspected["Digest"], image.manifest.digest.to_string());
        assert_eq!(inspected["Layers"][0], image.layers[0].digest.to_string());
        assert_eq!(inspected["Os"], "linux");
    }
}

#[tokio::test]
async fn bottle_index_lists_every_bottle_and_serves_them() {
    let registry = Registry::start(Mode::Anonymous).await.unwrap();
    let began = Instant::now();
    let seeded = registry
        .push_default_bottles("homebrew/core/vim")
        .await
        .unwrap();
    eprintln!("bottle index seed: {:?}", began.elapsed());
    let (content_type, digest, body) = get_json(&registry, "homebrew/core/vim", "9.0.1900").await;
    assert_eq!(content_type, "application/vnd.oci.image.index.v1+json");
    assert_eq!(digest, seeded.index.digest.to_string());
    assert_eq!(body, seeded.index.bytes);

    let index: Value = serde_json::from_slice(&body).unwrap();
    let entries = index["manifests"].as_array().unwrap();
    let ref_names: Vec<&str> = entries
        .iter()
        .map(|e| {
            e["annotations"]["org.opencontainers.image.ref.name"]
                .as_str()
                .unwrap()
        })
        .collect();
    assert_eq!(
        ref_names,
        [
            "9.0.1900.arm64_tahoe",
            "9.0.1900.arm64_sonoma",
            "9.0.1900.sonoma",
            "9.0.1900.big_sur",
            "9.0.1900.x86_64_linux"
        ]
    );
    let arm_macs = entries
        .iter()
        .filter(|e| e["platform"]["os"] == "darwin" && e["platform"]["architecture"] == "arm64")
        .count();
    assert_eq!(arm_macs, 2);
    let big_sur = &entries[3];
    assert_eq!(big_sur["platform"]["os.version"], "macOS 11.7");
    let tab: Value =
        serde_json::from_str(big_sur["annotations"]["sh.brew.tab"].as_str().unwrap()).unwrap();
    assert_eq!(tab["runtime_dependencies"][0]["full_name"], "gettext");

    let bottle = seeded.bottle("big_sur").unwrap();
    assert_eq!(bottle.file_name, "vim--9.0.1900.big_sur.bottle.tar.gz");
    assert_eq!(
        big_sur["annotations"]["sh.brew.bottle.digest"],
        bottle.blob.digest.hex()
    );
    assert_eq!(
        big_sur["annotations"]["sh.brew.bottle.size"],
        bottle.blob.size.to_string()
    );
    let (_, _, manifest) = get_json(
        &registry,
        "homebrew/core/vim",
        &bottle.manifest.digest.to_string(),
    )
    .await;
    let manifest: Value = serde_json::from_slice(&manifest).unwrap();
    assert_eq!(
        manifest["layers"][0]["annotations"]["org.opencontainers.image.title"],
        bottle.file_name
    );
    let url = registry.v2_url(&format!("homebrew/core/vim/blobs/{}", bottle.blob.digest));
    let response = http().get(url).send().await.unwrap();
    verify_body(response, &bottle.blob.digest, bottle.blob.size)
        .await
        .unwrap();
    // Every bottle is a distinct blob.
    let mut digests: Vec<_> = seeded
        .bottles
        .iter()
        .map(|b| b.blob.digest.clone())
        .collect();
    digests.dedup();
    assert_eq!(digests.len(), 5);
}

#[tokio::test]
async fn schema1_documents_are_accepted_and_served() {
    let registry = Registry::start(Mode::Anonymous).await.unwrap();
    let seeded = registry
        .push_schema1("legacy/hitch", "1.8.0-1", 3)
        .await
        .unwrap();
    assert_eq!(seeded.fs_layers.len(), 6);
    let (content_type, digest, body) = get_json(&registry, "legacy/hitch", "1.8.0-1").await;
    assert_eq!(content_type, SCHEMA1_SIGNED);
    assert_eq!(digest, seeded.manifest.digest.to_string());
    // The registry re-signs: the body differs, the payload (and so the digest) does not.
    let payload = schema1_payload(&body).unwrap();
    assert_eq!(payload, seeded.unsigned);
    assert_eq!(
        wharf_oci::Digest::sha256_of(&payload),
        seeded.manifest.digest
    );
    let document: Value = serde_json::from_slice(&body).unwrap();
    let sums: Vec<String> = document["fsLayers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["blobSum"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        sums,
        seeded
            .fs_layers
            .iter()
            .map(|d| d.to_string())
            .collect::<Vec<_>>()
    );
    assert_eq!(
        sums[0],
        "sha256:a3ed95caeb02ffe68cdd9fd84406680ae93d633cb16422d00e8a7c22955b46d4"
    );
    for blob in &seeded.blobs {
        let url = registry.v2_url(&format!("legacy/hitch/blobs/{}", blob.digest));
        verify_body(
            http().get(url).send().await.unwrap(),
            &blob.digest,
            blob.size,
        )
        .await
        .unwrap();
    }
}

#[tokio::test]
async fn multi_platform_indexes_in_both_flavours() {
    let registry = Registry::start(Mode::Anonymous).await.unwrap();
    for (flavor, entries) in [(Flavor::Oci, 4), (Flavor::Docker, 3)] {
        let began = Instant::now();
        let seeded = registry
            .push_multi_platform("multi/app", "latest", flavor)
            .await
            .unwrap();
        eprintln!("multi-platform seed ({flavor:?}): {:?}", began.elapsed());
        let (content_type, digest, body) = get_json(&registry, "multi/app", "latest").await;
        assert_eq!(content_type, flavor.index_type());
        assert_eq!(digest, seeded.index.digest.to_string());
        let index: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(index["manifests"].as_array().unwrap().len(), entries);
        let arm = seeded.image_for("linux/arm64/v8").unwrap();
        let url = registry.v2_url(&format!("multi/app/blobs/{}", arm.config.digest));
        let config: Value = http().get(url).send().await.unwrap().json().await.unwrap();
        assert_eq!(config["architecture"], "arm64");
        assert_eq!(config["variant"], "v8");
        assert_eq!(config["rootfs"]["diff_ids"].as_array().unwrap().len(), 1);
        assert!(seeded.image_for("linux/arm/v7").is_some());
        assert_eq!(seeded.attestation.is_some(), flavor == Flavor::Oci);
    }
    let (_, _, body) = get_json(&registry, "multi/app", "latest").await;
    let index: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(index["mediaType"], Flavor::Docker.index_type());
}

#[tokio::test]
async fn images_with_many_layers_and_many_tags() {
    let registry = Registry::start(Mode::Basic).await.unwrap();
    let began = Instant::now();
    let image = registry.push_image("big/layers", "v1", 40).await.unwrap();
    eprintln!("40-layer image seed: {:?}", began.elapsed());
    assert_eq!(image.layers.len(), 40);
    let began = Instant::now();
    let tags = registry.push_tags("big/tags", 120).await.unwrap();
    eprintln!("120 tags seed: {:?}", began.elapsed());
    assert_eq!(tags.len(), 120);
    let alice = registry.credentials("alice").unwrap();
    let url = registry.v2_url("big/tags/tags/list");
    let list: Value = http()
        .get(url)
        .basic_auth(&alice.username, Some(alice.password.expose()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list["tags"].as_array().unwrap().len(), 121);
}

#[tokio::test]
async fn streamed_blobs_are_seeded_and_verify() {
    let mib: u64 = std::env::var("WHARF_TESTKIT_STREAM_MIB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(64);
    let size = mib << 20;
    let registry = Registry::start(Mode::Anonymous).await.unwrap();
    let began = Instant::now();
    let blob = registry
        .push_blob_stream("stream/big", size, 99)
        .await
        .unwrap();
    let seeded_in = began.elapsed();
    eprintln!(
        "streamed {mib} MiB seed: {seeded_in:?} ({:.0} MB/s)",
        size as f64 / 1e6 / seeded_in.as_secs_f64()
    );
    assert_eq!(blob.size, size);
    assert_eq!(blob.digest, Pattern::new(99).digest(size));
    assert_eq!(
        std::fs::metadata(registry.blob_file(&blob.digest))
            .unwrap()
            .len(),
        size
    );
    let url = registry.v2_url(&format!("stream/big/blobs/{}", blob.digest));
    let began = Instant::now();
    verify_body(
        http().get(url.clone()).send().await.unwrap(),
        &blob.digest,
        size,
    )
    .await
    .unwrap();
    eprintln!("streamed {mib} MiB verify: {:?}", began.elapsed());
    // Any window can be regenerated on its own.
    let ranged = http()
        .get(url)
        .header("range", "bytes=1000003-1000102")
        .send()
        .await
        .unwrap();
    assert_eq!(ranged.status(), 206);
    assert_eq!(
        ranged.bytes().await.unwrap().to_vec(),
        Pattern::new(99).bytes(1_000_003, 100)
    );
}

#[tokio::test]
async fn tampered_blobs_fail_verification() {
    let registry = Registry::start(Mode::Anonymous).await.unwrap();
    let blob = registry
        .push_blob("test/tamper", vec![5u8; 4096])
        .await
        .unwrap();
    registry.tamper_blob(&blob.digest).unwrap();
    let url = registry.v2_url(&format!("test/tamper/blobs/{}", blob.digest));
    let response = http().get(url).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let error = verify_body(response, &blob.digest, blob.size)
        .await
        .unwrap_err();
    assert!(
        matches!(error, wharf_oci::Error::DigestMismatch { .. }),
        "{error}"
    );
}
