//! What a run is asked to do, checked once when it is built.

use crate::encode::Encoder;
use crate::source::detect::InputFormat;
use crate::source::pump::DEFAULT_IDLE;
use crate::source::Input;
use crate::split::Limits;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;
use std::time::Duration;

/// What the workers make of each unit.
#[derive(Clone, Debug)]
pub enum Mode {
    /// Encode records.
    Convert(Encoder),
    /// Check only.
    Validate,
}

/// The largest `--max-frame` and `--block-size`: frames and blocks live in memory, and a
/// pointer-sized offset must never overflow.
pub const MAX_SIZE: u64 = 1 << 30;

/// A run's options. Built with [`Options::builder`], which checks every value, so the pipeline
/// never meets an absurd one.
#[derive(Clone, Debug)]
pub struct Options {
    pub(crate) mode: Mode,
    /// Worker threads, at least 1.
    pub(crate) threads: usize,
    /// What the splitters accept.
    pub(crate) limits: Limits,
    /// Warnings reject the frame.
    pub(crate) strict: bool,
    /// Stop at the first rejected frame (`--on-error fail`).
    pub(crate) stop_at_first_error: bool,
    /// Bytes read per block from a regular file, 64 to [`MAX_SIZE`].
    pub(crate) block_size: usize,
    /// `--from`: the input format, instead of detecting it.
    pub(crate) format: Option<InputFormat>,
    /// Bytes read from the inputs' files so far, for a progress line.
    pub(crate) progress: Option<Arc<AtomicU64>>,
    /// How long a live `heroku logs` pipe must stay quiet before its pending message is taken
    /// as complete (`--idle-ms`); `None`: never (a pipe is read like a file).
    pub(crate) idle: Option<Duration>,
    /// What reports call stdin (`--stdin-name`; `<stdin>` by default).
    pub(crate) stdin_name: Option<String>,
    /// `--rejoin`: one record for a message split into pieces (convert only).
    pub(crate) rejoin: bool,
}

impl Options {
    /// Options for `mode`, every other value at its default.
    pub fn builder(mode: Mode) -> OptionsBuilder {
        OptionsBuilder {
            o: Options {
                mode,
                threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
                limits: Limits {
                    max_frame: 1 << 20,
                    lenient: false,
                    token: None,
                },
                strict: false,
                stop_at_first_error: false,
                block_size: 1 << 20,
                format: None,
                progress: None,
                idle: Some(DEFAULT_IDLE),
                stdin_name: None,
                rejoin: false,
            },
        }
    }

    /// The name reports give `input`.
    pub fn name_of(&self, input: &Input) -> String {
        let name = match (input, &self.stdin_name) {
            (Input::Stdin, Some(n)) => n.clone(),
            _ => input.name(),
        };
        // A drain token pasted where a path was expected is not printed back.
        crate::diag::quote::mask_tokens(&name).into_owned()
    }
}

/// Builds [`Options`]; [`OptionsBuilder::build`] refuses values the pipeline cannot honour.
#[derive(Clone, Debug)]
pub struct OptionsBuilder {
    o: Options,
}

impl OptionsBuilder {
    /// Worker threads (at least 1).
    pub fn threads(mut self, n: usize) -> Self {
        self.o.threads = n;
        self
    }

    /// The largest frame accepted, in bytes (1 to 1 GiB).
    pub fn max_frame(mut self, bytes: u64) -> Self {
        self.o.limits.max_frame = bytes;
        self
    }

    /// Recover frames whose LEN is wrong from line structure.
    pub fn lenient_length(mut self, yes: bool) -> Self {
        self.o.limits.lenient = yes;
        self
    }

    /// Join split messages into one record (`--rejoin`; convert only).
    pub fn rejoin(mut self, yes: bool) -> Self {
        self.o.rejoin = yes;
        self
    }

    /// Warnings reject their frames.
    pub fn strict(mut self, yes: bool) -> Self {
        self.o.strict = yes;
        self
    }

    /// Stop at the first rejected frame.
    pub fn stop_at_first_error(mut self, yes: bool) -> Self {
        self.o.stop_at_first_error = yes;
        self
    }

    /// Bytes read per block (64 to 1 GiB).
    pub fn block_size(mut self, bytes: u64) -> Self {
        self.o.block_size = usize::try_from(bytes).unwrap_or(usize::MAX);
        self
    }

    /// Read every input as `format` instead of detecting it.
    pub fn format(mut self, format: Option<InputFormat>) -> Self {
        self.o.format = format;
        self
    }

    /// HTTP requests must carry this `Logplex-Drain-Token` (not empty).
    pub fn drain_token(mut self, token: Option<Vec<u8>>) -> Self {
        self.o.limits.token = token;
        self
    }

    /// Count bytes read from the inputs' files here.
    pub fn progress(mut self, counter: Option<Arc<AtomicU64>>) -> Self {
        self.o.progress = counter;
        self
    }

    /// The `heroku logs` idle window on a live pipe (1 ms to 60 s), or `None` for none: a
    /// pipe is then read like a file, and what it carries never depends on timing.
    pub fn idle(mut self, idle: Option<Duration>) -> Self {
        self.o.idle = idle;
        self
    }

    /// What reports call stdin.
    pub fn stdin_name(mut self, name: Option<String>) -> Self {
        self.o.stdin_name = name;
        self
    }

    /// The options, or what is wrong with them (a usage error).
    pub fn build(self) -> Result<Options, String> {
        let o = self.o;
        if o.threads == 0 {
            return Err("--threads must be at least 1".into());
        }
        if o.limits.max_frame == 0 || o.limits.max_frame > MAX_SIZE {
            return Err(format!(
                "--max-frame {} is not between 1 byte and the 1G drainpipe allows",
                o.limits.max_frame
            ));
        }
        if o.block_size < 64 || o.block_size as u64 > MAX_SIZE {
            return Err(format!(
                "--block-size {} is not between 64 bytes and 1G",
                o.block_size
            ));
        }
        if o.limits.token.as_ref().is_some_and(|t| t.is_empty()) {
            return Err("--drain-token is empty".into());
        }
        if o.idle
            .is_some_and(|d| d.is_zero() || d > Duration::from_secs(60))
        {
            return Err("--idle-ms must be between 0 (off) and 60000".into());
        }
        if o.stdin_name.as_deref().is_some_and(|n| n.trim().is_empty()) {
            return Err(
                "--stdin-name is blank: reports would name stdin by nothing visible".into(),
            );
        }
        if o.rejoin && !matches!(o.mode, Mode::Convert(_)) {
            return Err("--rejoin writes records: it is an option of convert".into());
        }
        Ok(o)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absurd_values_are_refused_when_built() {
        let b = || Options::builder(Mode::Validate);
        assert!(b().build().is_ok());
        assert!(b().threads(0).build().is_err());
        assert!(b().max_frame(0).build().is_err());
        assert!(b().max_frame(MAX_SIZE + 1).build().is_err());
        assert!(b().block_size(8).build().is_err());
        assert!(b().drain_token(Some(Vec::new())).build().is_err());
        assert!(b().idle(Some(Duration::ZERO)).build().is_err());
        assert!(b().idle(None).build().is_ok());
        assert!(b().max_frame(MAX_SIZE).block_size(64).build().is_ok());
    }
}
