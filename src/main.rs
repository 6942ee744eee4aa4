//! The `drainpipe` command line: a thin shell over the library.

use anyhow::{Context, Result};
use clap::parser::ValueSource;
use clap::{ArgMatches, Args, CommandFactory, FromArgMatches, Parser, Subcommand, ValueEnum};
use drainpipe::detect::Format as InputFormat;
use drainpipe::input::{self, Input};
use drainpipe::output::{summary_line, text_line, AtomicFile, ConvertSink, Destination};
use drainpipe::pipeline::{self, Mode, Options, Summary};
use drainpipe::progress::Progress;
use drainpipe::report::{ReportFormat, ReportSink};
use drainpipe::writer::{Field, Format, OutputSpec};
use std::ffi::OsString;
use std::io::{self, IsTerminal, Write};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;

const EXAMPLES: &str = "\
Examples:
  heroku logs --tail -a shop | drainpipe          records as lines come in
  drainpipe capture.drain.gz -o records.ndjson    convert a capture (gzip or not)
  drainpipe --to csv archive/ -o march.csv        every file under a directory
  drainpipe validate captures/                    FILE:LINE:COLUMN: error[CODE]: message
  drainpipe validate --report github captures/    GitHub Actions annotations
  drainpipe --generate man > drainpipe.1          a man page (or: bash, zsh, fish completions)

`drainpipe [OPTIONS] [FILE]...` is `drainpipe convert [OPTIONS] [FILE]...`; `drainpipe convert
--help` lists its options.";

/// Turn Heroku log-drain captures into clean Heroku.Runtime records (NDJSON, CSV), or validate
/// them.
#[derive(Parser)]
#[command(
    name = "drainpipe",
    version,
    about,
    long_about = None,
    override_usage = "drainpipe [OPTIONS] [FILE]...\n       drainpipe <COMMAND> [OPTIONS] [FILE]...",
    after_help = EXAMPLES
)]
struct Cli {
    /// Print a man page or shell completions on stdout and exit
    #[arg(long, value_name = "WHAT", value_enum)]
    generate: Option<Generate>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Clone, Copy, ValueEnum)]
enum Generate {
    /// A man page (roff): `drainpipe --generate man > ~/.local/share/man/man1/drainpipe.1`
    Man,
    Bash,
    Zsh,
    Fish,
    Elvish,
    Powershell,
}

#[derive(Subcommand)]
enum Command {
    /// Convert captures to records (the default command)
    Convert(ConvertArgs),
    /// Check captures against the schema and report every bad frame
    Validate(ValidateArgs),
}

/// The subcommands, as the argument rewriting in [`normalise_args`] knows them.
const COMMANDS: [&str; 3] = ["convert", "validate", "help"];

#[derive(Args)]
struct CommonArgs {
    /// Input files or directories; none or `-` reads stdin. Gzip is detected and undone.
    #[arg(value_name = "FILE")]
    files: Vec<PathBuf>,
    /// Also read the inputs listed in FILE (`-`: stdin), one path a line
    #[arg(long, value_name = "FILE")]
    files_from: Option<PathBuf>,
    /// With --files-from: paths are separated by NUL bytes, not newlines (`find -print0`)
    #[arg(short = '0', long = "null", requires = "files_from")]
    null: bool,
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
        hide_env_values = true,
        value_parser = clap::value_parser!(OsString)
    )]
    drain_token: Option<OsString>,
    /// `heroku logs` on a live pipe: how long the pipe must stay quiet before its last message
    /// is taken as complete. Longer joins later continuation lines; shorter shows records sooner.
    #[arg(long, value_name = "MS", default_value = "40",
          value_parser = clap::value_parser!(u64).range(1..=60_000))]
    idle_ms: u64,
    /// The name reports give stdin (default `<stdin>`)
    #[arg(long, value_name = "NAME")]
    stdin_name: Option<String>,
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
    /// Also write the run's validation report (as `validate --report json` prints it) to FILE
    #[arg(long, value_name = "FILE")]
    report_json: Option<PathBuf>,
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

