//! `convert`'s end of the pipeline: records to stdout or an atomically written file, rejected
//! frames verbatim to `--rejects`, and the one-line summary on stderr (SPEC §3).

use crate::error::{Code, Diagnostic, Severity};
use crate::pipeline::{Sink, Summary};
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

/// A file that appears under its name only when complete: written to a temporary file in the
/// same directory and renamed over the destination by [`AtomicFile::commit`]. Dropped without
/// a commit, the temporary file is removed, so a failed run leaves no half-written output.
///
/// A destination that exists and is not a regular file (`/dev/null`, a FIFO, `/dev/stdout`)
/// is written directly: renaming over it would replace a device or a pipe with a file.
pub struct AtomicFile {
    dest: PathBuf,
    /// `None` when writing directly.
    tmp: Option<PathBuf>,
    file: Option<BufWriter<File>>,
}

impl AtomicFile {
    pub fn create(dest: &Path) -> io::Result<AtomicFile> {
        if std::fs::metadata(dest).is_ok_and(|m| !m.is_file()) {
            let file = std::fs::OpenOptions::new().write(true).open(dest)?;
            return Ok(AtomicFile {
                dest: dest.to_path_buf(),
                tmp: None,
                file: Some(BufWriter::with_capacity(1 << 20, file)),
            });
        }
        let dir = match dest.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let name = dest
            .file_name()
            .ok_or_else(|| io::Error::other("output path names no file"))?
            .to_string_lossy();
        let tmp = dir.join(format!(".{name}.drainpipe-{}.tmp", std::process::id()));
        let file = File::create(&tmp)?;
        Ok(AtomicFile {
            dest: dest.to_path_buf(),
            tmp: Some(tmp),
            file: Some(BufWriter::with_capacity(1 << 20, file)),
        })
    }

    pub fn commit(mut self) -> io::Result<()> {
        let file = self.file.take().expect("not yet committed");
        let file = file.into_inner().map_err(|e| e.into_error())?;
        match &self.tmp {
            Some(tmp) => {
                file.sync_all()?;
                std::fs::rename(tmp, &self.dest)
            }
            None => Ok(()),
        }
    }
}

impl Write for AtomicFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.file.as_mut().expect("open").write(buf)
    }
    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        self.file.as_mut().expect("open").write_all(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.file.as_mut().expect("open").flush()
    }
}

impl Drop for AtomicFile {
    fn drop(&mut self) {
        if let (Some(_), Some(tmp)) = (self.file.take(), &self.tmp) {
            let _ = std::fs::remove_file(tmp);
        }
    }
}

/// Where records go.
pub enum Destination {
    Stdout(BufWriter<io::Stdout>),
    File(AtomicFile),
}

impl Destination {
    pub fn stdout() -> Destination {
        Destination::Stdout(BufWriter::with_capacity(1 << 20, io::stdout()))
    }

    fn writer(&mut self) -> &mut dyn Write {
        match self {
            Destination::Stdout(w) => w,
            Destination::File(f) => f,
        }
    }

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
    pub out: Destination,
    pub rejects: Option<AtomicFile>,
    pub first_error: Option<(String, Diagnostic)>,
    /// Problems with whole inputs (unreadable, empty), printed as they happen.
    pub stderr: Box<dyn Write + Send>,
}

impl ConvertSink {
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
            Some(r) => r.write_all(&crate::http::redact_token(bytes)),
            None => Ok(()),
        }
    }

    fn diagnostic(&mut self, d: &Diagnostic, input_name: &str) -> io::Result<()> {
        if d.line == 0 {
            writeln!(self.stderr, "drainpipe: {}", text_line(d, input_name))?;
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

/// One diagnostic as a compiler-style line: `FILE:LINE:COLUMN: error[CODE]: message`
/// (`FILE: error[CODE]: message` for a problem with the whole input).
pub fn text_line(d: &Diagnostic, input_name: &str) -> String {
    if d.line == 0 {
        format!(
            "{input_name}: {}[{}]: {}",
            d.severity.as_str(),
            d.code,
            d.message
        )
    } else {
        format!(
            "{input_name}:{}:{}: {}[{}]: {}",
            d.line,
            d.column,
            d.severity.as_str(),
            d.code,
            d.message
        )
    }
}

/// `code n, code n` for the codes that occurred, in the documented order.
pub fn counts_by_code(s: &Summary, warnings: bool) -> String {
    Code::ALL
        .iter()
        .filter(|c| c.is_warning() == warnings && s.by_code[c.index()] > 0)
        .map(|c| format!("{} {}", c, s.by_code[c.index()]))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The one stderr line `convert` prints when anything was rejected or warned about.
pub fn summary_line(s: &Summary, first: Option<&(String, Diagnostic)>) -> Option<String> {
    if s.rejected == 0 && s.errors() == 0 && s.warnings() == 0 && s.duplicates == 0 {
        return None;
    }
    let mut line = format!("drainpipe: {} of {} frames rejected", s.rejected, s.frames);
    let errors = counts_by_code(s, false);
    if !errors.is_empty() {
        line.push_str(&format!(" ({errors})"));
    }
    if s.warnings() > 0 {
        line.push_str(&format!(
            "; {} with warnings ({})",
            s.warned,
            counts_by_code(s, true)
        ));
    }
    if s.errors() > s.rejected {
        // Errors that reject no frame: a Msg-Count mismatch, an input that is not a capture.
        line.push_str(&format!("; {} errors in all", s.errors()));
    }
    if s.duplicates > 0 {
        line.push_str(&format!(
            "; {} retried HTTP requests skipped as duplicates",
            s.duplicates
        ));
    }
    if let Some((name, d)) = first {
        if d.line > 0 {
            line.push_str(&format!(
                "; first: {name}:{}:{} {}",
                d.line, d.column, d.code
            ));
        }
    }
    if s.stopped {
        line.push_str("; stopped there (--on-error fail)");
    } else if s.rejected > 0 {
        line.push_str("; run `drainpipe validate` to list them");
    }
    Some(line)
}
