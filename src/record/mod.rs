//! Records: a unit's bytes parsed into a `Heroku.Runtime` record (README "Records").
//!
//! Records borrow from the unit's bytes: the only copy made is for a message that is not valid
//! UTF-8 (it has to be rewritten with U+FFFD anyway). Fields are checked left to right and the
//! first wrong one names the problem, with its offset for the column. This file parses the
//! RFC 5424 header of octet frames and syslog lines; [`cli`] parses `heroku logs` messages.

pub mod cli;
pub mod expand;
pub mod pieces;
pub mod timestamp;

pub use cli::{parse_cli, parse_cli_continuation};

use crate::diag::{messages, Code, Problem};
use crate::text::ascii;
use std::borrow::Cow;
use timestamp::Timestamp;

/// One `Heroku.Runtime` record. `None` is null: a `-` field, or one the input format lacks.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Record<'a> {
    /// LEN of the frame.
    pub message_len: Option<u64>,
    /// PRI, 0..=191.
    pub priority: Option<u8>,
    /// VERSION as written.
    pub version: Option<&'a str>,
    /// TIMESTAMP in UTC.
    pub timestamp: Option<Timestamp>,
    /// HOSTNAME.
    pub host_name: Option<&'a str>,
    /// APP-NAME (`heroku logs`: SOURCE).
    pub app_name: Option<&'a str>,
    /// PROCID (`heroku logs`: PROCESS).
    pub process_id: Option<&'a str>,
    /// MSGID.
    pub message_id: Option<&'a str>,
    /// MSG, valid UTF-8 (invalid sequences replaced).
    pub message: Option<Cow<'a, str>>,
}

/// A parsed record and the warning it carries, if any (`utf8`).
pub type Parsed<'a> = Result<(Record<'a>, Option<Problem>), Problem>;

/// A header field after VERSION, with its RFC 5424 limit and its code.
struct FieldRule {
    /// The field's name in messages.
    name: &'static str,
    /// The code of a problem with it.
    code: Code,
    /// Its longest value.
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
) -> Result<(Option<&'a str>, Option<usize>), Problem> {
    let pos = match pos {
        Some(p) if p < b.len() => p,
        _ => {
            return Err(messages::missing_field(
                pos.unwrap_or(b.len()).min(b.len()),
                rule.name,
            ))
        }
    };
    let (f, next) = next_field(b, pos);
    if f.is_empty() {
        return Err(messages::empty_field(rule.code, pos, rule.name));
    }
    if f.len() > rule.max {
        return Err(messages::field_too_long(
            rule.code, pos, rule.name, f, rule.max,
        ));
    }
    match ascii::printable(f) {
        Err(i) => Err(messages::field_not_printable(
            rule.code, pos, rule.name, f, i,
        )),
        Ok("-") => Ok((None, next)),
        Ok(value) => Ok((Some(value), next)),
    }
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
pub fn parse(body: &[u8], message_len: Option<u64>) -> Parsed<'_> {
    let (mut record, raw) = parse_deferred(body, message_len)?;
    let mut warning = None;
    if let Some(raw) = raw {
        let (text, w) = raw.check();
        record.message = Some(text);
        warning = w;
    }
    Ok((record, warning))
}

/// MSG not yet checked to be UTF-8: an encoder checks it in the pass that escapes it, which
/// costs nothing for ASCII (most messages); [`RawMessage::check`] does it on its own.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RawMessage<'a> {
    /// MSG's bytes (a leading BOM removed; never the nil `-`).
    pub bytes: &'a [u8],
    /// Where they start in the parsed bytes, for the `utf8` warning's offset.
    pub at: usize,
}

impl<'a> RawMessage<'a> {
    /// The message as text: borrowed when valid UTF-8, else with U+FFFD replacements and a
    /// `utf8` warning at the first invalid byte.
    pub fn check(&self) -> (Cow<'a, str>, Option<Problem>) {
        let m = self.bytes;
        match std::str::from_utf8(m) {
            Ok(s) => (Cow::Borrowed(s), None),
            Err(e) => {
                let bad = e.valid_up_to();
                let bad_len = e.error_len().unwrap_or(m.len() - bad);
                let warning = messages::invalid_utf8(self.at + bad, &m[bad..bad + bad_len.min(4)]);
                (String::from_utf8_lossy(m), Some(warning))
            }
        }
    }
}

