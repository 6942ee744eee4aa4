//! One input's framing: its blocks split in order, on the reader or on a worker.
//!
//! Splitting is sequential by nature (where block k's first unit starts depends on block
//! k-1's last one). A reader hands each raw block to the input's [`Chain`], which stitches the
//! unfinished unit the block before left (its *tail*) in front of the block's bytes, detects
//! the format, splits, and sends each framed batch to a parse job on the worker pool.
//!
//! Where the framing runs depends on what reading costs. A plain input is framed on its
//! reader, right after the read, while the bytes are in that core's cache (framing them on
//! another core measured ~20 % slower, README "Performance"). A gzip input's reader is busy
//! inflating, the one part of the work that cannot be shared, so its blocks are framed by a
//! framing job on the worker pool instead, which then parses the batch it framed on the same
//! thread. No worker ever waits for another: when the next block has not arrived, the framing
//! job ends, and the next [`Chain::offer`] starts a new one. The only thing that orders chains
//! is the run's HTTP Frame-Ids, which an HTTP input takes only once every input before it is
//! framed ([`Ids`]); a chain that must wait for them parks, and resumes on a worker.

use super::pool::Lease;
use super::worker::{self, Batch};
use super::{Ctx, Delivery, Ending};
use crate::diag::messages;
use crate::source::detect::{self, bom_len, Detection, InputFormat, WINDOW};
use crate::split::http::RecentIds;
use crate::split::{End, Event, Splitter};
use std::collections::{BTreeMap, VecDeque};
use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

/// Room at the front of every block buffer for the tail of the block before: the unfinished
/// unit is copied there, in front of the new bytes, instead of the new bytes behind it. A
/// longer tail (a unit over 64 KiB that crosses a block boundary) is joined in a buffer of its
/// own.
pub(super) const HEAD: usize = 64 * 1024;

/// A block as a reader delivers it.
pub(super) struct RawBlock {
    /// Its place in the input, from 0.
    pub index: u64,
    /// Invariant: `lease.input[HEAD..HEAD + len]` holds the block's bytes.
    pub lease: Lease,
    pub len: usize,
    /// What follows: more, a quiet pipe, or the end (also after a read error).
    pub end: End,
    /// Reading failed after these bytes.
    pub failure: Option<io::Error>,
}

/// The length of the blank lines `b` starts with: lines of nothing but whitespace and colour
/// codes (a `heroku logs` banner's reset, say).
fn blank_lines(b: &[u8]) -> usize {
    let mut n = 0;
    while n < b.len() {
        let end = memchr::memchr(b'\n', &b[n..]).map_or(b.len(), |i| n + i + 1);
        let line = crate::text::ansi::strip_ansi(&b[n..end]);
        if !line
            .iter()
            .all(|c| matches!(c, b' ' | b'\t' | b'\r' | b'\n' | 0x0b | 0x0c))
        {
            break;
        }
        n = end;
    }
    n
}

/// What framing a block gives: a batch to parse, nothing more to do (the block's delivery is
/// sent), or the block back (it must wait for the run's Frame-Ids).
type Framed = Result<Option<ParseJob>, RawBlock>;

/// A framed batch, and the input's ending if the batch ends it.
struct ParseJob {
    batch: Batch,
    ended: Option<Ending>,
    /// The live input went quiet after the batch's bytes.
    quiet: bool,
}

impl ParseJob {
    /// Parses the batch and hands the result to the writer.
    fn run(self, ctx: &Ctx) {
        let (input, block) = (self.batch.input, self.batch.index);
        let result = worker::process(self.batch, &ctx.opts);
        ctx.deliver(Delivery {
            input,
            block,
            batch: Some(result),
            ended: self.ended,
            quiet: self.quiet,
        });
    }
}

/// One input's blocks waiting to be framed, and the state framing carries from one to the
/// next.
pub(super) struct Chain {
    input: usize,
    ctx: Arc<Ctx>,
    /// Frame on the worker pool rather than on the reader (the reader inflates).
    offload: bool,
    /// The input is over (refused, failed, or framed to its end): the reader can stop.
    over: AtomicBool,
    /// The run's Frame-Ids may be taken (every earlier input is framed). Set before
    /// [`Chain::kick`]; read under `state`'s lock by a job about to park, so no wake-up is lost.
    ids_ready: AtomicBool,
    state: Mutex<State>,
}

