//! The save prototypes' checks: what Chromium does with an errored stream (and with "Resume"
//! afterwards), `<a download>` to the service worker's URL, a body shorter than its
//! Content-Length, the page going away mid-stream, the cost of a MessagePort hop, and (on
//! request) streams that take minutes.

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use wharf_oci::Digest;

use super::{open, outcome, start, Page, REPO, SEED};
use wharf_testkit::RunningRelay;

use crate::browser::Browser;
use crate::download::check_file;
use crate::error::{Error, Result};
use crate::report::num;
use crate::Services;

/// The folder's names, as one sorted list.
fn listing(browser: &Browser) -> String {
    let mut names = browser.download_names();
    names.sort();
    format!("{names:?}")
}

/// Chromium's own account of its downloads (chrome://downloads), one entry per download.
async fn downloads_page(browser: &Browser) -> String {
    if browser.goto("chrome://downloads/").await.is_err() {
        return "chrome://downloads did not open".into();
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    // Each item's `data` is Chromium's record of the download (state, reason, resumable).
    let js = "const m = document.querySelector('downloads-manager'); \
              if (!m) return 'no downloads-manager'; \
              return [...m.shadowRoot.querySelectorAll('downloads-item')].map(i => { \
                const d = i.data || {}; \
                const keep = ['fileName', 'state', 'lastReasonText', 'resume', 'retry', \
                              'dangerType', 'totalValue', 'receivedValue', 'filePath']; \
                return JSON.stringify(Object.fromEntries(keep.filter(k => k in d) \
                  .map(k => [k, typeof d[k] === 'bigint' ? String(d[k]) : d[k]]))); \
              }).join(' | ');";
    match browser.script(js).await {
        Ok(Value::String(s)) => s,
        Ok(other) => other.to_string(),
        Err(e) => format!("not readable: {e}"),
    }
}

/// Errored streams, `<a download>` as the trigger, and (on request) a long stream.
pub async fn checks(page: &Page, services: &Services) -> Result<Vec<String>> {
    let registry = &services.registry;
    let small = registry.push_blob_stream(REPO, 64 << 20, SEED + 1).await?;
    let tiny = registry.push_blob_stream(REPO, 300 << 10, SEED + 2).await?;
    let url = |d: &Digest| {
        page.relay
            .relay_url(registry.v2_url(&format!("{REPO}/blobs/{d}")).as_ref())
    };
    let wrong = "0".repeat(64);
    let mut lines = Vec::new();
    for (mode, blob, content_length) in [
        ("sw", &small, true),
        ("sw", &small, false),
        ("swfetch", &small, true),
        ("sw", &tiny, true),
    ] {
        let browser = open(page).await?;
        let opts = json!({
            "mode": mode, "url": url(&blob.digest), "digest": wrong, "size": blob.size,
            "name": "mismatch.bin", "chunk": 1 << 20, "window": 8, "contentLength": content_length,
        });
        let since = Instant::now();
        start(&browser, &opts).await?;
        let state = outcome(&browser, Duration::from_secs(60)).await?;
        let at_result = listing(&browser);
        let mut seen = Vec::new();
        for wait in [1, 5] {
            tokio::time::sleep(Duration::from_secs(wait)).await;
            seen.push(format!(
                "+{:.1} s {}",
                since.elapsed().as_secs_f64(),
                listing(&browser)
            ));
        }
        let record = downloads_page(&browser).await;
        // What the user's "Resume" on the failed download does (the browser asks the URL again).
        let resumed = match mode == "sw" && blob.size > (1 << 20) {
            true => resume(&browser).await,
            false => String::new(),
        };
        lines.push(format!(
            "errored stream ({mode}, {} bytes, Content-Length {}): page ok={} ; folder when the page \
             saw the mismatch {at_result}; {}; chrome://downloads: {record}{resumed}",
            blob.size,
            if content_length { "set" } else { "unset" },
            state["result"]["ok"],
            seen.join("; "),
        ));
    }
    // `<a download>` (instead of an iframe) to the service worker's URL.
    let browser = open(page).await?;
    let opts = json!({
        "mode": "sw", "url": url(&small.digest), "digest": small.digest.hex(), "size": small.size,
        "name": "anchor.bin", "chunk": 1 << 20, "window": 8, "contentLength": true, "trigger": "anchor",
    });
    let since = Instant::now();
    start(&browser, &opts).await?;
    let landed = browser
        .landed(since, Duration::from_secs(60), |n| n == "anchor.bin")
        .await;
    let state = outcome(&browser, Duration::from_secs(10)).await;
    lines.push(match landed {
        Ok(l) => format!(
            "<a download> as the trigger: a file landed in {:.2} s, check {:?}, starts with {:?}; page {:?}",
            l.done.as_secs_f64(),
            check_file(&l.path, &small.digest, small.size).map_err(|e| e.to_string()),
            std::fs::read(&l.path)
                .map(|b| String::from_utf8_lossy(&b[..b.len().min(80)]).into_owned())
                .unwrap_or_default(),
            state.map(|s| s["state"].to_string())
        ),
        Err(e) => format!(
            "<a download> as the trigger: {e}; page {:?}; chrome://downloads: {}",
            state.map(|s| s.to_string()),
            downloads_page(&browser).await
        ),
    });
    drop(browser);
    lines.push(short_body(page, &url(&small.digest), &small.digest, small.size).await?);
    lines.push(page_gone(page, &url(&small.digest), &small.digest, small.size).await?);
    lines.push(port_cost(page).await?);
    if let Some(secs) = std::env::var("WHARF_SAVE_PROTO_LONG")
        .ok()
        .and_then(|s| s.parse::<u64>().ok())
    {
        lines.extend(
            long_streams(page, &url(&small.digest), &small.digest, small.size, secs).await?,
        );
    }
    Ok(lines)
}

/// Two throttled streams of `size` bytes taking about `secs` each, at once: without and with a
/// ping to the service worker every 20 s.
async fn long_streams(
    page: &Page,
    url: &str,
    digest: &Digest,
    size: u64,
    secs: u64,
) -> Result<Vec<String>> {
    // WHARF_SAVE_PROTO_LONG_CHUNK (KiB): bigger chunks, longer gaps between them.
    let chunk: u64 = std::env::var("WHARF_SAVE_PROTO_LONG_CHUNK")
        .ok()
        .and_then(|s| s.parse::<u64>().ok())
        .map_or(1 << 20, |kib| kib * 1024);
    let chunks = size.div_ceil(chunk).max(1);
    let one = |keep_alive: u64| async move {
        let browser = open(page).await?;
        let name = format!("long-{keep_alive}.bin");
        let opts = json!({
            "mode": "sw", "url": url, "digest": digest.hex(), "size": size, "name": name,
            "chunk": chunk, "window": 8, "contentLength": true,
            "delayMs": secs * 1000 / chunks, "keepAliveMs": keep_alive,
        });
        let since = Instant::now();
        start(&browser, &opts).await?;
        let landed = browser
            .landed(since, Duration::from_secs(secs + 120), |n| n == name)
            .await;
        let state = outcome(&browser, Duration::from_secs(5)).await;
        let text = match landed {
            Ok(l) => format!(
                "landed after {:.0} s, check {:?}",
                l.done.as_secs_f64(),
                check_file(&l.path, digest, size).map_err(|e| e.to_string())
            ),
            Err(e) => format!(
                "FAILED after {:.0} s: {e}; page {:?}; chrome://downloads: {}",
                since.elapsed().as_secs_f64(),
                state.map(|s| s["result"].to_string()),
                downloads_page(&browser).await
            ),
        };
        Ok::<_, Error>(format!(
            "long stream (~{secs} s, {} MiB in {chunks} chunks, a gap of {} s after each, keep-alive ping every {} ms): {text}",
            size >> 20,
            secs / chunks,
            keep_alive
        ))
    };
    let (a, b) = tokio::join!(one(0), one(20_000));
    Ok(vec![a?, b?])
}

/// Milliseconds per round trip page -> service worker -> page of a transferred buffer.
async fn port_cost(page: &Page) -> Result<String> {
    let browser = open(page).await?;
    browser
        .script("window.__echoTest([65536, 1048576, 16777216, 67108864], 20); return true;")
        .await?;
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(60) {
        let echo = browser.script("return window.__echo || null;").await?;
        if let Some(map) = echo.as_object() {
            let parts: Vec<String> = map
                .iter()
                .map(|(k, v)| format!("{k}: {} ms", num(v.as_f64().unwrap_or(f64::NAN))))
                .collect();
            return Ok(format!(
                "MessagePort round trip with a transferred buffer (page <-> service worker, same process): {}",
                parts.join(", ")
            ));
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    Ok("MessagePort round trip: no answer within 60 s".into())
}

/// Clicks "Resume" on the (failed) download in chrome://downloads (already open), then tells
/// what happened: Chromium's record and the folder, with the first bytes of any file.
async fn resume(browser: &Browser) -> String {
    let js = "const m = document.querySelector('downloads-manager'); \
              const item = m && m.shadowRoot.querySelector('downloads-item'); \
              if (!item) return 'no item'; \
              const all = [...item.shadowRoot.querySelectorAll('cr-button, button')]; \
              const b = all.find(b => /resume/i.test(b.textContent) && b.offsetParent !== null) \
                     || all.find(b => /resume/i.test(b.textContent)); \
              if (!b) return 'no Resume button'; \
              b.click(); return 'clicked ' + (b.id || b.textContent.trim());";
    let clicked = match browser.script(js).await {
        Ok(v) => v.to_string(),
        Err(e) => format!("{e}"),
    };
    tokio::time::sleep(Duration::from_secs(4)).await;
    let record = downloads_page(browser).await;
    // The folder is Chromium's download folder: the record's filePath names it.
    let js = "const m = document.querySelector('downloads-manager'); \
              const item = m && m.shadowRoot.querySelector('downloads-item'); \
              return item && item.data ? String(item.data.filePath) : null;";
    let dir = match browser.script(js).await {
        Ok(Value::String(p)) => Path::new(&p).parent().map(Path::to_path_buf),
        _ => None,
    };
    let files: Vec<String> = browser
        .download_names()
        .into_iter()
        .map(|n| {
            let head = dir
                .as_ref()
                .and_then(|d| std::fs::read(d.join(&n)).ok())
                .map(|b| String::from_utf8_lossy(&b[..b.len().min(40)]).into_owned())
                .unwrap_or_default();
            format!("{n} starting {head:?}")
        })
        .collect();
    format!("; after Resume ({clicked}): chrome://downloads: {record}; folder {files:?}")
}

/// A stream that ends before its Content-Length (here: the header claims one byte more than the
/// verified blob): does Chromium keep the short file or fail the download?
async fn short_body(page: &Page, url: &str, digest: &Digest, size: u64) -> Result<String> {
    let browser = open(page).await?;
    let opts = json!({
        "mode": "sw", "url": url, "digest": digest.hex(), "size": size, "name": "short.bin",
        "chunk": 1 << 20, "window": 8, "contentLength": true, "clExtra": 1,
    });
    let since = Instant::now();
    start(&browser, &opts).await?;
    let landed = browser
        .landed(since, Duration::from_secs(30), |n| n == "short.bin")
        .await;
    let outcome = match landed {
        Ok(l) => format!(
            "a file landed ({} bytes)",
            std::fs::metadata(&l.path).map(|m| m.len()).unwrap_or(0)
        ),
        Err(_) => format!("no file; folder {}", listing(&browser)),
    };
    Ok(format!(
        "body one byte shorter than its Content-Length: {outcome}; chrome://downloads: {}",
        downloads_page(&browser).await
    ))
}

/// The page (and its worker, the producer) goes away mid-stream: what becomes of the download?
async fn page_gone(page: &Page, url: &str, digest: &Digest, size: u64) -> Result<String> {
    let browser = open(page).await?;
    let opts = json!({
        "mode": "sw", "url": url, "digest": digest.hex(), "size": size, "name": "gone.bin",
        "chunk": 1 << 20, "window": 8, "contentLength": true, "delayMs": 200, "idleMs": 10000,
    });
    start(&browser, &opts).await?;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let before = listing(&browser);
    browser.goto("about:blank").await?;
    let gone = Instant::now();
    let mut seen = Vec::new();
    for wait in [2, 10, 10] {
        tokio::time::sleep(Duration::from_secs(wait)).await;
        seen.push(format!(
            "+{:.0} s {}",
            gone.elapsed().as_secs_f64(),
            listing(&browser)
        ));
    }
    Ok(format!(
        "page navigated away mid-stream (service worker watchdog 10 s; folder before: {before}): {}; \
         chrome://downloads: {}",
        seen.join("; "),
        downloads_page(&browser).await
    ))
}
