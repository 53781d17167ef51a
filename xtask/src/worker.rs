//! `cargo xtask worker`: build the relay as a Worker (worker-build, offline) and run it on workerd.

use std::io::Write;
use std::net::TcpListener;
use std::os::unix::process::CommandExt;

use wharf_relay_worker::launch::{workerd_in, Flags, Launch};

use crate::{sh, tools, Result};

const WORKER_BUILD_VERSION: &str = "0.8.7";
/// esbuild bundles worker-build's shim; workerd runs the Worker (both from npm, no other download).
const NPM: &[&str] = &[
    "esbuild@0.28.2",
    "@cloudflare/workerd-linux-64@1.20261201.1",
];
const CRATE_DIR: &str = "crates/wharf-relay-worker";

pub fn ensure_worker_tools() -> Result {
    tools::ensure_page_tools()?;
    tools::ensure_cargo_install("worker-build", "worker-build", WORKER_BUILD_VERSION)?;
    let root = sh::root();
    if sh::has("esbuild") && workerd_in(&root).is_file() {
        return Ok(());
    }
    tools::npm_install(NPM)
}

/// `worker-build --release` in the Worker's crate: `build/index.js` + `build/index_bg.wasm`.
pub fn build_worker() -> Result {
    ensure_worker_tools()?;
    let root = sh::root();
    let wasm_bindgen = sh::which("wasm-bindgen").ok_or("wasm-bindgen is not on PATH")?;
    let esbuild = root.join(".tools/npm/node_modules/.bin/esbuild");
    eprintln!("$ worker-build --release (in {CRATE_DIR})");
    let status = sh::command("worker-build", &["--release"], &[])
        .current_dir(root.join(CRATE_DIR))
        // Offline: the wasm-bindgen cargo installed, npm's esbuild, and no wasm-opt download.
        .env("WASM_BINDGEN_BIN", wasm_bindgen)
        .env("ESBUILD_BIN", esbuild)
        .status()
        .map_err(|e| format!("cannot start worker-build: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("worker-build failed: {status}"))
    }
}

/// `cargo xtask worker [--] --listen ADDR --allow-host URL ...`: prints `wharf-relay listening on
/// http://ADDR` once the socket is bound, then becomes workerd (SIGTERM stops it cleanly).
pub fn worker(args: &[String]) -> Result {
    let args = match args.first().map(String::as_str) {
        Some("--") => &args[1..],
        _ => args,
    };
    let flags = Flags::parse(args).map_err(|e| format!("worker: {e}"))?;
    build_worker()?;
    let listener =
        TcpListener::bind(&flags.listen).map_err(|e| format!("--listen {}: {e}", flags.listen))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let root = sh::root();
    let launch = Launch {
        workerd: workerd_in(&root),
        build: root.join(CRATE_DIR).join("build"),
        dir: root.join(format!("target/worker/{}", addr.port())),
    };
    let mut command = launch.command(&flags, &listener)?;
    println!("wharf-relay listening on http://{addr}");
    let _ = std::io::stdout().flush();
    // Only returns on failure; on success this process is workerd.
    Err(format!("cannot start workerd: {}", command.exec()))
}
