//! `wharf-bench soak --secs N` (`cargo xtask soak`): the relay binary under faults for a bounded time
//! on loopback. A registry sits behind a fault front ([`wharf_testkit::Front`] with faults chosen per request by path: cut bodies, stalls,
//! 429, 503, slow headers); wrk loads manifests through the relay while client tasks, each from its
//! own loopback address, fetch blobs whole, in ranges, slowly, or drop them half-way. Then it checks:
//! the relay is alive and answers, every completed transfer is byte-exact, every fault was seen as
//! that fault, the relay's file descriptors are back at their count before the load, and its memory
//! stayed flat.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use wharf_testkit::{Fault, Front, Mode, Pattern, Registry, RunningRelay, WorkerdRelay};

use crate::error::{Error, Result};
use crate::procs::{status_bytes, PeakSampler};
use crate::relay::{client_from, RelayProcess};
use crate::wrk::wrk_with;

const REPO: &str = "soak/blobs";
const SMALL: usize = 1 << 20;
const LARGE: usize = 8 << 20;
const CLIENTS: u8 = 12;
/// The relay's idle timeout in the soak: a stalled upstream body is cut after this.
const IDLE_SECS: &str = "2";
/// Memory the binary may grow by over its rested size (the relay's budget in issue 14).
const MEMORY_BUDGET: u64 = 32 << 20;
/// workerd's process without a memory limit: V8 lets garbage of finished requests pile up to a
/// plateau (measured: +~220 MiB after 200 000 requests, then flat) before it collects. The Worker's
/// own memory (its Wasm linear memory, from `/healthz`) must not grow at all.
const WORKERD_BUDGET: u64 = 256 << 20;

/// One kind of transfer a client task does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Scenario {
    Whole,
    Range,
    SlowHeaders,
    SlowReader,
    Disconnect,
    Cut,
    Stall,
    TooMany,
    Unavailable,
}

/// The relay drivers the soak runs, one after the other.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Driver {
    /// The release `wharf-relay`.
    Binary,
    /// `wharf-relay-worker` on workerd.
    Worker,
}

impl Driver {
    fn name(self) -> &'static str {
        match self {
            Driver::Binary => "wharf-relay",
            Driver::Worker => "the Worker relay on workerd",
        }
    }

    /// The scenarios that apply. A Worker has no idle timeout of its own: it passes the upstream
    /// body through without touching it (no CPU per byte, which Cloudflare's CPU budget needs), so
    /// a stalled upstream stays stalled until the client gives up; `Stall` is the binary's alone.
    /// How much the relay process may grow during the soak.
    fn budget(self) -> u64 {
        match self {
            Driver::Binary => MEMORY_BUDGET,
            Driver::Worker => WORKERD_BUDGET,
        }
    }

    fn scenarios(self) -> Vec<Scenario> {
        SCENARIOS
            .into_iter()
            .filter(|s| self == Driver::Binary || *s != Scenario::Stall)
            .collect()
    }
}

const SCENARIOS: [Scenario; 9] = [
    Scenario::Whole,
    Scenario::Range,
    Scenario::SlowHeaders,
    Scenario::SlowReader,
    Scenario::Disconnect,
    Scenario::Cut,
    Scenario::Stall,
    Scenario::TooMany,
    Scenario::Unavailable,
];

impl Scenario {
    fn fault(self) -> Fault {
        match self {
            Scenario::Cut => Fault::Cut,
            Scenario::Stall => Fault::Stall,
            Scenario::TooMany => Fault::TooMany,
            Scenario::Unavailable => Fault::Unavailable,
            Scenario::SlowHeaders => Fault::SlowHeaders,
            _ => Fault::Pass,
        }
    }
}

/// What one transfer came to.
#[derive(Debug)]
enum Verdict {
    /// As the scenario says it must end; the bytes verified, if any.
    Expected(u64),
    Unexpected(String),
    /// A transfer that completed with bytes other than the registry's.
    Wrong,
}

#[derive(Debug, Default, Clone)]
struct Tally {
    runs: u64,
    expected: u64,
    unexpected: u64,
    wrong: u64,
    verified: u64,
    first_unexpected: Option<String>,
}

