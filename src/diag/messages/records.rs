//! Records (README "Records").

use super::p;
use crate::diag::quote::quote;
use crate::diag::{Code, Problem};

/// Longest TIMESTAMP field worth quoting: 19 + 1 + 9 + 6, and a little more.
const TIMESTAMP_QUOTE: usize = 40;

/// The message ends before `what`.
pub fn missing_field(at: usize, what: &str) -> Problem {
    p(
        Code::MissingField,
        at,
        format!("the message ends before {what}"),
    )
}

/// A header field is empty.
pub fn empty_field(code: Code, at: usize, name: &str) -> Problem {
    p(code, at, format!("{name} is empty (two spaces in a row)"))
}

/// A `heroku logs` SOURCE or PROCESS is empty or holds a space.
pub fn empty_or_spaced_field(code: Code, at: usize, name: &str) -> Problem {
    p(code, at, format!("{name} is empty or holds a space"))
}

/// A header field longer than its limit.
pub fn field_too_long(code: Code, at: usize, name: &str, field: &[u8], max: usize) -> Problem {
    p(
        code,
        at,
        format!(
            "{name} is {} bytes long, at most {max} allowed: {}",
            field.len(),
            quote(field, 40)
        ),
    )
}

/// A header field with a byte that is not printable US-ASCII (`i` its index in `field`).
pub fn field_not_printable(code: Code, at: usize, name: &str, field: &[u8], i: usize) -> Problem {
    p(
        code,
        at,
        format!(
            "{name} must be printable US-ASCII, found byte 0x{:02x} at its byte {} in {}",
            field[i],
            i + 1,
            quote(field, 40)
        ),
    )
}

/// VERSION is not 1–3 digits without a leading zero.
pub fn bad_version(at: usize, field: &[u8]) -> Problem {
    p(
        Code::Version,
        at,
        format!(
            "VERSION must be 1 to 3 digits without a leading zero, found {}",
            quote(field, 20)
        ),
    )
}

/// TIMESTAMP is empty.
pub fn empty_timestamp(at: usize) -> Problem {
    p(
        Code::Timestamp,
        at,
        "TIMESTAMP is empty (two spaces in a row)".into(),
    )
}

/// TIMESTAMP is refused for `reason` (one of [`timestamp`]'s).
pub fn bad_timestamp(at: usize, field: &[u8], reason: &str) -> Problem {
    p(
        Code::Timestamp,
        at,
        format!(
            "invalid TIMESTAMP {}: {reason}",
            quote(field, TIMESTAMP_QUOTE)
        ),
    )
}

/// Why a timestamp is refused (README "Records").
pub mod timestamp {
    /// Not the layout at all.
    pub const LAYOUT: &str = "expected YYYY-MM-DDTHH:MM:SS[.fraction](Z|±hh:mm)";
    /// Month out of range.
    pub const MONTH: &str = "month is not 01-12";
    /// Day not in the month.
    pub const DAY: &str = "day does not exist in that month";
    /// Hour out of range.
    pub const HOUR: &str = "hour is not 00-23";
    /// Minute out of range.
    pub const MINUTE: &str = "minute is not 00-59";
    /// Second out of range (no leap seconds).
    pub const SECOND: &str = "second is not 00-59 (RFC 5424 has no leap seconds)";
    /// A dot without digits.
    pub const FRACTION_EMPTY: &str = "a '.' must be followed by fraction digits";
    /// More than nine fraction digits.
    pub const FRACTION_LONG: &str = "fraction has more than 9 digits";
    /// Offset hours or minutes out of range.
    pub const OFFSET_RANGE: &str = "UTC offset is out of range";
    /// Something else where the zone should be.
    pub const ZONE: &str = "expected Z or a ±hh:mm UTC offset after the time";
    /// The UTC form leaves years 0000–9999.
    pub const YEARS: &str = "out of range (years 0000-9999) once converted to UTC";
}

/// PRI does not start with `<` (`first`: the byte found, if any).
pub fn pri_no_open(first: &[u8]) -> Problem {
    p(
        Code::Priority,
        0,
        format!("expected '<' to open PRI, found {}", quote(first, 4)),
    )
}

/// PRI has no digits.
pub fn pri_no_digits(field: &[u8]) -> Problem {
    p(
        Code::Priority,
        0,
        format!("PRI must be 1 to 3 digits, found {}", quote(field, 12)),
    )
}

/// PRI digits not closed by `>` within three.
pub fn pri_no_close(field: &[u8]) -> Problem {
    p(
        Code::Priority,
        0,
        format!(
            "expected '>' after 1 to 3 PRI digits, found {}",
            quote(field, 12)
        ),
    )
}

/// PRI over 191.
pub fn pri_over_191(value: u32) -> Problem {
    p(Code::Priority, 0, format!("PRI {value} is over 191"))
}

/// MSG is not valid UTF-8 (`bad`: the first invalid sequence, up to 4 bytes).
pub fn invalid_utf8(at: usize, bad: &[u8]) -> Problem {
    p(
        Code::Utf8,
        at,
        format!(
            "MSG is not valid UTF-8 (byte sequence {} replaced with U+FFFD)",
            quote(bad, 8)
        ),
    )
}

/// A problem in the prefix of the message that late continuation lines continue.
pub fn in_continued_message(problem: Problem) -> Problem {
    Problem {
        at: 0,
        message: format!("{} (in the message these lines continue)", problem.message),
        ..problem
    }
}

/// `--rejoin`: why a chain of pieces was not joined.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChainBreak {
    /// A PostgreSQL chunk with the chain's TAG and SEQ came, but not the next piece.
    Missing {
        /// The piece that should have come.
        expected: u32,
        /// The piece that came.
        found: u32,
    },
    /// A PostgreSQL chunk N > 1 that continues no chain.
    Orphan {
        /// Its N.
        n: u32,
    },
    /// No record from the source within the window after the last piece.
    Window {
        /// The window, in records.
        window: u64,
    },
    /// The input ended first.
    EndOfInput,
    /// The live input went quiet first.
    Quiet,
    /// The run stopped first (`--on-error fail`).
    Stopped,
    /// Holding the chain back longer would hold more than `limit` bytes of output.
    TooLong {
        /// The limit, in bytes.
        limit: usize,
    },
}

/// A chain of `pieces` pieces (of `kind`: PostgreSQL or Heroku) written piece by piece.
pub fn chain_not_joined(kind: &str, pieces: usize, why: ChainBreak) -> Problem {
    let why = match why {
        ChainBreak::Missing { expected, found } => {
            format!("piece {expected} is missing (piece {found} came instead)")
        }
        ChainBreak::Orphan { n } => {
            format!(
                "piece {n} continues no open chain (the pieces before it were not seen, or their chain had ended)"
            )
        }
        ChainBreak::Window { window } => {
            format!("no record from the same host, app and process came within {window} records")
        }
        ChainBreak::EndOfInput => "the input ended before its last piece".to_string(),
        ChainBreak::Quiet => "the input went quiet before its last piece".to_string(),
        ChainBreak::Stopped => "the run stopped before its last piece".to_string(),
        ChainBreak::TooLong { limit } => format!(
            "joining it would hold back more than {} MiB of output",
            limit >> 20
        ),
    };
    let written = if pieces == 1 {
        "its one piece is written as it came".to_string()
    } else {
        format!("its {pieces} pieces are written as they came")
    };
    p(
        Code::Rejoin,
        0,
        format!("{kind} message not rejoined: {why}; {written}"),
    )
}
