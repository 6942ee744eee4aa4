//! The workers: every unit of a batch parsed into a record and encoded, or rejected, with its
//! problems located in the batch.

use super::pool::Lease;
use super::rejoin::{self, Mark, MsgBytes};
use super::{Mode, Options};
use crate::diag::{messages, Problem, Severity};
use crate::record::{self, Record};
use crate::source::detect::InputFormat;
use crate::split::http::{counts_as_frame, Request, Verdict};
use crate::split::lines::clean_unit;
use crate::split::Event;
use std::borrow::Cow;
use std::ops::Range;

/// Bytes of one input cut at unit boundaries, with what the splitter found in them.
pub(super) struct Batch {
    /// The input's index in the run.
    pub input: usize,
    /// The block that made it.
    pub index: u64,
    /// How its units are parsed.
    pub format: InputFormat,
    /// Its buffers. Invariant: `lease.events` holds the splitter's events for the batch's
    /// bytes (see [`Batch::bytes`]), their offsets indexing them.
    pub lease: Lease,
    /// The batch's bytes when they are not in the lease (a long unit joined on its own).
    pub owned: Option<Vec<u8>>,
    /// Where the batch's bytes start in `owned`, or else in `lease.input`.
    pub start: usize,
    /// How many bytes the batch has.
    pub len: usize,
}

/// The bytes of a batch: `owned[start..start + len]`, or `lease.input[start..start + len]`.
fn bytes<'a>(lease: &'a Lease, owned: &'a Option<Vec<u8>>, start: usize, len: usize) -> &'a [u8] {
    match owned {
        Some(v) => &v[start..start + len],
        None => &lease.input[start..start + len],
    }
}

/// Rejected bytes, to be written to `--rejects` in order: a span of the batch's input, or
/// bytes the worker made (a frame from a decoded HTTP body).
pub(super) enum Rejected {
    /// `input[range]` of the batch.
    Span(Range<usize>),
    /// Bytes not in the batch as they were (a chunked or gzip body's).
    Owned(Vec<u8>),
}

/// A problem located relative to its batch.
pub(super) struct LocalDiag {
    pub problem: Problem,
    /// As reported (after `--strict`).
    pub severity: Severity,
    /// Newlines in the batch before `problem.at`.
    pub newlines_before: u64,
    /// The column when `newlines_before > 0`; otherwise `problem.at + 1`, to add to the column
    /// the batch starts at.
    pub column: u64,
    /// The index, in the batch, of the unit (frame or region) it belongs to.
    pub unit: u64,
}

/// What a worker made of a batch.
pub(super) struct BatchResult {
    pub input: usize,
    /// The batch's buffers: its input bytes (for rejects) and the encoded records in `out`.
    pub lease: Lease,
    /// The batch's bytes, when not in the lease.
    pub owned: Option<Vec<u8>>,
    /// Where the batch's bytes start.
    pub start: usize,
    /// The batch's length in bytes.
    pub len: usize,
    pub rejects: Vec<Rejected>,
    /// In input order.
    pub diags: Vec<LocalDiag>,
    /// Newlines in the batch.
    pub newlines: u64,
    /// Offset of the batch's last newline.
    pub last_newline: Option<usize>,
    /// Frames and rejected regions started in this batch.
    pub units: u64,
    pub records: u64,
    pub rejected: u64,
    pub warned: u64,
    pub duplicates: u64,
    /// `--on-error fail` stopped in this batch.
    pub stopped: bool,
    /// With `--rejoin`, one mark per record written, in order.
    pub marks: Vec<Mark>,
}

impl BatchResult {
    /// The batch's bytes.
    pub fn bytes(&self) -> &[u8] {
        bytes(&self.lease, &self.owned, self.start, self.len)
    }
}

