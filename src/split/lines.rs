//! Splitter for the line-based formats (README "Inputs"): `syslog` (one message per line) and
//! `cli` (`heroku logs` output, where a line without the `TIMESTAMP SOURCE[PROCESS]:` prefix
//! continues the previous message).
//!
//! Like the octet [`Framer`](super::octet::Framer) it is incremental and reports [`Event`]s; a
//! unit is an [`Event::Line`] spanning its line(s), terminator included. Over-long units are
//! rejected (`frame-too-large`) and skipped as they stream past, so memory stays bounded by
//! `--max-frame` whatever the input. [`clean_unit`] readies a `cli` unit for the parser.

use super::event::Event;
use super::resync::{excerpt_ready, next_unit, Looks, Next, State};
use super::End;
use crate::diag::messages::{self, LINE_QUOTE};
use crate::diag::Problem;
use crate::text::ansi::{self, ends_inside_escape, strip_ansi};
use memchr::memchr;
use std::borrow::Cow;

/// The splitter for `syslog` or `cli` input. One per input.
#[derive(Clone, Debug)]
pub struct LineSplitter {
    /// `heroku logs` text rather than syslog lines.
    cli: bool,
    /// `--max-frame`: the longest unit.
    max: usize,
    /// Between units or inside a rejected region.
    state: State,
    /// `cli`: the first line of the last message, kept across scans. Lines without a prefix
    /// that start a unit (they came after a live pipe's idle pause ended their message) become
    /// [`Event::Continuation`]s carrying it; before any message they are garbage.
    message_line: Option<Box<[u8]>>,
}

/// A `cli` prefix fits well within this many bytes; a line start that has not matched by then
/// does not.
const PREFIX_LOOK: usize = 512;

impl LineSplitter {
    /// A splitter for syslog lines up to `max_frame` bytes.
    pub fn syslog(max_frame: u64) -> LineSplitter {
        Self::new(false, max_frame)
    }

    /// A splitter for `heroku logs` messages up to `max_frame` bytes.
    pub fn cli(max_frame: u64) -> LineSplitter {
        Self::new(true, max_frame)
    }

    fn new(cli: bool, max_frame: u64) -> LineSplitter {
        LineSplitter {
            cli,
            max: usize::try_from(max_frame).unwrap_or(usize::MAX),
            state: State::Units,
            message_line: None,
        }
    }

    /// Scans `buf` as [`Framer::scan`](super::octet::Framer::scan) does: appends events and
    /// returns how many leading bytes are done with.
    pub fn scan(&mut self, buf: &[u8], end: End, out: &mut Vec<Event>) -> usize {
        let eof = end == End::Eof;
        let mut p = 0;
        let cli = self.cli;
        let starts_unit = move |b: &[u8], eof: bool| {
            if cli {
                cli_prefix(b, eof)
            } else {
                Looks::Yes
            }
        };
        // The last message that starts in this buffer, to keep its first line when done.
        let mut last_message = None;
        let consumed = loop {
            p = match next_unit(&mut self.state, buf, p, eof, out, &starts_unit) {
                Next::Unit(p) => p,
                Next::Done(p) => break p,
            };
            let unit = if self.cli {
                let after_message = last_message.is_some() || self.message_line.is_some();
                self.cli_unit(buf, p, end, after_message)
            } else {
                self.syslog_unit(buf, p, eof)
            };
            match unit {
                Unit::NeedMore => break p,
                Unit::Line(e) => {
                    out.push(Event::Line { start: p, end: e });
                    if self.cli {
                        last_message = Some(p);
                    }
                    p = e;
                }
                Unit::Continuation(e) => {
                    let message_line = match last_message {
                        Some(m) => line_of(&buf[m..]).into(),
                        None => self.message_line.clone().expect("a message came before"),
                    };
                    out.push(Event::Continuation {
                        start: p,
                        end: e,
                        message_line,
                    });
                    p = e;
                }
                Unit::Error(problem) => {
                    out.push(Event::Error { start: p, problem });
                    self.state = State::Skipping {
                        at_line_start: false,
                    };
                }
            }
        };
        if let Some(m) = last_message {
            self.message_line = Some(line_of(&buf[m..]).into());
        }
        consumed
    }

    fn too_large(&self, p: usize) -> Unit {
        Unit::Error(messages::line_too_long(p, self.max))
    }

    fn syslog_unit(&self, buf: &[u8], p: usize, eof: bool) -> Unit {
        match memchr(b'\n', &buf[p..]) {
            Some(i) if i < self.max => Unit::Line(p + i + 1),
            None if buf.len() - p <= self.max => {
                if eof {
                    Unit::Line(buf.len())
                } else {
                    Unit::NeedMore
                }
            }
            _ => self.too_large(p),
        }
    }

