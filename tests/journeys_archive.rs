//! End-to-end journeys of **Save image** (issue 5): the page saves one platform of an image as
//! one verified tar, which skopeo and umoci accept (`archive_checks`). Headless Chromium, the
//! page served by `wharf-relay`, the test kit's real registry.

#![cfg(not(target_arch = "wasm32"))]

#[allow(dead_code)] // the platforms checks are for journeys_platforms.rs
mod archive_checks;
mod common;

use std::time::Duration;

use archive_checks::{check_image_archive, entries, entry, Expect};
use common::seed::push_three_file_image;
use common::{assert_cut_blobs_recovered, origin, serial, sha256_file, Browser, Relay, Stack};
use serde_json::{json, Value};
use wharf_oci::Digest;
use wharf_testkit::{Flavor, Mode, Pattern, Redirector, SeedPlatform};

/// Journey 3a: a single-platform OCI image with three layers (two of 3 MiB); the first blob
/// streams are cut mid-way and resumed with `Range`; the archive passes every check.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn journey_03_save_single_platform_image() {
    let _serial = serial().await;
    let stack = Stack::with_front(Mode::Anonymous).await;
    let (image, files) = push_three_file_image(
        &stack.registry,
        "single/app",
        (31, 32),
        b"hello from wharf\n",
    )
    .await;
    let browser = Browser::start().await;
    browser.open(&stack.relay.url("/")).await;
    browser.look_up(&stack.reference("single/app:1")).await;
    browser.wait("button[data-export='archive']").await;

    // The config passes whole (it is small); the next two blob answers break after 1.5 MiB.
    stack.front().cut_blobs_after(1_500_000, 3);
    let name = "app_1_linux-amd64.tar";
    let tar = browser.save_archive("archive", name, name).await;
    let layers: Vec<_> = image.layers.iter().map(|l| l.digest.clone()).collect();
    assert_cut_blobs_recovered(&browser, stack.front(), &layers);
    let note = browser.text(&format!("[data-file-name='{name}']")).await;
    assert!(note.contains("verified"), "{note}");

    let repo_tag = format!("{}/single/app:1", stack.front().host_port());
    let expect = Expect::seeded(&image, "1", repo_tag, &files);
    check_image_archive(&tar, &expect, true);
    // One staged file (handed to the browser, removed once it had time to copy it); in memory
    // (WebKitGTK) there is no private file system to look in.
    if browser.stages_on_disk() {
        let staged: Vec<String> = browser
            .staged_files()
            .await
            .into_iter()
            .filter(|n| n.contains(image.manifest.digest.hex()))
            .collect();
        assert_eq!(staged.len(), 1, "{staged:?}");
    }
    browser.screenshot("journey-03-save-single-platform").await;
}

/// Journey 3b: one platform (linux/arm64/v8) of a Docker-flavoured multi-platform index, saved
/// as the combined archive and as a pure OCI archive.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn journey_03_save_one_platform_of_an_index() {
    let _serial = serial().await;
    let stack = Stack::start(Mode::Anonymous).await;
    let index = stack
        .registry
        .push_multi_platform("multi/app", "1", Flavor::Docker)
        .await
        .expect("seed");
    let image = index.image_for("linux/arm64/v8").expect("arm64 seeded");
    let browser = Browser::start().await;
    browser.open(&stack.relay.url("/")).await;
    browser.look_up(&stack.reference("multi/app:1")).await;
    browser
        .click("tr[data-platform='linux/arm64/v8'] button")
        .await;
    browser
        .wait("[data-chosen-platform='linux/arm64/v8']")
        .await;

    let files = [
        ("etc/wharf-platform", b"linux/arm64/v8\n".to_vec()),
        (
            "bin/hello",
            b"#!/bin/sh\necho hello from linux/arm64/v8\n".to_vec(),
        ),
    ];
    let repo_tag = format!("{}/multi/app:1", stack.registry.host_port());
    let expect = Expect::seeded(image, "1", repo_tag, &files);
    assert!(expect.docker_media_types);

    let name = "app_1_linux-arm64.tar";
    let tar = browser.save_archive("archive", name, name).await;
    check_image_archive(&tar, &expect, true);

    let oci_name = "app_1_linux-arm64.oci.tar";
    let oci = browser
        .save_archive("oci-archive", oci_name, oci_name)
        .await;
    check_image_archive(&oci, &expect, false);
    // Neither is the index nor another platform.
    for other in ["linux/amd64", "linux/arm/v7"] {
        let other = index.image_for(other).expect("seeded");
        let all = entries(&tar);
        assert!(!all
            .iter()
            .any(|e| e.path.contains(other.manifest.digest.hex())));
    }
    browser
        .screenshot("journey-03-save-platform-of-index")
        .await;
}

