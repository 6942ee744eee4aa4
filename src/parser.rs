//! The Heroku RFC 5424 header, parsed into a `Heroku.Runtime` record (SPEC §2).
//!
//! Records borrow from the frame bytes: the only copy made is for a message that is not valid
//! UTF-8 (it has to be rewritten with U+FFFD anyway). Fields are checked left to right and the
//! first wrong one names the error, as SPEC requires, with its offset for the column.

use crate::error::{quote, Code};
use crate::timestamp::{self, Timestamp};
use std::borrow::Cow;

/// One `Heroku.Runtime` record. `None` is null: a `-` field, or one the input format lacks.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Record<'a> {
    pub message_len: Option<u64>,
    pub priority: Option<u8>,
    pub version: Option<&'a str>,
    pub timestamp: Option<Timestamp>,
    pub host_name: Option<&'a str>,
    pub app_name: Option<&'a str>,
    pub process_id: Option<&'a str>,
    pub message_id: Option<&'a str>,
    pub message: Option<Cow<'a, str>>,
}

/// A rejected frame: which field, where (offset into the parsed bytes), and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldError {
    pub code: Code,
    pub at: usize,
    pub message: String,
}

/// A problem that keeps the record (SPEC: `utf8`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Warning {
    pub code: Code,
    pub at: usize,
    pub message: String,
}

/// The header fields after VERSION, with their RFC 5424 limits and SPEC codes.
struct FieldRule {
    name: &'static str,
    code: Code,
    max: usize,
}

const HOSTNAME: FieldRule = FieldRule {
    name: "HOSTNAME",
    code: Code::Hostname,
    max: 255,
};
const APP_NAME: FieldRule = FieldRule {
    name: "APP-NAME",
    code: Code::AppName,
    max: 48,
};
const PROCID: FieldRule = FieldRule {
    name: "PROCID",
    code: Code::Procid,
    max: 128,
};
const MSGID: FieldRule = FieldRule {
    name: "MSGID",
    code: Code::Msgid,
    max: 32,
};
/// Longest TIMESTAMP field worth looking at: 19 + 1 + 9 + 6.
const TIMESTAMP_MAX: usize = 35;

fn err(code: Code, at: usize, message: String) -> FieldError {
    FieldError { code, at, message }
}

fn missing(at: usize, what: &str) -> FieldError {
    err(
        Code::MissingField,
        at,
        format!("the message ends before {what}"),
    )
}

/// Cuts the next space-delimited field at `pos`. Returns the field and where the following
/// field starts (`None` when the input ends right after this field).
fn next_field(b: &[u8], pos: usize) -> (&[u8], Option<usize>) {
    match memchr::memchr(b' ', &b[pos..]) {
        Some(i) => (&b[pos..pos + i], Some(pos + i + 1)),
        None => (&b[pos..], None),
    }
}

/// Checks a printable-ASCII header field and maps `-` to null.
fn checked<'a>(
    b: &'a [u8],
    pos: Option<usize>,
    rule: &FieldRule,
) -> Result<(Option<&'a str>, Option<usize>), FieldError> {
    let pos = match pos {
        Some(p) if p < b.len() => p,
        _ => return Err(missing(pos.unwrap_or(b.len()).min(b.len()), rule.name)),
    };
    let (f, next) = next_field(b, pos);
    if f.is_empty() {
        return Err(err(
            rule.code,
            pos,
            format!("{} is empty (two spaces in a row)", rule.name),
        ));
    }
    if f.len() > rule.max {
        return Err(err(
            rule.code,
            pos,
            format!(
                "{} is {} bytes long, at most {} allowed: {}",
                rule.name,
                f.len(),
                rule.max,
                quote(f, 40)
            ),
        ));
    }
    if let Some(i) = f.iter().position(|&c| !(0x21..=0x7e).contains(&c)) {
        return Err(err(
            rule.code,
            pos,
            format!(
                "{} must be printable US-ASCII, found byte 0x{:02x} at its byte {} in {}",
                rule.name,
                f[i],
                i + 1,
                quote(f, 40)
            ),
        ));
    }
    let value = if f == b"-" { None } else { Some(ascii_str(f)) };
    Ok((value, next))
}

