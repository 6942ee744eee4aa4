//! RFC 6587 octet-counted frames (README "Framing").
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

use super::event::Event;
use super::resync::{excerpt_ready, find_resync, next_unit, Looks, Next, State};
use crate::diag::messages::{self, GARBAGE_QUOTE, LEN_QUOTE, OVERRUN_QUOTE};
use crate::diag::Problem;
use memchr::memchr;

/// Longest LEN read before calling it `frame-too-large` (u64 holds any 19-digit number; README
/// draws the line at 20 digits).
const MAX_LEN_DIGITS: usize = 20;

/// Incremental octet framer. One per input.
#[derive(Clone, Debug)]
pub struct Framer {
    max_frame: u64,
    lenient: bool,
    state: State,
    /// The bytes after the buffer are not here yet and the live input has gone quiet
    /// ([`End::Idle`](super::End::Idle)): a frame that ends exactly at the buffer's end is
    /// taken as delimited, so a sender that puts no newline after its frames still streams.
    /// Set for each scan.
    quiet: bool,
}

/// What starts at a position.
enum Decision {
    /// A frame, and where the next unit may start.
    Frame(Event, usize),
    /// More bytes are needed to tell.
    NeedMore,
    /// A framing error: a rejected region starts here.
    Error(Problem),
}

impl Framer {
    /// A framer that accepts frames up to `max_frame` bytes.
    pub fn new(max_frame: u64) -> Framer {
        Framer {
            max_frame,
            lenient: false,
            state: State::Units,
            quiet: false,
        }
    }

    /// `--lenient-length`: a frame whose LEN fails the delimitation checks ends at the next
    /// resynchronisation point instead of being rejected.
    pub fn lenient(mut self, yes: bool) -> Framer {
        self.lenient = yes;
        self
    }

    /// As [`Framer::scan`], the live input having gone quiet after `buf` (`quiet`): a frame
    /// that ends exactly at the end of `buf` is complete.
    pub fn scan_live(&mut self, buf: &[u8], quiet: bool, out: &mut Vec<Event>) -> usize {
        self.quiet = quiet;
        let n = self.scan(buf, false, out);
        self.quiet = false;
        n
    }

    /// Scans `buf`, appending events to `out`, and returns how many leading bytes of `buf` are
    /// done with. The rest must be passed again, followed by more input; with `eof` the whole
    /// buffer is always consumed.
    pub fn scan(&mut self, buf: &[u8], eof: bool, out: &mut Vec<Event>) -> usize {
        let mut p = 0;
        loop {
            p = match next_unit(&mut self.state, buf, p, eof, out, &plausible) {
                Next::Unit(p) => p,
                Next::Done(p) => return p,
            };
            match self.decide(buf, p, eof) {
                Decision::Frame(ev, next) => {
                    out.push(ev);
                    p = next;
                }
                Decision::NeedMore => return p,
                Decision::Error(problem) => {
                    out.push(Event::Error { start: p, problem });
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
            return Decision::Error(messages::expected_frame_length(p, line_prefix(b)));
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
            return Decision::Error(messages::length_too_long(p, &b[..shown], MAX_LEN_DIGITS));
        }
        if digits == b.len() {
            if !eof {
                return Decision::NeedMore;
            }
            return Decision::Error(messages::input_ends_in_length(p, &b[..digits]));
        }
        if b[0] == b'0' {
            return Decision::Error(messages::length_leading_zero(p, &b[..digits]));
        }
        if b[digits] != b' ' {
            return Decision::Error(messages::length_without_space(
                p,
                &b[..digits],
                &b[digits..=digits],
            ));
        }
        let len = b[..digits].iter().try_fold(0u64, |n, &d| {
            n.checked_mul(10)?.checked_add(u64::from(d - b'0'))
        });
        let len = match len {
            Some(n) if n <= self.max_frame => n,
            _ => {
                return Decision::Error(messages::length_over_max(p, &b[..digits], self.max_frame))
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
            return Decision::Error(messages::frame_truncated(p, len, buf.len() - body));
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
        match delimited(buf, end, eof || (self.quiet && end == buf.len())) {
            Looks::Yes => Decision::Frame(frame, end),
            Looks::NeedMore => Decision::NeedMore,
            Looks::No if self.lenient => self.lenient_frame(buf, p, body, len, eof),
            Looks::No if !excerpt_ready(&buf[end..], OVERRUN_QUOTE, eof) => Decision::NeedMore,
            Looks::No => Decision::Error(messages::frame_overrun(p, len, line_prefix(&buf[end..]))),
        }
    }

    /// Lenient recovery: the frame runs to the next resynchronisation point (or end of input).
    fn lenient_frame(&self, buf: &[u8], p: usize, body: usize, len: u64, eof: bool) -> Decision {
        let (q, resynced, _) = find_resync(buf, p, false, eof, 0, &plausible);
        // `q` is the recovery point, or how far the search got without one. Past `--max-frame`
        // the frame is an error like any other, and the same error however the input was read:
        // a scan that has the whole input must not accept what a scan of a prefix rejects.
        if q.saturating_sub(body) as u64 > self.max_frame {
            return Decision::Error(messages::no_boundary_within_max(p, self.max_frame, len));
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
fn delimited(buf: &[u8], end: usize, eof: bool) -> Looks {
    let rest = &buf[end..];
    let more = if eof { Looks::No } else { Looks::NeedMore };
    match rest.first() {
        None if eof => Looks::Yes,
        None => Looks::NeedMore,
        Some(b'\n') => Looks::Yes,
        Some(b'\r') => match rest.get(1) {
            Some(&c) => Looks::from_bool(c == b'\n'),
            None => more,
        },
        Some(_) => plausible(rest, eof),
    }
}

/// Whether `b` (a line start) begins a plausible frame: `[1-9][0-9]* <[0-9]{1,3}>`.
pub fn plausible(b: &[u8], eof: bool) -> Looks {
    let more = if eof { Looks::No } else { Looks::NeedMore };
    let Some(&first) = b.first() else {
        return more;
    };
    if !(b'1'..=b'9').contains(&first) {
        return Looks::No;
    }
    let mut i = 1;
    while i < b.len() && b[i].is_ascii_digit() {
        i += 1;
        if i > MAX_LEN_DIGITS {
            return Looks::No;
        }
    }
    for want in [b' ', b'<'] {
        match b.get(i) {
            None => return more,
            Some(&c) if c == want => i += 1,
            Some(_) => return Looks::No,
        }
    }
    let digits_start = i;
    loop {
        match b.get(i) {
            None => return more,
            Some(c) if c.is_ascii_digit() && i - digits_start < 3 => i += 1,
            Some(b'>') => return Looks::from_bool(i > digits_start),
            Some(_) => return Looks::No,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::split::event::merge_skips;

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
                Event::Error { start, problem } => format!("{}@{start}", problem.code),
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
    fn each_framing_error_has_its_code() {
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
        assert!(
            matches!(&ev[1], Event::Error { problem, .. } if problem.at == 7),
            "{ev:?}"
        );
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
    fn a_plausible_frame_start_is_len_space_and_pri() {
        assert_eq!(plausible(b"12 <34>", true), Looks::Yes);
        assert_eq!(plausible(b"12 <>", true), Looks::No);
        assert_eq!(plausible(b"12 <1234>", true), Looks::No);
        assert_eq!(plausible(b"02 <1>", true), Looks::No);
        assert_eq!(plausible(b"12 <3", false), Looks::NeedMore);
        assert_eq!(plausible(b"12 <3", true), Looks::No);
    }
}
