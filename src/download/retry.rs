//! When to try a download step again, and how long to wait first (pure, so it is tested
//! natively).
//!
//! Rate limits (429) and server errors (5xx) honour `Retry-After` up to a bound; a network
//! failure or a body that breaks off backs off exponentially. Attempts are counted per run of
//! failures without progress: a stream that keeps delivering bytes between breaks is not
//! abandoned, one that makes no progress is abandoned after `max_attempts`.

/// What went wrong on one attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// An HTTP answer with this status (and its `Retry-After`, in milliseconds, if any).
    Status {
        status: u16,
        retry_after_ms: Option<u64>,
    },
    /// `fetch` failed without an answer (connection refused or reset, relay down).
    Network,
    /// The body broke off, or ended before the promised size.
    StreamBroken,
}

/// What to do about a failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Wait this long, then try again.
    Retry { after_ms: u64 },
    /// Stop and report the error.
    GiveUp,
}

/// Bounds for retries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Failures in a row (without progress) after which we give up.
    pub max_attempts: u32,
    /// First back-off delay; doubled on each further failure.
    pub base_delay_ms: u64,
    /// Longest back-off delay.
    pub max_delay_ms: u64,
    /// A `Retry-After` longer than this is not waited for: the error is reported with it, so
    /// the person can come back later (Docker Hub's pull limit resets after hours).
    pub max_retry_after_ms: u64,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 5,
            base_delay_ms: 1_000,
            max_delay_ms: 16_000,
            max_retry_after_ms: 120_000,
        }
    }
}

impl RetryPolicy {
    /// Decides about the `attempt`-th failure in a row (1 for the first).
    pub fn decide(&self, attempt: u32, failure: Failure) -> Decision {
        if attempt == 0 || attempt > self.max_attempts {
            return Decision::GiveUp;
        }
        match failure {
            Failure::Status {
                status,
                retry_after_ms,
            } => {
                if !is_retryable_status(status) {
                    return Decision::GiveUp;
                }
                match retry_after_ms {
                    Some(ms) if ms > self.max_retry_after_ms => Decision::GiveUp,
                    Some(ms) => Decision::Retry { after_ms: ms },
                    None => Decision::Retry {
                        after_ms: self.backoff(attempt),
                    },
                }
            }
            Failure::Network | Failure::StreamBroken => Decision::Retry {
                after_ms: self.backoff(attempt),
            },
        }
    }

    /// `base * 2^(attempt-1)`, capped.
    pub fn backoff(&self, attempt: u32) -> u64 {
        let shift = attempt.saturating_sub(1).min(32);
        self.base_delay_ms
            .saturating_mul(1u64 << shift)
            .min(self.max_delay_ms)
    }
}

/// 429 and the 5xx answers that mean "not now" (not 501 Not Implemented, 505 HTTP Version).
pub fn is_retryable_status(status: u16) -> bool {
    status == 429 || (500..600).contains(&status) && status != 501 && status != 505
}

#[cfg(test)]
mod tests {
    use super::*;

    const P: RetryPolicy = RetryPolicy {
        max_attempts: 5,
        base_delay_ms: 1_000,
        max_delay_ms: 16_000,
        max_retry_after_ms: 120_000,
    };

    fn status(status: u16, retry_after_ms: Option<u64>) -> Failure {
        Failure::Status {
            status,
            retry_after_ms,
        }
    }

    #[test]
    fn decisions() {
        use Decision::*;
        let cases: &[(u32, Failure, Decision)] = &[
            (1, status(429, Some(3_000)), Retry { after_ms: 3_000 }),
            (1, status(429, Some(0)), Retry { after_ms: 0 }),
            (1, status(429, None), Retry { after_ms: 1_000 }),
            (3, status(503, None), Retry { after_ms: 4_000 }),
            (2, status(503, Some(120_000)), Retry { after_ms: 120_000 }),
            (2, status(503, Some(120_001)), GiveUp),
            (1, status(429, Some(21_600_000)), GiveUp),
            (1, status(500, None), Retry { after_ms: 1_000 }),
            (1, status(502, None), Retry { after_ms: 1_000 }),
            (1, status(501, None), GiveUp),
            (1, status(505, None), GiveUp),
            (1, status(404, None), GiveUp),
            (1, status(401, Some(1_000)), GiveUp),
            (1, status(403, None), GiveUp),
            (1, status(416, None), GiveUp),
            (1, Failure::Network, Retry { after_ms: 1_000 }),
            (2, Failure::StreamBroken, Retry { after_ms: 2_000 }),
            (5, Failure::StreamBroken, Retry { after_ms: 16_000 }),
            (6, Failure::StreamBroken, GiveUp),
            (6, status(429, Some(1)), GiveUp),
            (0, Failure::Network, GiveUp),
        ];
        for (attempt, failure, want) in cases {
            assert_eq!(
                P.decide(*attempt, *failure),
                *want,
                "attempt {attempt}, {failure:?}"
            );
        }
    }

    #[test]
    fn backoff_is_capped_and_never_overflows() {
        let got: Vec<u64> = (1..=7).map(|a| P.backoff(a)).collect();
        assert_eq!(got, [1_000, 2_000, 4_000, 8_000, 16_000, 16_000, 16_000]);
        let huge = RetryPolicy {
            max_delay_ms: u64::MAX,
            ..P
        };
        assert_eq!(huge.backoff(u32::MAX), 1_000u64.saturating_mul(1 << 32));
    }
}
