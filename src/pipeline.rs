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

use crate::ansi;
use crate::detect::{self, Detection, Format};
use crate::error::{Code, Diagnostic, Severity};
use crate::framer::{Event, Framer};
use crate::http::{RecentIds, Request, Verdict};
use crate::input::{self, Input};
use crate::lines::End;
use crate::parser::{self, Record};
use crate::splitter::{Got, Pump, Splitter, IDLE};
use crate::writer::OutputSpec;
use std::borrow::Cow;
use std::collections::BTreeMap;
use std::io::{self, Read};
use std::ops::Range;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
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
    /// `--from`: the input format, instead of detecting it.
    pub format: Option<Format>,
    /// `--drain-token`: HTTP requests must carry this `Logplex-Drain-Token`.
    pub drain_token: Option<Vec<u8>>,
    /// Bytes read from the inputs' files so far, for a progress line.
    pub progress: Option<Arc<AtomicU64>>,
    /// How long a live `heroku logs` pipe must stay quiet before its pending message is taken
    /// as complete (`--idle-ms`).
    pub idle: std::time::Duration,
    /// What reports call stdin (`--stdin-name`; `<stdin>` by default).
    pub stdin_name: Option<String>,
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
            format: None,
            drain_token: None,
            progress: None,
            idle: IDLE,
            stdin_name: None,
        }
    }

    /// The name reports give `input`.
    pub fn name_of(&self, input: &Input) -> String {
        match (input, &self.stdin_name) {
            (Input::Stdin, Some(n)) => n.clone(),
            _ => input.name(),
        }
    }
}

/// Both sinks get everything, in order (`convert --report-json`).
pub struct Tee<'a, 'b>(pub &'a mut dyn Sink, pub &'b mut dyn Sink);

impl Sink for Tee<'_, '_> {
    fn output(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.0.output(bytes)?;
        self.1.output(bytes)
    }
    fn rejected(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.0.rejected(bytes)?;
        self.1.rejected(bytes)
    }
    fn diagnostic(&mut self, d: &Diagnostic, input_name: &str) -> io::Result<()> {
        self.0.diagnostic(d, input_name)?;
        self.1.diagnostic(d, input_name)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.0.flush()?;
        self.1.flush()
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
#[derive(Clone, Debug, PartialEq, Eq)]
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
    /// Diagnostics reported as errors, by code (index: `Code::index`). A warning that
    /// `--strict` promoted is counted here, under its own code.
    pub errors_by_code: [u64; Code::ALL.len()],
    /// Diagnostics reported as warnings, by code.
    pub warnings_by_code: [u64; Code::ALL.len()],
    /// HTTP requests skipped as retries (their `Logplex-Frame-Id` was seen before). Their
    /// frames are neither records nor errors.
    pub duplicates: u64,
    /// The run stopped early (`--on-error fail`).
    pub stopped: bool,
}

impl Default for Summary {
    fn default() -> Summary {
        Summary {
            inputs: 0,
            inputs_failed: 0,
            io_errors: 0,
            bytes: 0,
            frames: 0,
            records: 0,
            rejected: 0,
            warned: 0,
            errors_by_code: [0; Code::ALL.len()],
            warnings_by_code: [0; Code::ALL.len()],
            duplicates: 0,
            stopped: false,
        }
    }
}

impl Summary {
    /// Diagnostics reported as errors (after `--strict`).
    pub fn errors(&self) -> u64 {
        self.errors_by_code.iter().sum()
    }
    /// Diagnostics reported as warnings.
    pub fn warnings(&self) -> u64 {
        self.warnings_by_code.iter().sum()
    }
    /// Counts by code of the diagnostics reported with `severity`.
    pub fn by_code(&self, severity: Severity) -> &[u64; Code::ALL.len()] {
        match severity {
            Severity::Error => &self.errors_by_code,
            Severity::Warning => &self.warnings_by_code,
        }
    }
    fn count(&mut self, code: Code, severity: Severity) {
        match severity {
            Severity::Error => self.errors_by_code[code.index()] += 1,
            Severity::Warning => self.warnings_by_code[code.index()] += 1,
        }
    }
}

/// A pooled set: a block of input, what the splitter found in it, and the buffer its output
/// is serialised into. All are reused for the whole run, so steady state allocates nothing per
/// block (a fresh event list per block cost page faults and zeroing: its ~200 KB come from
/// mmap each time).
#[derive(Default)]
struct Buffers {
    input: Vec<u8>,
    events: Vec<Event>,
    out: Vec<u8>,
}

/// A block of one input, cut at a frame boundary, with what the framer found in it.
struct Batch {
    input: usize,
    format: Format,
    /// `bufs.events` holds the splitter's events for `bufs.input[..len]`.
    bufs: Buffers,
    len: usize,
}

/// Rejected bytes, to be written to `--rejects` in order: a span of the batch's input, or
/// bytes the worker made (a frame from a decoded HTTP body).
enum Rejected {
    Span(Range<usize>),
    Owned(Vec<u8>),
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
    rejects: Vec<Rejected>,
    diags: Vec<LocalDiag>,
    newlines: u64,
    last_newline: Option<usize>,
    /// Frames and rejected regions started in this batch.
    units: u64,
    records: u64,
    rejected: u64,
    warned: u64,
    duplicates: u64,
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