    /// A prefix line and its continuation lines; or, `after_message`, continuation lines
    /// whose message has been written already.
    fn cli_unit(&self, buf: &[u8], p: usize, end: End, after_message: bool) -> Unit {
        let eof = end == End::Eof;
        let mut continuation = false;
        match cli_prefix(&buf[p..], eof) {
            Looks::NeedMore => return Unit::NeedMore,
            // Lines that continue a message already written: a unit of their own.
            Looks::No if after_message => continuation = true,
            Looks::No if !excerpt_ready(&buf[p..], LINE_QUOTE, eof) => return Unit::NeedMore,
            Looks::No => return Unit::Error(messages::expected_cli_line(p, line_of(&buf[p..]))),
            Looks::Yes => {}
        }
        let mut q = p;
        let unit_end = loop {
            let Some(i) = memchr(b'\n', &buf[q..]) else {
                if buf.len() - p > self.max {
                    return self.too_large(p);
                }
                if eof {
                    break buf.len();
                }
                return Unit::NeedMore;
            };
            let next = q + i + 1;
            if next - p > self.max {
                return self.too_large(p);
            }
            if next == buf.len() {
                if end == End::More {
                    return Unit::NeedMore;
                }
                break next;
            }
            match cli_prefix(&buf[next..], eof) {
                Looks::Yes => break next,
                Looks::No => q = next,
                Looks::NeedMore => return Unit::NeedMore,
            }
        };
        let e = trim_blank_lines(buf, p, unit_end);
        if continuation {
            Unit::Continuation(e)
        } else {
            Unit::Line(e)
        }
    }
}

/// What starts at a position.
enum Unit {
    /// A unit ending here.
    Line(usize),
    /// Continuation lines that start a unit, ending here: see [`Event::Continuation`].
    Continuation(usize),
    /// More bytes are needed to tell.
    NeedMore,
    /// A rejected region starts here.
    Error(Problem),
}

fn line_of(b: &[u8]) -> &[u8] {
    &b[..memchr(b'\n', b).unwrap_or(b.len())]
}

/// Ends a unit before its trailing blank lines (they separate units, as in the other formats),
/// but never before the end of its first line.
fn trim_blank_lines(buf: &[u8], start: usize, end: usize) -> usize {
    let first_line_end = memchr(b'\n', &buf[start..end]).map_or(end, |i| start + i + 1);
    let mut e = end;
    while e > first_line_end {
        let line_start = buf[first_line_end..e - 1]
            .iter()
            .rposition(|&c| c == b'\n')
            .map_or(first_line_end, |i| first_line_end + i + 1);
        let line = &buf[line_start..e];
        if line == b"\n" || line == b"\r\n" {
            e = line_start;
        } else {
            break;
        }
    }
    e
}

/// Whether the line starting `b` begins with the `heroku logs` prefix
/// `YYYY-MM-DDT… SOURCE[PROCESS]:` (or `SOURCE:`), ANSI codes ignored.
pub fn cli_prefix(b: &[u8], eof: bool) -> Looks {
    let line_end = memchr(b'\n', b);
    let complete = eof || line_end.is_some() || b.len() >= PREFIX_LOOK;
    let line = &b[..line_end.unwrap_or(b.len()).min(PREFIX_LOOK)];
    if !complete && ends_inside_escape(line) {
        // What the cut escape sequence hides could still decide either way.
        return Looks::NeedMore;
    }
    match prefix_len(&strip_ansi(line), complete) {
        Prefix::Len(_) => Looks::Yes,
        Prefix::NeedMore if !complete => Looks::NeedMore,
        Prefix::NeedMore | Prefix::No => Looks::No,
    }
}

/// What [`prefix_len`] found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Prefix {
    /// A prefix this long (the space after the colon included).
    Len(usize),
    /// No prefix.
    No,
    /// The line ends while it could still match.
    NeedMore,
}

