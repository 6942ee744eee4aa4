//! The `drainpipe` command line: a thin shell over the library.

use anyhow::{Context, Result};
use clap::{Args, Parser, Subcommand, ValueEnum};
use drainpipe::detect::Format as InputFormat;
use drainpipe::input::{self, Input};
use drainpipe::output::{summary_line, text_line, AtomicFile, ConvertSink, Destination};
use drainpipe::pipeline::{self, Mode, Options, Summary};
use drainpipe::progress::Progress;
use drainpipe::report::{ReportFormat, ReportSink};
use drainpipe::writer::{Field, Format, OutputSpec};
use std::io::{self, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;

/// Turn Heroku log-drain captures into clean Heroku.Runtime records (NDJSON, CSV), or validate
/// them. `drainpipe [FILE...]` is `drainpipe convert [FILE...]`.
#[derive(Parser)]
#[command(name = "drainpipe", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Convert captures to records (the default command)
    Convert(ConvertArgs),
    /// Check captures against the schema and report every bad frame
    Validate(ValidateArgs),
}

#[derive(Args)]
struct CommonArgs {
    /// Input files or directories; none or `-` reads stdin. Gzip is detected and undone.
    #[arg(value_name = "FILE")]
    files: Vec<String>,
    /// Worker threads [default: all cores]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    threads: Option<u16>,
    /// Largest frame accepted, in bytes (K, M, G suffixes allowed)
    #[arg(long, value_name = "BYTES", default_value = "1M", value_parser = parse_size)]
    max_frame: u64,
    /// Recover frames with wrong lengths from line structure (warning length-mismatch)
    #[arg(long)]
    lenient_length: bool,
    /// Treat warnings (utf8, length-mismatch) as errors
    #[arg(long)]
    strict: bool,
    /// Input format instead of detecting it from each input's first recognisable line
    #[arg(long, value_name = "FORMAT")]
    from: Option<From>,
    /// HTTP captures: reject requests whose Logplex-Drain-Token differs (error auth).
    /// Prefer the environment variable: command lines are visible to other users.
    #[arg(
        long,
        value_name = "TOKEN",
        env = "DRAINPIPE_DRAIN_TOKEN",
        hide_env_values = true
    )]
    drain_token: Option<String>,
    /// No progress line (it is only shown when stderr is a terminal and stdout is not)
    #[arg(long, short)]
    quiet: bool,
    /// Bytes read per block (for tests of block boundaries; the default suits real use)
    #[arg(long, value_name = "BYTES", default_value = "1M", value_parser = parse_size, hide = true)]
    block_size: u64,
}

#[derive(Clone, Copy, ValueEnum)]
enum From {
    /// RFC 6587 octet-counted frames (drain POST bodies)
    Octet,
    /// One RFC 5424 message per line
    Syslog,
    /// Saved drain POSTs (request line, headers, body)
    Http,
    /// `heroku logs` output
    Cli,
}

#[derive(Clone, Copy, ValueEnum)]
enum To {
    Ndjson,
    Csv,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum OnError {
    /// Skip bad frames (listing them in --rejects), exit 1 at the end
    Skip,
    /// Stop at the first bad frame
    Fail,
}

#[derive(Args)]
struct ConvertArgs {
    #[command(flatten)]
    common: CommonArgs,
    /// Output format
    #[arg(long, value_enum, default_value = "ndjson")]
    to: To,
    /// Columns to write, in this order (comma-separated)
    #[arg(long, value_name = "LIST", value_parser = parse_fields)]
    fields: Option<FieldList>,
    /// Write records to FILE (atomically: complete or not at all) instead of stdout
    #[arg(short, long, value_name = "FILE")]
    output: Option<PathBuf>,
    /// What to do with a bad frame
    #[arg(long, value_enum, default_value = "skip")]
    on_error: OnError,
    /// Write rejected frames, verbatim, to FILE
    #[arg(long, value_name = "FILE")]
    rejects: Option<PathBuf>,
    /// Add Panther's standard p_* fields and omit null fields
    #[arg(long)]
    panther: bool,
    /// Neutralise CSV cells that start with = + - @ tab or CR (formula injection)
    #[arg(long)]
    csv_safe: bool,
}

#[derive(Clone, Copy, ValueEnum)]
enum Report {
    Text,
    Json,
    Github,
}

#[derive(Args)]
struct ValidateArgs {
    #[command(flatten)]
    common: CommonArgs,
    /// Report format
    #[arg(long, value_enum, default_value = "text")]
    report: Report,
    /// List at most N diagnostics (the counts always cover all)
    #[arg(long, value_name = "N")]
    max_errors: Option<u64>,
}

fn parse_size(s: &str) -> Result<u64, String> {
    let (num, mult) = match s.as_bytes().last() {
        Some(b'K' | b'k') => (&s[..s.len() - 1], 1u64 << 10),
        Some(b'M' | b'm') => (&s[..s.len() - 1], 1 << 20),
        Some(b'G' | b'g') => (&s[..s.len() - 1], 1 << 30),
        _ => (s, 1),
    };
    num.parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(mult))
        .filter(|&n| n > 0)
        .ok_or_else(|| format!("{s:?} is not a size in bytes (e.g. 65536, 64K, 1M)"))
        .and_then(|n| {
            // Frames and blocks live in memory: beyond this a size is a mistake, and a
            // pointer-sized offset must never overflow.
            if n > MAX_SIZE {
                Err(format!("{s:?} is more than the 1G drainpipe allows"))
            } else {
                Ok(n)
            }
        })
}

const MAX_SIZE: u64 = 1 << 30;

/// A `--fields` value (a newtype so clap takes the whole list as one value).
#[derive(Clone)]
struct FieldList(Vec<Field>);