/// Rewrites the command line so clap sees a subcommand first: `drainpipe [FILE...]` means
/// `drainpipe convert [FILE...]`, and options may come before the subcommand
/// (`drainpipe --strict validate x`). The first operand that is not an option's value decides:
/// a command name moves to the front, anything else is a file and `convert` goes in front.
/// An operand that names no file but looks like a misspelt command is a usage error.
fn normalise_args(mut args: Vec<OsString>) -> Result<Vec<OsString>, String> {
    let top_level = ["-h", "--help", "-V", "--version", "--generate"];
    if args.get(1).is_some_and(|a| {
        let a = a.as_bytes();
        top_level.iter().any(|t| a == t.as_bytes()) || a.starts_with(b"--generate=")
    }) {
        return Ok(args);
    }
    let cmd = Cli::command();
    let convert = cmd
        .find_subcommand("convert")
        .expect("convert is a subcommand");
    let takes_value = |long: Option<&[u8]>, short: Option<char>| {
        convert.get_arguments().any(|a| {
            !a.is_positional()
                && a.get_action().takes_values()
                && (long.is_some_and(|l| a.get_long().is_some_and(|n| n.as_bytes() == l))
                    || short.is_some_and(|s| a.get_short() == Some(s)))
        })
    };
    let mut i = 1;
    let mut operand = None;
    while i < args.len() {
        let a = args[i].as_bytes();
        if a == b"--" {
            break;
        }
        if let Some(long) = a.strip_prefix(b"--") {
            if !long.contains(&b'=') && takes_value(Some(long), None) {
                i += 1;
            }
        } else if a.len() > 1 && a[0] == b'-' {
            for (k, &c) in a[1..].iter().enumerate() {
                if takes_value(None, Some(c as char)) {
                    if k == a.len() - 2 {
                        i += 1;
                    }
                    break;
                }
            }
        } else {
            operand = Some(i);
            break;
        }
        i += 1;
    }
    if let Some(j) = operand {
        let name = args[j].as_bytes();
        if let Some(c) = COMMANDS.iter().find(|c| c.as_bytes() == name) {
            args.remove(j);
            args.insert(1, OsString::from(*c));
            return Ok(args);
        }
        let text = String::from_utf8_lossy(name);
        if name != b"-" && !Path::new(&args[j]).exists() {
            if let Some(c) = COMMANDS
                .iter()
                .find(|c| text.len() >= 3 && strsim::damerau_levenshtein(&text, c) <= 2)
            {
                return Err(format!(
                    "{text:?} is neither a file nor a command; did you mean `drainpipe {c}`? \
                     (a file named like a command is written ./{text})"
                ));
            }
        }
    }
    args.insert(1, OsString::from("convert"));
    Ok(args)
}

/// Prints on stderr. Whether stderr can take it changes nothing (SPEC §4): no panic, and the
/// exit code stays what the run decided.
macro_rules! note {
    ($($t:tt)*) => {{
        let _ = writeln!(io::stderr(), $($t)*);
    }};
}

/// A usage error: clap's style, exit 2, nothing touched.
fn usage_error(message: &str) -> ExitCode {
    note!("drainpipe: error: {message}\n\nFor more information, try '--help'.");
    ExitCode::from(2)
}

fn main() -> ExitCode {
    let args = match normalise_args(std::env::args_os().collect()) {
        Ok(a) => a,
        Err(message) => return usage_error(&message),
    };
    let matches = Cli::command().get_matches_from(args);
    let cli = match Cli::from_arg_matches(&matches) {
        Ok(c) => c,
        Err(e) => e.exit(),
    };
    if let Some(what) = cli.generate {
        return generate(what);
    }
    if let Err(e) = drainpipe::output::cleanup_on_signals() {
        note!("drainpipe: warning: cannot watch for signals: {e}");
    }
    let sub = matches.subcommand().map(|(_, m)| m);
    let result = match cli.command {
        Some(Command::Convert(a)) => convert(a, sub.expect("subcommand")),
        Some(Command::Validate(a)) => validate(a, sub.expect("subcommand")),
        None => return usage_error("no command"),
    };
    match result {
        Ok(code) => code,
        Err(Failure::Usage(m)) => usage_error(&m),
        Err(Failure::Other(e)) => {
            if e.downcast_ref::<io::Error>()
                .is_some_and(|e| e.kind() == io::ErrorKind::BrokenPipe)
            {
                // `drainpipe | head`: the reader has what it wanted.
                return ExitCode::SUCCESS;
            }
            note!("drainpipe: error: {e:#}");
            ExitCode::from(2)
        }
    }
}

