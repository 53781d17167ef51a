//! End-to-end journeys (issue 6) where the registry guards or moves its blobs: private
//! registries with basic and token auth (4), and a registry that redirects blobs to a CDN (6).

#![cfg(not(target_arch = "wasm32"))]

mod common;

use std::time::Duration;

use common::{serial, sha256_file, Browser, Stack};
use wharf_testkit::{Mode, Registry};

const DOWNLOAD_WAIT: Duration = Duration::from_secs(60);

/// Journey 4: without credentials the page says they are needed; with them the image opens and
/// a layer downloads verified; a wrong password is refused in plain words; after a reload the
/// credentials are gone (and were never written to storage).
async fn private_registry(mode: Mode, screenshot: &str) {
    let _serial = serial().await;
    let stack = Stack::start(mode).await;
    let image = stack
        .registry
        .push_image("private/app", "1", 2)
        .await
        .expect("seed");
    let alice = stack
        .registry
        .credentials("alice")
        .expect("default user alice");
    let host = stack.registry.host_port();
    let browser = Browser::start().await;
    browser.open(&stack.relay.url("/")).await;

    // 1. No credentials.
    browser.look_up(&stack.reference("private/app:1")).await;
    let problem = browser
        .wait_text("[data-problem]", "Needs credentials")
        .await;
    assert!(problem.contains(&host), "names the registry: {problem}");
    assert!(
        !browser.has("[data-resolved-digest]").await,
        "nothing resolved without credentials"
    );

    // 2. The remedy opens the form for this host; the right password opens the image.
    browser.press("Enter credentials").await;
    let prefilled = browser
        .wait("#cred-host")
        .await
        .prop("value")
        .await
        .expect("value");
    assert_eq!(
        prefilled.as_deref(),
        Some(host.as_str()),
        "the form is for the registry that asked"
    );
    browser
        .enter_credentials(&alice.username, alice.password.expose())
        .await;
    let resolved = browser
        .attr("[data-resolved-digest]", "data-resolved-digest")
        .await;
    assert_eq!(
        resolved.as_deref(),
        Some(image.manifest.digest.to_string().as_str())
    );
    assert!(
        !browser.has("[data-problem]").await,
        "the notice is gone once it worked"
    );
    let layer = &image.layers[1];
    browser
        .click(&format!("button[data-digest='{}']", layer.digest))
        .await;
    let path = browser
        .downloaded_alone(&format!("{}.tar.gz", layer.digest.hex()), DOWNLOAD_WAIT)
        .await;
    assert_eq!(sha256_file(&path), layer.digest.hex());
    let stored = browser
        .script("return JSON.stringify(localStorage) + JSON.stringify(sessionStorage) + document.cookie;")
        .await;
    let stored = stored.as_str().unwrap_or_default().to_owned();
    assert!(
        !stored.contains(alice.password.expose()),
        "the password is in no storage: {stored}"
    );

    // 3. A wrong password: a clear refusal, not "needs credentials", not a stale success.
    browser.press("Credentials").await;
    browser
        .enter_credentials(&alice.username, "not-the-password")
        .await;
    let refused = browser
        .wait_text("[data-problem]", "Credentials refused")
        .await;
    assert!(refused.contains(&host), "names the registry: {refused}");
    assert!(
        !browser.has("[data-resolved-digest]").await,
        "no view from the old credentials"
    );

    // 4. Reload: the tab forgot the credentials; the link opens the same reference and asks again.
    browser.client.refresh().await.expect("reload");
    browser.wait("#reference").await;
    let again = browser
        .wait_text("[data-problem]", "Needs credentials")
        .await;
    assert!(!again.contains("refused"), "{again}");
    let field = browser
        .wait("#reference")
        .await
        .prop("value")
        .await
        .expect("value")
        .unwrap_or_default();
    assert_eq!(
        field,
        stack.reference("private/app:1"),
        "the reference survives the reload"
    );
    browser.press("Credentials").await;
    let known = browser.text("[data-view='credentials'] ul").await;
    assert!(
        !known.contains(&host),
        "no host keeps credentials after a reload: {known}"
    );
    assert_eq!(
        browser.download_names().len(),
        1,
        "still only the one verified file"
    );
    browser.screenshot(screenshot).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn journey_04_private_registry_basic() {
    private_registry(Mode::Basic, "journey-04-basic").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn journey_04_private_registry_token() {
    private_registry(Mode::Token, "journey-04-token").await;
}

/// Journey 6: blobs of a redirecting registry come through the CDN hop (which refuses any
/// `Authorization`, as S3 does) and verify.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn journey_06_redirecting_registry() {
    let _serial = serial().await;
    let stack = Stack::start(Mode::Redirect).await;
    redirect_journey(&stack, "cdn/app", "journey-06-redirect").await;
}

/// Journey 6 with a token registry (anonymous pulls of `public/*`): every registry request
/// carries a Bearer token, and the CDN hop still gets none.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn journey_06_redirecting_token_registry() {
    let _serial = serial().await;
    let registry = Registry::builder(Mode::Token)
        .redirect(true)
        .start()
        .await
        .expect("registry");
    let stack = Stack::around(registry).await;
    redirect_journey(&stack, "public/app", "journey-06-redirect-token").await;
}

async fn redirect_journey(stack: &Stack, repo: &str, screenshot: &str) {
    let image = stack.registry.push_image(repo, "1", 2).await.expect("seed");
    let cdn = stack
        .registry
        .cdn()
        .expect("a redirecting registry has a CDN");
    cdn.clear_requests();
    let browser = Browser::start().await;
    browser.open(&stack.relay.url("/")).await;
    browser
        .look_up(&stack.reference(&format!("{repo}:1")))
        .await;
    let config = browser
        .wait("[data-config]")
        .await
        .text()
        .await
        .expect("text");
    assert!(
        config.contains("linux/amd64"),
        "the config (a blob) came through the CDN: {config}"
    );

    for layer in &image.layers {
        browser
            .click(&format!("button[data-digest='{}']", layer.digest))
            .await;
        let path = browser
            .downloaded(&format!("{}.tar.gz", layer.digest.hex()), DOWNLOAD_WAIT)
            .await;
        assert_eq!(sha256_file(&path), layer.digest.hex());
        browser
            .wait(&format!("[data-verified='{}']", layer.digest))
            .await;
    }
    assert_eq!(
        browser.download_names().len(),
        image.layers.len(),
        "one file per layer"
    );

    let seen = cdn.requests();
    for blob in image.layers.iter().chain([&image.config]) {
        let path = wharf_testkit::cdn::blob_path(&blob.digest);
        let hits: Vec<_> = seen
            .iter()
            .filter(|r| r.path.trim_start_matches('/') == path)
            .collect();
        assert!(
            hits.iter().any(|r| (200..300).contains(&r.status)),
            "the CDN served {}: {seen:#?}",
            blob.digest
        );
    }
    let with_auth: Vec<_> = seen
        .iter()
        .filter(|r| r.authorization || r.cookie)
        .collect();
    assert!(
        with_auth.is_empty(),
        "credentials reached the CDN: {with_auth:#?}"
    );
    assert!(
        seen.iter().all(|r| r.status != 400),
        "the CDN refused nothing: {seen:#?}"
    );
    browser.screenshot(screenshot).await;
}
