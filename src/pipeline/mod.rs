//! The pipeline: inputs → splitters → records → encoders → sinks, in parallel, in input order.
//!
//! One reader thread ([`reader`]) reads each input in bounded blocks and splits it (cheap: LEN
//! jumps, line ends). Each block, cut at a unit boundary, goes with its event list to a rayon
//! worker ([`worker`]), which parses and encodes it into a buffer of its own. The calling thread
//! ([`writer`]) receives the results, puts them back in input order, turns block-relative
//! positions into lines and columns, and hands them to a [`Sink`].
//!
//! Memory is bounded by a fixed pool of block buffers ([`pool`]): the reader cannot get ahead of
//! the writer by more than the pool holds.

pub mod options;
pub mod pool;
mod reader;
mod worker;
mod writer;

pub use options::{Mode, Options, OptionsBuilder};

use crate::diag::Problem;
use crate::sink::{Sink, Summary};
use crate::source::Input;
use pool::Pool;
use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Sender};
use std::sync::Arc;

/// What the writer receives, numbered in input order.
enum Item {
    /// An input begins.
    InputStart,
    /// A batch's results.
    Batch(worker::BatchResult),
    /// The input could not be opened or read to the end, or is not a capture.
    InputFailed { input: usize, problem: Problem },
    /// The input was read to its end.
    InputDone { bytes: u64 },
}

/// Numbers items for the writer, in the order the reader meets them.
struct Sequencer {
    next: u64,
    tx: Sender<(u64, Item)>,
}

impl Sequencer {
    /// The next number.
    fn take(&mut self) -> u64 {
        self.next += 1;
        self.next - 1
    }

    /// Sends `item` under the next number.
    fn send(&mut self, item: Item) {
        let seq = self.take();
        let _ = self.tx.send((seq, item));
    }

    /// A sender for a worker to send a numbered result with.
    fn sender(&self) -> Sender<(u64, Item)> {
        self.tx.clone()
    }
}

/// Runs the pipeline over `inputs`, calling `sink` in input order. Returns the run's summary;
/// an `Err` is a failure of the sink (e.g. output I/O), not of the data.
pub fn run(inputs: &[Input], opts: &Options, sink: &mut dyn Sink) -> io::Result<Summary> {
    let threads = opts.threads.max(1);
    let workers = Arc::new(
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .thread_name(|i| format!("drainpipe-worker-{i}"))
            .build()
            .map_err(io::Error::other)?,
    );
    // Enough buffers to keep every worker busy while the writer drains one and the reader
    // fills one.
    let pool = Pool::new(threads * 2 + 2);
    let (tx, rx) = mpsc::channel::<(u64, Item)>();
    let stop = Arc::new(AtomicBool::new(false));

    // The reader is detached rather than scoped: when the writer stops early (`--on-error
    // fail`, a closed stdout) the reader may be blocked on a live pipe, and we must not wait.
    let reader = {
        let inputs = inputs.to_vec();
        let opts = Arc::new(opts.clone());
        let stop = stop.clone();
        let workers = workers.clone();
        let seq = Sequencer { next: 0, tx };
        std::thread::Builder::new()
            .name("drainpipe-reader".into())
            .spawn(move || reader::read_all(&inputs, &opts, &workers, &pool, seq, &stop))?
    };

    let names: Vec<String> = inputs.iter().map(|i| opts.name_of(i)).collect();
    let result = writer::write_in_order(&names, rx, sink);
    stop.store(true, Ordering::Relaxed);
    if let Ok(ref s) = result {
        if !s.stopped {
            // Normal end: the reader has sent everything and is finishing.
            let _ = reader.join();
        }
    }
    result
}
