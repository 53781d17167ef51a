//! End-to-end journeys (issue 6) about what the user types and links: bad input, an unknown
//! registry host and a relay that is down (10); deep links and back/forward (11).

#![cfg(not(target_arch = "wasm32"))]

mod common;

use std::time::Duration;

use common::{serial, sha256_file, Browser, Stack};
use wharf_testkit::{Flavor, Mode};

/// Looks up a reference that exists and checks that the page shows it: the page is usable.
async fn still_usable(browser: &Browser, stack: &Stack, digest: &wharf_oci::Digest) {
    browser.look_up(&stack.reference("ok/app:1")).await;
    let shown = browser
        .attr("[data-resolved-digest]", "data-resolved-digest")
        .await;
    assert_eq!(
        shown.as_deref(),
        Some(digest.to_string().as_str()),
        "a good reference works again"
    );
    assert!(!browser.has("[data-problem]").await, "no notice left over");
    assert!(
        !browser.has("[data-input-error]").await,
        "no input error left over"
    );
}

/// Journey 10: malformed references (error under the field), an unknown registry host (the
/// relay's refusal) and a relay that is down (unreachable, pointing at the Relay setting): each
/// says what is wrong, and the page stays usable after each.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn journey_10_bad_input() {
    let _serial = serial().await;
    let mut stack = Stack::start(Mode::Anonymous).await;
    let image = stack
        .registry
        .push_image("ok/app", "1", 1)
        .await
        .expect("seed");
    let digest = &image.manifest.digest;
    let browser = Browser::start().await;
    browser.open(&stack.relay.url("/")).await;

    // Malformed references: an input error under the field, no request, no notice.
    for bad in [
        "Upper/Case:1",
        "app:bad:tag",
        "app@sha256:1234",
        "app:-tag",
        "a//b",
    ] {
        browser.look_up(bad).await;
        let error = browser
            .wait("[data-input-error]")
            .await
            .text()
            .await
            .expect("text");
        assert!(!error.trim().is_empty(), "{bad:?} gets an explanation");
        let invalid = browser
            .wait("#reference")
            .await
            .attr("aria-invalid")
            .await
            .expect("attr");
        assert_eq!(
            invalid.as_deref(),
            Some("true"),
            "{bad:?} marks the field invalid"
        );
        assert!(
            !browser.has("[data-view='loading']").await,
            "{bad:?} starts no lookup"
        );
        assert!(
            !browser.has("[data-problem]").await,
            "{bad:?} is an input error, not a failure"
        );
    }
    still_usable(&browser, &stack, digest).await;

    // A registry host the relay does not allow: the relay's refusal, in the page's words.
    browser.look_up("registry.unknown.example/team/app:1").await;
    let refused = browser.wait_text("[data-problem]", "relay refused").await;
    assert!(
        refused.contains("registry.unknown.example"),
        "names the host: {refused}"
    );
    assert!(
        refused.contains("not allowed"),
        "gives the relay's reason: {refused}"
    );
    still_usable(&browser, &stack, digest).await;

    // The relay goes down: unreachable, and the remedy is the Relay setting.
    stack.relay.stop();
    browser.look_up(&stack.reference("ok/app:1")).await;
    let down = browser
        .wait_text("[data-problem]", "Relay unreachable")
        .await;
    assert!(
        down.contains("Relay setting"),
        "points at the Relay setting: {down}"
    );
    browser.press("Relay settings").await;
    let settings = browser.wait("[data-view='settings'] #relay").await;
    let template = settings
        .prop("value")
        .await
        .expect("value")
        .unwrap_or_default();
    assert!(
        template.contains("{url}"),
        "the setting shows the relay template: {template}"
    );
    stack.relay.restart();
    still_usable(&browser, &stack, digest).await;
    browser.assert_no_downloads(Duration::ZERO).await;
    browser.screenshot("journey-10-bad-input").await;
}