    let names: Vec<String> = inputs.iter().map(|i| opts.name_of(i)).collect();
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
    // HTTP retries are recognised across the whole run.
    let mut seen = RecentIds::default();
    let mut spare = None;
    for (idx, input) in inputs.iter().enumerate() {
        if stop.load(Ordering::Relaxed) {
            return;
        }
        seq.send(Item::InputStart);
        let opened = match input::open_counted(input, opts.progress.clone()) {
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
        let mut reader = Reader {
            idx,
            opts,
            pool,
            free,
            seq: &mut seq,
            stop,
            seen: std::mem::take(&mut seen),
            spare: spare.take(),
            current: None,
        };
        let end = reader.read_one(opened);
        (seen, spare) = reader.finish();
        match end {
            InputEnd::Done(bytes) => seq.send(Item::InputEnd { bytes }),
            InputEnd::Failed(code, message) => seq.send(Item::InputFailed {
                input: idx,
                code,
                message,
            }),
        }
    }
}

pub use crate::error::io_message;

enum InputEnd {
    /// Read to the end: the bytes read.
    Done(u64),
    /// Cut short (what was complete before has been dispatched) or not a capture.
    Failed(Code, String),
}

/// The reading side for one input.
struct Reader<'a, 's> {
    idx: usize,
    opts: &'a Arc<Options>,
    pool: &'a rayon::ThreadPool,
    free: &'a Receiver<Buffers>,
    seq: &'a mut Sequencer<'s>,
    stop: &'a AtomicBool,
    seen: RecentIds,
    /// Buffers carried from one input to the next.
    spare: Option<Buffers>,
    /// The splitter of the input being read, once its format is known.
    current: Option<Splitter>,
}

impl Reader<'_, '_> {
    /// Reads, splits and dispatches one input in bounded blocks.
    fn read_one(&mut self, opened: input::Opened) -> InputEnd {
        let opts = self.opts;
        let block = opts.block_size.max(64);
        let streaming = opened.streaming;
        let mut reader = opened.reader;
        let mut pump: Option<Pump> = None;
        self.current = opts.format.map(|f| self.splitter(f));
        let mut format = opts.format;
        // The buffers left from the previous input, or fresh ones from the pool. Every way out
        // of this function puts the current ones back in `spare`: a buffer dropped here would
        // be one fewer in the pool, and after a few inputs the reader would wait forever.
        let Some(mut bufs) = self.spare.take().or_else(|| self.free.recv().ok()) else {
            return InputEnd::Done(0);
        };
        let mut len = 0;
        let mut total = 0u64;
        // An idle scan has been done and nothing arrived since: wait without a timeout.
        let mut idle_done = false;
        // Bytes at the start of the buffer that belong to no unit: a UTF-8 byte-order mark at
        // the very start of the input (`None` until the first bytes tell). Only the first
        // batch has any.
        let mut skip: Option<usize> = None;
        loop {
            if self.stop.load(Ordering::Relaxed) {
                self.spare = Some(bufs);
                return InputEnd::Done(total);
            }
            // A unit bigger than the block (up to --max-frame) grows the buffer. It is zeroed
            // once when it grows and reused after that, so there is no per-block memset.
            let buf = &mut bufs.input;
            let want = if len == buf.len() {
                (len * 2).max(block)
            } else {
                block
            };
            if buf.len() < want {
                buf.resize(want, 0);
            }
            let mut idle = false;
            let (n, failure) = match pump.as_mut() {
                Some(p) => {
                    let timeout = if idle_done || len == 0 {
                        None
                    } else {
                        Some(opts.idle)
                    };
                    match p.read(&mut buf[len..], timeout) {
                        Got::Bytes(n) => (n, None),
                        Got::Idle => {
                            idle = true;
                            (0, None)
                        }
                        Got::Eof => (0, None),
                        Got::Failed(e) => (0, Some(e)),
                    }
                }
                None if streaming => read_some(&mut reader, &mut buf[len..]),
                None => read_full(&mut reader, &mut buf[len..]),
            };
            idle_done = idle;
            len += n;
            total += n as u64;
            let eof = failure.is_some() || (n == 0 && !idle) || (!streaming && len < buf.len());
            let mut events = std::mem::take(&mut bufs.events);
            events.clear();
            let start = match skip {
                Some(n) => n,
                None if len < BOM.len() && !eof && BOM.starts_with(&buf[..len]) => {
                    bufs.events = events;
                    continue;
                }
                None => *skip.insert(if buf[..len].starts_with(BOM) {
                    BOM.len()
                } else {
                    0
                }),
            };
            let mut start = start;
            if self.current.is_none() {
                match detect::detect(&buf[start..len], eof) {
                    Detection::NeedMore => {
                        bufs.events = events;
                        continue;
                    }
                    Detection::Unknown => {
                        bufs.events = events;
                        self.spare = Some(bufs);
                        return match failure {
                            Some(e) => InputEnd::Failed(
                                Code::Io,
                                format!("read error after {total} bytes: {}", io_message(&e)),
                            ),
                            None => InputEnd::Failed(Code::Format, unknown_format(len)),
                        };
                    }
                    Detection::Found(f, at) => {
                        let at = start + at;
                        if at > start {
                            events.push(Event::Error {
                                start,
                                at: start,
                                code: Code::Garbage,
                                message: format!(
                                    "not part of the {} capture that starts on a later line: \
                                     found {}",
                                    f.name(),
                                    crate::error::quote(
                                        &buf[start
                                            ..memchr::memchr(b'\n', &buf[start..at])
                                                .map_or(at, |i| start + i)],
                                        40
                                    )
                                ),
                            });
                            events.push(Event::Skip { start, end: at });
                        }
                        start = at;
                        format = Some(f);
                        self.current = Some(self.splitter(f));
                    }
                }
            }
            if streaming && format == Some(Format::Cli) && pump.is_none() {
                // From now on read through the pump, so a quiet pipe can be noticed.
                let r = std::mem::replace(&mut reader, Box::new(io::empty()));
                pump = Some(Pump::new(r));
            }
            let sp = self.current.as_mut().expect("format known");
            let end = if eof {
                End::Eof
            } else if idle {
                End::Idle
            } else {
                End::More
            };
            let consumed = if start == 0 {
                sp.scan(&buf[..len], end, &mut events)
            } else {
                let mut rest = Vec::new();
                let n = sp.scan(&buf[start..len], end, &mut rest);
                events.extend(rest.into_iter().map(|e| e.shifted(start)));
                start + n
            };
            if consumed == 0 && events.is_empty() && !eof {
                bufs.events = events;
                continue;
            }
            let Ok(mut next) = self.free.recv() else {
                bufs.events = events;
                self.spare = Some(bufs);
                return InputEnd::Done(total);
            };
            let rest = len - consumed;
            if next.input.len() < rest.max(block) {
                next.input.resize(rest.max(block), 0);
            }
            next.input[..rest].copy_from_slice(&bufs.input[consumed..len]);
            dispatch(
                self.pool,
                self.seq,
                opts,
                Batch {
                    input: self.idx,
                    format: format.expect("format known"),
                    bufs: Buffers { events, ..bufs },
                    len: consumed,
                },
            );
            bufs = next;
            len = rest;
            skip = Some(0);
            if failure.is_some() || eof {
                self.spare = Some(std::mem::take(&mut bufs));
            }
            if let Some(e) = failure {
                return InputEnd::Failed(
                    Code::Io,
                    format!("read error after {total} bytes: {}", io_message(&e)),
                );
            }
            if eof {
                if total == 0 {
                    return InputEnd::Failed(Code::Format, unknown_format(0));
                }
                return InputEnd::Done(total);
            }
        }
    }

