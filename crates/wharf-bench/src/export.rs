//! Item 5: whole-image save of an 8-layer image (1 GiB in all) with the page's **Save image**
//! control vs `skopeo copy docker://… docker-archive:…`. When the control is missing or does
//! nothing yet, the row says so (not measured, goal not met) and skopeo is still timed.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use crate::browser::{temp_dir, Browser, Kind};
use crate::download::{cpu_row, PageGrowth, MIB};
use crate::error::{Error, Result};
use crate::procs::{cpu_summary, quote, timed_sh, CpuMeter};
use crate::report::{Goal, Row, Stats};
use crate::seed::push_pattern_image;
use crate::{Ctx, Outcome, Services};

const REPO: &str = "bench/multi";
const LAYERS: u64 = 8;
const SAVE: &str = "button[data-export='archive']";

/// One Save image run.
struct PageRun {
    secs: f64,
    /// Until the browser's download began (every blob fetched, verified and staged).
    handover_secs: f64,
    /// Peak growth of Chromium's renderer processes (page and workers) in bytes.
    renderer_growth: u64,
    cpu: BTreeMap<String, f64>,
}

/// Why the page's side was not measured.
enum Page {
    Measured(Vec<PageRun>),
    Missing(String),
}

pub async fn run(ctx: &Ctx, services: &Services) -> Result<Outcome> {
    let registry = &services.registry;
    let total = ctx.big_bytes();
    let sizes = vec![total / LAYERS; LAYERS as usize];
    eprintln!(
        "   seeding an image of {LAYERS} layers, {} MiB in all",
        total >> 20
    );
    push_pattern_image(registry, REPO, "1", &sizes, 0x5a7e).await?;
    let reference = format!("{}/{REPO}:1", registry.host_port());

    let (mut skopeo, mut skopeo_cpu) = (Vec::new(), Vec::new());
    let mut page = Page::Measured(Vec::new());
    for run in 0..ctx.runs {
        if let Page::Measured(times) = &mut page {
            match page_run(services, &reference, total).await? {
                Ok(run) => times.push(run),
                Err(reason) => page = Page::Missing(reason),
            }
        }
        let meter = CpuMeter::start();
        skopeo.push(skopeo_archive(&reference, total).await?);
        skopeo_cpu.push(meter.finish());
        eprintln!("   run {}: skopeo {:.2} s", run + 1, skopeo[run]);
    }
    let name = format!(
        "whole-image save, {LAYERS} layers, {} MiB: wharf Save image vs skopeo",
        total >> 20
    );
    let anchor = "skopeo copy docker://… docker-archive:…";
    let row = Row::new(5, &name, "s")
        .anchor(anchor, Stats::of(&skopeo))
        .goal(Goal::RatioAtMost(1.3));
    let mut rows = Vec::new();
    let (row, details) = match page {
        Page::Measured(runs) => {
            let secs: Vec<f64> = runs.iter().map(|r| r.secs).collect();
            let handover: Vec<f64> = runs.iter().map(|r| r.handover_secs).collect();
            let page_cpu: Vec<_> = runs.iter().map(|r| r.cpu.clone()).collect();
            let growth: Vec<f64> = runs
                .iter()
                .map(|r| r.renderer_growth as f64 / MIB)
                .collect();
            let what = format!("whole-image save, {LAYERS} layers, {} MiB", total >> 20);
            rows.push(cpu_row(
                5,
                &what,
                total,
                &page_cpu,
                "skopeo copy",
                &skopeo_cpu,
            ));
            rows.push(
                Row::new(5, &format!("{what}: renderer + workers peak RSS growth"), "MiB")
                    .ours(Stats::of(&growth))
                    .anchor("budget", Some(Stats::exact(64.0)))
                    .goal(Goal::Below(64.0))
                    .note("sum of Chromium --type=renderer processes (page and download worker), sampled every 100 ms"),
            );
            let details = vec![
                format!(
                    "Save image runs (s): {secs:.2?}; the browser's download began at (s): {handover:.2?}"
                ),
                format!(
                    "Save image, CPU seconds per run (mean): {}",
                    cpu_summary(runs.iter().map(|r| &r.cpu))
                ),
                format!(
                    "skopeo copy, CPU seconds per run (mean): {}",
                    cpu_summary(skopeo_cpu.iter())
                ),
            ];
            (
                row.ours(Stats::of(&secs))
                    .note("click to finished .tar in the download folder"),
                details,
            )
        }
        Page::Missing(reason) => (
            row.note(format!("not measured: {reason}")),
            vec![format!("Save image not measured: {reason}")],
        ),
    };
    rows.insert(0, row);
    Ok(Outcome { rows, details })
}

