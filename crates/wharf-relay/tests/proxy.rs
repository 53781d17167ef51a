//! Relay behaviour against a real registry and small raw fixtures: header rules both ways, repeated
//! `Accept`, `Range`, short bodies, idle timeouts, the concurrency bound, methods and refusals.

mod common;

use common::{client, sha256_of, After, Driver, InProcess, Raw, RunningRelay};
use reqwest::header::{ACCEPT, AUTHORIZATION, RANGE};
use std::time::{Duration, Instant};
use wharf_relay::Config;
use wharf_testkit::{Flavor, Mode, Pattern, Redirector, Registry};

fn config(ports: &[u16]) -> Config {
    common::config_for_ports(ports)
}

async fn repeated_accept_headers_reach_the_registry(driver: Driver) {
    let registry = Registry::start(Mode::Anonymous).await.unwrap();
    let index = registry
        .push_multi_platform("multi/app", "v1", Flavor::Oci)
        .await
        .unwrap();
    let relay = common::relay(driver, config(&[registry.port()])).await;
    let url = registry.v2_url("multi/app/manifests/v1");

    // 2.8.2 answers 404 for an OCI index unless Accept names it: one Accept per type must pass as is.
    let response = client()
        .get(relay.relay_url(url.as_str()))
        .header(ACCEPT, "application/vnd.oci.image.manifest.v1+json")
        .header(ACCEPT, "application/vnd.oci.image.index.v1+json")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let digest = response.headers()["docker-content-digest"]
        .to_str()
        .unwrap()
        .to_owned();
    assert_eq!(digest, index.index.digest.to_string());
    let (hex, size) = sha256_of(response).await.unwrap();
    assert_eq!(
        (hex.as_str(), size),
        (index.index.digest.hex(), index.index.size)
    );

    let without = client()
        .get(relay.relay_url(url.as_str()))
        .header(ACCEPT, "application/vnd.oci.image.manifest.v1+json")
        .send()
        .await
        .unwrap();
    assert_eq!(without.status().as_u16(), 404);
}

async fn request_headers_are_filtered_and_kept_in_order(driver: Driver) {
    let redirector = Redirector::start().await.unwrap();
    redirector.serve("/echo", "ok", "text/plain");
    let relay = common::relay(driver, config(&[redirector.port()])).await;
    let response = client()
        .get(relay.relay_url(redirector.url("/echo").as_str()))
        .header(ACCEPT, "application/vnd.oci.image.index.v1+json")
        .header(
            ACCEPT,
            "application/vnd.docker.distribution.manifest.v2+json",
        )
        .header(ACCEPT, "application/vnd.oci.image.manifest.v1+json")
        .header(AUTHORIZATION, "Bearer t0ken")
        .header("cookie", "session=1")
        .header("referer", "http://page.example/")
        .header("x-forwarded-for", "203.0.113.9")
        .header("proxy-authorization", "Basic eDp5")
        .header("connection", "x-custom")
        .header("x-custom", "1")
        .header("user-agent", "wharf-test/1")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let seen = redirector.requests();
    assert_eq!(seen.len(), 1);
    let seen = &seen[0];
    common::assert_fields(
        driver,
        &seen.header_values("accept"),
        &[
            "application/vnd.oci.image.index.v1+json",
            "application/vnd.docker.distribution.manifest.v2+json",
            "application/vnd.oci.image.manifest.v1+json",
        ],
    );
    assert!(seen.authorization);
    assert!(!seen.cookie);
    assert_eq!(seen.header_values("user-agent"), ["wharf-test/1"]);
    for gone in [
        "referer",
        "x-forwarded-for",
        "proxy-authorization",
        "x-custom",
        "origin",
    ] {
        assert!(seen.header_values(gone).is_empty(), "{gone} was forwarded");
    }
}

async fn response_headers_are_filtered(driver: Driver) {
    let raw = Raw::start(
        b"HTTP/1.1 200 OK\r\n\
          Content-Type: application/json\r\n\
          Content-Length: 2\r\n\
          Connection: x-hop\r\n\
          X-Hop: secret\r\n\
          Keep-Alive: timeout=5\r\n\
          Set-Cookie: a=1\r\n\
          Set-Cookie: b=2\r\n\
          Access-Control-Allow-Origin: *\r\n\
          Strict-Transport-Security: max-age=63072000\r\n\
          Docker-Content-Digest: sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a\r\n\
          Link: <a>; rel=\"next\"\r\n\
          Link: <b>; rel=\"prev\"\r\n\
          \r\n{}"
            .to_vec(),
        After::Close,
    )
    .await;
    let relay = common::relay(driver, config(&[raw.addr.port()])).await;
    let response = client()
        .get(relay.relay_url(&raw.url("/x")))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let headers = response.headers().clone();
    for gone in [
        "x-hop",
        "keep-alive",
        "set-cookie",
        "access-control-allow-origin",
        "strict-transport-security",
    ] {
        assert!(!headers.contains_key(gone), "{gone} passed");
    }
    let links: Vec<&str> = headers
        .get_all("link")
        .iter()
        .map(|v| v.to_str().unwrap())
        .collect();
    common::assert_fields(driver, &links, &["<a>; rel=\"next\"", "<b>; rel=\"prev\""]);
    assert!(headers.contains_key("docker-content-digest"));
    assert_eq!(response.text().await.unwrap(), "{}");
}

