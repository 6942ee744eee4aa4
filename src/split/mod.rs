//! Splitters: bytes in, units and rejected regions out, incrementally.
//!
//! One splitter per input, whatever its format: it cuts the input into units (octet frames,
//! syslog lines, `heroku logs` messages, HTTP requests) and rejected regions, and reports them
//! as [`Event`]s. The protocol is `httparse`'s: `scan(buf, end, out)` looks at the bytes the
//! caller has, appends what it can decide, and returns how many leading bytes are done with;
//! the rest comes back with more input. "Need more bytes" is never an error, and no splitter
//! keeps input bytes of its own, so units can borrow from the caller's buffer and go to another
//! thread with it. How a rejected region ends is the same for every format ([`resync`]).

pub mod event;
pub mod http;
pub mod lines;
pub mod octet;
pub mod resync;

pub use event::{merge_skips, Event};

use crate::source::detect::InputFormat;
use http::{HttpSplitter, RecentIds};
use lines::LineSplitter;
use octet::Framer;

/// What the caller knows about the bytes after the buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum End {
    /// More may follow at any time.
    More,
    /// A live input has gone quiet: nothing more has arrived for a while. A `heroku logs`
    /// message whose lines are all here is taken as complete, and so is an octet frame that
    /// ends where the bytes end (no newline after it), so a live pipe streams.
    Idle,
    /// End of input.
    Eof,
}

/// The splitter for one input's format.
pub enum Splitter {
    /// RFC 6587 octet frames.
    Octet(Framer),
    /// Syslog lines or `heroku logs` text.
    Lines(LineSplitter),
    /// Saved drain POSTs.
    Http(HttpSplitter),
}

/// How splitters are set up for a run.
#[derive(Clone, Debug)]
pub struct Limits {
    /// `--max-frame`.
    pub max_frame: u64,
    /// `--lenient-length`.
    pub lenient: bool,
    /// `--drain-token`.
    pub token: Option<Vec<u8>>,
}

impl Limits {
    /// The most an HTTP request's body may hold, inflated: a drain POST holds many frames, so
    /// 16 frames' worth.
    pub fn max_body(&self) -> u64 {
        self.max_frame.saturating_mul(16)
    }
}

impl Splitter {
    /// A splitter for `format`; an HTTP one starts with no Frame-Ids seen
    /// ([`Splitter::new_http`] takes the run's).
    pub fn new(format: InputFormat, limits: &Limits) -> Splitter {
        match format {
            InputFormat::Http => Splitter::new_http(limits, RecentIds::default()),
            _ => Splitter::new_other(format, limits),
        }
    }

    /// An HTTP splitter that knows the run's Frame-Ids so far (`seen`); get them back with
    /// [`Splitter::into_ids`].
    pub fn new_http(limits: &Limits, seen: RecentIds) -> Splitter {
        Splitter::Http(HttpSplitter::new(
            limits.max_body(),
            limits.token.clone(),
            seen,
        ))
    }

    fn new_other(format: InputFormat, limits: &Limits) -> Splitter {
        match format {
            InputFormat::Octet => {
                Splitter::Octet(Framer::new(limits.max_frame).lenient(limits.lenient))
            }
            InputFormat::Syslog => Splitter::Lines(LineSplitter::syslog(limits.max_frame)),
            InputFormat::Cli => Splitter::Lines(LineSplitter::cli(limits.max_frame)),
            InputFormat::Http => Splitter::new_http(limits, RecentIds::default()),
        }
    }

    /// Scans `buf`: appends events to `out` and returns how many leading bytes are done with.
    pub fn scan(&mut self, buf: &[u8], end: End, out: &mut Vec<Event>) -> usize {
        match self {
            Splitter::Octet(f) if end == End::Idle => f.scan_live(buf, true, out),
            Splitter::Octet(f) => f.scan(buf, end == End::Eof, out),
            Splitter::Lines(l) => l.scan(buf, end, out),
            Splitter::Http(h) => h.scan(buf, end == End::Eof, out),
        }
    }

    /// Hands back the Frame-Ids an HTTP splitter has seen, for the next input.
    pub fn into_ids(self) -> Option<RecentIds> {
        match self {
            Splitter::Http(h) => Some(h.seen),
            _ => None,
        }
    }
}
