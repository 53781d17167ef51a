//! Item 1: SHA-256 throughput in a dedicated worker of headless Chromium on the same bytes in
//! 1 MiB chunks: wharf's hasher (`wharf_oci::digest::Hasher` compiled like the worker) vs
//! hash-wasm (streaming) vs WebCrypto `digest` (one-shot), and native `sha256sum`.

use std::io::Write as _;
use std::path::Path;
use std::time::Duration;

use serde_json::Value;
use wharf_testkit::Pattern;

use crate::benchpage;
use crate::browser::{temp_dir, Browser};
use crate::error::{Error, Result};
use crate::procs::{quote, timed_sh};
use crate::relay::RelayProcess;
use crate::report::{Goal, Row, Stats};
use crate::{Ctx, Outcome};

const SEED: u64 = 0x0b3e_4c11;

pub async fn run(ctx: &Ctx) -> Result<Outcome> {
    let size = ctx.hash_bytes();
    let page = temp_dir("wharf-bench-hashpage-")?;
    let variants = benchpage::build(ctx, page.path())?;
    let data = page.path().join("data.bin");
    write_pattern(&data, size)?;
    let expected = Pattern::new(SEED).digest(size);

    let relay = RelayProcess::start(
        &ctx.relay_bin,
        page.path(),
        &[],
        &ctx.out.join("relay-hash.log"),
    )
    .await?;
    let mut impls = vec!["wharf", "hash-wasm", "webcrypto"];
    impls.extend(variants.iter().map(String::as_str));
    let url = format!(
        "{}/index.html?worker=hash-worker.js&runs={}&impls={}",
        relay.base,
        ctx.runs,
        impls.join(",")
    );
    // Generous: the slowest implementation at 50 MB/s, for every round.
    let rounds = (ctx.runs + 1) as u64 * impls.len() as u64;
    let timeout = Duration::from_secs(60 + rounds * size / 50_000_000);
    let browser = Browser::start().await?;
    let results = benchpage::run(&browser, &url, timeout).await?;
    drop(browser);
    drop(relay);

    for name in &impls {
        benchpage::check_digests(&results, name, "hex", ctx.runs, expected.hex())?;
    }
    let native = sha256sum(&data, ctx.runs, expected.hex()).await?;

    let of = |name: &str| {
        Stats::of(&benchpage::millis(&results, name))
            .map(|s| s.map(|ms| size as f64 / 1e6 / (ms / 1000.0)))
    };
    let native = Stats::of(&native).map(|s| s.map(|secs| size as f64 / 1e6 / secs));
    let mib = size >> 20;
    let hw_version = hash_wasm_version(ctx).unwrap_or_else(|| "?".into());
    let what = format!("SHA-256 of {mib} MiB in 1 MiB chunks, in a worker");
    let rows = vec![
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
    let details = impls
        .iter()
        .map(|name| {
            let ms: Vec<String> = benchpage::millis(&results, name)
                .iter()
                .map(|m| format!("{m:.0}"))
                .collect();
            format!("{name}: {} ms per {mib} MiB ({expected})", ms.join(", "))
        })
        .collect();
    Ok(Outcome { rows, details })
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
