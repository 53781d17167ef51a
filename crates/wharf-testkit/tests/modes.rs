//! Each registry mode, proven with real components and raw HTTP.

mod common;

use std::time::Instant;

use common::{challenge, http, verify_body};
use wharf_testkit::{Mode, Registry};

#[tokio::test]
async fn anonymous_registry_serves_a_seeded_blob() {
    let registry = Registry::start(Mode::Anonymous).await.unwrap();
    eprintln!("start anonymous: {:?}", registry.started_in());
    let began = Instant::now();
    let blob = registry
        .push_blob("test/anon", b"hello wharf".to_vec())
        .await
        .unwrap();
    eprintln!("seed 11-byte blob: {:?}", began.elapsed());
    assert_eq!(blob.size, 11);
    let url = registry.v2_url(&format!("test/anon/blobs/{}", blob.digest));
    let response = http().get(url).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        verify_body(response, &blob.digest, blob.size)
            .await
            .unwrap()
            .digest,
        blob.digest
    );
    // A digest the registry does not hold is unknown, not served.
    let other = wharf_oci::Digest::sha256_of(b"never pushed");
    let url = registry.v2_url(&format!("test/anon/blobs/{other}"));
    assert_eq!(http().get(url).send().await.unwrap().status(), 404);
}

#[tokio::test]
async fn basic_registry_needs_credentials() {
    let registry = Registry::start(Mode::Basic).await.unwrap();
    eprintln!("start basic: {:?}", registry.started_in());
    let blob = registry
        .push_blob("private/app", vec![7u8; 1000])
        .await
        .unwrap();
    let url = registry.v2_url(&format!("private/app/blobs/{}", blob.digest));
    let client = http();

    let anonymous = client.get(url.clone()).send().await.unwrap();
    assert_eq!(anonymous.status(), 401);
    let params = challenge(&anonymous);
    assert_eq!(params["scheme"], "basic");
    assert_eq!(params["realm"], "wharf-basic");

    let alice = registry.credentials("alice").unwrap();
    let wrong = client
        .get(url.clone())
        .basic_auth(&alice.username, Some("not-her-password"))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);

    let right = client
        .get(url)
        .basic_auth(&alice.username, Some(alice.password.expose()))
        .send()
        .await
        .unwrap();
    assert_eq!(right.status(), 200);
    verify_body(right, &blob.digest, blob.size).await.unwrap();
}

/// Runs the token dance by hand: challenge, token request, retry with the token.
async fn token_pull(
    registry: &Registry,
    repo: &str,
    digest: &wharf_oci::Digest,
    credentials: Option<(&str, &str)>,
) -> (u16, Option<reqwest::Response>) {
    let client = http();
    let url = registry.v2_url(&format!("{repo}/blobs/{digest}"));
    let first = client.get(url.clone()).send().await.unwrap();
    assert_eq!(first.status(), 401);
    let params = challenge(&first);
    assert_eq!(params["scheme"], "bearer");
    assert_eq!(params["scope"], format!("repository:{repo}:pull"));
    let mut token_url = url::Url::parse(&params["realm"]).unwrap();
    token_url
        .query_pairs_mut()
        .append_pair("service", &params["service"])
        .append_pair("scope", &params["scope"]);
    let mut request = client.get(token_url);
    if let Some((user, password)) = credentials {
        request = request.basic_auth(user, Some(password));
    }
    let token_response = request.send().await.unwrap();
    if token_response.status() != 200 {
        return (token_response.status().as_u16(), None);
    }
    let body: serde_json::Value = token_response.json().await.unwrap();
    assert_eq!(body["token"], body["access_token"]);
    assert!(body["expires_in"].as_u64().unwrap() > 0);
    let token = body["token"].as_str().unwrap();
    let second = client.get(url).bearer_auth(token).send().await.unwrap();
    (second.status().as_u16(), Some(second))
}

