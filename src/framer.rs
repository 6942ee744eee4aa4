//! RFC 6587 octet-counting framer (SPEC §1 "Octet framing").
//!
//! The framer is incremental in the style of `httparse`: [`Framer::scan`] looks at whatever bytes
//! the caller has, reports the frames and rejected regions it can decide, and returns how many
//! bytes it consumed. Undecided bytes (a frame whose end has not arrived yet, a LEN still being
//! read, a line start whose plausibility needs a few more bytes) are left for the caller to hand
//! back together with more input. The caller owns the buffer, so records can borrow from it and
//! a batch of frames can go to another thread with its bytes.
//!
//! Memory stays bounded: a frame is only waited for when its LEN is within `max_frame`, and a
//! rejected region is consumed (and reported in pieces) as it streams past, however long it is.

use crate::error::{quote, Code};
use memchr::memchr;

/// Longest LEN we read before calling it `frame-too-large` (u64 holds any 19-digit number;
/// SPEC draws the line at 20 digits).
const MAX_LEN_DIGITS: usize = 20;

/// Something the framer decided about a span of the buffer it was given. Offsets index that
/// buffer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// A frame: `LEN SP MSG` spans `start..end`, MSG is `body..end`.
    Frame {
        start: usize,
        body: usize,
        end: usize,
        /// LEN as written. In lenient mode it can differ from `end - body`.
        len: u64,
    },
    /// A framing error. The rejected region starts at `start`; its bytes follow as `Skip` events
    /// (the first possibly in a later scan, when the region crosses a buffer boundary).
    /// `at` is the offending byte, for the column.
    Error {
        start: usize,
        at: usize,
        code: Code,
        message: String,
    },
    /// Bytes of the current rejected region.
    Skip { start: usize, end: usize },
    /// A unit of a line-based format (`syslog`, `cli`): `start..end`, terminator included.
    Line { start: usize, end: usize },
    /// `heroku logs` continuation lines (`start..end`) that arrived after their message was
    /// already written (a live pipe went quiet in between): a record of their own, with the
    /// timestamp, source and process of `message_line`, the first line of that message.
    Continuation {
        start: usize,
        end: usize,
        message_line: Box<[u8]>,
    },
    /// A complete saved HTTP request (`http` input).
    Request(Box<crate::http::Request>),
}

impl Event {
    /// The same event with its offsets moved by `base`: for events of a scan that began
    /// `base` bytes into the buffer.
    pub fn shifted(self, base: usize) -> Event {
        match self {
            Event::Frame {
                start,
                body,
                end,
                len,
            } => Event::Frame {
                start: start + base,
                body: body + base,
                end: end + base,
                len,
            },
            Event::Error {
                start,
                at,
                code,
                message,
            } => Event::Error {
                start: start + base,
                at: at + base,
                code,
                message,
            },
            Event::Skip { start, end } => Event::Skip {
                start: start + base,
                end: end + base,
            },
            Event::Line { start, end } => Event::Line {
                start: start + base,
                end: end + base,
            },
            Event::Continuation {
                start,
                end,
                message_line,
            } => Event::Continuation {
                start: start + base,
                end: end + base,
                message_line,
            },
            Event::Request(mut r) => {
                r.shift(base);
                Event::Request(r)
            }
        }
    }
}

/// Joins adjacent Skip pieces (a rejected region crossing buffer boundaries is reported in
/// pieces), so piecewise and one-shot scans compare equal.
pub fn merge_skips(events: Vec<Event>) -> Vec<Event> {
    let mut out: Vec<Event> = Vec::new();
    for e in events {
        if let (Some(Event::Skip { end: last_end, .. }), Event::Skip { start, end }) =
            (out.last_mut(), &e)
        {
            if *last_end == *start {
                *last_end = *end;
                continue;
            }
        }
        out.push(e);
    }
    out
}

/// Where a splitter is between scans. Shared by all splitters: they differ in what a unit is,
/// not in how a rejected region ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum State {
    /// Expecting a unit (or tolerated newlines) at the current position.
    Units,
    /// Inside a rejected region, looking for the next line that starts a unit.
    /// `at_line_start`: the first byte of the next buffer begins a line that has not been
    /// checked yet (a previous scan ran out of bytes while checking it).
    Skipping { at_line_start: bool },
}

