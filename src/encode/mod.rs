//! Encoders: records to bytes (README "Records"): NDJSON ([`json`]), CSV ([`csv`]),
//! Panther's standard fields ([`panther`]) and `--expand`'s objects ([`expanded`]).
//!
//! An encoder appends to a caller-owned `Vec<u8>`, so a worker encodes a whole batch into one
//! buffer without per-record allocation; writing the buffer out is a sink's job.

pub mod csv;
pub mod escape;
pub mod expanded;
pub mod json;
pub mod panther;

use crate::record::expand::{self, Expansion};
use crate::record::Record;
pub use panther::RunIdentity;

/// The output columns, in the order README's record table gives them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Field {
    /// `message_len`
    MessageLen,
    /// `priority`
    Priority,
    /// `version`
    Version,
    /// `timestamp`
    Timestamp,
    /// `host_name`
    HostName,
    /// `app_name`
    AppName,
    /// `process_id`
    ProcessId,
    /// `message_id`
    MessageId,
    /// `message`
    Message,
}

impl Field {
    /// Every field, in order.
    pub const ALL: [Field; 9] = [
        Field::MessageLen,
        Field::Priority,
        Field::Version,
        Field::Timestamp,
        Field::HostName,
        Field::AppName,
        Field::ProcessId,
        Field::MessageId,
        Field::Message,
    ];

    /// `,"name":` — the separator and key as written before a value in NDJSON (the first
    /// field drops the comma).
    pub(crate) fn json_key(self) -> &'static [u8] {
        match self {
            Field::MessageLen => b",\"message_len\":",
            Field::Priority => b",\"priority\":",
            Field::Version => b",\"version\":",
            Field::Timestamp => b",\"timestamp\":",
            Field::HostName => b",\"host_name\":",
            Field::AppName => b",\"app_name\":",
            Field::ProcessId => b",\"process_id\":",
            Field::MessageId => b",\"message_id\":",
            Field::Message => b",\"message\":",
        }
    }

    /// The field's name, as keys and CSV headers spell it.
    pub fn name(self) -> &'static str {
        match self {
            Field::MessageLen => "message_len",
            Field::Priority => "priority",
            Field::Version => "version",
            Field::Timestamp => "timestamp",
            Field::HostName => "host_name",
            Field::AppName => "app_name",
            Field::ProcessId => "process_id",
            Field::MessageId => "message_id",
            Field::Message => "message",
        }
    }

    /// Parses a `--fields` list; an unknown name is an error listing the valid ones.
    pub fn parse_list(list: &str) -> Result<Vec<Field>, String> {
        let mut out = Vec::new();
        for name in list.split(',').map(str::trim) {
            match Field::ALL.iter().find(|f| f.name() == name) {
                Some(&f) if out.contains(&f) => {
                    return Err(format!("field {name:?} is listed twice"));
                }
                Some(&f) => out.push(f),
                None => {
                    let valid: Vec<_> = Field::ALL.iter().map(|f| f.name()).collect();
                    return Err(format!(
                        "unknown field {name:?}; valid fields: {}",
                        valid.join(",")
                    ));
                }
            }
        }
        Ok(out)
    }
}

/// The output format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OutputFormat {
    /// One JSON object per line.
    Ndjson,
    /// RFC 4180 CSV with a header row.
    Csv,
}

/// What a record turns into: format, columns, and the run's Panther identity.
#[derive(Clone, Debug)]
pub struct Encoder {
    /// NDJSON or CSV.
    pub format: OutputFormat,
    /// The columns, in order (`--fields`).
    pub fields: Vec<Field>,
    /// Add Panther's `p_*` fields and omit nulls.
    pub panther: bool,
    /// Neutralise CSV cells a spreadsheet would run as a formula.
    pub csv_safe: bool,
    /// `--expand`: add the `router`, `metrics` and `fields` objects read from the message.
    pub expand: bool,
    /// `p_parse_time` and the `p_row_id` prefix, fixed for a run.
    pub run: RunIdentity,
    /// The JSON escape kernel, chosen once for the CPU.
    pub kernel: escape::Kernel,
}

impl Encoder {
    /// All fields in `format`, no Panther fields.
    pub fn new(format: OutputFormat) -> Encoder {
        Encoder {
            format,
            fields: Field::ALL.to_vec(),
            panther: false,
            csv_safe: false,
            expand: false,
            run: RunIdentity::default(),
            kernel: escape::Kernel::best(),
        }
    }

    /// The CSV header line (empty for NDJSON).
    pub fn header(&self) -> Vec<u8> {
        match self.format {
            OutputFormat::Csv => csv::header(self),
            OutputFormat::Ndjson => Vec::new(),
        }
    }

    /// Appends one record. `row` is a number unique within the run (for `p_row_id`).
    pub fn write(&self, r: &Record<'_>, row: u64, out: &mut Vec<u8>) {
        let msg = Msg::Text(r.message.as_deref());
        let written = match self.format {
            OutputFormat::Ndjson => json::write(self, r, msg, row, out),
            OutputFormat::Csv => csv::write(self, r, msg, row, out),
        };
        debug_assert!(written, "checked text is always written");
    }

