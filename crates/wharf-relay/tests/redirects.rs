//! Redirects are followed by the relay: 301/302/303/307/308 × same host / other port / other host, the
//! chains A→B→A and A→B→B, and the registry's own 307 to its CDN. Credentials never cross an origin
//! change (the CDN answers 400 to `Authorization`), cookies never leave the relay, every blob verifies.

mod common;

use common::{client, sha256_of, Driver, Relay};
use reqwest::header::{AUTHORIZATION, COOKIE};
use wharf_testkit::{Mode, Pattern, Redirector, Registry, SeenRequest};

const SECRET: &str = "Bearer matrix-secret";
const STATUSES: [u16; 5] = [301, 302, 303, 307, 308];

struct Setup {
    registry: Registry,
    a: Redirector,
    b: Redirector,
    relay: Relay,
    blob: wharf_testkit::SeededBlob,
}

impl Setup {
    async fn new(driver: Driver) -> Setup {
        let registry = Registry::start(Mode::Redirect).await.expect("registry");
        let bytes = Pattern::new(11).bytes(0, 300 * 1024 + 7);
        let blob = registry
            .push_blob("matrix/blob", bytes.clone())
            .await
            .expect("seed blob");
        let a = Redirector::start().await.expect("redirector A");
        let b = Redirector::start().await.expect("redirector B");
        a.serve("/blob", bytes.clone(), "application/octet-stream");
        b.serve("/blob", bytes, "application/octet-stream");
        let cdn_port = registry.cdn().expect("cdn").port();
        let config = common::config_for_ports(&[registry.port(), a.port(), b.port(), cdn_port]);
        let relay = common::relay(driver, config).await;
        Setup {
            registry,
            a,
            b,
            relay,
            blob,
        }
    }

    fn cdn(&self) -> &wharf_testkit::CdnServer {
        self.registry.cdn().expect("cdn")
    }

    /// The CDN's blob URL under `127.0.0.1` (other port than the redirectors, same host).
    fn cdn_ip_url(&self) -> url::Url {
        let mut url = self.cdn().blob_url(&self.blob.digest);
        url.set_host(Some("127.0.0.1")).expect("host");
        url
    }

    /// GETs `target` through the relay with credentials and a cookie; the blob must verify.
    async fn pull_verified(&self, target: &str, what: &str) {
        let response = client()
            .get(self.relay.relay_url(target))
            .header(AUTHORIZATION, SECRET)
            .header(COOKIE, "session=do-not-forward")
            .send()
            .await
            .unwrap_or_else(|e| panic!("{what}: {e}"));
        assert_eq!(response.status().as_u16(), 200, "{what}");
        let (hex, size) = sha256_of(response)
            .await
            .unwrap_or_else(|e| panic!("{what}: {e}"));
        assert_eq!(size, self.blob.size, "{what}");
        assert_eq!(hex, self.blob.digest.hex(), "{what}");
    }

    fn all_seen(&self) -> Vec<SeenRequest> {
        let mut seen = self.a.requests();
        seen.extend(self.b.requests());
        seen.extend(self.cdn().requests());
        seen
    }

    fn clear(&self) {
        self.a.clear_requests();
        self.b.clear_requests();
        self.cdn().clear_requests();
    }
}

fn one(seen: &[SeenRequest], path: &str) -> SeenRequest {
    let matching: Vec<&SeenRequest> = seen.iter().filter(|s| s.path == path).collect();
    assert_eq!(matching.len(), 1, "requests to {path}: {seen:?}");
    matching[0].clone()
}

async fn status_by_topology_matrix(driver: Driver) {
    let s = Setup::new(driver).await;
    for status in STATUSES {
        // Same origin: the credentials stay.
        s.clear();
        let path = format!("/same/{status}");
        s.a.redirect(&path, status, s.a.url("/blob").as_str())
            .unwrap();
        s.pull_verified(s.a.url(&path).as_str(), &format!("{status} same host"))
            .await;
        let seen = s.a.requests();
        assert!(
            one(&seen, &path).authorization,
            "{status}: first hop lost Authorization"
        );
        assert!(
            one(&seen, "/blob").authorization,
            "{status}: same-origin hop lost Authorization"
        );

        // Other port, same host: stripped; the CDN would answer 400 otherwise.
        s.clear();
        let path = format!("/port/{status}");
        s.a.redirect(&path, status, s.cdn_ip_url().as_str())
            .unwrap();
        s.pull_verified(s.a.url(&path).as_str(), &format!("{status} other port"))
            .await;
        assert_eq!(s.cdn().requests().len(), 1);
        assert!(s
            .cdn()
            .requests()
            .iter()
            .all(|r| !r.authorization && r.status == 200));

        // Other host (localhost vs 127.0.0.1), other port: the registry's usual CDN hop.
        s.clear();
        let path = format!("/host/{status}");
        let cdn = s.cdn().blob_url(&s.blob.digest);
        s.a.redirect(&path, status, cdn.as_str()).unwrap();
        s.pull_verified(s.a.url(&path).as_str(), &format!("{status} other host"))
            .await;
        assert!(s
            .cdn()
            .requests()
            .iter()
            .all(|r| !r.authorization && r.status == 200));

        // Other host, same port: only the name changes, and that is enough to strip.
        s.clear();
        let path = format!("/name/{status}");
        s.a.redirect(&path, status, s.a.url_localhost("/blob").as_str())
            .unwrap();
        s.pull_verified(s.a.url(&path).as_str(), &format!("{status} other name"))
            .await;
        let seen = s.a.requests();
        assert!(one(&seen, &path).authorization);
        assert!(
            !one(&seen, "/blob").authorization,
            "{status}: Authorization crossed to localhost"
        );

        assert!(
            s.all_seen().iter().all(|r| !r.cookie),
            "{status}: a cookie was forwarded"
        );
    }
}

