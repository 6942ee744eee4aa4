//! The readers: inputs taken in order, several at once, each read in bounded raw blocks and
//! handed to its chain ([`super::chain`]), which frames them on the reader (a plain input) or
//! on the workers (a gzip input, whose reader is busy inflating).

use super::chain::{Chain, RawBlock, HEAD};
use super::pool::Pool;
use super::{Ctx, Delivery, Ending};
use crate::diag::messages;
use crate::source::pump::{Arrived, Pump};
use crate::source::{self, Input, Opened};
use crate::split::End;
use std::io::{self, Read};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

/// Takes inputs in order (`next` is shared by the readers) and reads each to its end.
pub(super) fn read_inputs(inputs: &[Input], ctx: &Arc<Ctx>, next: &AtomicUsize, pool: &Pool) {
    loop {
        let input = next.fetch_add(1, Ordering::Relaxed);
        if input >= inputs.len() || ctx.stopped() {
            return;
        }
        match source::open_counted(&inputs[input], ctx.opts.progress.clone()) {
            Ok(opened) => read_input(input, opened, ctx, pool),
            Err(e) => {
                // No chain frames this input: say it is framed, or an HTTP input after it
                // would wait for the run's Frame-Ids for ever.
                ctx.input_framed(input, None);
                ctx.deliver(Delivery {
                    input,
                    block: 0,
                    batch: None,
                    ended: Some(Ending::Failed {
                        problem: messages::cannot_open(&e),
                        bytes: 0,
                    }),
                    quiet: false,
                })
            }
        }
    }
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

/// Reads one input in raw blocks. A regular file is read a whole block at a time; a pipe or
/// terminal through a [`Pump`], whatever has arrived, so a live tail streams, with a quiet
/// spell reported as an idle block (a pending `heroku logs` message is complete then).
fn read_input(input: usize, opened: Opened, ctx: &Arc<Ctx>, pool: &Pool) {
    let chain = Chain::new(input, ctx.clone(), opened.inflating);
    let block = ctx.opts.block_size;
    let mut reader = opened.reader;
    let mut pump = opened.streaming.then(|| {
        let r = std::mem::replace(&mut reader, Box::new(io::empty()));
        Pump::new(r)
    });
    // Nothing has arrived since the last idle block: wait without a timeout.
    let mut idle_done = true;
    let mut index = 0;
    loop {
        if ctx.stopped() || chain.is_over() {
            return;
        }
        let mut lease = pool.take();
        if lease.input.len() < HEAD + block {
            // Zeroed once when it grows, reused after that: no per-block memset.
            lease.input.resize(HEAD + block, 0);
        }
        let buf = &mut lease.input[HEAD..HEAD + block];
        let got = match pump.as_mut() {
            Some(p) => {
                let wait = if idle_done { None } else { ctx.opts.idle };
                let got = pumped(p.read(buf, wait));
                // Take what else has already arrived, up to a block, without waiting.
                let mut got = got;
                while got.failure.is_none() && !got.idle && got.n > 0 && got.n < buf.len() {
                    match p.read(&mut buf[got.n..], Some(std::time::Duration::ZERO)) {
                        Arrived::Bytes(n) => got.n += n,
                        Arrived::Idle => break,
                        Arrived::Eof => break,
                        Arrived::Failed(e) => got.failure = Some(e),
                    }
                }
                got
            }
            None => read_full(&mut reader, buf),
        };
        idle_done = got.idle;
        let eof =
            got.failure.is_some() || (got.n == 0 && !got.idle) || (pump.is_none() && got.n < block);
        let end = if eof {
            End::Eof
        } else if got.idle {
            End::Idle
        } else {
            End::More
        };
        chain.offer(RawBlock {
            index,
            lease,
            len: got.n,
            end,
            failure: got.failure,
        });
        index += 1;
        if eof {
            return;
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
