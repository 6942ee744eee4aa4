//! `heroku logs` messages (README "Inputs", `cli`): `TIMESTAMP SP SOURCE[PROCESS]: MSG`.

use super::{checked, next_field, parse_message, strip_terminator, FieldRule, Parsed, Record};
use super::{timestamp, APP_NAME, PROCID};
use crate::diag::messages;

const CLI_SOURCE: FieldRule = FieldRule {
    name: "SOURCE",
    ..APP_NAME
};
const CLI_PROCESS: FieldRule = FieldRule {
    name: "PROCESS",
    ..PROCID
};

/// Parses one `heroku logs` message, possibly followed by continuation lines, which stay in MSG
/// joined by `\n`. SOURCE is `app_name` and PROCESS `process_id` (same limits as in the RFC
/// 5424 header); the fields the CLI does not print are null. `unit` must be free of colour
/// codes and use `\n` line ends (see [`crate::split::lines::clean_unit`]).
pub fn parse_cli(unit: &[u8]) -> Parsed<'_> {
    let b = strip_terminator(unit);
    let (f, next) = next_field(b, 0);
    let timestamp = match timestamp::parse(f) {
        Ok(t) => t,
        Err(reason) => return Err(messages::bad_timestamp(0, f, reason)),
    };
    let Some(src) = next.filter(|&p| p < b.len()) else {
        return Err(messages::missing_field(b.len(), "SOURCE[PROCESS]:"));
    };
    let line_end = memchr::memchr(b'\n', b).unwrap_or(b.len());
    let Some(colon) = memchr::memchr(b':', &b[src..line_end]).map(|i| src + i) else {
        return Err(messages::missing_field(
            line_end,
            "`:` after SOURCE[PROCESS]",
        ));
    };
    let (source, process) = match memchr::memchr(b'[', &b[src..colon]) {
        Some(i) if b[colon - 1] == b']' => (src..src + i, Some(src + i + 1..colon - 1)),
        _ => (src..colon, None),
    };
    let field = |r: std::ops::Range<usize>, rule: &FieldRule| {
        if r.is_empty() || memchr::memchr(b' ', &b[r.clone()]).is_some() {
            return Err(messages::empty_or_spaced_field(
                rule.code, r.start, rule.name,
            ));
        }
        Ok(checked(&b[..r.end], Some(r.start), rule)?.0)
    };
    let app_name = field(source, &CLI_SOURCE)?;
    let process_id = match process {
        Some(r) => field(r, &CLI_PROCESS)?,
        None => None,
    };
    let msg_pos = match b.get(colon + 1) {
        None => None,
        Some(b' ') => Some(colon + 2),
        Some(_) => Some(colon + 1),
    };
    let (message, warning) = match msg_pos {
        Some(p) if p <= b.len() => parse_message(b, p),
        _ => (None, None),
    };
    Ok((
        Record {
            timestamp: Some(timestamp),
            app_name,
            process_id,
            message,
            ..Record::default()
        },
        warning,
    ))
}

/// Parses `heroku logs` continuation lines that arrived after their message was written (a
/// live pipe went quiet in between): the record takes its timestamp, source and process from
/// `message_line`, the first line of that message, and its message is `unit`. A problem in
/// that prefix is reported at offset 0 of `unit`.
pub fn parse_cli_continuation<'a>(message_line: &'a [u8], unit: &'a [u8]) -> Parsed<'a> {
    let (record, _) = parse_cli(message_line).map_err(messages::in_continued_message)?;
    let (message, warning) = parse_message(strip_terminator(unit), 0);
    Ok((Record { message, ..record }, warning))
}
