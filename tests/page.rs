//! The page's core journeys in headless Chromium, against the test kit's real registries
//! through `wharf-relay` (issue 4's "done when").

#![cfg(not(target_arch = "wasm32"))]

mod common;

use std::time::Duration;

use common::{serial, sha256_file, Browser, Stack};
use wharf_testkit::{Flavor, Mode};

const DOWNLOAD_WAIT: Duration = Duration::from_secs(60);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bottle_download_lands_under_brews_name_with_the_right_sha256() {
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
        browser
            .wait(&format!("tr[data-bottle-tag='{}']", bottle.tag))
            .await;
    }
    let big_sur = seeded.bottle("big_sur").expect("big_sur seeded");
    browser
        .click(&format!(
            "tr[data-bottle-tag='big_sur'] button[data-digest='{}']",
            big_sur.blob.digest
        ))
        .await;
    let path = browser.downloaded(&big_sur.file_name, DOWNLOAD_WAIT).await;
    assert_eq!(
        big_sur.file_name,
        format!("vim--{}.big_sur.bottle.tar.gz", seeded.version)
    );
    assert_eq!(sha256_file(&path), big_sur.blob.digest.hex());
    browser
        .wait(&format!("[data-verified='{}']", big_sur.blob.digest))
        .await;
    browser.screenshot("page-bottle").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn layer_of_a_multi_platform_image_downloads_verified() {
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
    browser.wait("tr[data-platform='linux/amd64']").await;
    browser.wait("tr[data-platform='linux/arm/v7']").await;
    assert!(
        browser.text("tr.muted").await.contains("attestation"),
        "attestation row marked"
    );
    browser
        .click("tr[data-platform='linux/arm64/v8'] button")
        .await;
    let image = index.image_for("linux/arm64/v8").expect("arm64 seeded");
    let layer = &image.layers[0];
    let button = format!("button[data-digest='{}']", layer.digest);
    browser.click(&button).await;
    let path = browser
        .downloaded(&format!("{}.tar.gz", layer.digest.hex()), DOWNLOAD_WAIT)
        .await;
    assert_eq!(sha256_file(&path), layer.digest.hex());
    assert!(browser
        .client
        .current_url()
        .await
        .expect("url")
        .as_str()
        .contains("platform=linux%2Farm64%2Fv8"));
    browser.screenshot("page-multi-platform").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tampered_blob_saves_nothing_and_shows_both_digests() {
    let _serial = serial().await;
    let stack = Stack::start(Mode::Anonymous).await;
    let image = stack
        .registry
        .push_image("tamper/app", "1", 1)
        .await
        .expect("seed");
    let layer = &image.layers[0];
    stack.registry.tamper_blob(&layer.digest).expect("tamper");
    let browser = Browser::start().await;
    browser.open(&stack.relay.url("/")).await;
    browser.look_up(&stack.reference("tamper/app:1")).await;
    browser
        .click(&format!("button[data-digest='{}']", layer.digest))
        .await;
    let failed = browser
        .wait("[data-state='failed']")
        .await
        .text()
        .await
        .expect("text");
    assert!(
        failed.contains(&layer.digest.to_string()),
        "expected digest shown: {failed}"
    );
    assert!(
        browser.has("[data-actual]").await,
        "actual digest shown: {failed}"
    );
    assert!(failed.contains("Nothing was saved"), "{failed}");
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(
        browser.download_names(),
        Vec::<String>::new(),
        "nothing in the download folder"
    );
    browser.screenshot("page-tampered").await;
}

async fn private_registry_with_credentials(mode: Mode, name: &str) {
    let _serial = serial().await;
    let stack = Stack::start(mode).await;
    let image = stack
        .registry
        .push_image("private/app", "1", 1)
        .await
        .expect("seed");
    let admin = stack.registry.admin().clone();
    let browser = Browser::start().await;
    browser.open(&stack.relay.url("/")).await;
    browser.look_up(&stack.reference("private/app:1")).await;
    let problem = browser
        .wait("[data-problem]")
        .await
        .text()
        .await
        .expect("text");
    assert!(problem.contains("Needs credentials"), "{problem}");
    browser.click("[data-problem] button.primary").await;
    browser
        .wait("#cred-user")
        .await
        .send_keys(&admin.username)
        .await
        .expect("type");
    browser
        .wait("#cred-secret")
        .await
        .send_keys(admin.password.expose())
        .await
        .expect("type");
    browser
        .click("[data-view='credentials'] button[type='submit']")
        .await;
    let layer = &image.layers[0];
    browser
        .click(&format!("button[data-digest='{}']", layer.digest))
        .await;
    let path = browser
        .downloaded(&format!("{}.tar.gz", layer.digest.hex()), DOWNLOAD_WAIT)
        .await;
    assert_eq!(sha256_file(&path), layer.digest.hex());
    browser.screenshot(name).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn basic_registry_works_with_credentials() {
    private_registry_with_credentials(Mode::Basic, "page-basic").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_registry_works_with_credentials() {
    private_registry_with_credentials(Mode::Token, "page-token").await;
}
