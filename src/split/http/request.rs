//! A saved request as the splitter hands it over, and how its body becomes frames.

use crate::diag::{messages, Code, Problem};
use crate::split::event::Event;
use crate::split::octet::Framer;
use std::borrow::Cow;
use std::ops::Range;

/// What the splitter decided about a complete request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Delivered: its frames are read.
    Accept,
    /// Its `Logplex-Frame-Id` was already seen: a retry, skipped.
    Duplicate,
    /// Rejected whole: `--drain-token` is set and the request's token differs or is missing
    /// (the problem is located where the header's value, or the request, starts), or its gzip
    /// body does not inflate (located at the body).
    Refused(Problem),
}

/// A complete request. Offsets index the splitter's buffer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Request {
    /// Where the request line starts.
    pub start: usize,
    /// One past the request's last byte.
    pub end: usize,
    /// Where the body starts (after the blank line).
    pub body_start: usize,
    /// The body's bytes in the buffer: one piece, or one per chunk when chunked. Invariant:
    /// the pieces are in order, inside `body_start..end`.
    pub body: Vec<Range<usize>>,
    /// `Content-Encoding: gzip`.
    pub gzip: bool,
    /// The body inflated, for `Content-Encoding: gzip` (decoded while splitting: a body that
    /// does not decode is a failed delivery, and its Frame-Id must not count as seen).
    pub decoded: Option<Vec<u8>>,
    /// Each `Logplex-Msg-Count` value, in order (none when the header is absent).
    pub msg_count: Vec<Range<usize>>,
    /// Delivered, a retry, or refused.
    pub verdict: Verdict,
}

impl Request {
    /// Moves every offset by `base` (see [`Event::shifted`]).
    pub(crate) fn shift(&mut self, base: usize) {
        let mv = |r: &mut Range<usize>| *r = r.start + base..r.end + base;
        self.start += base;
        self.end += base;
        self.body_start += base;
        self.body.iter_mut().for_each(mv);
        self.msg_count.iter_mut().for_each(mv);
        if let Verdict::Refused(p) = &mut self.verdict {
            p.at += base;
        }
    }

    /// The body as sent, before any `Content-Encoding`: borrowed when it is one piece.
    pub fn raw_body<'a>(&self, buf: &'a [u8]) -> Cow<'a, [u8]> {
        match self.body.as_slice() {
            [one] => Cow::Borrowed(&buf[one.clone()]),
            pieces => Cow::Owned(
                pieces
                    .iter()
                    .flat_map(|r| buf[r.clone()].iter().copied())
                    .collect(),
            ),
        }
    }

    /// The body as its frames are read: inflated for `Content-Encoding: gzip`.
    pub fn body<'a>(&'a self, buf: &'a [u8]) -> Cow<'a, [u8]> {
        match &self.decoded {
            Some(d) => Cow::Borrowed(d),
            None => self.raw_body(buf),
        }
    }

    /// Where byte `off` of the raw body lies in the buffer, for lines and columns.
    pub fn body_offset(&self, off: usize) -> usize {
        let mut left = off;
        for r in &self.body {
            if left < r.len() {
                return r.start + left;
            }
            left -= r.len();
        }
        self.body.last().map_or(self.body_start, |r| r.end)
    }

    /// Where byte `off` of [`Request::body`] is shown in the capture: its own place, or the
    /// body's start inside a gzip body (whose bytes are not in the capture).
    pub fn in_capture(&self, off: usize) -> usize {
        if self.gzip {
            self.body_start
        } else {
            self.body_offset(off)
        }
    }

    /// The request as `--rejects` gets it when it is rejected whole, or `None` for its bytes
    /// in the capture. A gzip body is written inflated, as far as it inflates (at most
    /// `limit` bytes), under the same head without its `Content-Length`, `Transfer-Encoding`
    /// and `Content-Encoding` headers and with a `Content-Length` of the inflated body: a drain
    /// token inside compressed bytes could not be overwritten, and the rejects must not carry
    /// one.
    pub fn for_rejects(&self, buf: &[u8], limit: u64) -> Option<Vec<u8>> {
        if !self.gzip {
            return None;
        }
        let body = super::body::inflate_prefix(&self.raw_body(buf), limit);
        let head = &buf[self.start..self.body_start];
        let eol: &[u8] = if head.ends_with(b"\r\n\r\n") {
            b"\r\n"
        } else {
            b"\n"
        };
        let mut out = Vec::with_capacity(head.len() + body.len() + 32);
        let mut dropping = false;
        for line in head.split_inclusive(|&c| c == b'\n') {
            if super::body::trim_eol(line).is_empty() {
                break;
            }
            // A folded line belongs to the header before it.
            if matches!(line.first(), Some(b' ' | b'\t')) && !out.is_empty() {
                if !dropping {
                    out.extend_from_slice(line);
                }
                continue;
            }
            let name = line
                .split(|&c| c == b':')
                .next()
                .unwrap_or(&[])
                .trim_ascii();
            dropping = [
                &b"content-length"[..],
                b"transfer-encoding",
                b"content-encoding",
            ]
            .iter()
            .any(|n| name.eq_ignore_ascii_case(n));
            if !dropping {
                out.extend_from_slice(line);
            }
        }
        out.extend_from_slice(format!("Content-Length: {}", body.len()).as_bytes());
        out.extend_from_slice(eol);
        out.extend_from_slice(eol);
        out.extend_from_slice(&body);
        Some(out)
    }

    /// Whether the body's bytes sit in the capture as one run (no gzip, no chunks), so a
    /// rejected frame of it can be written from the capture itself.
    pub fn contiguous(&self) -> bool {
        !self.gzip && self.body.len() == 1
    }

    /// The body's frames and rejected regions, as the octet framer finds them.
    pub fn frames(&self, body: &[u8], max_frame: u64, lenient: bool) -> Vec<Event> {
        let mut events = Vec::new();
        Framer::new(max_frame)
            .lenient(lenient)
            .scan(body, true, &mut events);
        events
    }

    /// The `msg-count` problem, if `Logplex-Msg-Count` is there and differs from `found`,
    /// the frames the body holds (see [`counts_as_frame`]).
    pub fn msg_count_problem(&self, buf: &[u8], found: u64) -> Option<Problem> {
        self.msg_count.iter().find_map(|r| {
            let v = &buf[r.clone()];
            match std::str::from_utf8(v)
                .ok()
                .and_then(|t| t.parse::<u64>().ok())
            {
                Some(n) if n == found => None,
                Some(n) => Some(messages::msg_count_differs(r.start, n, found)),
                None => Some(messages::msg_count_not_a_number(r.start, v)),
            }
        })
    }
}

/// Whether `event`, from a body, is a frame for `Logplex-Msg-Count`: every frame, valid or not
/// (one with a bad LEN included), but not bytes skipped where no frame starts (`garbage`).
pub fn counts_as_frame(event: &Event) -> bool {
    match event {
        Event::Frame { .. } => true,
        Event::Error { problem, .. } => problem.code != Code::Garbage,
        _ => false,
    }
}
