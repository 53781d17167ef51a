//! The streaming engine: fetch one blob and verify it into a [`Sink`], with retries and resume.
//!
//! This step knows nothing of files or jobs: a blob download stages into its own file, an
//! archive export (issue 5) writes tar headers and then several blobs into one file, each blob
//! through [`fetch_blob`]. A blob's region of the sink starts at `sink.position() -
//! verifier.bytes_seen()`, so a restart cuts the sink back to there and a resume continues.

use std::cell::Cell;
use std::rc::Rc;

use wharf_oci::{Verified, Verifier};

use super::opfs::Sink;
use super::range::{check_answer, AnswerProblem, BodyStart};
use super::retry::{Decision, Failure, RetryPolicy};
use crate::net::body::{BodyReader, ChunkBuffer};
use crate::net::{js, IoError};

/// Something that serves the bytes of one blob.
#[allow(async_fn_in_trait)] // used with concrete types only, on one thread
pub trait BlobSource {
    /// Opens the blob from byte `start` to `end` (inclusive; `None`: to the end), a ranged
    /// request unless it is the whole blob. Returns a 200, 206 or 416 answer; other answers are
    /// errors.
    async fn open(&self, start: u64, end: Option<u64>) -> Result<web_sys::Response, IoError>;
}

/// Hears about progress and retries.
pub trait Observer {
    /// `bytes` of this blob are verified so far.
    fn progress(&mut self, bytes: u64);
    /// Attempt `attempt` failed for `reason`; the next starts in `after_ms`.
    fn retrying(&mut self, attempt: u32, after_ms: u64, reason: &str);
}

/// Cancels a job: sets a flag checked between chunks and aborts the request in flight.
#[derive(Debug, Clone)]
pub struct CancelToken {
    flag: Rc<Cell<bool>>,
    controller: Option<web_sys::AbortController>,
}

impl CancelToken {
    pub fn new() -> Self {
        CancelToken {
            flag: Rc::new(Cell::new(false)),
            controller: web_sys::AbortController::new().ok(),
        }
    }

    pub fn cancel(&self) {
        self.flag.set(true);
        if let Some(c) = &self.controller {
            c.abort();
        }
    }

    pub fn is_cancelled(&self) -> bool {
        self.flag.get()
    }

    /// For `fetch`: aborting it also errors a body that is being read.
    pub fn signal(&self) -> Option<web_sys::AbortSignal> {
        self.controller.as_ref().map(|c| c.signal())
    }
}

impl Default for CancelToken {
    fn default() -> Self {
        CancelToken::new()
    }
}

/// What a job lends to each blob step.
pub struct Engine<'a> {
    pub buffer: &'a mut ChunkBuffer,
    pub policy: RetryPolicy,
    pub cancel: &'a CancelToken,
    /// Ask for the blob in `Range` windows of this many bytes instead of one stream: for
    /// browsers whose `fetch` does not apply backpressure (Firefox buffers a whole unread body;
    /// see [`window_for_this_browser`]). `None`: one request.
    pub window: Option<u64>,
}

/// The window size to use in this browser: 32 MiB in Firefox, none elsewhere.
pub fn window_for_this_browser() -> Option<u64> {
    js::user_agent().contains("Firefox/").then_some(32 << 20)
}

/// How an answer's body ended.
enum Pumped {
    /// The body ended (maybe early: the caller compares with the size).
    Ended,
    /// The body broke off (network error); the bytes so far are good.
    Broken(IoError),
}

/// Fetches one blob into `sink`, continuing after the `verifier.bytes_seen()` bytes that are
/// already in the sink, until size and digest are checked. Retries by [`RetryPolicy`]; a 206
/// must continue exactly where asked, a 200 restarts the blob cleanly.
pub async fn fetch_blob<S: BlobSource, K: Sink, O: Observer>(
    engine: &mut Engine<'_>,
    source: &S,
    mut verifier: Verifier,
    sink: &mut K,
    observer: &mut O,
) -> Result<Verified, IoError> {
    let size = verifier.expected_size();
    let base = sink
        .position()
        .checked_sub(verifier.bytes_seen())
        .ok_or_else(|| IoError::Browser {
            message: "the sink holds fewer bytes than were verified".into(),
        })?;
    let mut attempt = 0u32;
    // Failures only stop counting when the download gets further than ever before: a server
    // that makes us restart (or breaks at the same place) cannot keep it going forever.
    let mut furthest = verifier.bytes_seen();
    loop {
        if engine.cancel.is_cancelled() {
            return Err(IoError::Cancelled);
        }
        let start = verifier.bytes_seen();
        if start == size {
            return verifier.finish().map_err(IoError::from);
        }
        let step = attempt_once(engine, source, &mut verifier, sink, base, observer).await;
        let (error, failure) = match step {
            Step::Done(result) => return result,
            Step::Next => continue,
            Step::Failed(error, failure) => (error, failure),
        };
        if engine.cancel.is_cancelled() {
            return Err(IoError::Cancelled);
        }
        if verifier.bytes_seen() > furthest {
            furthest = verifier.bytes_seen();
            attempt = 0;
        }
        attempt += 1;
        match engine.policy.decide(attempt, failure) {
            Decision::Retry { after_ms } => {
                observer.retrying(attempt, after_ms, &error.to_string());
                sleep(after_ms, engine.cancel).await?;
            }
            Decision::GiveUp => return Err(error),
        }
    }
}

enum Step {
    Done(Result<Verified, IoError>),
    /// The answer ended with progress but before the end of the blob (a window, or a server
    /// that sends less): ask for the rest.
    Next,
    Failed(IoError, Failure),
}

