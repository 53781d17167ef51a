//! DNS rebinding: a name that answers with a public address when first asked and with loopback later
//! (between requests, and between the hops of one redirect chain). The relay checks the answer of every
//! look-up it connects with, so it connects to the public server and never to the loopback one.
//!
//! Both drivers: the binary asks a scripted `Lookup` (its resolver is pluggable); the Worker on
//! workerd asks the system resolver, so its tests script `/etc/hosts` instead (glibc reads it on
//! every look-up), flipping it between requests and, for the chain, while the server answers the
//! middle hop. workerd's network `allow` list (public addresses only here) is what refuses there.
//!
//! The "public" server listens on 11.22.33.44 (a public-class address) added to `lo` (tests run as
//! root; `ip addr replace` is idempotent), the loopback one on 127.0.0.1 at the same port, so an answer
//! that flipped would reach it.

mod common;

use common::RunningRelay;

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
use wharf_testkit::WorkerdRelay;

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

/// Called when the public server answers `/hop` (before its redirect back to rebind.test).
type OnHop = Arc<dyn Fn() + Send + Sync>;

/// The public server: `/plain` answers, `/start` → other.test `/hop` → rebind.test `/final`.
async fn public_server(on_hop: OnHop) -> (u16, tokio::task::JoinHandle<()>) {
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
                on_hop();
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
    let (port, public) = public_server(Arc::new(|| {})).await;
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

/// GETs `relay_url`: status, body as JSON (Null if it is not), body as text.
async fn get_via(relay_url: String) -> (u16, serde_json::Value, String) {
    let response = common::client().get(relay_url).send().await.unwrap();
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

    let (status, _, text) = get_via(s.relay.relay_url(&url)).await;
    assert_eq!((status, text.as_str()), (200, "public"));
    for _ in 0..3 {
        let (status, json, _) = get_via(s.relay.relay_url(&url)).await;
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
    let (status, json, _) = get_via(s.relay.relay_url(&url)).await;
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
    let (status, _, text) = get_via(s.relay.relay_url(&url)).await;
    assert_eq!((status, text.as_str()), (200, "final"));
    assert_eq!(s.loopback.connections(), 0);
}

/// `/etc/hosts` with test names appended; the original is put back on drop (also on a panic).
struct HostsFile {
    original: String,
}

const HOSTS: &str = "/etc/hosts";

impl HostsFile {
    fn new() -> HostsFile {
        let original = std::fs::read_to_string(HOSTS).expect("read /etc/hosts");
        HostsFile { original }
    }

    /// Rewrites the file in place (it may be a bind mount): the original plus `entries`.
    fn set(&self, entries: &[(&str, &str)]) {
        write_hosts(&self.original, entries);
    }
}

fn write_hosts(original: &str, entries: &[(&str, &str)]) {
    let mut text = original.trim_end().to_owned();
    text.push_str("\n# wharf-relay rebinding test\n");
    for (name, ip) in entries {
        text.push_str(&format!("{ip} {name}\n"));
    }
    std::fs::write(HOSTS, text).expect("write /etc/hosts");
}

impl Drop for HostsFile {
    fn drop(&mut self) {
        let _ = std::fs::write(HOSTS, &self.original);
    }
}

/// The worker tests share `/etc/hosts`: one at a time.
static HOSTS_LOCK: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

struct WorkerSetup {
    relay: WorkerdRelay,
    loopback: Counter,
    port: u16,
    _public: tokio::task::JoinHandle<()>,
}

async fn worker_setup(on_hop: OnHop) -> WorkerSetup {
    add_public_address();
    let (port, public) = public_server(on_hop).await;
    let loopback = Counter::start(&format!("127.0.0.1:{port}")).await;
    let rebind = format!("http://rebind.test:{port}");
    let other = format!("http://other.test:{port}");
    let flags = [
        "--allow-public-host",
        &rebind,
        "--allow-public-host",
        &other,
    ];
    let relay = WorkerdRelay::start(&flags).await.expect("workerd");
    WorkerSetup {
        relay,
        loopback,
        port,
        _public: public,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn worker_an_answer_that_flips_to_loopback_is_refused() {
    let _one = HOSTS_LOCK.lock().await;
    let hosts = HostsFile::new();
    hosts.set(&[("rebind.test", PUBLIC)]);
    let s = worker_setup(Arc::new(|| {})).await;
    let url = format!("http://rebind.test:{}/plain", s.port);

    let (status, _, text) = get_via(s.relay.relay_url(&url)).await;
    assert_eq!((status, text.as_str()), (200, "public"));
    hosts.set(&[("rebind.test", "127.0.0.1")]);
    for _ in 0..3 {
        let (status, json, text) = get_via(s.relay.relay_url(&url)).await;
        assert_eq!(status, 502, "{text}");
        assert_eq!(json["error"], "upstream unreachable");
        assert_eq!(json["host"], "rebind.test");
    }
    assert_eq!(s.loopback.connections(), 0);
}

/// The A→B→A chain through the Worker: `rebound` makes rebind.test answer loopback while
/// other.test answers the middle hop. Status, JSON, text, and the loopback listener's connections.
async fn worker_chain(rebound: bool) -> (u16, serde_json::Value, String, usize) {
    let _one = HOSTS_LOCK.lock().await;
    let hosts = HostsFile::new();
    hosts.set(&[("rebind.test", PUBLIC), ("other.test", PUBLIC)]);
    let original = hosts.original.clone();
    let flip: OnHop = Arc::new(move || {
        if rebound {
            write_hosts(
                &original,
                &[("rebind.test", "127.0.0.1"), ("other.test", PUBLIC)],
            );
        }
    });
    let s = worker_setup(flip).await;
    let url = format!("http://rebind.test:{}/start", s.port);
    let (status, json, text) = get_via(s.relay.relay_url(&url)).await;
    (status, json, text, s.loopback.connections())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn worker_a_redirect_chain_back_to_a_rebound_name_is_refused() {
    let (status, json, text, loopback) = worker_chain(true).await;
    assert_eq!(status, 502, "{text}");
    assert_eq!(json["host"], "rebind.test");
    assert_eq!(loopback, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn worker_the_same_chain_with_a_stable_answer_arrives() {
    // The control: the answers stay public and the chain ends at /final.
    let (status, _, text, loopback) = worker_chain(false).await;
    assert_eq!((status, text.as_str()), (200, "final"));
    assert_eq!(loopback, 0);
}
