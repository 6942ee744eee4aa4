//! `convert`'s sink: records to stdout or a file, rejected bytes to `--rejects`, the first
//! error kept for the summary line (README "Commands and options").

use super::atomic::AtomicFile;
use super::summary::text_line;
use super::Sink;
use crate::diag::quote::redact_token;
use crate::diag::{Diagnostic, Severity};
use std::io::{self, BufWriter, Write};

/// Where records go.
pub enum Destination {
    /// Standard output.
    Stdout(BufWriter<io::Stdout>),
    /// `-o FILE`.
    File(AtomicFile),
}

impl Destination {
    /// Standard output, buffered.
    pub fn stdout() -> Destination {
        Destination::Stdout(BufWriter::with_capacity(1 << 20, io::stdout()))
    }

    /// The writer.
    pub fn writer(&mut self) -> &mut dyn Write {
        match self {
            Destination::Stdout(w) => w,
            Destination::File(f) => f,
        }
    }

    /// Flushes stdout, or puts the file in place.
    pub fn finish(self) -> io::Result<()> {
        match self {
            Destination::Stdout(mut w) => w.flush(),
            Destination::File(f) => f.commit(),
        }
    }
}

/// The convert sink. Diagnostics are not listed (that is `validate`'s job) but counted, and the
/// first error is kept for the summary line.
pub struct ConvertSink {
    /// Where records go.
    pub out: Destination,
    /// `--rejects`.
    pub rejects: Option<AtomicFile>,
    /// The first bad frame (its input's name, and where), for `--on-error fail` and the
    /// summary line.
    pub first_error: Option<(String, Diagnostic)>,
    /// Problems with whole inputs (unreadable, empty), printed as they happen.
    pub stderr: Box<dyn Write + Send>,
}

impl ConvertSink {
    /// A sink writing records to `out` and rejects to `rejects`.
    pub fn new(out: Destination, rejects: Option<AtomicFile>) -> ConvertSink {
        ConvertSink {
            out,
            rejects,
            first_error: None,
            stderr: Box::new(io::stderr()),
        }
    }
}

impl Sink for ConvertSink {
    fn output(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.out.writer().write_all(bytes)
    }

    fn rejected(&mut self, bytes: &[u8]) -> io::Result<()> {
        match &mut self.rejects {
            // Drain tokens must not leave in rejected bytes, whatever format the input was
            // read as (a cut-off HTTP capture can look like octet frames). The pipeline hands
            // rejected regions over at line starts, so a header line is never split.
            Some(r) => r.write_all(&redact_token(bytes)),
            None => Ok(()),
        }
    }

    fn diagnostic(&mut self, d: &Diagnostic, input_name: &str) -> io::Result<()> {
        if d.line == 0 {
            // Whether stderr can take it or not changes nothing about the run (README "Three ways to use it").
            let _ = writeln!(self.stderr, "drainpipe: {}", text_line(d, input_name));
        }
        // The first bad frame, for `--on-error fail` and the summary's "first:". Whole-input
        // problems (line 0) are printed above as they happen.
        if d.severity == Severity::Error && d.line > 0 && self.first_error.is_none() {
            self.first_error = Some((input_name.to_string(), d.clone()));
        }
        Ok(())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out.writer().flush()
    }
}