/// A field already checked to be ASCII, as `&str`. Header fields are most of a record's
/// strings, and running the UTF-8 validator again on each cost 8 % of a conversion's
/// instructions (callgrind).
pub(crate) fn ascii_str(b: &[u8]) -> &str {
    debug_assert!(b.is_ascii());
    // SAFETY: every caller passes bytes it has checked to be ASCII (printable header fields,
    // digits, a timestamp we wrote), and ASCII is valid UTF-8.
    unsafe { std::str::from_utf8_unchecked(b) }
}

/// Removes the frame terminator: one trailing `\n` or `\r\n`.
fn strip_terminator(b: &[u8]) -> &[u8] {
    match b {
        [rest @ .., b'\r', b'\n'] => rest,
        [rest @ .., b'\n'] => rest,
        _ => b,
    }
}

/// Parses `<PRI>VERSION SP TIMESTAMP SP HOSTNAME SP APP-NAME SP PROCID SP MSGID [SP MSG]`.
///
/// `body` is the frame's MSG part (or a whole syslog line), terminator included. Offsets in
/// errors and warnings index `body`.
pub fn parse(
    body: &[u8],
    message_len: Option<u64>,
) -> Result<(Record<'_>, Option<Warning>), FieldError> {
    let b = strip_terminator(body);
    let (priority, after_pri) = parse_pri(b)?;

    // VERSION: 1-3 digits, no leading zero, then a space.
    let vlen = b[after_pri..]
        .iter()
        .take(4)
        .take_while(|c| c.is_ascii_digit())
        .count();
    let vend = after_pri + vlen;
    if vlen == 0 || vlen > 3 || b[after_pri] == b'0' || (vend < b.len() && b[vend] != b' ') {
        let (f, _) = next_field(b, after_pri);
        return Err(err(
            Code::Version,
            after_pri,
            format!(
                "VERSION must be 1 to 3 digits without a leading zero, found {}",
                quote(f, 20)
            ),
        ));
    }
    let version = ascii_str(&b[after_pri..vend]);
    let ts_pos = if vend < b.len() { Some(vend + 1) } else { None };

    // TIMESTAMP
    let ts_pos = match ts_pos {
        Some(p) if p < b.len() => p,
        _ => return Err(missing(b.len(), "TIMESTAMP")),
    };
    let (f, host_pos) = next_field(b, ts_pos);
    let timestamp = match f {
        b"-" => None,
        b"" => {
            return Err(err(
                Code::Timestamp,
                ts_pos,
                "TIMESTAMP is empty (two spaces in a row)".into(),
            ))
        }
        _ => match timestamp::parse(f) {
            Ok(t) => Some(t),
            Err(reason) => {
                return Err(err(
                    Code::Timestamp,
                    ts_pos,
                    format!(
                        "invalid TIMESTAMP {}: {reason}",
                        quote(f, TIMESTAMP_MAX + 5)
                    ),
                ))
            }
        },
    };

    let (host_name, app_pos) = checked(b, host_pos, &HOSTNAME)?;
    let (app_name, proc_pos) = checked(b, app_pos, &APP_NAME)?;
    let (process_id, msgid_pos) = checked(b, proc_pos, &PROCID)?;
    let (message_id, msg_pos) = checked(b, msgid_pos, &MSGID)?;

    let (message, warning) = match msg_pos {
        None => (None, None),
        Some(p) => parse_message(b, p),
    };
    Ok((
        Record {
            message_len,
            priority: Some(priority),
            version: Some(version),
            timestamp,
            host_name,
            app_name,
            process_id,
            message_id,
            message,
        },
        warning,
    ))
}

