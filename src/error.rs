//! Error codes and diagnostics.
//!
//! The codes are a public contract (SPEC §3): CI jobs match on them, so their spelling never
//! changes. Everything that goes wrong with the *data* is a [`Diagnostic`]; only failures of the
//! machinery (I/O, usage) are Rust errors.

use std::fmt;

/// A stable error code. `as_str` is the spelling users see and scripts match on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Code {
    FrameLength,
    FrameTooLarge,
    FrameTruncated,
    FrameOverrun,
    Garbage,
    Priority,
    Version,
    Timestamp,
    Hostname,
    AppName,
    Procid,
    Msgid,
    MissingField,
    Utf8,
    LengthMismatch,
    MsgCount,
    Auth,
    Format,
    Io,
}

impl Code {
    /// Every code, in the order reports list them.
    pub const ALL: [Code; 19] = [
        Code::FrameLength,
        Code::FrameTooLarge,
        Code::FrameTruncated,
        Code::FrameOverrun,
        Code::Garbage,
        Code::Priority,
        Code::Version,
        Code::Timestamp,
        Code::Hostname,
        Code::AppName,
        Code::Procid,
        Code::Msgid,
        Code::MissingField,
        Code::Utf8,
        Code::LengthMismatch,
        Code::MsgCount,
        Code::Auth,
        Code::Format,
        Code::Io,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Code::FrameLength => "frame-length",
            Code::FrameTooLarge => "frame-too-large",
            Code::FrameTruncated => "frame-truncated",
            Code::FrameOverrun => "frame-overrun",
            Code::Garbage => "garbage",
            Code::Priority => "priority",
            Code::Version => "version",
            Code::Timestamp => "timestamp",
            Code::Hostname => "hostname",
            Code::AppName => "app-name",
            Code::Procid => "procid",
            Code::Msgid => "msgid",
            Code::MissingField => "missing-field",
            Code::Utf8 => "utf8",
            Code::LengthMismatch => "length-mismatch",
            Code::MsgCount => "msg-count",
            Code::Auth => "auth",
            Code::Format => "format",
            Code::Io => "io",
        }
    }

    /// Warnings keep the record; `--strict` promotes them to errors.
    pub fn is_warning(self) -> bool {
        matches!(self, Code::Utf8 | Code::LengthMismatch)
    }

    pub fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Severity as reported; a warning under `--strict` is reported as an error.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Severity {
    Error,
    Warning,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }
}

/// A problem found in the data, located in the input it came from.
///
/// `line` and `column` are 1-based; `column` counts bytes, like compilers do, because the bytes
/// may not be valid UTF-8. `offset` is the 0-based byte offset in the (decompressed) input and
/// `frame` the 0-based index of the frame (or rejected region) within that input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    pub input: usize,
    pub code: Code,
    pub severity: Severity,
    pub line: u64,
    pub column: u64,
    pub offset: u64,
    pub frame: u64,
    pub message: String,
}

/// An I/O error as users should read it: the OS message without Rust's "(os error N)".
pub fn io_message(e: &std::io::Error) -> String {
    let s = e.to_string();
    match s.find(" (os error") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}

/// Quotes bytes for a message: printable ASCII as is, everything else escaped, cut to `max`
/// bytes of input so a 1 MiB garbage run does not become a 4 MiB error line.
///
/// Heroku puts the drain token (`d.` and a UUID) in HOSTNAME, and it is a secret: a quote
/// never shows one (`d.[redacted]`), even cut short.
pub fn quote(bytes: &[u8], max: usize) -> String {
    let cut = bytes.len() > max;
    let shown = if cut { &bytes[..max] } else { bytes };
    let mut s = String::with_capacity(shown.len() + 8);
    s.push('"');
    let mut i = 0;
    while i < shown.len() {
        let token = token_len(shown, i);
        if token > 0 {
            s.push_str(if shown[i] == b'd' && shown.get(i + 1) == Some(&b'.') {
                "d.[redacted]"
            } else {
                "[redacted]"
            });
            i += token;
            continue;
        }
        match shown[i] {
            b'"' => s.push_str("\\\""),
            b'\\' => s.push_str("\\\\"),
            b'\n' => s.push_str("\\n"),
            b'\r' => s.push_str("\\r"),
            b'\t' => s.push_str("\\t"),
            b @ 0x20..=0x7e => s.push(b as char),
            b => s.push_str(&format!("\\x{b:02x}")),
        }
        i += 1;
    }
    s.push('"');
    if cut {
        s.push('…');
    }
    s
}

/// The length of a drain token starting at `i`, or 0: `d.` and at least 8 of a UUID's
/// characters, or a run of a UUID's characters (hex digits and dashes, at least 13 with a dash
/// and 12 digits) that a quote may have cut from its `d.`. Not inside a longer word.
fn token_len(b: &[u8], i: usize) -> usize {
    if i > 0 && (b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'-') {
        return 0;
    }
    let uuid_run = |from: usize| {
        b[from..]
            .iter()
            .take(36)
            .take_while(|c| c.is_ascii_hexdigit() || **c == b'-')
            .count()
    };
    if b[i..].starts_with(b"d.") {
        let run = uuid_run(i + 2);
        return if run >= 8 { 2 + run } else { 0 };
    }
    let run = uuid_run(i);
    let digits = b[i..i + run]
        .iter()
        .filter(|c| c.is_ascii_hexdigit())
        .count();
    if run >= 13 && run > digits && digits >= 12 {
        run
    } else {
        0
    }
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
    fn quote_escapes_and_cuts() {
        assert_eq!(quote(b"a\"b\\\n\x01\xff", 100), r#""a\"b\\\n\x01\xff""#);
        assert_eq!(quote(b"abcdef", 3), "\"abc\"…");
        let host = b"x d.7f3e2a10-1c4b-4d8e-9f60-5a2b3c4d5e6f\x01 y";
        assert_eq!(quote(host, 100), r#""x d.[redacted]\x01 y""#);
        assert_eq!(quote(host, 14), "\"x d.[redacted]\"…");
        assert_eq!(quote(b"load.balancer d.1", 100), "\"load.balancer d.1\"");
        // A quote that starts inside a token still hides it; dates and short ids stay.
        assert_eq!(
            quote(b"5ec4e7a0-1234-4abc-8def-0123 x", 100),
            "\"[redacted] x\""
        );
        assert_eq!(
            quote(b"2026-03-01T00:00:00Z id-1234 cafe-babe", 100),
            "\"2026-03-01T00:00:00Z id-1234 cafe-babe\""
        );
    }
}