/// Parses (and encodes) every unit of a batch.
pub(super) fn process(b: Batch, opts: &Options) -> BatchResult {
    let mut lease = b.lease;
    let events = std::mem::take(&mut lease.events);
    let mut out = std::mem::take(&mut lease.out);
    out.clear();
    if let Mode::Convert(_) = opts.mode {
        // JSON adds ~130 bytes of keys per record; twice the input is rarely exceeded.
        out.reserve(b.len * 2);
    }
    let buf = bytes(&lease, &b.owned, b.start, b.len);
    // `p_row_id`'s low half: input, block, then the record in the batch, so it is unique in a
    // run of up to a million inputs, whatever the thread count.
    let rows = ((b.input as u64) << 44) | ((b.index & 0xFF_FFFF) << 20);
    let mut w = Work {
        opts,
        rows,
        cli: b.format == InputFormat::Cli,
        lines: LineCursor::new(buf),
        buf,
        out,
        rejects: Vec::new(),
        diags: Vec::new(),
        units: 0,
        records: 0,
        rejected: 0,
        warned: 0,
        duplicates: 0,
        stopped: false,
        marks: Vec::new(),
    };
    w.events(&events, buf, &Place::Batch);
    w.lines.advance(buf.len());
    let Work {
        lines,
        out,
        rejects,
        mut diags,
        units,
        records,
        rejected,
        warned,
        duplicates,
        stopped,
        marks,
        ..
    } = w;
    // Reports list in input order. Within a batch, problems are found in order except where
    // one is known only later (a request's Msg-Count, once its body is framed).
    diags.sort_by_key(|d| d.problem.at);
    let (newlines, last_newline) = (lines.newlines, lines.last_newline);
    let mut events = events;
    events.clear();
    lease.events = events;
    lease.out = out;
    BatchResult {
        input: b.input,
        lease,
        owned: b.owned,
        start: b.start,
        len: b.len,
        rejects,
        diags,
        newlines,
        last_newline,
        units,
        records,
        rejected,
        warned,
        duplicates,
        stopped,
        marks,
    }
}

/// Where events' offsets point.
enum Place<'r> {
    /// Into the batch.
    Batch,
    /// Into a request's body, as [`Request::body`] gives it.
    Body(&'r Request),
}

impl Place<'_> {
    /// The batch offset of byte `o`.
    fn map(&self, o: usize) -> usize {
        match self {
            Place::Batch => o,
            Place::Body(r) => r.in_capture(o),
        }
    }

    /// The rejected bytes `bytes[range]`.
    fn rejected(&self, range: Range<usize>, bytes: &[u8]) -> Rejected {
        match self {
            Place::Batch => Rejected::Span(range),
            Place::Body(r) if r.contiguous() => {
                let start = r.in_capture(range.start);
                Rejected::Span(start..start + range.len())
            }
            Place::Body(_) => Rejected::Owned(bytes[range].to_vec()),
        }
    }
}

/// One unit to parse.
struct Unit<'u> {
    /// What the parser reads: a frame's MSG, a syslog line, a cleaned `cli` message.
    bytes: &'u [u8],
    /// LEN, for octet frames.
    len: Option<u64>,
    /// Parse as `heroku logs`.
    cli: bool,
    /// For `cli` continuation lines written on their own: the first line of their message,
    /// whose prefix gives the record's timestamp, source and process.
    message_line: Option<&'u [u8]>,
    /// Where the unit starts in the batch (the column of `length-mismatch`).
    at: usize,
}

/// A worker's state while it goes through one batch.
struct Work<'a> {
    opts: &'a Options,
    /// The batch's part of `p_row_id`; the record's number in the batch is added.
    rows: u64,
    /// The batch is `heroku logs` text.
    cli: bool,
    buf: &'a [u8],
    lines: LineCursor<'a>,
    out: Vec<u8>,
    rejects: Vec<Rejected>,
    diags: Vec<LocalDiag>,
    units: u64,
    records: u64,
    rejected: u64,
    warned: u64,
    duplicates: u64,
    stopped: bool,
    /// `--rejoin`'s marks of the records written so far.
    marks: Vec<Mark>,
}

