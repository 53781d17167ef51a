//! SSRF: targets that point at loopback, private, link-local, CGNAT, unspecified and IPv6 special
//! ranges, in every spelling the URL parser accepts, are refused with 403 before any connection; so are
//! redirects into them and allowed names that resolve to them.

mod common;

use common::{client, Counter, Driver, InProcess, Relay, RunningRelay};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use wharf_relay::resolve::{Overrides, SystemLookup};
use wharf_relay::Config;
use wharf_testkit::Redirector;

/// Fires every target at the relay; each must be a 403 JSON refusal.
async fn assert_refused(relay: &Relay, targets: &[String]) {
    let http = client();
    for target in targets {
        let response = http
            .get(relay.relay_url(target))
            .send()
            .await
            .expect("relay answers");
        let status = response.status().as_u16();
        let body: serde_json::Value = response.json().await.expect("JSON refusal");
        let error = body["error"].as_str().unwrap_or_default();
        // Unicode spellings of a host (`127。0。0。1`) do not parse at all: the workspace pins
        // `idna_adapter` to its ASCII-only release (smaller page), so they are refused as bad URLs.
        let unparsable = status == 400 && error == "bad target url";
        assert!(
            unparsable || (status == 403 && error.ends_with("not allowed")),
            "{target}: {status} {body}"
        );
    }
}

async fn forty_plus_targets_refused_without_connecting(driver: Driver) {
    let v4 = Counter::start("127.0.0.1:0").await;
    let v6 = Counter::start("[::1]:0").await;
    let p = v4.addr.port();
    let q = v6.addr.port();
    let redirector = Redirector::start().await.expect("redirector");
    let r = redirector.port();

    let mut overrides = HashMap::new();
    overrides.insert("registry-1.docker.io".to_owned(), vec![v4.addr]);
    overrides.insert("ghcr.io".to_owned(), vec![v6.addr]);
    overrides.insert("auth.docker.io".to_owned(), vec![sock("169.254.169.254:0")]);
    overrides.insert(
        "quay.io".to_owned(),
        vec![sock("8.8.8.8:0"), sock("10.0.0.1:0")],
    );
    overrides.insert(
        "mcr.microsoft.com".to_owned(),
        vec![sock("[::ffff:127.0.0.1]:0")],
    );
    overrides.insert("eu.gcr.io".to_owned(), vec![sock("100.64.0.1:0")]);
    let config = Config {
        allow_hosts: common::allow(&[format!("http://127.0.0.1:{r}")]),
        lookup: Arc::new(Overrides::new(overrides, Arc::new(SystemLookup))),
        ..common::config_for_ports(&[])
    };
    let relay = common::relay(driver, config).await;
    // Allowed names that resolve to private addresses are the binary's resolver's to refuse (the
    // overrides above); the Worker never resolves names (Cloudflare's fetch reaches public
    // addresses only; on workerd, the network `allow` list refuses the rest when connecting).
    let resolver_checked = |t: &str| {
        driver == Driver::Binary
            || ![
                "https://registry-1.docker.io/",
                "https://ghcr.io/",
                "https://mcr.microsoft.com/",
                "https://auth.docker.io/",
                "https://quay.io/",
                "https://eu.gcr.io/",
            ]
            .iter()
            .any(|name| t.starts_with(name))
    };

    // Spellings of the counting listeners' addresses (each would connect there if not refused).
    let to_counters: Vec<String> = [
        "http://127.0.0.1:{p}/v2/",
        "http://2130706433:{p}/v2/",
        "http://0x7f000001:{p}/v2/",
        "http://0x7f.1:{p}/v2/",
        "http://017700000001:{p}/v2/",
        "http://0177.0.0.1:{p}/v2/",
        "http://127.1:{p}/v2/",
        "http://127.0.0.1.:{p}/v2/",
        "http://%31%32%37.0.0.1:{p}/v2/",
        "http://127\u{3002}0\u{3002}0\u{3002}1:{p}/v2/",
        "http://\u{24db}\u{24de}\u{24d2}\u{24d0}\u{24db}\u{24d7}\u{24de}\u{24e2}\u{24e3}:{p}/v2/",
        "http://localhost:{p}/v2/",
        "http://localhost.:{p}/v2/",
        "http://LocalHost:{p}/v2/",
        "http://[::ffff:127.0.0.1]:{p}/v2/",
        "http://[::ffff:7f00:1]:{p}/v2/",
        "http://[0:0:0:0:0:ffff:127.0.0.1]:{p}/v2/",
        "https://registry-1.docker.io@127.0.0.1:{p}/v2/",
        "http://registry-1.docker.io:443@127.0.0.1:{p}/v2/",
        "http://user:pass@localhost:{p}/v2/",
        "https://127.0.0.1:{p}/v2/",
        "http://0.0.0.0:{p}/v2/",
        "http://0:{p}/v2/",
        "http://[::]:{q}/v2/",
        "http://[::1]:{q}/v2/",
        "http://[0:0:0:0:0:0:0:1]:{q}/v2/",
        "gopher://127.0.0.1:{p}/_x",
        // Allowed names that resolve to the counters (override = the resolver's answer).
        "https://registry-1.docker.io/v2/",
        "https://ghcr.io/v2/",
        "https://mcr.microsoft.com/v2/",
        // The redirector is allowed on its own port only.
        "http://127.0.0.1:{r}@127.0.0.1:{p}/v2/",
        "http://localhost:{r}/v2/",
    ]
    .iter()
    .filter(|t| resolver_checked(t))
    .map(|t| {
        t.replace("{p}", &p.to_string())
            .replace("{q}", &q.to_string())
            .replace("{r}", &r.to_string())
    })
    .collect();

    // Redirects from the allowed redirector into refused places.
    let counter_url = |s: &str| url::Url::parse(&s.replace("{p}", &p.to_string())).unwrap();
    let mut via_redirect = Vec::new();
    for (status, location) in [
        (302, "http://127.0.0.1:{p}/v2/"),
        (307, "http://localhost:{p}/v2/"),
        (301, "http://2130706433:{p}/v2/"),
        (308, "http://[::ffff:127.0.0.1]:{p}/v2/"),
        (303, "http://169.254.169.254/latest/meta-data/"),
        (302, "http://10.0.0.1/v2/"),
        (307, "https://registry-1.docker.io/v2/"),
    ]
    .iter()
    .filter(|(_, location)| resolver_checked(location))
    {
        via_redirect.push(
            redirector
                .stateless_url(*status, &counter_url(location))
                .to_string(),
        );
    }

    // Private ranges nobody listens on here.
    let elsewhere: Vec<String> = [
        "http://10.0.0.1/v2/",
        "http://10.255.255.255:5000/v2/",
        "http://172.16.0.1/v2/",
        "http://172.31.255.254/v2/",
        "http://192.168.0.1/v2/",
        "http://192.168.1.1:8080/v2/",
        "http://169.254.169.254/latest/meta-data/",
        "http://0xa9fea9fe/latest/meta-data/",
        "http://2852039166/latest/meta-data/",
        "http://0251.0376.0251.0376/latest/meta-data/",
        "http://[::ffff:169.254.169.254]/latest/meta-data/",
        "http://[fd00:ec2::254]/latest/meta-data/",
        "http://metadata.google.internal/computeMetadata/v1/",
        "http://100.64.0.1/v2/",
        "http://100.127.255.254/v2/",
        "http://[fc00::1]/v2/",
        "http://[fd12:3456::1]/v2/",
        "http://[fe80::1]/v2/",
        "http://[::ffff:10.0.0.1]/v2/",
        "http://[64:ff9b::a00:1]/v2/",
        "https://registry-1.docker.io.evil.example/v2/",
        "https://registry-1.docker.io:443@169.254.169.254/",
        "https://auth.docker.io/token",
        "https://quay.io/v2/",
        "https://eu.gcr.io/v2/",
        "file:///etc/passwd",
    ]
    .iter()
    .filter(|t| resolver_checked(t))
    .map(|t| (*t).to_owned())
    .collect();

    assert_refused(&relay, &to_counters).await;
    assert_refused(&relay, &via_redirect).await;
    assert_refused(&relay, &elsewhere).await;
    let total = to_counters.len() + via_redirect.len() + elsewhere.len();
    let least = if driver == Driver::Binary { 40 } else { 30 };
    assert!(total >= least, "only {total} targets");

    assert_eq!(
        v4.connections(),
        0,
        "a refused target reached 127.0.0.1:{p}"
    );
    assert_eq!(v6.connections(), 0, "a refused target reached [::1]:{q}");
    // The redirector did answer the hops (so the refusals happened at the redirect).
    let hops = redirector
        .requests()
        .iter()
        .filter(|s| s.path.starts_with("/r/"))
        .count();
    assert_eq!(hops, via_redirect.len());
}

