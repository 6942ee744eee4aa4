//! How every splitter gets past a rejected region: the one resynchronisation step they share.
//!
//! Splitters differ in what a unit is, not in how a rejected region ends: at the next line start
//! that begins a unit (a plausible frame, `POST `, a `heroku logs` prefix), never earlier than
//! the byte that showed the error. [`next_unit`] does that, and passes the `\n` / `\r\n`
//! separators between units.

use super::event::Event;
use memchr::memchr;

/// Whether a line start begins a unit, as far as the bytes at hand tell ("need more bytes" kept
/// apart from "no", as `httparse` keeps `Partial` apart from errors).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Looks {
    /// It does.
    Yes,
    /// It does not.
    No,
    /// Too few bytes to tell (only before the end of input).
    NeedMore,
}

impl Looks {
    /// `Yes` or `No` from a test that has all the bytes it needs.
    pub fn from_bool(yes: bool) -> Looks {
        if yes {
            Looks::Yes
        } else {
            Looks::No
        }
    }
}

/// Where a splitter is between scans. Shared by all splitters: they differ in what a unit is,
/// not in how a rejected region ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    /// Expecting a unit (or tolerated newlines) at the current position.
    Units,
    /// Inside a rejected region, looking for the next line that starts a unit.
    Skipping {
        /// The first byte of the next buffer begins a line that has not been checked yet (a
        /// previous scan ran out of bytes while checking it).
        at_line_start: bool,
    },
}

/// What [`next_unit`] found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Next {
    /// A unit starts here.
    Unit(usize),
    /// The scan is done with the buffer up to here (it needs more bytes, or is at its end).
    Done(usize),
}

/// The start of every splitter's scan step: finishes a rejected region (reporting its bytes
/// as `Skip`) at the next line start that `starts_unit` accepts, then passes the `\n` /
/// `\r\n` separators between units.
pub fn next_unit(
    state: &mut State,
    buf: &[u8],
    mut p: usize,
    eof: bool,
    out: &mut Vec<Event>,
    starts_unit: &dyn Fn(&[u8], bool) -> Looks,
) -> Next {
    if let State::Skipping { at_line_start } = *state {
        // A region just opened must reach past its error's offending byte, so the batch
        // holding the error also holds the byte its line and column are computed from.
        let min_end = match out.last() {
            Some(Event::Error { problem, .. }) => problem.at + 1,
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
            return Next::Done(p);
        }
        *state = State::Units;
    }
    while p < buf.len() {
        match buf[p] {
            b'\n' => p += 1,
            b'\r' if p + 1 < buf.len() && buf[p + 1] == b'\n' => p += 2,
            b'\r' if p + 1 == buf.len() && !eof => return Next::Done(p),
            _ => break,
        }
    }
    if p == buf.len() {
        return Next::Done(p);
    }
    Next::Unit(p)
}

/// Whether `b` holds enough bytes to quote up to `n` of its first line exactly as it would with
/// all the input at hand, so messages do not depend on where reads happened to end.
pub fn excerpt_ready(b: &[u8], n: usize, eof: bool) -> bool {
    eof || b.len() > n || memchr(b'\n', b).is_some()
}

/// Finds where a rejected region that began before `from` ends: the next line start that
/// `starts_unit` accepts. Returns `(position, found, at_line_start)`: when not found,
/// `position` is how far the region is known to extend (all of `buf` at end of input) and
/// `at_line_start` says whether that position is an unchecked line start.
pub fn find_resync(
    buf: &[u8],
    from: usize,
    at_line_start: bool,
    eof: bool,
    min_end: usize,
    starts_unit: &dyn Fn(&[u8], bool) -> Looks,
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
            Looks::Yes => return (c, true, false),
            Looks::No if c == buf.len() => return (c, true, false),
            Looks::No => {
                pos = c;
                last_line = Some(c);
            }
            Looks::NeedMore => return (c, false, true),
        }
    }
}

/// The longest unfinished line a rejected region holds back (see `find_resync`).
const HOLD_LINE: usize = 64 * 1024;
