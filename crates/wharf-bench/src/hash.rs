//! Item 1: SHA-256 throughput in a dedicated worker of headless Chromium on the same bytes in
//! 1 MiB chunks: wharf's hasher (`wharf_oci::digest::Hasher` compiled like the worker) vs
//! hash-wasm (streaming) vs WebCrypto `digest` (one-shot), and native `sha256sum`.

use std::io::Write as _;
use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::Value;
use wharf_testkit::Pattern;

use crate::browser::{temp_dir, Browser};
use crate::error::{Error, Result};
use crate::procs::{copy_dir, quote, timed_sh};
use crate::relay::RelayProcess;
use crate::report::{Goal, Row, Stats};
use crate::{Ctx, Outcome};

const SEED: u64 = 0x0b3e_4c11;
const PAGE_FILES: [(&str, &str); 3] = [
    ("index.html", include_str!("../page/index.html")),
    ("bench.js", include_str!("../page/bench.js")),
    ("hash-worker.js", include_str!("../page/hash-worker.js")),
];

/// Milliseconds per run of one implementation, checked against the expected digest.
struct Timings {
    ms: Vec<f64>,
}

pub async fn run(ctx: &Ctx) -> Result<Outcome> {
    let size = ctx.hash_bytes();
    let page = temp_dir("wharf-bench-hashpage-")?;
    let variants = build_page(ctx, page.path(), size)?;
    let expected = Pattern::new(SEED).digest(size);
    let data = page.path().join("data.bin");

    let relay = RelayProcess::start(
        &ctx.relay_bin,
        page.path(),
        &[],
        &ctx.out.join("relay-hash.log"),
    )
    .await?;
    let mut impls = vec!["wharf", "hash-wasm", "webcrypto"];
    impls.extend(variants.iter().map(String::as_str));
    let results = in_browser(ctx, &relay.base, &impls, size).await?;
    drop(relay);

    let mut browser_ms = Vec::new();
    for name in &impls {
        let timings = check(&results, name, expected.hex())?;
        browser_ms.push((name.to_string(), timings));
    }
    let native = sha256sum(&data, ctx.runs, expected.hex()).await?;

    let mbps = |ms: &[f64]| Stats::of(ms).map(|s| s.map(|ms| size as f64 / 1e6 / (ms / 1000.0)));
    let of = |name: &str| {
        browser_ms
            .iter()
            .find(|(n, _)| n == name)
            .and_then(|(_, t)| mbps(&t.ms))
    };
    let native = Stats::of(&native).map(|s| s.map(|secs| size as f64 / 1e6 / secs));
    let mib = size / (1 << 20);
    let hw_version = hash_wasm_version(ctx).unwrap_or_else(|| "?".into());
    let what = format!("SHA-256 of {mib} MiB in 1 MiB chunks, in a worker");
    let mut rows = vec![
        Row::new(1, &format!("{what}: wharf vs hash-wasm"), "MB/s")
            .ours(of("wharf"))
            .anchor(
                &format!("hash-wasm {hw_version} createSHA256 (streaming)"),
                of("hash-wasm"),
            )
            .goal(Goal::RatioAtLeast(1.4)),
        Row::new(1, &format!("{what}: wharf vs WebCrypto"), "MB/s")
            .ours(of("wharf"))
            .anchor(
                "WebCrypto digest (one-shot, whole input in memory)",
                of("webcrypto"),
            ),
        Row::new(1, &format!("{what}: wharf vs native"), "MB/s")
            .ours(of("wharf"))
            .anchor("coreutils sha256sum (same bytes, page cache)", native),
    ];
    if variants.iter().any(|v| v == "wharf-o3") {
        rows.push(
            Row::new(
                1,
                "profile: wharf's hasher with sha2 at opt-level 3 vs as shipped",
                "MB/s",
            )
            .ours(of("wharf-o3"))
            .anchor("as shipped (release profile: opt-level z)", of("wharf"))
            .note("what `[profile.release.package.sha2] opt-level = 3` would give"),
        );
    }
    let details = browser_ms
        .iter()
        .map(|(name, t)| {
            let ms: Vec<String> = t.ms.iter().map(|m| format!("{m:.0}")).collect();
            format!("{name}: {} ms per {mib} MiB ({})", ms.join(", "), expected)
        })
        .collect();
    Ok(Outcome { rows, details })
}

