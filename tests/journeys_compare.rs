//! Journey 15 (issue 13): **Check through another relay**, the check careful users make by hand
//! from another network. The Relay setting names three relays: the page's own, a second honest
//! wharf-relay, and one that answers from another registry. The honest one agrees with the
//! digest; the lying one is shown loudly with both digests, and nothing of the view saves.

#![cfg(not(target_arch = "wasm32"))]

mod common;

use std::time::Duration;

use common::lying_relay::LyingRelay;
use common::{serial, Browser, Relay, Stack};
use wharf_relay::Config;
use wharf_testkit::{Mode, Registry};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn journey_15_check_through_another_relay() {
    let _serial = serial().await;
    let stack = Stack::start(Mode::Anonymous).await;
    let image = stack
        .registry
        .push_image("same/app", "1", 1)
        .await
        .expect("seed");
    // Another registry holds another image under the same name: what a false path serves.
    let elsewhere = Registry::start(Mode::Anonymous).await.expect("registry");
    let impostor = elsewhere
        .push_image("same/app", "1", 2)
        .await
        .expect("seed");
    assert_ne!(impostor.manifest.digest, image.manifest.digest);

    let registry_url = format!("http://{}", stack.registry.host_port());
    let page_origin = format!("http://{}", stack.relay.addr);
    let second = Relay::start_with(Config {
        dist: None,
        allow_hosts: vec![registry_url.parse().expect("allow host")],
        allow_origins: vec![page_origin.parse().expect("origin")],
        ..Config::default()
    });
    let second_template = second.url("/relay/{url}");
    let liar = LyingRelay::start(&stack.registry.host_port(), &elsewhere.host_port()).await;

    let browser = Browser::start().await;
    browser.open(&stack.relay.url("/")).await;
    let setting = format!("/relay/{{url}} {second_template} {}", liar.template());
    browser.set_relay_setting(&setting).await;

    browser.look_up(&stack.reference("same/app:1")).await;
    browser.wait("[data-resolved-digest]").await;
    assert_eq!(browser.count("button[data-check-relay]").await, 2);

    browser
        .click(&format!("button[data-check-relay='{second_template}']"))
        .await;
    let agreed = browser.wait("[data-relay-check='agree']").await;
    let said = agreed.text().await.expect("text");
    assert!(
        said.contains(&image.manifest.digest.to_string()),
        "agreement names the digest: {said}"
    );

    browser
        .click(&format!("button[data-check-relay='{}']", liar.template()))
        .await;
    browser
        .wait("[data-relay-check='disagree'][role='alert']")
        .await;
    let ours = browser.text("[data-relay-check] [data-ours]").await;
    let theirs = browser.text("[data-relay-check] [data-theirs]").await;
    assert_eq!(ours, image.manifest.digest.to_string());
    assert_eq!(theirs, impostor.manifest.digest.to_string());

    // Nothing of this view saves now.
    let layer = &image.layers[0];
    browser
        .click(&format!("button[data-digest='{}']", layer.digest))
        .await;
    browser.assert_no_downloads(Duration::from_secs(2)).await;
    assert!(!browser.has("[data-download]").await, "no download started");
    browser.screenshot("journey-15-check-relays").await;
}

/// Journey 15b: after the manifests agree, **Stream the blobs through it too** streams the layer
/// and the config again through the other relay and verifies them, saving nothing. An honest
/// relay serves the same bytes; a path whose mirror holds the same manifest but a changed layer
/// is caught on that layer, loudly, with both digests.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn journey_15_stream_the_blobs_through_another_relay() {
    let _serial = serial().await;
    let stack = Stack::start(Mode::Anonymous).await;
    let image = stack
        .registry
        .push_image("blob/app", "1", 1)
        .await
        .expect("seed");
    // A mirror with the same manifest, whose layer file was changed on its disk.
    let mirror = Registry::start(Mode::Anonymous).await.expect("registry");
    let copy = mirror.push_image("blob/app", "1", 1).await.expect("seed");
    assert_eq!(copy.manifest.digest, image.manifest.digest);
    let layer = &image.layers[0];
    mirror.tamper_blob(&layer.digest).expect("tamper");

    let registry_url = format!("http://{}", stack.registry.host_port());
    let second = Relay::start_with(Config {
        dist: None,
        allow_hosts: vec![registry_url.parse().expect("allow host")],
        allow_origins: vec![format!("http://{}", stack.relay.addr)
            .parse()
            .expect("origin")],
        ..Config::default()
    });
    let honest = second.url("/relay/{url}");
    let liar = LyingRelay::start(&stack.registry.host_port(), &mirror.host_port()).await;
    let browser = Browser::start().await;
    browser.open(&stack.relay.url("/")).await;
    let setting = format!("/relay/{{url}} {honest} {}", liar.template());
    browser.set_relay_setting(&setting).await;
    browser.look_up(&stack.reference("blob/app:1")).await;
    assert!(
        !browser.has("[data-credentials-warning]").await,
        "no credentials, no warning"
    );

    browser
        .click(&format!("button[data-check-relay='{honest}']"))
        .await;
    browser.wait("[data-relay-check='agree']").await;
    browser
        .click(&format!("button[data-check-blobs='{honest}']"))
        .await;
    for blob in [&image.config.digest, &layer.digest] {
        let checked =
            format!("[data-download='{blob}'][data-through='{honest}'] [data-state='checked']");
        browser.wait(&checked).await;
    }

    let lying = liar.template();
    browser
        .click(&format!("button[data-check-relay='{lying}']"))
        .await;
    browser.wait("[data-relay-check='agree']").await;
    browser
        .click(&format!("button[data-check-blobs='{lying}']"))
        .await;
    let item = format!("[data-download='{}'][data-through='{lying}']", layer.digest);
    browser
        .wait(&format!("{item} [role='alert'] [data-check-differs]"))
        .await;
    let actual = browser.text(&format!("{item} [data-actual]")).await;
    let served = format!(
        "sha256:{}",
        common::sha256_file(&mirror.blob_file(&layer.digest))
    );
    assert_eq!(actual, served, "the other path's bytes are named");
    let config = format!(
        "[data-download='{}'][data-through='{lying}']",
        image.config.digest
    );
    browser
        .wait(&format!("{config} [data-state='checked']"))
        .await;
    browser.assert_no_downloads(Duration::from_secs(2)).await;
    browser.screenshot("journey-15-stream-blobs").await;
}
