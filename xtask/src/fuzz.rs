//! `cargo xtask fuzz [--secs N] [target...]`: every fuzz target under `fuzz/` for N seconds each
//! (libFuzzer through cargo-fuzz), seeded from `fuzz/seeds/<target>` and the manifest fixtures.
//! Prints executions and coverage per target, writes `target/fuzz/report.md`, and fails on the
//! first crash (the input is kept under `fuzz/artifacts/<target>/`).
//!
//! Built on the stable toolchain without a sanitizer: the targets are safe Rust, so what a run
//! can find is a panic (including arithmetic overflow: debug assertions are on) or a broken
//! property a target asserts, not memory corruption.

use crate::sh;
use crate::tools;
use crate::Result;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

const CARGO_FUZZ_VERSION: &str = "0.13.2";

/// Every target, in the order they run.
pub const TARGETS: &[&str] = &[
    "reference",
    "digest",
    "www_authenticate",
    "token",
    "manifest",
    "schema1",
    "link",
    "tag_list",
    "content_range",
    "retry_after",
    "platform",
    "relay_target",
    "relay_headers",
];

/// Flags shared by build and run, so that a run never rebuilds with other settings.
const BUILD_FLAGS: &[&str] = &["--sanitizer", "none", "--debug-assertions"];

/// Seeds made from the manifest fixtures: (target, selector byte, fixture file). The selector is the
/// target's first input byte (which Content-Type the body arrives with).
const FIXTURE_SEEDS: &[(&str, u8, &str)] = &[
    ("manifest", 0, "alpine-manifest-list.json"),
    ("manifest", 2, "alpine-manifest-list.json"),
    ("manifest", 3, "alpine-amd64-manifest.json"),
    ("manifest", 200, "alpine-amd64-manifest.json"),
    ("manifest", 0, "homebrew-vim-9.0.1900-index.json"),
    ("manifest", 6, "alpine-amd64-config.json"),
    ("manifest", 4, "hitch-schema1.json"),
    ("schema1", 0, "hitch-schema1.json"),
    ("schema1", 2, "hitch-schema1.json"),
];

/// What one run reported.
struct Outcome {
    target: &'static str,
    execs: u64,
    cov: u64,
    features: u64,
    corpus: u64,
}

pub fn fuzz(args: &[String]) -> Result {
    let (secs, targets) = parse_args(args)?;
    tools::ensure_cargo_install("cargo-fuzz", "cargo-fuzz", CARGO_FUZZ_VERSION)?;
    let mut build = vec!["fuzz", "build"];
    build.extend(BUILD_FLAGS);
    sh::cargo(&build)?;
    let mut outcomes = Vec::new();
    for target in targets {
        let outcome = run_target(target, secs)?;
        eprintln!("{}", row(&outcome));
        outcomes.push(outcome);
    }
    report(&outcomes, secs)
}

fn parse_args(args: &[String]) -> Result<(u64, Vec<&'static str>)> {
    let mut secs = 60;
    let mut targets = Vec::new();
    let mut iter = args.iter();
    while let Some(arg) = iter.next() {
        if arg == "--secs" {
            let value = iter.next().ok_or("--secs needs a number")?;
            secs = value
                .parse()
                .map_err(|_| format!("--secs {value:?}: not a number"))?;
        } else if let Some(t) = TARGETS.iter().find(|t| **t == arg) {
            targets.push(*t);
        } else {
            return Err(format!(
                "unknown fuzz target or flag {arg:?}; targets: {TARGETS:?}"
            ));
        }
    }
    if targets.is_empty() {
        targets = TARGETS.to_vec();
    }
    Ok((secs, targets))
}

