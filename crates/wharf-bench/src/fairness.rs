//! Item 6: one client cannot starve another. A polite client (one manifest GET every 100 ms, from
//! 127.0.0.2) measures its latency alone, then while 4 greedy clients (127.0.0.20-23, 16 connections
//! each, 1 MiB blobs back to back, retrying a 429 after 50 ms instead of honouring `Retry-After`) load
//! a relay with the default per-client limits. For context, the same load on a relay without them.
//!
//! The two measured phases last three wrk runs (60 s, 600 requests): the p99 of a 20 s phase is its
//! 2nd-worst sample of 200, and one scheduler hiccup on a shared 2-core machine moved it 2x from run
//! to run. The context phase keeps the wrk length.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use wharf_testkit::{Pattern, RunningRelay};

use crate::error::{Error, Result};
use crate::relay::{client_from, RelayProcess};
use crate::report::{Goal, Row, Stats};
use crate::{Ctx, Outcome, Services};

const REPO: &str = "bench/fair";
const GREEDY: u8 = 4;
const GREEDY_CONNECTIONS: usize = 16;
/// How long a greedy client waits after a 429 (it ignores `Retry-After`).
const GREEDY_RETRY: Duration = Duration::from_millis(50);
const POLITE_EVERY: Duration = Duration::from_millis(100);
/// Longer than the default burst (100 requests) lasts at the greedy clients' pace.
const WARM_UP: Duration = Duration::from_secs(2);

/// What the polite client saw in one phase.
#[derive(Debug, Default)]
struct Polite {
    latencies_ms: Vec<f64>,
    failed: u64,
}

impl Polite {
    fn p99(&self) -> Option<f64> {
        percentile(&self.latencies_ms, 0.99)
    }
}

/// What the greedy clients got done in one phase.
#[derive(Debug, Default)]
struct Greedy {
    bytes: AtomicU64,
    completed: AtomicU64,
    limited: AtomicU64,
    busy: AtomicU64,
    errors: AtomicU64,
    /// From the first greedy request to the last one's end.
    elapsed: Duration,
}

/// The `q` quantile (nearest rank) of samples.
pub fn percentile(samples: &[f64], q: f64) -> Option<f64> {
    let mut sorted: Vec<f64> = samples.iter().copied().filter(|x| x.is_finite()).collect();
    if sorted.is_empty() {
        return None;
    }
    sorted.sort_by(f64::total_cmp);
    let rank = (q * sorted.len() as f64).ceil() as usize;
    Some(sorted[rank.clamp(1, sorted.len()) - 1])
}

#[derive(Clone)]
struct Urls {
    manifest: String,
    accept: String,
    blob: String,
}

pub async fn run(ctx: &Ctx, services: &Services) -> Result<Outcome> {
    let registry = &services.registry;
    let image = registry.push_image(REPO, "1", 1).await?;
    let blob = registry
        .push_blob(REPO, Pattern::new(0x5a).bytes(0, 1 << 20))
        .await?;
    let allow = [format!("http://{}", registry.host_port())];
    let log = ctx.out.join("relay-fairness.log");
    let limited = RelayProcess::start(&ctx.relay_bin, &ctx.dist, &allow, &log).await?;
    let urls = |relay: &RelayProcess| Urls {
        manifest: relay.relay_url(registry.v2_url(&format!("{REPO}/manifests/1")).as_str()),
        accept: image.manifest.media_type.clone(),
        blob: relay.relay_url(
            registry
                .v2_url(&format!("{REPO}/blobs/{}", blob.digest))
                .as_str(),
        ),
    };
    let phase = Duration::from_secs(3 * ctx.wrk_secs());
    let context = Duration::from_secs(ctx.wrk_secs());
    let (mut alone, mut loaded, mut open) = (Vec::new(), Vec::new(), Vec::new());
    let mut details = Vec::new();
    for run in 0..ctx.runs {
        let fair = urls(&limited);
        alone.push(polite_apart(&fair, phase).await?);
        let (seen, greedy) = under_load(&fair, phase).await?;
        details.push(greedy_detail("default limits", run, &greedy));
        loaded.push(seen);
        let unlimited = urls(&services.relay);
        let (seen, greedy) = under_load(&unlimited, context).await?;
        details.push(greedy_detail("no per-client limits", run, &greedy));
        open.push(seen);
        let shown = |p: &Polite| {
            let q = |x| percentile(&p.latencies_ms, x).unwrap_or(f64::NAN);
            format!(
                "p50 {:.1} p90 {:.1} p99 {:.1} max {:.1} ms ({} requests)",
                q(0.5),
                q(0.9),
                q(0.99),
                q(1.0),
                p.latencies_ms.len()
            )
        };
        eprintln!(
            "   run {}: polite alone {}, with greedy clients {}, without limits {}",
            run + 1,
            shown(&alone[run]),
            shown(&loaded[run]),
            shown(&open[run])
        );
    }
    Ok(Outcome {
        rows: rows(&alone, &loaded, &open),
        details,
    })
}

