//! Headless Firefox ESR as the journeys and the bench drive it: geckodriver (built with
//! `cargo install geckodriver --locked`) and the profile preferences that send downloads to a
//! chosen folder without a dialog.

use std::path::{Path, PathBuf};

use serde_json::{json, Map, Value};

/// The geckodriver `cargo install` put in `~/.cargo/bin`, else the one on `PATH`.
pub fn geckodriver() -> PathBuf {
    let home = std::env::var("HOME").unwrap_or_default();
    let cargo_bin = Path::new(&home).join(".cargo/bin/geckodriver");
    if cargo_bin.is_file() {
        cargo_bin
    } else {
        "geckodriver".into()
    }
}

/// Headless Firefox ESR whose downloads land in `downloads` without a dialog; with `private`,
/// every window is a private one (no Origin Private File System there).
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
