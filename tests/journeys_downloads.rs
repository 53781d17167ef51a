//! Journeys of the downloads list (issue 13): while a download runs it shows its speed and the
//! time left, **Cancel** leaves no file; a saved file's **Copy sha256sum line** puts the line on
//! the clipboard and **Expected digest** says whether a digest from elsewhere matches. Headless
//! Chromium, the page served by `wharf-relay`, the test kit's real registry behind its front.

#![cfg(not(target_arch = "wasm32"))]

mod common;

use std::time::Duration;

use common::{serial, sha256_file, Browser, Stack};
use wharf_oci::Digest;
use wharf_testkit::{Flavor, Mode, Pattern, SeedPlatform, SeededImage};

const DOWNLOAD_WAIT: Duration = Duration::from_secs(60);

/// Journey 13a: a 4 MiB layer that arrives at 512 KiB/s shows how far it is, its speed and the
/// time left; **Cancel** stops it: the row says nothing was saved, nothing lands in the
/// download folder and nothing stays staged.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn journey_13_speed_time_left_and_cancel() {
    let _serial = serial().await;
    let stack = Stack::with_front(Mode::Anonymous).await;
    let image = four_mib_layer(&stack, "slow/app", 41).await;
    let layer = &image.layers[0];
    let browser = Browser::start().await;
    browser.open(&stack.relay.url("/")).await;
    browser.look_up(&stack.reference("slow/app:1")).await;
    stack.front().throttle_blobs(512 << 10);
    browser
        .click(&format!("button[data-digest='{}']", layer.digest))
        .await;

    let running = format!("[data-download='{}'] [data-state='running']", layer.digest);
    let shown = browser.wait_text(&running, " left").await;
    assert!(shown.contains("/s"), "the speed is shown: {shown}");
    assert!(shown.contains(" of 4.0 MiB"), "how far it is: {shown}");
    browser.click(&format!("{running} button")).await;
    let cancelled = format!(
        "[data-download='{}'] [data-state='cancelled']",
        layer.digest
    );
    let said = browser.wait(&cancelled).await.text().await.expect("text");
    assert!(said.contains("nothing was saved"), "{said}");
    browser.assert_no_downloads(Duration::from_secs(2)).await;
    browser.wait_unstaged(layer.digest.hex()).await;
    browser.screenshot("journey-13-cancel").await;
}

/// Journey 13b: a saved layer's **Copy sha256sum line** puts `<hex>  <file>` on the clipboard
/// (what `sha256sum -c` reads), and **Expected digest** says "matches" for its digest, "DIFFERS"
/// for another one and names what is wrong with text that is no digest.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn journey_13_copy_sha256sum_line_and_expected_digest() {
    let _serial = serial().await;
    let stack = Stack::start(Mode::Anonymous).await;
    let image = stack
        .registry
        .push_image("tools/app", "1", 1)
        .await
        .expect("seed");
    let layer = &image.layers[0];
    let browser = Browser::start().await;
    browser.open(&stack.relay.url("/")).await;
    browser.look_up(&stack.reference("tools/app:1")).await;
    browser
        .click(&format!("button[data-digest='{}']", layer.digest))
        .await;
    let name = format!("{}.tar.gz", layer.digest.hex());
    let path = browser.downloaded_alone(&name, DOWNLOAD_WAIT).await;
    assert_eq!(sha256_file(&path), layer.digest.hex());

    let saved = format!("[data-download='{}'] [data-state='saved']", layer.digest);
    browser.wait(&saved).await;
    browser.grant_clipboard_read().await;
    browser.click(&format!("{saved} button")).await;
    let copied = clipboard(&browser).await;
    assert_eq!(copied, format!("{}  {name}", layer.digest.hex()));

    let field = browser.wait(&format!("{saved} input")).await;
    let check = format!("{saved} [data-expected-check]");
    let other = Digest::sha256_of(b"something else");
    let cases = [
        (layer.digest.to_string(), "match", "matches"),
        (other.to_string(), "differs", "DIFFERS"),
        ("sha256:12".to_owned(), "invalid", ""),
    ];
    for (typed, state, says) in cases {
        field.clear().await.expect("clear");
        field.send_keys(&typed).await.expect("type");
        let shown = browser
            .wait(&format!("{check}[data-expected-check='{state}']"))
            .await;
        let text = shown.text().await.expect("text");
        assert!(text.contains(says) && !text.is_empty(), "{typed}: {text}");
    }
    browser.screenshot("journey-13-sha256sum").await;
}

