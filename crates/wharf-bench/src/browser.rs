//! Headless Chromium through chromedriver, or Firefox ESR through geckodriver (fantoccini over
//! plain loopback http), with a fresh profile and download folder per instance. Dropping it
//! kills the driver's process group (the browser included) and removes both folders.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::{json, Value};

use crate::error::{Error, Result};
use crate::procs::Group;

/// docs/environment.md section 1: without the networking flags Chromium floods the closed network.
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

/// Which browser, and (Firefox) whether its windows are private: no Origin Private File
/// System there, so the page stages in memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Chromium,
    Firefox { private: bool },
}

impl Kind {
    /// What the report calls it.
    pub fn label(self) -> &'static str {
        match self {
            Kind::Chromium => "Chromium",
            Kind::Firefox { private: false } => "Firefox ESR",
            Kind::Firefox { private: true } => "Firefox ESR private window (in memory)",
        }
    }

    /// What marks the processes that run the page and its worker in a command line.
    pub fn page_process(self) -> &'static str {
        match self {
            Kind::Chromium => "--type=renderer",
            Kind::Firefox { .. } => "-isForBrowser",
        }
    }
}

pub struct Browser {
    pub client: Client,
    // `Drop` kills the processes and waits for them before the folders are removed.
    driver: Group,
    profile: tempfile::TempDir,
    downloads: tempfile::TempDir,
}

impl Browser {
    pub async fn start() -> Result<Browser> {
        Self::start_kind(Kind::Chromium).await
    }

    pub async fn start_kind(kind: Kind) -> Result<Browser> {
        match kind {
            Kind::Chromium => Self::chromium().await,
            Kind::Firefox { private } => Self::firefox(private).await,
        }
    }

    async fn firefox(private: bool) -> Result<Browser> {
        let port = free_port()?;
        let mut command = Command::new(wharf_testkit::firefox::geckodriver());
        command
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let driver = Group::spawn(command, "geckodriver")?;
        let profile = temp_dir("wharf-bench-profile-")?;
        let downloads = temp_dir("wharf-bench-downloads-")?;
        let caps = wharf_testkit::firefox::capabilities(profile.path(), downloads.path(), private);
        let client = connect(&format!("http://127.0.0.1:{port}"), caps).await?;
        Ok(Browser {
            client,
            driver,
            profile,
            downloads,
        })
    }

    async fn chromium() -> Result<Browser> {
        let port = free_port()?;
        let mut command = Command::new("chromedriver");
        command
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let driver = Group::spawn(command, "chromedriver")?;
        let profile = temp_dir("wharf-bench-profile-")?;
        let downloads = temp_dir("wharf-bench-downloads-")?;
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
        let Value::Object(caps) = caps else {
            return Err(Error::Failed("capabilities are not an object".into()));
        };
        let client = connect(&format!("http://127.0.0.1:{port}"), caps).await?;
        Ok(Browser {
            client,
            driver,
            profile,
            downloads,
        })
    }

    /// The driver's pid: the browser's processes are its descendants.
    pub fn driver_pid(&self) -> u32 {
        self.driver.id()
    }

    pub async fn goto(&self, url: &str) -> Result<()> {
        self.client
            .goto(url)
            .await
            .map_err(Error::webdriver("navigating"))
    }

    /// Waits for an element matching `css`.
    pub async fn wait(&self, css: &str, timeout: Duration) -> Result<Element> {
        self.client
            .wait()
            .at_most(timeout)
            .every(Duration::from_millis(50))
            .for_element(Locator::Css(css))
            .await
            .map_err(|e| Error::Webdriver(format!("no {css} within {timeout:?}: {e}")))
    }

    pub async fn has(&self, css: &str) -> bool {
        self.client.find(Locator::Css(css)).await.is_ok()
    }

    pub async fn count(&self, css: &str) -> usize {
        self.client
            .find_all(Locator::Css(css))
            .await
            .map(|v| v.len())
            .unwrap_or(0)
    }