struct Blobs {
    small: Vec<u8>,
    small_path: String,
    large: Vec<u8>,
    large_path: String,
}

struct Setup {
    /// The relay under soak, as its own process.
    relay: Box<dyn RunningRelay>,
    driver: Driver,
    front: Front,
    blobs: Arc<Blobs>,
    manifest_url: String,
    manifest_type: String,
    _registry: Registry,
    _dist: tempfile::TempDir,
}

/// Soaks each driver for `secs`; writes `target/soak/report.md`; true when every check passed.
pub async fn run(root: &std::path::Path, secs: u64) -> Result<bool> {
    let out = root.join("target/soak");
    std::fs::create_dir_all(&out).map_err(Error::io(format!("creating {}", out.display())))?;
    let mut text = String::new();
    let mut passed = true;
    for driver in [Driver::Binary, Driver::Worker] {
        let (section, ok) = run_one(root, &out, secs, driver).await?;
        text.push_str(&section);
        text.push('\n');
        passed &= ok;
    }
    let path = out.join("report.md");
    std::fs::write(&path, &text).map_err(Error::io(format!("{}", path.display())))?;
    println!("{text}\nwritten: {}", path.display());
    Ok(passed)
}

async fn run_one(
    root: &std::path::Path,
    out: &std::path::Path,
    secs: u64,
    driver: Driver,
) -> Result<(String, bool)> {
    let setup = setup(root, out, driver).await?;
    let pid = setup.relay.pid();
    let client = |i: u8| client_from([127, 0, 0, 60 + i]);
    // Warm up: every scenario once, then let idle connections close.
    let warm = client(CLIENTS)?;
    for scenario in driver.scenarios() {
        transfer(&warm, &setup, scenario).await;
    }
    drop(warm);
    tokio::time::sleep(Duration::from_secs(3)).await;
    let fds_before = fd_count(pid)?;
    let rss_before = status_bytes(pid, "VmRSS").unwrap_or(0);
    let wasm_before = health(&setup.relay.base())
        .await
        .and_then(|h| h.wasm_memory);
    let sampler = PeakSampler::start(Duration::from_millis(200), move || {
        status_bytes(pid, "VmRSS").unwrap_or(0)
    });
    eprintln!(
        "soak of {}: {secs} s, {CLIENTS} client tasks and wrk; pid {pid}, {fds_before} fds",
        driver.name()
    );
    let tallies = Arc::new(Mutex::new(BTreeMap::<Scenario, Tally>::new()));
    let deadline = Instant::now() + Duration::from_secs(secs);
    let setup = Arc::new(setup);
    let mut tasks = Vec::new();
    for i in 0..CLIENTS {
        let (setup, tallies, http) = (Arc::clone(&setup), Arc::clone(&tallies), client(i)?);
        tasks.push(tokio::spawn(async move {
            let mut rng = u64::from(i) * 0x9E37_79B9_7F4A_7C15 + 1;
            let scenarios = setup.driver.scenarios();
            while Instant::now() < deadline {
                let scenario = scenarios[next(&mut rng) as usize % scenarios.len()];
                let verdict = transfer(&http, &setup, scenario).await;
                record(&tallies, scenario, verdict);
            }
        }));
    }
    let manifests = wrk_with(&setup.manifest_url, Some(&setup.manifest_type), secs, 8);
    let wrk = manifests.await;
    for task in tasks {
        task.await
            .map_err(|e| Error::Failed(format!("client task: {e}")))?;
    }
    let rss_peak = sampler.finish();
    let fds_after = settle(pid, fds_before).await;
    let rss_after = status_bytes(pid, "VmRSS");
    let after = health(&setup.relay.base()).await;
    let healthy = after.is_some();
    let wasm_memory = wasm_before.zip(after.and_then(|h| h.wasm_memory));
    let tallies = tallies.lock().map(|t| t.clone()).unwrap_or_default();
    let report = Report {
        driver: driver.name(),
        scenarios: driver.scenarios(),
        secs,
        tallies,
        faults_seen: setup.front.faults_seen(),
        wrk: wrk.map_err(|e| e.to_string()),
        fds: (fds_before, fds_after),
        rss: (rss_before, rss_peak, rss_after),
        budget: driver.budget(),
        wasm_memory,
        healthy,
    };
    Ok(report.render())
}

