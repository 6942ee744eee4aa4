//! The pipeline: bytes → frames → records → output, in parallel, in input order.
//!
//! One reader thread reads each input in bounded blocks and frames it (cheap: LEN jumps). Each
//! block, cut at a frame boundary, goes with its frame list to a rayon worker, which parses and
//! serialises it into a buffer of its own. The calling thread receives the results, puts them
//! back in input order, turns block-relative positions into lines and columns, and hands them
//! to a [`Sink`].
//!
//! Memory is bounded by a fixed pool of block buffers: the reader cannot get ahead of the
//! writer by more than the pool holds. Output is flushed whenever the writer has nothing more
//! to write right now, which makes a live pipe stream (each record leaves as soon as its frame
//! is complete) and costs nothing when input arrives faster than it is processed.

use crate::error::{Code, Diagnostic, Severity};
use crate::framer::{Event, Framer};
use crate::input::{self, Input};
use crate::parser;
use crate::writer::OutputSpec;
use std::collections::BTreeMap;
use std::io::{self, Read};
use std::ops::Range;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, Sender, SyncSender, TryRecvError};
use std::sync::Arc;

/// What the workers make of each frame.
#[derive(Clone, Debug)]
pub enum Mode {
    /// Serialise records.
    Convert(OutputSpec),
    /// Check only.
    Validate,
}

#[derive(Clone, Debug)]
pub struct Options {
    pub mode: Mode,
    pub threads: usize,
    pub max_frame: u64,
    pub lenient_length: bool,
    /// Warnings reject the frame.
    pub strict: bool,
    /// Stop at the first rejected frame (`--on-error fail`).
    pub stop_at_first_error: bool,
    /// Bytes read per block from a regular file.
    pub block_size: usize,
}

impl Options {
    pub fn new(mode: Mode) -> Options {
        Options {
            mode,
            threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
            max_frame: 1 << 20,
            lenient_length: false,
            strict: false,
            stop_at_first_error: false,
            block_size: 1 << 20,
        }
    }
}

/// Receives the pipeline's results in input order.
pub trait Sink {
    /// Serialised records.
    fn output(&mut self, bytes: &[u8]) -> io::Result<()>;
    /// The verbatim bytes of a rejected frame or region (possibly in several pieces).
    fn rejected(&mut self, bytes: &[u8]) -> io::Result<()>;
    /// A located problem. `line == 0` means the problem concerns the whole input.
    fn diagnostic(&mut self, d: &Diagnostic, input_name: &str) -> io::Result<()>;
    /// Called whenever no more results are ready: push out what has been written so far.
    fn flush(&mut self) -> io::Result<()>;
}

/// Counts over a whole run. `frames = records + rejected`: every frame (or rejected region)
/// ends up as exactly one of the two.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    pub inputs: u64,
    /// Inputs that could not be read to the end (I/O) or were not a capture (`format`).
    pub inputs_failed: u64,
    pub io_errors: u64,
    pub bytes: u64,
    pub frames: u64,
    pub records: u64,
    pub rejected: u64,
    /// Records that carry a warning.
    pub warned: u64,
    /// Diagnostics by code (index: `Code::index`), errors and warnings alike.
    pub by_code: [u64; Code::ALL.len()],
    /// The run stopped early (`--on-error fail`).
    pub stopped: bool,
}

impl Summary {
    pub fn errors(&self) -> u64 {
        Code::ALL
            .iter()
            .filter(|c| !c.is_warning())
            .map(|c| self.by_code[c.index()])
            .sum()
    }
    pub fn warnings(&self) -> u64 {
        Code::ALL
            .iter()
            .filter(|c| c.is_warning())
            .map(|c| self.by_code[c.index()])
            .sum()
    }
}

/// A pooled pair: a block of input and the buffer its output is serialised into. Both are
/// reused for the whole run, so steady state allocates nothing per block.
#[derive(Default)]
struct Buffers {
    input: Vec<u8>,
    out: Vec<u8>,
}

/// A block of one input, cut at a frame boundary, with what the framer found in it.
struct Batch {
    input: usize,
    bufs: Buffers,
    len: usize,
    events: Vec<Event>,
}

/// A diagnostic located relative to its batch.
struct LocalDiag {
    code: Code,
    severity: Severity,
    offset: usize,
    /// Newlines in the batch before `offset`.
    newlines_before: u64,
    /// Column when `newlines_before > 0`; otherwise `offset + 1`, to add to the column the
    /// batch starts at.
    column: u64,
    unit: u64,
    message: String,
}

struct BatchResult {
    input: usize,
    bufs: Buffers,
    len: usize,
    rejects: Vec<Range<usize>>,
    diags: Vec<LocalDiag>,
    newlines: u64,
    last_newline: Option<usize>,
    /// Frames and rejected regions started in this batch.
    units: u64,
    records: u64,
    rejected: u64,
    warned: u64,
    stopped: bool,
}

