//! The in-order writer: results put back in input order, batch positions turned into lines and
//! columns, everything handed to the sink, the run counted.

use super::worker::Rejected;
use super::Item;
use crate::diag::{Diagnostic, Severity};
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

/// Receives numbered items until the senders are gone, writing them in number order. Output
/// is flushed whenever nothing more is ready, which makes a live pipe stream (each record
/// leaves as soon as its frame is complete) and costs nothing when input arrives faster than
/// it is processed. An `Err` is the sink's (output I/O).
pub(super) fn write_in_order(
    names: &[String],
    rx: Receiver<(u64, Item)>,
    sink: &mut dyn Sink,
) -> io::Result<Summary> {
    let mut summary = Summary::default();
    // Items that arrived before their turn. Bounded: every batch holds a pool lease.
    let mut pending: BTreeMap<u64, Item> = BTreeMap::new();
    let mut next = 0u64;
    let mut pos = Position::default();
    loop {
        let Some(item) = pending.remove(&next) else {
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
                    summary.count(diag.code, diag.severity);
                    sink.diagnostic(&diag, name)?;
                }
                sink.output(&b.lease.out)?;
                for rej in &b.rejects {
                    let bytes = match rej {
                        Rejected::Span(r) => &b.lease.input[r.clone()],
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
                if b.stopped {
                    summary.stopped = true;
                    sink.flush()?;
                    return Ok(summary);
                }
            }
            Item::InputFailed { input, problem } => {
                summary.inputs_failed += 1;
                if problem.code == crate::diag::Code::Io {
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
            Item::InputDone { bytes } => summary.bytes += bytes,
        }
    }
    sink.flush()?;
    Ok(summary)
}
