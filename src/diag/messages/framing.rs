//! Octet framing (README "Framing") and line-based messages.

use super::p;
use super::{GARBAGE_QUOTE, LEN_QUOTE, LINE_QUOTE, OVERRUN_QUOTE};
use crate::diag::quote::quote;
use crate::diag::{Code, Problem};

/// A frame should start here, and the byte is not a digit.
pub fn expected_frame_length(at: usize, line: &[u8]) -> Problem {
    p(
        Code::Garbage,
        at,
        format!(
            "expected a frame length (ASCII digits), found {}",
            quote(line, GARBAGE_QUOTE)
        ),
    )
}

/// LEN has more than `max_digits` digits (`digits`: as many as are quoted).
pub fn length_too_long(at: usize, digits: &[u8], max_digits: usize) -> Problem {
    p(
        Code::FrameTooLarge,
        at,
        format!(
            "frame length {} has more than {max_digits} digits",
            quote(digits, LEN_QUOTE)
        ),
    )
}

/// The input ends while LEN is being read.
pub fn input_ends_in_length(at: usize, digits: &[u8]) -> Problem {
    p(
        Code::FrameTruncated,
        at,
        format!("input ends inside the frame length {}", quote(digits, 24)),
    )
}

/// LEN starts with `0`.
pub fn length_leading_zero(at: usize, digits: &[u8]) -> Problem {
    p(
        Code::FrameLength,
        at,
        format!(
            "frame length {} has a leading zero (or is zero)",
            quote(digits, 24)
        ),
    )
}

/// LEN is followed by `found`, not a space.
pub fn length_without_space(at: usize, digits: &[u8], found: &[u8]) -> Problem {
    p(
        Code::FrameLength,
        at,
        format!(
            "expected a space after the frame length {}, found {}",
            String::from_utf8_lossy(digits),
            quote(found, 4)
        ),
    )
}

/// LEN is above `--max-frame`.
pub fn length_over_max(at: usize, digits: &[u8], max_frame: u64) -> Problem {
    p(
        Code::FrameTooLarge,
        at,
        format!(
            "frame length {} exceeds --max-frame {max_frame}",
            String::from_utf8_lossy(digits)
        ),
    )
}

/// The input ends inside the frame.
pub fn frame_truncated(at: usize, len: u64, have: usize) -> Problem {
    p(
        Code::FrameTruncated,
        at,
        format!("frame length says {len} bytes, but the input ends after {have}"),
    )
}

/// The frame's MSG does not end in a newline and `following` is not a delimiter.
pub fn frame_overrun(at: usize, len: u64, following: &[u8]) -> Problem {
    p(
        Code::FrameOverrun,
        at,
        format!(
            "frame length {len} ends the frame inside text: it is followed by {} \
             where a newline, the end of input or another frame should be",
            quote(following, OVERRUN_QUOTE)
        ),
    )
}

/// `--lenient-length` found no boundary within `--max-frame`.
pub fn no_boundary_within_max(at: usize, max_frame: u64, len: u64) -> Problem {
    p(
        Code::FrameTooLarge,
        at,
        format!(
            "no frame boundary within --max-frame {max_frame} bytes of a frame whose \
             length {len} is wrong"
        ),
    )
}

/// `--lenient-length` recovered a frame.
pub fn length_mismatch(at: usize, len: u64, actual: u64) -> Problem {
    p(
        Code::LengthMismatch,
        at,
        format!("length says {len}, frame has {actual}"),
    )
}

/// A line-based message longer than `--max-frame`.
pub fn line_too_long(at: usize, max: usize) -> Problem {
    p(
        Code::FrameTooLarge,
        at,
        format!("message is longer than --max-frame {max} bytes"),
    )
}

/// A line where a `heroku logs` message should start.
pub fn expected_cli_line(at: usize, line: &[u8]) -> Problem {
    p(
        Code::Garbage,
        at,
        format!(
            "expected a `heroku logs` line (TIMESTAMP SOURCE[PROCESS]: MESSAGE), found {}",
            quote(line, LINE_QUOTE)
        ),
    )
}
