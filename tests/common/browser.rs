//! Headless Chromium for the journeys: chromedriver with its own profile and download folder,
//! and the few page actions every journey uses.

use std::os::unix::process::CommandExt as _;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;

use super::firefox::{self, Kind};
use super::webdriver::SessionPost;
use super::{free_port, root};

/// Headless Chromium through chromedriver, with its own profile and download folder.
pub struct Browser {
    pub client: Client,
    pub kind: Kind,
    driver: Child,
    _profile: tempfile::TempDir,
    pub downloads: tempfile::TempDir,
    /// Where [`Browser::set_aside`] moves finished downloads.
    aside: tempfile::TempDir,
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
        Self::start_with(false).await
    }

    /// The browser with every window private: Firefox's private browsing (no Origin Private
    /// File System: `getDirectory()` throws), Chromium's incognito (which keeps one in memory).
    pub async fn start_private() -> Browser {
        Self::start_with(true).await
    }

    async fn start_with(private: bool) -> Browser {
        match Kind::from_env() {
            Kind::Chromium => Self::chromium(private).await,
            Kind::Firefox => Self::firefox(private).await,
            Kind::WebKit => Self::webkit().await,
        }
    }

    async fn firefox(private: bool) -> Browser {
        let port = free_port();
        let driver = firefox::driver(port);
        let profile = tempfile::tempdir().expect("profile dir");
        let downloads = tempfile::tempdir().expect("download dir");
        let caps = firefox::capabilities(profile.path(), downloads.path(), private);
        let client = connect(&format!("http://127.0.0.1:{port}"), caps).await;
        Browser {
            client,
            kind: Kind::Firefox,
            driver,
            _profile: profile,
            downloads,
            aside: tempfile::tempdir().expect("aside dir"),
        }
    }

    /// WebKitGTK (its automation sessions keep no data: every window is as a private one).
    async fn webkit() -> Browser {
        let port = free_port();
        let profile = tempfile::tempdir().expect("profile dir");
        let downloads = tempfile::tempdir().expect("download dir");
        let driver = super::webkit::driver(port, profile.path(), downloads.path());
        let client = connect(
            &format!("http://127.0.0.1:{port}"),
            super::webkit::capabilities(),
        )
        .await;
        Browser {
            client,
            kind: Kind::WebKit,
            driver,
            _profile: profile,
            downloads,
            aside: tempfile::tempdir().expect("aside dir"),
        }
    }

    async fn chromium(private: bool) -> Browser {
        let port = free_port();
        // Its own process group, so that Chromium (its child) is killed with it on drop.
        let driver = Command::new("/usr/bin/chromedriver")
            .process_group(0)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts (apt-get install chromium-driver)");
        let profile = tempfile::tempdir().expect("profile dir");
        let downloads = tempfile::tempdir().expect("download dir");
        let mut args: Vec<String> = CHROMIUM_ARGS.iter().map(|s| (*s).to_owned()).collect();
        args.push(format!("--user-data-dir={}", profile.path().display()));
        if private {
            args.push("--incognito".into());
        }
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
        let serde_json::Value::Object(caps) = caps else {
            unreachable!()
        };
        let url = format!("http://127.0.0.1:{port}");
        let client = connect(&url, caps).await;
        if private {
            // An incognito window does not take the profile's download folder.
            let params = json!({"behavior": "allow", "downloadPath": downloads.path()});
            client
                .issue_cmd(SessionPost::cdp("Page.setDownloadBehavior", params))
                .await
                .expect("set the incognito download folder");
        }
        Browser {
            client,
            kind: Kind::Chromium,
            driver,
            _profile: profile,
            downloads,
            aside: tempfile::tempdir().expect("aside dir"),
        }
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
        let button = self
            .client
            .find(Locator::XPath("//button[normalize-space()='Look up']"))
            .await;
        button
            .expect("Look up button")
            .click()
            .await
            .expect("click");
    }

    pub async fn click(&self, css: &str) {
        self.wait(css).await.click().await.expect("click");
    }

    /// Waits for a finished download named `name` (no partial file left) and returns its path.
    pub async fn downloaded(&self, name: &str, timeout: Duration) -> PathBuf {
        let path = self.downloads.path().join(name);
        let start = Instant::now();
        // WebKitGTK writes under the final name, with no partial file: there the size must
        // stay the same for a second.
        let mut stable: Option<(u64, Instant)> = None;
        while start.elapsed() < timeout {
            if path.is_file() && self.partials().is_empty() {
                if self.kind != Kind::WebKit {
                    return path;
                }
                let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
                match stable {
                    Some((s, since)) if s == size && since.elapsed() >= Duration::from_secs(1) => {
                        return path
                    }
                    Some((s, _)) if s == size => {}
                    _ => stable = Some((size, Instant::now())),
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let listing = self.download_names();
        let page = self.text("body").await;
        panic!("{name} not downloaded within {timeout:?}; folder has {listing:?}\npage:\n{page}")
    }

    pub fn download_names(&self) -> Vec<String> {
        std::fs::read_dir(self.downloads.path())
            .map(|dir| {
                dir.filter_map(|e| e.ok())
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default()
    }

    fn partials(&self) -> Vec<String> {
        self.download_names()
            .into_iter()
            .filter(|n| self.kind.partial_suffix().is_some_and(|s| n.ends_with(s)))
            .collect()
    }

    /// Waits (up to 30 s) until an element matching `css` shows text containing `needle`;
    /// returns that text.
    pub async fn wait_text(&self, css: &str, needle: &str) -> String {
        let start = Instant::now();
        let mut last = String::new();
        while start.elapsed() < Duration::from_secs(30) {
            last = self.text(css).await;
            if last.contains(needle) {
                return last;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let body = self.text("body").await;
        panic!("{css:?} never said {needle:?} (last: {last:?})\npage text:\n{body}")
    }

    /// Waits (up to 30 s) until no element matches `css`.
    pub async fn wait_gone(&self, css: &str) {
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(30) {
            if !self.has(css).await {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let body = self.text("body").await;
        panic!("{css:?} still on the page after 30 s\npage text:\n{body}")
    }

    /// How many elements match `css` now.
    pub async fn count(&self, css: &str) -> usize {
        self.client
            .find_all(Locator::Css(css))
            .await
            .map(|v| v.len())
            .unwrap_or(0)
    }

    /// The texts of every element matching `css`.
    pub async fn texts(&self, css: &str) -> Vec<String> {
        let mut out = Vec::new();
        for e in self
            .client
            .find_all(Locator::Css(css))
            .await
            .unwrap_or_default()
        {
            out.push(e.text().await.unwrap_or_default());
        }
        out
    }

    /// An attribute of the first element matching `css` (waits for the element).
    pub async fn attr(&self, css: &str, name: &str) -> Option<String> {
        self.wait(css).await.attr(name).await.expect("attribute")
    }

    /// Clicks the button whose visible label is exactly `label`.
    pub async fn press(&self, label: &str) {
        let xpath = format!("//button[normalize-space()='{label}']");
        let found = self
            .client
            .wait()
            .at_most(Duration::from_secs(30))
            .for_element(Locator::XPath(&xpath))
            .await;
        match found {
            Ok(button) => button.click().await.expect("click"),
            Err(e) => panic!(
                "no button {label:?}: {e}\npage text:\n{}",
                self.text("body").await
            ),
        }
    }

    /// Fills the credentials panel (which must be open or opening) and submits it.
    pub async fn enter_credentials(&self, username: &str, secret: &str) {
        let user = self.wait("#cred-user").await;
        user.clear().await.expect("clear");
        user.send_keys(username).await.expect("type");
        let field = self.wait("#cred-secret").await;
        field.clear().await.expect("clear");
        field.send_keys(secret).await.expect("type");
        self.click("[data-view='credentials'] button[type='submit']")
            .await;
    }

    /// The address bar.
    pub async fn url(&self) -> String {
        self.client.current_url().await.expect("url").to_string()
    }

    /// Lets the page's origin read the clipboard (WebDriver's Set Permission), so that a test
    /// can read back what the page copied.
    pub async fn grant_clipboard_read(&self) {
        if self.kind != Kind::Chromium {
            // Firefox's WebDriver has no such permission (its profile lets tests read instead);
            // WebKitWebDriver has no permissions command.
            return;
        }
        self.client
            .issue_cmd(SessionPost::set_permission("clipboard-read"))
            .await
            .expect("set the clipboard-read permission");
    }

    /// Opens **Relay** and saves `text` as the relay setting.
    pub async fn set_relay_setting(&self, text: &str) {
        self.press("Relay").await;
        let field = self.wait("[data-view='settings'] #relay").await;
        // In WebKitGTK the field was once reset to its old value while the test typed (the
        // cause is not found yet: see the issue 12 notes); type again until it holds the text.
        let mut value = None;
        for _ in 0..3 {
            field.clear().await.expect("clear");
            field.send_keys(text).await.expect("type");
            value = field.prop("value").await.expect("value");
            if value.as_deref() == Some(text) {
                break;
            }
        }
        assert_eq!(
            value.as_deref(),
            Some(text),
            "the Relay field holds what was typed"
        );
        self.press("Save").await;
    }

    /// Runs a script in the page and returns its result.
    pub async fn script(&self, js: &str) -> serde_json::Value {
        self.client.execute(js, Vec::new()).await.expect("script")
    }

    /// Waits for `name` to be downloaded, then checks that it is the only file in the download
    /// folder (no partial or duplicate file).
    pub async fn downloaded_alone(&self, name: &str, timeout: Duration) -> PathBuf {
        let path = self.downloaded(name, timeout).await;
        // A duplicate (`name (1)`) would land right after the first one: give it the chance.
        tokio::time::sleep(Duration::from_millis(500)).await;
        assert_eq!(
            self.download_names(),
            vec![name.to_owned()],
            "only {name} in the download folder"
        );
        path
    }

    /// Waits `quiet` and checks that nothing arrived in the download folder meanwhile.
    pub async fn assert_no_downloads(&self, quiet: Duration) {
        tokio::time::sleep(quiet).await;
        assert_eq!(
            self.download_names(),
            Vec::<String>::new(),
            "nothing in the download folder"
        );
    }

    /// Every file in the page's Origin Private File System (where downloads are staged).
    pub async fn staged_files(&self) -> Vec<String> {
        const LIST: &str = "const done = arguments[0];
            (async () => {
                const out = [];
                const walk = async (dir, prefix) => {
                    for await (const [name, handle] of dir.entries()) {
                        if (handle.kind === 'directory') await walk(handle, prefix + name + '/');
                        else out.push(prefix + name);
                    }
                };
                await walk(await navigator.storage.getDirectory(), '');
                return out;
            })().then(done, e => done(['listing failed: ' + e]));";
        let listed = self
            .client
            .execute_async(LIST, Vec::new())
            .await
            .expect("list OPFS");
        serde_json::from_value(listed).expect("a list of names")
    }

    /// Waits (up to 10 s) until no file staged for the blob `hex` is left in the private file
    /// system (a refused or cancelled download keeps nothing; a saved one is removed later).
    pub async fn wait_unstaged(&self, hex: &str) {
        let start = Instant::now();
        let left = || async {
            self.staged_files()
                .await
                .into_iter()
                .filter(|n| n.contains(hex))
                .collect::<Vec<_>>()
        };
        let mut staged = left().await;
        while !staged.is_empty() && start.elapsed() < Duration::from_secs(10) {
            tokio::time::sleep(Duration::from_millis(200)).await;
            staged = left().await;
        }
        assert_eq!(
            staged,
            Vec::<String>::new(),
            "nothing of {hex} stays staged"
        );
    }

    /// Saves a screenshot to `target/e2e-screenshots/<name>.png`.
    pub async fn screenshot(&self, name: &str) {
        // The final state from the top of the page (notices and downloads come first).
        let _ = self
            .client
            .execute("window.scrollTo(0, 0); return 0;", Vec::new())
            .await;
        let dir = root().join("target/e2e-screenshots");
        let _ = std::fs::create_dir_all(&dir);
        if let Ok(png) = self.client.screenshot().await {
            let _ = std::fs::write(dir.join(format!("{name}.png")), png);
        }
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        // chromedriver and the Chromium it started share the process group led by the driver.
        let group = format!("-{}", self.driver.id());
        let _ = Command::new("kill")
            .args(["-KILL", "--", &group])
            .stderr(Stdio::null())
            .status();
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
            Err(e) if start.elapsed() > Duration::from_secs(20) => panic!("webdriver: {e}"),
            Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
}

impl Browser {
    /// Whether this browser gives the page a private file system to stage in, so that a
    /// download outlives its tab (WebKitGTK 2.50 has no `navigator.storage`).
    pub fn stages_on_disk(&self) -> bool {
        self.kind != Kind::WebKit
    }

    /// Where downloads are staged in memory, a reopened page offers nothing of what a closed
    /// tab was fetching (its bytes went with it), saves nothing, and says why under the
    /// downloads once one starts.
    pub async fn assert_nothing_to_resume(&self, offered: &str) {
        tokio::time::sleep(Duration::from_secs(2)).await;
        assert!(!self.has(offered).await, "{offered} is not offered");
        assert!(!self.has("[data-unfinished]").await, "nothing is offered");
        self.assert_no_downloads(Duration::ZERO).await;
    }

    /// Moves a finished download out of the download folder (so that saving the same file
    /// again lands under the same name in every browser: WebKitGTK would overwrite it, the
    /// others add ` (1)` or `(1)`), and returns where it is now.
    pub fn set_aside(&self, path: &std::path::Path) -> PathBuf {
        let name = path.file_name().expect("a file name");
        let moved = self.aside.path().join(name);
        std::fs::rename(path, &moved).expect("move the download aside");
        moved
    }

    /// Leaves the page (`about:blank`): its worker and everything it was doing go with it, as
    /// when a tab closes.
    pub async fn leave(&self) {
        self.client
            .goto("about:blank")
            .await
            .expect("leave the page");
    }
}

/// How long an archive may take to save in a journey.
const SAVE_WAIT: Duration = Duration::from_secs(120);

impl Browser {
    /// Presses a Save button (`data-export='{which}'`), waits for the file (`saved_as`: the
    /// name it lands under) and for the page to say it verified, and checks that the sha256
    /// shown is the file's. Returns the file.
    pub async fn save_archive(&self, which: &str, file_name: &str, saved_as: &str) -> PathBuf {
        let button = format!("button[data-export='{which}']");
        self.wait(&format!("{button}:not([disabled])")).await;
        let item = format!("[data-file-name='{file_name}']");
        let before = self.count(&format!("{item} [data-verified]")).await;
        self.click(&button).await;
        let path = self.downloaded(saved_as, SAVE_WAIT).await;
        let sha256 = super::sha256_file(&path);
        self.wait(&format!("{item} [data-verified='sha256:{sha256}']"))
            .await;
        assert_eq!(
            self.count(&format!("{item} [data-verified]")).await,
            before + 1,
            "one more verified archive in the list"
        );
        // Usable again once the archive is saved.
        self.wait(&format!("{button}:not([disabled])")).await;
        path
    }
}
