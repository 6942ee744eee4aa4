//! Panther's standard fields (README "Records", `--panther`): `p_log_type`, `p_event_time`,
//! `p_parse_time`, `p_row_id`, and the `hostname` indicator.

use super::Encoder;
use crate::record::Record;
use std::net::IpAddr;

/// What makes a run's Panther fields its own: `p_parse_time` (the run's start, the same for
/// every record of the run) and the prefix of `p_row_id`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunIdentity {
    /// `p_parse_time`, `YYYY-MM-DD HH:MM:SS.fffffffff`.
    pub parse_time: [u8; 29],
    /// The first 16 hex digits of every `p_row_id`.
    pub run_id: u64,
}

impl Default for RunIdentity {
    fn default() -> RunIdentity {
        RunIdentity {
            parse_time: *b"1970-01-01 00:00:00.000000000",
            run_id: 0,
        }
    }
}

impl RunIdentity {
    /// This run's: the clock now, and an id from the time and the process.
    pub fn now() -> RunIdentity {
        let now = chrono::Utc::now();
        let mut parse_time = [0u8; 29];
        parse_time.copy_from_slice(now.format("%Y-%m-%d %H:%M:%S%.9f").to_string().as_bytes());
        RunIdentity {
            parse_time,
            run_id: (now.timestamp_nanos_opt().unwrap_or(0) as u64) ^ u64::from(std::process::id()),
        }
    }
}

/// Panther columns in the order they are written (after the record's own).
const COLUMNS: [&str; 6] = [
    "p_log_type",
    "p_event_time",
    "p_parse_time",
    "p_row_id",
    "p_any_ip_addresses",
    "p_any_domain_names",
];

/// The CSV columns: the indicator columns only when `host_name` is written.
pub fn csv_columns(e: &Encoder) -> &'static [&'static str] {
    if e.writes_host() {
        &COLUMNS
    } else {
        &COLUMNS[..4]
    }
}

/// Panther's `hostname` indicator: an IP address goes to `p_any_ip_addresses`, any other name
/// to `p_any_domain_names`.
fn indicator_column(host: &str) -> &'static str {
    if host.parse::<IpAddr>().is_ok() {
        "p_any_ip_addresses"
    } else {
        "p_any_domain_names"
    }
}

fn push_hex(out: &mut Vec<u8>, n: u64) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    for shift in (0..16).rev() {
        out.push(HEX[((n >> (shift * 4)) & 0xf) as usize]);
    }
}

fn push_row_id(e: &Encoder, out: &mut Vec<u8>, row: u64) {
    push_hex(out, e.run.run_id);
    push_hex(out, row);
}

/// Appends the Panther members to a JSON object (`first`: nothing written in it yet).
pub fn write_json(e: &Encoder, r: &Record<'_>, row: u64, mut first: bool, out: &mut Vec<u8>) {
    let mut key = |out: &mut Vec<u8>, name: &str| {
        if !first {
            out.push(b',');
        }
        first = false;
        out.push(b'"');
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(b"\":");
    };
    key(out, "p_log_type");
    out.extend_from_slice(b"\"Heroku.Runtime\"");
    if let Some(t) = &r.timestamp {
        key(out, "p_event_time");
        out.push(b'"');
        out.extend_from_slice(&t.panther());
        out.push(b'"');
    }
    key(out, "p_parse_time");
    out.push(b'"');
    out.extend_from_slice(&e.run.parse_time);
    out.push(b'"');
    key(out, "p_row_id");
    out.push(b'"');
    push_row_id(e, out, row);
    out.push(b'"');
    if let Some(h) = r.host_name.filter(|_| e.writes_host()) {
        key(out, indicator_column(h));
        out.extend_from_slice(b"[");
        e.kernel.push_str(out, h);
        out.extend_from_slice(b"]");
    }
}

