//! Journeys of **Referrers** (issue 13): the image view lists what refers to the manifest
//! (an SBOM and a signature pushed as ORAS does to a registry without the referrers API, under
//! the `sha256-<hex>` tag), each with kind, artifact type and **Download** of its file, verified;
//! **Open** shows the artifact itself; an index's attestation entry links to the image it
//! attests. Headless Chromium, the page served by `wharf-relay`, the test kit's real registry.

#![cfg(not(target_arch = "wasm32"))]

mod common;

use std::time::Duration;

use common::{serial, sha256_file, Browser, Stack};
use wharf_testkit::{Flavor, Mode, ReferrerSpec};

const DOWNLOAD_WAIT: Duration = Duration::from_secs(60);

fn spec(artifact_type: &str, layer_type: &str, title: &str, bytes: &[u8]) -> ReferrerSpec {
    ReferrerSpec {
        artifact_type: artifact_type.into(),
        layer_type: layer_type.into(),
        title: title.into(),
        bytes: bytes.to_vec(),
        created: "2026-12-01T10:00:00Z".into(),
    }
}

/// Journey 13h: an image with an SBOM and a signature; another without referrers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn journey_13_referrers_listed_downloaded_and_opened() {
    let _serial = serial().await;
    let stack = Stack::with_front(Mode::Anonymous).await;
    let image = stack
        .registry
        .push_image("signed/app", "1", 1)
        .await
        .expect("seed");
    let plain = stack
        .registry
        .push_image("plain/app", "1", 1)
        .await
        .expect("seed");
    let sbom = br#"{"spdxVersion":"SPDX-2.3","name":"signed/app"}"#;
    let specs = [
        spec(
            "application/spdx+json",
            "application/spdx+json",
            "sbom.spdx.json",
            sbom,
        ),
        spec(
            "application/vnd.dev.cosign.artifact.sig.v1+json",
            "application/vnd.dev.cosign.simplesigning.v1+json",
            "signature.json",
            br#"{"critical":{"type":"cosign container image signature"}}"#,
        ),
    ];
    let (referrers, _) = stack
        .registry
        .push_referrers("signed/app", &image.manifest, &specs)
        .await
        .expect("referrers");

    let browser = Browser::start().await;
    browser.open(&stack.relay.url("/")).await;
    browser.look_up(&stack.reference("signed/app:1")).await;
    let subject = image.manifest.digest.to_string();
    browser
        .wait(&format!(
            "[data-referrers='listed'][data-subject='{subject}']"
        ))
        .await;
    assert!(browser.has("[data-referrers-source='tag']").await);
    assert_eq!(browser.count("tr[data-referrer]").await, 2);
    let sbom_row = format!("tr[data-referrer='{}']", referrers[0].manifest.digest);
    assert_eq!(
        browser.attr(&sbom_row, "data-kind").await.as_deref(),
        Some("SBOM")
    );
    let sig_row = format!("tr[data-referrer='{}']", referrers[1].manifest.digest);
    assert_eq!(
        browser.attr(&sig_row, "data-kind").await.as_deref(),
        Some("signature")
    );
    let row_text = browser.text(&sbom_row).await;
    assert!(row_text.contains("application/spdx+json"), "{row_text}");
    assert!(row_text.contains("2026-12-01T10:00:00Z"), "{row_text}");

    // The SBOM's file, verified against its layer digest.
    let layer = &referrers[0].layer;
    browser
        .click(&format!(
            "{sbom_row} button[data-digest='{}']",
            layer.digest
        ))
        .await;
    let file = browser.downloaded("sbom.spdx.json", DOWNLOAD_WAIT).await;
    assert_eq!(
        format!("sha256:{}", sha256_file(&file)),
        layer.digest.to_string()
    );
    assert_eq!(std::fs::read(&file).expect("read"), sbom);
    browser
        .wait(&format!(
            "[data-download='{}'] [data-verified]",
            layer.digest
        ))
        .await;

    // Open: the signature's own manifest, its layer offered like any other.
    browser
        .click(&format!("{sig_row} button[data-open-referrer]"))
        .await;
    let sig = &referrers[1];
    browser
        .wait(&format!("[data-resolved-digest='{}']", sig.manifest.digest))
        .await;
    browser
        .wait(&format!("button[data-digest='{}']", sig.layer.digest))
        .await;
    browser.screenshot("journey-13-referrers").await;

    // An image nothing refers to says so.
    browser.look_up(&stack.reference("plain/app:1")).await;
    let subject = plain.manifest.digest.to_string();
    browser
        .wait(&format!(
            "[data-referrers='none'][data-subject='{subject}']"
        ))
        .await;
    // Its tag was only asked with HEAD (no Docker Hub pull spent on it).
    let tag = format!("/manifests/sha256-{}", plain.manifest.digest.hex());
    let asked: Vec<String> = stack
        .front()
        .requests()
        .iter()
        .filter(|r| r.path.ends_with(&tag))
        .map(|r| r.method.to_string())
        .collect();
    assert_eq!(
        asked,
        ["HEAD"],
        "the fallback tag of an image without referrers"
    );
}

