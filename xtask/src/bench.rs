//! `cargo xtask bench [wharf-bench flags]`: installs what the benchmark needs (wrk, curl, hash-wasm
//! from npm into `.tools/bench/`, and everything the tests need), builds the page, the relay and
//! the benchmark's hasher, then runs `cargo run --release -p wharf-bench`.

use crate::sh;
use crate::tools;
use crate::Result;

/// The anchor of item 1; docs/environment.md section 4 says why.
const HASH_WASM_NPM: &str = "hash-wasm@4.13.0";
/// Debian packages (and a binary each provides) the bench needs beyond the test tools.
const APT: &[(&str, &str)] = &[("wrk", "wrk"), ("curl", "curl")];
const HASHER: &str = "wharf-bench-hashwasm";
const HASHER_WASM: &str = "target/wasm32-unknown-unknown/release/wharf_bench_hashwasm.wasm";

pub fn bench(extra: &[String]) -> Result {
    tools::ensure_test_tools()?;
    tools::ensure_apt(APT)?;
    ensure_hash_wasm()?;
    tools::build_page()?;
    sh::cargo(&["build", "--release", "-p", "wharf-relay"])?;
    // Item 3 measures the relay as a Worker on workerd too.
    crate::worker::build_worker()?;
    // Only what is built now is measured (wharf-bench also times any `wharf-<variant>/` there).
    let hashers = sh::root().join("target/bench/hashwasm");
    if hashers.exists() {
        std::fs::remove_dir_all(&hashers).map_err(|e| format!("{}: {e}", hashers.display()))?;
    }
    build_hasher("wharf")?;
    let mut args = vec!["run", "--release", "-p", "wharf-bench", "--"];
    args.extend(extra.iter().map(String::as_str));
    sh::cargo(&args)
}

/// `cargo xtask soak [--secs N]`: the release relay under faults (`wharf-bench soak`).
pub fn soak(extra: &[String]) -> Result {
    tools::ensure_apt(tools::REGISTRY_APT)?;
    tools::ensure_apt(APT)?;
    sh::cargo(&["build", "--release", "-p", "wharf-relay"])?;
    // Both drivers are soaked: the binary, then the Worker on workerd.
    crate::worker::build_worker()?;
    let mut args = vec!["run", "--release", "-p", "wharf-bench", "--", "soak"];
    args.extend(extra.iter().map(String::as_str));
    sh::cargo(&args)
}

fn ensure_hash_wasm() -> Result {
    let prefix = sh::root().join(".tools/bench");
    let package = prefix.join("node_modules/hash-wasm/package.json");
    let want = HASH_WASM_NPM.rsplit('@').next().unwrap_or_default();
    let have = std::fs::read_to_string(&package).unwrap_or_default();
    if have.contains(&format!("\"version\": \"{want}\"")) {
        return Ok(());
    }
    std::fs::create_dir_all(&prefix).map_err(|e| format!("{}: {e}", prefix.display()))?;
    let prefix = prefix.display().to_string();
    sh::run(
        "npm",
        &[
            "install",
            "--no-audit",
            "--no-fund",
            "--prefix",
            &prefix,
            HASH_WASM_NPM,
        ],
        &[],
    )
}

/// Builds wharf's hasher for wasm32 like the download worker (release profile, `+simd128` from
/// .cargo/config.toml, wasm-bindgen, then `wasm-opt -Oz` as Trunk runs it) into
/// `target/bench/hashwasm/<name>/`.
fn build_hasher(name: &str) -> Result {
    let args = [
        "build",
        "--release",
        "--target",
        "wasm32-unknown-unknown",
        "-p",
        HASHER,
    ];
    sh::cargo(&args)?;
    let out = sh::root().join("target/bench/hashwasm").join(name);
    let out_dir = out.display().to_string();
    sh::run(
        "wasm-bindgen",
        &[
            "--target",
            "web",
            "--no-typescript",
            "--out-dir",
            &out_dir,
            HASHER_WASM,
        ],
        &[],
    )?;
    let wasm = out
        .join("wharf_bench_hashwasm_bg.wasm")
        .display()
        .to_string();
    let output = format!("--output={wasm}");
    sh::run("wasm-opt", &[&output, "-Oz", &wasm], &[])
}