/// Appends the Panther cells to a CSV row.
pub fn write_csv(e: &Encoder, r: &Record<'_>, row: u64, out: &mut Vec<u8>) {
    out.extend_from_slice(b",Heroku.Runtime,");
    if let Some(t) = &r.timestamp {
        out.extend_from_slice(&t.panther());
    }
    out.push(b',');
    out.extend_from_slice(&e.run.parse_time);
    out.push(b',');
    push_row_id(e, out, row);
    // Both indicator columns are present when host_name is written; one of them is filled.
    if e.writes_host() {
        let (ip, domain) = match r.host_name {
            Some(h) if indicator_column(h) == "p_any_ip_addresses" => (Some(h), None),
            Some(h) => (None, Some(h)),
            None => (None, None),
        };
        for cell in [ip, domain] {
            out.push(b',');
            if let Some(h) = cell {
                e.kernel.push_csv(out, h, e.csv_safe);
            }
        }
    }
}

/// A Panther custom log schema (YAML) for exactly the records this encoder writes with
/// `--panther`: the selected fields and, with `--expand`, the objects. Panther's own `p_*`
/// fields are not declared: Panther adds them to every log type.
pub fn schema(e: &Encoder, name: &str) -> String {
    use super::expanded::ROUTER_COLUMNS;
    use super::Field;
    let mut y = String::new();
    y.push_str(&format!("schema: {name}\n"));
    let command = if e.expand {
        "convert --panther --expand"
    } else {
        "convert --panther"
    };
    y.push_str(&format!(
        "description: {}\n",
        yaml_str(&format!(
            "Heroku log-drain records as `drainpipe {command}` writes them (one JSON object per line)"
        ))
    ));
    y.push_str("referenceURL: https://devcenter.heroku.com/articles/log-drains\n");
    y.push_str("version: 0\n");
    y.push_str("fields:\n");
    let field = |y: &mut String, indent: &str, name: &str, ty: &str, desc: &str| {
        y.push_str(&format!(
            "{indent}- name: {name}\n{indent}  description: {}\n{indent}  type: {ty}\n",
            yaml_str(desc)
        ));
    };
    for &f in &e.fields {
        let (ty, desc) = match f {
            Field::MessageLen => (
                "bigint",
                "LEN of the octet-counted frame (null for other inputs)",
            ),
            Field::Priority => ("int", "syslog PRI, 0 to 191"),
            Field::Version => ("string", "syslog VERSION"),
            Field::Timestamp => ("timestamp", "the event time, in UTC"),
            Field::HostName => (
                "string",
                "syslog HOSTNAME (the drain token for Heroku drains)",
            ),
            Field::AppName => ("string", "syslog APP-NAME: app or heroku"),
            Field::ProcessId => (
                "string",
                "syslog PROCID: the dyno or process, such as web.1 or router",
            ),
            Field::MessageId => ("string", "syslog MSGID"),
            Field::Message => ("string", "the log line"),
        };
        field(&mut y, "  ", f.name(), ty, desc);
        match f {
            Field::Timestamp => {
                y.push_str("    timeFormat: rfc3339\n    isEventTime: true\n");
            }
            Field::HostName => y.push_str("    indicators:\n      - hostname\n"),
            _ => {}
        }
    }
    if e.expand {
        field(
            &mut y,
            "  ",
            "router",
            "object",
            "--expand: the key=value pairs of a Heroku router line",
        );
        y.push_str("    fields:\n");
        for key in ROUTER_COLUMNS {
            let ty = match key {
                "connect_ms" | "service_ms" | "status" | "bytes" => "bigint",
                _ => "string",
            };
            field(&mut y, "      ", key, ty, &format!("router {key}"));
        }
        field(
            &mut y,
            "  ",
            "metrics",
            "json",
            "--expand: sample#, measure# and count# keys, each {value, unit}",
        );
        field(
            &mut y,
            "  ",
            "fields",
            "json",
            "--expand: the other key=value pairs of a logfmt message (bare keys are true)",
        );
    }
    y
}

/// `s` as a double-quoted YAML scalar.
fn yaml_str(s: &str) -> String {
    let mut q = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => q.push_str("\\\""),
            '\\' => q.push_str("\\\\"),
            c => q.push(c),
        }
    }
    q.push('"');
    q
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn panther_indicator_by_host_kind() {
        assert_eq!(indicator_column("10.1.2.3"), "p_any_ip_addresses");
        assert_eq!(indicator_column("::1"), "p_any_ip_addresses");
        assert_eq!(indicator_column("host"), "p_any_domain_names");
        assert_eq!(indicator_column("d.1234"), "p_any_domain_names");
    }
}
