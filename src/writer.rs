//! Record serialisation: NDJSON and CSV (SPEC §3), optionally with Panther's standard fields.
//!
//! Writers append to a caller-owned `Vec<u8>` so a worker can serialise a whole batch into one
//! buffer without per-record allocation. String escaping copies runs of bytes that need no
//! escaping in one go and only stops at bytes that do; [`escape_json_plain`] is the obvious
//! byte-at-a-time version the fast one is tested against.

use crate::parser::Record;
use std::net::IpAddr;

/// The output columns, in SPEC order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Field {
    MessageLen,
    Priority,
    Version,
    Timestamp,
    HostName,
    AppName,
    ProcessId,
    MessageId,
    Message,
}

impl Field {
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
    fn json_key(self) -> &'static [u8] {
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

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Ndjson,
    Csv,
}

/// What a record turns into.
#[derive(Clone, Debug)]
pub struct OutputSpec {
    pub format: Format,
    pub fields: Vec<Field>,
    /// Add Panther's `p_*` fields and omit nulls.
    pub panther: bool,
    /// Neutralise CSV cells a spreadsheet would run as a formula.
    pub csv_safe: bool,
    /// `p_parse_time`, fixed for a run so every record of the run agrees.
    pub parse_time: [u8; 29],
    /// Prefix of `p_row_id`, unique per run.
    pub run_id: u64,
}

/// Panther columns in the order they are written (after the record's own).
const PANTHER_COLUMNS: [&str; 6] = [
    "p_log_type",
    "p_event_time",
    "p_parse_time",
    "p_row_id",
    "p_any_ip_addresses",
    "p_any_domain_names",
];

impl OutputSpec {
    pub fn new(format: Format) -> OutputSpec {
        OutputSpec {
            format,
            fields: Field::ALL.to_vec(),
            panther: false,
            csv_safe: false,
            parse_time: *b"1970-01-01 00:00:00.000000000",
            run_id: 0,
        }
    }

    /// The CSV header line (empty for NDJSON).
    pub fn header(&self) -> Vec<u8> {
        let mut out = Vec::new();
        if self.format == Format::Csv {
            let mut names: Vec<&str> = self.fields.iter().map(|f| f.name()).collect();
            if self.panther {
                let n = if self.writes_host() { 6 } else { 4 };
                names.extend(&PANTHER_COLUMNS[..n]);
            }
            out.extend_from_slice(names.join(",").as_bytes());
            out.extend_from_slice(b"\r\n");
        }
        out
    }

    /// Appends one record. `row` is a number unique within the run (for `p_row_id`).
    pub fn write(&self, r: &Record<'_>, row: u64, out: &mut Vec<u8>) {
        match self.format {
            Format::Ndjson => self.write_json(r, row, out),
            Format::Csv => self.write_csv(r, row, out),
        }
    }

    fn write_json(&self, r: &Record<'_>, row: u64, out: &mut Vec<u8>) {
        out.push(b'{');
        let mut first = true;
        for &f in &self.fields {
            let v = value(r, f);
            if self.panther && matches!(v, Value::Null) {
                continue;
            }
            let k = f.json_key();
            out.extend_from_slice(if first { &k[1..] } else { k });
            first = false;
            match v {
                Value::Null => out.extend_from_slice(b"null"),
                Value::Int(n) => push_u64(out, n),
                Value::Str(s) => push_json_str(out, s),
            }
        }
        let mut key = |out: &mut Vec<u8>, name: &str| {
            if !first {
                out.push(b',');
            }
            first = false;
            out.push(b'"');
            out.extend_from_slice(name.as_bytes());
            out.extend_from_slice(b"\":");
        };
        if self.panther {
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
            out.extend_from_slice(&self.parse_time);
            out.push(b'"');
            key(out, "p_row_id");
            out.push(b'"');
            self.push_row_id(out, row);
            out.push(b'"');
            if let Some(h) = r.host_name.filter(|_| self.writes_host()) {
                key(out, indicator_column(h));
                out.extend_from_slice(b"[");
                push_json_str(out, h);
                out.extend_from_slice(b"]");
            }
        }
        out.extend_from_slice(b"}\n");
    }

