//! Whole inputs: detection, reading.

use super::p;
use super::LINE_QUOTE;
use crate::diag::quote::quote;
use crate::diag::{Code, Problem};

/// Bytes before the first line that shows the input's format.
pub fn before_first_line(at: usize, format: &str, first_line: &[u8]) -> Problem {
    p(
        Code::Garbage,
        at,
        format!(
            "not part of the {format} capture that starts on a later line: found {}",
            quote(first_line, LINE_QUOTE)
        ),
    )
}

/// An input in which no format shows (`len` bytes looked at, `window` the most looked at).
pub fn unknown_format(len: usize, window: usize) -> Problem {
    if len == 0 {
        return p(
            Code::Format,
            0,
            "empty input: no drain capture in it".into(),
        );
    }
    let within = if len >= window {
        format!("in its first {} KiB", window / 1024)
    } else {
        "in it".to_string()
    };
    p(
        Code::Format,
        0,
        format!(
            "not a drain capture: no line {within} starts like octet frames (`LEN <PRI>`), \
             syslog lines (`<PRI>`), HTTP requests (`POST `) or `heroku logs` output \
             (`YYYY-MM-DDT`); --from says which format to read it as"
        ),
    )
}

/// An input that could not be opened.
pub fn cannot_open(e: &std::io::Error) -> Problem {
    p(Code::Io, 0, io_message(e))
}

/// An input whose reading failed after `total` bytes.
pub fn read_error(total: u64, e: &std::io::Error) -> Problem {
    p(
        Code::Io,
        total as usize,
        format!("read error after {total} bytes: {}", io_message(e)),
    )
}

/// An I/O error as users should read it: the OS message without Rust's "(os error N)".
pub fn io_message(e: &std::io::Error) -> String {
    let s = e.to_string();
    match s.find(" (os error") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}