fn parse_fields(s: &str) -> Result<FieldList, String> {
    Field::parse_list(s).map(FieldList)
}

/// `drainpipe [FILE...]` means `drainpipe convert [FILE...]`.
fn with_default_command(mut args: Vec<String>) -> Vec<String> {
    let known = [
        "convert",
        "validate",
        "help",
        "-h",
        "--help",
        "-V",
        "--version",
    ];
    if args.get(1).is_none_or(|a| !known.contains(&a.as_str())) {
        args.insert(1, "convert".into());
    }
    args
}

fn main() -> ExitCode {
    let cli = Cli::parse_from(with_default_command(std::env::args().collect()));
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            if e.downcast_ref::<io::Error>()
                .is_some_and(|e| e.kind() == io::ErrorKind::BrokenPipe)
            {
                // `drainpipe | head`: the reader has what it wanted.
                return ExitCode::SUCCESS;
            }
            let _ = writeln!(io::stderr(), "drainpipe: error: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn run(cli: Cli) -> Result<ExitCode> {
    match cli.command {
        Command::Convert(a) => convert(a),
        Command::Validate(a) => validate(a),
    }
}

/// Expands operands into inputs, reporting those that cannot even be listed.
fn options(common: &CommonArgs, mode: Mode) -> Options {
    let mut o = Options::new(mode);
    if let Some(t) = common.threads {
        o.threads = usize::from(t);
    }
    o.max_frame = common.max_frame;
    o.lenient_length = common.lenient_length;
    o.strict = common.strict;
    o.format = common.from.map(|f| match f {
        From::Octet => InputFormat::Octet,
        From::Syslog => InputFormat::Syslog,
        From::Http => InputFormat::Http,
        From::Cli => InputFormat::Cli,
    });
    o.drain_token = common.drain_token.as_ref().map(|t| t.as_bytes().to_vec());
    o.block_size = usize::try_from(common.block_size).unwrap_or(usize::MAX);
    o
}

/// A progress line for batch work watched from a terminal: stderr is one, stdout is not (it
/// would mix with records or the report), every input is a regular file (the total is
/// known; a live pipe has none), and `--quiet` is not given.
fn progress(common: &CommonArgs, list: &[Input], opts: &mut Options) -> Option<Progress> {
    if common.quiet || !io::stderr().is_terminal() || io::stdout().is_terminal() {
        return None;
    }
    let total = input::known_size(list).filter(|&t| t > 0)?;
    let counter = Arc::new(AtomicU64::new(0));
    opts.progress = Some(counter.clone());
    Some(Progress::start(total, counter))
}

/// SPEC exit codes: 2 for I/O trouble, 1 for bad data, 0 otherwise.
fn exit_code(s: &Summary) -> ExitCode {
    if s.io_errors > 0 {
        ExitCode::from(2)
    } else if s.rejected > 0 || s.inputs_failed > 0 || s.errors() > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

fn convert(a: ConvertArgs) -> Result<ExitCode> {
    let list = input::expand(&a.common.files);
    let mut spec = OutputSpec::new(match a.to {
        To::Ndjson => Format::Ndjson,
        To::Csv => Format::Csv,
    });
    if let Some(FieldList(f)) = a.fields {
        spec.fields = f;
    }
    spec.panther = a.panther;
    spec.csv_safe = a.csv_safe;
    if a.panther {
        let now = chrono::Utc::now();
        let text = now.format("%Y-%m-%d %H:%M:%S%.9f").to_string();
        spec.parse_time.copy_from_slice(text.as_bytes());
        spec.run_id =
            (now.timestamp_nanos_opt().unwrap_or(0) as u64) ^ u64::from(std::process::id());
    }
    let header = spec.header();
    let mut opts = options(&a.common, Mode::Convert(spec));
    opts.stop_at_first_error = a.on_error == OnError::Fail;

    let mut out = match &a.output {
        Some(p) => Destination::File(
            AtomicFile::create(p).with_context(|| format!("cannot create {}", p.display()))?,
        ),
        None => Destination::stdout(),
    };
    let rejects = match &a.rejects {
        Some(p) => {
            Some(AtomicFile::create(p).with_context(|| format!("cannot create {}", p.display()))?)
        }
        None => None,
    };
    if !header.is_empty() {
        match &mut out {
            Destination::Stdout(w) => w.write_all(&header)?,
            Destination::File(f) => f.write_all(&header)?,
        }
    }
    let mut sink = ConvertSink::new(out, rejects);
    let progress = progress(&a.common, &list, &mut opts);
    let summary = pipeline::run(&list, &opts, &mut sink).context("writing output");
    drop(progress);
    let summary = summary?;
    let ConvertSink {
        out,
        rejects,
        first_error,
        ..
    } = sink;
    if summary.stopped {
        // --on-error fail: no output file, the error in full.
        if let Some((name, d)) = &first_error {
            eprintln!("drainpipe: {}", text_line(d, name));
        }
        if let Destination::Stdout(mut w) = out {
            w.flush()?;
        }
    } else {
        out.finish().context("writing output")?;
        if let Some(r) = rejects {
            r.commit().context("writing rejects")?;
        }
    }
    if let Some(line) = summary_line(&summary, first_error.as_ref()) {
        eprintln!("{line}");
    }
    Ok(exit_code(&summary))
}

fn validate(a: ValidateArgs) -> Result<ExitCode> {
    let list = input::expand(&a.common.files);
    let mut opts = options(&a.common, Mode::Validate);
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
    let progress = progress(&a.common, &list, &mut opts);
    let summary = pipeline::run(&list, &opts, &mut sink);
    drop(progress);
    let summary = summary?;
    let names: Vec<String> = list.iter().map(Input::name).collect();
    sink.finish(&summary, &names)?;
    Ok(exit_code(&summary))
}
