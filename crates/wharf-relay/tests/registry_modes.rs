//! Through the relay, the test kit's native client pulls a manifest and a blob from a real registry in
//! each of its four modes (anonymous, basic, token, redirect-to-CDN); the private modes work with
//! credentials and fail clearly without.

mod common;

use common::{hex, InProcess, RunningRelay};
use sha2::{Digest as _, Sha256};
use std::time::Instant;
use url::Url;
use wharf_oci::Reference;
use wharf_testkit::{Client, Error, Mode, Registry, SeededImage};

const REPO: &str = "team/app";

struct Setup {
    registry: Registry,
    image: SeededImage,
    relay: InProcess,
}

impl Setup {
    async fn new(mode: Mode) -> Setup {
        let started = Instant::now();
        let registry = Registry::start(mode).await.expect("registry");
        let image = registry
            .push_image(REPO, "v1", 2)
            .await
            .expect("seed image");
        eprintln!(
            "{mode:?}: registry up in {:?}, up and seeded in {:?}",
            registry.started_in(),
            started.elapsed()
        );
        let mut ports = vec![registry.port()];
        if let Some(token) = registry.token_server() {
            ports.push(token.realm().port().expect("token port"));
        }
        if let Some(cdn) = registry.cdn() {
            ports.push(cdn.port());
        }
        let relay = InProcess::start(common::config_for_ports(&ports)).await;
        Setup {
            registry,
            image,
            relay,
        }
    }

    fn reference(&self) -> Reference {
        format!("{}/{REPO}:v1", self.registry.host_port())
            .parse()
            .expect("reference")
    }

    fn client(&self) -> Client {
        let prefix = Url::parse(&self.relay.relay_url("")).expect("prefix");
        Client::via_relay(prefix).expect("client")
    }

    /// Pulls the manifest and the first layer; checks both against what was seeded.
    async fn pull(&self, client: &Client) -> Result<(), Error> {
        let reference = self.reference();
        let fetched = client.pull_manifest(&reference).await?;
        assert_eq!(fetched.digest, self.image.manifest.digest);
        assert_eq!(
            hex(&Sha256::digest(&fetched.bytes)),
            self.image.manifest.digest.hex()
        );
        let layer = &self.image.layers[0];
        let (verified, bytes) = client
            .pull_blob_bytes(&reference, &layer.digest, layer.size)
            .await?;
        assert_eq!(verified.digest, layer.digest);
        assert_eq!(verified.size, layer.size);
        assert_eq!(hex(&Sha256::digest(&bytes)), layer.digest.hex());
        // The relay followed every redirect itself: the client never saw a 3xx.
        assert!(
            client
                .hops()
                .iter()
                .all(|h| !(300..400).contains(&h.status)),
            "{:?}",
            client.hops()
        );
        Ok(())
    }
}

#[tokio::test]
async fn anonymous_mode() {
    let s = Setup::new(Mode::Anonymous).await;
    s.pull(&s.client()).await.expect("anonymous pull");
}

#[tokio::test]
async fn redirect_mode() {
    let s = Setup::new(Mode::Redirect).await;
    s.pull(&s.client()).await.expect("pull via CDN");
    let cdn = s.registry.cdn().expect("cdn").requests();
    assert!(!cdn.is_empty(), "the blob did not come from the CDN");
    assert!(
        cdn.iter().all(|r| !r.authorization && r.status == 200),
        "{cdn:?}"
    );
}

#[tokio::test]
async fn basic_mode() {
    let s = Setup::new(Mode::Basic).await;
    let alice = s.client().with_credentials("alice", "s3cret").unwrap();
    s.pull(&alice).await.expect("pull with credentials");

    let anonymous = s
        .pull(&s.client())
        .await
        .expect_err("pull without credentials");
    assert!(
        matches!(anonymous, Error::NeedCredentials { .. }),
        "{anonymous:?}"
    );
    let wrong = s.client().with_credentials("alice", "wrong").unwrap();
    let refused = s
        .pull(&wrong)
        .await
        .expect_err("pull with a wrong password");
    assert!(matches!(refused, Error::Unauthorized { .. }), "{refused:?}");
}

#[tokio::test]
async fn token_mode() {
    let s = Setup::new(Mode::Token).await;
    let alice = s.client().with_credentials("alice", "s3cret").unwrap();
    s.pull(&alice).await.expect("pull with credentials");
    // The token request went through the relay too.
    let realm = s.registry.token_server().unwrap().realm().to_string();
    assert!(alice
        .hops()
        .iter()
        .any(|h| h.url.starts_with(&realm) && h.status == 200));

    let anonymous = s
        .pull(&s.client())
        .await
        .expect_err("pull without credentials");
    assert!(
        matches!(anonymous, Error::NeedCredentials { .. }),
        "{anonymous:?}"
    );
    let wrong = s.client().with_credentials("alice", "wrong").unwrap();
    let refused = s
        .pull(&wrong)
        .await
        .expect_err("pull with a wrong password");
    assert!(matches!(refused, Error::Unauthorized { .. }), "{refused:?}");
    // bob may pull bob/* only.
    let bob = s.client().with_credentials("bob", "hunter2").unwrap();
    let no_right = s.pull(&bob).await.expect_err("pull without the right");
    assert!(
        matches!(
            no_right,
            Error::Unauthorized { .. } | Error::NeedCredentials { .. }
        ),
        "{no_right:?}"
    );
}
