//! One transfer per scenario, and what it must come to.

use std::time::Duration;

use wharf_testkit::chaos::FAULT_AFTER;

use super::{Scenario, Setup, Verdict};

/// The range a [`Scenario::Range`] asks for (inclusive end).
const RANGE: (usize, usize) = (1_000_003, 5_242_880);
/// The longest one transfer may take, slow readers included.
const TRANSFER_TIMEOUT: Duration = Duration::from_secs(60);

/// Runs `scenario` once through the relay and judges how it ended.
pub(super) async fn transfer(
    client: &reqwest::Client,
    setup: &Setup,
    scenario: Scenario,
) -> Verdict {
    let blobs = &setup.blobs;
    let (path, expected): (&str, &[u8]) = match scenario {
        Scenario::Range | Scenario::SlowReader | Scenario::Disconnect => {
            (&blobs.large_path, &blobs.large)
        }
        _ => (&blobs.small_path, &blobs.small),
    };
    let url = setup
        .relay
        .relay_url(&setup.front.fault_url(scenario.fault(), path));
    // A transfer that hangs past this is a failure the soak reports, not a stuck task.
    let mut request = client.get(url).timeout(TRANSFER_TIMEOUT);
    if scenario == Scenario::Range {
        request = request.header("range", format!("bytes={}-{}", RANGE.0, RANGE.1));
    }
    let response = match request.send().await {
        Ok(response) => response,
        Err(e) => return Verdict::Unexpected(format!("{scenario:?}: no answer: {e}")),
    };
    let status = response.status().as_u16();
    match scenario {
        Scenario::TooMany => status_only(response, 429, true).await,
        Scenario::Unavailable => status_only(response, 503, false).await,
        Scenario::Range if status == 206 => whole(response, &expected[RANGE.0..=RANGE.1], 0).await,
        Scenario::Disconnect if status == 200 => half(response).await,
        Scenario::Cut | Scenario::Stall if status == 200 => broken(response, expected).await,
        Scenario::SlowReader if status == 200 => whole(response, expected, 5).await,
        Scenario::Whole | Scenario::SlowHeaders if status == 200 => {
            whole(response, expected, 0).await
        }
        _ => Verdict::Unexpected(format!("{scenario:?}: status {status}")),
    }
}

/// Reads the body (pausing `pause_ms` per chunk) and compares it byte for byte.
async fn whole(mut response: reqwest::Response, expected: &[u8], pause_ms: u64) -> Verdict {
    let mut got = Vec::with_capacity(expected.len());
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) => got.extend_from_slice(&chunk),
            Ok(None) => break,
            Err(e) => return Verdict::Unexpected(format!("body broke off: {e}")),
        }
        if pause_ms > 0 {
            tokio::time::sleep(Duration::from_millis(pause_ms)).await;
        }
    }
    if got == expected {
        Verdict::Expected(got.len() as u64)
    } else {
        Verdict::Wrong
    }
}

/// Reads about a quarter, then drops the response (a client that goes away mid-blob).
async fn half(mut response: reqwest::Response) -> Verdict {
    let mut read = 0u64;
    while read < 2 << 20 {
        match response.chunk().await {
            Ok(Some(chunk)) => read += chunk.len() as u64,
            Ok(None) => return Verdict::Unexpected("ended before the client left".into()),
            Err(e) => return Verdict::Unexpected(format!("body broke off: {e}")),
        }
    }
    Verdict::Expected(0)
}

/// A body the front cut or stalled must end in an error, never as a clean (short) end.
async fn broken(mut response: reqwest::Response, expected: &[u8]) -> Verdict {
    let mut got = Vec::new();
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) => got.extend_from_slice(&chunk),
            Ok(None) if got == expected => {
                return Verdict::Unexpected("a cut body arrived whole".into())
            }
            Ok(None) => return Verdict::Wrong,
            Err(_) if got.len() as u64 <= FAULT_AFTER && expected.starts_with(&got) => {
                return Verdict::Expected(0)
            }
            Err(_) => return Verdict::Wrong,
        }
    }
}

/// The status passed through, with `Retry-After` when `retry_after`.
async fn status_only(response: reqwest::Response, want: u16, retry_after: bool) -> Verdict {
    let status = response.status().as_u16();
    let has_retry = response.headers().contains_key("retry-after");
    let _ = response.bytes().await;
    if status == want && (has_retry || !retry_after) {
        Verdict::Expected(0)
    } else {
        Verdict::Unexpected(format!("status {status}, Retry-After {has_retry}"))
    }
}