fn rows(alone: &[Polite], loaded: &[Polite], open: &[Polite]) -> Vec<Row> {
    let p99s =
        |list: &[Polite]| Stats::of(&list.iter().filter_map(Polite::p99).collect::<Vec<_>>());
    let failed = |list: &[Polite]| {
        Some(Stats::exact(
            list.iter().map(|p| p.failed).sum::<u64>() as f64
        ))
    };
    let what = "polite client's manifest p99 while 4 greedy clients load the relay";
    vec![
        Row::new(6, &format!("{what} (default per-client limits)"), "ms")
            .ours(p99s(loaded))
            .anchor("polite client alone", p99s(alone))
            .goal(Goal::RatioAtMost(2.0)),
        Row::new(
            6,
            "polite client's failed requests under load, all runs",
            "count",
        )
        .ours(failed(loaded))
        .goal(Goal::AtMost(0.0)),
        Row::new(
            6,
            &format!("{what} (no per-client limits, for context)"),
            "ms",
        )
        .ours(p99s(open))
        .anchor("polite client alone", p99s(alone))
        .note(format!(
            "polite requests refused or failed without limits: {}",
            open.iter().map(|p| p.failed).sum::<u64>()
        )),
    ]
}

fn greedy_detail(relay: &str, run: usize, g: &Greedy) -> String {
    // The greedy clients ran through the warm-up as well as the phase: divide by their own time.
    let secs = g.elapsed.as_secs_f64().max(f64::MIN_POSITIVE);
    format!(
        "{relay}, run {}: greedy clients got {:.1} MB/s ({} blobs), {} answers 429, {} answers 503, {} errors",
        run + 1,
        g.bytes.load(Ordering::Relaxed) as f64 / secs / 1e6,
        g.completed.load(Ordering::Relaxed),
        g.limited.load(Ordering::Relaxed),
        g.busy.load(Ordering::Relaxed),
        g.errors.load(Ordering::Relaxed)
    )
}

/// The polite client's phase while the greedy clients run.
async fn under_load(urls: &Urls, phase: Duration) -> Result<(Polite, Greedy)> {
    let stop = Arc::new(AtomicBool::new(false));
    let greedy = Arc::new(Greedy::default());
    let started = Instant::now();
    let mut tasks = Vec::new();
    for i in 0..GREEDY {
        let client = client_from([127, 0, 0, 20 + i])?;
        for _ in 0..GREEDY_CONNECTIONS {
            let (client, url) = (client.clone(), urls.blob.clone());
            let (stop, greedy) = (Arc::clone(&stop), Arc::clone(&greedy));
            tasks.push(tokio::spawn(async move {
                while !stop.load(Ordering::Relaxed) {
                    greedy_request(&client, &url, &greedy).await;
                }
            }));
        }
    }
    // Measure the steady state: the greedy clients have spent their bursts by then.
    tokio::time::sleep(WARM_UP).await;
    let seen = polite_apart(urls, phase).await;
    stop.store(true, Ordering::Relaxed);
    for task in tasks {
        let _ = task.await;
    }
    let elapsed = started.elapsed();
    let greedy = Arc::into_inner(greedy)
        .ok_or_else(|| Error::Failed("a greedy task outlived its phase".into()))?;
    Ok((seen?, Greedy { elapsed, ..greedy }))
}