enum Item {
    InputStart,
    Batch(BatchResult),
    /// The input could not be opened or read to the end, or is not a capture.
    InputFailed {
        input: usize,
        code: Code,
        message: String,
    },
    InputEnd {
        bytes: u64,
    },
}

/// Runs the pipeline over `inputs`, calling `sink` in input order. Returns the run's summary;
/// an `Err` is a failure of the sink (e.g. output I/O), not of the data.
pub fn run(inputs: &[Input], opts: &Options, sink: &mut dyn Sink) -> io::Result<Summary> {
    let threads = opts.threads.max(1);
    let pool = Arc::new(
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .thread_name(|i| format!("drainpipe-worker-{i}"))
            .build()
            .map_err(io::Error::other)?,
    );
    // Enough buffers to keep every worker busy while the writer drains one and the reader
    // fills one.
    let buffers = threads * 2 + 2;
    let (free_tx, free_rx) = mpsc::sync_channel::<Buffers>(buffers);
    for _ in 0..buffers {
        free_tx.send(Buffers::default()).expect("pool has room");
    }
    let (tx, rx) = mpsc::channel::<(u64, Item)>();
    let stop = Arc::new(AtomicBool::new(false));

    // The reader is detached rather than scoped: when the writer stops early (`--on-error
    // fail`, a closed stdout) the reader may be blocked on a live pipe, and we must not wait.
    let reader = {
        let inputs = inputs.to_vec();
        let opts = Arc::new(opts.clone());
        let stop = stop.clone();
        let pool = pool.clone();
        std::thread::Builder::new()
            .name("drainpipe-reader".into())
            .spawn(move || read_all(&inputs, &opts, &pool, &free_rx, &tx, &stop))?
    };

    let names: Vec<String> = inputs.iter().map(Input::name).collect();
    let result = write_in_order(&names, rx, &free_tx, sink);
    stop.store(true, Ordering::Relaxed);
    drop(free_tx);
    if let Ok(ref s) = result {
        if !s.stopped {
            // Normal end: the reader has sent everything and is finishing.
            let _ = reader.join();
        }
    }
    result
}

/// Sequence numbers for items sent to the writer.
struct Sequencer<'a> {
    next: u64,
    tx: &'a Sender<(u64, Item)>,
}

impl Sequencer<'_> {
    fn take(&mut self) -> u64 {
        self.next += 1;
        self.next - 1
    }
    fn send(&mut self, item: Item) {
        let seq = self.take();
        let _ = self.tx.send((seq, item));
    }
}

fn read_all(
    inputs: &[Input],
    opts: &Arc<Options>,
    pool: &rayon::ThreadPool,
    free: &Receiver<Buffers>,
    tx: &Sender<(u64, Item)>,
    stop: &AtomicBool,
) {
    let mut seq = Sequencer { next: 0, tx };
    for (idx, input) in inputs.iter().enumerate() {
        if stop.load(Ordering::Relaxed) {
            return;
        }
        seq.send(Item::InputStart);
        let opened = match input::open(input) {
            Ok(o) => o,
            Err(e) => {
                seq.send(Item::InputFailed {
                    input: idx,
                    code: Code::Io,
                    message: io_message(&e),
                });
                continue;
            }
        };
        match read_one(idx, opened, opts, pool, free, &mut seq, stop) {
            Ok(0) => seq.send(Item::InputFailed {
                input: idx,
                code: Code::Format,
                message: "empty input: no drain capture in it".into(),
            }),
            Ok(bytes) => seq.send(Item::InputEnd { bytes }),
            Err((e, bytes)) => seq.send(Item::InputFailed {
                input: idx,
                code: Code::Io,
                message: format!("read error after {bytes} bytes: {}", io_message(&e)),
            }),
        }
    }
}

/// An I/O error as users should read it: the OS message without Rust's "(os error N)".
pub fn io_message(e: &io::Error) -> String {
    let s = e.to_string();
    match s.find(" (os error") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}

