//! Item 2: download + verify + save of a large blob through `wharf-relay` in headless Chromium
//! (the real page: look up, click Download, wait for the file), against `curl | sha256sum`
//! straight from the registry and `skopeo copy docker://… dir:…`; with the peak memory growth of
//! Chromium's renderer processes (page and worker) and of the relay. Firefox ESR beside it, with
//! its private file system and in a private window (staged in memory).

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

use wharf_oci::Digest;

use wharf_testkit::RunningRelay;

use crate::benchpage;
use crate::browser::{temp_dir, Browser, Kind};
use crate::error::{Error, Result};
use crate::procs::{
    cpu_summary, cpu_total, page_rss, quote, reset_peak, status_bytes, timed_sh, CpuMeter,
    PeakSampler,
};
use crate::relay::RelayProcess;
use crate::report::{num, Goal, Row, Stats};
use crate::seed::push_pattern_image;
use crate::{Ctx, Outcome, Services};

const REPO: &str = "bench/big";
pub(crate) const MIB: f64 = (1u64 << 20) as f64;

/// One run of the page.
struct PageRun {
    secs: f64,
    /// Until the browser's download began (fetched, hashed, staged and verified).
    handover_secs: f64,
    renderer_growth: u64,
    relay_growth: u64,
    /// CPU seconds per process kind (and renderer thread) during the run.
    cpu: BTreeMap<String, f64>,
}

