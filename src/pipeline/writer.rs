//! The in-order writer: results put back in input order, batch positions turned into lines and
//! columns, everything handed to the sink, the run counted.

use super::rejoin::{BatchStart, Rejoiner};
use super::worker::{BatchResult, LocalDiag, Rejected};
use super::{Delivery, Ending, Mode, Options};
use crate::diag::messages::ChainBreak;
use crate::diag::{Code, Diagnostic, Severity};
use crate::sink::{Sink, Summary};
use std::collections::BTreeMap;
use std::io;
use std::sync::mpsc::{Receiver, TryRecvError};

/// Where the writer is in the current input.
#[derive(Default)]
struct Position {
    /// Line (1-based) at which the next batch starts.
    line: u64,
    /// Bytes already on that line before the batch starts.
    carry: u64,
    /// Bytes of the input before the next batch.
    offset: u64,
    /// Frames and regions of the input before the next batch.
    units: u64,
}

/// Receives deliveries until every input has ended, writing them in (input, block) order.
/// Output is flushed whenever nothing more is ready, which makes a live pipe stream (each
/// record leaves as soon as its frame is complete) and costs nothing when input arrives faster
/// than it is processed. An `Err` is the sink's (output I/O).
pub(super) fn write_in_order(
    names: &[String],
    rx: Receiver<Delivery>,
    opts: &Options,
    sink: &mut dyn Sink,
) -> io::Result<Summary> {
    let mut summary = Summary::default();
    let mut rejoin = match &opts.mode {
        Mode::Convert(encoder) if opts.rejoin => Some(Rejoiner::new(encoder, opts.strict)),
        _ => None,
    };
    // Deliveries that arrived before their turn. Bounded: every batch holds a pool lease.
    let mut pending: BTreeMap<(usize, u64), Delivery> = BTreeMap::new();
    // The input being written, the block it is waiting for, and whether it has begun.
    let (mut input, mut block, mut begun) = (0usize, 0u64, false);
    let mut pos = Position::default();
    while input < names.len() {
        let Some(d) = pending.remove(&(input, block)) else {
            let d = match rx.try_recv() {
                Ok(d) => d,
                Err(TryRecvError::Empty) => {
                    sink.flush()?;
                    match rx.recv() {
                        Ok(d) => d,
                        Err(_) => break,
                    }
                }
                Err(TryRecvError::Disconnected) => break,
            };
            // Blocks of an input that ended early (not a capture) are no one's.
            if d.input >= input {
                pending.insert((d.input, d.block), d);
            }
            continue;
        };
        if !begun {
            begun = true;
            summary.inputs += 1;
            pos = Position {
                line: 1,
                ..Position::default()
            };
        }
        block += 1;
        if let Some(b) = d.batch {
            let stopped = write_batch(&b, names, &mut pos, &mut summary, rejoin.as_mut(), sink)?;
            if stopped {
                if let Some(r) = rejoin.as_mut() {
                    r.end_all(ChainBreak::Stopped, names, &mut summary, sink)?;
                }
                summary.stopped = true;
                sink.flush()?;
                return Ok(summary);
            }
        }
        if let Some(r) = rejoin.as_mut() {
            if d.ended.is_some() || d.quiet {
                // A chain waiting for its next piece ends with its input, and on a live pipe
                // when the pipe goes quiet: it is held no longer than the idle window.
                let why = if d.ended.is_some() {
                    ChainBreak::EndOfInput
                } else {
                    ChainBreak::Quiet
                };
                r.end_all(why, names, &mut summary, sink)?;
            }
        }
        match d.ended {
            None => continue,
            Some(Ending::Read { bytes }) => summary.bytes += bytes,
            Some(Ending::Failed { problem, bytes }) => {
                summary.bytes += bytes;
                summary.inputs_failed += 1;
                if problem.code == Code::Io {
                    summary.io_errors += 1;
                }
                summary.count(problem.code, Severity::Error);
                let diag = Diagnostic {
                    input,
                    code: problem.code,
                    severity: Severity::Error,
                    line: 0,
                    column: 0,
                    offset: pos.offset,
                    frame: pos.units,
                    message: problem.message,
                };
                sink.diagnostic(&diag, &names[input])?;
            }
        }
        input += 1;
        block = 0;
        begun = false;
    }
    sink.flush()?;
    Ok(summary)
}

/// Writes one batch (through `rejoin`, with `--rejoin`); whether it stopped the run
/// (`--on-error fail`).
fn write_batch(
    b: &BatchResult,
    names: &[String],
    pos: &mut Position,
    summary: &mut Summary,
    rejoin: Option<&mut Rejoiner<'_>>,
    sink: &mut dyn Sink,
) -> io::Result<bool> {
    let name = &names[b.input];
    let locate = |d: &LocalDiag| Diagnostic {
        input: b.input,
        code: d.problem.code,
        severity: d.severity,
        line: pos.line + d.newlines_before,
        column: if d.newlines_before == 0 {
            pos.carry + d.column
        } else {
            d.column
        },
        offset: pos.offset + d.problem.at as u64,
        frame: pos.units + d.unit,
        message: d.problem.message.clone(),
    };
    match rejoin {
        Some(r) => {
            let diags = b
                .diags
                .iter()
                .map(|d| {
                    let diag = locate(d);
                    summary.count(diag.code, diag.severity);
                    (d.problem.at, diag)
                })
                .collect();
            let start = BatchStart {
                line: pos.line,
                carry: pos.carry,
                offset: pos.offset,
                units: pos.units,
            };
            r.batch(b, diags, &start, names, summary, sink)?;
        }
        None => {
            for d in &b.diags {
                let diag = locate(d);
                summary.count(diag.code, diag.severity);
                sink.diagnostic(&diag, name)?;
            }
            sink.output(&b.lease.out)?;
        }
    }
    let bytes = b.bytes();
    for rej in &b.rejects {
        let r = match rej {
            Rejected::Span(r) => &bytes[r.clone()],
            Rejected::Owned(v) => v,
        };
        sink.rejected(r)?;
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
    Ok(b.stopped)
}