/// The length of the prefix `TIMESTAMP SP SOURCE[PROCESS]:` (and the space after it) that
/// starts `s`, a line without ANSI codes and without its line end. `complete`: `s` is the
/// whole line.
pub fn prefix_len(s: &[u8], complete: bool) -> Prefix {
    for (i, c) in b"dddd-dd-ddT".iter().enumerate() {
        let Some(&x) = s.get(i) else {
            return Prefix::NeedMore;
        };
        let ok = if *c == b'd' {
            x.is_ascii_digit()
        } else {
            x == *c
        };
        if !ok {
            return Prefix::No;
        }
    }
    // The rest of the timestamp, then one space.
    let Some(sp) = memchr(b' ', s) else {
        return Prefix::NeedMore;
    };
    let rest = &s[sp + 1..];
    // SOURCE: no space, `[` or `:`; at least one byte.
    let n = rest
        .iter()
        .take_while(|&&c| c != b' ' && c != b'[' && c != b':' && c != b'\r')
        .count();
    if n == 0 {
        return if rest.is_empty() {
            Prefix::NeedMore
        } else {
            Prefix::No
        };
    }
    let mut i = n;
    if rest.get(i) == Some(&b'[') {
        let Some(close) = rest[i..].iter().position(|&c| c == b']' || c == b' ') else {
            return Prefix::NeedMore;
        };
        if rest[i + close] != b']' || close == 1 {
            return Prefix::No;
        }
        i += close + 1;
    }
    let colon = sp + 1 + i;
    match rest.get(i) {
        None => Prefix::NeedMore,
        Some(b':') => match rest.get(i + 1) {
            // A line that ends right after the colon has an empty message; a line cut there
            // by the end of a read could go on with anything.
            None if !complete => Prefix::NeedMore,
            None | Some(b'\r') => Prefix::Len(colon + 1),
            Some(b' ') => Prefix::Len(colon + 2),
            Some(_) => Prefix::No,
        },
        Some(_) => Prefix::No,
    }
}