/// The start of every splitter's scan step: finishes a rejected region (reporting its bytes
/// as `Skip`) at the next line start that `starts_unit` accepts, then passes the `\n` /
/// `\r\n` separators between units. `Ok(p)`: a unit starts at `p`. `Err(p)`: the scan is done
/// with the buffer up to `p` (needs more bytes, or is at its end).
pub(crate) fn next_unit(
    state: &mut State,
    buf: &[u8],
    mut p: usize,
    eof: bool,
    out: &mut Vec<Event>,
    starts_unit: &dyn Fn(&[u8], bool) -> Plausible,
) -> Result<usize, usize> {
    if let State::Skipping { at_line_start } = *state {
        // A region just opened must reach past its error's offending byte, so the batch
        // holding the error also holds the byte its line and column are computed from.
        let min_end = match out.last() {
            Some(Event::Error { at, .. }) => at + 1,
            _ => 0,
        };
        let (q, found, line_start) = find_resync(buf, p, at_line_start, eof, min_end, starts_unit);
        if q > p {
            out.push(Event::Skip { start: p, end: q });
        }
        p = q;
        if !found {
            *state = State::Skipping {
                at_line_start: line_start,
            };
            return Err(p);
        }
        *state = State::Units;
    }
    while p < buf.len() {
        match buf[p] {
            b'\n' => p += 1,
            b'\r' if p + 1 < buf.len() && buf[p + 1] == b'\n' => p += 2,
            b'\r' if p + 1 == buf.len() && !eof => return Err(p),
            _ => break,
        }
    }
    if p == buf.len() {
        return Err(p);
    }
    Ok(p)
}

/// Incremental octet framer. One per input.
#[derive(Clone, Debug)]
pub struct Framer {
    max_frame: u64,
    lenient: bool,
    state: State,
}

enum Decision {
    Frame(Event, usize),
    NeedMore,
    Error(Code, usize, String),
}

/// Outcome of a plausibility check of a line start; `None` means "need more bytes".
pub(crate) type Plausible = Option<bool>;

impl Framer {
    pub fn new(max_frame: u64) -> Framer {
        Framer {
            max_frame,
            lenient: false,
            state: State::Units,
        }
    }

    /// `--lenient-length`: a frame whose LEN fails the delimitation checks ends at the next
    /// resynchronisation point instead of being rejected.
    pub fn lenient(mut self, yes: bool) -> Framer {
        self.lenient = yes;
        self
    }

    /// Scans `buf`, appending events to `out`, and returns how many leading bytes of `buf` are
    /// done with. The rest must be passed again, followed by more input; with `eof` the whole
    /// buffer is always consumed.
    pub fn scan(&mut self, buf: &[u8], eof: bool, out: &mut Vec<Event>) -> usize {
        let mut p = 0;
        loop {
            p = match next_unit(&mut self.state, buf, p, eof, out, &plausible) {
                Ok(p) => p,
                Err(p) => return p,
            };
            match self.decide(buf, p, eof) {
                Decision::Frame(ev, next) => {
                    out.push(ev);
                    p = next;
                }
                Decision::NeedMore => return p,
                Decision::Error(code, at, message) => {
                    out.push(Event::Error {
                        start: p,
                        at,
                        code,
                        message,
                    });
                    self.state = State::Skipping {
                        at_line_start: false,
                    };
                }
            }
        }
    }