pub async fn run(ctx: &Ctx, services: &Services) -> Result<Outcome> {
    let size = ctx.big_bytes();
    let registry = &services.registry;
    eprintln!("   seeding a one-layer image of {} MiB", size >> 20);
    let image = push_pattern_image(registry, REPO, "1", &[size], 0x1a7e).await?;
    let layer = image
        .layers
        .first()
        .ok_or_else(|| Error::Failed("the image has no layer".into()))?;
    let reference = format!("{}/{REPO}:1", registry.host_port());
    let blob_url = registry
        .v2_url(&format!("{REPO}/blobs/{}", layer.digest))
        .to_string();
    let curl = format!("curl -sf {} | sha256sum", quote(&blob_url));
    // Warm-up: the blob is in the page cache for every contender.
    timed_sh(&format!("curl -sf {} > /dev/null", quote(&blob_url))).await?;

    let mut page = Vec::new();
    let mut curl_secs = Vec::new();
    let mut skopeo_secs = Vec::new();
    let (mut curl_cpu, mut skopeo_cpu) = (Vec::new(), Vec::new());
    for run in 0..ctx.runs {
        let p = page_run(services, &reference, &layer.digest, size, Kind::Chromium).await?;
        let meter = CpuMeter::start();
        let (took, out) = timed_sh(&curl).await?;
        curl_cpu.push(meter.finish());
        if !out.starts_with(layer.digest.hex()) {
            return Err(Error::Failed(format!("curl | sha256sum said {out:?}")));
        }
        curl_secs.push(took.as_secs_f64());
        let meter = CpuMeter::start();
        skopeo_secs.push(skopeo_dir(&reference, &layer.digest, size).await?);
        skopeo_cpu.push(meter.finish());
        eprintln!(
            "   run {}: page {:.2} s (handover at {:.2} s, renderer +{:.1} MiB, relay +{:.1} MiB), curl|sha256sum {:.2} s, skopeo {:.2} s",
            run + 1,
            p.secs,
            p.handover_secs,
            p.renderer_growth as f64 / MIB,
            p.relay_growth as f64 / MIB,
            curl_secs[run],
            skopeo_secs[run]
        );
        page.push(p);
    }

    let secs: Vec<f64> = page.iter().map(|p| p.secs).collect();
    let handover: Vec<f64> = page.iter().map(|p| p.handover_secs).collect();
    let renderer: Vec<f64> = page
        .iter()
        .map(|p| p.renderer_growth as f64 / MIB)
        .collect();
    let relay: Vec<f64> = page.iter().map(|p| p.relay_growth as f64 / MIB).collect();
    let page_cpu: Vec<_> = page.iter().map(|p| p.cpu.clone()).collect();
    let curl = Anchor {
        secs: &curl_secs,
        cpu: &curl_cpu,
    };
    let what = format!("download + verify + save {} MiB", size >> 20);
    let mb_s = |s: Option<Stats>| s.map(|s| num(size as f64 / 1e6 / s.median));
    let rows = vec![
        Row::new(
            2,
            &format!("{what}: wharf page via relay vs curl | sha256sum"),
            "s",
        )
        .ours(Stats::of(&secs))
        .anchor(
            "curl -s <registry blob URL> | sha256sum",
            Stats::of(&curl_secs),
        )
        .goal(Goal::RatioAtMost(1.3))
        .note("click to finished file in the download folder"),
        cpu_row(2, &what, size, &page_cpu, "curl | sha256sum", &curl_cpu)
            .goal(Goal::RatioAtMost(1.5)),
        cpu_row(
            2,
            &what,
            size,
            &page_cpu,
            "skopeo copy … dir:…",
            &skopeo_cpu,
        ),
        Row::new(2, &format!("{what}: wharf page via relay vs skopeo"), "s")
            .ours(Stats::of(&secs))
            .anchor(
                "skopeo copy docker://… dir:… (one-layer image)",
                Stats::of(&skopeo_secs),
            ),
        Row::new(
            2,
            &format!("{what}: renderer + worker peak RSS growth"),
            "MiB",
        )
        .ours(Stats::of(&renderer))
        .anchor("budget", Some(Stats::exact(64.0)))
        .goal(Goal::Below(64.0))
        .note(
            "sum of Chromium --type=renderer processes, sampled every 100 ms, vs before the click",
        ),
        Row::new(2, &format!("{what}: relay peak RSS growth"), "MiB")
            .ours(Stats::of(&relay))
            .anchor("budget", Some(Stats::exact(32.0)))
            .goal(Goal::Below(32.0))
            .note("wharf-relay subprocess: VmHWM (reset before the click) - VmRSS before"),
    ];
    let mut details = vec![
        format!(
            "page, CPU seconds per run (mean) while the wall clock ran {} s: {}",
            Stats::of(&secs).map(|s| num(s.median)).unwrap_or_default(),
            cpu_summary(page.iter().map(|p| &p.cpu))
        ),
        format!(
            "curl | sha256sum, CPU seconds per run (mean): {}",
            cpu_summary(curl_cpu.iter())
        ),
        format!(
            "skopeo copy, CPU seconds per run (mean): {}",
            cpu_summary(skopeo_cpu.iter())
        ),
        format!(
            "page: until the browser's download began (fetch + hash + OPFS staging + verify) median {} s; \
             the rest is the hand-over of the staged file to the download folder",
            Stats::of(&handover).map(|s| num(s.median)).unwrap_or_default()
        ),
        format!(
            "throughput (median): page {} MB/s, curl | sha256sum {} MB/s, skopeo {} MB/s",
            mb_s(Stats::of(&secs)).unwrap_or_default(),
            mb_s(Stats::of(&curl_secs)).unwrap_or_default(),
            mb_s(Stats::of(&skopeo_secs)).unwrap_or_default()
        ),
    ];
    let mut rows = rows;
    let firefox = if ctx.chromium_only {
        &[][..]
    } else {
        &FIREFOX[..]
    };
    for kind in firefox.iter().copied() {
        let runs = ctx.runs.min(3);
        let (more, said) = firefox_rows(
            services,
            (&reference, &layer.digest, size),
            kind,
            runs,
            &curl,
        )
        .await?;
        rows.extend(more);
        details.push(said);
    }
    details.extend(profile(ctx, services, &blob_url, &layer.digest, size).await?);
    Ok(Outcome { rows, details })
}

/// Firefox beside Chromium: with its private file system, and in a private window (in memory).
const FIREFOX: [Kind; 2] = [
    Kind::Firefox { private: false },
    Kind::Firefox { private: true },
];

