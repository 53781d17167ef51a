//! WebKitGTK for the journeys (issue 12): Debian's `webkit2gtk-driver` (`WebKitWebDriver`)
//! driving its MiniBrowser, which needs an X display: `xvfb-run` gives it one. WebKitGTK 2.50
//! has no `navigator.storage` (so no Origin Private File System) and no BYOB readers on fetch
//! bodies, so the page stages in memory and reads with a default reader there.

use std::os::unix::process::CommandExt as _;
use std::path::Path;
use std::process::{Child, Command, Stdio};

use serde_json::{json, Map, Value};

const MINIBROWSER: &str = "/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser";

/// `xvfb-run WebKitWebDriver` on `port`, in its own process group (Xvfb and the browser die
/// with it). Its XDG folders are under `profile`; downloads land in `downloads`.
pub fn driver(port: u16, profile: &Path, downloads: &Path) -> Child {
    let config = profile.join("config");
    std::fs::create_dir_all(&config).expect("config dir");
    let dirs = format!("XDG_DOWNLOAD_DIR=\"{}\"\n", downloads.display());
    std::fs::write(config.join("user-dirs.dirs"), dirs).expect("user-dirs.dirs");
    Command::new("xvfb-run")
        .process_group(0)
        .args(["-a", "-s", "-screen 0 1280x1000x24", "WebKitWebDriver"])
        .arg(format!("--port={port}"))
        .env("XDG_CONFIG_HOME", &config)
        .env("XDG_DATA_HOME", profile.join("data"))
        .env("XDG_CACHE_HOME", profile.join("cache"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("xvfb-run WebKitWebDriver starts (apt-get install xvfb webkit2gtk-driver)")
}

/// MiniBrowser under automation.
pub fn capabilities() -> Map<String, Value> {
    let caps = json!({
        "webkitgtk:browserOptions": {
            "binary": MINIBROWSER,
            "args": ["--automation"],
        },
    });
    match caps {
        Value::Object(caps) => caps,
        _ => Map::new(),
    }
}
