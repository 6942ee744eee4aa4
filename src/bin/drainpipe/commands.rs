//! The commands: the command line turned into library calls.

use crate::args::Cli;
use crate::args::{
    CommonArgs, ConvertArgs, FieldList, From, Generate, OnError, Report, SchemaArgs, To,
    ValidateArgs,
};
use anyhow::Context;
use clap::parser::ValueSource;
use clap::{ArgMatches, CommandFactory};
use drainpipe::diag::messages::io_message;
use drainpipe::diag::quote::shown_path;
use drainpipe::diag::Diagnostic;
use drainpipe::encode::{Encoder, OutputFormat, RunIdentity};
use drainpipe::pipeline::{self, Mode, Options};
use drainpipe::sink::atomic::{self, AtomicFile, StdStream};
use drainpipe::sink::convert::{side_error, ConvertSink, Destination};
use drainpipe::sink::progress::Progress;
use drainpipe::sink::report::{ReportFormat, ReportSink};
use drainpipe::sink::summary::{summary_line, text_line};
use drainpipe::sink::{Seen, Sink, Summary, Tee};
use drainpipe::source::detect::InputFormat;
use drainpipe::source::{self as input, Input};
use std::io::{self, IsTerminal, Write};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::process::ExitCode;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;

/// Prints on stderr, whether or not stderr can take it.
macro_rules! note {
    ($($t:tt)*) => {{
        let _ = writeln!(io::stderr(), $($t)*);
    }};
}

/// Why a command could not finish.
pub enum Failure {
    /// The command line asks for something that cannot be done: exit 2 before anything is read
    /// or written.
    Usage(String),
    Other(anyhow::Error),
}

impl<E: Into<anyhow::Error>> std::convert::From<E> for Failure {
    fn from(e: E) -> Failure {
        Failure::Other(e.into())
    }
}

/// A sink whose I/O errors say which output failed (`--report-json FILE: No space left…`).
struct Labeled<'a> {
    sink: &'a mut dyn Sink,
    label: String,
}

impl Labeled<'_> {
    fn label(&self, r: io::Result<()>) -> io::Result<()> {
        r.map_err(|e| side_error(&self.label, e))
    }
}

impl Sink for Labeled<'_> {
    fn output(&mut self, bytes: &[u8]) -> io::Result<()> {
        let r = self.sink.output(bytes);
        self.label(r)
    }
    fn rejected(&mut self, bytes: &[u8]) -> io::Result<()> {
        let r = self.sink.rejected(bytes);
        self.label(r)
    }
    fn diagnostic(&mut self, d: &Diagnostic, input_name: &str) -> io::Result<()> {
        let r = self.sink.diagnostic(d, input_name);
        self.label(r)
    }
    fn flush(&mut self) -> io::Result<()> {
        let r = self.sink.flush();
        self.label(r)
    }
}

/// A run that could not finish, as an error for the command line: an output failure keeps its
/// `io::Error` inside (a closed stdout is recognised by it).
fn run_error(e: pipeline::RunError) -> anyhow::Error {
    match e {
        pipeline::RunError::Sink(e) => anyhow::Error::new(e).context("writing output"),
        e @ pipeline::RunError::Threads(_) => anyhow::Error::new(e),
    }
}

/// Whether the run ended because stdout was closed (`drainpipe … | head`): the reader has what
/// it wanted, and the exit code is that of what was found before.
fn closed_stdout(e: &anyhow::Error) -> bool {
    e.downcast_ref::<io::Error>()
        .is_some_and(|e| e.kind() == io::ErrorKind::BrokenPipe)
}

