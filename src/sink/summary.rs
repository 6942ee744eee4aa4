//! The lines that sum a run up: a diagnostic as text, convert's stderr line, validate's
//! summary (README "Commands and options").

use super::Summary;
use crate::diag::quote::shown_name;
use crate::diag::{Code, Diagnostic, Severity};

/// One diagnostic as a compiler-style line: `FILE:LINE:COLUMN: error[CODE]: message`
/// (`FILE: error[CODE]: message` for a problem with the whole input).
pub fn text_line(d: &Diagnostic, input_name: &str) -> String {
    let input_name = shown_name(input_name);
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

/// `code n, code n` for the codes reported with `severity`, in the documented order.
pub fn counts_by_code(s: &Summary, severity: Severity) -> String {
    let counts = s.by_code(severity);
    Code::ALL
        .iter()
        .filter(|c| counts[c.index()] > 0)
        .map(|c| format!("{} {}", c, counts[c.index()]))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Whether an error with `code` rejects its frame (or region): the errors `--on-error fail`
/// stops at.
pub fn rejects_frame(code: Code) -> bool {
    !matches!(
        code,
        Code::MsgCount | Code::Format | Code::Io | Code::Rejoin
    )
}

/// Errors by code, split into those that reject frames and the others, as `code n` lists.
fn split_by_rejection(s: &Summary) -> (String, String) {
    let counts = s.by_code(Severity::Error);
    let list = |keep: bool| {
        Code::ALL
            .iter()
            .filter(|c| counts[c.index()] > 0 && rejects_frame(**c) == keep)
            .map(|c| format!("{} {}", c, counts[c.index()]))
            .collect::<Vec<_>>()
            .join(", ")
    };
    (list(true), list(false))
}

/// Errors whose codes reject frames.
fn rejecting_count(s: &Summary) -> u64 {
    let counts = s.by_code(Severity::Error);
    Code::ALL
        .iter()
        .filter(|c| rejects_frame(**c))
        .map(|c| counts[c.index()])
        .sum()
}

/// The one stderr line `convert` prints when anything was rejected or warned about.
pub fn summary_line(s: &Summary, first: Option<&(String, Diagnostic)>) -> Option<String> {
    if s.rejected == 0 && s.errors() == 0 && s.warnings() == 0 && s.duplicates == 0 {
        return None;
    }
    let mut line = format!("drainpipe: {} of {} frames rejected", s.rejected, s.frames);
    // Codes that reject frames go with the count of rejected frames; errors that reject none
    // (a Msg-Count mismatch, an input that is not a capture, an unjoined chain under
    // --strict) are counted apart.
    let (rejecting, other) = split_by_rejection(s);
    if !rejecting.is_empty() {
        line.push_str(&format!(" ({rejecting})"));
    }
    if !other.is_empty() {
        let n = s.errors() - rejecting_count(s);
        line.push_str(&format!(
            "; {n} other error{} ({other})",
            if n == 1 { "" } else { "s" }
        ));
    }
    if s.warnings() > 0 {
        line.push_str(&format!(
            "; {} with warnings ({})",
            s.warned,
            counts_by_code(s, Severity::Warning)
        ));
    }
    if s.duplicates > 0 {
        line.push_str(&duplicates(s.duplicates));
    }
    if let Some((name, d)) = first {
        if d.line > 0 {
            line.push_str(&format!(
                "; first: {}:{}:{} {}",
                shown_name(name),
                d.line,
                d.column,
                d.code
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

/// `checked N inputs: F frames, V valid, E errors (...), W warnings (...)`.
pub fn summary_text(s: &Summary) -> String {
    let mut line = format!(
        "checked {} input{}: {} frame{}, {} valid, {} invalid",
        s.inputs,
        if s.inputs == 1 { "" } else { "s" },
        s.frames,
        if s.frames == 1 { "" } else { "s" },
        s.records,
        s.rejected
    );
    let errors = counts_by_code(s, Severity::Error);
    line.push_str(&format!(
        "; {} error{}",
        s.errors(),
        if s.errors() == 1 { "" } else { "s" }
    ));
    if !errors.is_empty() {
        line.push_str(&format!(" ({errors})"));
    }
    line.push_str(&format!(
        ", {} warning{}",
        s.warnings(),
        if s.warnings() == 1 { "" } else { "s" }
    ));
    let warnings = counts_by_code(s, Severity::Warning);
    if !warnings.is_empty() {
        line.push_str(&format!(" ({warnings})"));
    }
    if s.duplicates > 0 {
        line.push_str(&duplicates(s.duplicates));
    }
    line
}

/// GitHub workflow-command escaping: data (`%`, CR, LF) and, in properties, also `:` and `,`.
pub fn gh_escape(s: &str, property: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '%' => out.push_str("%25"),
            '\r' => out.push_str("%0D"),
            '\n' => out.push_str("%0A"),
            ':' if property => out.push_str("%3A"),
            ',' if property => out.push_str("%2C"),
            c => out.push(c),
        }
    }
    out
}

/// The summary's part on Logplex retries.
fn duplicates(n: u64) -> String {
    let s = if n == 1 { "" } else { "s" };
    format!("; {n} retried HTTP request{s} skipped as duplicate{s}")
}
