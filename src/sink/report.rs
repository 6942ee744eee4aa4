//! `validate`'s sink: a report of every bad frame and a summary (README "CI: validate
//! captures").
//!
//! All three formats stream: diagnostics are written as they arrive in input order, so a
//! report on a huge capture needs no memory for the errors it lists. The JSON document opens
//! with its `errors` array and closes with `inputs` and `summary` once they are known.

use super::summary::{gh_escape, summary_text, text_line};
use super::{Sink, Summary};
use crate::diag::quote::shown_name;
use crate::diag::{Code, Diagnostic, Severity};
use std::io::{self, Write};

/// How the report is written (`--report`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReportFormat {
    /// `FILE:LINE:COLUMN: error[CODE]: message` lines, then a summary line.
    Text,
    /// One JSON document.
    Json,
    /// GitHub Actions workflow commands.
    Github,
}

/// `validate`'s sink (and `convert --report-json`'s).
pub struct ReportSink<W: Write> {
    out: W,
    format: ReportFormat,
    /// ANSI colours (text, on a terminal).
    color: bool,
    /// `--max-errors`.
    max_errors: Option<u64>,
    /// Diagnostics listed so far.
    listed: u64,
    /// Diagnostics past `--max-errors`, counted only.
    unlisted: u64,
    /// Per input: (errors, warnings, failure message).
    per_input: Vec<(u64, u64, Option<String>)>,
}

impl<W: Write> ReportSink<W> {
    /// A report on `inputs` inputs, written to `out`.
    pub fn new(
        out: W,
        format: ReportFormat,
        color: bool,
        max_errors: Option<u64>,
        inputs: usize,
    ) -> io::Result<Self> {
        let mut s = ReportSink {
            out,
            format,
            color,
            max_errors,
            listed: 0,
            unlisted: 0,
            per_input: vec![(0, 0, None); inputs],
        };
        if format == ReportFormat::Json {
            s.out.write_all(b"{\"errors\":[")?;
        }
        Ok(s)
    }

    /// Writes the summary (and closes the JSON document) and returns the writer.
    pub fn finish(mut self, s: &Summary, names: &[String]) -> io::Result<W> {
        match self.format {
            ReportFormat::Json => self.finish_json(s, names)?,
            ReportFormat::Text | ReportFormat::Github => {
                if self.unlisted > 0 {
                    writeln!(
                        self.out,
                        "note: {} more diagnostics not listed (--max-errors {})",
                        self.unlisted,
                        self.max_errors.unwrap_or(0)
                    )?;
                }
                let line = summary_text(s);
                if self.format == ReportFormat::Github {
                    let kind = if s.errors() > 0 { "error" } else { "notice" };
                    writeln!(
                        self.out,
                        "::{kind} title=drainpipe validate::{}",
                        gh_escape(&line, false)
                    )?;
                } else {
                    writeln!(self.out, "{line}")?;
                }
            }
        }
        self.out.flush()?;
        Ok(self.out)
    }

    fn finish_json(&mut self, s: &Summary, names: &[String]) -> io::Result<()> {
        let inputs: Vec<serde_json::Value> = names
            .iter()
            .zip(&self.per_input)
            .map(|(name, (errors, warnings, failure))| {
                serde_json::json!({
                    "file": name,
                    "errors": errors,
                    "warnings": warnings,
                    "failure": failure,
                })
            })
            .collect();
        let by_code = |severity: Severity| -> serde_json::Map<String, serde_json::Value> {
            let counts = s.by_code(severity);
            Code::ALL
                .iter()
                .filter(|c| counts[c.index()] > 0)
                .map(|c| (c.as_str().to_string(), counts[c.index()].into()))
                .collect()
        };
        let summary = serde_json::json!({
            "inputs": s.inputs,
            "inputs_failed": s.inputs_failed,
            "bytes": s.bytes,
            "frames": s.frames,
            "valid": s.records,
            "invalid": s.rejected,
            "warned": s.warned,
            "joined": s.joined,
            "duplicates": s.duplicates,
            "errors": s.errors(),
            "warnings": s.warnings(),
            "errors_by_code": by_code(Severity::Error),
            "warnings_by_code": by_code(Severity::Warning),
            "listed": self.listed,
            "unlisted": self.unlisted,
        });
        writeln!(
            self.out,
            "],\"inputs\":{},\"summary\":{}}}",
            serde_json::Value::Array(inputs),
            summary
        )
    }
}

impl<W: Write> Sink for ReportSink<W> {
    fn output(&mut self, _bytes: &[u8]) -> io::Result<()> {
        Ok(())
    }

    fn rejected(&mut self, _bytes: &[u8]) -> io::Result<()> {
        Ok(())
    }

    fn diagnostic(&mut self, d: &Diagnostic, input_name: &str) -> io::Result<()> {
        let entry = &mut self.per_input[d.input];
        match d.severity {
            Severity::Error => entry.0 += 1,
            Severity::Warning => entry.1 += 1,
        }
        if d.line == 0 {
            entry.2 = Some(d.message.clone());
        }
        if self.max_errors.is_some_and(|m| self.listed >= m) {
            self.unlisted += 1;
            return Ok(());
        }
        self.listed += 1;
        match self.format {
            ReportFormat::Text if self.color => {
                let (color, loc) = match d.severity {
                    Severity::Error => ("\x1b[1;31m", d),
                    Severity::Warning => ("\x1b[1;33m", d),
                };
                let name = shown_name(input_name);
                let place = if loc.line == 0 {
                    name.into_owned()
                } else {
                    format!("{name}:{}:{}", loc.line, loc.column)
                };
                writeln!(
                    self.out,
                    "\x1b[1m{place}:\x1b[0m {color}{}[{}]\x1b[0m: {}",
                    d.severity.as_str(),
                    d.code,
                    d.message
                )
            }
            ReportFormat::Text => writeln!(self.out, "{}", text_line(d, input_name)),
            ReportFormat::Github => {
                // CR and LF are percent-encoded, which GitHub decodes: the annotation finds the
                // file. Other control and invisible characters are shown escaped (GitHub
                // would not decode them either way).
                let shown: Vec<String> = input_name
                    .split_inclusive(['\n', '\r'])
                    .map(|part| {
                        let (text, end) = part.split_at(part.trim_end_matches(['\n', '\r']).len());
                        format!("{}{end}", shown_name(text))
                    })
                    .collect();
                let mut props = format!("file={}", gh_escape(&shown.concat(), true));
                if d.line > 0 {
                    props.push_str(&format!(",line={},col={}", d.line, d.column));
                }
                writeln!(
                    self.out,
                    "::{} {props},title={}::{}",
                    d.severity.as_str(),
                    d.code,
                    gh_escape(&d.message, false)
                )
            }
            ReportFormat::Json => {
                if self.listed > 1 {
                    self.out.write_all(b",")?;
                }
                let v = serde_json::json!({
                    "file": input_name,
                    "line": (d.line > 0).then_some(d.line),
                    "column": (d.line > 0).then_some(d.column),
                    "offset": d.offset,
                    "frame": d.frame,
                    "severity": d.severity.as_str(),
                    "code": d.code.as_str(),
                    "message": d.message,
                });
                write!(self.out, "{v}")
            }
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}
