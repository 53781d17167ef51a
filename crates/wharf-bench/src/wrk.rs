//! Item 3: the relay's overhead under load. `wrk -t2 -c32 --latency` on a manifest GET and on a
//! 1 MiB blob GET, through the relay and straight to the registry, alternating; requests/s, MB/s
//! and p99 as ratios, and errors (socket errors and non-2xx/3xx answers) counted.

use wharf_testkit::{Pattern, RunningRelay, WorkerdRelay};

use crate::error::{Error, Result};
use crate::procs::{quote, timed_sh};
use crate::report::{Goal, Row, Stats};
use crate::{Ctx, Outcome, Services};

const REPO: &str = "bench/small";

/// What one wrk run reported.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WrkResult {
    pub requests_per_sec: f64,
    /// 10^6 bytes per second.
    pub mb_per_sec: f64,
    pub p99_ms: f64,
    pub errors: u64,
}

/// Parses wrk's report (with `--latency`).
pub fn parse(out: &str) -> Option<WrkResult> {
    let mut rps = None;
    let mut mbps = None;
    let mut p99 = None;
    let mut errors = 0u64;
    for line in out.lines().map(str::trim) {
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            ["Requests/sec:", v] => rps = v.parse::<f64>().ok(),
            ["Transfer/sec:", v] => mbps = bytes(v).map(|b| b / 1e6),
            ["99%", v] => p99 = millis(v),
            ["Non-2xx", "or", "3xx", "responses:", n] => errors += n.parse::<u64>().ok()?,
            ["Socket", "errors:", rest @ ..] => {
                // `connect 0, read 0, write 0, timeout 0`
                for n in rest.iter().skip(1).step_by(2) {
                    errors += n.trim_end_matches(',').parse::<u64>().ok()?;
                }
            }
            _ => {}
        }
    }
    Some(WrkResult {
        requests_per_sec: rps?,
        mb_per_sec: mbps?,
        p99_ms: p99?,
        errors,
    })
}

/// `12.34MB` (wrk's binary units) in bytes.
fn bytes(v: &str) -> Option<f64> {
    let split = v.find(|c: char| c.is_ascii_alphabetic())?;
    let (n, unit) = v.split_at(split);
    let scale = match unit {
        "B" => 1.0,
        "KB" => 1024.0,
        "MB" => 1024.0 * 1024.0,
        "GB" => 1024.0 * 1024.0 * 1024.0,
        _ => return None,
    };
    Some(n.parse::<f64>().ok()? * scale)
}

/// `452.00us`, `1.23ms`, `1.02s`, `2.00m` in milliseconds.
fn millis(v: &str) -> Option<f64> {
    let split = v.find(|c: char| c.is_ascii_alphabetic())?;
    let (n, unit) = v.split_at(split);
    let scale = match unit {
        "us" => 0.001,
        "ms" => 1.0,
        "s" => 1000.0,
        "m" => 60_000.0,
        _ => return None,
    };
    Some(n.parse::<f64>().ok()? * scale)
}

async fn wrk(url: &str, accept: Option<&str>, secs: u64) -> Result<WrkResult> {
    wrk_with(url, accept, secs, 32).await
}

/// `wrk -t2 -c<connections> -d<secs>s --latency` against `url`.
pub async fn wrk_with(
    url: &str,
    accept: Option<&str>,
    secs: u64,
    connections: u32,
) -> Result<WrkResult> {
    let header = accept
        .map(|a| format!("-H {} ", quote(&format!("Accept: {a}"))))
        .unwrap_or_default();
    let script = format!(
        "wrk -t2 -c{connections} -d{secs}s --latency {header}{}",
        quote(url)
    );
    let (_, out) = timed_sh(&script).await?;
    parse(&out).ok_or_else(|| Error::Failed(format!("cannot read wrk's report:\n{out}")))
}

struct Target {
    label: &'static str,
    path: String,
    accept: Option<String>,
}

pub async fn run(ctx: &Ctx, services: &Services) -> Result<Outcome> {
    let registry = &services.registry;
    let image = registry.push_image(REPO, "1", 1).await?;
    let blob = registry
        .push_blob(REPO, Pattern::new(0x3b).bytes(0, 1 << 20))
        .await?;
    let targets = [
        Target {
            label: "manifest GET",
            path: format!("{REPO}/manifests/1"),
            accept: Some(image.manifest.media_type.clone()),
        },
        Target {
            label: "1 MiB blob GET",
            path: format!("{REPO}/blobs/{}", blob.digest),
            accept: None,
        },
    ];
    // The same relay as a Worker on workerd (built by `cargo xtask bench`), for the row beside it.
    let allow = format!("http://{}", registry.host_port());
    let worker = WorkerdRelay::start(&["--allow-host", &allow]).await?;
    let secs = ctx.wrk_secs();
    let mut rows = Vec::new();
    let mut details = Vec::new();
    for target in &targets {
        let direct_url = registry.v2_url(&target.path).to_string();
        let urls = [
            direct_url.clone(),
            services.relay.relay_url(&direct_url),
            worker.relay_url(&direct_url),
        ];
        let accept = target.accept.as_deref();
        // direct, axum relay, Worker relay
        let mut results: [Vec<WrkResult>; 3] = Default::default();
        for run in 0..ctx.runs {
            // Rotate which goes first, so none always runs on a warmer machine.
            for k in 0..urls.len() {
                let which = (run + k) % urls.len();
                results[which].push(wrk(&urls[which], accept, secs).await?);
            }
            eprintln!(
                "   {} run {}: direct {:?}, relay {:?}, worker {:?}",
                target.label,
                run + 1,
                results[0][run],
                results[1][run],
                results[2][run]
            );
        }
        let [direct, relayed, workered] = &results;
        rows.extend(target_rows(RELAY, target.label, secs, relayed, direct));
        rows.extend(target_rows(WORKER, target.label, secs, workered, direct));
        let errors = |list: &[WrkResult]| list.iter().map(|r| r.errors).collect::<Vec<_>>();
        details.push(format!(
            "{}: errors per run through the relay {:?}, the Worker {:?}, direct {:?}",
            target.label,
            errors(relayed),
            errors(workered),
            errors(direct)
        ));
    }
    Ok(Outcome { rows, details })
}