/// Journey 13i: an index's attestation entry names the platform it attests, and choosing that
/// opens the attested image.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn journey_13_attestation_links_to_what_it_attests() {
    let _serial = serial().await;
    let stack = Stack::start(Mode::Anonymous).await;
    let index = stack
        .registry
        .push_multi_platform("attested/app", "1", Flavor::Oci)
        .await
        .expect("seed");
    let subject = &index.images[0];
    let browser = Browser::start().await;
    browser.open(&stack.relay.url("/")).await;
    browser.look_up(&stack.reference("attested/app:1")).await;
    let link = "tr[data-platform='unknown/unknown'] button[data-attests='linux/amd64']";
    browser.click(link).await;
    browser.wait("[data-chosen-platform='linux/amd64']").await;
    browser
        .wait(&format!(
            "[data-referrers][data-subject='{}']",
            subject.manifest.digest
        ))
        .await;
}

/// Journey 13j: a registry with the referrers API (the test kit's front answers it from the real
/// registry's data): the page asks the API, not the tag, and an image nothing refers to gets the
/// API's empty answer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn journey_13_referrers_from_the_api() {
    let _serial = serial().await;
    let stack = Stack::with_front(Mode::Anonymous).await;
    stack.front().serve_referrers_api();
    let image = stack
        .registry
        .push_image("api/app", "1", 1)
        .await
        .expect("seed");
    let plain = stack
        .registry
        .push_image("api/plain", "1", 1)
        .await
        .expect("seed");
    let specs = [spec(
        "application/vnd.cyclonedx+json",
        "application/vnd.cyclonedx+json",
        "bom.json",
        b"{}",
    )];
    let (referrers, _) = stack
        .registry
        .push_referrers("api/app", &image.manifest, &specs)
        .await
        .expect("referrers");
    let browser = Browser::start().await;
    browser.open(&stack.relay.url("/")).await;
    browser.look_up(&stack.reference("api/app:1")).await;
    browser
        .wait("[data-referrers='listed'] [data-referrers-source='api']")
        .await;
    let row = format!("tr[data-referrer='{}']", referrers[0].manifest.digest);
    assert_eq!(
        browser.attr(&row, "data-kind").await.as_deref(),
        Some("SBOM")
    );
    let seen = stack.front().requests();
    assert!(
        seen.iter().any(|r| r.path.contains("/referrers/")),
        "the API was asked"
    );
    let tag = format!("/manifests/sha256-{}", image.manifest.digest.hex());
    assert!(
        !seen.iter().any(|r| r.path.ends_with(&tag)),
        "the tag was not"
    );

    browser.look_up(&stack.reference("api/plain:1")).await;
    let subject = plain.manifest.digest.to_string();
    browser
        .wait(&format!(
            "[data-referrers='none'][data-subject='{subject}']"
        ))
        .await;
}
