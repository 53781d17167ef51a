//! CORS on the relay routes: preflight and actual answers carry the allowed and exposed header lists for
//! an allowed origin (listed, or the relay's own), and no CORS header at all for a refused one.

mod common;

use common::{client, Driver, Relay};
use reqwest::header::{HeaderMap, ACCEPT, ORIGIN};
use reqwest::Method;
use wharf_relay::{AllowOrigin, Config};
use wharf_testkit::{Mode, Registry};

const PAGE: &str = "https://page.example";
const EVIL: &str = "https://evil.example";

fn cors_headers(headers: &HeaderMap) -> Vec<String> {
    headers
        .keys()
        .map(|k| k.as_str().to_owned())
        .filter(|k| k.starts_with("access-control-"))
        .collect()
}

async fn relay_for(driver: Driver, registry: &Registry, origins: &[&str]) -> Relay {
    let origins: Vec<AllowOrigin> = origins.iter().map(|o| o.parse().unwrap()).collect();
    common::relay(
        driver,
        Config {
            allow_origins: origins,
            ..common::config_for_ports(&[registry.port()])
        },
    )
    .await
}

async fn preflight(relay: &Relay, target: &str, origin: &str) -> reqwest::Response {
    client()
        .request(Method::OPTIONS, relay.relay_url(target))
        .header(ORIGIN, origin)
        .header("access-control-request-method", "GET")
        .header("access-control-request-headers", "authorization, range")
        .send()
        .await
        .unwrap()
}

async fn preflight_allowed_and_refused(driver: Driver) {
    let registry = Registry::start(Mode::Anonymous).await.unwrap();
    let relay = relay_for(driver, &registry, &[PAGE]).await;
    let target = registry.v2_url("");

    let ok = preflight(&relay, target.as_str(), PAGE).await;
    assert_eq!(ok.status().as_u16(), 204);
    let h = ok.headers();
    assert_eq!(h["access-control-allow-origin"], PAGE);
    assert_eq!(h["access-control-allow-methods"], "GET, HEAD, OPTIONS");
    let allowed = h["access-control-allow-headers"]
        .to_str()
        .unwrap()
        .to_ascii_lowercase();
    for name in ["authorization", "accept", "range", "content-type"] {
        assert!(allowed.contains(name), "{name} not allowed");
    }
    assert!(h.contains_key("access-control-max-age"));
    assert_eq!(h["vary"], "Origin");
    assert!(!h.contains_key("access-control-allow-credentials"));

    let own = relay.base();
    let own_ok = preflight(&relay, target.as_str(), &own).await;
    assert_eq!(own_ok.status().as_u16(), 204);
    assert_eq!(
        own_ok.headers()["access-control-allow-origin"],
        own.as_str()
    );

    let refused = preflight(&relay, target.as_str(), EVIL).await;
    assert_eq!(refused.status().as_u16(), 403);
    assert!(
        cors_headers(refused.headers()).is_empty(),
        "{:?}",
        refused.headers()
    );
}

async fn actual_responses_allowed_and_refused(driver: Driver) {
    let registry = Registry::start(Mode::Basic).await.unwrap();
    let relay = relay_for(driver, &registry, &[PAGE]).await;
    let target = registry.v2_url("");

    // The 401 with its challenge is readable by the page: WWW-Authenticate is exposed.
    let ok = client()
        .get(relay.relay_url(target.as_str()))
        .header(ORIGIN, PAGE)
        .header(ACCEPT, "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status().as_u16(), 401);
    let h = ok.headers();
    assert_eq!(h["access-control-allow-origin"], PAGE);
    let exposed = h["access-control-expose-headers"]
        .to_str()
        .unwrap()
        .to_ascii_lowercase();
    for name in [
        "www-authenticate",
        "docker-content-digest",
        "content-length",
        "content-range",
        "content-type",
        "link",
        "retry-after",
        "ratelimit-limit",
        "ratelimit-remaining",
        "etag",
    ] {
        assert!(exposed.contains(name), "{name} not exposed");
    }
    assert!(h["www-authenticate"].to_str().unwrap().starts_with("Basic"));
    assert_eq!(h.get_all("access-control-allow-origin").iter().count(), 1);

    // Relay refusals are readable by an allowed page too.
    let refusal = client()
        .get(relay.relay_url("http://10.0.0.1/v2/"))
        .header(ORIGIN, PAGE)
        .send()
        .await
        .unwrap();
    assert_eq!(refusal.status().as_u16(), 403);
    assert_eq!(refusal.headers()["access-control-allow-origin"], PAGE);

    // A refused origin gets 403 JSON and no CORS header.
    let refused = client()
        .get(relay.relay_url(target.as_str()))
        .header(ORIGIN, EVIL)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status().as_u16(), 403);
    assert!(cors_headers(refused.headers()).is_empty());
    let body: serde_json::Value = refused.json().await.unwrap();
    assert_eq!(body["error"], "origin not allowed");
    assert_eq!(body["origin"], EVIL);

    // No Origin (same-origin GET, curl): no CORS headers, request relayed.
    let plain = client()
        .get(relay.relay_url(target.as_str()))
        .send()
        .await
        .unwrap();
    assert_eq!(plain.status().as_u16(), 401);
    assert!(cors_headers(plain.headers()).is_empty());
}

async fn star_must_be_explicit(driver: Driver) {
    let registry = Registry::start(Mode::Anonymous).await.unwrap();
    let target = registry.v2_url("");
    let closed = relay_for(driver, &registry, &[]).await;
    let refused = client()
        .get(closed.relay_url(target.as_str()))
        .header(ORIGIN, EVIL)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status().as_u16(), 403);

    let open = relay_for(driver, &registry, &["*"]).await;
    let ok = client()
        .get(open.relay_url(target.as_str()))
        .header(ORIGIN, EVIL)
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status().as_u16(), 200);
    assert_eq!(ok.headers()["access-control-allow-origin"], "*");
}

both_drivers!(
    preflight_allowed_and_refused,
    actual_responses_allowed_and_refused,
    star_must_be_explicit,
);