    /// Decides what starts at `p` (not a separator).
    fn decide(&self, buf: &[u8], p: usize, eof: bool) -> Decision {
        let b = &buf[p..];
        if !b[0].is_ascii_digit() {
            if !excerpt_ready(b, GARBAGE_QUOTE, eof) {
                return Decision::NeedMore;
            }
            return Decision::Error(
                Code::Garbage,
                p,
                format!(
                    "expected a frame length (ASCII digits), found {}",
                    quote(line_prefix(b), GARBAGE_QUOTE)
                ),
            );
        }
        let digits = b
            .iter()
            .take(MAX_LEN_DIGITS + 1)
            .take_while(|c| c.is_ascii_digit())
            .count();
        if digits > MAX_LEN_DIGITS {
            // Quote up to LEN_QUOTE digits, marked as cut when there are more; wait until the
            // run is known that far, so the message does not depend on where a read ended.
            let shown = b
                .iter()
                .take(LEN_QUOTE + 1)
                .take_while(|c| c.is_ascii_digit())
                .count();
            if shown == b.len() && !eof {
                return Decision::NeedMore;
            }
            return Decision::Error(
                Code::FrameTooLarge,
                p,
                format!(
                    "frame length {} has more than {MAX_LEN_DIGITS} digits",
                    quote(&b[..shown], LEN_QUOTE)
                ),
            );
        }
        if digits == b.len() {
            if !eof {
                return Decision::NeedMore;
            }
            return Decision::Error(
                Code::FrameTruncated,
                p,
                format!(
                    "input ends inside the frame length {}",
                    quote(&b[..digits], 24)
                ),
            );
        }
        if b[0] == b'0' {
            return Decision::Error(
                Code::FrameLength,
                p,
                format!(
                    "frame length {} has a leading zero (or is zero)",
                    quote(&b[..digits], 24)
                ),
            );
        }
        if b[digits] != b' ' {
            return Decision::Error(
                Code::FrameLength,
                p,
                format!(
                    "expected a space after the frame length {}, found {}",
                    String::from_utf8_lossy(&b[..digits]),
                    quote(&b[digits..(digits + 1)], 4)
                ),
            );
        }
        let len = b[..digits].iter().try_fold(0u64, |n, &d| {
            n.checked_mul(10)?.checked_add(u64::from(d - b'0'))
        });
        let len = match len {
            Some(n) if n <= self.max_frame => n,
            _ => {
                return Decision::Error(
                    Code::FrameTooLarge,
                    p,
                    format!(
                        "frame length {} exceeds --max-frame {}",
                        String::from_utf8_lossy(&b[..digits]),
                        self.max_frame
                    ),
                )
            }
        };
        let body = p + digits + 1;
        // Cannot overflow while len <= max_frame, but a library caller may pass any max_frame.
        let end = body.saturating_add(usize::try_from(len).unwrap_or(usize::MAX));
        if end > buf.len() {
            if !eof {
                return Decision::NeedMore;
            }
            if self.lenient {
                return self.lenient_frame(buf, p, body, len, eof);
            }
            return Decision::Error(
                Code::FrameTruncated,
                p,
                format!(
                    "frame length says {len} bytes, but the input ends after {}",
                    buf.len() - body
                ),
            );
        }
        let frame = Event::Frame {
            start: p,
            body,
            end,
            len,
        };
        if buf[end - 1] == b'\n' {
            return Decision::Frame(frame, end);
        }
        match delimited(buf, end, eof) {
            Some(true) => Decision::Frame(frame, end),
            None => Decision::NeedMore,
            Some(false) if self.lenient => self.lenient_frame(buf, p, body, len, eof),
            Some(false) if !excerpt_ready(&buf[end..], OVERRUN_QUOTE, eof) => Decision::NeedMore,
            Some(false) => Decision::Error(
                Code::FrameOverrun,
                p,
                format!(
                    "frame length {len} ends the frame inside text: it is followed by {} \
                     where a newline, the end of input or another frame should be",
                    quote(line_prefix(&buf[end..]), OVERRUN_QUOTE)
                ),
            ),
        }
    }

    /// Lenient recovery: the frame runs to the next resynchronisation point (or end of input).
    fn lenient_frame(&self, buf: &[u8], p: usize, body: usize, len: u64, eof: bool) -> Decision {
        let (q, resynced, _) = find_resync(buf, p, false, eof, 0, &plausible);
        // `q` is the recovery point, or how far the search got without one. Past `--max-frame`
        // the frame is an error like any other, and the same error however the input was read:
        // a scan that has the whole input must not accept what a scan of a prefix rejects.
        if q.saturating_sub(body) as u64 > self.max_frame {
            return Decision::Error(
                Code::FrameTooLarge,
                p,
                format!(
                    "no frame boundary within --max-frame {} bytes of a frame whose \
                     length {len} is wrong",
                    self.max_frame
                ),
            );
        }
        if !resynced && !eof {
            // The recovery point has not arrived yet.
            return Decision::NeedMore;
        }
        Decision::Frame(
            Event::Frame {
                start: p,
                body,
                end: q,
                len,
            },
            q,
        )
    }
}

