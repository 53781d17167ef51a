//! DNS rebinding: a name that answers with a public address when first asked and with loopback later
//! (between requests, and between the hops of one redirect chain). The relay checks the answer of every
//! look-up it connects with, so it connects to the public server and never to the loopback one.
//!
//! The "public" server listens on 11.22.33.44 (a public-class address) added to `lo` (tests run as
//! root; `ip addr replace` is idempotent), the loopback one on 127.0.0.1 at the same port, so an answer
//! that flipped would reach it.

mod common;

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use common::{Counter, InProcess};
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use tokio::net::TcpListener;
use wharf_relay::resolve::{Answer, Lookup};
use wharf_relay::Config;

const PUBLIC: &str = "11.22.33.44";

/// Puts the public-class test address on `lo`, so servers can listen on it.
fn add_public_address() {
    let out = std::process::Command::new("ip")
        .args(["addr", "replace", &format!("{PUBLIC}/32"), "dev", "lo"])
        .output()
        .expect("run ip (package iproute2)");
    assert!(
        out.status.success(),
        "ip addr replace {PUBLIC}/32 dev lo: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Answers per name from a script, one per look-up (the last repeats), and remembers what it said.
#[derive(Debug, Default)]
struct Scripted {
    script: Mutex<HashMap<String, Vec<IpAddr>>>,
    asked: Mutex<Vec<(String, IpAddr)>>,
}

impl Scripted {
    fn new(script: &[(&str, &[&str])]) -> Arc<Self> {
        let script = script
            .iter()
            .map(|(name, ips)| {
                let ips = ips.iter().map(|ip| ip.parse().unwrap()).collect();
                (name.to_string(), ips)
            })
            .collect();
        Arc::new(Self {
            script: Mutex::new(script),
            asked: Mutex::default(),
        })
    }

    fn asked(&self) -> Vec<(String, String)> {
        let asked = self.asked.lock().unwrap();
        asked
            .iter()
            .map(|(n, ip)| (n.clone(), ip.to_string()))
            .collect()
    }
}

impl Lookup for Scripted {
    fn lookup(&self, host: &str) -> Answer {
        let mut script = self.script.lock().unwrap();
        let answer = script.get_mut(host).map(|ips| match ips.len() {
            1 => ips[0],
            _ => ips.remove(0),
        });
        let result = match answer {
            Some(ip) => {
                self.asked.lock().unwrap().push((host.to_owned(), ip));
                Ok(vec![SocketAddr::new(ip, 0)])
            }
            None => Err(wharf_relay::resolve::ResolveError::NotFound {
                host: host.to_owned(),
            }),
        };
        Box::pin(async move { result })
    }
}

/// A response that ends its connection, so the next request needs a new one (and a new look-up).
fn closing(status: StatusCode, location: Option<String>, body: &'static str) -> Response {
    let mut response = (status, body).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONNECTION, HeaderValue::from_static("close"));
    if let Some(location) = location {
        headers.insert(header::LOCATION, HeaderValue::from_str(&location).unwrap());
    }
    response
}

/// The public server: `/plain` answers, `/start` → other.test `/hop` → rebind.test `/final`.
async fn public_server() -> (u16, tokio::task::JoinHandle<()>) {
    let listener = TcpListener::bind((PUBLIC, 0)).await.expect("bind public");
    let port = listener.local_addr().unwrap().port();
    let app = Router::new()
        .route(
            "/plain",
            get(|| async { closing(StatusCode::OK, None, "public") }),
        )
        .route(
            "/start",
            get(move || async move {
                let next = format!("http://other.test:{port}/hop");
                closing(StatusCode::TEMPORARY_REDIRECT, Some(next), "")
            }),
        )
        .route(
            "/hop",
            get(move || async move {
                let next = format!("http://rebind.test:{port}/final");
                closing(StatusCode::FOUND, Some(next), "")
            }),
        )
        .route(
            "/final",
            get(|| async { closing(StatusCode::OK, None, "final") }),
        );
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (port, task)
}

struct Setup {
    relay: InProcess,
    loopback: Counter,
    port: u16,
    _public: tokio::task::JoinHandle<()>,
}

async fn setup(lookup: Arc<Scripted>) -> Setup {
    add_public_address();
    let (port, public) = public_server().await;
    // Same port on loopback: where a flipped answer would connect.
    let loopback = Counter::start(&format!("127.0.0.1:{port}")).await;
    let hosts = [
        format!("http://rebind.test:{port}"),
        format!("http://other.test:{port}"),
    ];
    let config = Config {
        allow_public_hosts: common::allow(&hosts),
        lookup,
        ..common::config_for_ports(&[])
    };
    Setup {
        relay: InProcess::start(config).await,
        loopback,
        port,
        _public: public,
    }
}

async fn fetch(setup: &Setup, url: &str) -> (u16, serde_json::Value, String) {
    let response = common::client()
        .get(setup.relay.relay_url(url))
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    let json = serde_json::from_str(&text).unwrap_or(serde_json::Value::Null);
    (status, json, text)
}

#[tokio::test]
async fn an_answer_that_flips_to_loopback_is_refused() {
    let lookup = Scripted::new(&[("rebind.test", &[PUBLIC, "127.0.0.1"])]);
    let s = setup(Arc::clone(&lookup)).await;
    let url = format!("http://rebind.test:{}/plain", s.port);

    let (status, _, text) = fetch(&s, &url).await;
    assert_eq!((status, text.as_str()), (200, "public"));
    for _ in 0..3 {
        let (status, json, _) = fetch(&s, &url).await;
        assert_eq!(status, 403);
        assert_eq!(json["error"], "address not allowed");
        assert_eq!(json["address"], "127.0.0.1");
    }
    assert_eq!(s.loopback.connections(), 0);
    // One look-up per connection: the refusal came from a fresh answer, not a cached one.
    let asked = lookup.asked();
    assert_eq!(asked.len(), 4, "{asked:?}");
    assert_eq!(asked[0].1, PUBLIC);
}

#[tokio::test]
async fn a_redirect_chain_back_to_a_rebound_name_is_refused() {
    // A (public) → B (public) → A again, which now answers loopback.
    let lookup = Scripted::new(&[
        ("rebind.test", &[PUBLIC, "127.0.0.1"]),
        ("other.test", &[PUBLIC]),
    ]);
    let s = setup(Arc::clone(&lookup)).await;
    let url = format!("http://rebind.test:{}/start", s.port);
    let (status, json, _) = fetch(&s, &url).await;
    assert_eq!(status, 403, "{json}");
    assert_eq!(json["error"], "address not allowed");
    assert_eq!(json["host"], "rebind.test");
    assert_eq!(s.loopback.connections(), 0);
    let names: Vec<String> = lookup.asked().into_iter().map(|(n, _)| n).collect();
    assert_eq!(names, ["rebind.test", "other.test", "rebind.test"]);
}

#[tokio::test]
async fn the_same_chain_with_a_stable_answer_arrives() {
    // The control: with answers that stay public, the chain ends at /final on the public server.
    let lookup = Scripted::new(&[("rebind.test", &[PUBLIC]), ("other.test", &[PUBLIC])]);
    let s = setup(lookup).await;
    let url = format!("http://rebind.test:{}/start", s.port);
    let (status, _, text) = fetch(&s, &url).await;
    assert_eq!((status, text.as_str()), (200, "final"));
    assert_eq!(s.loopback.connections(), 0);
}