/// Journey 3c: an image of twelve layers, saved twice: byte-identical tars.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn journey_03_save_many_layers_twice_identically() {
    let _serial = serial().await;
    let stack = Stack::start(Mode::Anonymous).await;
    let image = stack
        .registry
        .push_image("many/layers", "2.0", 12)
        .await
        .expect("seed");
    let browser = Browser::start().await;
    browser.open(&stack.relay.url("/")).await;
    browser.look_up(&stack.reference("many/layers:2.0")).await;

    let name = "layers_2.0_linux-amd64.tar";
    let first = browser.save_archive("archive", name, name).await;
    let first = browser.set_aside(&first);
    let second = browser.save_archive("archive", name, name).await;
    assert_eq!(
        sha256_file(&first),
        sha256_file(&second),
        "the same image gives byte-identical archives"
    );
    let files: Vec<(String, Vec<u8>)> = (0..12)
        .map(|i| {
            (
                format!("layers/{i}.txt"),
                format!("layer {i} of many/layers:2.0\n").into_bytes(),
            )
        })
        .collect();
    let files: Vec<(&str, Vec<u8>)> = files.iter().map(|(p, c)| (p.as_str(), c.clone())).collect();
    let repo_tag = format!("{}/many/layers:2.0", stack.registry.host_port());
    let expect = Expect::seeded(&image, "2.0", repo_tag, &files);
    assert_eq!(expect.layers.len(), 12);
    check_image_archive(&first, &expect, true);
    browser.screenshot("journey-03-save-many-layers").await;
}

/// Journey 3d: a schema 1 image is saved in the legacy Docker image v1.0 layout, checked entry
/// by entry (folders named by layer id, `VERSION`, `json`, `layer.tar`, `repositories`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn journey_03_save_schema1_image_in_the_legacy_layout() {
    let _serial = serial().await;
    let stack = Stack::start(Mode::Anonymous).await;
    let seeded = stack
        .registry
        .push_schema1("legacy/app", "1", 2)
        .await
        .expect("seed");
    let browser = Browser::start().await;
    browser.open(&stack.relay.url("/")).await;
    browser.look_up(&stack.reference("legacy/app:1")).await;
    browser.wait("[data-view='schema1']").await;
    assert!(
        !browser.has("button[data-export='oci-archive']").await,
        "schema 1 has no OCI form"
    );
    let name = "app_1_linux-amd64.tar";
    let tar = browser.save_archive("archive", name, name).await;

    // history, top first: (id, parent, v1Compatibility) from the payload the registry stores.
    let unsigned: Value = serde_json::from_slice(&seeded.unsigned).expect("payload");
    let history: Vec<String> = unsigned["history"]
        .as_array()
        .expect("history")
        .iter()
        .map(|h| h["v1Compatibility"].as_str().expect("string").to_owned())
        .collect();
    let ids: Vec<String> = history
        .iter()
        .map(|h| {
            let v: Value = serde_json::from_str(h).expect("v1 json");
            v["id"].as_str().expect("id").to_owned()
        })
        .collect();
    assert_eq!(ids.len(), seeded.fs_layers.len());

    let all = entries(&tar);
    let mut want = vec!["repositories".to_owned()];
    for id in ids.iter().rev() {
        for file in ["/", "/VERSION", "/json", "/layer.tar"] {
            want.push(format!("{id}{file}"));
        }
    }
    let paths: Vec<String> = all.iter().map(|e| e.path.clone()).collect();
    assert_eq!(paths, want, "bottom layer first, one folder per layer id");

    let familiar = format!("{}/legacy/app", stack.registry.host_port());
    let repositories: Value =
        serde_json::from_slice(&entry(&all, "repositories").data).expect("repositories");
    assert_eq!(repositories, json!({ familiar.clone(): { "1": ids[0] } }));
    for (i, id) in ids.iter().enumerate() {
        let folder = entry(&all, &format!("{id}/"));
        assert_eq!(folder.kind, tar::EntryType::Directory);
        assert_eq!(entry(&all, &format!("{id}/VERSION")).data, b"1.0");
        let v1 = &entry(&all, &format!("{id}/json")).data;
        assert_eq!(
            v1,
            history[i].as_bytes(),
            "json is v1Compatibility verbatim"
        );
        let layer = entry(&all, &format!("{id}/layer.tar"));
        let blob = &seeded.fs_layers[i];
        if layer.kind == tar::EntryType::Link {
            let target = layer.link.clone().expect("link target");
            let first = entry(&all, &target);
            assert_eq!(&Digest::sha256_of(&first.data), blob, "{target}");
        } else {
            assert_eq!(layer.kind, tar::EntryType::Regular);
            assert_eq!(&Digest::sha256_of(&layer.data), blob, "{id}/layer.tar");
        }
    }
    // docker 20.10's legacy loader takes the layout: the tag, and one layer per history entry.
    let tagged = format!("{familiar}:1");
    let loaded = archive_checks::loaders::Dockerd::start().load_as(&tar, &tagged);
    eprintln!("docker load (legacy): {loaded:?}");
    assert!(loaded.repo_tags.contains(&tagged), "{loaded:?}");
    let bottom_up: Vec<String> = ids
        .iter()
        .rev()
        .map(|id| {
            let layer = entry(&all, &format!("{id}/layer.tar"));
            let layer = match &layer.link {
                Some(target) => entry(&all, target),
                None => layer,
            };
            Digest::sha256_of(&gunzipped(&layer.data)).to_string()
        })
        .collect();
    assert_eq!(loaded.layers, bottom_up, "one layer per history entry");
    browser.screenshot("journey-03-save-schema1").await;
}

