//! End-to-end journeys (issue 6) of browsing public images: a Homebrew bottle index (1), a
//! multi-platform image (2, and entries apart by `os.version`), tags over several pages (5) and a
//! schema 1 image (12). Headless
//! Chromium, the page served by `wharf-relay`, the test kit's real registry.

#![cfg(not(target_arch = "wasm32"))]

mod common;

use std::time::Duration;

use common::{serial, sha256_file, Browser, Stack};
use wharf_testkit::{Flavor, Mode, SeedPlatform};

const DOWNLOAD_WAIT: Duration = Duration::from_secs(60);

/// Journey 1: every bottle of the index is listed (two arm64 macOS entries and a Linux one
/// among them); the big_sur bottle lands under brew's file name with the seeded blob's sha256.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn journey_01_homebrew_bottle() {
    let _serial = serial().await;
    let stack = Stack::start(Mode::Anonymous).await;
    let seeded = stack
        .registry
        .push_default_bottles("homebrew/core/vim")
        .await
        .expect("seed");
    let browser = Browser::start().await;
    browser.open(&stack.relay.url("/")).await;
    browser
        .look_up(&stack.reference(&format!("homebrew/core/vim:{}", seeded.version)))
        .await;

    for bottle in &seeded.bottles {
        let row = format!("tr[data-bottle-tag='{}']", bottle.tag);
        let text = browser.wait(&row).await.text().await.expect("row text");
        assert!(
            text.contains(&bottle.blob.digest.to_string()),
            "{row} shows its blob digest: {text}"
        );
        let button = format!("{row} button[data-digest='{}']", bottle.blob.digest);
        assert!(
            browser.has(&button).await,
            "{row} has a Download for its own blob"
        );
    }
    assert_eq!(
        browser.count("tr[data-bottle-tag]").await,
        seeded.bottles.len(),
        "one row per bottle"
    );
    // One index, two arm64 macOS bottles: each row is told apart by its tag, not its platform.
    for tag in ["arm64_tahoe", "arm64_sonoma"] {
        let row = browser.text(&format!("tr[data-bottle-tag='{tag}']")).await;
        assert!(row.contains("macOS"), "{tag} is a macOS bottle: {row}");
        assert!(
            row.contains("arm64") || row.contains("Apple"),
            "{tag} names its CPU: {row}"
        );
    }
    let linux = browser.text("tr[data-bottle-tag='x86_64_linux']").await;
    assert!(
        linux.contains("Linux"),
        "the linux bottle says Linux: {linux}"
    );
    assert!(
        !browser.has("tr[data-platform]").await,
        "a bottle index is not offered as platforms"
    );

    let big_sur = seeded.bottle("big_sur").expect("big_sur seeded");
    assert_eq!(
        big_sur.file_name,
        format!("vim--{}.big_sur.bottle.tar.gz", seeded.version)
    );
    browser
        .click(&format!(
            "tr[data-bottle-tag='big_sur'] button[data-digest='{}']",
            big_sur.blob.digest
        ))
        .await;
    let path = browser
        .downloaded_alone(&big_sur.file_name, DOWNLOAD_WAIT)
        .await;
    assert_eq!(sha256_file(&path), big_sur.blob.digest.hex());
    let verified = browser
        .wait(&format!("[data-verified='{}']", big_sur.blob.digest))
        .await;
    assert_eq!(
        verified.text().await.expect("text"),
        big_sur.blob.digest.hex(),
        "the page shows the sha256"
    );
    let row = browser
        .text(&format!("[data-download='{}']", big_sur.blob.digest))
        .await;
    assert!(
        row.contains(&big_sur.file_name),
        "the download row names the file: {row}"
    );
    assert!(
        browser.url().await.contains("bottle=big_sur"),
        "the chosen bottle is in the address bar"
    );
    browser.screenshot("journey-01-homebrew").await;
}