struct State {
    queue: VecDeque<RawBlock>,
    /// A framing job holds the carry.
    running: bool,
    /// The next block waits for the run's Frame-Ids.
    parked: bool,
    /// `None` while a framing job holds it.
    carry: Option<Carry>,
}

/// What framing carries from block to block.
struct Carry {
    /// The input's splitter, once its format is known.
    splitter: Option<Splitter>,
    format: Option<InputFormat>,
    /// Bytes at the input's start that belong to no unit (a byte-order mark), once known.
    bom: Option<usize>,
    /// Bytes of earlier blocks no batch holds yet: a unit not finished, or bytes detection
    /// needs more of. At most a unit's worth (`--max-frame` and a line) once the format is
    /// known.
    tail: Vec<u8>,
    /// Bytes of the input so far.
    bytes: u64,
    /// The run's Frame-Ids are held by this input's HTTP splitter.
    holds_ids: bool,
}

impl Chain {
    /// The chain of input `input`; `offload` frames on the worker pool instead of the
    /// caller of [`Chain::offer`].
    pub(super) fn new(input: usize, ctx: Arc<Ctx>, offload: bool) -> Arc<Chain> {
        let format = ctx.opts.format;
        let offload = offload && !ctx.alone;
        Arc::new(Chain {
            input,
            ctx,
            offload,
            over: AtomicBool::new(false),
            ids_ready: AtomicBool::new(false),
            state: Mutex::new(State {
                queue: VecDeque::new(),
                running: false,
                parked: false,
                carry: Some(Carry {
                    splitter: None,
                    format,
                    bom: None,
                    tail: Vec::new(),
                    bytes: 0,
                    holds_ids: false,
                }),
            }),
        })
    }

