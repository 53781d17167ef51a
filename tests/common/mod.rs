//! The end-to-end harness: a real registry (test kit), `wharf-relay` serving the built page,
//! and headless Chromium driven through chromedriver. Everything is stopped on drop.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use tokio::sync::{Mutex, MutexGuard};
use wharf_relay::{AllowHost, Config};
use wharf_testkit::{Front, Mode, Registry};

mod browser;
pub mod firefox;
pub mod lying_relay;
pub mod seed;
mod webdriver;
mod webkit;

pub use browser::Browser;

/// Browser tests run one at a time: two cores do not carry several Chromiums and registries.
static BROWSER_LOCK: Mutex<()> = Mutex::const_new(());

pub async fn serial() -> MutexGuard<'static, ()> {
    // Two TLS backends meet in this test binary (fantoccini's and the relay's); pick one.
    let _ = rustls::crypto::ring::default_provider().install_default();
    BROWSER_LOCK.lock().await
}

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The built page; `cargo xtask test` builds it before the tests run.
pub fn dist() -> PathBuf {
    let dist = root().join("dist");
    assert!(
        dist.join("index.html").is_file(),
        "dist/index.html is missing: build the page first (cargo xtask dist)"
    );
    dist
}

/// `wharf-relay` serving the page, allowed to reach the given loopback hosts.
///
/// It runs on a runtime of its own, so that [`Relay::stop`] can end it the way a crashed
/// relay ends: the listener and every open (keep-alive) connection close at once.
pub struct Relay {
    pub addr: SocketAddr,
    config: Config,
    runtime: Option<tokio::runtime::Runtime>,
}

impl wharf_testkit::RunningRelay for Relay {
    fn base(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The test's own process: the relay runs on a runtime of its own in it.
    fn pid(&self) -> u32 {
        std::process::id()
    }
}

impl Relay {
    pub async fn start(allow: &[String]) -> Relay {
        let allow_hosts = allow
            .iter()
            .map(|h| h.parse::<AllowHost>().expect("allow host"))
            .collect();
        Relay::start_with(Config {
            dist: Some(dist()),
            allow_hosts,
            ..Config::default()
        })
    }

    /// A relay with this configuration (e.g. no page, for a page hosted elsewhere).
    pub fn start_with(config: Config) -> Relay {
        Relay::start_at("127.0.0.1:0".parse().expect("addr"), config)
    }

    /// Like [`Relay::start_with`], on `addr`.
    pub fn start_at(addr: SocketAddr, config: Config) -> Relay {
        let (runtime, addr) = serve_relay(addr, config.clone());
        Relay {
            addr,
            config,
            runtime: Some(runtime),
        }
    }

    pub fn url(&self, path_and_query: &str) -> String {
        format!("http://{}{}", self.addr, path_and_query)
    }

    /// Stops the relay: the port refuses connections and open connections are closed.
    pub fn stop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }

    /// Starts the relay again on the same address (after [`Relay::stop`]).
    pub fn restart(&mut self) {
        self.stop();
        let (runtime, addr) = serve_relay(self.addr, self.config.clone());
        assert_eq!(addr, self.addr, "relay restarted on its old address");
        self.runtime = Some(runtime);
    }
}

/// Binds `addr` (reusing it right after a stop) and serves the relay on a new runtime.
fn serve_relay(addr: SocketAddr, config: Config) -> (tokio::runtime::Runtime, SocketAddr) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name("e2e-relay")
        .enable_all()
        .build()
        .expect("relay runtime");
    let listener = {
        let _context = runtime.enter();
        let socket = tokio::net::TcpSocket::new_v4().expect("socket");
        socket.set_reuseaddr(true).expect("reuseaddr");
        socket.bind(addr).expect("bind the relay");
        socket.listen(1024).expect("listen")
    };
    let addr = listener.local_addr().expect("addr");
    let app = wharf_relay::app(config);
    runtime.spawn(async move {
        let _ = axum_serve(listener, app).await;
    });
    (runtime, addr)
}