    /// A splitter for this input. An HTTP one borrows the run's Frame-Ids; [`Reader::finish`]
    /// takes them back however the input ended.
    fn splitter(&mut self, f: Format) -> Splitter {
        let seen = if f == Format::Http {
            std::mem::take(&mut self.seen)
        } else {
            RecentIds::default()
        };
        Splitter::new(
            f,
            self.opts.max_frame,
            self.opts.lenient_length,
            self.opts.drain_token.clone(),
            seen,
        )
    }

    /// What carries over to the next input: the Frame-Ids seen and the spare buffers.
    fn finish(mut self) -> (RecentIds, Option<Buffers>) {
        if let Some(seen) = self.current.take().and_then(Splitter::into_seen) {
            self.seen = seen;
        }
        (self.seen, self.spare)
    }
}

/// A UTF-8 byte-order mark: removed from the very start of an input before detection (SPEC §1).
const BOM: &[u8] = b"\xEF\xBB\xBF";

fn unknown_format(len: usize) -> String {
    if len == 0 {
        return "empty input: no drain capture in it".into();
    }
    let within = if len >= detect::WINDOW {
        format!("in its first {} KiB", detect::WINDOW / 1024)
    } else {
        "in it".to_string()
    };
    format!(
        "not a drain capture: no line {within} starts like octet frames (`LEN <PRI>`), \
         syslog lines (`<PRI>`), HTTP requests (`POST `) or `heroku logs` output \
         (`YYYY-MM-DDT`); --from says which format to read it as"
    )
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

/// The worker: parse (and serialise) every unit of a batch.
fn process(b: Batch, seq: u64, opts: &Options) -> BatchResult {
    let Buffers {
        input,
        mut events,
        mut out,
    } = b.bufs;
    out.clear();
    if let Mode::Convert(_) = opts.mode {
        // JSON adds ~130 bytes of keys per record; twice the input is rarely exceeded.
        out.reserve(b.len * 2);
    }
    let buf = &input[..b.len];
    let mut w = Work {
        opts,
        seq,
        buf,
        lines: LineCursor::new(buf),
        out,
        r: BatchResult {
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
            duplicates: 0,
            stopped: false,
        },
    };
    for ev in &events {
        match *ev {
            Event::Frame {
                start,
                body,
                end,
                len,
            } => {
                w.r.units += 1;
                let unit = Unit {
                    bytes: &buf[body..end],
                    len: Some(len),
                    cli: false,
                    message_line: None,
                    at: start,
                };
                w.unit(unit, &|o| body + o, Rejected::Span(start..end));
            }
            Event::Line { start, end } => {
                w.r.units += 1;
                let raw = &buf[start..end];
                let cli = b.format == Format::Cli;
                let (bytes, moved) = if cli {
                    clean_cli(raw)
                } else {
                    (Cow::Borrowed(raw), Vec::new())
                };
                let unit = Unit {
                    bytes: &bytes,
                    len: None,
                    cli,
                    message_line: None,
                    at: start,
                };
                let map = |o: usize| start + moved.get(o).copied().unwrap_or(o);
                w.unit(unit, &map, Rejected::Span(start..end));
            }
            Event::Continuation {
                start,
                end,
                ref message_line,
            } => {
                w.r.units += 1;
                let (bytes, moved) = clean_cli(&buf[start..end]);
                let (line, _) = clean_cli(message_line);
                let unit = Unit {
                    bytes: &bytes,
                    len: None,
                    cli: true,
                    message_line: Some(&line),
                    at: start,
                };
                let map = |o: usize| start + moved.get(o).copied().unwrap_or(o);
                w.unit(unit, &map, Rejected::Span(start..end));
            }
            Event::Error {
                at,
                code,
                ref message,
                ..
            } => {
                w.r.units += 1;
                w.r.rejected += 1;
                w.diag(code, at, message.clone(), true);
            }
            Event::Skip { start, end } => w.r.rejects.push(Rejected::Span(start..end)),
            Event::Request(ref req) => w.request(req),
        }
        if w.r.rejected > 0 && opts.stop_at_first_error {
            w.r.stopped = true;
            break;
        }
    }
    w.lines.advance(buf.len());
    let Work {
        mut r, lines, out, ..
    } = w;
    // Reports list in input order. Within a batch, diagnostics are found in order except where
    // one is known only later (a request's Msg-Count, once its body is framed).
    r.diags.sort_by_key(|d| d.offset);
    r.newlines = lines.newlines;
    r.last_newline = lines.last_newline;
    events.clear();
    r.bufs = Buffers { input, events, out };
    r
}

/// `heroku logs` text as the parser wants it: every colour code (SGR) removed from the whole
/// unit, message and continuation lines included, and any other escape sequence inside the
/// `TIMESTAMP SOURCE[PROCESS]:` prefix (SPEC §1: the Heroku CLI colours message bodies too);
/// `\r\n` line ends as `\n`. When that removes bytes, the second value maps each byte of the
/// result to its offset in `raw`, so columns still point into the capture.
fn clean_cli(raw: &[u8]) -> (Cow<'_, [u8]>, Vec<usize>) {
    // Most messages have neither: nothing to allocate.
    if memchr::memchr2(0x1b, b'\r', raw).is_none() {
        return (Cow::Borrowed(raw), Vec::new());
    }
    let first = &raw[..memchr::memchr(b'\n', raw).unwrap_or(raw.len())];
    let visible = crate::lines::prefix_len(&ansi::strip_ansi(first), true).unwrap_or(0);
    let mut drop = vec![false; raw.len()];
    let mut dropped = false;
    let (mut i, mut seen) = (0, 0);
    while let Some(k) = memchr::memchr(0x1b, &raw[i..]) {
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

/// One unit to parse.
struct Unit<'u> {
    /// What the parser reads: a frame's MSG, a syslog line, a cleaned `cli` message.
    bytes: &'u [u8],
    /// LEN, for octet frames.
    len: Option<u64>,
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
    seq: u64,
    buf: &'a [u8],
    lines: LineCursor<'a>,
    out: Vec<u8>,
    r: BatchResult,
}

impl Work<'_> {
    /// Records a diagnostic at batch offset `offset`, for the latest unit.
    fn diag(&mut self, code: Code, offset: usize, message: String, error: bool) {
        let (newlines_before, column) = self.lines.locate(offset);
        self.r.diags.push(LocalDiag {
            code,
            severity: if error {
                Severity::Error
            } else {
                Severity::Warning
            },
            offset,
            newlines_before,
            column,
            unit: self.r.units.saturating_sub(1),
            message,
        });
    }

    /// Parses a unit and writes its record, or rejects it. `map` turns offsets in
    /// `unit.bytes` into batch offsets.
    fn unit(&mut self, unit: Unit<'_>, map: &dyn Fn(usize) -> usize, rejected: Rejected) {
        let parsed = if let Some(line) = unit.message_line {
            parser::parse_cli_continuation(line, unit.bytes)
        } else if unit.cli {
            parser::parse_cli(unit.bytes)
        } else {
            parser::parse(unit.bytes, unit.len)
        };
        match parsed {
            Ok((record, warning)) => {
                let mut warnings = Vec::new();
                if let Some(len) = unit.len {
                    let actual = unit.bytes.len() as u64;
                    if actual != len {
                        warnings.push((
                            Code::LengthMismatch,
                            unit.at,
                            format!("length says {len}, frame has {actual}"),
                        ));
                    }
                }
                if let Some(w) = warning {
                    warnings.push((w.code, map(w.at), w.message));
                }
                let strict = self.opts.strict;
                let warned = !warnings.is_empty();
                for (code, at, msg) in warnings {
                    self.diag(code, at, msg, strict);
                }
                if strict && warned {
                    self.r.rejected += 1;
                    self.r.rejects.push(rejected);
                } else {
                    self.r.records += 1;
                    self.r.warned += u64::from(warned);
                    self.write(&record);
                }
            }
            Err(e) => {
                self.diag(e.code, map(e.at), e.message, true);
                self.r.rejected += 1;
                self.r.rejects.push(rejected);
            }
        }
    }

    fn write(&mut self, record: &Record<'_>) {
        if let Mode::Convert(spec) = &self.opts.mode {
            spec.write(record, (self.seq << 32) | self.r.records, &mut self.out);
        }
    }

    /// A saved drain POST: checks its verdict and Msg-Count, frames and parses its body.
    /// Offsets inside the body map back to the capture, except inside a gzip body, whose
    /// problems are reported at the body's first line.
    fn request(&mut self, req: &Request) {
        match req.verdict {
            Verdict::Duplicate => {
                self.r.duplicates += 1;
                return;
            }
            Verdict::Unauthorized { at, reason } => {
                self.r.units += 1;
                self.r.rejected += 1;
                self.diag(Code::Auth, at, format!("request rejected: {reason}"), true);
                self.r.rejects.push(Rejected::Span(req.start..req.end));
                return;
            }
            Verdict::Accept => {}
        }
        let body = req.body(self.buf);
        // Body bytes sit contiguously in the capture only without gzip and chunking.
        let contiguous = !req.gzip && req.body.len() == 1;
        let map = |o: usize| {
            if req.gzip {
                req.body_start
            } else {
                req.body_offset(o)
            }
        };
        let span = |start: usize, end: usize, body: &[u8]| {
            if contiguous {
                Rejected::Span(map(start)..map(start) + (end - start))
            } else {
                Rejected::Owned(body[start..end].to_vec())
            }
        };
        let mut events = Vec::new();
        Framer::new(self.opts.max_frame)
            .lenient(self.opts.lenient_length)
            .scan(&body, true, &mut events);
        let mut found = 0u64;
        for ev in events {
            match ev {
                Event::Frame {
                    start,
                    body: b,
                    end,
                    len,
                } => {
                    self.r.units += 1;
                    found += 1;
                    let unit = Unit {
                        bytes: &body[b..end],
                        len: Some(len),
                        cli: false,
                        message_line: None,
                        at: map(start),
                    };
                    self.unit(unit, &|o| map(b + o), span(start, end, &body));
                }
                Event::Error {
                    at, code, message, ..
                } => {
                    self.r.units += 1;
                    self.r.rejected += 1;
                    // A frame that failed counts for Logplex-Msg-Count; skipped bytes where no
                    // frame starts (garbage) do not.
                    if code != Code::Garbage {
                        found += 1;
                    }
                    self.diag(code, map(at), message, true);
                }
                Event::Skip { start, end } => self.r.rejects.push(span(start, end, &body)),
                Event::Line { .. } | Event::Continuation { .. } | Event::Request(_) => {
                    unreachable!("octet framer")
                }
            }
            if self.r.rejected > 0 && self.opts.stop_at_first_error {
                return;
            }
        }
        if let Some(r) = &req.msg_count {
            let v = &self.buf[r.clone()];
            let declared = std::str::from_utf8(v)
                .ok()
                .and_then(|t| t.parse::<u64>().ok());
            let message = match declared {
                Some(n) if n == found => None,
                Some(n) => Some(format!(
                    "Logplex-Msg-Count says {n} frames, the body holds {found}"
                )),
                None => Some(format!(
                    "Logplex-Msg-Count is not a number: {}",
                    crate::error::quote(v, 24)
                )),
            };
            if let Some(m) = message {
                self.diag(Code::MsgCount, r.start, m, true);
            }
        }
    }
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
                    summary.count(d.code, d.severity);
                    sink.diagnostic(&diag, name)?;
                }
                sink.output(&b.bufs.out)?;
                for rej in &b.rejects {
                    let bytes = match rej {
                        Rejected::Span(r) => &b.bufs.input[r.clone()],
                        Rejected::Owned(v) => v,
                    };
                    sink.rejected(bytes)?;
                }
                summary.frames += b.units;
                summary.records += b.records;
                summary.rejected += b.rejected;
                summary.warned += b.warned;
                summary.duplicates += b.duplicates;
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
                summary.count(code, Severity::Error);
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