/// Journey 10b: the Relay setting `/relay?url={url_encoded}` (the form CORS proxies take, which
/// wharf-relay takes too): lookups go out percent-encoded, and a layer downloads verified.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn journey_10_url_encoded_relay_template() {
    let _serial = serial().await;
    let stack = Stack::start(Mode::Anonymous).await;
    let image = stack
        .registry
        .push_image("encoded/app", "1", 1)
        .await
        .expect("seed");
    let browser = Browser::start().await;
    browser.open(&stack.relay.url("/")).await;
    let template = "/relay?url={url_encoded}";
    browser.set_relay_setting(template).await;
    let stored = browser
        .script("return localStorage.getItem('wharf.relay');")
        .await;
    assert_eq!(stored.as_str(), Some(template), "the setting is kept");

    browser.look_up(&stack.reference("encoded/app:1")).await;
    let shown = browser
        .attr("[data-resolved-digest]", "data-resolved-digest")
        .await;
    assert_eq!(shown, Some(image.manifest.digest.to_string()));
    let fetched = browser
        .script("return performance.getEntriesByType('resource').map(e => e.name);")
        .await;
    let encoded = format!(
        "/relay?url=http%3A%2F%2F{}",
        stack.registry.host_port().replace(':', "%3A")
    );
    assert!(
        fetched.as_array().is_some_and(|names| names
            .iter()
            .any(|n| n.as_str().is_some_and(|n| n.contains(&encoded)))),
        "the page asked {encoded}…: {fetched}"
    );
    let layer = &image.layers[0];
    browser
        .click(&format!("button[data-digest='{}']", layer.digest))
        .await;
    let path = browser
        .downloaded_alone(
            &format!("{}.tar.gz", layer.digest.hex()),
            Duration::from_secs(60),
        )
        .await;
    assert_eq!(sha256_file(&path), layer.digest.hex());
}

/// Journey 10c: the Relay setting `direct`, for a registry that sends CORS headers (the test
/// kit's front adds them to the real registry's answers): the page and its worker ask the
/// registry themselves, with no relay between, and a layer downloads verified.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn journey_10_direct_to_a_registry_that_sends_cors() {
    let _serial = serial().await;
    let stack = Stack::with_front(Mode::Anonymous).await;
    stack.front().send_cors();
    let image = stack
        .registry
        .push_image("direct/app", "1", 1)
        .await
        .expect("seed");
    let browser = Browser::start().await;
    let page = stack.relay.url("/");
    browser.open(&page).await;
    browser.set_relay_setting("direct").await;
    browser.look_up(&stack.reference("direct/app:1")).await;
    let shown = browser
        .attr("[data-resolved-digest]", "data-resolved-digest")
        .await;
    assert_eq!(shown, Some(image.manifest.digest.to_string()));
    let layer = &image.layers[0];
    browser
        .click(&format!("button[data-digest='{}']", layer.digest))
        .await;
    let path = browser
        .downloaded_alone(
            &format!("{}.tar.gz", layer.digest.hex()),
            Duration::from_secs(60),
        )
        .await;
    assert_eq!(sha256_file(&path), layer.digest.hex());
    // Both the manifest and the blob came straight from the page's origin (a relay sends none).
    let page_origin = page.trim_end_matches('/').to_owned();
    let seen = stack.front().requests();
    for part in ["/manifests/", "/blobs/"] {
        assert!(
            seen.iter().any(|r| r.path.contains(part)
                && r.header_values("origin").contains(&page_origin.as_str())),
            "the browser asked {part} itself: {seen:?}"
        );
    }
}

