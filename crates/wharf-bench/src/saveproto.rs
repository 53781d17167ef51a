//! Save-path prototypes (`--only save-proto`; not part of the default bench): ways to get a
//! verified blob into Chromium's download folder without the second full copy of today's path,
//! built in the bench page (`page/save-*.js`), timed from the start to the complete, correct file
//! in the download folder, next to `curl -s URL | sha256sum` in the same run.
//!
//! Modes (`WHARF_SAVE_PROTO_MODES`, comma-separated, each `mode[:<chunk KiB>[:<flag>+...]]`):
//! - `opfs`: today's path rebuilt in JS: fetch + hash + OPFS write in a worker, then
//!   `<a download>` of the staged OPFS `File` (the baseline);
//! - `sw`: the worker fetches + hashes and streams chunks over a MessagePort to a service worker
//!   that answers a hidden iframe's navigation with a `ReadableStream` attachment; the last chunk
//!   is held back until digest and size are verified;
//! - `sw2`: as `sw`, hashing in a second (nested) worker;
//! - `swfetch`: the service worker fetches and hashes itself (no dedicated worker, no port);
//! - `sw-nohash`: `sw` without hashing, a lower bound (not a candidate);
//! - `synth`: the service worker streams made-up zeros: the ceiling of the stream-to-download
//!   path (only the size is checked).
//!
//! Flags: `copy` (the service worker copies each chunk into its own memory and hands the
//! producer's buffer back for reuse), `recycle` (the service worker hands back the buffer of the
//! chunk enqueued two pulls earlier, no copy; outside the streams contract), `clone` (post copies
//! of two reused buffers), `default` (the fetch body's own chunks, no BYOB), `nofetch` (zeros
//! instead of the fetch), `bytes` (synth: a byte stream), `w<N>` (credit window, default 8).
//!
//! Checks (`checks.rs`): errored streams and "Resume" afterwards, `<a download>` as the trigger,
//! a body shorter than its Content-Length, the page going away mid-stream, the MessagePort hop,
//! and (`WHARF_SAVE_PROTO_LONG=<seconds>`, `WHARF_SAVE_PROTO_LONG_CHUNK=<KiB>`) throttled
//! streams that take that long, with and without keep-alive pings to the service worker.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use wharf_oci::Digest;

mod checks;

use wharf_testkit::RunningRelay;

use crate::benchpage;
use crate::browser::{temp_dir, Browser};
use crate::download::{check_file, renderer_sampler};
use crate::error::{Error, Result};
use crate::procs::{
    cpu_summary, descendants_with, quote, renderer_rss, status_bytes, timed_sh, CpuMeter,
};
use crate::relay::RelayProcess;
use crate::report::{num, Goal, Row, Stats};
use crate::{Ctx, Outcome, Services};

const REPO: &str = "bench/big";
/// Item 2's seed: the same 1 GiB blob.
const SEED: u64 = 0x1a7e;
const MIB: f64 = (1u64 << 20) as f64;
const DEFAULT_MODES: &str = "opfs,sw,sw:1024:copy,sw2,swfetch,sw-nohash:1024:copy,synth";

const PAGE_FILES: [(&str, &str); 6] = [
    ("save.html", include_str!("../page/save.html")),
    ("save-page.js", include_str!("../page/save-page.js")),
    ("save-worker.js", include_str!("../page/save-worker.js")),
    ("save-hasher.js", include_str!("../page/save-hasher.js")),
    ("save-port.js", include_str!("../page/save-port.js")),
    ("save-sw.js", include_str!("../page/save-sw.js")),
];

/// The prototype page, served by its own relay.
struct Page {
    relay: RelayProcess,
    _dir: tempfile::TempDir,
}

/// One save, as measured.
struct Sample {
    secs: f64,
    /// When the page said the bytes were verified (page clock, from the start call).
    verified_secs: f64,
    /// The page's result (worker-side milliseconds and waits).
    result: Value,
    renderer_growth: u64,
    /// Renderer processes before the start and when the file landed.
    renderers: (usize, usize),
    /// Each renderer process: what runs in it, RSS before and peak, MiB.
    per_process: String,
    cpu: BTreeMap<String, f64>,
}

/// A mode and its knobs, as sent to `window.__saveStart`.
#[derive(Clone)]
struct Mode {
    key: String,
    chunk: u64,
    flags: Vec<String>,
}