/// [`parse`], leaving MSG unchecked: the record's `message` is `None` and MSG, if any, comes
/// back as a [`RawMessage`] for the encoder to check as it writes it.
pub fn parse_deferred(
    body: &[u8],
    message_len: Option<u64>,
) -> Result<(Record<'_>, Option<RawMessage<'_>>), Problem> {
    let b = strip_terminator(body);
    let (priority, after_pri) = parse_pri(b)?;

    // VERSION: 1-3 digits, no leading zero, then a space.
    let vlen = b[after_pri..]
        .iter()
        .take(4)
        .take_while(|c| c.is_ascii_digit())
        .count();
    let vend = after_pri + vlen;
    let version = match ascii::ascii(&b[after_pri..vend]) {
        Ok(v)
            if vlen > 0
                && vlen <= 3
                && b[after_pri] != b'0'
                && b.get(vend).is_none_or(|&c| c == b' ') =>
        {
            v
        }
        _ => return Err(messages::bad_version(after_pri, next_field(b, after_pri).0)),
    };
    let ts_pos = if vend < b.len() { Some(vend + 1) } else { None };

    // TIMESTAMP
    let ts_pos = match ts_pos {
        Some(p) if p < b.len() => p,
        _ => return Err(messages::missing_field(b.len(), "TIMESTAMP")),
    };
    let (f, host_pos) = next_field(b, ts_pos);
    let timestamp = match f {
        b"-" => None,
        b"" => return Err(messages::empty_timestamp(ts_pos)),
        _ => match timestamp::parse(f) {
            Ok(t) => Some(t),
            Err(reason) => return Err(messages::bad_timestamp(ts_pos, f, reason)),
        },
    };

    let (host_name, app_pos) = checked(b, host_pos, &HOSTNAME)?;
    let (app_name, proc_pos) = checked(b, app_pos, &APP_NAME)?;
    let (process_id, msgid_pos) = checked(b, proc_pos, &PROCID)?;
    let (message_id, msg_pos) = checked(b, msgid_pos, &MSGID)?;

    let raw = msg_pos.and_then(|p| raw_message(b, p));
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
            message: None,
        },
        raw,
    ))
}

/// `<PRI>` with PRI 0..=191; returns the value and the offset after `>`.
fn parse_pri(b: &[u8]) -> Result<(u8, usize), Problem> {
    if b.first() != Some(&b'<') {
        return Err(messages::pri_no_open(&b[..b.len().min(1)]));
    }
    let digits = b[1..]
        .iter()
        .take(4)
        .take_while(|c| c.is_ascii_digit())
        .count();
    if digits == 0 {
        return Err(messages::pri_no_digits(next_field(b, 0).0));
    }
    if digits > 3 || b.get(1 + digits) != Some(&b'>') {
        return Err(messages::pri_no_close(next_field(b, 0).0));
    }
    let value = b[1..1 + digits]
        .iter()
        .fold(0u32, |n, &d| n * 10 + u32::from(d - b'0'));
    if value > 191 {
        return Err(messages::pri_over_191(value));
    }
    Ok((value as u8, digits + 2))
}

/// MSG starting at `pos`: a leading BOM removed, `-` as null.
fn raw_message(b: &[u8], pos: usize) -> Option<RawMessage<'_>> {
    let mut at = pos;
    if b[at..].starts_with(b"\xEF\xBB\xBF") {
        at += 3;
    }
    let bytes = &b[at..];
    (bytes != b"-").then_some(RawMessage { bytes, at })
}

/// MSG: a leading BOM removed, `-` as null, invalid UTF-8 replaced (and warned about).
fn parse_message(b: &[u8], pos: usize) -> (Option<Cow<'_, str>>, Option<Problem>) {
    match raw_message(b, pos) {
        None => (None, None),
        Some(raw) => {
            let (text, warning) = raw.check();
            (Some(text), warning)
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
    fn records_borrow_every_field_from_the_frame() {
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
    fn nil_fields_are_null_and_only_a_whole_dash_is_nil() {
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
    fn pri_is_one_to_three_digits_up_to_191_in_angle_brackets() {
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
    fn version_is_one_to_three_digits_without_a_leading_zero() {
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
    fn heroku_logs_lines_fill_source_process_and_timestamp_only() {
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