/// Reads, frames and dispatches one input. Returns the bytes read, or the error that ended the
/// input early with the bytes read until then (what was complete has been dispatched).
fn read_one(
    idx: usize,
    mut opened: input::Opened,
    opts: &Arc<Options>,
    pool: &rayon::ThreadPool,
    free: &Receiver<Buffers>,
    seq: &mut Sequencer<'_>,
    stop: &AtomicBool,
) -> Result<u64, (io::Error, u64)> {
    let block = opts.block_size.max(64);
    let mut framer = Framer::new(opts.max_frame).lenient(opts.lenient_length);
    let Ok(mut bufs) = free.recv() else {
        return Ok(0);
    };
    let mut len = 0;
    let mut total = 0u64;
    loop {
        if stop.load(Ordering::Relaxed) {
            return Ok(total);
        }
        // A frame bigger than the block (up to --max-frame) grows the buffer. It is zeroed once
        // when it grows and reused after that, so there is no per-block memset.
        let buf = &mut bufs.input;
        let want = if len == buf.len() {
            (len * 2).max(block)
        } else {
            block
        };
        if buf.len() < want {
            buf.resize(want, 0);
        }
        let (n, failure) = if opened.streaming {
            read_some(&mut opened.reader, &mut buf[len..])
        } else {
            read_full(&mut opened.reader, &mut buf[len..])
        };
        len += n;
        total += n as u64;
        let eof = failure.is_some() || n == 0 || (!opened.streaming && len < buf.len());
        let mut events = Vec::new();
        let consumed = framer.scan(&buf[..len], eof, &mut events);
        if consumed == 0 && events.is_empty() && !eof {
            continue;
        }
        let Ok(mut next) = free.recv() else {
            return Ok(total);
        };
        let rest = len - consumed;
        if next.input.len() < rest.max(block) {
            next.input.resize(rest.max(block), 0);
        }
        next.input[..rest].copy_from_slice(&buf[consumed..len]);
        dispatch(
            pool,
            seq,
            opts,
            Batch {
                input: idx,
                bufs,
                len: consumed,
                events,
            },
        );
        bufs = next;
        len = rest;
        if let Some(e) = failure {
            return Err((e, total));
        }
        if eof {
            return Ok(total);
        }
    }
}

/// One `read` call (retrying interruptions): whatever a pipe has now.
fn read_some(r: &mut dyn Read, buf: &mut [u8]) -> (usize, Option<io::Error>) {
    loop {
        match r.read(buf) {
            Ok(n) => return (n, None),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return (0, Some(e)),
        }
    }
}

/// Reads until `buf` is full or the input ends.
fn read_full(r: &mut dyn Read, buf: &mut [u8]) -> (usize, Option<io::Error>) {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return (n, Some(e)),
        }
    }
    (n, None)
}

fn dispatch(pool: &rayon::ThreadPool, seq: &mut Sequencer<'_>, opts: &Arc<Options>, b: Batch) {
    let s = seq.take();
    let tx = seq.tx.clone();
    let opts = opts.clone();
    pool.spawn(move || {
        let r = process(b, s, &opts);
        let _ = tx.send((s, Item::Batch(r)));
    });
}

/// Turns batch offsets into (newlines before, column) by walking forward through the batch.
struct LineCursor<'a> {
    buf: &'a [u8],
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
        for i in memchr::memchr_iter(b'\n', &self.buf[self.pos..to]) {
            self.newlines += 1;
            self.last_newline = Some(self.pos + i);
        }
        self.pos = to;
    }

    fn locate(&mut self, offset: usize) -> (u64, u64) {
        self.advance(offset);
        match self.last_newline {
            Some(nl) => (self.newlines, (offset - nl) as u64),
            None => (0, offset as u64 + 1),
        }
    }
}

/// The worker: parse (and serialise) every frame of a batch.
fn process(b: Batch, seq: u64, opts: &Options) -> BatchResult {
    let Buffers { input, mut out } = b.bufs;
    let buf = &input[..b.len];
    let mut lines = LineCursor::new(buf);
    out.clear();
    if let Mode::Convert(_) = opts.mode {
        // JSON adds ~130 bytes of keys per record; twice the input is rarely exceeded.
        out.reserve(b.len * 2);
    }
    let mut r = BatchResult {
        input: b.input,
        bufs: Buffers::default(),
        len: b.len,
        rejects: Vec::new(),
        diags: Vec::new(),
        newlines: 0,
        last_newline: None,
        units: 0,
        records: 0,
        rejected: 0,
        warned: 0,
        stopped: false,
    };
    let mut diag =
        |r: &mut BatchResult, code: Code, offset: usize, message: String, fatal: bool| {
            let (newlines_before, column) = lines.locate(offset);
            let severity = if fatal {
                Severity::Error
            } else {
                Severity::Warning
            };
            r.diags.push(LocalDiag {
                code,
                severity,
                offset,
                newlines_before,
                column,
                unit: r.units - 1,
                message,
            });
        };
    for ev in &b.events {
        match *ev {
            Event::Frame {
                start,
                body,
                end,
                len,
            } => {
                r.units += 1;
                match parser::parse(&buf[body..end], Some(len)) {
                    Ok((record, warning)) => {
                        let mut warnings = Vec::new();
                        let actual = (end - body) as u64;
                        if actual != len {
                            warnings.push((
                                Code::LengthMismatch,
                                start,
                                format!("length says {len}, frame has {actual}"),
                            ));
                        }
                        if let Some(w) = warning {
                            warnings.push((w.code, body + w.at, w.message));
                        }
                        let reject = opts.strict && !warnings.is_empty();
                        let warned = !warnings.is_empty();
                        for (code, at, msg) in warnings {
                            diag(&mut r, code, at, msg, opts.strict);
                        }
                        if reject {
                            r.rejected += 1;
                            r.rejects.push(start..end);
                        } else {
                            r.records += 1;
                            r.warned += u64::from(warned);
                            if let Mode::Convert(spec) = &opts.mode {
                                spec.write(&record, (seq << 32) | r.records, &mut out);
                            }
                        }
                    }
                    Err(e) => {
                        diag(&mut r, e.code, body + e.at, e.message, true);
                        r.rejected += 1;
                        r.rejects.push(start..end);
                    }
                }
            }
            Event::Error {
                at,
                code,
                ref message,
                ..
            } => {
                r.units += 1;
                r.rejected += 1;
                diag(&mut r, code, at, message.clone(), true);
            }
            Event::Skip { start, end } => r.rejects.push(start..end),
        }
        if r.rejected > 0 && opts.stop_at_first_error {
            r.stopped = true;
            break;
        }
    }
    lines.advance(buf.len());
    r.newlines = lines.newlines;
    r.last_newline = lines.last_newline;
    r.bufs = Buffers { input, out };
    r
}