/// A layer's tar: gunzipped if it is gzip, as it is if not.
fn gunzipped(data: &[u8]) -> Vec<u8> {
    use std::io::Read;
    if !data.starts_with(&[0x1f, 0x8b]) {
        return data.to_vec();
    }
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(data)
        .read_to_end(&mut out)
        .expect("a gzip layer");
    out
}

/// Journey 3e: a foreign layer the registry does not have is fetched from the URL its
/// descriptor names, through the relay; one on a host the relay refuses fails the save with
/// the URL named, and nothing is offered.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn journey_03_save_image_with_foreign_layers() {
    let _serial = serial().await;
    // distribution refuses manifests with `urls` unless they match an allow list; set one
    // through its environment override for this registry only.
    const ALLOW_URLS: &str = "REGISTRY_VALIDATION_MANIFESTS_URLS_ALLOW";
    std::env::set_var(ALLOW_URLS, r#"["^https?://"]"#);
    let registry = wharf_testkit::Registry::start(Mode::Anonymous).await;
    std::env::remove_var(ALLOW_URLS);
    let registry = registry.expect("registry");
    let cdn = Redirector::start().await.expect("redirector");
    let allow = [
        format!("http://{}", registry.host_port()),
        origin(&cdn.base_url()),
    ];
    let stack = Stack {
        relay: Relay::start(&allow).await,
        registry,
        front: None,
    };
    let repo = "foreign/app";
    let (own, own_diff) =
        wharf_testkit::tarball::gzip_tar(&[("etc/own".into(), b"own layer\n".to_vec())])
            .expect("tar");
    let (foreign, foreign_diff) =
        wharf_testkit::tarball::gzip_tar(&[("etc/foreign".into(), b"from elsewhere\n".to_vec())])
            .expect("tar");
    cdn.serve(
        "/layers/foreign.tar.gz",
        foreign.clone(),
        "application/octet-stream",
    );
    let own = stack
        .registry
        .push_blob(repo, own)
        .await
        .expect("own layer");
    let config = json!({
        "architecture": "amd64", "os": "linux", "config": {},
        "rootfs": {"type": "layers", "diff_ids": [own_diff, foreign_diff]},
    });
    let config = stack
        .registry
        .push_blob(repo, config.to_string().into_bytes())
        .await
        .expect("config");
    let manifest = |url: String| {
        serde_json::to_vec(&json!({
            "schemaVersion": 2,
            "mediaType": Flavor::Docker.manifest_type(),
            "config": {"mediaType": Flavor::Docker.config_type(), "digest": config.digest, "size": config.size},
            "layers": [
                {"mediaType": Flavor::Docker.layer_type(), "digest": own.digest, "size": own.size},
                {"mediaType": "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
                 "digest": Digest::sha256_of(&foreign), "size": foreign.len(), "urls": [url]},
            ],
        }))
        .expect("json")
    };
    let reachable = cdn.url("/layers/foreign.tar.gz").to_string();
    let refused = cdn.url_localhost("/layers/foreign.tar.gz").to_string();
    let pushed = stack
        .registry
        .push_manifest(
            repo,
            "1",
            Flavor::Docker.manifest_type(),
            manifest(reachable),
        )
        .await
        .expect("manifest");
    let blocked = stack
        .registry
        .push_manifest(
            repo,
            "2",
            Flavor::Docker.manifest_type(),
            manifest(refused.clone()),
        )
        .await
        .expect("manifest");

    let browser = Browser::start().await;
    browser.open(&stack.relay.url("/")).await;
    browser
        .look_up(&stack.reference(&format!("{repo}:1")))
        .await;
    browser.wait("[data-foreign-layers='1']").await;
    let name = "app_1_linux-amd64.tar";
    let tar = browser.save_archive("archive", name, name).await;
    assert!(
        cdn.requests()
            .iter()
            .any(|r| r.path == "/layers/foreign.tar.gz"),
        "the foreign layer came from its URL"
    );
    let expect = Expect {
        manifest_digest: pushed.digest.clone(),
        manifest: pushed.bytes.clone(),
        config_digest: config.digest.clone(),
        layers: vec![own.digest.clone(), Digest::sha256_of(&foreign)],
        tag: "1".into(),
        repo_tag: format!("{}/{repo}:1", stack.registry.host_port()),
        files: vec![
            ("etc/own".into(), b"own layer\n".to_vec()),
            ("etc/foreign".into(), b"from elsewhere\n".to_vec()),
        ],
        docker_media_types: true,
        foreign_layers: true,
    };
    check_image_archive(&tar, &expect, true);

    browser
        .look_up(&stack.reference(&format!("{repo}:2")))
        .await;
    browser
        .wait(&format!("[data-resolved-digest='{}']", blocked.digest))
        .await;
    browser.click("button[data-export='archive']").await;
    let failed = "[data-file-name='app_2_linux-amd64.tar'] [data-state='failed']";
    let message = browser.wait(failed).await.text().await.expect("text");
    assert!(message.contains(&refused), "names the URL: {message}");
    assert!(
        message.contains("relay refused"),
        "says who refused: {message}"
    );
    assert_eq!(
        browser.download_names(),
        vec![name.to_owned()],
        "nothing more saved"
    );
    browser.wait_unstaged(blocked.digest.hex()).await;
    browser.screenshot("journey-03-save-foreign-layers").await;
}