/// `repo:1`, one layer of 4 MiB that does not compress (a download a throttle makes slow).
async fn four_mib_layer(stack: &Stack, repo: &str, seed: u64) -> SeededImage {
    let platform = SeedPlatform::new("linux", "amd64", None);
    let files = vec![vec![(
        "data/big.bin".to_owned(),
        Pattern::new(seed).bytes(0, 4 << 20),
    )]];
    stack
        .registry
        .push_image_layers(repo, Some("1"), Flavor::Oci, &platform, &files)
        .await
        .expect("seed")
}

/// What the page put on the clipboard (read back with `navigator.clipboard.readText`; in
/// WebKit, which allows that only to a user gesture, pasted with Ctrl+V into a field the test
/// adds).
async fn clipboard(browser: &Browser) -> String {
    if browser.kind == common::firefox::Kind::WebKit {
        return paste(browser).await;
    }
    const READ: &str = "const done = arguments[0];
        navigator.clipboard.readText().then(done, e => done('reading the clipboard failed: ' + e));";
    let text = browser
        .client
        .execute_async(READ, Vec::new())
        .await
        .expect("read the clipboard");
    text.as_str().unwrap_or_default().to_owned()
}

async fn paste(browser: &Browser) -> String {
    browser
        .script(
            "const t = document.createElement('textarea'); t.id = 'paste-here'; \
             document.body.appendChild(t); return 0;",
        )
        .await;
    let field = browser.wait("#paste-here").await;
    let ctrl_v = format!(
        "{}v{}",
        char::from(fantoccini::key::Key::Control),
        char::from(fantoccini::key::Key::Null)
    );
    field.send_keys(&ctrl_v).await.expect("paste");
    let text = browser
        .script("const t = document.getElementById('paste-here'); const v = t.value; t.remove(); return v;")
        .await;
    text.as_str().unwrap_or_default().to_owned()
}

/// Journey 13c: a download running when the tab closes is listed when the page opens again
/// (with how much is staged); **Resume** fetches the rest with `Range` and saves the verified
/// file; it is not offered again afterwards.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn journey_13_resume_after_the_tab_closed() {
    let _serial = serial().await;
    let stack = Stack::with_front(Mode::Anonymous).await;
    let image = four_mib_layer(&stack, "closed/app", 43).await;
    let layer = &image.layers[0];
    let browser = Browser::start().await;
    browser.open(&stack.relay.url("/")).await;
    browser.look_up(&stack.reference("closed/app:1")).await;
    stack.front().throttle_blobs(1 << 20);
    browser
        .click(&format!("button[data-digest='{}']", layer.digest))
        .await;
    let running = format!("[data-download='{}'] [data-state='running']", layer.digest);
    browser.wait_text(&running, " left").await;
    tokio::time::sleep(Duration::from_millis(1500)).await;

    // The tab goes away (its worker with it), then the page is opened again.
    browser.leave().await;
    browser.open(&stack.relay.url("/")).await;
    let offered = format!("[data-unfinished='{}']", layer.digest);
    if !browser.stages_on_disk() {
        browser.assert_nothing_to_resume(&offered).await;
        return;
    }
    let listed = browser.wait_text(&offered, "staged").await;
    let name = format!("{}.tar.gz", layer.digest.hex());
    assert!(listed.contains(&name), "{listed}");
    browser.assert_no_downloads(Duration::ZERO).await;
    browser
        .click(&format!("{offered} button[aria-label^='Resume']"))
        .await;
    let path = browser.downloaded_alone(&name, DOWNLOAD_WAIT).await;
    assert_eq!(sha256_file(&path), layer.digest.hex());
    let resumed: Vec<String> = stack
        .front()
        .requests()
        .iter()
        .filter(|r| r.path.contains("/blobs/"))
        .flat_map(|r| r.header_values("range"))
        .map(str::to_owned)
        .collect();
    assert!(
        resumed
            .iter()
            .any(|r| r.starts_with("bytes=") && r != "bytes=0-"),
        "the rest was asked for with Range: {resumed:?}"
    );
    browser.wait_gone(&offered).await;
    browser.open(&stack.relay.url("/")).await;
    browser.wait("#reference").await;
    tokio::time::sleep(Duration::from_millis(1000)).await;
    assert!(!browser.has("[data-unfinished]").await, "not offered again");
    browser.screenshot("journey-13-resume").await;
}