/// How many digits of an over-long LEN messages quote.
const LEN_QUOTE: usize = 32;

/// How much of the offending line error messages quote.
const GARBAGE_QUOTE: usize = 40;
const OVERRUN_QUOTE: usize = 24;

/// Whether `b` holds enough bytes to quote up to `n` of its first line exactly as it would with
/// all the input at hand, so messages do not depend on where reads happened to end.
pub(crate) fn excerpt_ready(b: &[u8], n: usize, eof: bool) -> bool {
    eof || b.len() > n || memchr(b'\n', b).is_some()
}

/// The bytes up to (not including) the next newline, for quoting in messages.
fn line_prefix(b: &[u8]) -> &[u8] {
    match memchr(b'\n', b) {
        Some(i) => &b[..i],
        None => b,
    }
}

/// Whether the frame ending at `end` (its MSG not ending in `\n`) is properly delimited: followed
/// by end of input, a newline (`\n` or `\r\n`) or the start of a plausible frame
/// (`[1-9][0-9]* <[0-9]{1,3}>`, the same pattern resynchronisation looks for).
fn delimited(buf: &[u8], end: usize, eof: bool) -> Plausible {
    let rest = &buf[end..];
    let more = if eof { Some(false) } else { None };
    match rest.first() {
        None => {
            if eof {
                Some(true)
            } else {
                None
            }
        }
        Some(b'\n') => Some(true),
        Some(b'\r') => match rest.get(1) {
            Some(&c) => Some(c == b'\n'),
            None => more,
        },
        Some(_) => plausible(rest, eof),
    }
}

/// Whether `b` (a line start) begins a plausible frame: `[1-9][0-9]* <[0-9]{1,3}>`.
pub(crate) fn plausible(b: &[u8], eof: bool) -> Plausible {
    let more = if eof { Some(false) } else { None };
    let Some(&first) = b.first() else {
        return more;
    };
    if !(b'1'..=b'9').contains(&first) {
        return Some(false);
    }
    let mut i = 1;
    while i < b.len() && b[i].is_ascii_digit() {
        i += 1;
        if i > MAX_LEN_DIGITS {
            return Some(false);
        }
    }
    for want in [b' ', b'<'] {
        match b.get(i) {
            None => return more,
            Some(&c) if c == want => i += 1,
            Some(_) => return Some(false),
        }
    }
    let digits_start = i;
    loop {
        match b.get(i) {
            None => return more,
            Some(c) if c.is_ascii_digit() && i - digits_start < 3 => i += 1,
            Some(b'>') => return Some(i > digits_start),
            Some(_) => return Some(false),
        }
    }
}

/// Finds where a rejected region that began before `from` ends: the next line start that
/// `starts_unit` accepts. Returns `(position, found, at_line_start)`: when not found,
/// `position` is how far the region is known to extend (all of `buf` at end of input) and
/// `at_line_start` says whether that position is an unchecked line start.
fn find_resync(
    buf: &[u8],
    from: usize,
    at_line_start: bool,
    eof: bool,
    min_end: usize,
    starts_unit: &dyn Fn(&[u8], bool) -> Plausible,
) -> (usize, bool, bool) {
    let mut candidate = if at_line_start { Some(from) } else { None };
    let mut pos = from;
    // The last line start passed. A line that has not ended yet is held back from there (up
    // to HOLD_LINE bytes), so the pieces of a rejected region end at line starts: a header
    // line is never cut in two, and `--rejects` redacts drain tokens line by line.
    let mut last_line = None;
    loop {
        let c = match candidate.take() {
            Some(c) => c,
            None => match memchr(b'\n', &buf[pos..]) {
                Some(i) => pos + i + 1,
                None => {
                    return match last_line {
                        Some(l) if !eof && l >= min_end && buf.len() - l <= HOLD_LINE => {
                            (l, false, true)
                        }
                        _ => (buf.len(), eof, false),
                    }
                }
            },
        };
        match starts_unit(&buf[c..], eof) {
            Some(true) => return (c, true, false),
            Some(false) if c == buf.len() => return (c, true, false),
            Some(false) => {
                pos = c;
                last_line = Some(c);
            }
            None => return (c, false, true),
        }
    }
}

