//! `cargo xtask`: the project's automation (set-up, run, test).
//!
//! Every install the project needs lives here, so that the README's two commands work on a fresh
//! machine and CI runs exactly what the README says.

mod bench;
mod fuzz;
mod sh;
mod tools;
mod worker;

use std::process::ExitCode;

const USAGE: &str = "usage: cargo xtask <command>

commands:
  run     install what is missing, build the page, start wharf-relay serving it on http://127.0.0.1:8080
  test    [--browser chromium|firefox|webkit]: install what tests need, then run fmt, clippy and
          every test in the workspace, the journeys in Chromium, then in Firefox ESR, then in
          WebKitGTK (or in the one named)
  dist    [--relay TEMPLATE]: build the page into dist/ (release), for any static host and path;
          --relay writes dist/config.json naming the default relay (https://relay.example/relay/{url})
  bench   install what is missing, build, run the benchmarks (target/bench/report.md)
  fuzz    [--secs N] [target...]: run the fuzz targets N seconds each (default 60; target/fuzz/report.md)
  worker  [-- --listen ADDR --allow-host URL ...]: build the relay as a Worker, run it on workerd
  tools   install what the tests use (the first step of test), nothing more
  soak    [--secs N]: the relay under faults and load for N seconds (default 60; target/soak/report.md)
";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("run") => run(&args[1..]),
        Some("test") => test(&args[1..]),
        Some("dist") => dist_cmd(&args[1..]),
        Some("bench") => bench::bench(&args[1..]),
        Some("fuzz") => fuzz::fuzz(&args[1..]),
        Some("soak") => bench::soak(&args[1..]),
        Some("worker") => worker::worker(&args[1..]),
        Some("tools") => tools::ensure_test_tools(),
        _ => {
            eprint!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e}");
            ExitCode::FAILURE
        }
    }
}

type Result<T = ()> = std::result::Result<T, String>;

/// Builds the page (release) into `dist/`.
fn dist() -> Result {
    tools::ensure_page_tools()?;
    tools::build_page()
}

/// `cargo xtask dist [--relay TEMPLATE]`.
fn dist_cmd(args: &[String]) -> Result {
    let relay = match args {
        [] => None,
        [flag, template] if flag == "--relay" => Some(template),
        other => {
            return Err(format!(
                "dist: unknown arguments {other:?} (dist [--relay TEMPLATE])"
            ))
        }
    };
    // Checked before the build, with the page's own parser: a template the page would refuse
    // is refused here.
    let template = relay
        .map(|text| wharf_oci::relay::RelayTemplate::parse(text))
        .transpose()
        .map_err(|e| format!("--relay: {e}"))?;
    dist()?;
    if let Some(template) = template {
        let path = sh::root().join("dist/config.json");
        let json = format!("{}\n", serde_json::json!({ "relay": template }));
        std::fs::write(&path, json).map_err(|e| format!("{}: {e}", path.display()))?;
        println!("wrote {}", path.display());
    }
    Ok(())
}

/// `cargo xtask run [relay flags...]`: build the page and serve it with the relay.
fn run(extra: &[String]) -> Result {
    dist()?;
    sh::cargo(&["build", "--release", "-p", "wharf-relay"])?;
    let mut args = vec!["--listen", "127.0.0.1:8080", "--dist", "dist"];
    args.extend(extra.iter().map(String::as_str));
    println!("wharf: http://127.0.0.1:8080/");
    sh::run("target/release/wharf-relay", &args, &[])
}