impl Mode {
    fn parse(spec: &str) -> Result<Mode> {
        let mut parts = spec.split(':');
        let key = parts.next().unwrap_or_default();
        let chunk = match parts.next() {
            Some(c) => c.parse::<u64>().ok().map(|kib| kib * 1024),
            None => Some(1 << 20),
        };
        let flags: Vec<String> = parts
            .next()
            .map(|f| f.split('+').map(str::to_owned).collect())
            .unwrap_or_default();
        let known = ["opfs", "sw", "sw2", "swfetch", "sw-nohash", "synth"];
        let flags_ok = flags.iter().all(|f| {
            ["clone", "recycle", "bytes", "copy", "nofetch", "default"].contains(&f.as_str())
                || f.strip_prefix('w')
                    .is_some_and(|n| n.parse::<u32>().is_ok_and(|n| n > 0))
        });
        match chunk {
            Some(chunk) if chunk > 0 && flags_ok && known.contains(&key) => Ok(Mode {
                key: key.to_owned(),
                chunk,
                flags,
            }),
            _ => Err(Error::Failed(format!(
                "WHARF_SAVE_PROTO_MODES: {spec:?} is not one of {known:?}[:<chunk KiB>[:clone+recycle]]"
            ))),
        }
    }

    fn name(&self) -> String {
        let mut name = format!("{}:{}", self.key, self.chunk >> 10);
        if !self.flags.is_empty() {
            name = format!("{name}:{}", self.flags.join("+"));
        }
        name
    }

    /// Flag `w<N>`: a credit window of N chunks (default 8).
    fn window(&self) -> u32 {
        self.flags
            .iter()
            .find_map(|f| f.strip_prefix('w').and_then(|n| n.parse().ok()))
            .unwrap_or(8)
    }

    fn has(&self, flag: &str) -> bool {
        self.flags.iter().any(|f| f == flag)
    }

    fn label(&self) -> String {
        let what = match self.key.as_str() {
            "opfs" => "(a) worker fetch+hash+OPFS, then <a download> of the OPFS File",
            "sw" => "(b) worker fetch+hash -> port -> service worker stream",
            "sw2" => "(c) worker fetch -> hasher worker -> port -> service worker stream",
            "swfetch" => "(d) service worker fetch+hash -> its own stream",
            "synth" => "(ceiling) service worker stream of made-up bytes, no fetch, no hash",
            _ => "(lower bound) worker fetch, no hash -> port -> service worker stream",
        };
        let flags = match self.flags.is_empty() {
            true => String::new(),
            false => format!(" ({})", self.flags.join(", ")),
        };
        format!("{what} @ {} KiB{flags}", self.chunk >> 10)
    }
}

pub async fn run(ctx: &Ctx, services: &Services) -> Result<Outcome> {
    let modes = std::env::var("WHARF_SAVE_PROTO_MODES")
        .unwrap_or_else(|_| DEFAULT_MODES.to_owned())
        .split(',')
        .filter(|m| !m.is_empty())
        .map(Mode::parse)
        .collect::<Result<Vec<_>>>()?;
    let size = ctx.big_bytes();
    let registry = &services.registry;
    eprintln!("   seeding a blob of {} MiB", size >> 20);
    let blob = registry.push_blob_stream(REPO, size, SEED).await?;
    let blob_url = registry
        .v2_url(&format!("{REPO}/blobs/{}", blob.digest))
        .to_string();
    let page = start_page(ctx, services).await?;
    let through = page.relay.relay_url(&blob_url);
    let curl = format!("curl -sf {} | sha256sum", quote(&blob_url));
    timed_sh(&format!("curl -sf {} > /dev/null", quote(&blob_url))).await?;

    let mut samples: Vec<Vec<Sample>> = modes.iter().map(|_| Vec::new()).collect();
    let mut curl_secs = Vec::new();
    // No modes: only the checks.
    let runs = if modes.is_empty() { 0 } else { ctx.runs };
    for run in 0..runs {
        let mut line = Vec::new();
        for (i, mode) in modes.iter().enumerate() {
            let opts = json!({
                "mode": mode.key, "url": through, "digest": blob.digest.hex(), "size": size,
                "name": format!("save-{}-{run}.bin", mode.key), "chunk": mode.chunk,
                "window": mode.window(), "contentLength": true,
                "clone": mode.has("clone"), "recycle": mode.has("recycle"), "bytes": mode.has("bytes"),
                "copy": mode.has("copy"), "nofetch": mode.has("nofetch"), "default": mode.has("default"),
            });
            let s = timed_save(&page, &opts, &blob.digest, size).await?;
            line.push(format!("{} {:.2} s", mode.name(), s.secs));
            samples[i].push(s);
        }
        let (took, out) = timed_sh(&curl).await?;
        if !out.starts_with(blob.digest.hex()) {
            return Err(Error::Failed(format!("curl | sha256sum said {out:?}")));
        }
        curl_secs.push(took.as_secs_f64());
        eprintln!(
            "   run {}: {}, curl|sha256sum {:.2} s",
            run + 1,
            line.join(", "),
            took.as_secs_f64()
        );
    }

    let curl_stats = Stats::of(&curl_secs);
    let what = format!("save prototype, {} MiB via relay", size >> 20);
    let mut rows = Vec::new();
    let mut details = Vec::new();
    for (mode, runs) in modes.iter().zip(&samples) {
        let secs: Vec<f64> = runs.iter().map(|s| s.secs).collect();
        let growth: Vec<f64> = runs
            .iter()
            .map(|s| s.renderer_growth as f64 / MIB)
            .collect();
        let verified: Vec<f64> = runs.iter().map(|s| s.verified_secs).collect();
        rows.push(
            Row::new(2, &format!("{what}: {}", mode.label()), "s")
                .ours(Stats::of(&secs))
                .anchor("curl -s <registry blob URL> | sha256sum", curl_stats)
                .goal(Goal::RatioAtMost(1.0))
                .note("start to complete, correct file in the download folder"),
        );
        rows.push(
            Row::new(
                2,
                &format!("{what}: {} renderer RSS growth", mode.name()),
                "MiB",
            )
            .ours(Stats::of(&growth))
            .anchor("budget", Some(Stats::exact(64.0)))
            .goal(Goal::Below(64.0)),
        );
        details.push(format!(
            "{}: runs {:?} s; renderer RSS growth {:?} MiB (renderer processes before, after: {:?}); worker {:?}; verified (page) at {} s; CPU s per run: {}",
            mode.name(),
            secs.iter().map(|s| num(*s)).collect::<Vec<_>>(),
            growth.iter().map(|s| num(*s)).collect::<Vec<_>>(),
            runs.iter().map(|s| format!("{:?} {}", s.renderers, s.per_process)).collect::<Vec<_>>(),
            runs.iter().map(|s| s.result.to_string()).collect::<Vec<_>>(),
            Stats::of(&verified)
                .map(|s| num(s.median))
                .unwrap_or_default(),
            cpu_summary(runs.iter().map(|s| &s.cpu))
        ));
    }
    details.push(format!("curl | sha256sum runs {curl_secs:?} s"));
    details.extend(checks::checks(&page, services).await?);
    Ok(Outcome { rows, details })
}

