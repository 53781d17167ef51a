//! The native client against every registry mode, directly and through a minimal relay.

use std::sync::{Arc, Mutex};

use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use wharf_oci::{Manifest, Reference};
use wharf_testkit::process::{bind_loopback, ServerTask};
use wharf_testkit::{Client, Error, Mode, Registry, SeededImage};

fn reference(registry: &Registry, repo_tag: &str) -> Reference {
    format!("{}/{repo_tag}", registry.host_port())
        .parse()
        .unwrap()
}

/// Pulls the image's manifest and every blob; checks digests against the seed.
async fn pull_image(client: &Client, registry: &Registry, image: &SeededImage, repo_tag: &str) {
    let reference = reference(registry, repo_tag);
    let fetched = client.pull_manifest(&reference).await.unwrap();
    assert_eq!(fetched.digest, image.manifest.digest);
    assert_eq!(fetched.manifest.layers().len(), image.layers.len());
    let config = fetched.manifest.config().unwrap();
    assert_eq!(config.digest, image.config.digest);
    for blob in std::iter::once(&image.config).chain(&image.layers) {
        let verified = client
            .pull_blob(&reference, &blob.digest, blob.size)
            .await
            .unwrap();
        assert_eq!(verified.digest, blob.digest);
    }
}

#[tokio::test]
async fn pulls_from_anonymous_and_redirect_registries() {
    for mode in [Mode::Anonymous, Mode::Redirect] {
        let registry = Registry::start(mode).await.unwrap();
        let image = registry.push_image("apps/web", "1.0", 3).await.unwrap();
        let client = Client::new().unwrap();
        pull_image(&client, &registry, &image, "apps/web:1.0").await;
        let redirects = client.hops().iter().filter(|h| h.status == 307).count();
        let expected = if mode == Mode::Redirect { 4 } else { 0 };
        assert_eq!(redirects, expected, "{mode:?}");
    }
}

#[tokio::test]
async fn private_modes_need_the_right_credentials() {
    for mode in [Mode::Basic, Mode::Token] {
        let registry = Registry::start(mode).await.unwrap();
        let image = registry.push_image("private/app", "v1", 2).await.unwrap();
        let reference = reference(&registry, "private/app:v1");

        let anonymous = Client::new().unwrap();
        let error = anonymous.pull_manifest(&reference).await.unwrap_err();
        assert!(
            matches!(error, Error::NeedCredentials { .. }),
            "{mode:?}: {error}"
        );

        let alice = Client::new()
            .unwrap()
            .with_credentials("alice", "s3cret")
            .unwrap();
        pull_image(&alice, &registry, &image, "private/app:v1").await;

        let wrong = Client::new()
            .unwrap()
            .with_credentials("alice", "nope")
            .unwrap();
        let error = wrong.pull_manifest(&reference).await.unwrap_err();
        assert!(
            matches!(error, Error::Unauthorized { .. }),
            "{mode:?}: {error}"
        );
        assert!(!format!("{error} {error:?}").contains("nope"));
    }
}

#[tokio::test]
async fn token_mode_refuses_users_without_the_right_and_reuses_tokens() {
    let registry = Registry::start(Mode::Token).await.unwrap();
    let image = registry.push_image("private/app", "v1", 1).await.unwrap();
    let public = registry.push_image("public/tool", "v1", 1).await.unwrap();

    let bob = Client::new()
        .unwrap()
        .with_credentials("bob", "hunter2")
        .unwrap();
    let error = bob
        .pull_manifest(&reference(&registry, "private/app:v1"))
        .await
        .unwrap_err();
    assert!(matches!(error, Error::Unauthorized { .. }), "{error}");

    let anonymous = Client::new().unwrap();
    pull_image(&anonymous, &registry, &public, "public/tool:v1").await;

    let alice = Client::new()
        .unwrap()
        .with_credentials("alice", "s3cret")
        .unwrap();
    pull_image(&alice, &registry, &image, "private/app:v1").await;
    // One token for the repository, reused for the manifest and both blobs.
    let token_requests = alice
        .hops()
        .iter()
        .filter(|h| h.url.contains("/token?"))
        .count();
    assert_eq!(token_requests, 1);
}

#[tokio::test]
async fn authorization_is_dropped_on_the_cross_host_cdn_hop() {
    let registry = Registry::builder(Mode::Token)
        .redirect(true)
        .start()
        .await
        .unwrap();
    let image = registry.push_image("private/app", "v1", 2).await.unwrap();
    let alice = Client::new()
        .unwrap()
        .with_credentials("alice", "s3cret")
        .unwrap();
    pull_image(&alice, &registry, &image, "private/app:v1").await;
    let cdn = registry.cdn().unwrap();
    let seen = cdn.requests();
    assert_eq!(seen.len(), 3, "config + 2 layers via the CDN");
    assert!(seen.iter().all(|r| !r.authorization && r.status == 200));
    let hops = alice.hops();
    let redirect = hops.iter().find(|h| h.status == 307).unwrap();
    assert!(redirect.authorization, "the registry hop carried the token");
}

