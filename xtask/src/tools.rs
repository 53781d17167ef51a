//! Installing what is missing: the wasm target, trunk, wasm-bindgen-cli, wasm-opt (npm binaryen),
//! axe-core (npm), and the Debian packages tests use. Each step checks first, so a second run costs nothing.

use crate::sh;
use crate::Result;

const TRUNK_VERSION: &str = "0.21.14";
const BINARYEN_NPM: &str = "binaryen@132";
/// The accessibility audit the journeys inject into the page (`tests/journeys_a11y.rs`).
const AXE_NPM: &str = "axe-core@4.14.1";
/// The registry every native test and the soak start.
pub const REGISTRY_APT: &[(&str, &str)] = &[("docker-registry", "docker-registry")];
/// Debian packages and a binary each provides.
const APT: &[(&str, &str)] = &[
    ("docker-registry", "docker-registry"),
    ("skopeo", "skopeo"),
    ("umoci", "umoci"),
    ("apache2-utils", "htpasswd"),
    ("chromium", "chromium"),
    ("chromium-driver", "chromedriver"),
    // The journeys run in Firefox ESR too, through geckodriver (built from crates.io below).
    ("firefox-esr", "firefox-esr"),
    // WebKitGTK's WebDriver and MiniBrowser (`--browser webkit`), which need an X display.
    ("webkit2gtk-driver", "WebKitWebDriver"),
    ("xvfb", "xvfb-run"),
    ("xauth", "xauth"),
    // `ip addr replace`: the relay's rebinding tests put a public-class address on `lo`.
    ("iproute2", "ip"),
    // The archive journeys load what the page saved: podman (vfs, no daemon) and dockerd 20.10.
    ("podman", "podman"),
    ("docker.io", "dockerd"),
];

pub fn ensure_page_tools() -> Result {
    ensure_wasm_target()?;
    ensure_trunk()?;
    ensure_wasm_bindgen()?;
    ensure_wasm_opt()
}

pub fn ensure_test_tools() -> Result {
    ensure_page_tools()?;
    crate::worker::ensure_worker_tools()?;
    ensure_axe()?;
    ensure_apt(APT)?;
    ensure_cargo_install("geckodriver", "geckodriver", GECKODRIVER_VERSION)
}

/// geckodriver for the Firefox journeys, from crates.io (no prebuilt download).
const GECKODRIVER_VERSION: &str = "0.37.1";

fn ensure_axe() -> Result {
    let script = sh::root().join(".tools/npm/node_modules/axe-core/axe.min.js");
    if script.is_file() {
        return Ok(());
    }
    npm_install(&[AXE_NPM])
}

fn ensure_wasm_target() -> Result {
    let installed = sh::output("rustup", &["target", "list", "--installed"]).unwrap_or_default();
    if installed
        .lines()
        .any(|l| l.trim() == "wasm32-unknown-unknown")
    {
        return Ok(());
    }
    sh::run("rustup", &["target", "add", "wasm32-unknown-unknown"], &[])
}

fn ensure_trunk() -> Result {
    // trunk 0.22 needs a newer rustc than this machine's 1.95; 0.21.14 is the pinned one.
    ensure_cargo_install("trunk", "trunk", TRUNK_VERSION)
}

/// `cargo install <krate> --version <version> --locked` unless `<bin> --version` names that version.
pub fn ensure_cargo_install(bin: &str, krate: &str, version: &str) -> Result {
    let have = sh::output(bin, &["--version"]).unwrap_or_default();
    if have.contains(version) {
        return Ok(());
    }
    sh::cargo(&["install", krate, "--version", version, "--locked"])
}

/// wasm-bindgen-cli must match the `wasm-bindgen` crate in Cargo.lock exactly.
fn ensure_wasm_bindgen() -> Result {
    let want = locked_version("wasm-bindgen")?;
    let have = sh::output("wasm-bindgen", &["--version"]).unwrap_or_default();
    if have.split_whitespace().nth(1) == Some(want.as_str()) {
        return check_trunk_toml(&want);
    }
    // Without --locked: a locked transitive version is missing from the registry here.
    let pinned = format!("={want}");
    sh::cargo(&["install", "wasm-bindgen-cli", "--version", &pinned])?;
    check_trunk_toml(&want)
}

fn ensure_wasm_opt() -> Result {
    if sh::has("wasm-opt") && sh::root().join(".tools/npm/node_modules/binaryen").is_dir() {
        return Ok(());
    }
    // Debian's binaryen 108 cannot parse what rustc 1.95 emits; npm's binaryen ships a working one.
    npm_install(&[BINARYEN_NPM])
}

/// `npm install` into the project's `.tools/npm` (its `.bin` is on [`sh::path_env`]).
pub fn npm_install(packages: &[&str]) -> Result {
    let prefix = sh::root().join(".tools/npm");
    std::fs::create_dir_all(&prefix).map_err(|e| format!("{}: {e}", prefix.display()))?;
    let prefix = prefix.display().to_string();
    let mut args = vec!["install", "--no-audit", "--no-fund", "--prefix", &prefix];
    args.extend_from_slice(packages);
    sh::run("npm", &args, &[])
}

pub fn ensure_apt(packages: &[(&str, &str)]) -> Result {
    let missing: Vec<&str> = packages
        .iter()
        .filter(|(_, bin)| !sh::has(bin))
        .map(|(pkg, _)| *pkg)
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    let env = [("DEBIAN_FRONTEND", "noninteractive")];
    sh::run("apt-get", &["update", "-q"], &env)?;
    let mut args = vec!["install", "-y", "-q", "--no-install-recommends"];
    args.extend(&missing);
    sh::run("apt-get", &args, &env)
}

/// The version of a package in Cargo.lock.
pub fn locked_version(name: &str) -> Result<String> {
    let lock = std::fs::read_to_string(sh::root().join("Cargo.lock"))
        .map_err(|e| format!("Cargo.lock: {e}"))?;
    let needle = format!("name = \"{name}\"");
    let mut lines = lock.lines();
    while let Some(line) = lines.next() {
        if line == needle {
            let version = lines.next().unwrap_or_default();
            if let Some(v) = version.strip_prefix("version = \"") {
                return Ok(v.trim_end_matches('"').to_owned());
            }
        }
    }
    Err(format!("{name} is not in Cargo.lock"))
}

/// Trunk.toml pins the same wasm-bindgen version, so trunk never tries to download one.
fn check_trunk_toml(want: &str) -> Result {
    let toml = std::fs::read_to_string(sh::root().join("Trunk.toml"))
        .map_err(|e| format!("Trunk.toml: {e}"))?;
    let line = format!("wasm_bindgen = \"{want}\"");
    if toml.contains(&line) {
        Ok(())
    } else {
        Err(format!(
            "Trunk.toml must say `{line}` (the version in Cargo.lock)"
        ))
    }
}

/// `trunk build --release` into dist/, offline: every tool is already on PATH.
pub fn build_page() -> Result {
    sh::run("trunk", &["build", "--release", "--offline"], &[])
}
