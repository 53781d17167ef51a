//! Streaming: a 1 GiB blob passes through each relay driver (the binary, and the Worker on
//! workerd, each a separate process) with its resident memory growing less than 32 MiB, also while the client pauses (backpressure), and the bytes verify.

mod common;

use common::{client, proc_kib, Driver, RunningRelay, Subprocess};
use futures_util::StreamExt;
use sha2::{Digest as _, Sha256};
use std::time::{Duration, Instant};
use wharf_testkit::{Mode, Registry, WorkerdRelay};

const GIB: u64 = 1 << 30;
/// How much the relay process (either driver) may grow while it carries the blob.
const LIMIT_KIB: u64 = 32 * 1024;

const PAUSE: Duration = Duration::from_secs(2);

/// The relay under test as its own process (so that its memory is its own).
async fn relay_process(driver: Driver, allow: &str) -> Box<dyn RunningRelay> {
    match driver {
        Driver::Binary => Box::new(Subprocess::start(&["--allow-host", allow], &[])),
        Driver::Worker => Box::new(
            WorkerdRelay::start(&["--allow-host", allow])
                .await
                .expect("workerd"),
        ),
    }
}

async fn one_gib_blob_streams_in_bounded_memory(driver: Driver) {
    let started = Instant::now();
    let registry = Registry::start(Mode::Anonymous).await.unwrap();
    let registry_up = started.elapsed();
    let seeding = Instant::now();
    let blob = registry
        .push_blob_stream("big/blob", GIB, 20_240_601)
        .await
        .unwrap();
    let seeded_in = seeding.elapsed();
    assert_eq!(blob.size, GIB);

    let allow = format!("http://127.0.0.1:{}", registry.port());
    let relay = relay_process(driver, &allow).await;
    let pid = relay.pid();
    // Warm up: one relayed request so the runtime, client pool and allocator exist before measuring.
    let warm = client()
        .get(relay.relay_url(registry.v2_url("").as_str()))
        .send()
        .await
        .unwrap();
    assert_eq!(warm.status().as_u16(), 200);
    let _ = warm.bytes().await.unwrap();
    let rss_before = proc_kib(pid, "VmRSS");

    let url = registry.v2_url(&format!("big/blob/blobs/{}", blob.digest));
    let transfer = Instant::now();
    let response = client()
        .get(relay.relay_url(url.as_str()))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(
        response.headers()["content-length"],
        GIB.to_string().as_str()
    );
    let mut body = response.bytes_stream();
    let mut hasher = Sha256::new();
    let mut bytes = 0u64;
    let mut paused_rss = None;
    while let Some(chunk) = body.next().await {
        let chunk = chunk.unwrap();
        bytes += chunk.len() as u64;
        hasher.update(&chunk);
        // Backpressure: stop reading for a while; a relay that buffered ahead would fill up now.
        if paused_rss.is_none() && bytes >= 16 << 20 {
            tokio::time::sleep(PAUSE).await;
            paused_rss = Some(proc_kib(pid, "VmRSS"));
        }
    }
    let hex = common::hex(&hasher.finalize());
    let took = transfer.elapsed() - PAUSE;
    let paused_rss = paused_rss.unwrap();
    let rss_after = proc_kib(pid, "VmRSS");
    let hwm = proc_kib(pid, "VmHWM");

    let growth = hwm.saturating_sub(rss_before);
    eprintln!(
        "1 GiB through the {driver:?} relay: registry up in {registry_up:?}, seeded in {seeded_in:?}, \
         transfer {took:?} without the pause ({:.0} MB/s); relay VmRSS before {rss_before} KiB, \
         during a {PAUSE:?} client pause {paused_rss} KiB, after {rss_after} KiB, VmHWM {hwm} KiB, \
         growth {growth} KiB",
        GIB as f64 / took.as_secs_f64() / 1e6
    );
    assert_eq!(bytes, GIB);
    assert_eq!(hex, blob.digest.hex());
    assert!(growth < LIMIT_KIB, "relay memory grew {growth} KiB");
    assert!(
        paused_rss.saturating_sub(rss_before) < LIMIT_KIB,
        "relay buffered while the client paused"
    );
}

both_drivers!(one_gib_blob_streams_in_bounded_memory);