fn sock(text: &str) -> SocketAddr {
    text.parse().unwrap()
}

/// The counters do count: the same relay machinery connects when the operator allows the port.
async fn explicitly_allowed_loopback_is_reached(driver: Driver) {
    let counter = Counter::start("127.0.0.1:0").await;
    let config = common::config_for_ports(&[counter.addr.port()]);
    let relay = common::relay(driver, config).await;
    let target = format!("http://127.0.0.1:{}/v2/", counter.addr.port());
    let response = client().get(relay.relay_url(&target)).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 502);
    assert!(counter.connections() >= 1);
}

/// An allowlisted public name that resolves to a private address is refused by the resolver, and a
/// name explicitly allowed may resolve to loopback.
#[tokio::test]
async fn resolved_addresses_are_checked() {
    let counter = Counter::start("127.0.0.1:0").await;
    let mut overrides = HashMap::new();
    overrides.insert("registry-1.docker.io".to_owned(), vec![counter.addr]);
    overrides.insert("registry.internal".to_owned(), vec![counter.addr]);
    let config = Config {
        allow_hosts: common::allow(&["registry.internal".to_owned()]),
        lookup: Arc::new(Overrides::new(overrides, Arc::new(SystemLookup))),
        connect_timeout: Duration::from_secs(5),
        ..Config::default()
    };
    let relay = InProcess::start(config).await;
    let refused = client()
        .get(relay.relay_url("https://registry-1.docker.io/v2/"))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status().as_u16(), 403);
    let body: serde_json::Value = refused.json().await.unwrap();
    assert_eq!(body["error"], "address not allowed");
    assert_eq!(body["address"], "127.0.0.1");
    assert_eq!(counter.connections(), 0);

    let allowed = client()
        .get(relay.relay_url("https://registry.internal/v2/"))
        .send()
        .await
        .unwrap();
    // The counter closes the connection: the TLS handshake fails, so a 502 after one connection.
    assert_eq!(allowed.status().as_u16(), 502);
    assert_eq!(counter.connections(), 1);
}

both_drivers!(
    forty_plus_targets_refused_without_connecting,
    explicitly_allowed_loopback_is_reached,
);
