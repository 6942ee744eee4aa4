//! CSV: RFC 4180, a header row, CRLF line ends, null as an empty cell (README "Records").
//!
//! Quoting is hand-written rather than the `csv` crate's writer: a cell is appended to the
//! worker's batch buffer by the string kernels ([`super::escape`]: one scan for the bytes that
//! need quoting, one copy doubling `"`), and the tests read the output back with the `csv`
//! crate.

use super::escape::{push_short, Kernel};
use super::{expanded, panther, push_u64, value, Encoder, Field, Msg, Value};
use crate::record::Record;

/// The header line.
pub fn header(e: &Encoder) -> Vec<u8> {
    let mut names: Vec<String> = e.fields.iter().map(|f| f.name().to_string()).collect();
    if e.expand {
        expanded::csv_header(&mut names);
    }
    if e.panther {
        names.extend(panther::csv_columns(e).iter().map(|c| c.to_string()));
    }
    let mut out = names.join(",").into_bytes();
    out.extend_from_slice(b"\r\n");
    out
}

/// Appends `r` as one CSV row; `msg` is the message cell's value (unchecked bytes that turn
/// out not to be UTF-8 make it return `false`, the row half written).
pub(crate) fn write(
    e: &Encoder,
    r: &Record<'_>,
    msg: Msg<'_>,
    row: u64,
    out: &mut Vec<u8>,
) -> bool {
    let start = out.len();
    for (i, &f) in e.fields.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        if f == Field::Message {
            match msg {
                Msg::Unchecked(b) => {
                    if !e.kernel.push_csv_checked(out, b, e.csv_safe) {
                        return false;
                    }
                }
                Msg::Text(Some(s)) => e.kernel.push_csv(out, s, e.csv_safe),
                Msg::Text(None) => {}
            }
            continue;
        }
        if f == Field::Timestamp {
            // Digits and separators we wrote: never quoted.
            if let Some(t) = &r.timestamp {
                push_short(out, t.as_bytes());
            }
            continue;
        }
        match value(r, f) {
            Value::Null => {}
            Value::Int(n) => push_u64(out, n),
            Value::Str(s) => e.kernel.push_csv(out, s, e.csv_safe),
        }
    }
    if e.expand {
        expanded::write_csv(e, &e.expansion(r, msg), out);
    }
    if e.panther {
        panther::write_csv(e, r, row, out);
    }
    if out.len() == start {
        // A one-column row whose cell is empty: CSV readers skip a blank line, so the
        // record would vanish. A quoted empty cell keeps it.
        out.extend_from_slice(b"\"\"");
    }
    out.extend_from_slice(b"\r\n");
    true
}

/// Appends one RFC 4180 cell, quoted only when needed: a `,`, `"`, CR or LF inside, or a
/// leading/trailing space that some readers would trim. With `safe`, a cell a spreadsheet would
/// evaluate (`= + - @`, tab, CR first) gets a leading `'` (OWASP's advice for CSV injection).
pub fn push_csv_cell(out: &mut Vec<u8>, s: &str, safe: bool) {
    Kernel::best().push_csv(out, s, safe);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_quotes_only_where_needed() {
        let cell = |s: &str, safe: bool| {
            let mut out = Vec::new();
            push_csv_cell(&mut out, s, safe);
            String::from_utf8(out).unwrap()
        };
        assert_eq!(cell("plain", false), "plain");
        assert_eq!(cell("a,b", false), "\"a,b\"");
        assert_eq!(cell("say \"hi\"", false), "\"say \"\"hi\"\"\"");
        assert_eq!(cell("two\nlines", false), "\"two\nlines\"");
        assert_eq!(cell("cr\r", false), "\"cr\r\"");
        assert_eq!(cell(" padded", false), "\" padded\"");
        assert_eq!(cell("padded ", false), "\"padded \"");
        assert_eq!(cell("=1+2", false), "=1+2");
        assert_eq!(cell("=1+2", true), "'=1+2");
        assert_eq!(cell("-x,y", true), "\"'-x,y\"");
        assert_eq!(cell("safe", true), "safe");
    }
}