/// `cargo xtask test`: everything CI checks.
fn test(extra: &[String]) -> Result {
    tools::ensure_test_tools()?;
    tools::build_page()?;
    sh::cargo(&["fmt", "--all", "--", "--check"])?;
    sh::cargo(&["fmt", "--manifest-path", FUZZ_MANIFEST, "--", "--check"])?;
    let lints = ["--all-targets", "--", "-D", "warnings"];
    sh::cargo(&[&["clippy", "--workspace"][..], &lints].concat())?;
    sh::cargo(&[&["clippy", "--manifest-path", FUZZ_MANIFEST][..], &lints].concat())?;
    // The Worker's handler builds for wasm32 only.
    let worker_lints = [
        "clippy",
        "-p",
        "wharf-relay-worker",
        "--target",
        "wasm32-unknown-unknown",
    ];
    sh::cargo(&[&worker_lints[..], &lints[1..]].concat())?;
    // The relay tests run against the Worker on workerd as well as the binary.
    worker::build_worker()?;
    let (browsers, extra) = browsers(extra)?;
    let mut args = vec!["test", "--workspace"];
    args.extend(extra.iter().map(String::as_str));
    // Every test, the journeys in the first browser; then the journeys again in the others.
    let cargo = sh::cargo_program();
    sh::run(&cargo, &args, &[("WHARF_BROWSER", browsers[0])])?;
    for browser in &browsers[1..] {
        let mut journeys = vec!["test", "-p", "wharf", "--tests"];
        journeys.extend(extra.iter().map(String::as_str));
        sh::run(&cargo, &journeys, &[("WHARF_BROWSER", browser)])?;
    }
    // Browser-only code (worker, OPFS staging, stream hashing) in headless Chromium.
    let wasm = [
        "test",
        "-p",
        "wharf",
        "--lib",
        "--target",
        "wasm32-unknown-unknown",
    ];
    sh::run(&cargo, &wasm, &[("CHROMEDRIVER", "/usr/bin/chromedriver")])?;
    // The release relay under faults and load, briefly (`cargo xtask soak --secs 600` for the long run).
    bench::soak(&["--secs".into(), "20".into()])?;
    // Every parser at a boundary, 20 s each (`cargo xtask fuzz --secs 600` for the long run).
    fuzz::fuzz(&["--secs".into(), "20".into()])
}

/// `--browser chromium|firefox` (one browser for the journeys) out of the test arguments; by
/// default both, Chromium first.
fn browsers(extra: &[String]) -> Result<(Vec<&'static str>, Vec<String>)> {
    let mut rest = Vec::new();
    let mut chosen = None;
    let mut args = extra.iter();
    while let Some(arg) = args.next() {
        if arg != "--browser" {
            rest.push(arg.clone());
            continue;
        }
        chosen = match args.next().map(String::as_str) {
            Some("chromium") => Some("chromium"),
            Some("firefox") => Some("firefox"),
            Some("webkit") => Some("webkit"),
            other => {
                return Err(format!(
                    "--browser takes chromium, firefox or webkit, not {other:?}"
                ))
            }
        };
    }
    let browsers = match chosen {
        Some(one) => vec![one],
        None => vec!["chromium", "firefox", "webkit"],
    };
    Ok((browsers, rest))
}

/// The fuzz targets' own workspace (kept out of the main one: libFuzzer instrumentation).
const FUZZ_MANIFEST: &str = "fuzz/Cargo.toml";

#[cfg(test)]
mod tests {
    use super::browsers;

    #[test]
    fn browser_choice_comes_out_of_the_test_arguments() {
        let args = |list: &[&str]| list.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        let (both, rest) = browsers(&args(&["journey_01"])).expect("default");
        assert_eq!(
            (both, rest),
            (vec!["chromium", "firefox", "webkit"], args(&["journey_01"]))
        );
        let (one, rest) = browsers(&args(&["--browser", "firefox", "--", "x"])).expect("one");
        assert_eq!((one, rest), (vec!["firefox"], args(&["--", "x"])));
        let (webkit, _) = browsers(&args(&["--browser", "webkit"])).expect("webkit");
        assert_eq!(webkit, vec!["webkit"]);
        assert!(browsers(&args(&["--browser", "safari"])).is_err());
        assert!(browsers(&args(&["--browser"])).is_err());
    }
}