/// Writes the bench page and the prototype files into a temp dir and serves it with a relay.
async fn start_page(ctx: &Ctx, services: &Services) -> Result<Page> {
    let dir = temp_dir("wharf-bench-save-")?;
    benchpage::build(ctx, dir.path())?;
    for (name, text) in PAGE_FILES {
        std::fs::write(dir.path().join(name), text)
            .map_err(Error::io(format!("writing {name}")))?;
    }
    let allow = [format!("http://{}", services.registry.host_port())];
    let log = ctx.out.join("relay-save-proto.log");
    let relay = RelayProcess::start(&ctx.relay_bin, dir.path(), &allow, &log).await?;
    Ok(Page { relay, _dir: dir })
}

/// Opens the prototype page in a fresh browser and waits until its service worker is active.
async fn open(page: &Page) -> Result<Browser> {
    let browser = Browser::start().await?;
    browser
        .goto(&format!("{}/save.html", page.relay.base))
        .await?;
    let started = Instant::now();
    loop {
        let state = browser.script("return window.__save || null;").await?;
        match state["state"].as_str() {
            Some("ready") => return Ok(browser),
            Some("error") => return Err(Error::Failed(format!("save page: {}", state["error"]))),
            _ if started.elapsed() > Duration::from_secs(30) => {
                return Err(Error::Failed(format!("save page not ready: {state}")))
            }
            _ => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    }
}

async fn start(browser: &Browser, opts: &Value) -> Result<()> {
    browser
        .client
        .execute(
            "window.__saveStart(arguments[0]); return true;",
            vec![opts.clone()],
        )
        .await
        .map_err(Error::webdriver("starting a save"))?;
    Ok(())
}

/// Waits until the page's run ended; its `window.__save`.
async fn outcome(browser: &Browser, timeout: Duration) -> Result<Value> {
    let started = Instant::now();
    loop {
        let state = browser.script("return window.__save || null;").await?;
        match state["state"].as_str() {
            Some("done") | Some("error") => return Ok(state),
            _ if started.elapsed() > timeout => {
                return Err(Error::Failed(format!("the save did not end: {state}")))
            }
            _ => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
}

async fn timed_save(page: &Page, opts: &Value, digest: &Digest, size: u64) -> Result<Sample> {
    let browser = open(page).await?;
    tokio::time::sleep(Duration::from_millis(1000)).await;
    let driver = browser.driver_pid();
    let before = renderer_rss(driver);
    let renderers_before = descendants_with(driver, "--type=renderer").len();
    let sampler = renderer_sampler(driver);
    let per_process = ProcessPeaks::start(driver);
    let cpu = CpuMeter::start();
    let name = opts["name"].as_str().unwrap_or_default().to_owned();
    let since = Instant::now();
    start(&browser, opts).await?;
    let landed = browser
        .landed(since, Duration::from_secs(60 + size / 20_000_000), |n| {
            n == name
        })
        .await;
    let cpu = cpu.finish();
    let peak = sampler.finish();
    let renderers = (
        renderers_before,
        descendants_with(driver, "--type=renderer").len(),
    );
    let per_process = per_process.finish();
    // Garbage or live? The renderers' RSS again after 5 s without work.
    tokio::time::sleep(Duration::from_secs(5)).await;
    let idle_growth = renderer_rss(driver).saturating_sub(before);
    let state = outcome(&browser, Duration::from_secs(30)).await?;
    let landed = landed.map_err(|e| Error::Failed(format!("{e}; page: {state}")))?;
    if state["result"]["ok"] != json!(true) {
        return Err(Error::Failed(format!("the page says: {state}")));
    }
    if opts["mode"] == "synth" || opts["nofetch"] == json!(true) {
        // Zeros, not the blob: only the size can be checked.
        let len = std::fs::metadata(&landed.path)
            .map(|m| m.len())
            .unwrap_or(0);
        if len != size {
            return Err(Error::Failed(format!(
                "synth: {len} bytes, expected {size}"
            )));
        }
    } else {
        check_file(&landed.path, digest, size)?;
    }
    std::fs::remove_file(&landed.path).map_err(Error::io("removing the downloaded file"))?;
    Ok(Sample {
        secs: landed.done.as_secs_f64(),
        verified_secs: state["marks"]["verified"].as_f64().unwrap_or(f64::NAN) / 1000.0,
        result: json!({"ms": state["result"]["ms"], "waitForCreditMs": state["result"]["waitForCreditMs"],
                       "hashMs": state["result"]["hashMs"], "chunks": state["result"]["chunks"]}),
        renderer_growth: peak.saturating_sub(before),
        renderers,
        per_process: format!(
            "{per_process} idle +5 s: +{:.0} MiB",
            idle_growth as f64 / MIB
        ),
        cpu,
    })
}

/// Peak RSS of each renderer process of one Chromium, sampled every 100 ms, labelled by the
/// workers it hosts (thread names), to see where memory grows.
struct ProcessPeaks {
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    thread: std::thread::JoinHandle<BTreeMap<u32, (u64, u64)>>,
}

impl ProcessPeaks {
    fn start(driver: u32) -> ProcessPeaks {
        use std::sync::atomic::Ordering;
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = std::sync::Arc::clone(&stop);
        let thread = std::thread::spawn(move || {
            let mut peaks: BTreeMap<u32, (u64, u64)> = BTreeMap::new();
            while !flag.load(Ordering::Relaxed) {
                for pid in descendants_with(driver, "--type=renderer") {
                    if let Some(rss) = status_bytes(pid, "VmRSS") {
                        let entry = peaks.entry(pid).or_insert((rss, rss));
                        entry.1 = entry.1.max(rss);
                    }
                }
                std::thread::sleep(Duration::from_millis(100));
            }
            peaks
        });
        ProcessPeaks { stop, thread }
    }

    /// `[workers: first -> peak MiB, ...]`
    fn finish(self) -> String {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        let peaks = self.thread.join().unwrap_or_default();
        let parts: Vec<String> = peaks
            .iter()
            .map(|(pid, (first, peak))| {
                format!(
                    "{}: {:.0} -> {:.0}",
                    workers_in(*pid),
                    *first as f64 / MIB,
                    *peak as f64 / MIB
                )
            })
            .collect();
        format!("[{}]", parts.join(", "))
    }
}

/// The kinds of worker threads in a process (`DedicatedWorker`, `ServiceWorker`), or `page`.
fn workers_in(pid: u32) -> String {
    let mut kinds: Vec<String> = std::fs::read_dir(format!("/proc/{pid}/task"))
        .map(|tasks| {
            tasks
                .flatten()
                .filter_map(|t| std::fs::read_to_string(t.path().join("comm")).ok())
                .filter(|c| c.contains("Worker"))
                .map(|c| c.split_whitespace().next().unwrap_or_default().to_owned())
                .collect()
        })
        .unwrap_or_default();
    kinds.sort();
    kinds.dedup();
    match kinds.is_empty() {
        true => format!("{pid} (no workers)"),
        false => format!("{pid} ({})", kinds.join("+")),
    }
}

#[cfg(test)]
mod tests;
