//! The streamed response body: upstream chunks are passed on as they arrive (hyper polls for the next
//! one only after the previous one was written, which is the backpressure), with a progress-based idle
//! timeout, a check that the upstream sent exactly `Content-Length` bytes, the request's
//! [`Permit`] (its global and per-client slots) held until the end, and one log line per
//! transfer.

use crate::limits::Permit;
use axum::body::Body;
use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use std::pin::Pin;
use std::time::{Duration, Instant};

/// Why a relayed body was cut off; the client sees a broken transfer, never a clean short end.
#[derive(Debug, thiserror::Error)]
pub enum BodyError {
    #[error("upstream body ended after {received} of {expected} bytes")]
    Short { received: u64, expected: u64 },
    #[error("upstream body longer than its content-length {expected}")]
    Long { expected: u64 },
    #[error("no upstream progress for {0:?}")]
    Idle(Duration),
    #[error("upstream body failed")]
    Upstream(#[source] reqwest::Error),
}

/// What the transfer log line says (never header values or query strings).
#[derive(Debug)]
pub struct Transfer {
    pub method: String,
    pub host: String,
    pub path: String,
    pub status: u16,
    pub started: Instant,
}

impl Transfer {
    /// Logs the end of a transfer.
    pub fn finish(&self, bytes: u64, outcome: &str) {
        let ms = u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX);
        tracing::info!(
            method = %self.method, host = %self.host, path = %self.path,
            status = self.status, bytes, ms, outcome, "relayed"
        );
    }
}

type Upstream = Pin<Box<dyn Stream<Item = reqwest::Result<Bytes>> + Send>>;

struct State {
    upstream: Upstream,
    expected: Option<u64>,
    received: u64,
    idle: Duration,
    done: bool,
    outcome: &'static str,
    transfer: Transfer,
    /// Dropped with the body: that gives the slots back.
    _permit: Permit,
}

impl Drop for State {
    fn drop(&mut self) {
        self.transfer.finish(self.received, self.outcome);
    }
}

/// Wraps an upstream body stream into the client's response body.
pub fn relay<S>(
    upstream: S,
    expected: Option<u64>,
    idle: Duration,
    permit: Permit,
    transfer: Transfer,
) -> Body
where
    S: Stream<Item = reqwest::Result<Bytes>> + Send + 'static,
{
    let state = State {
        upstream: Box::pin(upstream),
        expected,
        received: 0,
        idle,
        done: false,
        outcome: "client gone",
        transfer,
        _permit: permit,
    };
    Body::from_stream(futures_util::stream::unfold(state, next_chunk))
}

async fn next_chunk(mut st: State) -> Option<(Result<Bytes, BodyError>, State)> {
    if st.done {
        return None;
    }
    let item = match tokio::time::timeout(st.idle, st.upstream.next()).await {
        Err(_) => Err(BodyError::Idle(st.idle)),
        Ok(Some(Err(e))) => Err(BodyError::Upstream(e)),
        Ok(Some(Ok(chunk))) => accept(&mut st, chunk),
        Ok(None) => match st.expected {
            Some(expected) if expected != st.received => Err(BodyError::Short {
                received: st.received,
                expected,
            }),
            _ => {
                st.outcome = "complete";
                return None;
            }
        },
    };
    if let Err(e) = &item {
        st.done = true;
        st.outcome = outcome_of(e);
    }
    Some((item, st))
}

fn accept(st: &mut State, chunk: Bytes) -> Result<Bytes, BodyError> {
    st.received = st.received.saturating_add(chunk.len() as u64);
    match st.expected {
        Some(expected) if st.received > expected => Err(BodyError::Long { expected }),
        Some(expected) if st.received == expected => {
            // hyper stops polling once Content-Length bytes are out: this is the end.
            st.done = true;
            st.outcome = "complete";
            Ok(chunk)
        }
        _ => Ok(chunk),
    }
}

fn outcome_of(e: &BodyError) -> &'static str {
    match e {
        BodyError::Short { .. } => "short upstream body",
        BodyError::Long { .. } => "long upstream body",
        BodyError::Idle(_) => "idle timeout",
        BodyError::Upstream(_) => "upstream body error",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::limits::{Limiter, Rule};
    use std::sync::Arc;

    fn transfer() -> Transfer {
        Transfer {
            method: "GET".into(),
            host: "h".into(),
            path: "/p".into(),
            status: 200,
            started: Instant::now(),
        }
    }

    /// A relay with one slot.
    fn limiter() -> Arc<Limiter> {
        Limiter::new(1, Rule::OFF, Rule::OFF)
    }

    fn permit(limiter: &Arc<Limiter>) -> Permit {
        limiter.admit(Vec::new()).unwrap()
    }

    fn slot_free(limiter: &Arc<Limiter>) -> bool {
        limiter.admit(Vec::new()).is_ok()
    }

    async fn collect(body: Body) -> Result<Vec<u8>, String> {
        let mut body = body.into_data_stream();
        let mut out = Vec::new();
        while let Some(chunk) = body.next().await {
            out.extend_from_slice(&chunk.map_err(|e| e.to_string())?);
        }
        Ok(out)
    }

    fn chunks(parts: &[&'static [u8]]) -> impl Stream<Item = reqwest::Result<Bytes>> + Send {
        let items: Vec<reqwest::Result<Bytes>> =
            parts.iter().map(|p| Ok(Bytes::from_static(p))).collect();
        futures_util::stream::iter(items)
    }

    #[tokio::test]
    async fn exact_length_passes_and_releases_permit() {
        let sem = limiter();
        let body = relay(
            chunks(&[b"abc", b"de"]),
            Some(5),
            Duration::from_secs(1),
            permit(&sem),
            transfer(),
        );
        assert!(!slot_free(&sem));
        assert_eq!(collect(body).await.unwrap(), b"abcde");
        assert!(slot_free(&sem));
    }

    #[tokio::test]
    async fn unknown_length_passes() {
        let sem = limiter();
        let body = relay(
            chunks(&[b"abc"]),
            None,
            Duration::from_secs(1),
            permit(&sem),
            transfer(),
        );
        assert_eq!(collect(body).await.unwrap(), b"abc");
    }

    #[tokio::test]
    async fn short_and_long_bodies_are_errors() {
        let sem = limiter();
        let short = relay(
            chunks(&[b"abc"]),
            Some(119),
            Duration::from_secs(1),
            permit(&sem),
            transfer(),
        );
        let err = collect(short).await.unwrap_err();
        assert!(err.contains("3 of 119"), "{err}");
        let long = relay(
            chunks(&[b"abc", b"def"]),
            Some(4),
            Duration::from_secs(1),
            permit(&sem),
            transfer(),
        );
        assert!(collect(long).await.is_err());
        assert!(slot_free(&sem));
    }

    #[tokio::test]
    async fn stalled_upstream_times_out() {
        let sem = limiter();
        let stalled = chunks(&[b"abc"]).chain(futures_util::stream::pending());
        let body = relay(
            stalled,
            Some(10),
            Duration::from_millis(50),
            permit(&sem),
            transfer(),
        );
        let started = Instant::now();
        let err = collect(body).await.unwrap_err();
        assert!(err.contains("no upstream progress"), "{err}");
        assert!(started.elapsed() < Duration::from_secs(2));
    }
}