    fn write_csv(&self, r: &Record<'_>, row: u64, out: &mut Vec<u8>) {
        let start = out.len();
        for (i, &f) in self.fields.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            match value(r, f) {
                Value::Null => {}
                Value::Int(n) => push_u64(out, n),
                Value::Str(s) => push_csv_cell(out, s, self.csv_safe),
            }
        }
        if self.panther {
            out.extend_from_slice(b",Heroku.Runtime,");
            if let Some(t) = &r.timestamp {
                out.extend_from_slice(&t.panther());
            }
            out.push(b',');
            out.extend_from_slice(&self.parse_time);
            out.push(b',');
            self.push_row_id(out, row);
            // Both indicator columns are present in CSV when host_name is written; one of them
            // is filled.
            let (ip, domain) = match r.host_name {
                Some(h) if indicator_column(h) == "p_any_ip_addresses" => (Some(h), None),
                Some(h) => (None, Some(h)),
                None => (None, None),
            };
            if self.writes_host() {
                for cell in [ip, domain] {
                    out.push(b',');
                    if let Some(h) = cell {
                        push_csv_cell(out, h, self.csv_safe);
                    }
                }
            }
        }
        if out.len() == start {
            // A one-column row whose cell is empty: CSV readers skip a blank line, so the
            // record would vanish. A quoted empty cell keeps it.
            out.extend_from_slice(b"\"\"");
        }
        out.extend_from_slice(b"\r\n");
    }

    /// Whether `host_name` is among the written fields. Panther's indicator fields derive from
    /// it, and only from what is written: a user who leaves the host out (it may be a drain
    /// token) must not find it in `p_any_domain_names`.
    fn writes_host(&self) -> bool {
        self.fields.contains(&Field::HostName)
    }

    fn push_row_id(&self, out: &mut Vec<u8>, row: u64) {
        push_hex(out, self.run_id);
        push_hex(out, row);
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

enum Value<'r> {
    Null,
    Int(u64),
    Str(&'r str),
}

fn value<'r>(r: &'r Record<'_>, f: Field) -> Value<'r> {
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

pub(crate) fn push_u64(out: &mut Vec<u8>, mut n: u64) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&buf[i..]);
}

fn push_hex(out: &mut Vec<u8>, n: u64) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    for shift in (0..16).rev() {
        out.push(HEX[((n >> (shift * 4)) & 0xf) as usize]);
    }
}

/// Bytes that stop the fast scan: control characters, `"`, `\`, and 0xE2 (the lead byte of
/// U+2028/U+2029, which JSON allows raw but JavaScript does not, so we escape them).
const JSON_STOP: [bool; 256] = {
    let mut t = [false; 256];
    let mut i = 0;
    while i < 0x20 {
        t[i] = true;
        i += 1;
    }
    t[b'"' as usize] = true;
    t[b'\\' as usize] = true;
    t[0xE2] = true;
    t
};

/// Index of the first byte at or after `from` that [`JSON_STOP`] marks, or `b.len()`.
///
/// On x86_64, sixteen bytes at a time with SSE2 (part of the x86_64 baseline, so no runtime
/// detection is needed); the tail, and other architectures, go through [`find_json_stop_swar`].
/// Both are tested against [`find_json_stop_plain`], the byte-at-a-time definition.
#[inline]
pub fn find_json_stop(b: &[u8], from: usize) -> usize {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::*;
        let mut i = from;
        // SAFETY: SSE2 is always available on x86_64, and every load reads the 16 bytes
        // b[i..i + 16], which the loop condition keeps in bounds (unaligned loads are allowed).
        unsafe {
            let quote = _mm_set1_epi8(b'"' as i8);
            let backslash = _mm_set1_epi8(b'\\' as i8);
            let e2 = _mm_set1_epi8(0xE2u8 as i8);
            let max_control = _mm_set1_epi8(0x1F);
            while i + 16 <= b.len() {
                let v = _mm_loadu_si128(b.as_ptr().add(i).cast::<__m128i>());
                // v <= 0x1F (unsigned) exactly when min(v, 0x1F) == v.
                let control = _mm_cmpeq_epi8(_mm_min_epu8(v, max_control), v);
                let hit = _mm_or_si128(
                    _mm_or_si128(control, _mm_cmpeq_epi8(v, quote)),
                    _mm_or_si128(_mm_cmpeq_epi8(v, backslash), _mm_cmpeq_epi8(v, e2)),
                );
                let mask = _mm_movemask_epi8(hit);
                if mask != 0 {
                    return i + mask.trailing_zeros() as usize;
                }
                i += 16;
            }
        }
        find_json_stop_swar(b, i)
    }
    #[cfg(not(target_arch = "x86_64"))]
    find_json_stop_swar(b, from)
}