/// The longest unfinished line a rejected region holds back (see `find_resync`).
const HOLD_LINE: usize = 64 * 1024;

#[cfg(test)]
mod tests {
    use super::*;

    /// Scans `input` in one go.
    fn scan_all(input: &[u8]) -> Vec<Event> {
        let mut out = Vec::new();
        let n = Framer::new(1 << 20).scan(input, true, &mut out);
        assert_eq!(n, input.len());
        out
    }

    /// Scans `input` handing the framer `step` bytes more each time, as a pipe would, and
    /// rebases the events onto whole-input offsets so they can be compared with `scan_all`.
    fn scan_pieces(framer: &mut Framer, input: &[u8], step: usize) -> Vec<Event> {
        let mut events = Vec::new();
        let mut base = 0;
        let mut have = 0;
        loop {
            have = (have + step).min(input.len());
            let eof = have == input.len();
            let mut out = Vec::new();
            let n = framer.scan(&input[base..have], eof, &mut out);
            events.extend(out.into_iter().map(|e| e.shifted(base)));
            base += n;
            if eof {
                assert_eq!(base, input.len());
                return merge_skips(events);
            }
        }
    }

    fn codes(events: &[Event]) -> Vec<String> {
        events
            .iter()
            .map(|e| match e {
                Event::Frame { start, end, .. } => format!("frame {start}..{end}"),
                Event::Error { start, code, .. } => format!("{code}@{start}"),
                Event::Skip { start, end } => format!("skip {start}..{end}"),
                e => unreachable!("{e:?}"),
            })
            .collect()
    }

    /// `LEN SP msg` with LEN computed, so tests cannot get it wrong by hand.
    fn fr(msg: &str) -> String {
        format!("{} {msg}", msg.len())
    }

    #[test]
    fn frames_follow_len_not_newlines() {
        let a = fr("<13>1 a b\nc\n"); // 15 bytes, one embedded newline
        let b = fr("<1>1\n"); // 7 bytes
        let input = format!("{a}{b}");
        assert_eq!(
            codes(&scan_all(input.as_bytes())),
            ["frame 0..15", "frame 15..22"]
        );
    }

    #[test]
    fn separators_between_frames_are_tolerated() {
        let input = format!("\n\r\n{}\r\n\n{}", fr("<1>1\n"), fr("<1>1\n"));
        assert_eq!(
            codes(&scan_all(input.as_bytes())),
            ["frame 3..10", "frame 13..20"]
        );
    }

    #[test]
    fn frame_without_newline_is_fine_before_eof_newline_or_frame() {
        assert_eq!(codes(&scan_all(b"4 <1>1")), ["frame 0..6"]);
        assert_eq!(codes(&scan_all(b"4 <1>1\r\n")), ["frame 0..6"]);
        assert_eq!(
            codes(&scan_all(b"4 <1>15 <1>1\n")),
            ["frame 0..6", "frame 6..13"]
        );
    }

    #[test]
    fn each_framing_code() {
        let cases: &[(&[u8], &str)] = &[
            (b"x\n", "garbage@0"),
            (b"012 <1>1 abcdefg\n", "frame-length@0"),
            (b"0 \n", "frame-length@0"),
            (b"12x<1>1 abcdefg\n", "frame-length@0"),
            (b"12\n", "frame-length@0"),
            (b"123456789012345678901 <1>1\n", "frame-too-large@0"),
            (b"99999999999999999999 <1>1\n", "frame-too-large@0"),
            (b"2000000 <1>1\n", "frame-too-large@0"),
            (b"50 <1>1 short\n", "frame-truncated@0"),
            (b"12", "frame-truncated@0"),
            (b"3 <1>1 abc\n", "frame-overrun@0"),
        ];
        for (input, want) in cases {
            let ev = scan_all(input);
            assert_eq!(
                codes(&ev)[0],
                *want,
                "input {:?}",
                String::from_utf8_lossy(input)
            );
            // Nothing lost: the region covers the rest of the input.
            assert_eq!(
                codes(&ev)[1],
                format!("skip 0..{}", input.len()),
                "input {:?}",
                String::from_utf8_lossy(input)
            );
        }
    }

