//! Firefox ESR for the journeys (issue 12): geckodriver (built
//! with `cargo install geckodriver --locked`) driving Debian's `firefox-esr` headless, with
//! downloads going to the journey's folder without asking. Chosen with `WHARF_BROWSER=firefox`.

use std::os::unix::process::CommandExt as _;
use std::process::{Child, Command, Stdio};

/// Which browser the journeys drive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Chromium,
    Firefox,
    /// WebKitGTK's MiniBrowser through `WebKitWebDriver`, under Xvfb (`super::webkit`).
    WebKit,
}

impl Kind {
    /// From `WHARF_BROWSER` (`chromium`, the default, or `firefox`).
    pub fn from_env() -> Kind {
        match std::env::var("WHARF_BROWSER").as_deref() {
            Ok("firefox") => Kind::Firefox,
            Ok("webkit") => Kind::WebKit,
            _ => Kind::Chromium,
        }
    }

    /// The suffix a download in progress has in the download folder (WebKitGTK writes under
    /// the final name: see `Browser::downloaded`).
    pub fn partial_suffix(self) -> Option<&'static str> {
        match self {
            Kind::Chromium => Some(".crdownload"),
            Kind::Firefox => Some(".part"),
            Kind::WebKit => None,
        }
    }
}

/// geckodriver on `port`, in its own process group (Firefox, its child, dies with it).
pub fn driver(port: u16) -> Child {
    Command::new(wharf_testkit::firefox::geckodriver())
        .process_group(0)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("geckodriver starts (cargo install geckodriver --locked)")
}

pub use wharf_testkit::firefox::capabilities;
