//! CSV: RFC 4180, a header row, CRLF line ends, null as an empty cell (README "Records").
//!
//! Quoting is hand-written rather than the `csv` crate's writer: a cell is appended to the
//! worker's batch buffer with one `memchr` scan for the bytes that need quoting, and the tests
//! read the output back with the `csv` crate.

use super::{panther, push_u64, value, Encoder, Value};
use crate::record::Record;

/// The header line.
pub fn header(e: &Encoder) -> Vec<u8> {
    let mut names: Vec<&str> = e.fields.iter().map(|f| f.name()).collect();
    if e.panther {
        names.extend(panther::csv_columns(e));
    }
    let mut out = names.join(",").into_bytes();
    out.extend_from_slice(b"\r\n");
    out
}

/// Appends `r` as one CSV row.
pub fn write(e: &Encoder, r: &Record<'_>, row: u64, out: &mut Vec<u8>) {
    let start = out.len();
    for (i, &f) in e.fields.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        match value(r, f) {
            Value::Null => {}
            Value::Int(n) => push_u64(out, n),
            Value::Str(s) => push_csv_cell(out, s, e.csv_safe),
        }
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
}

/// Appends one RFC 4180 cell, quoted only when needed: a `,`, `"`, CR or LF inside, or a
/// leading/trailing space that some readers would trim. With `safe`, a cell a spreadsheet would
/// evaluate (`= + - @`, tab, CR first) gets a leading `'` (OWASP's advice for CSV injection).
pub fn push_csv_cell(out: &mut Vec<u8>, s: &str, safe: bool) {
    let b = s.as_bytes();
    let formula = safe && matches!(b.first(), Some(b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r'));
    let needs_quotes = b.first() == Some(&b' ')
        || b.last() == Some(&b' ')
        || memchr::memchr3(b',', b'"', b'\n', b).is_some()
        || memchr::memchr(b'\r', b).is_some();
    if !needs_quotes && !formula {
        out.extend_from_slice(b);
        return;
    }
    if !needs_quotes {
        out.push(b'\'');
        out.extend_from_slice(b);
        return;
    }
    out.push(b'"');
    if formula {
        out.push(b'\'');
    }
    let mut run = 0;
    for i in memchr::memchr_iter(b'"', b) {
        out.extend_from_slice(&b[run..=i]);
        out.push(b'"');
        run = i + 1;
    }
    out.extend_from_slice(&b[run..]);
    out.push(b'"');
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