    /// Appends one record whose MSG is `message`, bytes not yet checked to be UTF-8
    /// ([`crate::record::parse_deferred`]): checked in the pass that escapes them. When they are
    /// not UTF-8, appends nothing and says so (`false`): the caller checks the message on its
    /// own ([`crate::record::RawMessage::check`]) and writes the record with the text.
    pub fn write_unchecked(
        &self,
        r: &Record<'_>,
        message: &[u8],
        row: u64,
        out: &mut Vec<u8>,
    ) -> bool {
        let start = out.len();
        // Per record: the default columns end with `message`, so one comparison decides.
        let writes_message =
            self.fields.last() == Some(&Field::Message) || self.fields.contains(&Field::Message);
        let msg = if self.expand || !writes_message {
            // The objects are read from the text, or no field's pass would see the message:
            // check it first (`--strict` and every report need the `utf8` warning whatever
            // the columns).
            match std::str::from_utf8(message) {
                Ok(s) => Msg::Text(Some(s)),
                Err(_) => return false,
            }
        } else {
            Msg::Unchecked(message)
        };
        let written = match self.format {
            OutputFormat::Ndjson => json::write(self, r, msg, row, out),
            OutputFormat::Csv => csv::write(self, r, msg, row, out),
        };
        if !written {
            out.truncate(start);
        }
        written
    }

    /// Whether `host_name` is among the written fields. Panther's indicator fields derive from
    /// it, and only from what is written: a user who leaves the host out (it may be a drain
    /// token) must not find it in `p_any_domain_names`.
    pub(crate) fn writes_host(&self) -> bool {
        self.fields.contains(&Field::HostName)
    }

    /// `--expand`'s objects for a record whose message is `msg`.
    fn expansion<'m>(&self, r: &Record<'_>, msg: Msg<'m>) -> Expansion<'m> {
        match msg {
            Msg::Text(Some(text)) => expand::expand(r.app_name, r.process_id, text),
            // Unchecked bytes never come with --expand (see write_unchecked); null has none.
            Msg::Text(None) | Msg::Unchecked(_) => Expansion::default(),
        }
    }
}

/// Where the message field's value comes from.
#[derive(Clone, Copy)]
pub(crate) enum Msg<'r> {
    /// Text (or null).
    Text(Option<&'r str>),
    /// Bytes to check as they are written.
    Unchecked(&'r [u8]),
}

/// A field's value, whatever the format.
pub(crate) enum Value<'r> {
    Null,
    Int(u64),
    Str(&'r str),
}

/// The value of field `f` of `r`.
pub(crate) fn value<'r>(r: &'r Record<'_>, f: Field) -> Value<'r> {
    let s = |v: Option<&'r str>| v.map_or(Value::Null, Value::Str);
    match f {
        Field::MessageLen => r.message_len.map_or(Value::Null, Value::Int),
        Field::Priority => r.priority.map_or(Value::Null, |p| Value::Int(u64::from(p))),
        Field::Version => s(r.version),
        Field::Timestamp => s(r.timestamp.as_ref().map(|t| t.as_str())),
        Field::HostName => s(r.host_name),
        Field::AppName => s(r.app_name),
        Field::ProcessId => s(r.process_id),
        Field::MessageId => s(r.message_id),
        Field::Message => s(r.message.as_deref()),
    }
}

/// Two decimal digits for every number below 100.
const DIGIT_PAIRS: [u8; 200] = {
    let mut t = [0u8; 200];
    let mut i = 0;
    while i < 100 {
        t[2 * i] = b'0' + (i / 10) as u8;
        t[2 * i + 1] = b'0' + (i % 10) as u8;
        i += 1;
    }
    t
};

/// Appends `n` in decimal, two digits a step.
#[inline]
pub(crate) fn push_u64(out: &mut Vec<u8>, mut n: u64) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    while n >= 100 {
        let d = (n % 100) as usize * 2;
        n /= 100;
        i -= 2;
        buf[i..i + 2].copy_from_slice(&DIGIT_PAIRS[d..d + 2]);
    }
    if n >= 10 {
        let d = n as usize * 2;
        i -= 2;
        buf[i..i + 2].copy_from_slice(&DIGIT_PAIRS[d..d + 2]);
    } else {
        i -= 1;
        buf[i] = b'0' + n as u8;
    }
    escape::push_short(out, &buf[i..]);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_written_in_decimal() {
        for n in [
            0,
            1,
            9,
            10,
            99,
            100,
            101,
            191,
            999,
            1000,
            12345,
            u64::MAX,
            10u64.pow(19),
        ] {
            let mut out = Vec::new();
            push_u64(&mut out, n);
            assert_eq!(String::from_utf8(out).unwrap(), n.to_string());
        }
    }

    #[test]
    fn a_field_list_names_known_fields_once() {
        assert_eq!(
            Field::parse_list("message,priority").unwrap(),
            vec![Field::Message, Field::Priority]
        );
        let e = Field::parse_list("message,nope").unwrap_err();
        assert!(
            e.contains("\"nope\"") && e.contains("message_len,priority"),
            "{e}"
        );
    }
}
