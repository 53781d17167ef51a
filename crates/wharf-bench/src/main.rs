//! `wharf-bench`: wharf against its anchors, side by side in one run (issue 7). Run it with
//! `cargo xtask bench`, which installs the tools and builds what it needs first.
//!
//! Every number is a median of several runs with min and max; comparisons are ratios, because
//! absolute times drift on a shared machine. Writes `target/bench/report.md` and
//! `target/bench/report.json` and prints the table.
//!
//! `wharf-bench [--runs N] [--only hash,download,relay,weight,export,fairness] [--quick]
//! [--chromium-only]` (`--quick`: small sizes and short wrk runs, to check that everything works;
//! `--chromium-only`: no Firefox rows in item 2, for quick A/B runs of one change).
//! `--only save-proto` runs the save-path prototypes (`saveproto.rs`), never part of the default.
//! `wharf-bench soak --secs N`: the relay under faults for N seconds (`soak/`).

mod benchpage;
mod browser;
mod download;
mod error;
mod export;
mod fairness;
mod hash;
mod procs;
mod relay;
mod report;
mod saveproto;
mod seed;
mod soak;
mod weight;
mod wrk;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use wharf_testkit::{Mode, Registry};

use crate::error::{Error, Result};
use crate::relay::RelayProcess;
use crate::report::Row;

const MIB: u64 = 1 << 20;

/// Settings and paths every item uses.
pub struct Ctx {
    pub root: PathBuf,
    /// `target/bench`: report, logs, built helpers.
    pub out: PathBuf,
    pub runs: usize,
    pub quick: bool,
    /// Item 2 without its Firefox rows.
    pub chromium_only: bool,
    pub relay_bin: PathBuf,
    pub dist: PathBuf,
}

impl Ctx {
    /// Bytes hashed in item 1.
    pub fn hash_bytes(&self) -> u64 {
        if self.quick {
            32 * MIB
        } else {
            256 * MIB
        }
    }

    /// The large blob of item 2 and the whole image of item 5.
    pub fn big_bytes(&self) -> u64 {
        if self.quick {
            64 * MIB
        } else {
            1024 * MIB
        }
    }

    pub fn wrk_secs(&self) -> u64 {
        if self.quick {
            3
        } else {
            20
        }
    }
}

/// What an item measured: table rows and Markdown detail lines.
#[derive(Default)]
pub struct Outcome {
    pub rows: Vec<Row>,
    pub details: Vec<String>,
}

/// The registry and relay that items 2, 3 and 5 share.
pub struct Services {
    // Field order is drop order: the relay goes before the registry it relays to.
    pub relay: RelayProcess,
    pub registry: Registry,
}

impl Services {
    async fn start(ctx: &Ctx) -> Result<Services> {
        let registry = Registry::start(Mode::Anonymous).await?;
        let allow = [format!("http://{}", registry.host_port())];
        let log = ctx.out.join("relay.log");
        // Item 3 measures the relay's overhead with wrk's 32 connections from one address, which
        // the default per-client limits would refuse; item 6 measures those limits on a relay of its own.
        let unlimited = ["--client-max-concurrent", "0", "--client-rate", "0"];
        let relay =
            RelayProcess::start_with(&ctx.relay_bin, &ctx.dist, &allow, &log, &unlimited).await?;
        Ok(Services { relay, registry })
    }
}

const ITEMS: [(u8, &str, &str); 6] = [
    (1, "hash", "in-browser SHA-256 throughput"),
    (2, "download", "download + verify + save of a large blob"),
    (3, "relay", "relay overhead (wrk)"),
    (4, "weight", "page weight and start"),
    (5, "export", "whole-image save"),
    (
        6,
        "fairness",
        "one client cannot starve another (per-client limits)",
    ),
];

/// Prototypes, only run when asked for by name (as part of item 2).
const PROTO: &str = "save-proto";

struct Args {
    runs: usize,
    only: Vec<String>,
    quick: bool,
    chromium_only: bool,
}