/// A `cli` unit as the parser wants it: every colour code (SGR) removed from the whole unit,
/// message and continuation lines included, and any other escape sequence inside the
/// `TIMESTAMP SOURCE[PROCESS]:` prefix (README: the Heroku CLI colours message bodies too);
/// `\r\n` line ends as `\n`. When that removes bytes, the second value maps each byte of the
/// result to its offset in `raw`, so columns still point into the capture.
pub fn clean_unit(raw: &[u8]) -> (Cow<'_, [u8]>, Vec<usize>) {
    // Most messages have neither: nothing to allocate.
    if memchr::memchr2(0x1b, b'\r', raw).is_none() {
        return (Cow::Borrowed(raw), Vec::new());
    }
    let first = line_of(raw);
    let visible = match prefix_len(&strip_ansi(first), true) {
        Prefix::Len(n) => n,
        Prefix::No | Prefix::NeedMore => 0,
    };
    let mut drop = vec![false; raw.len()];
    let mut dropped = false;
    let (mut i, mut seen) = (0, 0);
    while let Some(k) = memchr(0x1b, &raw[i..]) {
        seen += k;
        i += k;
        let n = ansi::escape_len(raw, i);
        if seen < visible || ansi::is_sgr(&raw[i..i + n]) {
            drop[i..i + n].iter_mut().for_each(|d| *d = true);
            dropped = true;
        }
        i += n;
    }
    for j in memchr::memchr_iter(b'\r', raw) {
        if raw.get(j + 1) == Some(&b'\n') {
            drop[j] = true;
            dropped = true;
        }
    }
    if !dropped {
        return (Cow::Borrowed(raw), Vec::new());
    }
    let (mut out, mut map) = (
        Vec::with_capacity(raw.len()),
        Vec::with_capacity(raw.len() + 1),
    );
    for (j, &c) in raw.iter().enumerate() {
        if !drop[j] {
            out.push(c);
            map.push(j);
        }
    }
    map.push(raw.len());
    (Cow::Owned(out), map)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scan_all(s: &mut LineSplitter, input: &[u8]) -> Vec<Event> {
        let mut out = Vec::new();
        assert_eq!(s.scan(input, End::Eof, &mut out), input.len());
        out
    }

    fn lines(events: &[Event], input: &[u8]) -> Vec<String> {
        events
            .iter()
            .map(|e| match *e {
                Event::Line { start, end } => {
                    String::from_utf8_lossy(&input[start..end]).into_owned()
                }
                Event::Error { ref problem, .. } => format!("error {}", problem.code.as_str()),
                Event::Skip { start, end } => {
                    format!("skip {:?}", String::from_utf8_lossy(&input[start..end]))
                }
                _ => unreachable!(),
            })
            .collect()
    }

    #[test]
    fn a_heroku_logs_prefix_is_timestamp_source_process_colon() {
        let yes: [&[u8]; 5] = [
            b"2026-01-01T00:00:00+00:00 app[web.1]: hi\n",
            b"2026-01-01T00:00:00+00:00 heroku[router]: at=info\n",
            b"2026-01-01T00:00:00Z app:\n",
            b"2026-13-01Tjunk app: x\n", // a prefix; the parser rejects its timestamp
            b"\x1b[2m2026-01-01T00:00:00Z\x1b[0m \x1b[32mapp[api]:\x1b[0m x\n",
        ];
        for b in yes {
            assert_eq!(cli_prefix(b, false), Looks::Yes, "{b:?}");
        }
        let no: [&[u8]; 6] = [
            b"    at foo (bar.js:1:2)\n",
            b"2026-01-01T00:00:00Z app[web.1] x\n",
            b"2026-01-01T00:00:00Z app[]: x\n",
            b"2026-01-01T00:00:00Z app:x\n",
            b"2026-01-01 00:00:00 app: x\n",
            b"\n",
        ];
        for b in no {
            assert_eq!(cli_prefix(b, false), Looks::No, "{b:?}");
        }
        assert_eq!(
            cli_prefix(b"2026-01-01T00:00:00Z app[w", false),
            Looks::NeedMore
        );
        // Found by fuzzing: a colour code cut by the end of a read hid the byte after `:`.
        let line = b"2026-01-01T00:00:00Z app[web.1]:\x1b[0\x00 x\n";
        assert_eq!(cli_prefix(line, false), Looks::No);
        assert_eq!(cli_prefix(&line[..line.len() - 4], false), Looks::NeedMore);
        // And a read that ends right after the colon.
        let line = b"2026-01-01T00:00:00Z 6-03-01T12:00 x\n";
        assert_eq!(cli_prefix(line, false), Looks::No);
        assert_eq!(cli_prefix(&line[..32], false), Looks::NeedMore);
        assert_eq!(cli_prefix(b"2026-01-01T00:00:00Z app:", true), Looks::Yes);
        assert_eq!(cli_prefix(b"2026-01-01T00:00:00Z app[w", true), Looks::No);
    }

    #[test]
    fn cli_continuation_lines_join_the_previous_message() {
        let input = b"2026-01-01T00:00:00Z app[web.1]: Error: boom\n    at a (x.js:1)\n\n    at b (y.js:2)\n2026-01-01T00:00:01Z app[web.1]: next\n\n";
        let ev = scan_all(&mut LineSplitter::cli(1 << 20), input);
        assert_eq!(
            lines(&ev, input),
            [
                "2026-01-01T00:00:00Z app[web.1]: Error: boom\n    at a (x.js:1)\n\n    at b (y.js:2)\n",
                "2026-01-01T00:00:01Z app[web.1]: next\n",
            ]
        );
    }

    #[test]
    fn cli_lines_before_the_first_prefix_are_garbage() {
        let input = b"Welcome!\nmore\n2026-01-01T00:00:00Z app: x\n";
        let ev = scan_all(&mut LineSplitter::cli(1 << 20), input);
        assert_eq!(
            lines(&ev, input),
            [
                "error garbage",
                "skip \"Welcome!\\nmore\\n\"",
                "2026-01-01T00:00:00Z app: x\n"
            ]
        );
    }

    #[test]
    fn cli_message_waits_for_the_next_prefix_unless_idle() {
        let input = b"2026-01-01T00:00:00Z app: one\n";
        let mut s = LineSplitter::cli(1 << 20);
        let mut out = Vec::new();
        assert_eq!(s.scan(input, End::More, &mut out), 0);
        assert!(out.is_empty());
        assert_eq!(s.scan(input, End::Idle, &mut out), input.len());
        assert_eq!(lines(&out, input), ["2026-01-01T00:00:00Z app: one\n"]);
        // Idle never cuts a line in half.
        let mut out = Vec::new();
        let partial = b"2026-01-01T00:00:00Z app: on";
        assert_eq!(s.scan(partial, End::Idle, &mut out), 0);
    }

    #[test]
    fn syslog_lines_are_units_up_to_max_frame() {
        let input = b"<1>1 a\n\r\n<2>1 b\nxxxxxxxxxxxxxxxxxxxx\n<3>1 c";
        let ev = scan_all(&mut LineSplitter::syslog(10), input);
        assert_eq!(
            lines(&ev, input),
            [
                "<1>1 a\n",
                "<2>1 b\n",
                "error frame-too-large",
                "skip \"xxxxxxxxxxxxxxxxxxxx\\n\"",
                "<3>1 c"
            ]
        );
    }

    #[test]
    fn every_split_point_gives_the_same_units() {
        let input: &[u8] = b"junk\n2026-01-01T00:00:00Z app[web.1]: a\n  cont\n2026-01-01T00:00:01Z heroku[router]: b\r\n\r\n2026-01-01T00:00:02Z app: c";
        for cli in [true, false] {
            let new = || {
                if cli {
                    LineSplitter::cli(30)
                } else {
                    LineSplitter::syslog(30)
                }
            };
            let whole = scan_all(&mut new(), input);
            for split in 0..=input.len() {
                let mut s = new();
                let mut out = Vec::new();
                let n = s.scan(&input[..split], End::More, &mut out);
                let mut rest = Vec::new();
                let m = s.scan(&input[n..], End::Eof, &mut rest);
                assert_eq!(n + m, input.len());
                out.extend(rest.into_iter().map(|e| e.shifted(n)));
                assert_eq!(
                    crate::split::event::merge_skips(out),
                    whole,
                    "cli {cli} split {split}"
                );
            }
        }
    }
}
