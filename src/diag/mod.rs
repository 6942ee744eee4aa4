//! Problems found in the data: their codes, their one shape, and how they are shown.
//!
//! Everything that goes wrong with the *data* is a [`Problem`]: a stable [`Code`], the byte
//! offset where it shows, and a message. Once the pipeline knows where that offset is in its
//! input (line, column, frame), it becomes a [`Diagnostic`]. Failures of the machinery (I/O,
//! usage) are Rust errors, never problems.
//!
//! The codes are a public contract (README, "Error codes"): CI jobs match on their spelling, so
//! it never changes. The table below is their one definition; a test checks README's table
//! against it. Every message text is written in [`messages`]; [`quote`] shows input bytes in
//! them without ever showing a drain token, and [`redact`] takes the tokens out of rejected
//! bytes.

pub mod messages;
pub mod quote;
pub mod redact;

use std::fmt;

/// How a problem is reported. A warning keeps its record; `--strict` reports warnings as
/// errors (and rejects their frames).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Severity {
    /// The frame (or region, or input) is rejected.
    Error,
    /// The record is kept.
    Warning,
}

impl Severity {
    /// `error` or `warning`, as reports spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }
}

/// Declares [`Code`] from one table: variant, spelling, severity, description.
macro_rules! codes {
    ($( $variant:ident = $spelling:literal, $severity:ident, $description:literal; )*) => {
        /// A stable error code. [`Code::as_str`] is the spelling users see and scripts match on.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Code {
            $(
                #[doc = $description]
                $variant,
            )*
        }

        impl Code {
            /// Every code, in the order reports list them.
            pub const ALL: [Code; [$($spelling),*].len()] = [$(Code::$variant),*];

            /// The spelling: `frame-length`, `utf8`, ….
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Code::$variant => $spelling,)*
                }
            }

            /// The severity a problem with this code is reported with, before `--strict`.
            pub fn severity(self) -> Severity {
                match self {
                    $(Code::$variant => Severity::$severity,)*
                }
            }

            /// What the code means, as README's table says it.
            pub fn description(self) -> &'static str {
                match self {
                    $(Code::$variant => $description,)*
                }
            }
        }
    };
}

codes! {
    FrameLength = "frame-length", Error,
        "a digit, but not `LEN SP`: leading zero, a non-digit before the space, no space";
    FrameTooLarge = "frame-too-large", Error,
        "LEN has more than 20 digits or exceeds `--max-frame`";
    FrameTruncated = "frame-truncated", Error,
        "the input ends inside the frame";
    FrameOverrun = "frame-overrun", Error,
        "the frame's MSG does not end in `\\n` and is not followed by a newline, end of input or a plausible frame: LEN is wrong";
    Garbage = "garbage", Error,
        "where a frame should start, the byte is not an ASCII digit";
    Priority = "priority", Error,
        "PRI missing `<` or `>`, not 1–3 digits, or over 191";
    Version = "version", Error,
        "VERSION not 1–3 digits without a leading zero";
    Timestamp = "timestamp", Error,
        "not an RFC 3339 timestamp as above (the message says which part is wrong)";
    Hostname = "hostname", Error,
        "HOSTNAME empty, longer than 255 bytes, or not printable US-ASCII";
    AppName = "app-name", Error,
        "APP-NAME empty, longer than 48 bytes, or not printable US-ASCII";
    Procid = "procid", Error,
        "PROCID empty, longer than 128 bytes, or not printable US-ASCII";
    Msgid = "msgid", Error,
        "MSGID empty (two spaces in a row), longer than 32 bytes, or not printable US-ASCII";
    MissingField = "missing-field", Error,
        "the message ends before MSGID (the message names the first missing field)";
    Utf8 = "utf8", Warning,
        "MSG is not valid UTF-8; the bytes are replaced with U+FFFD";
    LengthMismatch = "length-mismatch", Warning,
        "`--lenient-length` recovered a frame whose LEN was wrong";
    Rejoin = "rejoin", Warning,
        "`--rejoin`: the pieces of a split message do not all arrive (a piece missing, none within 100 records, the input ends or goes quiet); they are written as they came";
    MsgCount = "msg-count", Error,
        "HTTP captures: `Logplex-Msg-Count` differs from the frames found in the body (the records are kept)";
    Auth = "auth", Error,
        "HTTP captures with `--drain-token`: the request's `Logplex-Drain-Token` differs or is missing; the whole request is rejected";
    Format = "format", Error,
        "an input that is empty or not a capture";
    Io = "io", Error,
        "an input that cannot be read (exit 2)";
}

impl Code {
    /// The position of this code in [`Code::ALL`], for counting by code.
    pub fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A problem in the data: what (`code`), where (`at`, a byte offset into whatever the finder
/// was looking at: a frame, a buffer, an input), and why (`message`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// The stable code.
    pub code: Code,
    /// The offending byte's offset; the caller knows what it is relative to.
    pub at: usize,
    /// The message, from [`messages`].
    pub message: String,
}

impl Problem {
    /// A problem with `code` at offset `at`.
    pub fn new(code: Code, at: usize, message: impl Into<String>) -> Problem {
        Problem {
            code,
            at,
            message: message.into(),
        }
    }

    /// The same problem at an offset `map` computes (into a larger buffer, say).
    pub fn moved(self, map: impl FnOnce(usize) -> usize) -> Problem {
        Problem {
            at: map(self.at),
            ..self
        }
    }
}

/// A problem located in the input it came from, with the severity it is reported with.
///
/// `line` and `column` are 1-based; `column` counts bytes, like compilers do, because the bytes
/// may not be valid UTF-8. `line == 0` means the problem concerns the whole input (it could not
/// be read, or is not a capture). `offset` is the 0-based byte offset in the (decompressed)
/// input and `frame` the 0-based index of the frame (or rejected region) within that input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    /// The input's index in the run.
    pub input: usize,
    /// The stable code.
    pub code: Code,
    /// As reported: a warning under `--strict` is an error.
    pub severity: Severity,
    /// 1-based line; 0 for the whole input.
    pub line: u64,
    /// 1-based byte column.
    pub column: u64,
    /// 0-based byte offset in the input.
    pub offset: u64,
    /// 0-based index of the frame or rejected region in the input.
    pub frame: u64,
    /// The message.
    pub message: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_and_indexed_in_order() {
        for (i, c) in Code::ALL.iter().enumerate() {
            assert_eq!(c.index(), i);
        }
        let mut names: Vec<_> = Code::ALL.iter().map(|c| c.as_str()).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), Code::ALL.len());
    }

    #[test]
    fn only_utf8_length_mismatch_and_rejoin_are_warnings() {
        let warnings: Vec<_> = Code::ALL
            .iter()
            .filter(|c| c.severity() == Severity::Warning)
            .map(|c| c.as_str())
            .collect();
        assert_eq!(warnings, ["utf8", "length-mismatch", "rejoin"]);
    }
}
