//! The reader thread: each input in turn, read in bounded blocks, its format detected, split,
//! and handed to the workers a batch at a time.

use super::pool::{Buffers, Lease, Pool};
use super::worker::{self, Batch};
use super::{Item, Options, Sequencer};
use crate::diag::{messages, Problem};
use crate::source::detect::{self, bom_len, Detection, InputFormat, WINDOW};
use crate::source::pump::{Arrived, Pump};
use crate::source::{self, Input, Opened};
use crate::split::http::RecentIds;
use crate::split::{End, Event, Splitter};
use std::io::{self, Read};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// Reads every input in order, sending what it finds to the writer through `seq` and batches
/// to the `workers`.
pub(super) fn read_all(
    inputs: &[Input],
    opts: &Arc<Options>,
    workers: &rayon::ThreadPool,
    pool: &Pool,
    mut seq: Sequencer,
    stop: &AtomicBool,
) {
    // HTTP retries are recognised across the whole run.
    let mut seen = RecentIds::default();
    for (input, source) in inputs.iter().enumerate() {
        if stop.load(Ordering::Relaxed) {
            return;
        }
        seq.send(Item::InputStart);
        let ending = match source::open_counted(source, opts.progress.clone()) {
            Ok(opened) => {
                let mut reader = InputReader {
                    input,
                    opts,
                    workers,
                    pool,
                    seq: &mut seq,
                    stop,
                    seen: &mut seen,
                    splitter: None,
                };
                let ending = reader.read(opened);
                reader.give_back_seen();
                ending
            }
            Err(e) => Ending::Failed(messages::cannot_open(&e)),
        };
        seq.send(match ending {
            Ending::Read(bytes) => Item::InputDone { bytes },
            Ending::Failed(problem) => Item::InputFailed { input, problem },
        });
    }
}

/// How an input ended.
enum Ending {
    /// Read to the end (or the run stopped): the bytes read.
    Read(u64),
    /// Cut short (what was complete before has been dispatched) or not a capture.
    Failed(Problem),
}

/// The reading side of one input.
struct InputReader<'a> {
    input: usize,
    opts: &'a Arc<Options>,
    workers: &'a rayon::ThreadPool,
    pool: &'a Pool,
    seq: &'a mut Sequencer,
    stop: &'a AtomicBool,
    /// The run's Frame-Ids, lent to an HTTP splitter while it reads.
    seen: &'a mut RecentIds,
    /// The input's splitter, once its format is known.
    splitter: Option<Splitter>,
}

/// What one read gave.
struct Got {
    /// Bytes read.
    n: usize,
    /// Reading failed (after `n` bytes).
    failure: Option<io::Error>,
    /// A live pipe stayed quiet for the idle window.
    idle: bool,
}

