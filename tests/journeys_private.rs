//! Journey 16 (issue 12): wharf in a private window. In Firefox that means no Origin Private
//! File System (`getDirectory()` throws `SecurityError`, as in Tor Browser), so the page stages
//! in memory and says so (as WebKitGTK, which has none at all, does in every window); Chromium's
//! incognito window keeps a private file system. Either way a
//! bottle, a layer and a whole image save with the right sha256, and a tampered blob leaves
//! nothing.

#![cfg(not(target_arch = "wasm32"))]

#[allow(dead_code)] // this journey uses one of the checks
mod archive_checks;
mod common;

use std::time::Duration;

use archive_checks::{check_image_archive, Expect};
use common::firefox::Kind;
use common::seed::push_three_file_image;
use common::{assert_cut_blobs_recovered, serial, sha256_file, Browser, Stack};
use wharf_testkit::Mode;

const DOWNLOAD_WAIT: Duration = Duration::from_secs(60);

/// The line under the downloads names the path this browser gives a private window.
async fn check_staging_line(browser: &Browser) {
    let line = browser.wait("[data-staging]").await;
    let path = line.attr("data-staging").await.expect("attr");
    let text = line.text().await.expect("text");
    match browser.kind {
        Kind::Firefox => {
            assert_eq!(path.as_deref(), Some("memory"), "{text}");
            assert!(
                text.contains("in memory") && text.contains("1.0 GiB"),
                "{text}"
            );
            assert!(text.contains("SecurityError"), "says why: {text}");
        }
        Kind::WebKit => {
            assert_eq!(path.as_deref(), Some("memory"), "{text}");
            assert!(text.contains("navigator.storage"), "says why: {text}");
        }
        Kind::Chromium => assert_eq!(path.as_deref(), Some("opfs"), "{text}"),
    }
}

/// Journey 16: a private window saves a bottle, a layer and a whole image verified; a tampered
/// layer leaves no file.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn journey_16_private_window() {
    let _serial = serial().await;
    let stack = Stack::with_front(Mode::Anonymous).await;
    let bottles = stack
        .registry
        .push_default_bottles("homebrew/core/vim")
        .await
        .expect("seed bottles");
    let image = stack
        .registry
        .push_image("private/app", "1", 2)
        .await
        .expect("seed image");
    let (bad, good) = (&image.layers[0], &image.layers[1]);
    stack.registry.tamper_blob(&bad.digest).expect("tamper");
    let browser = Browser::start_private().await;
    browser.open(&stack.relay.url("/")).await;

    let reference = format!("homebrew/core/vim:{}", bottles.version);
    browser.look_up(&stack.reference(&reference)).await;
    let big_sur = bottles.bottle("big_sur").expect("big_sur seeded");
    browser
        .click(&format!("button[data-digest='{}']", big_sur.blob.digest))
        .await;
    let path = browser
        .downloaded_alone(&big_sur.file_name, DOWNLOAD_WAIT)
        .await;
    assert_eq!(sha256_file(&path), big_sur.blob.digest.hex());
    check_staging_line(&browser).await;

    browser.look_up(&stack.reference("private/app:1")).await;
    browser
        .click(&format!("button[data-digest='{}']", good.digest))
        .await;
    let layer = format!("{}.tar.gz", good.digest.hex());
    let path = browser.downloaded(&layer, DOWNLOAD_WAIT).await;
    assert_eq!(sha256_file(&path), good.digest.hex());

    browser
        .click(&format!("button[data-digest='{}']", bad.digest))
        .await;
    let failed = browser
        .wait(&format!(
            "[data-download='{}'] [data-state='failed']",
            bad.digest
        ))
        .await;
    let failed = failed.text().await.expect("text");
    assert!(failed.contains("Nothing was saved"), "{failed}");
    tokio::time::sleep(Duration::from_secs(2)).await;
    let mut names = browser.download_names();
    names.sort();
    let mut expected = vec![big_sur.file_name.clone(), layer];
    expected.sort();
    assert_eq!(names, expected, "the tampered layer left no file");

    save_whole_image(&stack, &browser).await;
    browser.screenshot("journey-16-private-window").await;
}

/// A three-layer image saved as one archive in the same window, two blob streams cut mid-way
/// (resumed within the tab); the archive passes the usual checks.
async fn save_whole_image(stack: &Stack, browser: &Browser) {
    let (image, files) = push_three_file_image(
        &stack.registry,
        "private/whole",
        (61, 62),
        b"private hello\n",
    )
    .await;
    browser.look_up(&stack.reference("private/whole:1")).await;
    browser.wait("button[data-export='archive']").await;
    stack.front().cut_blobs_after(1_500_000, 2);
    let name = "whole_1_linux-amd64.tar";
    let tar = browser.save_archive("archive", name, name).await;
    let layers: Vec<_> = image.layers.iter().map(|l| l.digest.clone()).collect();
    assert_cut_blobs_recovered(browser, stack.front(), &layers);
    let repo_tag = format!("{}/private/whole:1", stack.front().host_port());
    check_image_archive(&tar, &Expect::seeded(&image, "1", repo_tag, &files), true);
}
