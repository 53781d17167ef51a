//! Journey 14 (issue 13): every view passes an automated accessibility audit (axe-core 4, from
//! npm, injected into the page), with 0 violations; each **Download** button is named by what
//! it saves; download progress is announced in a live region; the views work from the keyboard.

#![cfg(not(target_arch = "wasm32"))]

mod common;

use std::path::PathBuf;
use std::time::Duration;

use common::{serial, Browser, Stack};
use serde_json::Value;
use wharf_testkit::{Flavor, Mode};

const DOWNLOAD_WAIT: Duration = Duration::from_secs(60);

/// `cargo xtask test` installs axe-core into `.tools/npm`.
fn axe_source() -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join(".tools/npm/node_modules/axe-core/axe.min.js");
    std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{} (cargo xtask test installs it): {e}", path.display()))
}

/// The audit's violations in the page as it is now: `id (impact): help [targets]`.
async fn violations(browser: &Browser, axe: &str) -> Vec<String> {
    browser
        .client
        .execute(&format!("{axe}\n;return true;"), Vec::new())
        .await
        .expect("inject axe-core");
    const RUN: &str = "const done = arguments[0];
        axe.run(document, { resultTypes: ['violations'] }).then(
            r => done(r.violations.map(v => v.id + ' (' + v.impact + '): ' + v.help + ' ' +
                JSON.stringify(v.nodes.map(n => n.target.join(' '))))),
            e => done(['axe failed: ' + e]));";
    let found: Value = browser
        .client
        .execute_async(RUN, Vec::new())
        .await
        .expect("run axe-core");
    serde_json::from_value(found).expect("a list")
}

async fn audit(browser: &Browser, axe: &str, view: &str) {
    let found = violations(browser, axe).await;
    assert!(found.is_empty(), "{view}: {found:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn journey_14_accessibility_audit() {
    let _serial = serial().await;
    let axe = axe_source();
    let stack = Stack::start(Mode::Anonymous).await;
    let index = stack
        .registry
        .push_multi_platform("multi/app", "1", Flavor::Oci)
        .await
        .expect("seed");
    let bottles = stack
        .registry
        .push_default_bottles("homebrew/core/vim")
        .await
        .expect("seed");
    stack
        .registry
        .push_tags("many/tags", 12)
        .await
        .expect("seed");
    let browser = Browser::start().await;
    browser.open(&stack.relay.url("/")).await;
    browser.wait("#reference").await;
    audit(&browser, &axe, "start").await;

    browser.look_up(&stack.reference("multi/app:1")).await;
    browser
        .wait("tr[data-platform='linux/arm64/v8'] button")
        .await;
    audit(&browser, &axe, "platforms").await;

    browser
        .click("tr[data-platform='linux/arm64/v8'] button")
        .await;
    let arm = index.image_for("linux/arm64/v8").expect("seeded");
    let layer = &arm.layers[0];
    let button = browser
        .wait(&format!("button[data-digest='{}']", layer.digest))
        .await;
    let name = button
        .attr("aria-label")
        .await
        .expect("attr")
        .unwrap_or_default();
    assert!(
        name.starts_with("Download layer") && name.contains(&layer.digest.hex()[..12]),
        "the button says what it saves: {name:?}"
    );
    audit(&browser, &axe, "image").await;

    button.click().await.expect("click Download");
    browser
        .downloaded(&format!("{}.tar.gz", layer.digest.hex()), DOWNLOAD_WAIT)
        .await;
    browser
        .wait(&format!("[data-verified='{}']", layer.digest))
        .await;
    // What a screen reader gets: the text content (WebDriver's element text of a visually
    // hidden element is empty in WebKit).
    let announced = browser
        .script("return document.querySelector('[data-live]').textContent")
        .await;
    let announced = announced.as_str().unwrap_or_default().to_owned();
    assert!(
        announced.contains("verified"),
        "the live region says it is saved: {announced:?}"
    );
    audit(&browser, &axe, "image with a saved download").await;

    browser
        .look_up(&stack.reference(&format!("homebrew/core/vim:{}", bottles.version)))
        .await;
    browser.wait("tr[data-bottle-tag='big_sur'] button").await;
    audit(&browser, &axe, "bottles").await;

    browser.open(&stack.relay.url("/")).await;
    let field = browser.wait("#reference").await;
    field
        .send_keys(&stack.reference("many/tags"))
        .await
        .expect("type");
    browser.press("Tags").await;
    browser.wait("[data-tag-count='13']").await;
    audit(&browser, &axe, "tags").await;

    browser.look_up(&stack.reference("multi/app:nope")).await;
    browser.wait("[data-problem]").await;
    audit(&browser, &axe, "problem notice").await;
    browser.screenshot("journey-14-accessibility").await;
}

/// Presses Tab (at most 40 times) until the focused element matches `css`; returns it.
async fn tab_to(browser: &Browser, css: &str) -> fantoccini::elements::Element {
    let tab = fantoccini::key::Key::Tab.to_string();
    let check = format!("return document.activeElement.matches({css:?});");
    for _ in 0..40 {
        if browser.script(&check).await == Value::Bool(true) {
            return browser.client.active_element().await.expect("focused");
        }
        let focused = browser.client.active_element().await.expect("focused");
        focused.send_keys(&tab).await.expect("Tab");
    }
    panic!("Tab never reached {css}");
}

/// Journey 14b: from the keyboard alone: Tab to the reference field, type and press Enter, Tab
/// to a platform's **Choose** and press Enter, Tab to a layer's **Download** and press Enter:
/// the verified file lands.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn journey_14_keyboard_only() {
    let _serial = serial().await;
    let stack = Stack::start(Mode::Anonymous).await;
    let index = stack
        .registry
        .push_multi_platform("multi/app", "1", Flavor::Oci)
        .await
        .expect("seed");
    let arm = index.image_for("linux/arm64/v8").expect("seeded");
    let layer = &arm.layers[0];
    let browser = Browser::start().await;
    browser.open(&stack.relay.url("/")).await;
    browser.wait("#reference").await;
    let enter = fantoccini::key::Key::Enter.to_string();

    let field = tab_to(&browser, "#reference").await;
    field
        .send_keys(&format!("{}{enter}", stack.reference("multi/app:1")))
        .await
        .expect("type and Enter");
    browser
        .wait("tr[data-platform='linux/arm64/v8'] button")
        .await;
    let choose = tab_to(&browser, "tr[data-platform='linux/arm64/v8'] button").await;
    choose.send_keys(&enter).await.expect("Enter");
    browser
        .wait("[data-chosen-platform='linux/arm64/v8']")
        .await;
    let download = tab_to(&browser, &format!("button[data-digest='{}']", layer.digest)).await;
    download.send_keys(&enter).await.expect("Enter");
    let path = browser
        .downloaded(&format!("{}.tar.gz", layer.digest.hex()), DOWNLOAD_WAIT)
        .await;
    assert_eq!(common::sha256_file(&path), layer.digest.hex());
}
