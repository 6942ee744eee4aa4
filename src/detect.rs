//! Which kind of capture an input is (SPEC §1): the first line, within the first 64 KiB and
//! with ANSI colour codes ignored, that looks like one of the four formats decides.
//!
//! Detection only looks at line starts, so it can decide as soon as the first recognisable line
//! has arrived: a live `heroku logs --tail` pipe is recognised from its first line, not after
//! 64 KiB.

use crate::ansi::{ends_inside_escape, strip_ansi};
use memchr::memchr;

/// How far into an input detection looks.
pub const WINDOW: usize = 64 * 1024;

/// The input formats of SPEC §1.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Format {
    /// RFC 6587 octet-counted frames.
    Octet,
    /// One RFC 5424 message per line.
    Syslog,
    /// Saved drain POSTs.
    Http,
    /// `heroku logs` output.
    Cli,
}

impl Format {
    pub fn name(self) -> &'static str {
        match self {
            Format::Octet => "octet",
            Format::Syslog => "syslog",
            Format::Http => "http",
            Format::Cli => "cli",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Detection {
    /// The format, and the offset of the line that showed it (bytes before it are garbage).
    Found(Format, usize),
    /// Not decided yet: more bytes are needed.
    NeedMore,
    /// No line within the window (or the whole input, if shorter) is recognisable.
    Unknown,
}

/// Looks at the line starts of `buf` (the start of an input). With `eof`, `buf` is all there is.
pub fn detect(buf: &[u8], eof: bool) -> Detection {
    let complete = eof || buf.len() >= WINDOW;
    let window = &buf[..buf.len().min(WINDOW)];
    let mut p = 0;
    while p < window.len() {
        let line_end = memchr(b'\n', &window[p..]).map(|i| p + i);
        let line = &window[p..line_end.unwrap_or(window.len())];
        match classify(line, line_end.is_some() || complete) {
            Some(Some(f)) => return Detection::Found(f, p),
            Some(None) => {}
            None => return Detection::NeedMore,
        }
        match line_end {
            Some(e) => p = e + 1,
            None => break,
        }
    }
    if complete {
        Detection::Unknown
    } else {
        Detection::NeedMore
    }
}

/// How many bytes of a line start classification ever needs to see (after ANSI codes are
/// removed, a few more are plenty).
const LOOK: usize = 256;

/// The format a line start shows: `Some(None)` none, `None` undecidable until the line has
/// more bytes (only when `complete` is false).
fn classify(line: &[u8], complete: bool) -> Option<Option<Format>> {
    let cut = line.len() > LOOK;
    let complete = complete || cut;
    let line = &line[..line.len().min(LOOK)];
    if !complete && ends_inside_escape(line) {
        return None;
    }
    let s = strip_ansi(line);
    let s: &[u8] = &s;
    // Out of bytes while the line could still match.
    let more = if complete { Some(None) } else { None };
    match s.first() {
        None => more,
        Some(b'<') => Some(Some(Format::Syslog)),
        Some(b'1'..=b'9') => {
            let digits = s.iter().take_while(|c| c.is_ascii_digit()).count();
            // `YYYY-MM-DDT` starts with digits too.
            if digits == 4 && s.get(4) == Some(&b'-') {
                return prefix_match(s, b"dddd-dd-ddT", complete, Format::Cli);
            }
            match (s.get(digits), s.get(digits + 1)) {
                (Some(b' '), Some(b'<')) => Some(Some(Format::Octet)),
                (None, _) | (Some(b' '), None) => more,
                _ => Some(None),
            }
        }
        Some(b'0') => prefix_match(s, b"dddd-dd-ddT", complete, Format::Cli),
        Some(b'P') => prefix_match(s, b"POST ", complete, Format::Http),
        Some(_) => Some(None),
    }
}

/// Whether `s` starts with `pattern`, where `d` stands for any ASCII digit.
fn prefix_match(s: &[u8], pattern: &[u8], complete: bool, f: Format) -> Option<Option<Format>> {
    for (i, &want) in pattern.iter().enumerate() {
        let Some(&c) = s.get(i) else {
            return if complete { Some(None) } else { None };
        };
        let ok = if want == b'd' {
            c.is_ascii_digit()
        } else {
            c == want
        };
        if !ok {
            return Some(None);
        }
    }
    Some(Some(f))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_format_by_its_first_line() {
        let cases: [(&[u8], Format); 5] = [
            (b"83 <40>1 2026-01-01T00:00:00Z h a p - x\n", Format::Octet),
            (b"<40>1 2026-01-01T00:00:00Z h a p - x\n", Format::Syslog),
            (b"POST /logs HTTP/1.1\r\nHost: x\r\n\r\n", Format::Http),
            (b"2026-01-01T00:00:00+00:00 app[web.1]: hi\n", Format::Cli),
            (
                b"\x1b[2m2026-01-01T00:00:00+00:00\x1b[0m \x1b[36mapp[web.1]:\x1b[0m hi\n",
                Format::Cli,
            ),
        ];
        for (input, want) in cases {
            assert_eq!(detect(input, true), Detection::Found(want, 0), "{input:?}");
        }
    }

    #[test]
    fn bytes_before_the_first_recognisable_line_are_skipped() {
        let input = b"junk\n\nmore junk\n2026-01-01T00:00:00Z app: x\n";
        assert_eq!(detect(input, true), Detection::Found(Format::Cli, 16));
        assert_eq!(detect(b"hello\nworld\n", true), Detection::Unknown);
        assert_eq!(detect(b"", true), Detection::Unknown);
        // "2026 <" is neither a frame start nor a cli timestamp.
        assert_eq!(detect(b"2026 x\n", true), Detection::Unknown);
    }

    #[test]
    fn waits_only_while_a_line_could_still_match() {
        assert_eq!(detect(b"12", false), Detection::NeedMore);
        assert_eq!(detect(b"12 ", false), Detection::NeedMore);
        assert_eq!(detect(b"12 <", false), Detection::Found(Format::Octet, 0));
        assert_eq!(detect(b"PO", false), Detection::NeedMore);
        assert_eq!(detect(b"2026-01", false), Detection::NeedMore);
        assert_eq!(detect(b"junk", false), Detection::NeedMore);
        assert_eq!(detect(b"junk", true), Detection::Unknown);
        // A full window without a recognisable line is decided.
        let big = vec![b'x'; WINDOW + 10];
        assert_eq!(detect(&big, false), Detection::Unknown);
    }
}