/// Writes the page, the wasm-bindgen outputs, hash-wasm and the data; returns the optional
/// variants that were built (e.g. `wharf-o3`).
fn build_page(ctx: &Ctx, dir: &Path, size: u64) -> Result<Vec<String>> {
    for (name, text) in PAGE_FILES {
        std::fs::write(dir.join(name), text).map_err(Error::io(format!("writing {name}")))?;
    }
    let built = ctx.out.join("hashwasm");
    let shipped = built.join("wharf");
    if !shipped.join("wharf_bench_hashwasm.js").is_file() {
        return Err(Error::Failed(format!(
            "{} is missing: run `cargo xtask bench` (it builds the hasher)",
            shipped.display()
        )));
    }
    copy_dir(&shipped, &dir.join("wharf"))?;
    let mut variants = Vec::new();
    if built.join("wharf-o3/wharf_bench_hashwasm.js").is_file() {
        copy_dir(&built.join("wharf-o3"), &dir.join("wharf-o3"))?;
        variants.push("wharf-o3".to_owned());
    }
    let hash_wasm = ctx
        .root
        .join(".tools/bench/node_modules/hash-wasm/dist/index.esm.min.js");
    std::fs::create_dir_all(dir.join("hash-wasm")).map_err(Error::io("creating hash-wasm/"))?;
    std::fs::copy(&hash_wasm, dir.join("hash-wasm/index.esm.min.js")).map_err(Error::io(
        format!(
            "{} (npm install hash-wasm into .tools/bench)",
            hash_wasm.display()
        ),
    ))?;
    write_pattern(&dir.join("data.bin"), size)?;
    Ok(variants)
}

fn write_pattern(path: &Path, size: u64) -> Result<()> {
    let file = std::fs::File::create(path).map_err(Error::io("creating data.bin"))?;
    let mut out = std::io::BufWriter::new(file);
    let pattern = Pattern::new(SEED);
    let mut chunk = vec![0u8; 1 << 20];
    let mut offset = 0u64;
    while offset < size {
        let len = (size - offset).min(chunk.len() as u64) as usize;
        let part = &mut chunk[..len];
        pattern.fill(offset, part);
        out.write_all(part).map_err(Error::io("writing data.bin"))?;
        offset += len as u64;
    }
    out.flush().map_err(Error::io("writing data.bin"))
}

/// Opens the bench page and waits for the worker's answer (`window.__bench`).
async fn in_browser(ctx: &Ctx, base: &str, impls: &[&str], size: u64) -> Result<Value> {
    let browser = Browser::start().await?;
    let url = format!(
        "{base}/index.html?runs={}&impls={}",
        ctx.runs,
        impls.join(",")
    );
    browser.goto(&url).await?;
    // Generous: the slowest implementation at 50 MB/s, for every round.
    let rounds = (ctx.runs + 1) as u64 * impls.len() as u64;
    let timeout = Duration::from_secs(60 + rounds * size / 50_000_000);
    let start = Instant::now();
    let mut last_progress = String::new();
    while start.elapsed() < timeout {
        let state = browser.script("return window.__bench || null;").await?;
        match state.get("state").and_then(Value::as_str) {
            Some("done") => return Ok(state),
            Some("error") => {
                return Err(Error::Failed(format!(
                    "bench page: {}",
                    state.get("error").and_then(Value::as_str).unwrap_or("?")
                )))
            }
            _ => {}
        }
        if let Some(p) = state.get("progress").and_then(Value::as_str) {
            if p != last_progress {
                eprintln!("   {p}");
                last_progress = p.to_owned();
            }
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    Err(Error::Failed(format!(
        "the bench page did not finish within {timeout:?}"
    )))
}

/// The timings of `name`; every digest it produced must be `expected`.
fn check(results: &Value, name: &str, expected: &str) -> Result<Timings> {
    let entry = &results["results"][name];
    let ms: Vec<f64> = entry["ms"]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_f64).collect())
        .unwrap_or_default();
    let hexes: Vec<&str> = entry["hex"]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    if ms.is_empty() || hexes.len() != ms.len() {
        return Err(Error::Failed(format!("no timings for {name}: {entry}")));
    }
    if let Some(bad) = hexes.iter().find(|h| **h != expected) {
        return Err(Error::Failed(format!(
            "{name} computed {bad}, expected {expected}"
        )));
    }
    Ok(Timings { ms })
}

/// Seconds per run of `sha256sum` on the file (after one warm-up run that fills the page cache).
async fn sha256sum(path: &Path, runs: usize, expected: &str) -> Result<Vec<f64>> {
    let script = format!("sha256sum {}", quote(&path.display().to_string()));
    let mut secs = Vec::new();
    for round in 0..=runs {
        let (took, out) = timed_sh(&script).await?;
        if !out.starts_with(expected) {
            return Err(Error::Failed(format!(
                "sha256sum said {out:?}, expected {expected}"
            )));
        }
        if round > 0 {
            secs.push(took.as_secs_f64());
        }
    }
    Ok(secs)
}

fn hash_wasm_version(ctx: &Ctx) -> Option<String> {
    let path = ctx
        .root
        .join(".tools/bench/node_modules/hash-wasm/package.json");
    let json: Value = serde_json::from_slice(&std::fs::read(path).ok()?).ok()?;
    json["version"].as_str().map(str::to_owned)
}