async fn range_passes_through(driver: Driver) {
    let registry = Registry::start(Mode::Anonymous).await.unwrap();
    let pattern = Pattern::new(5);
    let blob = registry
        .push_blob("range/blob", pattern.bytes(0, 4096))
        .await
        .unwrap();
    let relay = common::relay(driver, config(&[registry.port()])).await;
    let url = registry.v2_url(&format!("range/blob/blobs/{}", blob.digest));
    let response = client()
        .get(relay.relay_url(url.as_str()))
        .header(RANGE, "bytes=100-163")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 206);
    assert_eq!(response.headers()["content-range"], "bytes 100-163/4096");
    assert_eq!(
        response.bytes().await.unwrap().to_vec(),
        pattern.bytes(100, 64)
    );
}

async fn short_bodies_are_errors_not_clean_ends(driver: Driver) {
    // distribution 2.8.2's 416 claims more bytes than it sends (docs/environment.md section 2).
    let registry = Registry::start(Mode::Anonymous).await.unwrap();
    let blob = registry
        .push_blob("short/blob", Pattern::new(1).bytes(0, 1000))
        .await
        .unwrap();
    let relay = common::relay(driver, config(&[registry.port()])).await;
    let url = registry.v2_url(&format!("short/blob/blobs/{}", blob.digest));
    let response = client()
        .get(relay.relay_url(url.as_str()))
        .header(RANGE, "bytes=5000-6000")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 416);
    let declared: u64 = response.headers()["content-length"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    let read = response.bytes().await;
    assert!(
        read.is_err(),
        "a {declared}-byte 416 body ended cleanly: {read:?}"
    );

    // A fixture that promises 100 bytes, sends 10 and closes.
    let raw = Raw::start(
        b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789".to_vec(),
        After::Close,
    )
    .await;
    let relay = InProcess::start(config(&[raw.addr.port()])).await;
    let response = client()
        .get(relay.relay_url(&raw.url("/short")))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    assert!(response.bytes().await.is_err());
}

#[tokio::test]
async fn idle_upstreams_time_out() {
    let silent = Raw::start(Vec::new(), After::Stall).await;
    let stalled = Raw::start(
        b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789".to_vec(),
        After::Stall,
    )
    .await;
    let relay = InProcess::start(Config {
        idle_timeout: Duration::from_millis(300),
        connect_timeout: Duration::from_millis(300),
        ..config(&[silent.addr.port(), stalled.addr.port()])
    })
    .await;

    let started = Instant::now();
    let response = client()
        .get(relay.relay_url(&silent.url("/")))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 504);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["error"], "upstream timeout");
    assert!(started.elapsed() < Duration::from_secs(3));

    let started = Instant::now();
    let response = client()
        .get(relay.relay_url(&stalled.url("/")))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    assert!(response.bytes().await.is_err());
    assert!(started.elapsed() < Duration::from_secs(3));
}

#[tokio::test]
async fn concurrency_is_bounded_with_503_and_retry_after() {
    let stalled = Raw::start(
        b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789".to_vec(),
        After::Stall,
    )
    .await;
    let redirector = Redirector::start().await.unwrap();
    redirector.serve("/ok", "fine", "text/plain");
    let relay = InProcess::start(Config {
        max_concurrent: 1,
        ..config(&[stalled.addr.port(), redirector.port()])
    })
    .await;
    let http = client();
    let holding = http
        .get(relay.relay_url(&stalled.url("/")))
        .send()
        .await
        .unwrap();
    assert_eq!(holding.status().as_u16(), 200);

    let busy = http
        .get(relay.relay_url(redirector.url("/ok").as_str()))
        .send()
        .await
        .unwrap();
    assert_eq!(busy.status().as_u16(), 503);
    assert_eq!(busy.headers()["retry-after"], "1");
    let body: serde_json::Value = busy.json().await.unwrap();
    assert_eq!(body["error"], "relay busy");
    // Policy refusals do not need a permit.
    let refused = http
        .get(relay.relay_url("http://10.0.0.1/"))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status().as_u16(), 403);

    // The client leaving releases the permit.
    drop(holding);
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let again = http
            .get(relay.relay_url(redirector.url("/ok").as_str()))
            .send()
            .await
            .unwrap();
        if again.status().as_u16() == 200 {
            assert_eq!(again.text().await.unwrap(), "fine");
            break;
        }
        assert!(Instant::now() < deadline, "permit never released");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn methods_targets_and_unreachable_upstreams(driver: Driver) {
    let closed_port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let relay = common::relay(driver, config(&[closed_port])).await;
    let http = client();
    let target = format!("http://127.0.0.1:{closed_port}/v2/");
    for method in [
        reqwest::Method::POST,
        reqwest::Method::PUT,
        reqwest::Method::DELETE,
        reqwest::Method::PATCH,
    ] {
        let response = http
            .request(method.clone(), relay.relay_url(&target))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 405, "{method}");
        assert_eq!(response.headers()["allow"], "GET, HEAD, OPTIONS");
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(body["error"], "method not allowed");
    }
    for (path, status) in [("/relay/", 400), ("/relay", 400), ("/relay/not-a-url", 400)] {
        let response = http
            .get(format!("{}{path}", relay.base()))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), status, "{path}");
        let body: serde_json::Value = response.json().await.unwrap();
        assert!(body["error"].is_string());
    }
    let response = http.get(relay.relay_url(&target)).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 502);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["error"], "upstream unreachable");
    assert!(
        body["reason"].as_str().unwrap().contains("connect"),
        "{body}"
    );

    let health = http
        .get(format!("{}/healthz", relay.base()))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status().as_u16(), 200);
    assert_eq!(
        health.json::<serde_json::Value>().await.unwrap()["status"],
        "ok"
    );
}

both_drivers!(
    repeated_accept_headers_reach_the_registry,
    request_headers_are_filtered_and_kept_in_order,
    response_headers_are_filtered,
    range_passes_through,
    short_bodies_are_errors_not_clean_ends,
    methods_targets_and_unreachable_upstreams,
);
