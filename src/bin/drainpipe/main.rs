//! The `drainpipe` command line: a clap shell over the library.
//!
//! [`args`] defines the command line (and lets options come before the command);
//! [`commands`] turns it into library calls. Exit codes, run ids and every rule live in the
//! library.

mod args;
mod commands;

use args::{Cli, Command};
use clap::{CommandFactory, FromArgMatches};
use commands::Failure;
use std::io::{self, IsTerminal, Write};
use std::process::ExitCode;

/// Prints on stderr. Whether stderr can take it changes nothing (README "Three ways to use it"): no panic, and the
/// exit code stays what the run decided.
macro_rules! note {
    ($($t:tt)*) => {{
        let _ = writeln!(io::stderr(), $($t)*);
    }};
}

/// A usage error: clap's style, exit 2, nothing touched.
fn usage_error(message: &str) -> ExitCode {
    let message = drainpipe::diag::quote::mask_tokens(message);
    note!("drainpipe: error: {message}\n\nFor more information, try '--help'.");
    ExitCode::from(2)
}

/// A command line clap refused, or `--help`/`--version`. A refused value is quoted in the
/// message: a drain token pasted into the wrong option is masked there.
fn clap_error(e: clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    // Styled for a terminal, plain otherwise.
    let rendered = |terminal: bool| {
        if terminal {
            e.render().ansi().to_string()
        } else {
            e.render().to_string()
        }
    };
    if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) {
        // Printed here rather than by clap, which ignores a failing stdout (`--help >/dev/full`).
        return commands::print_stdout(rendered(io::stdout().is_terminal()).as_bytes());
    }
    if e.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand {
        e.exit()
    }
    let text = rendered(io::stderr().is_terminal());
    note!("{}", drainpipe::diag::quote::mask_tokens(text.trim_end()));
    ExitCode::from(2)
}

/// The drain token the command line gives (`--drain-token T`, `--drain-token=T`, else
/// `DRAINPIPE_DRAIN_TOKEN`), made a secret before anything can quote it, a usage error
/// included.
fn keep_token_secret(args: &[std::ffi::OsString]) {
    use std::os::unix::ffi::OsStrExt;
    let mut token = None;
    for (i, a) in args.iter().enumerate() {
        let b = a.as_bytes();
        if b == b"--" {
            break;
        } else if b == b"--drain-token" {
            token = args.get(i + 1).map(|t| t.as_bytes().to_vec());
        } else if let Some(t) = b.strip_prefix(b"--drain-token=") {
            token = Some(t.to_vec());
        }
    }
    let token =
        token.or_else(|| std::env::var_os("DRAINPIPE_DRAIN_TOKEN").map(|t| t.as_bytes().to_vec()));
    if let Some(t) = token {
        drainpipe::diag::quote::keep_secret(&t);
    }
}

fn main() -> ExitCode {
    let raw: Vec<std::ffi::OsString> = std::env::args_os().collect();
    keep_token_secret(&raw);
    let args = match args::normalise_args(raw) {
        Ok(a) => a,
        Err(message) => return usage_error(&message),
    };
    let matches = match Cli::command().try_get_matches_from(args) {
        Ok(m) => m,
        Err(e) => return clap_error(e),
    };
    let cli = match Cli::from_arg_matches(&matches) {
        Ok(c) => c,
        Err(e) => return clap_error(e),
    };
    if let Some(what) = cli.generate {
        return commands::generate(what);
    }
    if let Err(e) = drainpipe::sink::atomic::cleanup_on_signals() {
        note!("drainpipe: warning: cannot watch for signals: {e}");
    }
    let sub = matches.subcommand().map(|(_, m)| m);
    let result = match cli.command {
        Some(Command::Convert(a)) => commands::convert(a, sub.expect("subcommand")),
        Some(Command::Validate(a)) => commands::validate(a, sub.expect("subcommand")),
        Some(Command::Schema(a)) => commands::schema(a),
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