#[tokio::test]
async fn bottles_and_schema1_through_the_client() {
    let registry = Registry::start(Mode::Anonymous).await.unwrap();
    let bottles = registry
        .push_default_bottles("homebrew/core/vim")
        .await
        .unwrap();
    let schema1 = registry
        .push_schema1("legacy/hitch", "1.8.0-1", 2)
        .await
        .unwrap();
    let client = Client::new().unwrap();

    let reference = reference(&registry, "homebrew/core/vim:9.0.1900");
    let fetched = client.pull_manifest(&reference).await.unwrap();
    let Manifest::Index(index) = &fetched.manifest else {
        panic!("expected an index, got {:?}", fetched.kind);
    };
    let entry = index
        .manifests
        .iter()
        .find(|d| {
            d.annotation("org.opencontainers.image.ref.name") == Some("9.0.1900.arm64_sonoma")
        })
        .unwrap();
    let bottle = bottles.bottle("arm64_sonoma").unwrap();
    assert_eq!(entry.digest, bottle.manifest.digest);
    let image = client
        .pull_manifest_by_digest(&reference, &entry.digest)
        .await
        .unwrap();
    let layer = &image.manifest.layers()[0];
    let (verified, bytes) = client
        .pull_blob_bytes(&reference, &layer.digest, layer.size)
        .await
        .unwrap();
    assert_eq!(verified.digest, bottle.blob.digest);
    assert_eq!(&bytes[..2], &[0x1f, 0x8b], "a gzip bottle");

    let legacy = client
        .pull_manifest(&reference_of(&registry, "legacy/hitch:1.8.0-1"))
        .await
        .unwrap();
    assert_eq!(legacy.digest, schema1.manifest.digest);
    let Manifest::Schema1(document) = &legacy.manifest else {
        panic!("expected schema 1");
    };
    assert!(document.signed);
    assert_eq!(document.layers().len(), 4);
}

fn reference_of(registry: &Registry, repo_tag: &str) -> Reference {
    reference(registry, repo_tag)
}

/// A minimal cors-anywhere style relay for this test only: `/relay/<absolute URL>` is fetched
/// upstream (no redirects followed) and answered as is.
async fn fake_relay(seen: Arc<Mutex<Vec<String>>>) -> (url::Url, ServerTask) {
    async fn forward(State(seen): State<Arc<Mutex<Vec<String>>>>, request: Request) -> Response {
        let path_and_query = request
            .uri()
            .path_and_query()
            .map(|p| p.as_str().to_owned())
            .unwrap_or_default();
        let upstream = path_and_query.trim_start_matches("/relay/").to_owned();
        seen.lock().unwrap().push(upstream.clone());
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let mut headers = request.headers().clone();
        headers.remove("host");
        let answer = client
            .request(request.method().clone(), &upstream)
            .headers(headers)
            .send()
            .await
            .unwrap();
        let status = answer.status();
        let headers = answer.headers().clone();
        let body = answer.bytes().await.unwrap();
        (status, headers, body).into_response()
    }
    let listener = bind_loopback().await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let router = axum::Router::new().fallback(forward).with_state(seen);
    let prefix = url::Url::parse(&format!("http://127.0.0.1:{port}/relay/")).unwrap();
    (prefix, ServerTask::serve(listener, router))
}

#[tokio::test]
async fn the_client_speaks_through_a_relay_prefix() {
    let registry = Registry::start(Mode::Token).await.unwrap();
    let image = registry.push_image("private/app", "v1", 2).await.unwrap();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let (prefix, _relay) = fake_relay(seen.clone()).await;
    let client = Client::via_relay(prefix)
        .unwrap()
        .with_credentials("alice", "s3cret")
        .unwrap();
    pull_image(&client, &registry, &image, "private/app:v1").await;
    let seen = seen.lock().unwrap().clone();
    let base = registry.base_url().to_string();
    assert!(seen
        .iter()
        .any(|u| u.starts_with(&format!("{base}v2/private/app/manifests/v1"))));
    let realm = registry.token_server().unwrap().realm().to_string();
    assert!(
        seen.iter().any(|u| u.starts_with(&format!("{realm}?"))),
        "token request via the relay: {seen:?}"
    );
    assert_eq!(
        seen.iter().filter(|u| u.contains("/blobs/sha256:")).count(),
        3
    );
}