async fn attempt_once<S: BlobSource, K: Sink, O: Observer>(
    engine: &mut Engine<'_>,
    source: &S,
    verifier: &mut Verifier,
    sink: &mut K,
    base: u64,
    observer: &mut O,
) -> Step {
    let size = verifier.expected_size();
    let start = verifier.bytes_seen();
    let end = engine
        .window
        .filter(|w| *w > 0 && size > *w)
        .map(|w| start.saturating_add(w).min(size) - 1);
    let response = match source.open(start, end).await {
        Ok(r) => r,
        Err(e) => return retryable(e),
    };
    let headers = js::response_headers(&response);
    let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    // With a Content-Encoding the length counts encoded bytes: not comparable.
    let length = match text("content-encoding") {
        Some(_) => None,
        None => text("content-length").and_then(|v| v.parse::<u64>().ok()),
    };
    let checked = check_answer(
        response.status(),
        text("content-range"),
        length,
        start,
        size,
    );
    let restart = |verifier: &mut Verifier, sink: &mut K| {
        *verifier = Verifier::new(verifier.expected().clone(), size);
        sink.truncate(base)
    };
    match checked {
        Ok(BodyStart::AsAsked) => {}
        Ok(BodyStart::FromZero) => {
            if start > 0 {
                if let Err(e) = restart(verifier, sink) {
                    return Step::Done(Err(e));
                }
                observer.progress(0);
            }
        }
        Err(AnswerProblem::WrongSize { actual }) => {
            cancel_body(&response);
            return Step::Done(Err(IoError::SizeMismatch {
                expected: size,
                actual,
            }));
        }
        Err(AnswerProblem::Restart { reason }) => {
            cancel_body(&response);
            if let Err(e) = restart(verifier, sink) {
                return Step::Done(Err(e));
            }
            observer.progress(0);
            return Step::Failed(IoError::Stream { message: reason }, Failure::StreamBroken);
        }
    }
    match pump(engine, &response, verifier, sink, observer).await {
        Err(e) => Step::Done(Err(e)),
        Ok(Pumped::Broken(e)) => Step::Failed(e, Failure::StreamBroken),
        Ok(Pumped::Ended) if verifier.bytes_seen() < size && verifier.bytes_seen() > start => {
            Step::Next
        }
        Ok(Pumped::Ended) if verifier.bytes_seen() < size => Step::Failed(
            IoError::Stream {
                message: format!(
                    "the body ended after {} of {size} bytes",
                    verifier.bytes_seen()
                ),
            },
            Failure::StreamBroken,
        ),
        Ok(Pumped::Ended) => {
            let done =
                std::mem::replace(verifier, Verifier::new(verifier.expected().clone(), size));
            Step::Done(done.finish().map_err(IoError::from))
        }
    }
}

/// Maps an error from opening the blob to a retry decision input, or ends the blob.
fn retryable(e: IoError) -> Step {
    let failure = match &e {
        IoError::RateLimited { retry_after_ms, .. } => Failure::Status {
            status: 429,
            retry_after_ms: *retry_after_ms,
        },
        IoError::Http {
            status,
            retry_after_ms,
            ..
        } => Failure::Status {
            status: *status,
            retry_after_ms: *retry_after_ms,
        },
        // The relay could not reach the registry (502, 504): as transient as a 5xx.
        IoError::RelayRefused { status, .. } if *status >= 500 => Failure::Status {
            status: *status,
            retry_after_ms: None,
        },
        IoError::Unreachable { .. } => Failure::Network,
        IoError::Stream { .. } => Failure::StreamBroken,
        _ => return Step::Done(Err(e)),
    };
    Step::Failed(e, failure)
}

/// Reads the body chunk by chunk: hash, then write, then report.
async fn pump<K: Sink, O: Observer>(
    engine: &mut Engine<'_>,
    response: &web_sys::Response,
    verifier: &mut Verifier,
    sink: &mut K,
    observer: &mut O,
) -> Result<Pumped, IoError> {
    let Some(body) = response.body() else {
        return Ok(Pumped::Ended);
    };
    let mut reader = BodyReader::new(&body, engine.buffer)?;
    loop {
        let chunk = match reader.next().await {
            Ok(Some(chunk)) => chunk,
            Ok(None) => return Ok(Pumped::Ended),
            Err(_) if engine.cancel.is_cancelled() => return Err(IoError::Cancelled),
            Err(e) => {
                return Ok(Pumped::Broken(IoError::Stream {
                    message: js::error_text(&e),
                }))
            }
        };
        let stored = verifier
            .update(chunk)
            .map_err(IoError::from)
            .and_then(|()| sink.write(chunk));
        if let Err(e) = stored {
            reader.cancel();
            return Err(e);
        }
        observer.progress(verifier.bytes_seen());
        if engine.cancel.is_cancelled() {
            reader.cancel();
            return Err(IoError::Cancelled);
        }
    }
}

fn cancel_body(response: &web_sys::Response) {
    if let Some(body) = response.body() {
        drop(wasm_bindgen_futures::JsFuture::from(body.cancel()));
    }
}

/// Waits `ms`, waking early (with [`IoError::Cancelled`]) when the job is cancelled.
pub async fn sleep(ms: u64, cancel: &CancelToken) -> Result<(), IoError> {
    const SLICE_MS: u64 = 200;
    let mut left = ms;
    while left > 0 {
        if cancel.is_cancelled() {
            return Err(IoError::Cancelled);
        }
        let step = left.min(SLICE_MS);
        js::sleep_ms(step).await;
        left -= step;
    }
    if cancel.is_cancelled() {
        return Err(IoError::Cancelled);
    }
    Ok(())
}