pub fn generate(what: Generate) -> ExitCode {
    let mut cmd = Cli::command();
    // Into memory first: clap_complete panics when its writer fails, and stdout can fail.
    let mut text = Vec::new();
    let shell = match what {
        Generate::Man => {
            clap_mangen::Man::new(cmd.clone())
                .render(&mut text)
                .expect("writing to memory");
            // One page for all: each command's options in a section of their own (the page
            // would otherwise point at drainpipe-convert(1), which nothing installs).
            for sub in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
                let mut options = Vec::new();
                clap_mangen::Man::new(sub.clone())
                    .render_options_section(&mut options)
                    .expect("writing to memory");
                let heading = format!(".SH \"{} OPTIONS\"", sub.get_name().to_uppercase());
                let options =
                    String::from_utf8_lossy(&options).replacen(".SH OPTIONS", &heading, 1);
                text.extend_from_slice(options.as_bytes());
            }
            None
        }
        Generate::Bash => Some(clap_complete::Shell::Bash),
        Generate::Zsh => Some(clap_complete::Shell::Zsh),
        Generate::Fish => Some(clap_complete::Shell::Fish),
        Generate::Elvish => Some(clap_complete::Shell::Elvish),
        Generate::Powershell => Some(clap_complete::Shell::PowerShell),
    };
    if let Some(shell) = shell {
        clap_complete::generate(shell, &mut cmd, "drainpipe", &mut text);
    }
    print_stdout(&text)
}

/// Writes `text` (help, a man page, completions) to stdout: exit 0, also when the reader
/// closed it early; 2 with a message when stdout fails otherwise (`>/dev/full`).
pub fn print_stdout(text: &[u8]) -> ExitCode {
    let mut out = io::stdout().lock();
    match out.write_all(text).and_then(|()| out.flush()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            note!("drainpipe: error: writing to stdout: {e}");
            ExitCode::from(2)
        }
    }
}

/// The run's inputs: operands, then `--files-from`, expanded; notes for what a walk skipped.
fn inputs(common: &CommonArgs) -> Result<Vec<Input>, Failure> {
    let mut operands = common.files.clone();
    if let Some(list) = &common.files_from {
        // The list read from stdin, by `-` or any other name (/dev/stdin).
        let list_is_stdin = list.as_os_str() == "-" || atomic::is_stdin_stream(list);
        let names_stdin =
            |p: &Path| p.as_os_str() == "-" || (list_is_stdin && atomic::is_stdin_stream(p));
        if list_is_stdin && operands.iter().any(|p| names_stdin(p)) {
            return Err(Failure::Usage(format!(
                "--files-from {} reads the list from stdin, so stdin cannot also be an input",
                shown_path(list)
            )));
        }
        let bytes = if list.as_os_str() == "-" {
            let mut v = Vec::new();
            io::Read::read_to_end(&mut io::stdin(), &mut v).map_err(|e| {
                Failure::Usage(format!("cannot read --files-from -: {}", io_message(&e)))
            })?;
            v
        } else {
            std::fs::read(list).map_err(|e| {
                Failure::Usage(format!(
                    "cannot read --files-from {}: {}",
                    shown_path(list),
                    io_message(&e)
                ))
            })?
        };
        let listed = input::file_list(&bytes, common.null);
        if list_is_stdin && listed.iter().any(|p| names_stdin(p)) {
            return Err(Failure::Usage(format!(
                "--files-from {} reads the list from stdin, so the list cannot name stdin",
                shown_path(list)
            )));
        }
        if common.files.is_empty() && listed.is_empty() {
            return Err(Failure::Usage(format!(
                "--files-from {} lists no input",
                shown_path(list)
            )));
        }
        operands.extend(listed);
    }
    // Stdin can be read only once: named twice (`- -`, or `-` and /dev/stdin on a pipe), the
    // later one would read nothing. A regular file redirected to stdin is reopened by
    // /dev/stdin, like any file named twice.
    let reads_stdin =
        |p: &Path| p.as_os_str() == "-" || (atomic::is_stdin_stream(p) && !atomic::is_stdin(p));
    let mut named = operands.iter().filter(|p| reads_stdin(p));
    if let (Some(a), Some(b)) = (named.next(), named.next()) {
        return Err(Failure::Usage(format!(
            "stdin is named twice ({} and {}): it can be read only once",
            shown_path(a),
            shown_path(b)
        )));
    }
    let expanded = input::expand(&operands);
    for s in &expanded.skipped {
        note!("drainpipe: {s}");
    }
    Ok(expanded.inputs)
}