/// Journey 11: a link `/?ref=…` opens the same view as a look-up; `&platform=` opens that
/// platform; `&bottle=` shows the bottles with that one highlighted; back and forward restore views; no download ever
/// starts by itself.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn journey_11_deep_links_and_history() {
    let _serial = serial().await;
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
    let arm = index.image_for("linux/arm64/v8").expect("arm64 seeded");
    let reference = stack.reference("multi/app:1");
    let browser = Browser::start().await;

    // A look-up through the form, as a person does it, and the address it leaves.
    browser.open(&stack.relay.url("/")).await;
    browser.look_up(&reference).await;
    browser
        .wait("tr[data-platform='linux/arm64/v8'] button")
        .await;
    let typed_url = browser.url().await;
    let typed_view = browser.text("[data-view='resolved']").await;
    assert!(
        typed_url.contains("ref="),
        "the reference is in the address bar: {typed_url}"
    );

    // The same address in a fresh load shows the same view.
    browser.open(&typed_url).await;
    browser
        .wait("tr[data-platform='linux/arm64/v8'] button")
        .await;
    assert_eq!(
        browser.text("[data-view='resolved']").await,
        typed_view,
        "same view from the link"
    );
    let field = browser
        .wait("#reference")
        .await
        .prop("value")
        .await
        .expect("value");
    assert_eq!(
        field.as_deref(),
        Some(reference.as_str()),
        "the field holds the linked reference"
    );

    // A link with a platform opens that platform's image.
    let encoded = |s: &str| s.replace('/', "%2F").replace(':', "%3A");
    let platform_link = stack.relay.url(&format!(
        "/?ref={}&platform=linux/arm64/v8",
        encoded(&reference)
    ));
    browser.open(&platform_link).await;
    let chosen = browser
        .attr("[data-chosen-platform]", "data-chosen-platform")
        .await;
    assert_eq!(chosen.as_deref(), Some("linux/arm64/v8"));
    browser
        .wait(&format!("tr[data-blob='{}']", arm.layers[0].digest))
        .await;

    // A link to a bottle shows the bottles and downloads nothing.
    let bottle_ref = stack.reference(&format!("homebrew/core/vim:{}", bottles.version));
    browser
        .open(
            &stack
                .relay
                .url(&format!("/?ref={}&bottle=big_sur", encoded(&bottle_ref))),
        )
        .await;
    browser
        .wait("tr[data-bottle-tag='big_sur'][data-linked][aria-current='true']")
        .await;
    assert_eq!(
        browser.count("tr[data-linked]").await,
        1,
        "only the linked bottle's row is highlighted"
    );
    assert!(
        browser.count("tr[data-bottle-tag]").await > 1,
        "the other bottles are listed too"
    );

    // History: start -> platforms -> chosen platform; back and forward restore each view.
    browser.open(&stack.relay.url("/")).await;
    browser.look_up(&reference).await;
    browser
        .click("tr[data-platform='linux/arm64/v8'] button")
        .await;
    browser
        .wait("[data-chosen-platform='linux/arm64/v8']")
        .await;
    browser.client.back().await.expect("back");
    browser
        .wait("tr[data-platform='linux/arm64/v8'] button")
        .await;
    browser.wait_gone("[data-chosen-platform]").await;
    assert!(
        !browser.url().await.contains("platform="),
        "back drops the platform from the address"
    );
    browser.client.forward().await.expect("forward");
    browser
        .wait("[data-chosen-platform='linux/arm64/v8']")
        .await;
    browser
        .wait(&format!("tr[data-blob='{}']", arm.layers[0].digest))
        .await;
    browser.client.back().await.expect("back");
    browser.client.back().await.expect("back to the start");
    browser.wait_gone("[data-view='resolved']").await;
    let field = browser
        .wait("#reference")
        .await
        .prop("value")
        .await
        .expect("value");
    assert_eq!(
        field.as_deref(),
        Some(""),
        "the start view has an empty field"
    );

    assert!(
        !browser.has("[data-view='downloads']").await,
        "no download was started"
    );
    browser.assert_no_downloads(Duration::from_secs(2)).await;
    browser.screenshot("journey-11-deep-links").await;
}