/// Portable fast path: eight bytes at a time with word arithmetic (SWAR). A word is skipped
/// when none of its bytes is below 0x20, `"`, `\\` or 0xE2; the first word that may hold one is
/// finished with the table.
#[inline]
pub fn find_json_stop_swar(b: &[u8], from: usize) -> usize {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    /// High bit set in each byte of `x` that is zero (exact for the lowest such byte, which is
    /// all we need: we only ask "is there one" and then scan the word with the table).
    #[inline(always)]
    fn zero_bytes(x: u64) -> u64 {
        x.wrapping_sub(LO) & !x & HI
    }
    let mut i = from;
    while i + 8 <= b.len() {
        let w = u64::from_le_bytes(b[i..i + 8].try_into().expect("8 bytes"));
        // Bytes below 0x20: (w - 0x20 per byte) borrows into the high bit where w < 0x20,
        // provided the byte's own high bit is clear.
        let control = w.wrapping_sub(LO * 0x20) & !w & HI;
        let hit = control
            | zero_bytes(w ^ (LO * u64::from(b'"')))
            | zero_bytes(w ^ (LO * u64::from(b'\\')))
            | zero_bytes(w ^ (LO * 0xE2));
        if hit != 0 {
            break;
        }
        i += 8;
    }
    find_json_stop_plain(b, i)
}

/// Byte-at-a-time definition of [`find_json_stop`].
pub fn find_json_stop_plain(b: &[u8], from: usize) -> usize {
    b[from..]
        .iter()
        .position(|&c| JSON_STOP[c as usize])
        .map_or(b.len(), |i| from + i)
}

/// Appends `s` as a JSON string literal (quotes included).
pub fn push_json_str(out: &mut Vec<u8>, s: &str) {
    out.push(b'"');
    let b = s.as_bytes();
    let mut run = 0;
    let mut i = find_json_stop(b, 0);
    while i < b.len() {
        let c = b[i];
        if c == 0xE2 && !(b.get(i + 1) == Some(&0x80) && matches!(b.get(i + 2), Some(0xA8 | 0xA9)))
        {
            i = find_json_stop(b, i + 1);
            continue;
        }
        out.extend_from_slice(&b[run..i]);
        i += push_escape(out, &b[i..]);
        run = i;
        i = find_json_stop(b, i);
    }
    out.extend_from_slice(&b[run..]);
    out.push(b'"');
}

/// Writes the escape for the stop byte(s) at the start of `b`; returns how many bytes it used.
fn push_escape(out: &mut Vec<u8>, b: &[u8]) -> usize {
    match b[0] {
        b'"' => out.extend_from_slice(b"\\\""),
        b'\\' => out.extend_from_slice(b"\\\\"),
        b'\n' => out.extend_from_slice(b"\\n"),
        b'\r' => out.extend_from_slice(b"\\r"),
        b'\t' => out.extend_from_slice(b"\\t"),
        0x08 => out.extend_from_slice(b"\\b"),
        0x0C => out.extend_from_slice(b"\\f"),
        0xE2 => {
            out.extend_from_slice(if b[2] == 0xA8 { b"\\u2028" } else { b"\\u2029" });
            return 3;
        }
        c => {
            const HEX: &[u8; 16] = b"0123456789abcdef";
            out.extend_from_slice(b"\\u00");
            out.push(HEX[(c >> 4) as usize]);
            out.push(HEX[(c & 0xf) as usize]);
        }
    }
    1
}