/// Which relay a row measures, and whether it has a throughput goal.
struct Through {
    what: &'static str,
    ratio_goal: Option<f64>,
}

const RELAY: Through = Through {
    what: "relay overhead",
    ratio_goal: Some(0.7),
};
/// workerd runs the Worker on one thread here; Cloudflare spreads isolates over its network.
const WORKER: Through = Through {
    what: "Worker relay (workerd) overhead",
    ratio_goal: None,
};

fn target_rows(
    through: Through,
    label: &str,
    secs: u64,
    relayed: &[WrkResult],
    direct: &[WrkResult],
) -> Vec<Row> {
    let stat = |list: &[WrkResult], f: fn(&WrkResult) -> f64| {
        Stats::of(&list.iter().map(f).collect::<Vec<_>>())
    };
    let what = format!("{}, {label} (wrk -c 32 -d {secs}s)", through.what);
    let ratio = |row: Row| match through.ratio_goal {
        Some(goal) => row.goal(Goal::RatioAtLeast(goal)),
        None => row,
    };
    let anchor = "straight to the registry";
    let errors = |list: &[WrkResult]| {
        Some(Stats::exact(
            list.iter().map(|r| r.errors).sum::<u64>() as f64
        ))
    };
    vec![
        ratio(
            Row::new(3, &format!("{what}: requests/s"), "req/s")
                .ours(stat(relayed, |r| r.requests_per_sec))
                .anchor(anchor, stat(direct, |r| r.requests_per_sec)),
        ),
        ratio(
            Row::new(3, &format!("{what}: transfer"), "MB/s")
                .ours(stat(relayed, |r| r.mb_per_sec))
                .anchor(anchor, stat(direct, |r| r.mb_per_sec)),
        ),
        Row::new(3, &format!("{what}: p99 latency"), "ms")
            .ours(stat(relayed, |r| r.p99_ms))
            .anchor(anchor, stat(direct, |r| r.p99_ms)),
        Row::new(
            3,
            &format!("{what}: errors (socket + non-2xx), all runs"),
            "count",
        )
        .ours(errors(relayed))
        .anchor(anchor, errors(direct))
        .goal(Goal::AtMost(0.0)),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    const REPORT: &str = "Running 20s test @ http://127.0.0.1:5000/v2/bench/small/manifests/1
  2 threads and 32 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     2.10ms    1.02ms  30.11ms   90.12%
    Req/Sec     7.80k   512.33     8.90k    70.00%
  Latency Distribution
     50%    1.90ms
     75%    2.40ms
     90%    3.10ms
     99%  452.00us
  310245 requests in 20.00s, 402.11MB read
  Socket errors: connect 0, read 2, write 1, timeout 3
  Non-2xx or 3xx responses: 4
Requests/sec:  15510.52
Transfer/sec:     20.10MB
";

    #[test]
    fn parses_a_wrk_report() {
        let r = parse(REPORT).expect("parsed");
        assert_eq!(r.requests_per_sec, 15510.52);
        assert!((r.mb_per_sec - 20.10 * 1048576.0 / 1e6).abs() < 1e-9);
        assert!((r.p99_ms - 0.452).abs() < 1e-12);
        assert_eq!(r.errors, 10);
    }

    #[test]
    fn a_clean_run_has_no_errors_and_missing_lines_fail() {
        let clean: String = REPORT
            .lines()
            .filter(|l| !l.contains("errors") && !l.contains("Non-2xx"))
            .map(|l| format!("{l}\n"))
            .collect();
        assert_eq!(parse(&clean).expect("parsed").errors, 0);
        let no_latency: String = REPORT
            .lines()
            .filter(|l| !l.contains("99%"))
            .map(|l| format!("{l}\n"))
            .collect();
        assert_eq!(parse(&no_latency), None);
        assert_eq!(parse(""), None);
    }

    #[test]
    fn units() {
        let cases = [
            ("1.50s", Some(1500.0)),
            ("2.00m", Some(120_000.0)),
            ("3ms", Some(3.0)),
            ("4xs", None),
            ("ms", None),
        ];
        for (v, want) in cases {
            assert_eq!(millis(v), want, "{v}");
        }
        assert_eq!(bytes("1.00GB"), Some(1073741824.0));
        assert_eq!(bytes("512.00B"), Some(512.0));
        assert_eq!(bytes("5TB"), None);
    }
}