/// Journey 3g (issue 13): **Save image** running when the tab closes is listed when the page opens
/// again; **Resume** checks the staged part of the tar, fetches only the rest (`Range` inside
/// the layer it was writing) and saves an archive that passes every check.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn journey_03_save_image_resumes_after_the_tab_closed() {
    let _serial = serial().await;
    let stack = Stack::with_front(Mode::Anonymous).await;
    let files = [("data/big.bin", Pattern::new(47).bytes(0, 4 << 20))];
    let layers = vec![vec![(files[0].0.to_owned(), files[0].1.clone())]];
    let platform = SeedPlatform::new("linux", "amd64", None);
    let image = stack
        .registry
        .push_image_layers("closed/save", Some("1"), Flavor::Oci, &platform, &layers)
        .await
        .expect("seed");
    let browser = Browser::start().await;
    browser.open(&stack.relay.url("/")).await;
    browser.look_up(&stack.reference("closed/save:1")).await;
    stack.front().throttle_blobs(1 << 20);
    browser.click("button[data-export='archive']").await;
    let name = "save_1_linux-amd64.tar";
    let item = format!("[data-file-name='{name}'] [data-state='running']");
    browser.wait_text(&item, " left").await;
    tokio::time::sleep(Duration::from_millis(1500)).await;

    // The tab goes away (its worker with it), then the page is opened again.
    browser.leave().await;
    stack.front().throttle_blobs(u64::MAX);
    browser.open(&stack.relay.url("/")).await;
    let offered = format!("[data-unfinished='{}']", image.manifest.digest);
    if !browser.stages_on_disk() {
        browser.assert_nothing_to_resume(&offered).await;
        return;
    }
    let listed = browser.wait_text(&offered, "of the archive staged").await;
    assert!(listed.contains(name), "{listed}");
    browser
        .click(&format!("{offered} button[aria-label^='Resume']"))
        .await;
    let tar = browser.downloaded(name, Duration::from_secs(120)).await;
    let sha256 = sha256_file(&tar);
    browser
        .wait(&format!(
            "[data-file-name='{name}'] [data-verified='sha256:{sha256}']"
        ))
        .await;
    let layer = &image.layers[0];
    let ranges: Vec<String> = stack
        .front()
        .requests()
        .iter()
        .filter(|r| r.path.ends_with(&layer.digest.to_string()))
        .flat_map(|r| r.header_values("range"))
        .map(str::to_owned)
        .collect();
    assert!(
        ranges
            .iter()
            .any(|r| r.starts_with("bytes=") && !r.starts_with("bytes=0-")),
        "the layer went on from its staged bytes: {ranges:?}"
    );
    let repo_tag = format!("{}/closed/save:1", stack.front().host_port());
    check_image_archive(&tar, &Expect::seeded(&image, "1", repo_tag, &files), true);
    browser.wait_gone(&offered).await;
}