/// Why a command could not finish.
enum Failure {
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

fn generate(what: Generate) -> ExitCode {
    let mut cmd = Cli::command();
    // Into memory first: clap_complete panics when its writer fails, and stdout can fail.
    let mut text = Vec::new();
    let shell = match what {
        Generate::Man => {
            clap_mangen::Man::new(cmd.clone())
                .render(&mut text)
                .expect("writing to memory");
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
    let mut out = io::stdout().lock();
    match out.write_all(&text).and_then(|()| out.flush()) {
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
        let bytes = if list.as_os_str() == "-" {
            let mut v = Vec::new();
            io::Read::read_to_end(&mut io::stdin(), &mut v)
                .map_err(|e| Failure::Usage(format!("cannot read --files-from -: {e}")))?;
            v
        } else {
            std::fs::read(list).map_err(|e| {
                Failure::Usage(format!(
                    "cannot read --files-from {}: {}",
                    list.display(),
                    drainpipe::error::io_message(&e)
                ))
            })?
        };
        let sep = if common.null { b'\0' } else { b'\n' };
        let listed: Vec<PathBuf> = bytes
            .split(|&b| b == sep)
            .map(|p| {
                if sep == b'\n' {
                    p.strip_suffix(b"\r").unwrap_or(p)
                } else {
                    p
                }
            })
            .filter(|p| !p.is_empty())
            .map(|p| PathBuf::from(OsString::from_vec(p.to_vec())))
            .collect();
        if listed.iter().any(|p| p.as_os_str() == "-") && list.as_os_str() == "-" {
            return Err(Failure::Usage(
                "--files-from - reads the list from stdin, so the list cannot name stdin".into(),
            ));
        }
        if common.files.is_empty() && listed.is_empty() {
            return Err(Failure::Usage(format!(
                "--files-from {} lists no input",
                list.display()
            )));
        }
        operands.extend(listed);
    }
    let expanded = input::expand(&operands);
    for s in &expanded.skipped {
        note!("drainpipe: {s}");
    }
    Ok(expanded.inputs)
}

/// The pipeline's options from the command line.
fn options(common: &CommonArgs, m: &ArgMatches, mode: Mode) -> Result<Options, Failure> {
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
    o.drain_token = match &common.drain_token {
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
        Some(t) => Some(t.as_bytes().to_vec()),
        None => None,
    };
    o.block_size = usize::try_from(common.block_size).unwrap_or(usize::MAX);
    o.idle = std::time::Duration::from_millis(common.idle_ms);
    o.stdin_name = common.stdin_name.clone();
    Ok(o)
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

/// Refuses outputs that would destroy an input or each other, before anything is touched.
fn check_outputs(outputs: &[(&str, &Path)], inputs: &[Input]) -> Result<(), Failure> {
    use drainpipe::output::same_file;
    for (k, (flag, out)) in outputs.iter().enumerate() {
        for (flag2, out2) in &outputs[k + 1..] {
            if same_file(out, out2) {
                return Err(Failure::Usage(format!(
                    "{flag} {} and {flag2} {} are the same file",
                    out.display(),
                    out2.display()
                )));
            }
        }
        for i in inputs {
            let hit = match i {
                Input::Path(p) => same_file(out, p),
                Input::Stdin => drainpipe::output::is_stdin(out),
                Input::Failed { .. } => false,
            };
            if hit {
                return Err(Failure::Usage(format!(
                    "{flag} {} is also an input ({}): refusing to overwrite it",
                    out.display(),
                    i.name()
                )));
            }
        }
    }
    Ok(())
}

fn create(p: &Path) -> Result<AtomicFile, Failure> {
    AtomicFile::create(p)
        .with_context(|| format!("cannot create {}", p.display()))
        .map_err(Failure::Other)
}

fn convert(a: ConvertArgs, m: &ArgMatches) -> Result<ExitCode, Failure> {
    let list = inputs(&a.common)?;
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
    let mut opts = options(&a.common, m, Mode::Convert(spec))?;
    opts.stop_at_first_error = a.on_error == OnError::Fail;
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
    check_outputs(&outputs, &list)?;

    let mut out = match &a.output {
        Some(p) => Destination::File(create(p)?),
        None => Destination::stdout(),
    };
    let rejects = a.rejects.as_deref().map(create).transpose()?;
    let mut report = match &a.report_json {
        Some(p) => Some(ReportSink::new(
            create(p)?,
            ReportFormat::Json,
            false,
            None,
            list.len(),
        )?),
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
    let summary = match &mut report {
        Some(r) => pipeline::run(&list, &opts, &mut drainpipe::pipeline::Tee(&mut sink, r)),
        None => pipeline::run(&list, &opts, &mut sink),
    }
    .context("writing output");
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
                p.display()
            );
        }
    } else {
        out.finish().context("writing output")?;
        if let Some(r) = rejects {
            r.commit().context("writing rejects")?;
        }
        if let Some(r) = report {
            let names: Vec<String> = list.iter().map(|i| opts.name_of(i)).collect();
            r.finish(&summary, &names)?
                .commit()
                .context("writing the report")?;
        }
    }
    if let Some(line) = summary_line(&summary, first_error.as_ref()) {
        note!("{line}");
    }
    Ok(exit_code(&summary))
}

fn validate(a: ValidateArgs, m: &ArgMatches) -> Result<ExitCode, Failure> {
    let list = inputs(&a.common)?;
    let mut opts = options(&a.common, m, Mode::Validate)?;
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
    let names: Vec<String> = list.iter().map(|i| opts.name_of(i)).collect();
    sink.finish(&summary, &names)?;
    Ok(exit_code(&summary))
}
