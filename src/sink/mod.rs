//! Sinks: where the pipeline's results go, in input order, and the run's summary.
//!
//! A [`Sink`] receives encoded records, rejected bytes and located diagnostics; `convert`
//! writes records and rejects ([`convert`]), `validate` writes a report ([`report`]).
//! [`atomic`] makes output files appear only when complete; [`summary`] writes the lines that
//! sum a run up; [`progress`] draws the progress line.

pub mod atomic;
pub mod convert;
pub mod progress;
pub mod report;
pub mod summary;

use crate::diag::{Code, Diagnostic, Severity};
use std::io;

/// Receives the pipeline's results in input order.
pub trait Sink {
    /// Encoded records.
    fn output(&mut self, bytes: &[u8]) -> io::Result<()>;
    /// The verbatim bytes of a rejected frame or region (possibly in several pieces).
    fn rejected(&mut self, bytes: &[u8]) -> io::Result<()>;
    /// A located problem. `line == 0` means the problem concerns the whole input.
    fn diagnostic(&mut self, d: &Diagnostic, input_name: &str) -> io::Result<()>;
    /// Called whenever no more results are ready: push out what has been written so far.
    fn flush(&mut self) -> io::Result<()>;
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

/// Passes everything on to `sink` and keeps the exit code of the problems it passed on (the
/// rule of [`Summary::exit_code`]): a run that ends early at a closed stdout
/// (`drainpipe validate … | head`) exits with the code of what it found before.
pub struct Seen<'a> {
    /// Where everything goes.
    pub sink: &'a mut dyn Sink,
    /// 2 once an input could not be read, 1 once anything else was an error, else 0.
    pub code: u8,
}

impl Sink for Seen<'_> {
    fn output(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.sink.output(bytes)
    }
    fn rejected(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.sink.rejected(bytes)
    }
    fn diagnostic(&mut self, d: &Diagnostic, input_name: &str) -> io::Result<()> {
        let code = match (d.code, d.severity) {
            (Code::Io, _) => 2,
            (_, Severity::Error) => 1,
            (_, Severity::Warning) => 0,
        };
        self.code = self.code.max(code);
        self.sink.diagnostic(d, input_name)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.sink.flush()
    }
}

/// Counts over a whole run. `frames = records + rejected`: every frame (or rejected region)
/// ends up as exactly one of the two.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Summary {
    /// Inputs read (or tried).
    pub inputs: u64,
    /// Inputs that could not be read to the end (I/O) or were not a capture (`format`).
    pub inputs_failed: u64,
    /// Inputs that could not be read (code `io`).
    pub io_errors: u64,
    /// Bytes read (after decompression).
    pub bytes: u64,
    /// Frames and rejected regions.
    pub frames: u64,
    /// Records written (or valid frames).
    pub records: u64,
    /// Frames and regions rejected.
    pub rejected: u64,
    /// Records that carry a warning.
    pub warned: u64,
    /// `--rejoin`: records taken into the record of an earlier piece of the same message (so
    /// `records - joined` lines were written).
    pub joined: u64,
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
            joined: 0,
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

    /// Counts one diagnostic.
    pub fn count(&mut self, code: Code, severity: Severity) {
        match severity {
            Severity::Error => self.errors_by_code[code.index()] += 1,
            Severity::Warning => self.warnings_by_code[code.index()] += 1,
        }
    }

    /// The exit code (README "Three ways to use it"): 2 when an input could not be read, 1
    /// when a frame was rejected or anything else was an error, 0 otherwise.
    pub fn exit_code(&self) -> u8 {
        if self.io_errors > 0 {
            2
        } else if self.rejected > 0 || self.inputs_failed > 0 || self.errors() > 0 {
            1
        } else {
            0
        }
    }
}
