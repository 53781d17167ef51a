//! Deploy anywhere (issue 11): the built page copied under `/wharf/` of a plain static server
//! (Python's `http.server`, not wharf-relay), on one origin; the relay, without a page, on another
//! origin that allows the first; `config.json` beside `index.html` names the relay. A bottle and a
//! layer download with the right sha256. The relay is the binary or the Worker on workerd; a third
//! journey serves the page from `wharf-relay --dist` with the relay on workerd.

#![cfg(not(target_arch = "wasm32"))]

mod common;

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{dist, free_port, serial, sha256_file, Browser, Relay};
use wharf_relay::Config;
use wharf_testkit::{Flavor, Mode, Registry, RunningRelay, WorkerdRelay};

const DOWNLOAD_WAIT: Duration = Duration::from_secs(60);

/// `python3 -m http.server` serving `root` on a free loopback port; killed on drop.
struct StaticServer {
    child: Child,
}

impl StaticServer {
    fn start(root: &Path, port: u16) -> StaticServer {
        let child = Command::new("python3")
            .args(["-m", "http.server", "--bind", "127.0.0.1"])
            .arg(port.to_string())
            .arg("--directory")
            .arg(root)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("python3 -m http.server starts");
        let started = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "the static server did not listen on {port}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        StaticServer { child }
    }
}

impl Drop for StaticServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `dist/` copied to `target`, with a `config.json` naming `relay_template`.
fn publish(target: &Path, relay_template: &str) {
    copy_tree(&dist(), target);
    let config = serde_json::json!({ "relay": relay_template });
    std::fs::write(target.join("config.json"), config.to_string()).expect("config.json");
}

/// Copies `from` into `to` with its subfolders, as an upload to a static host would.
fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("site folder");
    for entry in std::fs::read_dir(from).expect("dist") {
        let entry = entry.expect("dist entry");
        let (source, target) = (entry.path(), to.join(entry.file_name()));
        if entry.file_type().expect("type").is_dir() {
            copy_tree(&source, &target);
        } else {
            std::fs::copy(&source, &target).expect("copy");
        }
    }
}

/// A relay without a page, on its own origin, that allows the registry and the page's origin:
/// the Worker on workerd when `worker`, else the binary.
async fn relay_elsewhere(
    worker: bool,
    registry: &Registry,
    page_origin: &str,
) -> Box<dyn RunningRelay> {
    let registry_url = format!("http://{}", registry.host_port());
    if worker {
        let flags = ["--allow-host", &registry_url, "--allow-origin", page_origin];
        return Box::new(WorkerdRelay::start(&flags).await.expect("workerd"));
    }
    Box::new(Relay::start_with(Config {
        dist: None,
        allow_hosts: vec![registry_url.parse().expect("allow host")],
        allow_origins: vec![page_origin.parse().expect("origin")],
        ..Config::default()
    }))
}

/// Where the page is served from.
#[derive(Clone, Copy, PartialEq, Eq)]
enum PageHost {
    /// python's http.server, under `/wharf/`.
    StaticServer,
    /// `wharf-relay --dist` at `/` (its own relay route unused: config.json names another).
    WharfRelay,
}

/// The page on `page`, its relay (`worker` or the binary) on another origin: a bottle and a
/// layer download with the right sha256.
async fn journey(page: PageHost, worker: bool, screenshot: &str) {
    let _serial = serial().await;
    let registry = Registry::start(Mode::Anonymous).await.expect("registry");
    let bottles = registry
        .push_default_bottles("homebrew/core/vim")
        .await
        .expect("bottles");
    let index = registry
        .push_multi_platform("multi/app", "1", Flavor::Oci)
        .await
        .expect("image");
    let site = tempfile::tempdir().expect("site");
    let page_port = free_port();
    let page_origin = format!("http://127.0.0.1:{page_port}");
    let relay = relay_elsewhere(worker, &registry, &page_origin).await;
    let (_static, _page_relay, page_url) = match page {
        PageHost::StaticServer => {
            publish(&site.path().join("wharf"), &relay.relay_url("{url}"));
            let server = StaticServer::start(site.path(), page_port);
            (Some(server), None, format!("{page_origin}/wharf/"))
        }
        PageHost::WharfRelay => {
            publish(site.path(), &relay.relay_url("{url}"));
            let listen = format!("127.0.0.1:{page_port}").parse().expect("addr");
            let config = Config {
                dist: Some(site.path().to_path_buf()),
                ..Config::default()
            };
            let server = Relay::start_at(listen, config);
            (None, Some(server), format!("{page_origin}/"))
        }
    };

    let browser = Browser::start().await;
    browser.open(&page_url).await;
    // The relay setting comes from config.json, not this origin's /relay/.
    let reference = format!(
        "{}/homebrew/core/vim:{}",
        registry.host_port(),
        bottles.version
    );
    browser.look_up(&reference).await;
    let big_sur = bottles.bottle("big_sur").expect("big_sur seeded");
    let button = format!(
        "tr[data-bottle-tag='big_sur'] button[data-digest='{}']",
        big_sur.blob.digest
    );
    browser.wait(&button).await;
    browser.click(&button).await;
    let path = browser
        .downloaded_alone(&big_sur.file_name, DOWNLOAD_WAIT)
        .await;
    assert_eq!(sha256_file(&path), big_sur.blob.digest.hex());

    browser
        .look_up(&format!("{}/multi/app:1", registry.host_port()))
        .await;
    browser
        .click("tr[data-platform='linux/arm64/v8'] button")
        .await;
    let image = index.image_for("linux/arm64/v8").expect("arm64 seeded");
    let layer = &image.layers[0];
    let layer_button = format!("tr[data-blob='{}'] button", layer.digest);
    browser.wait(&layer_button).await;
    browser.click(&layer_button).await;
    let saved = wait_for_file_with_hash(&browser, layer.digest.hex()).await;
    assert_eq!(sha256_file(&saved), layer.digest.hex());
    assert!(
        browser.url().await.starts_with(&page_url),
        "the page keeps its path in the address bar"
    );
    browser.screenshot(screenshot).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn journey_deploy_static_page_and_relay_elsewhere() {
    journey(PageHost::StaticServer, false, "journey-deploy-static").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn journey_deploy_static_page_and_worker_relay() {
    journey(PageHost::StaticServer, true, "journey-deploy-static-worker").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn journey_deploy_page_on_wharf_relay_and_worker_relay() {
    journey(
        PageHost::WharfRelay,
        true,
        "journey-deploy-wharf-relay-worker",
    )
    .await;
}

/// The one downloaded file whose sha256 is `hex` (layer file names depend on the media type).
async fn wait_for_file_with_hash(browser: &Browser, hex: &str) -> std::path::PathBuf {
    let started = Instant::now();
    loop {
        for name in browser.download_names() {
            let path = browser.downloads.path().join(&name);
            if !name.ends_with(".crdownload") && sha256_file(&path) == hex {
                return path;
            }
        }
        assert!(
            started.elapsed() < DOWNLOAD_WAIT,
            "no download with sha256 {hex}: {:?}",
            browser.download_names()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
