//! The pipeline: inputs → splitters → records → encoders → sinks, in parallel, in input order.
//!
//! - Readers ([`reader`], a few threads) take the inputs in order, several at once, and read
//!   each in bounded raw blocks (inflating gzip as they go).
//! - Each input's blocks go to its [`chain`], which splits them in order (the unit a block
//!   leaves unfinished is carried into the next) and hands each framed batch to a parse job:
//!   on the reader for a plain input, on the worker pool for a gzip one.
//! - Workers ([`worker`], rayon) parse and encode batches into buffers of their own.
//! - The writer ([`writer`], the calling thread) puts results back in input order, turns batch
//!   positions into lines and columns, and hands them to a [`Sink`].
//!
//! Memory is bounded by fixed pools of buffers ([`pool`]), one per reader: a reader cannot get
//! ahead of the writer by more than its pool holds, however many inputs there are.

mod chain;
pub mod options;
pub mod pool;
mod reader;
mod rejoin;
mod worker;
mod writer;

pub use options::{Mode, Options, OptionsBuilder};

use crate::diag::Problem;
use crate::sink::{Sink, Summary};
use crate::source::Input;
use pool::Pool;
use std::io;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::{self, Sender};
use std::sync::{Arc, Mutex};

/// What the writer receives: a block's results, keyed by input and block.
struct Delivery {
    input: usize,
    block: u64,
    /// The batch the block made, if any (a block can bring only part of a unit).
    batch: Option<worker::BatchResult>,
    /// The input's ending, on its last delivery.
    ended: Option<Ending>,
    /// A live input went quiet after this block (for `--rejoin`: chains end).
    quiet: bool,
}

/// How an input ended.
enum Ending {
    /// Read to the end: the bytes read.
    Read { bytes: u64 },
    /// Not opened, cut short (what was complete before has been delivered) or not a capture,
    /// after `bytes` were read.
    Failed { problem: Problem, bytes: u64 },
}

/// What the readers, the chains and the workers share.
struct Ctx {
    opts: Arc<Options>,
    workers: rayon::ThreadPool,
    tx: Sender<Delivery>,
    /// The writer is gone (`--on-error fail`, a closed stdout): stop early.
    stop: AtomicBool,
    /// The run's HTTP Frame-Ids, lent in input order ([`chain::Ids`]).
    ids: Mutex<chain::Ids>,
    /// `--threads 1`: one thread does all the work, one input at a time (its reader reads,
    /// frames and parses), so one thread means one core; the writer only writes.
    alone: bool,
}

impl Ctx {
    fn deliver(&self, d: Delivery) {
        // The writer may be gone (stopped early): nothing wants the result then.
        let _ = self.tx.send(d);
    }

    fn stopped(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }
}

/// How many inputs are read at once: enough to keep the workers busy while one input inflates
/// or waits, few enough that the readers' pools stay small.
fn readers(threads: usize, inputs: usize) -> usize {
    if threads == 1 {
        return 1;
    }
    threads.clamp(2, 4).min(inputs).max(1)
}

/// Why a run could not finish (never the data: problems with the data are in the summary).
#[derive(Debug)]
pub enum RunError {
    /// The sink failed: output I/O.
    Sink(io::Error),
    /// The system would not start the threads asked for.
    Threads(String),
}

impl std::fmt::Display for RunError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RunError::Sink(e) => write!(f, "writing output: {e}"),
            RunError::Threads(e) => write!(
                f,
                "cannot start the threads (--threads too many for this system?): {e}"
            ),
        }
    }
}

impl std::error::Error for RunError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            RunError::Sink(e) => Some(e),
            RunError::Threads(_) => None,
        }
    }
}

/// Runs the pipeline over `inputs`, calling `sink` in input order. Returns the run's summary.
pub fn run(inputs: &[Input], opts: &Options, sink: &mut dyn Sink) -> Result<Summary, RunError> {
    let threads = opts.threads.max(1);
    let workers = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .thread_name(|i| format!("drainpipe-worker-{i}"))
        .build()
        .map_err(|e| RunError::Threads(e.to_string()))?;
    let (tx, rx) = mpsc::channel::<Delivery>();
    let ctx = Arc::new(Ctx {
        opts: Arc::new(opts.clone()),
        workers,
        tx,
        stop: AtomicBool::new(false),
        ids: Mutex::new(chain::Ids::new()),
        alone: threads == 1,
    });
    let readers = readers(threads, inputs.len());
    // Each reader's pool: enough buffers to keep the workers busy while the writer drains one
    // and the reader fills one.
    let leases = (threads * 2 + 2).div_ceil(readers).max(3);
    let next = Arc::new(AtomicUsize::new(0));
    let inputs: Arc<[Input]> = inputs.into();
    let mut handles = Vec::new();
    for r in 0..readers {
        let (ctx, next, inputs) = (ctx.clone(), next.clone(), inputs.clone());
        // Detached rather than scoped: when the writer stops early (`--on-error fail`, a
        // closed stdout) a reader may be blocked on a live pipe, and we must not wait.
        handles.push(
            std::thread::Builder::new()
                .name(format!("drainpipe-reader-{r}"))
                .spawn(move || reader::read_inputs(&inputs, &ctx, &next, &Pool::new(leases)))
                .map_err(|e| RunError::Threads(e.to_string()))?,
        );
    }
    let names: Vec<String> = inputs.iter().map(|i| opts.name_of(i)).collect();
    let result = writer::write_in_order(&names, rx, opts, sink).map_err(RunError::Sink);
    ctx.stop.store(true, Ordering::Relaxed);
    if let Ok(ref s) = result {
        if !s.stopped {
            // Normal end: the readers have delivered everything and are finishing.
            for h in handles {
                let _ = h.join();
            }
        }
    }
    result
}