async fn chains_a_b_a_and_a_b_b(driver: Driver) {
    let s = Setup::new(driver).await;
    let cdn = s.cdn().blob_url(&s.blob.digest);
    for (first, second, third) in [(302, 307, 301), (308, 303, 302), (307, 307, 307)] {
        // A -> B -> A -> CDN.
        s.clear();
        s.a.redirect("/aba1", first, s.b.url("/aba").as_str())
            .unwrap();
        s.b.redirect("/aba", second, s.a.url("/aba2").as_str())
            .unwrap();
        s.a.redirect("/aba2", third, cdn.as_str()).unwrap();
        s.pull_verified(s.a.url("/aba1").as_str(), "A->B->A").await;
        let (a, b) = (s.a.requests(), s.b.requests());
        assert!(one(&a, "/aba1").authorization);
        assert!(!one(&b, "/aba").authorization, "B saw Authorization");
        // Once stripped, credentials do not come back when the chain returns to A.
        assert!(!one(&a, "/aba2").authorization, "A saw Authorization again");
        assert!(s
            .cdn()
            .requests()
            .iter()
            .all(|r| !r.authorization && r.status == 200));

        // A -> B -> B -> blob on B.
        s.clear();
        s.a.redirect("/abb1", first, s.b.url("/abb1").as_str())
            .unwrap();
        s.b.redirect("/abb1", second, s.b.url("/abb2").as_str())
            .unwrap();
        s.b.redirect("/abb2", third, s.b.url("/blob").as_str())
            .unwrap();
        s.pull_verified(s.a.url("/abb1").as_str(), "A->B->B").await;
        assert!(one(&s.a.requests(), "/abb1").authorization);
        assert!(
            s.b.requests().iter().all(|r| !r.authorization),
            "B saw Authorization"
        );
        assert_eq!(s.b.requests().len(), 3);
        assert!(s.all_seen().iter().all(|r| !r.cookie));
    }
}

async fn registry_redirect_to_cdn_and_hop_limit(driver: Driver) {
    let s = Setup::new(driver).await;
    // The registry's own 307 (redirect storage middleware) to localhost:<cdn>.
    let blob_url = s
        .registry
        .v2_url(&format!("matrix/blob/blobs/{}", s.blob.digest));
    s.pull_verified(blob_url.as_str(), "registry 307").await;
    let cdn_seen = s.cdn().requests();
    assert_eq!(cdn_seen.len(), 1);
    assert!(!cdn_seen[0].authorization);

    // HEAD stays HEAD across 303 and keeps the length.
    s.clear();
    s.a.redirect("/head303", 303, s.cdn_ip_url().as_str())
        .unwrap();
    let head = client()
        .head(s.relay.relay_url(s.a.url("/head303").as_str()))
        .send()
        .await
        .unwrap();
    assert_eq!(head.status().as_u16(), 200);
    assert_eq!(
        head.headers()["content-length"],
        s.blob.size.to_string().as_str()
    );
    assert_eq!(
        one(&s.cdn().requests(), s.cdn_ip_url().path()).method,
        "HEAD"
    );

    // Five hops are followed, a sixth is refused with 502.
    for hop in 1..=6 {
        s.a.redirect(
            &format!("/hop{hop}"),
            302,
            s.a.url(&format!("/hop{}", hop + 1)).as_str(),
        )
        .unwrap();
    }
    s.a.serve("/hop7", "seven", "text/plain");
    let six = client()
        .get(s.relay.relay_url(s.a.url("/hop1").as_str()))
        .send()
        .await
        .unwrap();
    assert_eq!(six.status().as_u16(), 502);
    let body: serde_json::Value = six.json().await.unwrap();
    assert_eq!(body["error"], "too many redirects");
    let ok = client()
        .get(s.relay.relay_url(s.a.url("/hop2").as_str()))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status().as_u16(), 200);
    assert_eq!(ok.text().await.unwrap(), "seven");
}

both_drivers!(
    status_by_topology_matrix,
    chains_a_b_a_and_a_b_b,
    registry_redirect_to_cdn_and_hop_limit,
);