/// The pipeline's options from the command line.
fn options(
    common: &CommonArgs,
    m: &ArgMatches,
    mode: Mode,
    progress: Option<Arc<AtomicU64>>,
    stop_at_first_error: bool,
    rejoin: bool,
) -> Result<Options, Failure> {
    let token = match &common.drain_token {
        // An empty variable is an unset one (as for most tools' *_TOKEN variables); an empty
        // option is a mistake.
        Some(t) if t.is_empty() => {
            if m.value_source("drain_token") == Some(ValueSource::EnvVariable) {
                None
            } else {
                return Err(Failure::Usage(
                    "--drain-token is empty (unset DRAINPIPE_DRAIN_TOKEN or give a token)".into(),
                ));
            }
        }
        // Heroku's tokens are `d.` and a UUID (38 bytes). A very short one would be masked
        // wherever its bytes appear (`1` in every `HTTP/1.1`), which mangles what is written.
        Some(t) if t.len() < drainpipe::diag::quote::SECRET_MIN => {
            return Err(Failure::Usage(format!(
                "{} is {} bytes long: a drain token (`d.` and a UUID) has 38; one shorter \
                 than {} bytes is refused",
                if m.value_source("drain_token") == Some(ValueSource::EnvVariable) {
                    "DRAINPIPE_DRAIN_TOKEN"
                } else {
                    "--drain-token"
                },
                t.len(),
                drainpipe::diag::quote::SECRET_MIN
            )));
        }
        Some(t) => {
            // Never quoted, and overwritten in --rejects, whatever its form. `main` made it a
            // secret already, from the raw arguments, before anything could quote it; this is
            // the value as clap read it, should the two ever differ (only the first counts).
            drainpipe::diag::quote::keep_secret(t.as_bytes());
            Some(t.as_bytes().to_vec())
        }
        None => None,
    };
    let mut b = Options::builder(mode)
        .max_frame(common.max_frame)
        .lenient_length(common.lenient_length)
        .strict(common.strict)
        .stop_at_first_error(stop_at_first_error)
        .rejoin(rejoin)
        .format(common.from.map(|f| match f {
            From::Octet => InputFormat::Octet,
            From::Syslog => InputFormat::Syslog,
            From::Http => InputFormat::Http,
            From::Cli => InputFormat::Cli,
        }))
        .drain_token(token)
        .block_size(common.block_size)
        .idle((common.idle_ms > 0).then(|| std::time::Duration::from_millis(common.idle_ms)))
        .stdin_name(common.stdin_name.clone())
        .progress(progress);
    if let Some(t) = common.threads {
        b = b.threads(usize::from(t));
    }
    b.build().map_err(Failure::Usage)
}

/// A progress line for batch work watched from a terminal: stderr is one, stdout is not (it
/// would mix with records or the report), every input is a regular file (the total is
/// known; a live pipe has none), and `--quiet` is not given. The counter the reader adds to,
/// and the line.
fn progress(common: &CommonArgs, list: &[Input]) -> (Option<Arc<AtomicU64>>, Option<Progress>) {
    if common.quiet || !io::stderr().is_terminal() || io::stdout().is_terminal() {
        return (None, None);
    }
    let Some(total) = input::known_size(list).filter(|&t| t > 0) else {
        return (None, None);
    };
    let counter = Arc::new(AtomicU64::new(0));
    (Some(counter.clone()), Some(Progress::start(total, counter)))
}

/// The run's exit code, as the library decides it.
fn exit_code(s: &Summary) -> ExitCode {
    ExitCode::from(s.exit_code())
}

fn create(p: &Path) -> Result<AtomicFile, Failure> {
    AtomicFile::create(p)
        .map_err(|e| anyhow::anyhow!("cannot create {}: {}", shown_path(p), io_message(&e)))
        .map_err(Failure::Other)
}