/// Where the writer is in the current input.
#[derive(Default)]
struct Position {
    /// Line (1-based) at which the next batch starts.
    line: u64,
    /// Bytes already on that line before the batch starts.
    carry: u64,
    offset: u64,
    units: u64,
}

fn write_in_order(
    names: &[String],
    rx: Receiver<(u64, Item)>,
    free: &SyncSender<Buffers>,
    sink: &mut dyn Sink,
) -> io::Result<Summary> {
    let mut summary = Summary::default();
    let mut pending: BTreeMap<u64, Item> = BTreeMap::new();
    let mut next = 0u64;
    let mut pos = Position::default();
    loop {
        let item = match pending.remove(&next) {
            Some(item) => item,
            None => {
                let (s, item) = match rx.try_recv() {
                    Ok(x) => x,
                    Err(TryRecvError::Empty) => {
                        sink.flush()?;
                        match rx.recv() {
                            Ok(x) => x,
                            Err(_) => break,
                        }
                    }
                    Err(TryRecvError::Disconnected) => break,
                };
                pending.insert(s, item);
                continue;
            }
        };
        next += 1;
        match item {
            Item::InputStart => {
                summary.inputs += 1;
                pos = Position {
                    line: 1,
                    ..Position::default()
                };
            }
            Item::Batch(b) => {
                let name = &names[b.input];
                for d in &b.diags {
                    let diag = Diagnostic {
                        input: b.input,
                        code: d.code,
                        severity: d.severity,
                        line: pos.line + d.newlines_before,
                        column: if d.newlines_before == 0 {
                            pos.carry + d.column
                        } else {
                            d.column
                        },
                        offset: pos.offset + d.offset as u64,
                        frame: pos.units + d.unit,
                        message: d.message.clone(),
                    };
                    summary.by_code[d.code.index()] += 1;
                    sink.diagnostic(&diag, name)?;
                }
                sink.output(&b.bufs.out)?;
                for range in &b.rejects {
                    sink.rejected(&b.bufs.input[range.clone()])?;
                }
                summary.frames += b.units;
                summary.records += b.records;
                summary.rejected += b.rejected;
                summary.warned += b.warned;
                pos.line += b.newlines;
                pos.carry = match b.last_newline {
                    Some(nl) => (b.len - nl - 1) as u64,
                    None => pos.carry + b.len as u64,
                };
                pos.offset += b.len as u64;
                pos.units += b.units;
                let _ = free.send(b.bufs);
                if b.stopped {
                    summary.stopped = true;
                    sink.flush()?;
                    return Ok(summary);
                }
            }
            Item::InputFailed {
                input,
                code,
                message,
            } => {
                summary.inputs_failed += 1;
                if code == Code::Io {
                    summary.io_errors += 1;
                }
                summary.by_code[code.index()] += 1;
                let diag = Diagnostic {
                    input,
                    code,
                    severity: Severity::Error,
                    line: 0,
                    column: 0,
                    offset: pos.offset,
                    frame: pos.units,
                    message,
                };
                sink.diagnostic(&diag, &names[input])?;
            }
            Item::InputEnd { bytes } => summary.bytes += bytes,
        }
    }
    sink.flush()?;
    Ok(summary)
}
