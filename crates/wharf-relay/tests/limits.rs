//! Per-client and per-Origin limits over real sockets: the client key is the peer address the relay
//! sees (tests pick it with a local address in 127.0.0.0/8), the answer a 429 with `Retry-After` that
//! a page on another origin can read.

mod common;

use common::{After, InProcess, Raw, RunningRelay};
use std::net::IpAddr;
use std::time::Duration;
use wharf_relay::limits::Rule;
use wharf_relay::Config;

/// A client whose connections come from `source`.
fn client_from(source: &str) -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .local_address(source.parse::<IpAddr>().unwrap())
        .build()
        .unwrap()
}

/// An upstream whose body never ends: each request holds its slots until the client drops it.
async fn stalling_upstream() -> Raw {
    Raw::start(
        b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\nstarted".to_vec(),
        After::Stall,
    )
    .await
}

async fn relay_with(upstream: &Raw, client: Rule, origin: Rule) -> InProcess {
    let config = Config {
        client_limit: client,
        origin_limit: origin,
        allow_origins: vec!["https://page.example".parse().unwrap()],
        ..common::config_for_ports(&[upstream.addr.port()])
    };
    InProcess::start(config).await
}

fn rule(max_concurrent: u32, rate: f64, burst: u32) -> Rule {
    Rule {
        max_concurrent,
        rate,
        burst,
    }
}

async fn refusal(response: reqwest::Response) -> (u16, Option<String>, serde_json::Value) {
    let status = response.status().as_u16();
    let retry = response
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().to_owned());
    (status, retry, response.json().await.unwrap())
}

#[tokio::test]
async fn one_client_cannot_take_every_slot() {
    let upstream = stalling_upstream().await;
    let relay = relay_with(&upstream, rule(2, 0.0, 0), Rule::OFF).await;
    let url = relay.relay_url(&upstream.url("/v2/x/blobs/sha256:00"));
    let greedy = client_from("127.0.0.2");
    let first = greedy.get(&url).send().await.unwrap();
    let second = greedy.get(&url).send().await.unwrap();
    assert_eq!(
        (first.status().as_u16(), second.status().as_u16()),
        (200, 200)
    );

    let (status, retry, body) = refusal(greedy.get(&url).send().await.unwrap()).await;
    assert_eq!((status, retry.as_deref()), (429, Some("1")));
    assert_eq!(
        body,
        serde_json::json!({"error": "rate limited", "scope": "client", "retry_after": 1})
    );

    // Another address is not held up by the greedy one.
    let polite = client_from("127.0.0.3").get(&url).send().await.unwrap();
    assert_eq!(polite.status(), 200);

    // A finished (here: abandoned) body gives its slot back.
    drop(first);
    let again = wait_until_admitted(&greedy, &url).await;
    assert_eq!(again.status(), 200);
    drop((second, polite, again));
}

/// The slot is given back when the relay notices the client went away, which takes a moment.
async fn wait_until_admitted(client: &reqwest::Client, url: &str) -> reqwest::Response {
    for _ in 0..100 {
        let response = client.get(url).send().await.unwrap();
        if response.status() != 429 {
            return response;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("the slot of a dropped body was never given back");
}

#[tokio::test]
async fn request_rate_is_limited_with_a_wait_to_honour() {
    let upstream = Raw::start(
        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok".to_vec(),
        After::Close,
    )
    .await;
    // One request per 4 s, bursts of 3.
    let relay = relay_with(&upstream, rule(0, 0.25, 3), Rule::OFF).await;
    let url = relay.relay_url(&upstream.url("/v2/"));
    let client = client_from("127.0.0.4");
    for _ in 0..3 {
        let response = client.get(&url).send().await.unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(response.text().await.unwrap(), "ok");
    }
    let (status, retry, body) = refusal(client.get(&url).send().await.unwrap()).await;
    assert_eq!(status, 429);
    let retry: u64 = retry.unwrap().parse().unwrap();
    assert!((3..=4).contains(&retry), "Retry-After {retry}");
    assert_eq!(body["retry_after"], retry);
    // Each address has its own bucket.
    let other = client_from("127.0.0.5").get(&url).send().await.unwrap();
    assert_eq!(other.status(), 200);
}

#[tokio::test]
async fn an_origin_is_limited_across_clients_and_can_read_the_refusal() {
    let upstream = stalling_upstream().await;
    let relay = relay_with(&upstream, Rule::OFF, rule(1, 0.0, 0)).await;
    let url = relay.relay_url(&upstream.url("/v2/x/blobs/sha256:00"));
    let from_page = |source: &str| {
        client_from(source)
            .get(&url)
            .header("origin", "https://page.example")
    };
    let held = from_page("127.0.0.6").send().await.unwrap();
    assert_eq!(held.status(), 200);
    let refused = from_page("127.0.0.7").send().await.unwrap();
    assert_eq!(
        refused.headers()["access-control-allow-origin"],
        "https://page.example"
    );
    let exposed = refused.headers()["access-control-expose-headers"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(exposed.contains("Retry-After"), "{exposed}");
    let (status, _, body) = refusal(refused).await;
    assert_eq!((status, body["scope"].as_str()), (429, Some("origin")));
    // Requests without an Origin (the relay's own page, curl) do not count against it.
    let direct = client_from("127.0.0.7").get(&url).send().await.unwrap();
    assert_eq!(direct.status(), 200);
    drop(held);
}

/// A request the policy refuses spends nothing: with a bucket of one and (almost) no refill, the
/// first allowed request after five refusals still passes.
#[tokio::test]
async fn refused_requests_spend_no_token() {
    let upstream = stalling_upstream().await;
    let relay = relay_with(&upstream, rule(0, 0.001, 1), Rule::OFF).await;
    let client = client_from("127.0.0.8");
    for _ in 0..5 {
        let refused = client
            .get(relay.relay_url("http://10.0.0.1/v2/"))
            .send()
            .await
            .unwrap();
        assert_eq!(refused.status(), 403);
    }
    let url = relay.relay_url(&upstream.url("/v2/"));
    assert_eq!(client.get(&url).send().await.unwrap().status(), 200);
}