impl Work<'_> {
    /// Goes through `events`, whose offsets index `bytes`, found at `place`.
    fn events(&mut self, events: &[Event], bytes: &[u8], place: &Place<'_>) {
        for ev in events {
            match *ev {
                Event::Frame {
                    start,
                    body,
                    end,
                    len,
                } => {
                    self.units += 1;
                    let unit = Unit {
                        bytes: &bytes[body..end],
                        len: Some(len),
                        cli: false,
                        message_line: None,
                        at: place.map(start),
                    };
                    self.unit(
                        unit,
                        &|o| place.map(body + o),
                        place.rejected(start..end, bytes),
                    );
                }
                Event::Line { start, end } => {
                    self.units += 1;
                    let raw = &bytes[start..end];
                    let (clean, moved) = if self.cli {
                        clean_unit(raw)
                    } else {
                        (Cow::Borrowed(raw), Vec::new())
                    };
                    let unit = Unit {
                        bytes: &clean,
                        len: None,
                        cli: self.cli,
                        message_line: None,
                        at: start,
                    };
                    let map = |o: usize| start + moved.get(o).copied().unwrap_or(o);
                    self.unit(unit, &map, Rejected::Span(start..end));
                }
                Event::Continuation {
                    start,
                    end,
                    ref message_line,
                } => {
                    self.units += 1;
                    let (clean, moved) = clean_unit(&bytes[start..end]);
                    let (line, _) = clean_unit(message_line);
                    let unit = Unit {
                        bytes: &clean,
                        len: None,
                        cli: true,
                        message_line: Some(&line),
                        at: start,
                    };
                    let map = |o: usize| start + moved.get(o).copied().unwrap_or(o);
                    self.unit(unit, &map, Rejected::Span(start..end));
                }
                Event::Error { ref problem, .. } => {
                    self.units += 1;
                    self.rejected += 1;
                    let p = problem.clone().moved(|at| place.map(at));
                    self.diag(p, Severity::Error);
                }
                Event::Skip { start, end } => {
                    let r = place.rejected(start..end, bytes);
                    self.rejects.push(r);
                }
                Event::Request(ref req) => self.request(req),
            }
            if self.rejected > 0 && self.opts.stop_at_first_error {
                self.stopped = true;
                return;
            }
        }
    }

    /// Records a problem at a batch offset, for the latest unit.
    fn diag(&mut self, problem: Problem, severity: Severity) {
        let (newlines_before, column) = self.lines.locate(problem.at);
        self.diags.push(LocalDiag {
            problem,
            severity,
            newlines_before,
            column,
            unit: self.units.saturating_sub(1),
        });
    }

    /// Parses a unit and encodes its record, or rejects it. `map` turns offsets in
    /// `unit.bytes` into batch offsets.
    fn unit(&mut self, unit: Unit<'_>, map: &dyn Fn(usize) -> usize, rejected: Rejected) {
        // Converting an octet frame or syslog line, MSG is checked to be UTF-8 in the pass that
        // encodes it (free for ASCII); everywhere else it is checked while parsing.
        let deferred = matches!(self.opts.mode, Mode::Convert(_)) && !unit.cli;
        let parsed = if let Some(line) = unit.message_line {
            record::parse_cli_continuation(line, unit.bytes).map(|(r, w)| (r, w, None))
        } else if unit.cli {
            record::parse_cli(unit.bytes).map(|(r, w)| (r, w, None))
        } else if deferred {
            record::parse_deferred(unit.bytes, unit.len).map(|(r, raw)| (r, None, raw))
        } else {
            record::parse(unit.bytes, unit.len).map(|(r, w)| (r, w, None))
        };
        let (mut record, warning, raw) = match parsed {
            Ok(p) => p,
            Err(problem) => {
                self.diag(problem.moved(map), Severity::Error);
                self.rejected += 1;
                self.rejects.push(rejected);
                return;
            }
        };
        // --rejoin: MSG's bytes before decoding, and where a frame that may start a chain
        // begins (located now, before the frame's own problems, so the line cursor only
        // moves forward).
        let msg_bytes = match &raw {
            Some(r) => Some(r.bytes),
            None => record.message.as_deref().map(str::as_bytes),
        };
        let start_at =
            (self.opts.rejoin && rejoin::may_start(msg_bytes)).then(|| self.lines.locate(unit.at));
        let rejoin_msg = self.opts.rejoin.then(|| MsgBytes::of(self.buf, msg_bytes));
        let strict = self.opts.strict;
        let mismatch = unit
            .len
            .filter(|&len| len != unit.bytes.len() as u64)
            .map(|len| messages::length_mismatch(unit.at, len, unit.bytes.len() as u64));
        let mut utf8 = warning.map(|w| w.moved(map));
        let mut encoded = false;
        if let Some(raw) = raw {
            if let Mode::Convert(encoder) = &self.opts.mode {
                // A record --strict rejects anyway is not written.
                if !(strict && mismatch.is_some()) {
                    let row = self.rows | (self.records + 1);
                    encoded = encoder.write_unchecked(&record, raw.bytes, row, &mut self.out);
                }
            }
            if !encoded {
                let (text, w) = raw.check();
                record.message = Some(text);
                utf8 = w.map(|w| w.moved(map));
            }
        }
        let warned = mismatch.is_some() || utf8.is_some();
        let severity = if strict {
            Severity::Error
        } else {
            Severity::Warning
        };
        for w in mismatch.into_iter().chain(utf8) {
            self.diag(w, severity);
        }
        if strict && warned {
            debug_assert!(
                !encoded,
                "a record with warnings is not written under --strict"
            );
            self.rejected += 1;
            self.rejects.push(rejected);
        } else {
            self.records += 1;
            self.warned += u64::from(warned);
            if !encoded {
                self.encode(&record);
            }
            if let Some(msg) = rejoin_msg {
                let mark = Mark::new(
                    &record,
                    self.out.len(),
                    unit.at,
                    self.units - 1,
                    self.rows | self.records,
                    msg,
                    warned,
                    start_at,
                );
                self.marks.push(mark);
            }
        }
    }

    fn encode(&mut self, record: &Record<'_>) {
        if let Mode::Convert(encoder) = &self.opts.mode {
            encoder.write(record, self.rows | self.records, &mut self.out);
        }
    }

    /// A saved drain POST: checks its verdict and Msg-Count, frames and parses its body.
    /// Offsets inside the body map back to the capture, except inside a gzip body, whose
    /// problems are reported at the body's first line.
    fn request(&mut self, req: &Request) {
        match &req.verdict {
            Verdict::Duplicate => {
                self.duplicates += 1;
                return;
            }
            Verdict::Refused(problem) => {
                self.units += 1;
                self.rejected += 1;
                self.diag(problem.clone(), Severity::Error);
                self.rejects.push(
                    match req.for_rejects(self.buf, self.opts.limits.max_body()) {
                        Some(bytes) => Rejected::Owned(bytes),
                        None => Rejected::Span(req.start..req.end),
                    },
                );
                return;
            }
            Verdict::Accept => {}
        }
        let body = req.body(self.buf);
        let limits = &self.opts.limits;
        let events = req.frames(&body, limits.max_frame, limits.lenient);
        self.events(&events, &body, &Place::Body(req));
        if self.stopped {
            return;
        }
        let found = events.iter().filter(|e| counts_as_frame(e)).count() as u64;
        if let Some(problem) = req.msg_count_problem(self.buf, found) {
            self.diag(problem, Severity::Error);
        }
    }
}