fn parse_args(args: &[String]) -> std::result::Result<Args, String> {
    let mut parsed = Args {
        runs: 5,
        only: ITEMS.iter().map(|(_, key, _)| (*key).to_owned()).collect(),
        quick: false,
        chromium_only: false,
    };
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--quick" => parsed.quick = true,
            "--chromium-only" => parsed.chromium_only = true,
            "--runs" => {
                let value = it.next().ok_or("--runs needs a number")?;
                parsed.runs = value
                    .parse()
                    .ok()
                    .filter(|n| *n >= 1)
                    .ok_or(format!("--runs {value}: not a positive number"))?;
            }
            "--only" => {
                let value = it.next().ok_or("--only needs a list")?;
                parsed.only = value.split(',').map(str::to_owned).collect();
                if let Some(bad) = parsed
                    .only
                    .iter()
                    .find(|o| *o != PROTO && !ITEMS.iter().any(|(_, key, _)| key == o))
                {
                    return Err(format!("--only: unknown item {bad:?}"));
                }
            }
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok(parsed)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> ExitCode {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    if argv.first().map(String::as_str) == Some("soak") {
        return soak_main(&argv[1..]).await;
    }
    let args = match parse_args(&argv) {
        Ok(args) => args,
        Err(e) => {
            eprintln!("wharf-bench: {e}");
            return ExitCode::from(2);
        }
    };
    // Dropping the bench future on Ctrl-C runs every guard: processes die, temp dirs go.
    tokio::select! {
        result = run(args) => match result {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("wharf-bench: {e}");
                ExitCode::FAILURE
            }
        },
        _ = tokio::signal::ctrl_c() => {
            eprintln!("wharf-bench: interrupted; cleaned up");
            ExitCode::from(130)
        }
    }
}

