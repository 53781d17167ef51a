//! End-to-end journeys of **Save N entries as one archive** (issue 13): every platform of an index
//! (OCI and Docker media types) in one tar, which skopeo `--all`, umoci, docker and podman read.

#![cfg(not(target_arch = "wasm32"))]

#[allow(dead_code)] // these journeys use the platforms checks
mod archive_checks;
mod common;

use archive_checks::platforms::{check_platforms_archive, Chosen, ExpectIndex};
use archive_checks::Expect;
use common::{serial, sha256_file, Browser, Stack};
use wharf_testkit::{Flavor, Mode, SeededImage, SeededIndex};

/// The files `push_multi_platform` puts into the image for `platform`.
fn platform_files(platform: &str) -> Vec<(&'static str, Vec<u8>)> {
    vec![
        ("etc/wharf-platform", format!("{platform}\n").into_bytes()),
        (
            "bin/hello",
            format!("#!/bin/sh\necho hello from {platform}\n").into_bytes(),
        ),
    ]
}

/// Seeds a three-platform index `repo:tag` (and an attestation), looks it up in a new browser
/// and waits for the save control; also returns the image's `host/repo:tag`.
async fn looked_up(
    stack: &Stack,
    repo: &str,
    tag: &str,
    flavor: Flavor,
) -> (SeededIndex, Browser, String) {
    let index = stack
        .registry
        .push_multi_platform(repo, tag, flavor)
        .await
        .expect("seed");
    let browser = Browser::start().await;
    browser.open(&stack.relay.url("/")).await;
    browser
        .look_up(&stack.reference(&format!("{repo}:{tag}")))
        .await;
    browser.wait("[data-save-platforms='3']").await;
    let repo_tag = format!("{}/{repo}:{tag}", stack.registry.host_port());
    (index, browser, repo_tag)
}

/// What the archive must hold for one seeded image of the index.
fn chosen(image: &SeededImage, tag: &str, repo_tag: &str, loadable: bool) -> Chosen {
    let platform = image.platform.as_ref().expect("platform").to_string();
    let files = platform_files(&platform);
    Chosen {
        image: Expect::seeded(image, tag, repo_tag.to_owned(), &files),
        platform,
        loadable,
    }
}

/// Journey 3f (issue 13): every platform of an index in one archive. The images are ticked at
/// first and the attestation is not, so the archive names a new index of the three images;
/// ticking the attestation too gives the registry's own index. skopeo (`--all`, and each
/// platform), umoci, podman and docker read them, and two saves are byte-identical.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn journey_03_save_all_platforms_in_one_archive() {
    let _serial = serial().await;
    let stack = Stack::start(Mode::Anonymous).await;
    let (index, browser, repo_tag) = looked_up(&stack, "multi/all", "1", Flavor::Oci).await;
    assert_eq!(browser.count("input[data-pick]:checked").await, 3);
    let attestation = "tr[data-platform='unknown/unknown'] input[data-pick]";
    assert_eq!(
        browser.count(&format!("{attestation}:not(:checked)")).await,
        1
    );

    let pick = |image, loadable| chosen(image, "1", &repo_tag, loadable);
    let mut expect = ExpectIndex {
        index_digest: index.index.digest.clone(),
        index: index.index.bytes.clone(),
        tag: "1".into(),
        repo_tag: repo_tag.clone(),
        chosen: index.images.iter().map(|i| pick(i, true)).collect(),
        whole: false,
    };
    let name = "all_1_3-platforms.tar";
    let first = browser.save_archive("platforms", name, name).await;
    let first = browser.set_aside(&first);
    let second = browser.save_archive("platforms", name, name).await;
    assert_eq!(
        sha256_file(&first),
        sha256_file(&second),
        "two saves, one sha256"
    );
    check_platforms_archive(&first, &expect, true);
    let oci_name = "all_1_3-platforms.oci.tar";
    let oci = browser
        .save_archive("platforms-oci", oci_name, oci_name)
        .await;
    check_platforms_archive(&oci, &expect, false);

    // With the attestation: the registry's index itself.
    browser.click(attestation).await;
    browser.wait("[data-save-platforms='4']").await;
    let attested = index.attestation.as_ref().expect("an attestation");
    expect.chosen.push(pick(attested, false));
    expect.whole = true;
    let name = "all_1_4-platforms.tar";
    let whole = browser.save_archive("platforms", name, name).await;
    check_platforms_archive(&whole, &expect, true);
    browser.screenshot("journey-03-save-all-platforms").await;
}

/// Journey 3h: every platform of a Docker manifest list (Docker media types throughout, as much
/// of Docker Hub serves) in one archive: `index.json` names an OCI index of the list's entries as
/// served (OCI layout readers want one), and the same readers take it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn journey_03_save_all_platforms_of_a_docker_manifest_list() {
    let _serial = serial().await;
    let stack = Stack::start(Mode::Anonymous).await;
    let (index, browser, repo_tag) = looked_up(&stack, "multi/docker", "2", Flavor::Docker).await;
    let chosen = index
        .images
        .iter()
        .map(|image| chosen(image, "2", &repo_tag, true))
        .collect();
    let expect = ExpectIndex {
        index_digest: index.index.digest.clone(),
        index: index.index.bytes.clone(),
        tag: "2".into(),
        repo_tag,
        chosen,
        whole: false,
    };
    let name = "docker_2_3-platforms.tar";
    let tar = browser.save_archive("platforms", name, name).await;
    check_platforms_archive(&tar, &expect, true);
}