async fn setup(root: &std::path::Path, out: &std::path::Path, driver: Driver) -> Result<Setup> {
    let registry = Registry::start(Mode::Anonymous).await?;
    let small = Pattern::new(0x50a1).bytes(0, SMALL);
    let large = Pattern::new(0x50a2).bytes(0, LARGE);
    let small_blob = registry.push_blob(REPO, small.clone()).await?;
    let large_blob = registry.push_blob(REPO, large.clone()).await?;
    let image = registry.push_image(REPO, "1", 1).await?;
    let front = Front::start(registry.base_url()).await?;
    let dist = tempfile::tempdir().map_err(Error::io("a temporary dist folder"))?;
    let extra = [
        "--idle-timeout-secs",
        IDLE_SECS,
        "--upstream-idle-secs",
        "1",
        // wrk's connections all come from 127.0.0.1; the client tasks have an address each.
        "--client-max-concurrent",
        "64",
        "--client-rate",
        "100000",
        "--client-burst",
        "100000",
    ];
    let relay_bin = root.join("target/release/wharf-relay");
    let log = out.join("relay.log");
    let allow = [format!("http://{}", front.host_port())];
    let relay: Box<dyn RunningRelay> = match driver {
        Driver::Binary => {
            Box::new(RelayProcess::start_with(&relay_bin, dist.path(), &allow, &log, &extra).await?)
        }
        Driver::Worker => Box::new(WorkerdRelay::start(&["--allow-host", &allow[0]]).await?),
    };
    let manifest = front.fault_url(Fault::Pass, &format!("{REPO}/manifests/1"));
    Ok(Setup {
        manifest_url: relay.relay_url(&manifest),
        manifest_type: image.manifest.media_type.clone(),
        relay,
        driver,
        blobs: Arc::new(Blobs {
            small,
            small_path: format!("{REPO}/blobs/{}", small_blob.digest),
            large,
            large_path: format!("{REPO}/blobs/{}", large_blob.digest),
        }),
        front,
        _registry: registry,
        _dist: dist,
    })
}

/// xorshift64: a fixed sequence of scenarios per task.
fn next(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state
}

fn record(tallies: &Mutex<BTreeMap<Scenario, Tally>>, scenario: Scenario, verdict: Verdict) {
    let Ok(mut tallies) = tallies.lock() else {
        return;
    };
    let tally = tallies.entry(scenario).or_default();
    tally.runs += 1;
    match verdict {
        Verdict::Expected(bytes) => {
            tally.expected += 1;
            tally.verified += bytes;
        }
        Verdict::Unexpected(why) => {
            tally.unexpected += 1;
            tally.first_unexpected.get_or_insert(why);
        }
        Verdict::Wrong => tally.wrong += 1,
    }
}

mod report;
mod transfer;

use report::Report;
use transfer::transfer;

/// Open file descriptors of `pid`.
fn fd_count(pid: u32) -> Result<usize> {
    let dir = format!("/proc/{pid}/fd");
    std::fs::read_dir(&dir)
        .map(|d| d.count())
        .map_err(Error::io(dir))
}

/// The fd count once connections closed: waits up to 15 s for it to come back to `before`.
async fn settle(pid: u32, before: usize) -> Option<usize> {
    let mut last = None;
    for _ in 0..60 {
        last = fd_count(pid).ok();
        if last.is_some_and(|n| n <= before) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    last
}

/// What `/healthz` said (None when it did not answer 200).
struct Health {
    /// The Worker's Wasm memory in bytes (the binary does not report one).
    wasm_memory: Option<u64>,
}

async fn health(base: &str) -> Option<Health> {
    let client = reqwest::Client::builder().no_proxy().build().ok()?;
    let response = client.get(format!("{base}/healthz")).send().await.ok()?;
    if response.status() != 200 {
        return None;
    }
    let body: serde_json::Value = response.json().await.ok()?;
    Some(Health {
        wasm_memory: body["wasm_memory"].as_u64(),
    })
}