/// One Save image run, or `Ok(Err(reason))` when the control is missing or does nothing.
async fn page_run(
    services: &Services,
    reference: &str,
    total: u64,
) -> Result<std::result::Result<PageRun, String>> {
    let browser = Browser::start().await?;
    browser
        .look_up(&format!("{}/", services.relay.base), reference)
        .await?;
    browser
        .wait("tr[data-blob]", Duration::from_secs(60))
        .await?;
    let Ok(save) = browser.wait(SAVE, Duration::from_secs(5)).await else {
        return Ok(Err(
            "control missing (no button[data-export=archive])".into()
        ));
    };
    tokio::time::sleep(Duration::from_millis(1000)).await;
    let entries_before = browser.count("[data-download]").await;
    let pages = PageGrowth::start(browser.driver_pid(), Kind::Chromium);
    let cpu = CpuMeter::start();
    let since = Instant::now();
    save.click()
        .await
        .map_err(Error::webdriver("clicking Save image"))?;
    // The control must show that it works within 20 s: a download entry, a disabled button, or
    // a file arriving.
    let mut started = false;
    while since.elapsed() < Duration::from_secs(20) && !started {
        started = browser.count("[data-download]").await > entries_before
            || !browser.download_names().is_empty()
            || browser.has(&format!("{SAVE}[disabled]")).await;
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    if !started {
        return Ok(Err(
            "control present, but clicking Save image started nothing within 20 s".into(),
        ));
    }
    let landed = browser
        .landed(since, Duration::from_secs(900), |n| n.ends_with(".tar"))
        .await?;
    let cpu = cpu.finish();
    let renderer_growth = pages.finish();
    let run = PageRun {
        secs: landed.done.as_secs_f64(),
        handover_secs: landed.first_seen.as_secs_f64(),
        renderer_growth,
        cpu,
    };
    let len = std::fs::metadata(&landed.path)
        .map_err(Error::io("the saved archive"))?
        .len();
    if len < total {
        return Err(Error::Failed(format!(
            "the saved archive has {len} bytes, less than its {total} bytes of layers"
        )));
    }
    // skopeo must be able to read what was saved.
    let inspect = format!(
        "skopeo inspect --raw docker-archive:{}",
        quote(&landed.path.display().to_string())
    );
    timed_sh(&inspect).await?;
    std::fs::remove_file(&landed.path).map_err(Error::io("removing the saved archive"))?;
    Ok(Ok(run))
}

/// Seconds for `skopeo copy docker://<reference> docker-archive:<temp>.tar`.
async fn skopeo_archive(reference: &str, total: u64) -> Result<f64> {
    let dir = temp_dir("wharf-bench-skopeo-")?;
    let tar = dir.path().join("image.tar");
    let script = format!(
        "skopeo copy --quiet --src-tls-verify=false docker://{reference} docker-archive:{}:{REPO}:1",
        quote(&tar.display().to_string())
    );
    let (took, _) = timed_sh(&script).await?;
    let len = std::fs::metadata(&tar)
        .map_err(Error::io("skopeo's archive"))?
        .len();
    if len < total {
        return Err(Error::Failed(format!("skopeo's archive has {len} bytes")));
    }
    Ok(took.as_secs_f64())
}
