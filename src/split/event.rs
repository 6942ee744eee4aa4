//! What a splitter reports about the bytes it was given: units and rejected regions.

use super::http::Request;
use crate::diag::Problem;

/// Something a splitter decided about a span of the buffer it was given. Offsets index that
/// buffer.
///
/// Every byte of an input ends up in exactly one of: a unit (`Frame`, `Line`, `Continuation`,
/// `Request`), a rejected region (an `Error` followed by the `Skip`s that carry its bytes), or
/// the separators between units (`\n`, `\r\n`), which no event carries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// An octet frame: `LEN SP MSG` spans `start..end`, MSG is `body..end`.
    Frame {
        /// Where LEN starts.
        start: usize,
        /// Where MSG starts.
        body: usize,
        /// Where the frame ends.
        end: usize,
        /// LEN as written. In lenient mode it can differ from `end - body`.
        len: u64,
    },
    /// A rejected region opens at `start`; `problem.at` is the offending byte (for the
    /// column). Its bytes follow as `Skip` events, the first possibly in a later scan when the
    /// region crosses a buffer boundary.
    Error {
        /// Where the rejected region starts.
        start: usize,
        /// What is wrong, and where it shows.
        problem: Problem,
    },
    /// Bytes of the current rejected region.
    Skip {
        /// First byte.
        start: usize,
        /// One past the last byte.
        end: usize,
    },
    /// A unit of a line-based format (`syslog`, `cli`): `start..end`, terminator included.
    Line {
        /// First byte.
        start: usize,
        /// One past the terminator.
        end: usize,
    },
    /// `heroku logs` continuation lines (`start..end`) that arrived after their message was
    /// already written (a live pipe went quiet in between): a record of their own, with the
    /// timestamp, source and process of `message_line`, the first line of that message.
    Continuation {
        /// First byte.
        start: usize,
        /// One past the terminator.
        end: usize,
        /// The first line of the message these lines continue.
        message_line: Box<[u8]>,
    },
    /// A complete saved HTTP request (`http` input).
    Request(Box<Request>),
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
            Event::Error { start, problem } => Event::Error {
                start: start + base,
                problem: problem.moved(|at| at + base),
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