/// Journey 2: choose linux/arm64/v8 in an index; its config and layers are shown; one layer
/// and the config download verified.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn journey_02_multi_platform() {
    let _serial = serial().await;
    let stack = Stack::start(Mode::Anonymous).await;
    let index = stack
        .registry
        .push_multi_platform("multi/app", "1", Flavor::Oci)
        .await
        .expect("seed");
    let browser = Browser::start().await;
    browser.open(&stack.relay.url("/")).await;
    browser.look_up(&stack.reference("multi/app:1")).await;
    for platform in ["linux/amd64", "linux/arm64/v8", "linux/arm/v7"] {
        browser
            .wait(&format!("tr[data-platform='{platform}'] button"))
            .await;
    }
    let resolved = browser
        .attr("[data-resolved-digest]", "data-resolved-digest")
        .await;
    assert_eq!(
        resolved.as_deref(),
        Some(index.index.digest.to_string().as_str()),
        "index digest shown"
    );
    // The raw document is the index the registry served.
    let raw = browser
        .script("return document.querySelector(\"details[data-raw^='Manifest'] pre\").textContent")
        .await;
    let shown: serde_json::Value =
        serde_json::from_str(raw.as_str().expect("text")).expect("raw JSON");
    let served: serde_json::Value = serde_json::from_slice(&index.index.bytes).expect("served");
    assert_eq!(shown, served, "the raw index is the registry's");
    assert!(
        !browser
            .has("tr.muted[data-platform] button:not([data-attests])")
            .await,
        "attestations are not offered (only the image they attest is)"
    );

    browser
        .click("tr[data-platform='linux/arm64/v8'] button")
        .await;
    let image = index.image_for("linux/arm64/v8").expect("arm64 seeded");
    let chosen = browser
        .attr("[data-chosen-platform]", "data-chosen-platform")
        .await;
    assert_eq!(chosen.as_deref(), Some("linux/arm64/v8"));
    let config = browser.wait_text("[data-config]", "arm64").await;
    assert!(
        config.contains("/bin/hello"),
        "the config's Cmd is shown: {config}"
    );
    let config_row = format!("tr[data-blob='{}']", image.config.digest);
    browser.wait(&config_row).await;
    for layer in &image.layers {
        browser
            .wait(&format!("tr[data-blob='{}']", layer.digest))
            .await;
    }
    let layers_shown = browser.count("tr[data-blob]").await;
    assert_eq!(
        layers_shown,
        image.layers.len() + 1,
        "the layers and the config, nothing else"
    );
    assert!(
        browser.url().await.contains("platform=linux%2Farm64%2Fv8"),
        "platform in the address bar"
    );

    let layer = &image.layers[0];
    browser
        .click(&format!(
            "tr[data-blob='{}'] button[data-digest='{}']",
            layer.digest, layer.digest
        ))
        .await;
    let layer_file = format!("{}.tar.gz", layer.digest.hex());
    let path = browser.downloaded_alone(&layer_file, DOWNLOAD_WAIT).await;
    assert_eq!(sha256_file(&path), layer.digest.hex());
    browser
        .wait(&format!("[data-verified='{}']", layer.digest))
        .await;

    browser
        .click(&format!(
            "{config_row} button[data-digest='{}']",
            image.config.digest
        ))
        .await;
    let config_file = format!("{}.json", image.config.digest.hex());
    let path = browser.downloaded(&config_file, DOWNLOAD_WAIT).await;
    assert_eq!(sha256_file(&path), image.config.digest.hex());
    browser
        .wait(&format!("[data-verified='{}']", image.config.digest))
        .await;
    let mut names = browser.download_names();
    names.sort();
    let mut want = vec![layer_file, config_file];
    want.sort();
    assert_eq!(names, want, "exactly the layer and the config");
    browser.screenshot("journey-02-multi-platform").await;
}

/// Journey 2b: two Windows entries that differ only in `os.version` (as Windows images do):
/// choosing the second opens the second, not the first, and its link
/// (`?platform=windows(10.0.20348.2527)/amd64`) opens it again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn journey_02_entries_apart_by_os_version() {
    let _serial = serial().await;
    let stack = Stack::start(Mode::Anonymous).await;
    let mut images = Vec::new();
    for version in ["10.0.17763.5936", "10.0.20348.2527"] {
        let platform = SeedPlatform::new("windows", "amd64", None).with_os_version(version);
        let files = vec![vec![(
            "Windows/version.txt".to_owned(),
            format!("{version}\n").into_bytes(),
        )]];
        let image = stack
            .registry
            .push_image_layers("win/app", None, Flavor::Oci, &platform, &files)
            .await
            .expect("seed");
        images.push(image);
    }
    let (first, second) = (
        images[0].layers[0].digest.clone(),
        images[1].layers[0].digest.clone(),
    );
    stack
        .registry
        .push_index("win/app", "ltsc", Flavor::Oci, images)
        .await
        .expect("seed");
    let browser = Browser::start().await;
    browser.open(&stack.relay.url("/")).await;
    browser.look_up(&stack.reference("win/app:ltsc")).await;
    browser
        .wait("tr[data-platform='windows/amd64'] button")
        .await;
    assert_eq!(browser.count("tr[data-platform='windows/amd64']").await, 2);

    let newer = "windows(10.0.20348.2527)/amd64";
    browser
        .click(&format!("tr[data-choice='{newer}'] button"))
        .await;
    browser.wait(&format!("tr[data-blob='{second}']")).await;
    assert!(
        !browser.has(&format!("tr[data-blob='{first}']")).await,
        "the first entry's layer is not shown"
    );
    let link = browser.url().await;
    assert!(
        link.contains("10.0.20348.2527"),
        "the os.version is in the address: {link}"
    );
    browser.open(&stack.relay.url("/")).await;
    browser.open(&link).await;
    browser.wait(&format!("tr[data-blob='{second}']")).await;
    browser.screenshot("journey-02-os-version").await;
}