#[tokio::test]
async fn token_registry_grants_by_user_and_repository() {
    let registry = Registry::start(Mode::Token).await.unwrap();
    eprintln!("start token: {:?}", registry.started_in());
    let began = Instant::now();
    let private = registry
        .push_blob("private/app", vec![1u8; 4096])
        .await
        .unwrap();
    let public = registry
        .push_blob("public/tool", vec![2u8; 2048])
        .await
        .unwrap();
    eprintln!("seed two blobs (token mode): {:?}", began.elapsed());

    // The right user gets the blob.
    let (status, response) = token_pull(
        &registry,
        "private/app",
        &private.digest,
        Some(("alice", "s3cret")),
    )
    .await;
    assert_eq!(status, 200);
    verify_body(response.unwrap(), &private.digest, private.size)
        .await
        .unwrap();

    // A wrong password is refused by the token server itself.
    let (status, _) = token_pull(
        &registry,
        "private/app",
        &private.digest,
        Some(("alice", "wrong")),
    )
    .await;
    assert_eq!(status, 401);

    // A user without the right gets a token without access; the registry then refuses.
    let (status, response) = token_pull(
        &registry,
        "private/app",
        &private.digest,
        Some(("bob", "hunter2")),
    )
    .await;
    assert_eq!(status, 401);
    let response = response.unwrap();
    assert!(response.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .contains("insufficient_scope"));

    // Anonymous callers: public repositories yes, private ones no.
    let (status, response) = token_pull(&registry, "public/tool", &public.digest, None).await;
    assert_eq!(status, 200);
    verify_body(response.unwrap(), &public.digest, public.size)
        .await
        .unwrap();
    let (status, _) = token_pull(&registry, "private/app", &private.digest, None).await;
    assert_eq!(status, 401);

    // The token server recorded who asked and what it granted.
    let grants = registry.token_server().unwrap().grants();
    let bob = grants
        .iter()
        .find(|g| g.user.as_deref() == Some("bob"))
        .unwrap();
    assert!(bob.granted.is_empty());
    assert_eq!(bob.scopes, ["repository:private/app:pull"]);
    let refused = grants.iter().filter(|g| g.status == 401).count();
    assert_eq!(refused, 1);
}

#[tokio::test]
async fn redirect_registry_sends_blobs_to_the_cdn() {
    let registry = Registry::start(Mode::Redirect).await.unwrap();
    eprintln!("start redirect: {:?}", registry.started_in());
    let bytes: Vec<u8> = (0..=255u8).cycle().take(100_000).collect();
    let blob = registry.push_blob("test/cdn", bytes.clone()).await.unwrap();
    let cdn = registry.cdn().unwrap();
    let client = http();

    let url = registry.v2_url(&format!("test/cdn/blobs/{}", blob.digest));
    let response = client.get(url).send().await.unwrap();
    assert_eq!(response.status(), 307);
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    assert_eq!(location, cdn.blob_url(&blob.digest).as_str());
    assert!(location.starts_with("http://localhost:"), "{location}");

    let direct = client.get(&location).send().await.unwrap();
    assert_eq!(direct.status(), 200);
    verify_body(direct, &blob.digest, blob.size).await.unwrap();

    let with_auth = client
        .get(&location)
        .bearer_auth("QQ==")
        .send()
        .await
        .unwrap();
    assert_eq!(with_auth.status(), 400);
    assert!(with_auth
        .text()
        .await
        .unwrap()
        .contains("Only one auth mechanism allowed"));

    let ranged = client
        .get(&location)
        .header("range", "bytes=1000-1999")
        .send()
        .await
        .unwrap();
    assert_eq!(ranged.status(), 206);
    assert_eq!(ranged.bytes().await.unwrap().as_ref(), &bytes[1000..2000]);

    let seen = cdn.requests();
    assert_eq!(seen.len(), 3);
    assert_eq!(
        seen.iter().map(|r| r.authorization).collect::<Vec<_>>(),
        [false, true, false]
    );
    assert_eq!(
        seen.iter().map(|r| r.status).collect::<Vec<_>>(),
        [200, 400, 206]
    );
    assert!(seen[2].header_names.contains(&"range".to_owned()));
    assert_eq!(seen[1].header_values("authorization"), ["<redacted>"]);

    // Paths outside the blob store are not served.
    let mut outside = cdn.base_url();
    outside.set_path("/docker/registry/v2/repositories/test/cdn/_layers");
    assert_eq!(client.get(outside).send().await.unwrap().status(), 404);
}

#[tokio::test]
async fn every_mode_starts_and_answers_v2() {
    for mode in Mode::ALL {
        let registry = Registry::start(mode).await.unwrap();
        let response = http().get(registry.v2_url("")).send().await.unwrap();
        let expected = if registry.is_private() { 401 } else { 200 };
        assert_eq!(response.status(), expected, "{mode:?}");
        assert_eq!(
            response.headers()["docker-distribution-api-version"],
            "registry/2.0"
        );
        eprintln!("mode {mode:?} up in {:?}", registry.started_in());
    }
}

#[test]
fn processes_are_reaped_when_a_test_panics() {
    let (tx, rx) = std::sync::mpsc::channel();
    let outcome = std::thread::spawn(move || {
        let runtime = tokio::runtime::Runtime::new().unwrap();
        runtime.block_on(async move {
            let registry = Registry::start(Mode::Anonymous).await.unwrap();
            tx.send((registry.pid(), registry.work_dir().to_path_buf()))
                .unwrap();
            panic!("a failing test");
        });
    })
    .join();
    assert!(outcome.is_err());
    let (pid, dir) = rx.recv().unwrap();
    assert!(
        !std::path::Path::new(&format!("/proc/{pid}")).exists(),
        "registry {pid} still alive"
    );
    assert!(!dir.exists(), "temp dir {} left behind", dir.display());
}