/// The curl anchor's runs, for the Firefox rows.
struct Anchor<'a> {
    secs: &'a [f64],
    cpu: &'a [BTreeMap<String, f64>],
}

/// `runs` page downloads of the blob in one kind of Firefox: wall time and CPU against curl, and
/// the page's memory (content processes). On the OPFS path the budget is Chromium's; in memory
/// the growth is the file itself, stated.
async fn firefox_rows(
    services: &Services,
    (reference, digest, size): (&str, &Digest, u64),
    kind: Kind,
    runs: usize,
    curl: &Anchor<'_>,
) -> Result<(Vec<Row>, String)> {
    let mut page = Vec::new();
    for run in 0..runs {
        let p = page_run(services, reference, digest, size, kind).await?;
        eprintln!(
            "   {} run {}: {:.2} s, content processes +{:.1} MiB",
            kind.label(),
            run + 1,
            p.secs,
            p.renderer_growth as f64 / MIB
        );
        page.push(p);
    }
    let secs: Vec<f64> = page.iter().map(|p| p.secs).collect();
    let growth: Vec<f64> = page
        .iter()
        .map(|p| p.renderer_growth as f64 / MIB)
        .collect();
    let cpu: Vec<_> = page.iter().map(|p| p.cpu.clone()).collect();
    let what = format!(
        "download + verify + save {} MiB in {}",
        size >> 20,
        kind.label()
    );
    let memory = Row::new(
        2,
        &format!("{what}: content processes peak RSS growth"),
        "MiB",
    )
    .ours(Stats::of(&growth));
    let memory = match kind {
        Kind::Firefox { private: true } => memory.note(
            "the verified bytes are held as Blob parts until the browser copied them out: \
             about the file's size, which is why that path stops at 1 GiB",
        ),
        _ => memory
            .anchor("budget", Some(Stats::exact(64.0)))
            .goal(Goal::Below(64.0))
            .note("sum of Firefox's web content processes (-isForBrowser), sampled every 100 ms"),
    };
    let rows = vec![
        Row::new(
            2,
            &format!("{what}: wharf page via relay vs curl | sha256sum"),
            "s",
        )
        .ours(Stats::of(&secs))
        .anchor(
            "curl -s <registry blob URL> | sha256sum",
            Stats::of(curl.secs),
        )
        .note(format!(
            "{runs} runs; click to finished file in the download folder"
        )),
        cpu_row(2, &what, size, &cpu, "curl | sha256sum", curl.cpu),
        memory,
    ];
    let said = format!(
        "{}, CPU seconds per run (mean): {}",
        kind.label(),
        cpu_summary(page.iter().map(|p| &p.cpu))
    );
    Ok((rows, said))
}

/// CPU-seconds per GiB of every process that took part (the registry's included on both sides),
/// from the same runs as the wall-clock rows.
pub fn cpu_row(
    item: u8,
    what: &str,
    size: u64,
    ours: &[BTreeMap<String, f64>],
    anchor: &str,
    theirs: &[BTreeMap<String, f64>],
) -> Row {
    let per_gib = |runs: &[BTreeMap<String, f64>]| {
        let gib = size as f64 / (1u64 << 30) as f64;
        Stats::of(&runs.iter().map(|r| cpu_total(r) / gib).collect::<Vec<_>>())
    };
    Row::new(
        item,
        &format!("{what}: CPU-seconds per GiB, all processes, vs {anchor}"),
        "CPU-s/GiB",
    )
    .ours(per_gib(ours))
    .anchor(anchor, per_gib(theirs))
    .note("user + system time of every process below the bench, registry included on both sides")
}

