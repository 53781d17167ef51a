//! The end-to-end harness: a real registry (test kit), `wharf-relay` serving the built page,
//! and headless Chromium driven through chromedriver. Everything is stopped on drop.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;
use tokio::sync::{Mutex, MutexGuard};
use wharf_relay::{AllowHost, Config};
use wharf_testkit::{Mode, Registry};

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
pub struct Relay {
    pub addr: SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl Relay {
    pub async fn start(allow: &[String]) -> Relay {
        let allow_hosts = allow
            .iter()
            .map(|h| h.parse::<AllowHost>().expect("allow host"))
            .collect();
        let config = Config { dist: Some(dist()), allow_hosts, ..Config::default() };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let app = wharf_relay::app(config);
        let task = tokio::spawn(async move {
            let _ = axum_serve(listener, app).await;
        });
        Relay { addr, task }
    }

    pub fn url(&self, path_and_query: &str) -> String {
        format!("http://{}{}", self.addr, path_and_query)
    }
}

async fn axum_serve(listener: tokio::net::TcpListener, app: axum::Router) -> std::io::Result<()> {
    axum::serve(listener, app).await
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// A registry and the relay in front of it, with the hosts it needs allowed.
pub struct Stack {
    pub registry: Registry,
    pub relay: Relay,
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
        Stack { registry, relay }
    }

    /// A reference to `repo:tag` on this registry, as a user types it.
    pub fn reference(&self, repo_tag: &str) -> String {
        format!("{}/{repo_tag}", self.registry.host_port())
    }
}

/// `http://host:port` of a URL, as `--allow-host` takes it.
pub fn origin(url: &url::Url) -> String {
    format!("{}://{}:{}", url.scheme(), url.host_str().unwrap_or_default(), url.port_or_known_default().unwrap_or(80))
}

/// Headless Chromium through chromedriver, with its own profile and download folder.
pub struct Browser {
    pub client: Client,
    driver: Child,
    _profile: tempfile::TempDir,
    pub downloads: tempfile::TempDir,
}

const CHROMIUM_ARGS: &[&str] = &[
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--window-size=1280,1000",
];

impl Browser {
    pub async fn start() -> Browser {
        let port = free_port();
        let driver = Command::new("/usr/bin/chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts (apt-get install chromium-driver)");
        let profile = tempfile::tempdir().expect("profile dir");
        let downloads = tempfile::tempdir().expect("download dir");
        let mut args: Vec<String> = CHROMIUM_ARGS.iter().map(|s| (*s).to_owned()).collect();
        args.push(format!("--user-data-dir={}", profile.path().display()));
        let caps = json!({
            "goog:chromeOptions": {
                "binary": "/usr/bin/chromium",
                "args": args,
                "prefs": {
                    "download.default_directory": downloads.path(),
                    "download.prompt_for_download": false,
                    "download.directory_upgrade": true,
                    "safebrowsing.enabled": false,
                },
            }
        });
        let serde_json::Value::Object(caps) = caps else { unreachable!() };
        let url = format!("http://127.0.0.1:{port}");
        let client = connect(&url, caps).await;
        Browser { client, driver, _profile: profile, downloads }
    }

    pub async fn open(&self, url: &str) {
        self.client.goto(url).await.expect("navigate");
        self.wait("#reference").await;
    }

    /// Waits (up to 30 s) for an element matching `css`.
    pub async fn wait(&self, css: &str) -> Element {
        self.wait_for(css, Duration::from_secs(30)).await
    }

    pub async fn wait_for(&self, css: &str, timeout: Duration) -> Element {
        let found = self
            .client
            .wait()
            .at_most(timeout)
            .every(Duration::from_millis(100))
            .for_element(Locator::Css(css))
            .await;
        match found {
            Ok(e) => e,
            Err(e) => {
                let body = self.text("body").await;
                panic!("no element {css:?} within {timeout:?}: {e}\npage text:\n{body}")
            }
        }
    }

    /// Whether an element matching `css` is on the page now.
    pub async fn has(&self, css: &str) -> bool {
        self.client.find(Locator::Css(css)).await.is_ok()
    }

    pub async fn text(&self, css: &str) -> String {
        match self.client.find(Locator::Css(css)).await {
            Ok(e) => e.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        }
    }

    /// Types a reference into the field labelled "Image reference" and presses Look up.
    pub async fn look_up(&self, reference: &str) {
        let field = self.wait("#reference").await;
        field.clear().await.expect("clear");
        field.send_keys(reference).await.expect("type");
        let button = self.client.find(Locator::XPath("//button[normalize-space()='Look up']")).await;
        button.expect("Look up button").click().await.expect("click");
    }

    pub async fn click(&self, css: &str) {
        self.wait(css).await.click().await.expect("click");
    }

    /// Waits for a finished download named `name` (no `.crdownload` left) and returns its path.
    pub async fn downloaded(&self, name: &str, timeout: Duration) -> PathBuf {
        let path = self.downloads.path().join(name);
        let start = Instant::now();
        while start.elapsed() < timeout {
            if path.is_file() && self.partials().is_empty() {
                return path;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let listing = self.download_names();
        let page = self.text("body").await;
        panic!("{name} not downloaded within {timeout:?}; folder has {listing:?}\npage:\n{page}")
    }

    pub fn download_names(&self) -> Vec<String> {
        std::fs::read_dir(self.downloads.path())
            .map(|dir| dir.filter_map(|e| e.ok()).map(|e| e.file_name().to_string_lossy().into_owned()).collect())
            .unwrap_or_default()
    }

    fn partials(&self) -> Vec<String> {
        self.download_names().into_iter().filter(|n| n.ends_with(".crdownload")).collect()
    }

    /// Saves a screenshot to `target/e2e-screenshots/<name>.png`.
    pub async fn screenshot(&self, name: &str) {
        let dir = root().join("target/e2e-screenshots");
        let _ = std::fs::create_dir_all(&dir);
        if let Ok(png) = self.client.screenshot().await {
            let _ = std::fs::write(dir.join(format!("{name}.png")), png);
        }
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

async fn connect(url: &str, caps: serde_json::Map<String, serde_json::Value>) -> Client {
    let start = Instant::now();
    loop {
        let attempt = ClientBuilder::rustls()
            .expect("rustls")
            .capabilities(caps.clone())
            .connect(url)
            .await;
        match attempt {
            Ok(client) => return client,
            Err(e) if start.elapsed() > Duration::from_secs(20) => panic!("chromedriver: {e}"),
            Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
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
    hasher.finalize().iter().map(|b| format!("{b:02x}")).collect()
}