pub fn convert(a: ConvertArgs, m: &ArgMatches) -> Result<ExitCode, Failure> {
    let list = inputs(&a.common)?;
    let mut encoder = Encoder::new(match a.to {
        To::Ndjson => OutputFormat::Ndjson,
        To::Csv => OutputFormat::Csv,
    });
    if let Some(FieldList(f)) = a.fields {
        encoder.fields = f;
    }
    encoder.panther = a.panther;
    encoder.csv_safe = a.csv_safe;
    encoder.expand = a.expand;
    if a.panther {
        encoder.run = RunIdentity::now();
    }
    let header = encoder.header();
    let (counter, progress) = progress(&a.common, &list);
    let opts = options(
        &a.common,
        m,
        Mode::Convert(encoder),
        counter,
        a.on_error == OnError::Fail,
        a.rejoin,
    )?;
    let mut outputs: Vec<(&str, &Path)> = Vec::new();
    if let Some(p) = &a.output {
        outputs.push(("-o", p));
    }
    if let Some(p) = &a.rejects {
        outputs.push(("--rejects", p));
    }
    if let Some(p) = &a.report_json {
        outputs.push(("--report-json", p));
    }
    // The --files-from list is guarded like an input (`-`: stdin, a file redirected to it
    // included).
    let mut guarded = list.clone();
    if let Some(l) = a.common.files_from.as_ref() {
        guarded.push(if l.as_os_str() == "-" {
            Input::Stdin
        } else {
            Input::Path(l.clone())
        });
    }
    atomic::check_outputs(&outputs, &guarded).map_err(Failure::Usage)?;
    // A side output into the stream that carries the records or drainpipe's messages would be
    // interleaved with them byte-wise, differently from run to run.
    let records_on_stdout = a
        .output
        .as_deref()
        .is_none_or(|p| atomic::is_std_stream(p, StdStream::Stdout));
    for (flag, p) in outputs.iter().filter(|(f, _)| *f != "-o") {
        let why = if atomic::is_std_stream(p, StdStream::Stderr) {
            "where drainpipe writes its messages (stderr): write it to another file"
        } else if records_on_stdout && atomic::is_std_stream(p, StdStream::Stdout) {
            "where the records go (stdout): write the records with -o FILE, or this to another file"
        } else {
            continue;
        };
        return Err(Failure::Usage(format!("{flag} {} is {why}", shown_path(p))));
    }
    let mut out = match &a.output {
        Some(p) => Destination::File(create(p)?),
        None => Destination::stdout(),
    };
    let rejects = a.rejects.as_deref().map(create).transpose()?;
    let mut report = match &a.report_json {
        Some(p) => Some(
            ReportSink::new(create(p)?, ReportFormat::Json, false, None, list.len())
                .with_context(|| format!("writing --report-json {}", shown_path(p)))?,
        ),
        None => None,
    };
    if !header.is_empty() {
        match &mut out {
            Destination::Stdout(w) => w.write_all(&header)?,
            Destination::File(f) => f.write_all(&header)?,
        }
    }
    let mut sink = ConvertSink::new(out, rejects);
    let report_label = format!(
        "--report-json {}",
        shown_path(a.report_json.as_deref().unwrap_or(Path::new("")))
    );
    let mut labeled = report.as_mut().map(|r| Labeled {
        sink: r,
        label: report_label,
    });
    let mut tee;
    let records: &mut dyn Sink = match &mut labeled {
        Some(r) => {
            tee = Tee(&mut sink, r);
            &mut tee
        }
        None => &mut sink,
    };
    let mut w = Seen {
        sink: records,
        code: 0,
    };
    let summary = pipeline::run(&list, &opts, &mut w);
    let seen = w.code;
    drop(labeled);
    let summary = summary.map_err(run_error);
    drop(progress);
    let summary = match summary {
        Err(e) if closed_stdout(&e) => return Ok(ExitCode::from(seen)),
        s => s?,
    };
    sink.finish_rejects().context("writing output")?;
    let ConvertSink {
        out,
        rejects,
        first_error,
        first_rejection,
        ..
    } = sink;
    // Stopped by --on-error fail: the frame it stopped at is the one to show.
    let first_error = if summary.stopped {
        first_rejection
    } else {
        first_error
    };
    if summary.stopped {
        // --on-error fail: no output file, the error in full.
        if let Some((name, d)) = &first_error {
            note!("drainpipe: {}", text_line(d, name));
        }
        if let Destination::Stdout(mut w) = out {
            w.flush()?;
        }
    } else if summary.io_errors > 0 {
        // An input could not be read: files that should hold all of it are left unwritten.
        if let Destination::Stdout(mut w) = out {
            w.flush()?;
        }
        for (flag, p) in &outputs {
            note!(
                "drainpipe: {flag} {} not written: an input could not be read",
                shown_path(p)
            );
        }
    } else {
        // Every output is written out before any is committed: one that fails leaves the
        // others unwritten too (-o is not created when the run fails).
        let mut rejects = rejects;
        if let Some(r) = &mut rejects {
            r.flush()
                .map_err(|e| side_error("--rejects", e))
                .context("writing output")?;
        }
        let label = || {
            format!(
                "writing --report-json {}",
                shown_path(a.report_json.as_deref().unwrap_or(Path::new("")))
            )
        };
        let report = match report {
            Some(r) => {
                let names: Vec<String> = list.iter().map(|i| opts.name_of(i)).collect();
                Some(
                    r.finish(&summary, &names)
                        .map_err(|e| side_error("--report-json", e))
                        .with_context(label)?,
                )
            }
            None => None,
        };
        if let Err(e) = out.finish().context("writing output") {
            if closed_stdout(&e) {
                return Ok(exit_code(&summary));
            }
            return Err(e.into());
        }
        if let Some(r) = rejects {
            r.commit()
                .map_err(|e| side_error("--rejects", e))
                .context("writing output")?;
        }
        if let Some(r) = report {
            r.commit()
                .map_err(|e| side_error("--report-json", e))
                .with_context(label)?;
        }
    }
    if let Some(line) = summary_line(&summary, first_error.as_ref()) {
        note!("{line}");
    }
    Ok(exit_code(&summary))
}