async fn axum_serve(listener: tokio::net::TcpListener, app: axum::Router) -> std::io::Result<()> {
    let service = app.into_make_service_with_connect_info::<std::net::SocketAddr>();
    axum::serve(listener, service).await
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A registry and the relay in front of it, with the hosts it needs allowed.
pub struct Stack {
    pub registry: Registry,
    pub relay: Relay,
    /// The test kit's fault-injecting front, when the page reaches the registry through it.
    pub front: Option<Front>,
}

impl Stack {
    pub async fn start(mode: Mode) -> Stack {
        let registry = Registry::start(mode).await.expect("registry starts");
        Stack::around(registry).await
    }

    pub async fn around(registry: Registry) -> Stack {
        let mut allow = vec![format!("http://{}", registry.host_port())];
        if let Some(token) = registry.token_server() {
            allow.push(origin(token.realm()));
        }
        if let Some(cdn) = registry.cdn() {
            allow.push(origin(&cdn.base_url()));
            allow.push(origin(&cdn.base_url_ip()));
        }
        let relay = Relay::start(&allow).await;
        Stack {
            registry,
            relay,
            front: None,
        }
    }

    /// A registry that the page reaches through a [`Front`] (faults on demand): references
    /// name the front's host, and the relay may reach only the front.
    pub async fn with_front(mode: Mode) -> Stack {
        let registry = Registry::start(mode).await.expect("registry starts");
        let front = Front::start(registry.base_url())
            .await
            .expect("front starts");
        let relay = Relay::start(&[format!("http://{}", front.host_port())]).await;
        Stack {
            registry,
            relay,
            front: Some(front),
        }
    }

    /// The front (panics for a stack without one).
    pub fn front(&self) -> &Front {
        self.front.as_ref().expect("a stack started with_front")
    }

    /// A reference to `repo:tag` on this registry (through the front, if any), as a user types it.
    pub fn reference(&self, repo_tag: &str) -> String {
        let host = match &self.front {
            Some(front) => front.host_port(),
            None => self.registry.host_port(),
        };
        format!("{host}/{repo_tag}")
    }
}

/// `http://host:port` of a URL, as `--allow-host` takes it.
pub fn origin(url: &url::Url) -> String {
    format!(
        "{}://{}:{}",
        url.scheme(),
        url.host_str().unwrap_or_default(),
        url.port_or_known_default().unwrap_or(80)
    )
}

pub fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("addr").port()
}

/// The sha256 of a file, streamed.
pub fn sha256_file(path: &Path) -> String {
    use sha2::Digest as _;
    use std::io::Read;
    let mut file = std::fs::File::open(path).expect("open");
    let mut hasher = sha2::Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = file.read(&mut buf).expect("read");
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// After the front cut blob streams: the page got each again, resuming with `Range`, or (in
/// WebKitGTK, which hands the page none of a cut body's bytes) asking a layer again from its
/// start, with no `Range`.
pub fn assert_cut_blobs_recovered(browser: &Browser, front: &Front, layers: &[wharf_oci::Digest]) {
    let gets: Vec<(String, Vec<String>)> = front
        .requests()
        .iter()
        .filter(|r| r.method == "GET" && r.path.contains("/blobs/"))
        .map(|r| {
            let range = r
                .header_values("range")
                .iter()
                .map(|v| v.to_string())
                .collect();
            (r.path.clone(), range)
        })
        .collect();
    if browser.kind == firefox::Kind::WebKit {
        let asked = |d: &wharf_oci::Digest| {
            let path = format!("/blobs/{d}");
            gets.iter().filter(|(p, _)| p.ends_with(&path)).count()
        };
        let again = layers.iter().any(|d| asked(d) >= 2);
        assert!(again, "a cut layer was asked again: {gets:#?}");
    } else {
        let ranged = gets.iter().any(|(_, range)| !range.is_empty());
        assert!(
            ranged,
            "a cut blob stream was resumed with Range: {gets:#?}"
        );
    }
}