/// Journey 5: a repository with more tags than one page; the page follows `Link` pagination
/// for 5 pages (500 tags) by itself, **More tags** lists the rest; choosing one (from a later
/// page) looks it up.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn journey_05_tags_over_several_pages() {
    let _serial = serial().await;
    // distribution 2.8.2 answers every tag at once: its front cuts the list into spec pages.
    let stack = Stack::with_front(Mode::Anonymous).await;
    stack.front().paginate_tags();
    let mut tags = stack
        .registry
        .push_tags("many/tags", 560)
        .await
        .expect("seed");
    tags.push("base".to_owned());
    let browser = Browser::start().await;
    browser.open(&stack.relay.url("/")).await;
    let field = browser.wait("#reference").await;
    field
        .send_keys(&stack.reference("many/tags"))
        .await
        .expect("type");
    browser.press("Tags").await;

    let first = browser.wait("[data-tag-count='500']").await;
    let more = browser.wait("button[data-more-tags]:not([disabled])").await;
    assert_eq!(first.text().await.expect("text"), "500 tags");
    more.click().await.expect("click More tags");
    let count = format!("[data-tag-count='{}']", tags.len());
    let shown = browser.wait(&count).await.text().await.expect("text");
    assert!(
        !browser.has("button[data-more-tags]").await,
        "no More tags after the last page"
    );
    assert!(
        shown.contains(&tags.len().to_string()),
        "the count is said: {shown}"
    );
    assert!(!shown.contains("loading"), "all pages loaded: {shown}");
    let mut listed: Vec<String> = Vec::new();
    for button in browser
        .client
        .find_all(fantoccini::Locator::Css("[data-tag]"))
        .await
        .expect("tags")
    {
        listed.push(
            button
                .attr("data-tag")
                .await
                .expect("attr")
                .unwrap_or_default(),
        );
    }
    let mut want = tags.clone();
    want.sort();
    listed.sort();
    assert_eq!(listed, want, "every tag listed once");
    assert!(
        browser.url().await.contains("view=tags"),
        "the Tags view is in the address bar"
    );
    let pages = stack
        .front()
        .requests()
        .iter()
        .filter(|r| r.path.ends_with("/tags/list") && r.status == 200)
        .count();
    assert_eq!(pages, 6, "561 tags in pages of 100");

    // A tag from the sixth page of 100, listed by More tags.
    browser.click("[data-tag='t0515']").await;
    browser.wait("[data-resolved-digest]").await;
    let reference = browser.text("[data-view='resolved']").await;
    assert!(reference.contains("many/tags:t0515"), "{reference}");
    assert!(
        browser.url().await.contains("t0515"),
        "the chosen tag is in the address bar"
    );
    assert!(
        browser.has("tr[data-blob]").await,
        "the image's layers are shown"
    );
    browser.screenshot("journey-05-tags").await;
}

/// Journey 12: a schema 1 image shows its fsLayers/history rows, and a layer downloads verified
/// (its size is learned from the registry, schema 1 has none).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn journey_12_schema1_image() {
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
    let rows = browser
        .count("[data-view='schema1'] tr[data-schema1-layer]")
        .await;
    assert_eq!(rows, seeded.fs_layers.len(), "one row per fsLayers entry");
    let media = browser.text("[data-media-type]").await;
    assert!(
        media.contains("manifest.v1"),
        "schema 1 media type shown: {media}"
    );
    let table = browser.text("[data-view='schema1']").await;
    for digest in &seeded.fs_layers {
        assert!(
            table.contains(&digest.to_string()),
            "{digest} listed: {table}"
        );
    }
    let throwaway = browser
        .count("[data-view='schema1'] tr.muted[data-schema1-layer]")
        .await;
    assert_eq!(
        throwaway,
        seeded.fs_layers.len() / 2,
        "throwaway entries marked"
    );
    for blob in &seeded.blobs {
        browser
            .wait(&format!("tr[data-blob='{}']", blob.digest))
            .await;
    }

    let layer = &seeded.blobs[0];
    browser
        .click(&format!(
            "tr[data-blob='{}'] button[data-digest='{}']",
            layer.digest, layer.digest
        ))
        .await;
    let path = browser
        .downloaded_alone(&format!("{}.tar.gz", layer.digest.hex()), DOWNLOAD_WAIT)
        .await;
    assert_eq!(sha256_file(&path), layer.digest.hex());
    browser
        .wait(&format!("[data-verified='{}']", layer.digest))
        .await;
    browser.screenshot("journey-12-schema1").await;
}