pub fn validate(a: ValidateArgs, m: &ArgMatches) -> Result<ExitCode, Failure> {
    let list = inputs(&a.common)?;
    let (counter, progress) = progress(&a.common, &list);
    let opts = options(&a.common, m, Mode::Validate, counter, false, false)?;
    let format = match a.report {
        Report::Text => ReportFormat::Text,
        Report::Json => ReportFormat::Json,
        Report::Github => ReportFormat::Github,
    };
    let stdout = io::stdout();
    let color = format == ReportFormat::Text
        && stdout.is_terminal()
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    let mut sink = ReportSink::new(
        io::BufWriter::new(stdout.lock()),
        format,
        color,
        a.max_errors,
        list.len(),
    )?;
    let mut w = Seen {
        sink: &mut sink,
        code: 0,
    };
    let summary = pipeline::run(&list, &opts, &mut w).map_err(run_error);
    let seen = w.code;
    drop(progress);
    let summary = match summary {
        Err(e) if closed_stdout(&e) => return Ok(ExitCode::from(seen)),
        s => s?,
    };
    let names: Vec<String> = list.iter().map(|i| opts.name_of(i)).collect();
    match sink.finish(&summary, &names) {
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => {}
        r => {
            r?;
        }
    }
    Ok(exit_code(&summary))
}

/// `drainpipe schema --panther`: the schema on stdout.
pub fn schema(a: SchemaArgs) -> Result<ExitCode, Failure> {
    let mut encoder = Encoder::new(OutputFormat::Ndjson);
    if let Some(FieldList(f)) = a.fields {
        encoder.fields = f;
    }
    encoder.panther = a.panther;
    encoder.expand = a.expand;
    let yaml = drainpipe::encode::panther::schema(&encoder, &a.name);
    let mut out = io::stdout().lock();
    out.write_all(yaml.as_bytes())
        .and_then(|()| out.flush())
        .context("writing the schema")?;
    Ok(ExitCode::SUCCESS)
}
