//! `convert`'s sink: records to stdout or a file, rejected bytes to `--rejects`, the first
//! error kept for the summary line (README "Commands and options").

use super::atomic::AtomicFile;
use super::summary::{rejects_frame, text_line};
use super::Sink;
use crate::diag::redact::Redactor;
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
            Destination::File(f) => f.commit().map_err(|e| side_error("-o", e)),
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
    /// The first error that rejected a frame: where `--on-error fail` stopped (an error that
    /// rejects none, such as an unjoined chain under `--strict`, may come before it).
    pub first_rejection: Option<(String, Diagnostic)>,
    /// Problems with whole inputs (unreadable, empty), printed as they happen.
    pub stderr: Box<dyn Write + Send>,
    /// Drain tokens must not leave in rejected bytes, whatever format the input was read as (a
    /// cut-off HTTP capture can look like octet frames), nor where a read block cut one.
    redactor: Redactor,
}

impl ConvertSink {
    /// A sink writing records to `out` and rejects to `rejects`.
    pub fn new(out: Destination, rejects: Option<AtomicFile>) -> ConvertSink {
        ConvertSink {
            out,
            rejects,
            first_error: None,
            first_rejection: None,
            redactor: Redactor::default(),
            stderr: Box::new(io::stderr()),
        }
    }
}

/// A failure of an output other than stdout, named by `what`. A broken pipe there is an error
/// like any other: only a closed stdout ends a run quietly (`drainpipe … | head`).
pub fn side_error(what: &str, e: io::Error) -> io::Error {
    let kind = match e.kind() {
        io::ErrorKind::BrokenPipe => io::ErrorKind::Other,
        k => k,
    };
    io::Error::new(kind, format!("{what}: {e}"))
}

impl ConvertSink {
    /// Writes the rejected bytes held back until the stream's end ([`Redactor`]); call once,
    /// when the run is over, before the rejects file is committed.
    pub fn finish_rejects(&mut self) -> io::Result<()> {
        let rest = self.redactor.finish();
        match &mut self.rejects {
            Some(r) => r.write_all(&rest).map_err(|e| side_error("--rejects", e)),
            None => Ok(()),
        }
    }
}

impl Sink for ConvertSink {
    fn output(&mut self, bytes: &[u8]) -> io::Result<()> {
        match &mut self.out {
            Destination::Stdout(w) => w.write_all(bytes),
            Destination::File(f) => f.write_all(bytes).map_err(|e| side_error("-o", e)),
        }
    }

    fn rejected(&mut self, bytes: &[u8]) -> io::Result<()> {
        match &mut self.rejects {
            Some(r) => r
                .write_all(&self.redactor.push(bytes))
                .map_err(|e| side_error("--rejects", e)),
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
        if d.severity == Severity::Error
            && d.line > 0
            && rejects_frame(d.code)
            && self.first_rejection.is_none()
        {
            self.first_rejection = Some((input_name.to_string(), d.clone()));
        }
        Ok(())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out.writer().flush()
    }
}