/// Where the page's time goes: the worker's pipeline rebuilt step by step in JS (same hasher,
/// same BYOB reads, same OPFS sync writes) on the same blob through a relay, and the relay's
/// single-stream speed with curl.
async fn profile(
    ctx: &Ctx,
    services: &Services,
    blob_url: &str,
    digest: &Digest,
    size: u64,
) -> Result<Vec<String>> {
    let runs = ctx.runs.min(3);
    let page = temp_dir("wharf-bench-pipeline-")?;
    benchpage::build(ctx, page.path())?;
    // The same bytes as a plain file of the page's server: fetch without the relay.
    let blob_file = services.registry.blob_file(digest);
    let linked = page.path().join("blob.bin");
    if std::fs::hard_link(&blob_file, &linked).is_err() {
        std::os::unix::fs::symlink(&blob_file, &linked)
            .map_err(Error::io(format!("linking {}", blob_file.display())))?;
    }
    let allow = [format!("http://{}", services.registry.host_port())];
    let log = ctx.out.join("relay-profile.log");
    let relay = RelayProcess::start(&ctx.relay_bin, page.path(), &allow, &log).await?;
    let through_relay = relay.relay_url(blob_url);
    let encoded: String = url::form_urlencoded::byte_serialize(through_relay.as_bytes()).collect();
    let url = format!(
        "{}/index.html?worker=pipeline-worker.js&runs={runs}&chunks=1048576,524288,262144,131072,65536&static=blob.bin&url={encoded}",
        relay.base
    );
    let timeout = Duration::from_secs(120 + runs as u64 * 6 * size / 30_000_000);
    let browser = Browser::start().await?;
    let results = benchpage::run(&browser, &url, timeout).await?;
    drop(browser);

    let mut lines = Vec::new();
    let mut steps = Vec::new();
    if let Some(map) = results["results"].as_object() {
        for key in map.keys() {
            if key.contains("hash") {
                benchpage::check_digests(&results, key, "digests", runs, digest.hex())?;
            }
            let mbps = Stats::of(&benchpage::millis(&results, key))
                .map(|s| s.map(|ms| size as f64 / 1e6 / (ms / 1000.0)));
            if let Some(s) = mbps {
                steps.push(format!(
                    "{key} {} ({}–{})",
                    num(s.median),
                    num(s.min),
                    num(s.max)
                ));
            }
        }
    }
    lines.push(format!(
        "pipeline profile, MB/s (the worker's steps rebuilt in JS in a dedicated worker, BYOB reads, \
         {runs} runs, blob via a relay): {}",
        steps.join("; ")
    ));
    let mut curl = Vec::new();
    for (label, url) in [("direct", blob_url), ("via relay", through_relay.as_str())] {
        let mut secs = Vec::new();
        for _ in 0..runs {
            let (took, _) = timed_sh(&format!("curl -sf -o /dev/null {}", quote(url))).await?;
            secs.push(took.as_secs_f64());
        }
        if let Some(s) = Stats::of(&secs) {
            curl.push(format!(
                "{label} {} MB/s",
                num(size as f64 / 1e6 / s.median)
            ));
        }
    }
    lines.push(format!(
        "curl -o /dev/null (no hashing): {}",
        curl.join(", ")
    ));
    Ok(lines)
}

/// Follows the renderer processes of one Chromium: re-scans `/proc` for them every second and
/// reads their RSS in between (cheap enough to sample every 100 ms).
pub(crate) fn renderer_sampler(driver: u32) -> PeakSampler {
    page_sampler(driver, Kind::Chromium)
}

/// The peak growth of a browser's page processes (pages and workers) from now on: their RSS
/// now, then sampled until [`finish`](PageGrowth::finish).
pub(crate) struct PageGrowth {
    before: u64,
    sampler: PeakSampler,
}

impl PageGrowth {
    pub(crate) fn start(driver: u32, kind: Kind) -> PageGrowth {
        PageGrowth {
            before: page_rss(driver, kind.page_process()),
            sampler: page_sampler(driver, kind),
        }
    }

    /// Bytes above the RSS at the start, at the peak.
    pub(crate) fn finish(self) -> u64 {
        self.sampler.finish().saturating_sub(self.before)
    }
}