/// Reference implementation of [`push_json_str`]: one char at a time, no fast path.
pub fn escape_json_plain(s: &str) -> String {
    let mut out = String::from("\"");
    for ch in s.chars() {
        match ch {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
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
    use crate::parser::parse;

    fn json(s: &str) -> String {
        let mut out = Vec::new();
        push_json_str(&mut out, s);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn json_escaping_of_random_mixes_matches_plain_escaping() {
        // Stops at every position of the 16-byte blocks, three-byte escapes crossing block
        // ends, and 0xE2 lead bytes that need no escape (€, ✓).
        let alphabet = [
            "a",
            "\"",
            "\\",
            "\n",
            "\u{1}",
            "\u{1f}",
            "\u{2028}",
            "\u{2029}",
            "€",
            "✓",
            "é",
            " ",
            "xyzxyzxyz",
        ];
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        for _ in 0..5000 {
            let mut s = String::new();
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            for _ in 0..(x % 60) {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                s.push_str(alphabet[(x % alphabet.len() as u64) as usize]);
            }
            assert_eq!(json(&s), escape_json_plain(&s), "{s:?}");
        }
    }

    #[test]
    fn json_fast_path_matches_plain_escaping() {
        let cases = [
            "",
            "plain",
            "quote \" backslash \\ slash /",
            "\n\r\t\u{8}\u{c}\u{0}\u{1f}\u{7f}",
            "line sep \u{2028} para sep \u{2029} other e2: \u{2026} \u{20ac}",
            "caf\u{e9} \u{65e5}\u{672c} \u{1f600}",
            "\u{2028}",
            "ends with \\",
        ];
        for s in cases {
            assert_eq!(json(s), escape_json_plain(s), "{s:?}");
            let back: String = serde_json::from_str(&json(s)).unwrap();
            assert_eq!(back, s);
        }
        // Every char from 0 to 0x3000, one by one and all together.
        let all: String = (0u32..0x3000).filter_map(char::from_u32).collect();
        assert_eq!(json(&all), escape_json_plain(&all));
        for c in (0u32..0x3000).filter_map(char::from_u32) {
            let s = format!("a{c}b");
            assert_eq!(json(&s), escape_json_plain(&s));
        }
    }

    #[test]
    fn swar_stop_search_matches_the_plain_one() {
        // Every byte value at every position of a 24-byte window, over a clean background.
        for v in 0..=255u8 {
            for pos in 0..24 {
                let mut b = vec![b'a'; 24];
                b[pos] = v;
                for from in [0, 1, 7, 8, 9] {
                    let want = find_json_stop_plain(&b, from);
                    assert_eq!(
                        find_json_stop(&b, from),
                        want,
                        "{v:#x} at {pos} from {from}"
                    );
                    assert_eq!(
                        find_json_stop_swar(&b, from),
                        want,
                        "{v:#x} at {pos} from {from}"
                    );
                }
            }
        }
        // High bytes next to low ones (borrow propagation across bytes).
        let mut b = Vec::new();
        for v in 0..=255u8 {
            b.extend_from_slice(&[0xff, v, 0x80, 0x21, v, 0x1f + (v & 1)]);
        }
        for from in 0..64 {
            let want = find_json_stop_plain(&b, from);
            assert_eq!(find_json_stop(&b, from), want);
            assert_eq!(find_json_stop_swar(&b, from), want);
        }
        // Longer windows: hits in the second and third 16-byte block, and in the tail.
        for pos in 0..50 {
            let mut b = vec![b'z'; 50];
            b[pos] = b'"';
            assert_eq!(find_json_stop(&b, 0), pos);
            assert_eq!(find_json_stop_swar(&b, 0), pos);
        }
    }

    #[test]
    fn ndjson_record_in_spec_order_with_nulls() {
        let (r, _) = parse(
            b"<158>1 2026-03-01T00:00:00.5+01:00 host heroku router - say \"hi\"\n",
            Some(70),
        )
        .unwrap();
        let mut out = Vec::new();
        OutputSpec::new(Format::Ndjson).write(&r, 0, &mut out);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "{\"message_len\":70,\"priority\":158,\"version\":\"1\",\
             \"timestamp\":\"2026-02-28T23:00:00.5Z\",\"host_name\":\"host\",\
             \"app_name\":\"heroku\",\"process_id\":\"router\",\"message_id\":null,\
             \"message\":\"say \\\"hi\\\"\"}\n"
        );
    }

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

    #[test]
    fn field_list_parsing() {
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

    #[test]
    fn panther_indicator_by_host_kind() {
        assert_eq!(indicator_column("10.1.2.3"), "p_any_ip_addresses");
        assert_eq!(indicator_column("::1"), "p_any_ip_addresses");
        assert_eq!(indicator_column("host"), "p_any_domain_names");
        assert_eq!(indicator_column("d.1234"), "p_any_domain_names");
    }
}
