//! Which kind of capture an input is (README "Inputs"): the first line, within the first 64 KiB
//! and with ANSI colour codes ignored, that looks like one of the four formats decides. A UTF-8
//! byte-order mark at the very start is passed over first ([`bom_len`]).
//!
//! Detection only looks at line starts, so it can decide as soon as the first recognisable line
//! has arrived: a live `heroku logs --tail` pipe is recognised from its first line, not after
//! 64 KiB.

use crate::text::ansi::{ends_inside_escape, strip_ansi};
use memchr::memchr;

/// How far into an input detection looks.
pub const WINDOW: usize = 64 * 1024;

/// The input formats (README "Inputs").
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum InputFormat {
    /// RFC 6587 octet-counted frames.
    Octet,
    /// One RFC 5424 message per line.
    Syslog,
    /// Saved drain POSTs.
    Http,
    /// `heroku logs` output.
    Cli,
}

impl InputFormat {
    /// The name `--from` takes.
    pub fn name(self) -> &'static str {
        match self {
            InputFormat::Octet => "octet",
            InputFormat::Syslog => "syslog",
            InputFormat::Http => "http",
            InputFormat::Cli => "cli",
        }
    }
}

/// What [`detect`] decided.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Detection {
    /// The format, and the offset of the line that showed it (bytes before it are garbage).
    Found(InputFormat, usize),
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
            Line::Shows(f) => return Detection::Found(f, p),
            Line::Nothing => {}
            Line::NeedMore => return Detection::NeedMore,
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

/// What one line start shows.
enum Line {
    /// The line starts this format.
    Shows(InputFormat),
    /// The line starts no format.
    Nothing,
    /// Too few bytes of the line have arrived to tell.
    NeedMore,
}

/// The format a line start shows (`complete`: the line has ended, or input has).
fn classify(line: &[u8], complete: bool) -> Line {
    let cut = line.len() > LOOK;
    let complete = complete || cut;
    let line = &line[..line.len().min(LOOK)];
    if !complete && ends_inside_escape(line) {
        return Line::NeedMore;
    }
    let s = strip_ansi(line);
    let s: &[u8] = &s;
    // Out of bytes while the line could still match.
    let more = if complete {
        Line::Nothing
    } else {
        Line::NeedMore
    };
    match s.first() {
        None => more,
        Some(b'<') => Line::Shows(InputFormat::Syslog),
        Some(b'1'..=b'9') => {
            let digits = s.iter().take_while(|c| c.is_ascii_digit()).count();
            // `YYYY-MM-DDT` starts with digits too.
            if digits == 4 && s.get(4) == Some(&b'-') {
                return prefix_match(s, b"dddd-dd-ddT", complete, InputFormat::Cli);
            }
            match (s.get(digits), s.get(digits + 1)) {
                (Some(b' '), Some(b'<')) => Line::Shows(InputFormat::Octet),
                (None, _) | (Some(b' '), None) => more,
                _ => Line::Nothing,
            }
        }
        Some(b'0') => prefix_match(s, b"dddd-dd-ddT", complete, InputFormat::Cli),
        Some(b'P') => prefix_match(s, b"POST ", complete, InputFormat::Http),
        Some(_) => Line::Nothing,
    }
}

/// Whether `s` starts with `pattern`, where `d` stands for any ASCII digit.
fn prefix_match(s: &[u8], pattern: &[u8], complete: bool, f: InputFormat) -> Line {
    for (i, &want) in pattern.iter().enumerate() {
        let Some(&c) = s.get(i) else {
            return if complete {
                Line::Nothing
            } else {
                Line::NeedMore
            };
        };
        let ok = if want == b'd' {
            c.is_ascii_digit()
        } else {
            c == want
        };
        if !ok {
            return Line::Nothing;
        }
    }
    Line::Shows(f)
}

/// A UTF-8 byte-order mark.
pub const BOM: &[u8] = b"\xEF\xBB\xBF";

/// How many bytes at the very start of an input are a byte-order mark (3 or 0), to be passed
/// over before detection; `None` while too few bytes have arrived to tell.
pub fn bom_len(start: &[u8], eof: bool) -> Option<usize> {
    if start.starts_with(BOM) {
        Some(BOM.len())
    } else if start.len() < BOM.len() && !eof && BOM.starts_with(start) {
        None
    } else {
        Some(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_format_by_its_first_line() {
        let cases: [(&[u8], InputFormat); 5] = [
            (
                b"83 <40>1 2026-01-01T00:00:00Z h a p - x\n",
                InputFormat::Octet,
            ),
            (
                b"<40>1 2026-01-01T00:00:00Z h a p - x\n",
                InputFormat::Syslog,
            ),
            (b"POST /logs HTTP/1.1\r\nHost: x\r\n\r\n", InputFormat::Http),
            (
                b"2026-01-01T00:00:00+00:00 app[web.1]: hi\n",
                InputFormat::Cli,
            ),
            (
                b"\x1b[2m2026-01-01T00:00:00+00:00\x1b[0m \x1b[36mapp[web.1]:\x1b[0m hi\n",
                InputFormat::Cli,
            ),
        ];
        for (input, want) in cases {
            assert_eq!(detect(input, true), Detection::Found(want, 0), "{input:?}");
        }
    }

    #[test]
    fn bytes_before_the_first_recognisable_line_are_skipped() {
        let input = b"junk\n\nmore junk\n2026-01-01T00:00:00Z app: x\n";
        assert_eq!(detect(input, true), Detection::Found(InputFormat::Cli, 16));
        assert_eq!(detect(b"hello\nworld\n", true), Detection::Unknown);
        assert_eq!(detect(b"", true), Detection::Unknown);
        // "2026 <" is neither a frame start nor a cli timestamp.
        assert_eq!(detect(b"2026 x\n", true), Detection::Unknown);
    }

    #[test]
    fn a_byte_order_mark_is_told_from_its_first_bytes() {
        assert_eq!(bom_len(b"\xEF\xBB\xBF<1>", false), Some(3));
        assert_eq!(bom_len(b"\xEF\xBB", false), None);
        assert_eq!(bom_len(b"\xEF\xBB", true), Some(0));
        assert_eq!(bom_len(b"\xEFx", false), Some(0));
        assert_eq!(bom_len(b"", false), None);
    }

    #[test]
    fn waits_only_while_a_line_could_still_match() {
        assert_eq!(detect(b"12", false), Detection::NeedMore);
        assert_eq!(detect(b"12 ", false), Detection::NeedMore);
        assert_eq!(
            detect(b"12 <", false),
            Detection::Found(InputFormat::Octet, 0)
        );
        assert_eq!(detect(b"PO", false), Detection::NeedMore);
        assert_eq!(detect(b"2026-01", false), Detection::NeedMore);
        assert_eq!(detect(b"junk", false), Detection::NeedMore);
        assert_eq!(detect(b"junk", true), Detection::Unknown);
        // A full window without a recognisable line is decided.
        let big = vec![b'x'; WINDOW + 10];
        assert_eq!(detect(&big, false), Detection::Unknown);
    }
}
