//! Checking the answer to a blob GET before its bytes are trusted (pure, tested natively).
//!
//! A resumed download asks for `Range: bytes=<staged>-`. A `206` must say, in `Content-Range`,
//! that its body starts exactly there and that the blob has the size the descriptor promised;
//! a `200` means the server ignored the range and sends the whole blob, so the download starts
//! over cleanly; a `416` means the staged bytes run past what the server has, so they are
//! dropped and the request is made again without a range.

use wharf_oci::request::ContentRange;

/// Where the body of an accepted answer starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyStart {
    /// At the offset that was asked for: append to what is staged.
    AsAsked,
    /// At byte 0 of the blob: drop what is staged (and its hash) and start over.
    FromZero,
}

/// Why an answer cannot be used as it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AnswerProblem {
    /// The server says the blob has another size than the descriptor: a verification failure,
    /// not worth retrying.
    WrongSize { actual: u64 },
    /// The answer does not fit the request: drop the staged bytes and ask again from byte 0.
    Restart { reason: String },
}

/// Checks a `200`, `206` or `416` answer to a GET from `asked_start` of a blob of
/// `expected_size` bytes. `content_length` must be `None` when the body is content-encoded
/// (then the header counts encoded bytes).
pub fn check_answer(
    status: u16,
    content_range: Option<&str>,
    content_length: Option<u64>,
    asked_start: u64,
    expected_size: u64,
) -> Result<BodyStart, AnswerProblem> {
    match status {
        200 => match content_length {
            Some(len) if len != expected_size => Err(AnswerProblem::WrongSize { actual: len }),
            _ => Ok(BodyStart::FromZero),
        },
        206 => check_partial(content_range, asked_start, expected_size),
        416 => Err(AnswerProblem::Restart {
            reason: format!("the server has no bytes from {asked_start} on (416)"),
        }),
        other => Err(AnswerProblem::Restart {
            reason: format!("unexpected HTTP status {other} for a blob"),
        }),
    }
}

fn check_partial(
    content_range: Option<&str>,
    asked_start: u64,
    expected_size: u64,
) -> Result<BodyStart, AnswerProblem> {
    let restart = |reason: String| Err(AnswerProblem::Restart { reason });
    let Some(value) = content_range else {
        return restart("206 without Content-Range".to_owned());
    };
    let range = match ContentRange::parse(value) {
        Ok(range) => range,
        Err(e) => return restart(e.to_string()),
    };
    if let Some(total) = range.total {
        if total != expected_size {
            return Err(AnswerProblem::WrongSize { actual: total });
        }
    }
    if range.start != asked_start {
        return restart(format!(
            "asked for bytes from {asked_start}, got Content-Range {value:?}"
        ));
    }
    if range.end >= expected_size {
        return restart(format!(
            "Content-Range {value:?} passes the blob's {expected_size} bytes"
        ));
    }
    Ok(BodyStart::AsAsked)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn restart(r: &Result<BodyStart, AnswerProblem>) -> bool {
        matches!(r, Err(AnswerProblem::Restart { .. }))
    }

    /// status, Content-Range, Content-Length, asked start, expected outcome
    type Case = (u16, Option<&'static str>, Option<u64>, u64, BodyStart);

    #[test]
    fn accepted_answers() {
        let cases: &[Case] = &[
            (200, None, Some(100), 0, BodyStart::FromZero),
            (200, None, None, 0, BodyStart::FromZero),
            // The server ignored the Range: start over.
            (200, None, Some(100), 40, BodyStart::FromZero),
            (
                206,
                Some("bytes 40-99/100"),
                Some(60),
                40,
                BodyStart::AsAsked,
            ),
            (206, Some("bytes 40-99/*"), None, 40, BodyStart::AsAsked),
            // A server may send less than asked; the rest is asked for next.
            (
                206,
                Some("bytes 40-49/100"),
                Some(10),
                40,
                BodyStart::AsAsked,
            ),
            (
                206,
                Some("bytes 0-99/100"),
                Some(100),
                0,
                BodyStart::AsAsked,
            ),
        ];
        for (status, cr, len, start, want) in cases {
            assert_eq!(
                check_answer(*status, *cr, *len, *start, 100),
                Ok(*want),
                "{status} {cr:?} from {start}"
            );
        }
    }

    #[test]
    fn wrong_sizes_are_verification_failures() {
        assert_eq!(
            check_answer(200, None, Some(99), 0, 100),
            Err(AnswerProblem::WrongSize { actual: 99 })
        );
        assert_eq!(
            check_answer(206, Some("bytes 40-119/120"), None, 40, 100),
            Err(AnswerProblem::WrongSize { actual: 120 })
        );
    }

    #[test]
    fn answers_that_do_not_fit_restart() {
        let cases: &[(u16, Option<&str>, u64)] = &[
            (206, None, 40),
            (206, Some("bytes 0-99/100"), 40),
            (206, Some("bytes 41-99/100"), 40),
            (206, Some("bytes 40-100/*"), 40),
            (206, Some("items 40-99/100"), 40),
            (206, Some("bytes 40-/100"), 40),
            (206, Some("bytes 50-40/100"), 40),
            (416, None, 40),
            (204, None, 0),
        ];
        for (status, cr, start) in cases {
            let got = check_answer(*status, *cr, None, *start, 100);
            assert!(restart(&got), "{status} {cr:?} from {start}: {got:?}");
        }
    }
}
