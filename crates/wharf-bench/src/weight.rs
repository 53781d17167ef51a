//! Item 4: what the page weighs (dist/*.wasm and *.js: raw, gzip -9, brotli q11) and how long a
//! fresh headless Chromium takes from navigation to an interactive `#reference` field.
//!
//! The start is timed in the page itself: a copy of dist/ whose index.html gets one inline script
//! at the top of `<head>` that records `performance.now()` (milliseconds since navigation start)
//! when `#reference` appears. Yew attaches its listeners when it renders, so the field is
//! interactive at that moment.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::browser::{temp_dir, Browser};
use crate::error::{Error, Result};
use crate::procs::copy_dir;
use crate::relay::RelayProcess;
use crate::report::{num, Goal, Row, Stats};
use crate::{Ctx, Outcome};

const BUDGET_KB: f64 = 300.0;
const PROBE: &str = "<script>(function(){var o=new MutationObserver(function(){\
if(document.getElementById('reference')){window.__wharfInteractive=performance.now();o.disconnect();}});\
o.observe(document,{childList:true,subtree:true});})();</script>";

/// Sizes of one file in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Sizes {
    pub raw: u64,
    pub gzip: u64,
    pub brotli: u64,
}

impl std::ops::Add for Sizes {
    type Output = Sizes;
    fn add(self, o: Sizes) -> Sizes {
        Sizes {
            raw: self.raw + o.raw,
            gzip: self.gzip + o.gzip,
            brotli: self.brotli + o.brotli,
        }
    }
}

/// Compressed sizes as a static server would precompress them (gzip -9, brotli quality 11).
pub fn sizes(bytes: &[u8]) -> Result<Sizes> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gz.write_all(bytes).map_err(Error::io("gzip"))?;
    let gzip = gz.finish().map_err(Error::io("gzip"))?.len() as u64;
    let mut br = Vec::new();
    {
        let mut writer = brotli::CompressorWriter::new(&mut br, 64 * 1024, 11, 22);
        writer.write_all(bytes).map_err(Error::io("brotli"))?;
    }
    Ok(Sizes {
        raw: bytes.len() as u64,
        gzip,
        brotli: br.len() as u64,
    })
}

fn page_files(dist: &Path) -> Result<Vec<PathBuf>> {
    let entries = std::fs::read_dir(dist).map_err(Error::io(format!("{}", dist.display())))?;
    let mut files: Vec<PathBuf> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| matches!(p.extension().and_then(|e| e.to_str()), Some("wasm" | "js")))
        .collect();
    files.sort();
    if files.is_empty() {
        return Err(Error::Failed(format!(
            "no .wasm or .js in {}: build the page (cargo xtask dist)",
            dist.display()
        )));
    }
    Ok(files)
}

pub async fn run(ctx: &Ctx) -> Result<Outcome> {
    let mut total = Sizes::default();
    let mut details = Vec::new();
    for file in page_files(&ctx.dist)? {
        let bytes = std::fs::read(&file).map_err(Error::io(format!("{}", file.display())))?;
        let s = sizes(&bytes)?;
        total = total + s;
        details.push(format!(
            "dist/{}: {} KB raw, {} KB gzip, {} KB brotli",
            file.file_name().unwrap_or_default().to_string_lossy(),
            num(s.raw as f64 / 1000.0),
            num(s.gzip as f64 / 1000.0),
            num(s.brotli as f64 / 1000.0)
        ));
    }
    let kb = |b: u64| Some(Stats::exact(b as f64 / 1000.0));
    let start = start_times(ctx).await?;
    let rows = vec![
        Row::new(4, "page weight: dist/*.wasm + *.js, brotli q11", "KB")
            .ours(kb(total.brotli))
            .anchor("budget", Some(Stats::exact(BUDGET_KB)))
            .goal(Goal::AtMost(BUDGET_KB))
            .note(format!(
                "raw {} KB, gzip -9 {} KB",
                num(total.raw as f64 / 1000.0),
                num(total.gzip as f64 / 1000.0)
            )),
        Row::new(
            4,
            "start: navigation to interactive #reference (fresh profile)",
            "ms",
        )
        .ours(Stats::of(&start))
        .anchor("—", None)
        .note("headless Chromium, page served by wharf-relay on loopback"),
    ];
    Ok(Outcome { rows, details })
}

/// Milliseconds from navigation start to `#reference`, each in a fresh browser (cold caches).
async fn start_times(ctx: &Ctx) -> Result<Vec<f64>> {
    let probe = temp_dir("wharf-bench-probe-")?;
    copy_dir(&ctx.dist, probe.path())?;
    let index = probe.path().join("index.html");
    let html = std::fs::read_to_string(&index).map_err(Error::io("reading index.html"))?;
    let with_probe = inject(&html)?;
    std::fs::write(&index, with_probe).map_err(Error::io("writing index.html"))?;
    let relay = RelayProcess::start(
        &ctx.relay_bin,
        probe.path(),
        &[],
        &ctx.out.join("relay-start.log"),
    )
    .await?;
    let mut times = Vec::new();
    for _ in 0..ctx.runs {
        let browser = Browser::start().await?;
        browser.goto(&format!("{}/", relay.base)).await?;
        let began = Instant::now();
        loop {
            let value = browser
                .script("return window.__wharfInteractive || null;")
                .await?;
            if let Some(ms) = value.as_f64() {
                times.push(ms);
                break;
            }
            if began.elapsed() > Duration::from_secs(30) {
                return Err(Error::Failed(
                    "#reference did not appear within 30 s".into(),
                ));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        if let Value::Null = browser
            .script("return document.getElementById('reference');")
            .await?
        {
            return Err(Error::Failed("#reference vanished after start".into()));
        }
    }
    Ok(times)
}

/// Puts the probe before the page's first script (Trunk may minify the `<head>` tag away), or
/// right after `<head>`.
fn inject(html: &str) -> Result<String> {
    let at = html
        .find("<script")
        .or_else(|| html.find("<head>").map(|i| i + "<head>".len()))
        .ok_or_else(|| Error::Failed("dist/index.html has neither <script nor <head>".into()))?;
    Ok(format!("{}{PROBE}{}", &html[..at], &html[at..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compressed_sizes_are_smaller_for_redundant_input() {
        let text = "wharf ".repeat(10_000);
        let s = sizes(text.as_bytes()).expect("sizes");
        assert_eq!(s.raw, 60_000);
        assert!(s.gzip > 0 && s.gzip < 1_000, "{s:?}");
        assert!(s.brotli > 0 && s.brotli < s.gzip, "{s:?}");
        let empty = sizes(b"").expect("sizes");
        assert_eq!(empty.raw, 0);
    }

    #[test]
    fn probe_goes_before_the_first_script() {
        let cases = [
            (
                "<html><head><script src=a.js></script></head></html>",
                "<html><head>",
                "<script src=a.js></script></head></html>",
            ),
            // Minified by Trunk: no <head> tag at all.
            (
                "<!doctype html><meta charset=utf-8><script type=module>x</script>",
                "<!doctype html><meta charset=utf-8>",
                "<script type=module>x</script>",
            ),
            (
                "<html><head></head></html>",
                "<html><head>",
                "</head></html>",
            ),
        ];
        for (html, before, after) in cases {
            let out = inject(html).expect("inject");
            assert_eq!(out, format!("{before}{PROBE}{after}"), "{html}");
        }
        assert!(inject("<html></html>").is_err());
    }
}