/// The corpus a run writes to: kept between runs under target/, seeded from the fixtures.
fn corpus_dir(target: &str) -> Result<PathBuf> {
    let dir = sh::root().join("target/fuzz/corpus").join(target);
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let fixtures = sh::root().join("crates/wharf-oci/tests/fixtures");
    for (i, (_, selector, file)) in FIXTURE_SEEDS
        .iter()
        .enumerate()
        .filter(|(_, (t, _, _))| *t == target)
    {
        let body = std::fs::read(fixtures.join(file)).map_err(|e| format!("{file}: {e}"))?;
        let mut seed = vec![*selector];
        seed.extend(body);
        let path = dir.join(format!("fixture-{i:02}"));
        std::fs::write(&path, seed).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    Ok(dir)
}

fn run_target(target: &'static str, secs: u64) -> Result<Outcome> {
    let corpus = corpus_dir(target)?;
    let seeds = sh::root().join("fuzz/seeds").join(target);
    let max_time = format!("-max_total_time={secs}");
    let mut cmd = sh::command(&sh::cargo_program(), &["fuzz", "run"], &[]);
    cmd.args(BUILD_FLAGS)
        .arg(target)
        .arg(&corpus)
        .args(seeds.is_dir().then_some(&seeds))
        .args(["--", &max_time, "-print_final_stats=1"]);
    eprintln!("$ cargo fuzz run {target} ({secs} s)");
    let out = cmd
        .output()
        .map_err(|e| format!("cannot start cargo fuzz: {e}"))?;
    let log = String::from_utf8_lossy(&out.stderr);
    if !out.status.success() {
        let lines: Vec<&str> = log.lines().collect();
        let tail = &lines[lines.len().saturating_sub(40)..];
        return Err(format!(
            "fuzz target {target} failed ({}); the input is under {}:\n{}",
            out.status,
            artifacts(target).display(),
            tail.join("\n")
        ));
    }
    parse_outcome(target, &log)
        .ok_or_else(|| format!("{target}: no libFuzzer statistics in its output"))
}

fn artifacts(target: &str) -> PathBuf {
    sh::root().join("fuzz/artifacts").join(target)
}

/// Reads `stat::number_of_executed_units` and the final `#N DONE cov: C ft: F corp: K/…` line.
fn parse_outcome(target: &'static str, log: &str) -> Option<Outcome> {
    let execs = log
        .lines()
        .find_map(|l| l.strip_prefix("stat::number_of_executed_units:"))?
        .trim()
        .parse()
        .ok()?;
    let done = log
        .lines()
        .rev()
        .find(|l| l.split_whitespace().nth(1) == Some("DONE"))?;
    let field = |name: &str| -> Option<u64> {
        let mut words = done.split_whitespace();
        words.find(|w| *w == name)?;
        let value = words.next()?;
        value.split('/').next()?.parse().ok()
    };
    Some(Outcome {
        target,
        execs,
        cov: field("cov:")?,
        features: field("ft:")?,
        corpus: field("corp:")?,
    })
}

fn row(o: &Outcome) -> String {
    format!(
        "| {} | {} | {} | {} | {} |",
        o.target, o.execs, o.cov, o.features, o.corpus
    )
}

fn report(outcomes: &[Outcome], secs: u64) -> Result {
    let mut text = format!(
        "# cargo xtask fuzz --secs {secs}\n\n0 crashes.\n\n\
         | target | execs | cov (edges) | features | corpus |\n|---|---:|---:|---:|---:|\n"
    );
    for o in outcomes {
        let _ = writeln!(text, "{}", row(o));
    }
    let path = sh::root().join("target/fuzz/report.md");
    write(&path, &text)?;
    println!("{text}");
    println!("(written to {})", path.display());
    Ok(())
}

fn write(path: &Path, text: &str) -> Result {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    std::fs::write(path, text).map_err(|e| format!("{}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_libfuzzer_statistics() {
        let log = "#2\tINITED cov: 10 ft: 11 corp: 1/1b\n\
                   #3959462\tDONE   cov: 113 ft: 284 corp: 124/6945b lim: 4096 exec/s: 989865 rss: 71Mb\n\
                   Done 3959462 runs in 4 second(s)\n\
                   stat::number_of_executed_units: 3959462\n";
        let o = parse_outcome("content_range", log).expect("parsed");
        assert_eq!(
            (o.execs, o.cov, o.features, o.corpus),
            (3959462, 113, 284, 124)
        );
        assert!(parse_outcome("x", "no stats").is_none());
    }

    #[test]
    fn every_target_has_a_source_file_and_seeds() {
        for target in TARGETS {
            let source = sh::root().join(format!("fuzz/fuzz_targets/{target}.rs"));
            assert!(source.is_file(), "{}", source.display());
            let seeded = sh::root().join("fuzz/seeds").join(target).is_dir()
                || FIXTURE_SEEDS.iter().any(|(t, _, _)| t == target);
            assert!(seeded, "{target} has no seeds");
        }
        let dir = sh::root().join("fuzz/fuzz_targets");
        let mut files: Vec<String> = std::fs::read_dir(&dir)
            .expect("fuzz/fuzz_targets")
            .filter_map(|e| e.ok()?.file_name().into_string().ok())
            .filter_map(|name| name.strip_suffix(".rs").map(str::to_owned))
            .collect();
        files.sort();
        let mut listed: Vec<String> = TARGETS.iter().map(|t| t.to_string()).collect();
        listed.sort();
        assert_eq!(
            files, listed,
            "every file in fuzz/fuzz_targets runs in cargo xtask fuzz"
        );
        let manifest = std::fs::read_to_string(sh::root().join("fuzz/Cargo.toml")).expect("toml");
        for target in TARGETS {
            let bin = format!("name = \"{target}\"\npath = \"fuzz_targets/{target}.rs\"");
            assert!(
                manifest.contains(&bin),
                "fuzz/Cargo.toml has no [[bin]] {target}"
            );
        }
    }

    #[test]
    fn arguments() {
        let args = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let (secs, targets) = parse_args(&args(&["--secs", "20", "digest"])).expect("valid");
        assert_eq!((secs, targets), (20, vec!["digest"]));
        assert_eq!(parse_args(&[]).expect("valid").1.len(), TARGETS.len());
        assert!(parse_args(&args(&["--secs", "x"])).is_err());
        assert!(parse_args(&args(&["nosuch"])).is_err());
    }
}