    /// Whether the input needs no more blocks.
    pub(super) fn is_over(&self) -> bool {
        self.over.load(Ordering::Relaxed)
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Hands the next block over: frames it (and any queued before it) here, or starts a
    /// framing job on the worker pool if the chain offloads and none runs.
    pub(super) fn offer(self: &Arc<Self>, block: RawBlock) {
        let mut s = self.lock();
        s.queue.push_back(block);
        if !s.running && !s.parked {
            s.running = true;
            drop(s);
            if self.offload {
                self.spawn();
            } else {
                self.clone().frame_all(true);
            }
        }
    }

    /// Wakes a chain parked for the run's Frame-Ids, once they may be taken.
    fn kick(self: &Arc<Self>) {
        let mut s = self.lock();
        if s.parked && self.ids_ready.load(Ordering::Acquire) {
            s.parked = false;
            s.running = true;
            drop(s);
            self.spawn();
        }
    }

    fn spawn(self: &Arc<Self>) {
        let chain = self.clone();
        self.ctx.workers.spawn(move || chain.frame_all(false));
    }

    /// Frames the queued blocks in order until none is left or the next must wait for the
    /// run's Frame-Ids. On the reader (`on_reader`), every batch goes to a parse job (or is
    /// parsed right there when the run has one thread, [`Ctx::alone`]). In a
    /// framing job, the first batch is parsed right here, on the thread that just framed it
    /// and while its bytes are still in this core's cache, after the chain has gone on to a
    /// new framing job if more blocks wait.
    fn frame_all(self: Arc<Self>, on_reader: bool) {
        let mut carry = self
            .lock()
            .carry
            .take()
            .expect("the running job holds the carry");
        loop {
            let block = {
                let mut s = self.lock();
                match s.queue.pop_front() {
                    Some(b) => b,
                    None => {
                        s.carry = Some(carry);
                        s.running = false;
                        return;
                    }
                }
            };
            match self.frame(&mut carry, block) {
                Ok(None) => {}
                Ok(Some(job)) if on_reader && self.ctx.alone => job.run(&self.ctx),
                Ok(Some(job)) if on_reader => {
                    let ctx = self.ctx.clone();
                    self.ctx.workers.spawn(move || job.run(&ctx));
                }
                Ok(Some(job)) => {
                    let more = {
                        let mut s = self.lock();
                        s.carry = Some(carry);
                        s.running = !s.queue.is_empty();
                        s.running
                    };
                    if more {
                        self.spawn();
                    }
                    job.run(&self.ctx);
                    return;
                }
                Err(block) => {
                    // An HTTP input whose earlier inputs are not all framed: wait for their ids.
                    let mut s = self.lock();
                    s.queue.push_front(block);
                    if self.ids_ready.load(Ordering::Acquire) {
                        continue;
                    }
                    s.carry = Some(carry);
                    s.running = false;
                    s.parked = true;
                    return;
                }
            }
        }
    }

    /// Frames one block: gives back its batch to parse (or sends its delivery straight to the
    /// writer when it makes no batch). `Err` gives the block back when it must wait for the
    /// run's Frame-Ids.
    fn frame(self: &Arc<Self>, carry: &mut Carry, mut block: RawBlock) -> Framed {
        let ctx = &self.ctx;
        let index = block.index;
        let eof = block.end == End::Eof;
        if self.is_over() || ctx.stopped() {
            // What is left of an input that is over: its bytes are no one's.
            return self.no_batch(carry, index, None);
        }
        carry.bytes += block.len as u64;
        let mut events = std::mem::take(&mut block.lease.events);
        events.clear();
        // The bytes to split: the tail, then the block's.
        let n = block.len;
        let t = carry.tail.len();
        let (owned, start) = if t <= HEAD {
            block.lease.input[HEAD - t..HEAD].copy_from_slice(&carry.tail);
            carry.tail.clear();
            (None, HEAD - t)
        } else {
            carry
                .tail
                .extend_from_slice(&block.lease.input[HEAD..HEAD + n]);
            (Some(std::mem::take(&mut carry.tail)), 0)
        };
        let scan: &[u8] = match &owned {
            Some(v) => v,
            None => &block.lease.input[start..HEAD + n],
        };
        // A byte-order mark at the very start belongs to no unit.
        let Some(bom) = carry.bom.or_else(|| bom_len(scan, eof)) else {
            carry.tail.extend_from_slice(scan);
            block.lease.events = events;
            return self.no_batch(carry, index, None);
        };
        let mut skip = if carry.bom.is_none() { bom } else { 0 };
        carry.bom = Some(bom);
        if carry.splitter.is_none() && carry.format.is_none() {
            match detect::detect(&scan[skip..], eof) {
                Detection::NeedMore => {
                    // All of it waits, the mark included (it is skipped again next time).
                    carry.tail.extend_from_slice(scan);
                    carry.bom = None;
                    block.lease.events = events;
                    return self.no_batch(carry, index, None);
                }
                Detection::Unknown => {
                    let problem = match &block.failure {
                        Some(e) => messages::read_error(carry.bytes, e),
                        None => messages::unknown_format(scan.len(), WINDOW),
                    };
                    block.lease.events = events;
                    let ending = Ending::Failed {
                        problem,
                        bytes: carry.bytes,
                    };
                    return self.no_batch(carry, index, Some(ending));
                }
                Detection::Found(f, at) => {
                    let at = skip + at;
                    // Blank lines before the first unit are ignored, as between units.
                    let blank = blank_lines(&scan[skip..at]);
                    let from = skip + blank;
                    if at > from {
                        let first = &scan[from..at];
                        let first = &first[..memchr::memchr(b'\n', first).unwrap_or(first.len())];
                        events.push(Event::Error {
                            start: from,
                            problem: messages::before_first_line(from, f.name(), first),
                        });
                        events.push(Event::Skip {
                            start: from,
                            end: at,
                        });
                    }
                    skip = at;
                    carry.format = Some(f);
                }
            }
        }
        if carry.splitter.is_none() && ctx.opts.format.is_some() {
            // `--from` skips the detection, not the rule for what comes before the first
            // unit: blank lines (whitespace and colour codes only) are passed over. Only whole
            // lines: the last one may go on in the next block.
            let blank = blank_lines(&scan[skip..]);
            if !eof && skip + blank == scan.len() && scan.len() < WINDOW {
                // Nothing but blank lines yet (a live pipe): wait for the first unit, as
                // detection does, the mark included.
                carry.tail.extend_from_slice(scan);
                carry.bom = None;
                block.lease.events = events;
                return self.no_batch(carry, index, None);
            }
            skip += blank;
        }
        if carry.splitter.is_none() {
            let format = carry.format.expect("detected or given");
            if format != InputFormat::Http {
                carry.splitter = Some(Splitter::new(format, &ctx.opts.limits));
            } else if let Some(ids) = ctx.take_ids(self) {
                carry.holds_ids = true;
                carry.splitter = Some(Splitter::new_http(&ctx.opts.limits, ids));
            } else {
                // Undo this block's stitching: the tail goes back as it was, and the block
                // is framed again once the ids come.
                carry.bytes -= n as u64;
                carry.tail = match owned {
                    Some(mut v) => {
                        v.truncate(t);
                        v
                    }
                    None => block.lease.input[start..HEAD].to_vec(),
                };
                carry.bom = None;
                if carry.format.is_some() && ctx.opts.format.is_none() {
                    // Detection runs again too.
                    carry.format = None;
                }
                block.lease.events = events;
                return Err(block);
            }
        }
        let splitter = carry.splitter.as_mut().expect("just set");
        let consumed = if skip == 0 {
            splitter.scan(scan, block.end, &mut events)
        } else {
            let mut rest = Vec::new();
            let n = splitter.scan(&scan[skip..], block.end, &mut rest);
            events.extend(rest.into_iter().map(|e| e.shifted(skip)));
            skip + n
        };
        carry.tail.extend_from_slice(&scan[consumed..]);
        let ended = eof.then(|| {
            let ending = match &block.failure {
                Some(e) => Ending::Failed {
                    problem: messages::read_error(carry.bytes, e),
                    bytes: carry.bytes,
                },
                None if carry.bytes == 0 => Ending::Failed {
                    problem: messages::unknown_format(0, WINDOW),
                    bytes: 0,
                },
                None => Ending::Read { bytes: carry.bytes },
            };
            self.end(carry);
            ending
        });
        block.lease.events = events;
        let batch = Batch {
            input: self.input,
            index,
            format: carry.format.expect("known"),
            lease: block.lease,
            owned,
            start,
            len: consumed,
        };
        Ok(Some(ParseJob {
            batch,
            ended,
            quiet: block.end == End::Idle,
        }))
    }

    /// A block that made no batch (what it brought waits in the tail, or no one wants it):
    /// an empty delivery, with `ending` (the input's) if it ends the input.
    fn no_batch(&self, carry: &mut Carry, index: u64, ending: Option<Ending>) -> Framed {
        if ending.is_some() {
            self.end(carry);
        }
        self.ctx.deliver(Delivery {
            input: self.input,
            block: index,
            batch: None,
            ended: ending,
            quiet: false,
        });
        Ok(None)
    }

    /// The input is framed to its end (or given up): no more blocks; the run's Frame-Ids go
    /// back, and later inputs may take them.
    fn end(&self, carry: &mut Carry) {
        if self.over.swap(true, Ordering::Relaxed) {
            return;
        }
        let ids = if carry.holds_ids {
            carry.holds_ids = false;
            carry.splitter.take().and_then(Splitter::into_ids)
        } else {
            None
        };
        self.ctx.input_framed(self.input, ids);
    }
}

/// The run's HTTP Frame-Ids, lent to one HTTP input at a time, in input order: an input takes
/// them once every input before it is framed (so retries are recognised across inputs exactly
/// as if they were read one after another).
#[derive(Default)]
pub(super) struct Ids {
    /// `None` while an input holds them.
    ids: Option<RecentIds>,
    /// Inputs `0..framed` are all framed.
    framed: usize,
    /// Inputs framed out of order, beyond `framed`.
    done: std::collections::BTreeSet<usize>,
    /// Chains waiting for the ids, by input.
    waiting: BTreeMap<usize, Arc<Chain>>,
}

impl Ids {
    /// A fresh set.
    pub(super) fn new() -> Ids {
        Ids {
            ids: Some(RecentIds::default()),
            ..Ids::default()
        }
    }
}

impl Ctx {
    /// The run's Frame-Ids for `chain`'s input, if every earlier input is framed; otherwise
    /// the chain is noted to be kicked when they are.
    fn take_ids(&self, chain: &Arc<Chain>) -> Option<RecentIds> {
        let mut ids = self.ids.lock().unwrap_or_else(|e| e.into_inner());
        if ids.framed == chain.input {
            if let Some(set) = ids.ids.take() {
                return Some(set);
            }
        }
        chain.ids_ready.store(false, Ordering::Release);
        ids.waiting.insert(chain.input, chain.clone());
        None
    }

    /// Input `input` is framed; `ids` are the Frame-Ids it held, if any.
    pub(super) fn input_framed(&self, input: usize, ids: Option<RecentIds>) {
        let woken = {
            let mut s = self.ids.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(set) = ids {
                s.ids = Some(set);
            }
            s.done.insert(input);
            loop {
                let framed = s.framed;
                if !s.done.remove(&framed) {
                    break;
                }
                s.framed += 1;
            }
            let next = s.framed;
            if s.ids.is_some() {
                s.waiting.remove(&next)
            } else {
                None
            }
        };
        if let Some(chain) = woken {
            chain.ids_ready.store(true, Ordering::Release);
            chain.kick();
        }
    }
}