async fn greedy_request(client: &reqwest::Client, url: &str, greedy: &Greedy) {
    let response = match client.get(url).send().await {
        Ok(response) => response,
        Err(_) => {
            greedy.errors.fetch_add(1, Ordering::Relaxed);
            return;
        }
    };
    match response.status().as_u16() {
        200 => match read_all(response).await {
            Some(bytes) => {
                greedy.bytes.fetch_add(bytes, Ordering::Relaxed);
                greedy.completed.fetch_add(1, Ordering::Relaxed);
            }
            None => {
                greedy.errors.fetch_add(1, Ordering::Relaxed);
            }
        },
        status => {
            let counter = match status {
                429 => &greedy.limited,
                503 => &greedy.busy,
                _ => &greedy.errors,
            };
            counter.fetch_add(1, Ordering::Relaxed);
            let _ = response.bytes().await;
            tokio::time::sleep(GREEDY_RETRY).await;
        }
    }
}

async fn read_all(mut response: reqwest::Response) -> Option<u64> {
    let mut bytes = 0u64;
    while let Some(chunk) = response.chunk().await.ok()? {
        bytes += chunk.len() as u64;
    }
    Some(bytes)
}

/// [`polite`] on a thread and runtime of its own, so that the greedy tasks in this process do not
/// delay its timer or its reads: what it measures is the relay's answer.
async fn polite_apart(urls: &Urls, phase: Duration) -> Result<Polite> {
    let urls = urls.clone();
    let thread = std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(Error::io("polite client's runtime"))?;
        runtime.block_on(polite(&urls, phase))
    });
    tokio::task::spawn_blocking(move || thread.join())
        .await
        .map_err(|e| Error::Failed(format!("polite client: {e}")))?
        .map_err(|_| Error::Failed("the polite client panicked".into()))?
}

/// One manifest GET every 100 ms for `phase`; latency of each, failures counted.
async fn polite(urls: &Urls, phase: Duration) -> Result<Polite> {
    let client = client_from([127, 0, 0, 2])?;
    let mut seen = Polite::default();
    let end = Instant::now() + phase;
    let mut tick = tokio::time::interval(POLITE_EVERY);
    while Instant::now() < end {
        tick.tick().await;
        let started = Instant::now();
        let request = client.get(&urls.manifest).header("accept", &urls.accept);
        let ok = match request.send().await {
            Ok(response) if response.status() == 200 => response.bytes().await.is_ok(),
            Ok(response) => {
                let _ = response.bytes().await;
                false
            }
            Err(_) => false,
        };
        if ok {
            seen.latencies_ms
                .push(started.elapsed().as_secs_f64() * 1000.0);
        } else {
            seen.failed += 1;
        }
    }
    Ok(seen)
}

#[cfg(test)]
mod tests {
    use super::percentile;

    #[test]
    fn nearest_rank_percentiles() {
        let hundred: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(percentile(&hundred, 0.99), Some(99.0));
        assert_eq!(percentile(&hundred, 0.5), Some(50.0));
        assert_eq!(percentile(&[3.0, 1.0, 2.0], 0.99), Some(3.0));
        assert_eq!(percentile(&[7.0], 0.0), Some(7.0));
        assert_eq!(percentile(&[], 0.99), None);
        assert_eq!(percentile(&[f64::NAN], 0.99), None);
    }
}