impl InputReader<'_> {
    /// Reads, splits and dispatches the input in bounded blocks.
    fn read(&mut self, opened: Opened) -> Ending {
        let opts = self.opts;
        let block = opts.block_size;
        let streaming = opened.streaming;
        let mut reader = opened.reader;
        let mut pump: Option<Pump> = None;
        let mut format = opts.format;
        if let Some(f) = format {
            self.start_splitter(f);
        }
        let mut lease = self.pool.take();
        // Invariant: `lease.input[..len]` holds the bytes read and not yet dispatched.
        let mut len = 0;
        let mut total = 0u64;
        // An idle read has happened and nothing arrived since: wait without a timeout.
        let mut idle_done = false;
        // Bytes at the start of the buffer that belong to no unit: a UTF-8 byte-order mark at
        // the very start of the input (`None` until the first bytes tell). Only the first
        // batch has any.
        let mut skip: Option<usize> = None;
        loop {
            if self.stop.load(Ordering::Relaxed) {
                return Ending::Read(total);
            }
            // A unit bigger than the block (up to --max-frame) grows the buffer. It is zeroed
            // once when it grows and reused after that, so there is no per-block memset.
            let bufs: &mut Buffers = &mut lease;
            let buf = &mut bufs.input;
            let want = if len == buf.len() {
                (len * 2).max(block)
            } else {
                block
            };
            if buf.len() < want {
                buf.resize(want, 0);
            }
            let got = match pump.as_mut() {
                Some(p) => {
                    let wait = (!idle_done && len > 0).then_some(opts.idle);
                    pumped(p.read(&mut buf[len..], wait))
                }
                None if streaming => read_some(&mut reader, &mut buf[len..]),
                None => read_full(&mut reader, &mut buf[len..]),
            };
            idle_done = got.idle;
            len += got.n;
            total += got.n as u64;
            let eof = got.failure.is_some()
                || (got.n == 0 && !got.idle)
                || (!streaming && len < buf.len());
            let mut events = std::mem::take(&mut bufs.events);
            events.clear();
            let Some(mut start) = skip.or_else(|| bom_len(&buf[..len], eof)) else {
                bufs.events = events;
                continue;
            };
            skip = Some(start);
            if self.splitter.is_none() {
                match detect::detect(&buf[start..len], eof) {
                    Detection::NeedMore => {
                        bufs.events = events;
                        continue;
                    }
                    Detection::Unknown => {
                        return Ending::Failed(match got.failure {
                            Some(e) => messages::read_error(total, &e),
                            None => messages::unknown_format(len, WINDOW),
                        });
                    }
                    Detection::Found(f, at) => {
                        let at = start + at;
                        if at > start {
                            let first_line = &buf[start..at];
                            let first_line = &first_line
                                [..memchr::memchr(b'\n', first_line).unwrap_or(at - start)];
                            events.push(Event::Error {
                                start,
                                problem: messages::before_first_line(start, f.name(), first_line),
                            });
                            events.push(Event::Skip { start, end: at });
                        }
                        start = at;
                        format = Some(f);
                        self.start_splitter(f);
                    }
                }
            }
            if streaming && format == Some(InputFormat::Cli) && pump.is_none() {
                // From now on read through the pump, so a quiet pipe can be noticed.
                let r = std::mem::replace(&mut reader, Box::new(io::empty()));
                pump = Some(Pump::new(r));
            }
            let end = if eof {
                End::Eof
            } else if got.idle {
                End::Idle
            } else {
                End::More
            };
            let splitter = self.splitter.as_mut().expect("the format is known");
            let consumed = if start == 0 {
                splitter.scan(&buf[..len], end, &mut events)
            } else {
                let mut rest = Vec::new();
                let n = splitter.scan(&buf[start..len], end, &mut rest);
                events.extend(rest.into_iter().map(|e| e.shifted(start)));
                start + n
            };
            if consumed == 0 && events.is_empty() && !eof {
                bufs.events = events;
                continue;
            }
            // The bytes not consumed start the next batch.
            let mut next = self.pool.take();
            let rest = len - consumed;
            if next.input.len() < rest.max(block) {
                next.input.resize(rest.max(block), 0);
            }
            next.input[..rest].copy_from_slice(&lease.input[consumed..len]);
            lease.events = events;
            self.dispatch(lease, format.expect("the format is known"), consumed);
            lease = next;
            len = rest;
            skip = Some(0);
            if let Some(e) = got.failure {
                return Ending::Failed(messages::read_error(total, &e));
            }
            if eof {
                if total == 0 {
                    return Ending::Failed(messages::unknown_format(0, WINDOW));
                }
                return Ending::Read(total);
            }
        }
    }

    /// Sends a batch to a worker; its result reaches the writer under the next sequence
    /// number.
    fn dispatch(&mut self, lease: Lease, format: InputFormat, len: usize) {
        let seq = self.seq.take();
        let tx = self.seq.sender();
        let opts = self.opts.clone();
        let batch = Batch {
            input: self.input,
            format,
            lease,
            len,
        };
        self.workers.spawn(move || {
            let r = worker::process(batch, seq, &opts);
            let _ = tx.send((seq, Item::Batch(r)));
        });
    }

    /// Sets up the splitter for `format`; an HTTP one borrows the run's Frame-Ids.
    fn start_splitter(&mut self, format: InputFormat) {
        let seen = if format == InputFormat::Http {
            std::mem::take(self.seen)
        } else {
            RecentIds::default()
        };
        self.splitter = Some(Splitter::new(format, &self.opts.limits, seen));
    }

    /// Takes the run's Frame-Ids back from an HTTP splitter, however the input ended.
    fn give_back_seen(&mut self) {
        if let Some(seen) = self.splitter.take().and_then(Splitter::into_seen) {
            *self.seen = seen;
        }
    }
}

/// What a pump read means for the loop.
fn pumped(a: Arrived) -> Got {
    let (n, failure, idle) = match a {
        Arrived::Bytes(n) => (n, None, false),
        Arrived::Idle => (0, None, true),
        Arrived::Eof => (0, None, false),
        Arrived::Failed(e) => (0, Some(e), false),
    };
    Got { n, failure, idle }
}

/// One `read` call (retrying interruptions): whatever a pipe has now.
fn read_some(r: &mut dyn Read, buf: &mut [u8]) -> Got {
    loop {
        match r.read(buf) {
            Ok(n) => {
                return Got {
                    n,
                    failure: None,
                    idle: false,
                }
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => {
                return Got {
                    n: 0,
                    failure: Some(e),
                    idle: false,
                }
            }
        }
    }
}

/// Reads until `buf` is full or the input ends.
fn read_full(r: &mut dyn Read, buf: &mut [u8]) -> Got {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => {
                return Got {
                    n,
                    failure: Some(e),
                    idle: false,
                }
            }
        }
    }
    Got {
        n,
        failure: None,
        idle: false,
    }
}