/// `soak --secs N`: exit 0 only when every check passed.
async fn soak_main(argv: &[String]) -> ExitCode {
    let secs = match argv {
        [] => Ok(60),
        [flag, n] if flag == "--secs" => n.parse::<u64>().map_err(|_| format!("--secs {n}")),
        other => Err(format!("soak: unknown arguments {other:?}")),
    };
    let secs = match secs {
        Ok(secs) if secs > 0 => secs,
        Ok(_) | Err(_) => {
            eprintln!("wharf-bench soak [--secs N]   (N > 0)");
            return ExitCode::from(2);
        }
    };
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let root = root.canonicalize().unwrap_or(root);
    match soak::run(&root, secs).await {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => {
            eprintln!("wharf-bench soak: a check failed (see the table)");
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("wharf-bench soak: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(args: Args) -> Result<()> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let root = root
        .canonicalize()
        .map_err(Error::io("finding the workspace"))?;
    let out = root.join("target/bench");
    std::fs::create_dir_all(&out).map_err(Error::io(format!("creating {}", out.display())))?;
    let ctx = Ctx {
        relay_bin: root.join("target/release/wharf-relay"),
        dist: root.join("dist"),
        out,
        root,
        runs: args.runs,
        quick: args.quick,
        chromium_only: args.chromium_only,
    };
    let began = Instant::now();
    let wants = |key: &str| args.only.iter().any(|o| o == key);
    let mut services = None;
    if ["download", "relay", "export", "fairness", PROTO]
        .iter()
        .any(|k| wants(k))
    {
        services = Some(Services::start(&ctx).await?);
    }
    let mut outcomes: Vec<(u8, Outcome, Duration)> = Vec::new();
    // Cheap items first; the slow 1 GiB items last.
    for key in ["weight", "hash", "relay", "fairness", "download", "export"] {
        let Some(&(item, _, title)) = ITEMS.iter().find(|(_, k, _)| *k == key) else {
            continue;
        };
        if !wants(key) {
            continue;
        }
        eprintln!("== {item}. {title}");
        let started = Instant::now();
        let result = match (key, services.as_ref()) {
            ("hash", _) => hash::run(&ctx).await,
            ("weight", _) => weight::run(&ctx).await,
            ("download", Some(s)) => download::run(&ctx, s).await,
            ("relay", Some(s)) => wrk::run(&ctx, s).await,
            ("export", Some(s)) => export::run(&ctx, s).await,
            ("fairness", Some(s)) => fairness::run(&ctx, s).await,
            _ => Err(Error::Failed("no registry and relay".into())),
        };
        let outcome = result.unwrap_or_else(|e| {
            eprintln!("   {title} failed: {e}");
            Outcome {
                rows: vec![Row::new(item, &format!("{title}: failed"), "")
                    .goal(report::Goal::AtMost(0.0))
                    .note(format!("not measured: {e}"))],
                details: Vec::new(),
            }
        });
        eprintln!("   took {:.0} s", started.elapsed().as_secs_f64());
        outcomes.push((item, outcome, started.elapsed()));
    }
    if let (true, Some(s)) = (wants(PROTO), services.as_ref()) {
        eprintln!("== 2. save-path prototypes");
        let started = Instant::now();
        let outcome = saveproto::run(&ctx, s).await.unwrap_or_else(|e| {
            eprintln!("   save-path prototypes failed: {e}");
            Outcome {
                rows: Vec::new(),
                details: vec![format!("save-path prototypes failed: {e}")],
            }
        });
        outcomes.push((2, outcome, started.elapsed()));
    }
    drop(services);
    outcomes.sort_by_key(|(item, _, _)| *item);
    write_report(&ctx, &outcomes, began.elapsed())
}

fn write_report(ctx: &Ctx, outcomes: &[(u8, Outcome, Duration)], took: Duration) -> Result<()> {
    let rows: Vec<Row> = outcomes
        .iter()
        .flat_map(|(_, o, _)| o.rows.iter().cloned())
        .collect();
    let table = report::markdown(&rows);
    let mut md = format!(
        "Measured by `cargo xtask bench` ({} runs per measurement{}; the whole bench took {:.1} min). \
         Cells: median (min–max). MB = 10^6 bytes, MiB = 2^20 bytes, KB = 1000 bytes. \
         Ratio = wharf / anchor.\n\n{table}",
        ctx.runs,
        if ctx.quick { ", --quick sizes" } else { "" },
        took.as_secs_f64() / 60.0
    );
    md.push_str("\n### Details\n\n");
    for (item, outcome, spent) in outcomes {
        md.push_str(&format!(
            "- item {item} took {:.0} s\n",
            spent.as_secs_f64()
        ));
        for line in &outcome.details {
            md.push_str(&format!("- item {item}: {line}\n"));
        }
    }
    let json = serde_json::to_string_pretty(&report::json(&rows))
        .map_err(|e| Error::Failed(format!("report JSON: {e}")))?;
    let md_path = ctx.out.join("report.md");
    let json_path = ctx.out.join("report.json");
    std::fs::write(&md_path, &md).map_err(Error::io(format!("{}", md_path.display())))?;
    std::fs::write(&json_path, json + "\n")
        .map_err(Error::io(format!("{}", json_path.display())))?;
    println!("{md}");
    println!("written: {} and {}", md_path.display(), json_path.display());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::parse_args;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn arguments() {
        let all = parse_args(&[]).expect("defaults");
        assert_eq!((all.runs, all.only.len(), all.quick), (5, 6, false));
        let some =
            parse_args(&args(&["--runs", "7", "--only", "hash,relay", "--quick"])).expect("valid");
        assert_eq!(
            (some.runs, some.only, some.quick),
            (7, args(&["hash", "relay"]), true)
        );
        assert!(parse_args(&args(&["--only", "save-proto"])).is_ok());
        assert!(!all.chromium_only);
        let chromium = parse_args(&args(&["--chromium-only"])).expect("valid");
        assert!(chromium.chromium_only);
        for bad in [
            &["--runs", "0"][..],
            &["--runs"],
            &["--runs", "x"],
            &["--only", "hash,nope"],
            &["--fast"],
        ] {
            assert!(parse_args(&args(bad)).is_err(), "{bad:?}");
        }
    }
}