/// Parses one `heroku logs` message (SPEC §2, `cli`): `TIMESTAMP SP SOURCE[PROCESS]: MSG`,
/// possibly followed by continuation lines, which stay in MSG joined by `\n`. SOURCE is
/// `app_name` and PROCESS `process_id` (same limits as in the RFC 5424 header); the fields the
/// CLI does not print are null. `unit` must be free of ANSI codes and use `\n` line ends.
pub fn parse_cli(unit: &[u8]) -> Result<(Record<'_>, Option<Warning>), FieldError> {
    let b = strip_terminator(unit);
    let (f, next) = next_field(b, 0);
    let timestamp = match timestamp::parse(f) {
        Ok(t) => t,
        Err(reason) => {
            return Err(err(
                Code::Timestamp,
                0,
                format!(
                    "invalid TIMESTAMP {}: {reason}",
                    quote(f, TIMESTAMP_MAX + 5)
                ),
            ))
        }
    };
    let Some(src) = next.filter(|&p| p < b.len()) else {
        return Err(missing(b.len(), "SOURCE[PROCESS]:"));
    };
    let line_end = memchr::memchr(b'\n', b).unwrap_or(b.len());
    let Some(colon) = memchr::memchr(b':', &b[src..line_end]).map(|i| src + i) else {
        return Err(missing(line_end, "`:` after SOURCE[PROCESS]"));
    };
    let (source, process) = match memchr::memchr(b'[', &b[src..colon]) {
        Some(i) if b[colon - 1] == b']' => (src..src + i, Some(src + i + 1..colon - 1)),
        _ => (src..colon, None),
    };
    let field = |r: std::ops::Range<usize>, rule: &FieldRule| {
        if r.is_empty() || memchr::memchr(b' ', &b[r.clone()]).is_some() {
            return Err(err(
                rule.code,
                r.start,
                format!("{} is empty or holds a space", rule.name),
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
/// `message_line`, the first line of that message, and its message is `unit`. Errors in that
/// prefix are reported at offset 0 of `unit`.
pub fn parse_cli_continuation<'a>(
    message_line: &'a [u8],
    unit: &'a [u8],
) -> Result<(Record<'a>, Option<Warning>), FieldError> {
    let (record, _) = parse_cli(message_line).map_err(|e| FieldError {
        at: 0,
        message: format!("{} (in the message these lines continue)", e.message),
        ..e
    })?;
    let b = strip_terminator(unit);
    let (message, warning) = parse_message(b, 0);
    Ok((Record { message, ..record }, warning))
}

const CLI_SOURCE: FieldRule = FieldRule {
    name: "SOURCE",
    ..APP_NAME
};
const CLI_PROCESS: FieldRule = FieldRule {
    name: "PROCESS",
    ..PROCID
};

/// `<PRI>` with PRI 0..=191; returns the value and the offset after `>`.
fn parse_pri(b: &[u8]) -> Result<(u8, usize), FieldError> {
    let bad = |what: String| err(Code::Priority, 0, what);
    if b.first() != Some(&b'<') {
        return Err(bad(format!(
            "expected '<' to open PRI, found {}",
            quote(&b[..b.len().min(1)], 4)
        )));
    }
    let digits = b[1..]
        .iter()
        .take(4)
        .take_while(|c| c.is_ascii_digit())
        .count();
    if digits == 0 {
        return Err(bad(format!(
            "PRI must be 1 to 3 digits, found {}",
            quote(next_field(b, 0).0, 12)
        )));
    }
    if digits > 3 || b.get(1 + digits) != Some(&b'>') {
        return Err(bad(format!(
            "expected '>' after 1 to 3 PRI digits, found {}",
            quote(next_field(b, 0).0, 12)
        )));
    }
    let value = b[1..1 + digits]
        .iter()
        .fold(0u32, |n, &d| n * 10 + u32::from(d - b'0'));
    if value > 191 {
        return Err(bad(format!("PRI {value} is over 191")));
    }
    Ok((value as u8, digits + 2))
}

/// MSG: a leading BOM removed, `-` as null, invalid UTF-8 replaced (and warned about).
fn parse_message(b: &[u8], pos: usize) -> (Option<Cow<'_, str>>, Option<Warning>) {
    let mut start = pos;
    if b[start..].starts_with(b"\xEF\xBB\xBF") {
        start += 3;
    }
    let m = &b[start..];
    if m == b"-" {
        return (None, None);
    }
    match std::str::from_utf8(m) {
        Ok(s) => (Some(Cow::Borrowed(s)), None),
        Err(e) => {
            let bad_at = start + e.valid_up_to();
            let bad_len = e.error_len().unwrap_or(m.len() - e.valid_up_to());
            let warning = Warning {
                code: Code::Utf8,
                at: bad_at,
                message: format!(
                    "MSG is not valid UTF-8 (byte sequence {} replaced with U+FFFD)",
                    quote(&b[bad_at..bad_at + bad_len.min(4)], 8)
                ),
            };
            (Some(String::from_utf8_lossy(m)), Some(warning))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const OK: &[u8] =
        b"<158>1 2026-03-01T00:00:00.000923+00:00 host heroku router - at=info path=\"/\"\n";

    fn fail(line: &[u8]) -> (Code, usize) {
        let e = parse(line, None).expect_err(&String::from_utf8_lossy(line));
        (e.code, e.at)
    }

    #[test]
    fn parses_all_fields_borrowed() {
        let (r, w) = parse(OK, Some(77)).unwrap();
        assert_eq!(w, None);
        assert_eq!(r.message_len, Some(77));
        assert_eq!(r.priority, Some(158));
        assert_eq!(r.version, Some("1"));
        assert_eq!(r.timestamp.unwrap().as_str(), "2026-03-01T00:00:00.000923Z");
        assert_eq!(r.host_name, Some("host"));
        assert_eq!(r.app_name, Some("heroku"));
        assert_eq!(r.process_id, Some("router"));
        assert_eq!(r.message_id, None);
        assert!(matches!(
            r.message,
            Some(Cow::Borrowed("at=info path=\"/\""))
        ));
    }

    #[test]
    fn nil_fields_are_null() {
        let (r, _) = parse(b"<0>1 - - - - - -\n", None).unwrap();
        assert_eq!(r.priority, Some(0));
        assert_eq!(
            (r.timestamp, r.host_name, r.app_name, r.process_id),
            (None, None, None, None)
        );
        assert_eq!((r.message_id, r.message), (None, None));
        // Only a whole `-` is null.
        let (r, _) = parse(b"<0>1 - -x x- - - --\n", None).unwrap();
        assert_eq!((r.host_name, r.app_name), (Some("-x"), Some("x-")));
        assert_eq!(r.message.as_deref(), Some("--"));
    }

    #[test]
    fn message_terminator_bom_and_absence() {
        let (r, _) = parse(b"<1>1 - h a p m hello\r\n", None).unwrap();
        assert_eq!(r.message.as_deref(), Some("hello"));
        // Only one terminator is removed.
        let (r, _) = parse(b"<1>1 - h a p m hello\n\n", None).unwrap();
        assert_eq!(r.message.as_deref(), Some("hello\n"));
        let (r, _) = parse(b"<1>1 - h a p m \xEF\xBB\xBFhi\n", None).unwrap();
        assert_eq!(r.message.as_deref(), Some("hi"));
        let (r, _) = parse(b"<1>1 - h a p m\n", None).unwrap();
        assert_eq!(r.message, None);
        let (r, _) = parse(b"<1>1 - h a p m \n", None).unwrap();
        assert_eq!(r.message.as_deref(), Some(""));
        // Multi-line messages keep their inner newlines.
        let (r, _) = parse(b"<1>1 - h a p m a\n  b\n", None).unwrap();
        assert_eq!(r.message.as_deref(), Some("a\n  b"));
    }

    #[test]
    fn invalid_utf8_is_replaced_and_warned_at_the_byte() {
        let line = b"<1>1 - h a p m ok \xC3( bad\n";
        let (r, w) = parse(line, None).unwrap();
        assert_eq!(r.message.as_deref(), Some("ok \u{FFFD}( bad"));
        let w = w.unwrap();
        assert_eq!((w.code, w.at), (Code::Utf8, 18));
    }

    #[test]
    fn priority_errors() {
        for line in [
            &b"158>1 - h a p m x\n"[..],
            b"<158 1 - h a p m x\n",
            b"<1581 - h a p m x\n",
            b"<>1 - h a p m x\n",
            b"<x>1 - h a p m x\n",
            b"<192>1 - h a p m x\n",
            b"<999>1 - h a p m x\n",
            b"",
        ] {
            assert_eq!(fail(line), (Code::Priority, 0), "{line:?}");
        }
        assert!(parse(b"<191>1 - h a p m x\n", None).is_ok());
    }

    #[test]
    fn version_errors() {
        for line in [
            &b"<1> - h a p m x\n"[..],
            b"<1>0 - h a p m x\n",
            b"<1>01 - h a p m x\n",
            b"<1>1234 - h a p m x\n",
            b"<1>1x - h a p m x\n",
            b"<1>- - h a p m x\n",
        ] {
            assert_eq!(fail(line), (Code::Version, 3), "{line:?}");
        }
        assert_eq!(
            parse(b"<1>999 - h a p m x", None).unwrap().0.version,
            Some("999")
        );
    }

    #[test]
    fn timestamp_errors_point_at_the_field() {
        assert_eq!(
            fail(b"<1>1 2026-02-29T00:00:00Z h a p m x\n"),
            (Code::Timestamp, 5)
        );
        assert_eq!(fail(b"<1>1  h a p m x\n"), (Code::Timestamp, 5));
    }

    #[test]
    fn header_field_errors_name_the_first_bad_field() {
        assert_eq!(fail(b"<1>1 - h\x01st a p m x\n"), (Code::Hostname, 7));
        assert_eq!(fail(b"<1>1 -  a p m x\n"), (Code::Hostname, 7));
        let long_host = [b"<1>1 - ".as_slice(), &[b'h'; 256], b" a p m x\n"].concat();
        assert_eq!(fail(&long_host), (Code::Hostname, 7));
        let host255 = [b"<1>1 - ".as_slice(), &[b'h'; 255], b" a p m x\n"].concat();
        assert!(parse(&host255, None).is_ok());

        let long_app = [b"<1>1 - h ".as_slice(), &[b'a'; 49], b" p m x\n"].concat();
        assert_eq!(fail(&long_app), (Code::AppName, 9));
        let app48 = [b"<1>1 - h ".as_slice(), &[b'a'; 48], b" p m x\n"].concat();
        assert!(parse(&app48, None).is_ok());
        assert_eq!(fail(b"<1>1 - h \xc3\xa9 p m x\n"), (Code::AppName, 9));

        let long_proc = [b"<1>1 - h a ".as_slice(), &[b'p'; 129], b" m x\n"].concat();
        assert_eq!(fail(&long_proc), (Code::Procid, 11));
        let proc128 = [b"<1>1 - h a ".as_slice(), &[b'p'; 128], b" m x\n"].concat();
        assert!(parse(&proc128, None).is_ok());
        assert_eq!(fail(b"<1>1 - h a p\tq m x\n"), (Code::Procid, 11));

        let long_msgid = [b"<1>1 - h a p ".as_slice(), &[b'm'; 33], b" x\n"].concat();
        assert_eq!(fail(&long_msgid), (Code::Msgid, 13));
        let msgid32 = [b"<1>1 - h a p ".as_slice(), &[b'm'; 32], b" x\n"].concat();
        assert!(parse(&msgid32, None).is_ok());
        assert_eq!(fail(b"<1>1 - h a p  x\n"), (Code::Msgid, 13));
        // Left to right: the hostname is reported, not the later app-name.
        assert_eq!(fail(b"<1>1 - h\x7f \xff p m x\n"), (Code::Hostname, 7));
    }

    #[test]
    fn missing_fields_point_at_the_end() {
        for (line, at) in [
            (&b"<1>1\n"[..], 4),
            (b"<1>1 - h a p\n", 12),
            (b"<1>1 - h a p \n", 13),
            (b"<1>1 - h", 8),
            (b"<1>1 -", 6),
        ] {
            assert_eq!(fail(line), (Code::MissingField, at), "{line:?}");
        }
    }

    #[test]
    fn cli_lines() {
        let (r, w) =
            parse_cli(b"2026-03-01T01:00:00.123+01:00 app[web.1]: hello\n  more\n").unwrap();
        assert_eq!(w, None);
        assert_eq!(r.timestamp.unwrap().as_str(), "2026-03-01T00:00:00.123Z");
        assert_eq!(r.app_name, Some("app"));
        assert_eq!(r.process_id, Some("web.1"));
        assert_eq!(r.message.as_deref(), Some("hello\n  more"));
        assert_eq!(
            (r.priority, r.version, r.host_name, r.message_id),
            (None, None, None, None)
        );
        assert_eq!(r.message_len, None);
        let (r, _) = parse_cli(b"2026-03-01T00:00:00Z heroku:\n").unwrap();
        assert_eq!(
            (r.app_name, r.process_id, r.message),
            (Some("heroku"), None, None)
        );
        let (r, _) = parse_cli(b"2026-03-01T00:00:00Z app[api]: -").unwrap();
        assert_eq!(r.message, None);
        let fails: [(&[u8], Code, usize); 4] = [
            (b"2026-02-30T00:00:00Z app: x", Code::Timestamp, 0),
            (b"2026-02-01T00:00:00Z app x", Code::MissingField, 26),
            (b"2026-02-01T00:00:00Z \x01pp: x", Code::AppName, 21),
            (b"2026-02-01T00:00:00Z app[\x7f]: x", Code::Procid, 25),
        ];
        for (line, code, at) in fails {
            let e = parse_cli(line).unwrap_err();
            assert_eq!((e.code, e.at), (code, at), "{}", e.message);
        }
    }
}
