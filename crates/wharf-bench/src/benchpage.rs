//! The bench page (`page/`): a tiny static page that runs one bench worker (hashing, or the
//! download pipeline step by step) and exposes its answer as `window.__bench`, with wharf's
//! hasher (built by `cargo xtask bench` into `target/bench/hashwasm/`) and hash-wasm next to it.

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::browser::Browser;
use crate::error::{Error, Result};
use crate::procs::copy_dir;
use crate::Ctx;

const PAGE_FILES: [(&str, &str); 5] = [
    ("index.html", include_str!("../page/index.html")),
    ("bench.js", include_str!("../page/bench.js")),
    ("hash-worker.js", include_str!("../page/hash-worker.js")),
    (
        "pipeline-worker.js",
        include_str!("../page/pipeline-worker.js"),
    ),
    ("hash-helper.js", include_str!("../page/hash-helper.js")),
];

/// Writes the page into `dir`; returns the optional hasher variants that were built (e.g.
/// `wharf-o3`).
pub fn build(ctx: &Ctx, dir: &Path) -> Result<Vec<String>> {
    for (name, text) in PAGE_FILES {
        std::fs::write(dir.join(name), text).map_err(Error::io(format!("writing {name}")))?;
    }
    let built = ctx.out.join("hashwasm");
    let shipped = built.join("wharf");
    if !shipped.join("wharf_bench_hashwasm.js").is_file() {
        return Err(Error::Failed(format!(
            "{} is missing: run `cargo xtask bench` (it builds the hasher)",
            shipped.display()
        )));
    }
    // `wharf/` as shipped, and variants built with other settings (`wharf-<variant>/`).
    let mut variants = Vec::new();
    let entries = std::fs::read_dir(&built).map_err(Error::io(format!("{}", built.display())))?;
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if entry.path().join("wharf_bench_hashwasm.js").is_file() {
            copy_dir(&entry.path(), &dir.join(&name))?;
            if name != "wharf" {
                variants.push(name);
            }
        }
    }
    variants.sort();
    let hash_wasm = ctx
        .root
        .join(".tools/bench/node_modules/hash-wasm/dist/index.esm.min.js");
    std::fs::create_dir_all(dir.join("hash-wasm")).map_err(Error::io("creating hash-wasm/"))?;
    std::fs::copy(&hash_wasm, dir.join("hash-wasm/index.esm.min.js")).map_err(Error::io(
        format!(
            "{} (npm install hash-wasm into .tools/bench)",
            hash_wasm.display()
        ),
    ))?;
    Ok(variants)
}

/// Opens `url` (the bench page with its query) and waits for the worker's answer.
pub async fn run(browser: &Browser, url: &str, timeout: Duration) -> Result<Value> {
    browser.goto(url).await?;
    let start = Instant::now();
    let mut last_progress = String::new();
    while start.elapsed() < timeout {
        let state = browser.script("return window.__bench || null;").await?;
        match state.get("state").and_then(Value::as_str) {
            Some("done") => return Ok(state),
            Some("error") => {
                return Err(Error::Failed(format!(
                    "bench page: {}",
                    state.get("error").and_then(Value::as_str).unwrap_or("?")
                )))
            }
            _ => {}
        }
        if let Some(p) = state.get("progress").and_then(Value::as_str) {
            if p != last_progress {
                eprintln!("   {p}");
                last_progress = p.to_owned();
            }
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    Err(Error::Failed(format!(
        "the bench page did not finish within {timeout:?}"
    )))
}

/// The `ms` list of `results[key]`.
pub fn millis(results: &Value, key: &str) -> Vec<f64> {
    results["results"][key]["ms"]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_f64).collect())
        .unwrap_or_default()
}

/// Every digest string in `results[key][field]` must be `expected`, and there must be `want`.
pub fn check_digests(
    results: &Value,
    key: &str,
    field: &str,
    want: usize,
    expected: &str,
) -> Result<()> {
    let list: Vec<&str> = results["results"][key][field]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    if list.len() != want {
        return Err(Error::Failed(format!(
            "{key}: {} digests for {want} runs",
            list.len()
        )));
    }
    match list.iter().find(|h| **h != expected) {
        Some(bad) => Err(Error::Failed(format!(
            "{key} computed {bad}, expected {expected}"
        ))),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn digests_are_checked() {
        let results = json!({"results": {"wharf": {"ms": [1.0, 2.0], "hex": ["aa", "aa"]}}});
        assert_eq!(millis(&results, "wharf"), vec![1.0, 2.0]);
        assert!(millis(&results, "other").is_empty());
        assert!(check_digests(&results, "wharf", "hex", 2, "aa").is_ok());
        assert!(check_digests(&results, "wharf", "hex", 2, "bb").is_err());
        assert!(check_digests(&results, "wharf", "hex", 3, "aa").is_err());
        assert!(check_digests(&results, "none", "hex", 1, "aa").is_err());
    }
}