/// [`renderer_sampler`] for any browser: the processes that hold its pages and workers.
fn page_sampler(driver: u32, kind: Kind) -> PeakSampler {
    let marker = kind.page_process();
    let mut pids: Vec<u32> = Vec::new();
    let mut scanned: Option<Instant> = None;
    PeakSampler::start(Duration::from_millis(100), move || {
        if scanned.is_none_or(|t| t.elapsed() > Duration::from_secs(1)) {
            pids = crate::procs::descendants_with(driver, marker);
            scanned = Some(Instant::now());
        }
        pids.iter()
            .filter_map(|pid| status_bytes(*pid, "VmRSS"))
            .sum()
    })
}

async fn page_run(
    services: &Services,
    reference: &str,
    digest: &Digest,
    size: u64,
    kind: Kind,
) -> Result<PageRun> {
    let relay = &services.relay;
    let browser = Browser::start_kind(kind).await?;
    browser
        .look_up(&format!("{}/", relay.base), reference)
        .await?;
    let button = browser
        .wait(
            &format!("button[data-digest='{digest}']"),
            Duration::from_secs(60),
        )
        .await?;
    // Let the page settle (worker started, lookup rendered) before the baselines.
    tokio::time::sleep(Duration::from_millis(1000)).await;
    let pages = PageGrowth::start(browser.driver_pid(), kind);
    reset_peak(relay.pid())?;
    let relay_before = status_bytes(relay.pid(), "VmRSS").unwrap_or_default();
    let cpu = CpuMeter::start();

    let since = Instant::now();
    button
        .click()
        .await
        .map_err(Error::webdriver("clicking Download"))?;
    let name = format!("{}.tar", digest.hex());
    let landed = browser
        .landed(since, Duration::from_secs(900), |n| n == name)
        .await;
    let cpu = cpu.finish();
    let renderer_growth = pages.finish();
    let relay_peak = status_bytes(relay.pid(), "VmHWM").unwrap_or_default();
    let landed = landed?;
    check_file(&landed.path, digest, size)?;
    std::fs::remove_file(&landed.path).map_err(Error::io("removing the downloaded file"))?;
    Ok(PageRun {
        secs: landed.done.as_secs_f64(),
        handover_secs: landed.first_seen.as_secs_f64(),
        renderer_growth,
        relay_growth: relay_peak.saturating_sub(relay_before),
        cpu,
    })
}

/// The saved file has the blob's size and digest.
pub fn check_file(path: &Path, digest: &Digest, size: u64) -> Result<()> {
    let len = std::fs::metadata(path)
        .map_err(Error::io(format!("{}", path.display())))?
        .len();
    if len != size {
        return Err(Error::Failed(format!(
            "{} has {len} bytes, expected {size}",
            path.display()
        )));
    }
    let actual = file_digest(path)?;
    if &actual != digest {
        return Err(Error::Failed(format!(
            "{} hashes to {actual}, expected {digest}",
            path.display()
        )));
    }
    Ok(())
}

fn file_digest(path: &Path) -> Result<Digest> {
    use std::io::Read as _;
    let mut file = std::fs::File::open(path).map_err(Error::io(format!("{}", path.display())))?;
    let mut hasher = wharf_oci::digest::Hasher::new(wharf_oci::Algorithm::Sha256);
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = file
            .read(&mut buf)
            .map_err(Error::io(format!("{}", path.display())))?;
        if n == 0 {
            return Ok(hasher.finish());
        }
        hasher.update(&buf[..n]);
    }
}

/// Seconds for `skopeo copy docker://<reference> dir:<temp>`; checks the layer file.
async fn skopeo_dir(reference: &str, digest: &Digest, size: u64) -> Result<f64> {
    let dir = temp_dir("wharf-bench-skopeo-")?;
    let target = dir.path().join("image");
    let script = format!(
        "skopeo copy --quiet --src-tls-verify=false docker://{reference} dir:{}",
        quote(&target.display().to_string())
    );
    let (took, _) = timed_sh(&script).await?;
    let layer = target.join(digest.hex());
    let len = std::fs::metadata(&layer)
        .map_err(Error::io(format!("skopeo's {}", layer.display())))?
        .len();
    if len != size {
        return Err(Error::Failed(format!(
            "skopeo wrote {len} bytes, expected {size}"
        )));
    }
    Ok(took.as_secs_f64())
}