/// Turns batch offsets into (newlines before, column) by walking forward through the batch.
struct LineCursor<'a> {
    buf: &'a [u8],
    /// Invariant: `pos <= buf.len()`; `newlines` and `last_newline` describe `buf[..pos]`.
    pos: usize,
    newlines: u64,
    last_newline: Option<usize>,
}

impl<'a> LineCursor<'a> {
    fn new(buf: &'a [u8]) -> Self {
        LineCursor {
            buf,
            pos: 0,
            newlines: 0,
            last_newline: None,
        }
    }

    fn advance(&mut self, to: usize) {
        if to < self.pos {
            *self = LineCursor::new(self.buf);
        }
        // Every batch is walked to its end for the line count: count in bulk (memchr's
        // counting path) rather than stopping at each newline.
        let hay = &self.buf[self.pos..to];
        let n = memchr::memchr_iter(b'\n', hay).count();
        if n > 0 {
            self.newlines += n as u64;
            self.last_newline = memchr::memrchr(b'\n', hay).map(|i| self.pos + i);
        }
        self.pos = to;
    }

    fn locate(&mut self, offset: usize) -> (u64, u64) {
        // Splitters keep each error's offending byte inside its batch; should one ever not,
        // a release build reports the batch's end rather than abort the run.
        debug_assert!(offset <= self.buf.len(), "{offset} > {}", self.buf.len());
        let offset = offset.min(self.buf.len());
        self.advance(offset);
        match self.last_newline {
            Some(nl) => (self.newlines, (offset - nl) as u64),
            None => (0, offset as u64 + 1),
        }
    }
}
