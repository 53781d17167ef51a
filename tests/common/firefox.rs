//! Firefox ESR for the journeys (issue 12): geckodriver (built
//! with `cargo install geckodriver --locked`) driving Debian's `firefox-esr` headless, with
//! downloads going to the journey's folder without asking. Chosen with `WHARF_BROWSER=firefox`.

use std::os::unix::process::CommandExt as _;
use std::path::Path;
use std::process::{Child, Command, Stdio};

use serde_json::{json, Map, Value};

/// Which browser the journeys drive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Chromium,
    Firefox,
}

impl Kind {
    /// From `WHARF_BROWSER` (`chromium`, the default, or `firefox`).
    pub fn from_env() -> Kind {
        match std::env::var("WHARF_BROWSER").as_deref() {
            Ok("firefox") => Kind::Firefox,
            _ => Kind::Chromium,
        }
    }

    /// The suffix a download in progress has in the download folder.
    pub fn partial_suffix(self) -> &'static str {
        match self {
            Kind::Chromium => ".crdownload",
            Kind::Firefox => ".part",
        }
    }
}

/// geckodriver on `port`, in its own process group (Firefox, its child, dies with it).
pub fn driver(port: u16) -> Child {
    let home = std::env::var("HOME").unwrap_or_default();
    let cargo_bin = Path::new(&home).join(".cargo/bin/geckodriver");
    let program = if cargo_bin.is_file() {
        cargo_bin
    } else {
        "geckodriver".into()
    };
    Command::new(program)
        .process_group(0)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("geckodriver starts (cargo install geckodriver --locked)")
}

/// Headless Firefox ESR whose downloads land in `downloads` without a dialog; with `private`,
/// every window is a private one.
pub fn capabilities(profile: &Path, downloads: &Path, private: bool) -> Map<String, Value> {
    let caps = json!({
        "browserName": "firefox",
        "moz:firefoxOptions": {
            "binary": "/usr/bin/firefox-esr",
            "args": ["-headless", "-profile", profile, "--width=1280", "--height=1000"],
            "prefs": {
                "browser.download.folderList": 2,
                "browser.download.dir": downloads,
                "browser.download.useDownloadDir": true,
                "browser.download.always_ask_before_handling_new_types": false,
                "browser.download.manager.showWhenStarting": false,
                "browser.helperApps.neverAsk.saveToDisk":
                    "application/octet-stream,application/x-tar,application/gzip,application/json",
                "browser.download.start_downloads_in_tmp_dir": false,
                "dom.events.testing.asyncClipboard": true,
                "browser.privatebrowsing.autostart": private,
            },
        },
    });
    match caps {
        Value::Object(caps) => caps,
        _ => Map::new(),
    }
}