    pub async fn script(&self, js: &str) -> Result<Value> {
        self.client
            .execute(js, Vec::new())
            .await
            .map_err(Error::webdriver("running a script"))
    }

    /// Opens the page, types `reference` and presses "Look up".
    pub async fn look_up(&self, page: &str, reference: &str) -> Result<()> {
        self.goto(page).await?;
        let field = self.wait("#reference", Duration::from_secs(30)).await?;
        field
            .clear()
            .await
            .map_err(Error::webdriver("clearing the field"))?;
        field
            .send_keys(reference)
            .await
            .map_err(Error::webdriver("typing"))?;
        let button = self
            .client
            .find(Locator::XPath("//button[normalize-space()='Look up']"))
            .await
            .map_err(Error::webdriver("finding Look up"))?;
        button
            .click()
            .await
            .map_err(Error::webdriver("clicking Look up"))
    }

    /// Chromium's processes die before their profile and download folders are removed.
    fn stop(&mut self) {
        self.driver.kill_and_wait();
        for dir in [self.profile.path(), self.downloads.path()] {
            for _ in 0..3 {
                if std::fs::remove_dir_all(dir).is_ok() || !dir.exists() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
        }
    }

    /// The names in the download folder.
    pub fn download_names(&self) -> Vec<String> {
        std::fs::read_dir(self.downloads.path())
            .map(|dir| {
                dir.flatten()
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// When a download started and ended, as seen in the download folder.
#[derive(Debug, Clone)]
pub struct Landed {
    pub path: PathBuf,
    /// The first file appeared (Chromium's `.crdownload`, Firefox's `.part`): the page handed
    /// the file over.
    pub first_seen: Duration,
    /// The finished file is there and no partial is left.
    pub done: Duration,
}

impl Browser {
    /// Polls the download folder every 20 ms (the browser is not disturbed) until a finished
    /// file for which `wanted(name)` holds is there and no partial file is left.
    pub async fn landed(
        &self,
        since: Instant,
        timeout: Duration,
        wanted: impl Fn(&str) -> bool,
    ) -> Result<Landed> {
        let mut first_seen = None;
        while since.elapsed() < timeout {
            let names = self.download_names();
            if first_seen.is_none() && !names.is_empty() {
                first_seen = Some(since.elapsed());
            }
            let partial = names
                .iter()
                .any(|n| n.ends_with(".crdownload") || n.ends_with(".part"));
            if let Some(name) = names.iter().find(|n| wanted(n)).filter(|_| !partial) {
                let done = since.elapsed();
                return Ok(Landed {
                    path: self.downloads.path().join(name),
                    first_seen: first_seen.unwrap_or(done),
                    done,
                });
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        Err(Error::Failed(format!(
            "no finished download within {timeout:?}; folder: {:?}",
            self.download_names()
        )))
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        self.stop();
    }
}

async fn connect(url: &str, caps: serde_json::Map<String, Value>) -> Result<Client> {
    let start = Instant::now();
    loop {
        let attempt = ClientBuilder::new(HttpConnector::new())
            .capabilities(caps.clone())
            .connect(url)
            .await;
        match attempt {
            Ok(client) => return Ok(client),
            Err(e) if start.elapsed() > Duration::from_secs(20) => {
                return Err(Error::Webdriver(format!(
                    "the WebDriver server did not answer: {e}"
                )))
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
}

pub fn free_port() -> Result<u16> {
    let listener =
        std::net::TcpListener::bind("127.0.0.1:0").map_err(Error::io("finding a free port"))?;
    let addr = listener
        .local_addr()
        .map_err(Error::io("finding a free port"))?;
    Ok(addr.port())
}

pub fn temp_dir(prefix: &str) -> Result<tempfile::TempDir> {
    tempfile::Builder::new()
        .prefix(prefix)
        .tempdir()
        .map_err(Error::io("creating a temp dir"))
}
