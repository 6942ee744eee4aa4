//! The command line's definition (clap), and the rewriting that lets `drainpipe FILE` mean
//! `drainpipe convert FILE` and options come before the command.

use clap::{Args, CommandFactory, Parser, Subcommand, ValueEnum};
use drainpipe::encode::Field;
use drainpipe::pipeline;
use std::ffi::OsString;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

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
    propagate_version = true,
    about,
    long_about = None,
    override_usage = "drainpipe [OPTIONS] [FILE]...\n       drainpipe <COMMAND> [OPTIONS] [FILE]...",
    after_help = EXAMPLES
)]
pub struct Cli {
    /// Print a man page or shell completions on stdout and exit
    #[arg(long, value_name = "WHAT", value_enum)]
    pub generate: Option<Generate>,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum Generate {
    /// A man page (roff): `drainpipe --generate man > ~/.local/share/man/man1/drainpipe.1`
    Man,
    Bash,
    Zsh,
    Fish,
    Elvish,
    Powershell,
}

#[derive(Subcommand)]
pub enum Command {
    /// Convert captures to records (the default command)
    Convert(ConvertArgs),
    /// Check captures against the schema and report every bad frame
    Validate(ValidateArgs),
    /// Print a schema for the records convert writes (Panther custom log schema, YAML)
    Schema(SchemaArgs),
}

/// The subcommands, as the argument rewriting in [`normalise_args`] knows them.
const COMMANDS: [&str; 4] = ["convert", "validate", "schema", "help"];

#[derive(Args)]
pub struct SchemaArgs {
    /// A Panther custom log schema for `convert --panther` output (the only kind so far)
    #[arg(long, required = true)]
    pub panther: bool,
    /// For records written with --expand (router, metrics and fields objects)
    #[arg(long)]
    pub expand: bool,
    /// For records written with --fields LIST
    #[arg(long, value_name = "LIST", value_parser = parse_fields)]
    pub fields: Option<FieldList>,
    /// The schema's name (Panther wants custom log types to start with `Custom.`)
    #[arg(long, value_name = "NAME", default_value = "Custom.Heroku.Runtime", value_parser = parse_schema_name)]
    pub name: String,
}

/// A Panther log type name: `Custom.` then dot-separated words of letters and digits, each
/// starting with a capital letter.
fn parse_schema_name(s: &str) -> Result<String, String> {
    let ok = s.strip_prefix("Custom.").is_some_and(|rest| {
        rest.split('.').all(|w| {
            w.chars().next().is_some_and(|c| c.is_ascii_uppercase())
                && w.chars().all(|c| c.is_ascii_alphanumeric())
        })
    });
    if ok {
        Ok(s.to_string())
    } else {
        Err("a Panther custom log type is `Custom.` then words like `Heroku.Runtime`".into())
    }
}

#[derive(Args)]
pub struct CommonArgs {
    /// Input files or directories; none or `-` reads stdin. Gzip is detected and undone.
    #[arg(value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Also read the inputs listed in FILE (`-`: stdin), one path a line
    #[arg(long, value_name = "FILE")]
    pub files_from: Option<PathBuf>,
    /// With --files-from: paths are separated by NUL bytes, not newlines (`find -print0`)
    #[arg(short = '0', long = "null", requires = "files_from")]
    pub null: bool,
    /// Worker threads, 1 to 1024 [default: all cores]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub threads: Option<u16>,
    /// Largest frame accepted, in bytes (K, M, G suffixes allowed)
    #[arg(long, value_name = "BYTES", default_value = "1M", value_parser = parse_size)]
    pub max_frame: u64,
    /// Recover frames with wrong lengths from line structure (warning length-mismatch)
    #[arg(long)]
    pub lenient_length: bool,
    /// Treat warnings (utf8, length-mismatch, rejoin) as errors
    #[arg(long)]
    pub strict: bool,
    /// Input format instead of detecting it from each input's first recognisable line
    #[arg(long, value_name = "FORMAT")]
    pub from: Option<From>,
    /// HTTP captures: reject requests whose Logplex-Drain-Token differs (error auth).
    /// Prefer the environment variable: command lines are visible to other users.
    #[arg(
        long,
        value_name = "TOKEN",
        env = "DRAINPIPE_DRAIN_TOKEN",
        hide_env_values = true,
        value_parser = clap::value_parser!(OsString)
    )]
    pub drain_token: Option<OsString>,
    /// A live pipe: how long it must stay quiet before its last `heroku logs` message (or a
    /// --rejoin chain) is taken as complete. Longer joins later lines; shorter shows records
    /// sooner; 0 never: the pipe is read like a file (batch pipelines such as `zcat … |`)
    #[arg(long, value_name = "MS", default_value = "40",
          value_parser = clap::value_parser!(u64).range(0..=60_000))]
    pub idle_ms: u64,
    /// The name reports give stdin (default `<stdin>`)
    #[arg(long, value_name = "NAME")]
    pub stdin_name: Option<String>,
    /// No progress line (it is only shown when stderr is a terminal and stdout is not)
    #[arg(long, short)]
    pub quiet: bool,
    /// Bytes read per block (for tests of block boundaries; the default suits real use)
    #[arg(long, value_name = "BYTES", default_value = "1M", value_parser = parse_size, hide = true)]
    pub block_size: u64,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum From {
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
pub enum To {
    Ndjson,
    Csv,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OnError {
    /// Skip bad frames (listing them in --rejects), exit 1 at the end
    Skip,
    /// Stop at the first bad frame
    Fail,
}

#[derive(Args)]
pub struct ConvertArgs {
    #[command(flatten)]
    pub common: CommonArgs,
    /// Output format
    #[arg(long, value_enum, default_value = "ndjson")]
    pub to: To,
    /// Columns to write, in this order (comma-separated)
    #[arg(long, value_name = "LIST", value_parser = parse_fields)]
    pub fields: Option<FieldList>,
    /// Write records to FILE (atomically: complete or not at all) instead of stdout
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// What to do with a bad frame
    #[arg(long, value_enum, default_value = "skip")]
    pub on_error: OnError,
    /// Write rejected frames, verbatim, to FILE
    #[arg(long, value_name = "FILE")]
    pub rejects: Option<PathBuf>,
    /// Also write the run's validation report (as `validate --report json` prints it) to FILE
    #[arg(long, value_name = "FILE")]
    pub report_json: Option<PathBuf>,
    /// Add Panther's standard p_* fields and omit null fields
    #[arg(long)]
    pub panther: bool,
    /// Neutralise CSV cells that start with = + - @ tab or CR (formula injection)
    #[arg(long)]
    pub csv_safe: bool,
    /// Add typed objects read from the message: `router` (Heroku router lines), `metrics`
    /// (sample#, measure#, count#) and `fields` (other logfmt)
    #[arg(long)]
    pub expand: bool,
    /// Write one record for a message its sender split: PostgreSQL's [SEQ-N] chunks and
    /// Heroku's 10,000-byte pieces (warning rejoin for a chain that does not complete)
    #[arg(long)]
    pub rejoin: bool,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum Report {
    Text,
    Json,
    Github,
}

#[derive(Args)]
pub struct ValidateArgs {
    #[command(flatten)]
    pub common: CommonArgs,
    /// Report format
    #[arg(long, value_enum, default_value = "text")]
    pub report: Report,
    /// List at most N diagnostics (the counts always cover all)
    #[arg(long, value_name = "N")]
    pub max_errors: Option<u64>,
}

/// A size in bytes with an optional K, M or G suffix. Its range is the pipeline's to check
/// ([`pipeline::OptionsBuilder::build`]); anything over 1G is refused here already, so the
/// message names the value as written.
fn parse_size(s: &str) -> Result<u64, String> {
    let (num, mult) = match s.as_bytes().last() {
        Some(b'K' | b'k') => (&s[..s.len() - 1], 1u64 << 10),
        Some(b'M' | b'm') => (&s[..s.len() - 1], 1 << 20),
        Some(b'G' | b'g') => (&s[..s.len() - 1], 1 << 30),
        _ => (s, 1),
    };
    match num.parse::<u64>().ok().and_then(|n| n.checked_mul(mult)) {
        Some(n) if n > pipeline::options::MAX_SIZE => {
            Err(format!("{s:?} is more than the 1G drainpipe allows"))
        }
        Some(n) if n > 0 => Ok(n),
        _ => Err(format!(
            "{s:?} is not a size in bytes (e.g. 65536, 64K, 1M)"
        )),
    }
}

/// A `--fields` value (a newtype so clap takes the whole list as one value).
#[derive(Clone)]
pub struct FieldList(pub Vec<Field>);

fn parse_fields(s: &str) -> Result<FieldList, String> {
    Field::parse_list(s).map(FieldList)
}

/// Rewrites the command line so clap sees a subcommand first: `drainpipe [FILE...]` means
/// `drainpipe convert [FILE...]`, and options may come before the subcommand
/// (`drainpipe --strict validate x`). The first operand that is not an option's value decides:
/// a command name moves to the front, anything else is a file and `convert` goes in front.
/// An operand that names no file but looks like a misspelt command is a usage error.
pub fn normalise_args(mut args: Vec<OsString>) -> Result<Vec<OsString>, String> {
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