    #[test]
    fn framing_errors_point_at_the_frame_start() {
        let ev = scan_all(b"5 <1>1\n12x<1>1 abcdefg\n");
        assert!(matches!(ev[1], Event::Error { at: 7, .. }), "{ev:?}");
    }

    #[test]
    fn resynchronises_at_next_plausible_line() {
        // A bad frame, then a line that looks like a frame only superficially, then a real one.
        let input = format!("junk here\n12 nope\n{}", fr("<1>1\n"));
        let ev = scan_all(input.as_bytes());
        assert_eq!(codes(&ev), ["garbage@0", "skip 0..18", "frame 18..25"]);
    }

    #[test]
    fn long_len_swallowing_the_next_frame_resyncs_inside_it() {
        // The first LEN is too long by 4: its MSG ends inside the second frame.
        let input = format!("13 <1>1 abc\n{}{}", fr("<1>1 xy\n"), fr("<1>1 zz\n"));
        let ev = scan_all(input.as_bytes());
        assert_eq!(
            codes(&ev),
            [
                "frame-overrun@0",
                "skip 0..12",
                "frame 12..22",
                "frame 22..32"
            ]
        );
    }

    #[test]
    fn max_frame_is_checked_before_waiting_for_bytes() {
        let mut f = Framer::new(100);
        let mut out = Vec::new();
        // Not at EOF: a frame within the limit would be waited for; this one is rejected now.
        let n = f.scan(b"101 <1>1 ", false, &mut out);
        assert_eq!(codes(&out)[0], "frame-too-large@0");
        assert_eq!(n, 9);
    }

    #[test]
    fn incomplete_frame_asks_for_more() {
        let mut f = Framer::new(1 << 20);
        let mut out = Vec::new();
        assert_eq!(f.scan(b"5 <1>1\n6 <1>1", false, &mut out), 7);
        assert_eq!(codes(&out), ["frame 0..7"]);
    }

    #[test]
    fn every_split_point_gives_the_same_events() {
        let input = format!(
            "{}\r\njunk\n\n4 <1>1\r\n20 <1>1 x\n{}9 <1>1 abc\n{}",
            fr("<13>1 a b\nc\n"),
            fr("<1>1 y\n"),
            fr("<1>1 zz")
        );
        let input = input.as_bytes();
        let whole = merge_skips(scan_all(input));
        assert_eq!(whole.len(), 9, "{:?}", codes(&whole));
        for step in 1..input.len() {
            let mut f = Framer::new(1 << 20);
            assert_eq!(scan_pieces(&mut f, input, step), whole, "step {step}");
        }
    }

    #[test]
    fn garbage_without_newline_streams_through_small_buffers() {
        let mut input = vec![b'x'; 10_000];
        input.extend_from_slice(b"\n5 <1>1\n");
        let mut f = Framer::new(1 << 20);
        let ev = scan_pieces(&mut f, &input, 7);
        assert_eq!(
            codes(&ev),
            ["garbage@0", "skip 0..10001", "frame 10001..10008"]
        );
    }

    #[test]
    fn lenient_mode_recovers_frames_from_line_structure() {
        let mut f = Framer::new(1 << 20).lenient(true);
        let mut out = Vec::new();
        let input = b"3 <1>1 abc\n50 <1>1 d\n5 <1>1\n";
        f.scan(input, true, &mut out);
        assert_eq!(
            out,
            vec![
                Event::Frame {
                    start: 0,
                    body: 2,
                    end: 11,
                    len: 3
                },
                Event::Frame {
                    start: 11,
                    body: 14,
                    end: 21,
                    len: 50
                },
                Event::Frame {
                    start: 21,
                    body: 23,
                    end: 28,
                    len: 5
                },
            ]
        );
    }

    #[test]
    fn plausible_pattern() {
        assert_eq!(plausible(b"12 <34>", true), Some(true));
        assert_eq!(plausible(b"12 <>", true), Some(false));
        assert_eq!(plausible(b"12 <1234>", true), Some(false));
        assert_eq!(plausible(b"02 <1>", true), Some(false));
        assert_eq!(plausible(b"12 <3", false), None);
        assert_eq!(plausible(b"12 <3", true), Some(false));
    }
}
