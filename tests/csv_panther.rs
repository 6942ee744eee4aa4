//! CSV output, `--fields`, `--panther` and `--csv-safe`, run through the real binary.
//!
//! Expectations are never taken from drainpipe's own CSV: the CSV is checked against the NDJSON
//! of the same input (parsed with serde_json), against the `csv` crate, and against a small
//! reference RFC 4180 encoder written here; Panther times are recomputed with chrono.

mod common;
use common::*;
use serde_json::Value;
use std::collections::HashSet;
use std::path::Path;

/// The column order of README's record table.
const COLUMNS: [&str; 9] = [
    "message_len",
    "priority",
    "version",
    "timestamp",
    "host_name",
    "app_name",
    "process_id",
    "message_id",
    "message",
];

/// Panther's standard columns as the CSV header appends them.
const P_COLUMNS: [&str; 6] = [
    "p_log_type",
    "p_event_time",
    "p_parse_time",
    "p_row_id",
    "p_any_ip_addresses",
    "p_any_domain_names",
];

// ---------------------------------------------------------------------------------------------
// Independent helpers

/// Runs drainpipe on files, asserting the exit code.
fn run_files(args: &[&str], files: &[&Path], want_code: i32) -> std::process::Output {
    let o = bin()
        .args(args)
        .args(files)
        .output()
        .expect("run drainpipe");
    assert_eq!(code(&o), want_code, "{args:?}: {}", stderr(&o));
    o
}

/// NDJSON output, one parsed object per line.
fn ndjson(o: &std::process::Output) -> Vec<serde_json::Map<String, Value>> {
    stdout(o)
        .lines()
        .map(|l| match serde_json::from_str(l) {
            Ok(Value::Object(m)) => m,
            other => panic!("not a JSON object ({other:?}): {l}"),
        })
        .collect()
}

/// One JSON value from the start of `s`, and the bytes it took.
fn json_value_at(s: &str) -> (Value, usize) {
    let mut it = serde_json::Deserializer::from_str(s).into_iter::<Value>();
    let v = it.next().expect("a value").expect("valid JSON");
    (v, it.byte_offset())
}

/// A compact JSON object line as its `(key, value)` pairs in written order (serde_json's map
/// would sort them).
fn ordered_object(line: &str) -> Vec<(String, Value)> {
    serde_json::from_str::<Value>(line).expect("line is valid JSON");
    let mut rest = line
        .strip_prefix('{')
        .unwrap_or_else(|| panic!("not an object: {line}"));
    let mut out = Vec::new();
    if rest == "}" {
        return out;
    }
    loop {
        let (k, n) = json_value_at(rest);
        let Value::String(k) = k else {
            panic!("key is not a string in {line}")
        };
        rest = rest[n..]
            .strip_prefix(':')
            .unwrap_or_else(|| panic!("no ':' after {k:?} in {line}"));
        let (v, n) = json_value_at(rest);
        rest = &rest[n..];
        out.push((k, v));
        match rest.strip_prefix(',') {
            Some(r) => rest = r,
            None => {
                assert_eq!(rest, "}", "object does not end cleanly: {line}");
                return out;
            }
        }
    }
}

/// What a JSON value becomes in a CSV cell: null is empty, numbers their decimal text.
fn cell_of(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => s.clone(),
        other => panic!("unexpected JSON value in a record: {other}"),
    }
}

/// RFC 4180 as README "Records" says: quotes iff the cell holds `,` `"` CR or LF, or starts or ends
/// with a space; `"` doubled inside quotes.
fn needs_quotes(s: &str) -> bool {
    s.contains([',', '"', '\r', '\n']) || s.starts_with(' ') || s.ends_with(' ')
}

fn ref_cell(s: &str) -> String {
    if needs_quotes(s) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// OWASP CSV-injection rule as `--csv-safe` documents it: a leading `'` before `= + - @`, tab
/// or CR.
fn ref_safe(s: &str) -> String {
    if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s.to_string()
    }
}

/// The whole CSV text a correct writer produces: header, then one CRLF-terminated row each.
fn ref_csv(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut out = header.join(",") + "\r\n";
    for r in rows {
        let cells: Vec<String> = r.iter().map(|c| ref_cell(c)).collect();
        out += &cells.join(",");
        out += "\r\n";
    }
    out
}

/// CSV read back with the csv crate: header and rows.
fn read_csv(text: &str) -> (Vec<String>, Vec<Vec<String>>) {
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(text.as_bytes());
    let header = rdr
        .headers()
        .expect("CSV header")
        .iter()
        .map(str::to_string)
        .collect();
    let rows = rdr
        .records()
        .map(|r| {
            r.expect("valid CSV row")
                .iter()
                .map(str::to_string)
                .collect()
        })
        .collect();
    (header, rows)
}

/// The cells NDJSON records say a CSV with these columns must hold.
fn cells_from_ndjson(
    records: &[serde_json::Map<String, Value>],
    cols: &[&str],
) -> Vec<Vec<String>> {
    records
        .iter()
        .map(|r| {
            cols.iter()
                .map(|c| cell_of(r.get(*c).unwrap_or_else(|| panic!("{c} missing in {r:?}"))))
                .collect()
        })
        .collect()
}

/// `YYYY-MM-DD HH:MM:SS.fffffffff`, i.e. `^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{9}$`.
fn is_panther_time(s: &str) -> bool {
    let shape = b"dddd-dd-dd dd:dd:dd.ddddddddd";
    s.len() == shape.len()
        && s.bytes().zip(shape).all(|(c, &p)| match p {
            b'd' => c.is_ascii_digit(),
            _ => c == p,
        })
}

/// An RFC 3339 timestamp in UTC in Panther's form, computed by chrono.
fn chrono_panther(rfc3339: &str) -> String {
    chrono::DateTime::parse_from_rfc3339(rfc3339)
        .unwrap_or_else(|e| panic!("chrono cannot parse {rfc3339}: {e}"))
        .with_timezone(&chrono::Utc)
        .format("%Y-%m-%d %H:%M:%S%.9f")
        .to_string()
}

/// `p_parse_time` is "now": within a minute of the test's clock.
fn assert_recent(parse_time: &str) {
    assert!(is_panther_time(parse_time), "p_parse_time {parse_time:?}");
    let t = chrono::NaiveDateTime::parse_from_str(parse_time, "%Y-%m-%d %H:%M:%S%.9f")
        .unwrap()
        .and_utc();
    let age = (chrono::Utc::now() - t).num_seconds().abs();
    assert!(age <= 60, "p_parse_time {parse_time} is {age}s from now");
}

/// The message a frame carrying `text` (plus Heroku's `\n`) must give, by README "Records".
fn expected_message(text: &str) -> Option<String> {
    let body = format!("{text}\n");
    let body = body
        .strip_suffix("\r\n")
        .or_else(|| body.strip_suffix('\n'))
        .unwrap();
    let body = body.strip_prefix('\u{FEFF}').unwrap_or(body);
    (body != "-").then(|| body.to_string())
}

fn heroku_frame(host: &str, app: &str, procid: &str, msgid: &str, ts: &str, text: &str) -> String {
    frame(&format!(
        "<190>1 {ts} {host} {app} {procid} {msgid} {text}\n"
    ))
}

/// Messages a CSV writer can get wrong, and a deterministic mix of their pieces.
fn awkward_messages() -> Vec<String> {
    let mut m: Vec<String> = [
        "plain",
        "say \"hi\"",
        "\"",
        "\"\"",
        "\"starts and ends with quotes\"",
        "a,b,c",
        ",",
        "cr\rinside",
        "lf\ninside",
        "crlf\r\ninside",
        "ends with a newline\n",
        "two\n\nblank lines\r\n\r\nx",
        " leading space",
        "trailing space ",
        "  both  ",
        " ",
        "Benutzer \u{201e}J\u{fc}rgen\u{201c} \u{2713} \u{65e5}\u{672c}\u{8a9e} \u{1f680} caf\u{e9}",
        "line\u{2028}separator\u{2029}paragraph",
        "tab\there",
        "\tleading tab",
        "trailing tab\t",
        "-",
        "",
        "--",
        "- dash then space",
        "=1+2",
        "=HYPERLINK(\"http://evil.example\",\"click\")",
        "+cmd|' /C calc'!A0",
        "@SUM(A1:A2)",
        "-2+3",
        "'already quoted",
        "\u{FEFF}with a byte order mark",
        "bell\u{7} and escape\u{1b}[31m",
        "back\\slash",
        "semi;colon|pipe",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    m.push(format!("long {}", "x\"y,z\n".repeat(2000)));
    let pieces = [
        "a",
        "\"",
        ",",
        "\r",
        "\n",
        "\r\n",
        " ",
        "\t",
        "\u{e9}",
        "\u{1f600}",
        "\u{2028}",
        "=",
        "+",
        "-",
        "@",
        "'",
        "\\",
        "x y",
    ];
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    for _ in 0..300 {
        let mut s = String::new();
        let n = rng.next() % 12;
        for _ in 0..n {
            s.push_str(pieces[(rng.next() % pieces.len() as u64) as usize]);
        }
        m.push(s);
    }
    m
}

fn awkward_capture(messages: &[String]) -> String {
    messages
        .iter()
        .enumerate()
        .map(|(i, t)| {
            heroku_frame(
                "host",
                "app",
                &format!("web.{}", i % 7 + 1),
                "-",
                "2026-03-01T12:00:00.123456+00:00",
                t,
            )
        })
        .collect()
}

/// CSV of `input` checked three ways against the NDJSON of the same input: cell by cell through
/// the csv crate, and byte for byte against the reference encoder. Returns the NDJSON records.
fn check_csv_round_trip(
    args: &[&str],
    files: &[&Path],
    stdin: Option<&[u8]>,
    want_code: i32,
) -> Vec<serde_json::Map<String, Value>> {
    let go = |extra: &[&str]| {
        let mut a = vec!["convert"];
        a.extend_from_slice(args);
        a.extend_from_slice(extra);
        let o = match stdin {
            Some(input) => run(&a, input),
            None => {
                let o = bin().args(&a).args(files).output().unwrap();
                assert!(o.status.code().is_some());
                o
            }
        };
        assert_eq!(code(&o), want_code, "{a:?}: {}", stderr(&o));
        o
    };
    let records = ndjson(&go(&[]));
    let csv_out = go(&["--to", "csv"]);
    let text = stdout(&csv_out);
    let want = cells_from_ndjson(&records, &COLUMNS);

    let (header, rows) = read_csv(&text);
    assert_eq!(header, COLUMNS);
    assert_eq!(rows.len(), records.len(), "one CSV row per NDJSON record");
    for (i, (row, want_row)) in rows.iter().zip(&want).enumerate() {
        for (c, (got, w)) in row.iter().zip(want_row).enumerate() {
            assert_eq!(got, w, "record {i}, column {}", COLUMNS[c]);
        }
        assert_eq!(row.len(), COLUMNS.len(), "record {i}");
    }

    // RFC 4180 details: exactly the reference encoding (quotes iff needed, `""`, CRLF).
    let reference = ref_csv(&COLUMNS, &want);
    if text != reference {
        let at = text
            .bytes()
            .zip(reference.bytes())
            .position(|(a, b)| a != b)
            .unwrap_or(text.len().min(reference.len()));
        panic!(
            "CSV differs from the reference encoding at byte {at}:\n got  {:?}\n want {:?}",
            &text[at.saturating_sub(40)..(at + 40).min(text.len())],
            &reference[at.saturating_sub(40)..(at + 40).min(reference.len())]
        );
    }
    records
}

// ---------------------------------------------------------------------------------------------
// 1. and 2. CSV round trip

#[test]
fn csv_of_the_sample_reads_back_as_its_ndjson() {
    let sample = testdata("sample.drain");
    // The sample has bad frames: exit 1 in both formats.
    let records = check_csv_round_trip(&[], &[&sample], None, 1);
    assert_eq!(records.len(), 13);
    // The sample has what the round trip must cover: nulls, a multi-line message, quotes,
    // commas, multi-byte UTF-8.
    let msgs: Vec<&Value> = records.iter().map(|r| &r["message"]).collect();
    assert!(msgs.iter().any(|m| m.is_null()));
    assert!(msgs
        .iter()
        .any(|m| m.as_str().is_some_and(|s| s.contains('\n'))));
    assert!(msgs.iter().any(|m| m
        .as_str()
        .is_some_and(|s| s.contains(',') && s.contains('"'))));
    assert!(msgs
        .iter()
        .any(|m| m.as_str().is_some_and(|s| s.contains('\u{1f680}'))));
}

#[test]
fn csv_round_trip_of_awkward_messages_is_exact_rfc4180() {
    let messages = awkward_messages();
    let capture = awkward_capture(&messages);
    let records = check_csv_round_trip(&[], &[], Some(capture.as_bytes()), 0);
    // The NDJSON itself carries exactly the messages put in (so the CSV check above compares
    // against the right values, not against a shared mistake).
    assert_eq!(records.len(), messages.len());
    for (r, text) in records.iter().zip(&messages) {
        let want = expected_message(text).map_or(Value::Null, Value::String);
        assert_eq!(r["message"], want, "message of frame {text:?}");
    }
    // Same at other thread counts and tiny blocks (rows cut across batches).
    for threads in ["1", "2"] {
        check_csv_round_trip(
            &["--threads", threads, "--block-size", "300"],
            &[],
            Some(capture.as_bytes()),
            0,
        );
    }
}

#[test]
fn csv_quotes_header_fields_too() {
    // Header fields are printable ASCII, which includes `"` and `,`.
    let capture = heroku_frame(
        "h,ost",
        "we\"ird",
        "p,\"q\"",
        "ID\"1",
        "2026-03-01T12:00:00Z",
        "m",
    ) + &heroku_frame("-", "-", "-", "-", "-", "-");
    let records = check_csv_round_trip(&[], &[], Some(capture.as_bytes()), 0);
    assert_eq!(records[0]["app_name"], "we\"ird");
    assert_eq!(records[1]["host_name"], Value::Null);
}

#[test]
fn csv_records_end_in_crlf_like_the_writer_says() {
    // writer.rs ends the header and every record with CRLF (RFC 4180); a message's own LF stays
    // inside its quotes.
    let capture = heroku_frame("host", "app", "web.1", "-", "-", "one\ntwo")
        + &heroku_frame("host", "app", "web.1", "-", "-", "three");
    let o = run(&["convert", "--to", "csv"], capture.as_bytes());
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let text = stdout(&o);
    assert!(text.ends_with("\r\n"));
    assert_eq!(text.matches("\r\n").count(), 3, "{text:?}");
    assert_eq!(text.matches('\n').count(), 4, "{text:?}");
    assert!(text.contains(",\"one\ntwo\"\r\n"), "{text:?}");
}

// ---------------------------------------------------------------------------------------------
// 3. --fields

#[test]
fn fields_pick_and_order_columns_in_both_formats() {
    let sample = testdata("sample.drain");
    let cols = ["app_name", "message", "priority"];
    let list = cols.join(",");
    let full = ndjson(&run_files(&["convert"], &[&sample], 1));

    let o = run_files(&["convert", "--fields", &list], &[&sample], 1);
    let lines: Vec<String> = stdout(&o).lines().map(str::to_string).collect();
    assert_eq!(lines.len(), full.len());
    for (line, rec) in lines.iter().zip(&full) {
        let obj = ordered_object(line);
        let keys: Vec<&str> = obj.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys, cols, "{line}");
        for (k, v) in &obj {
            assert_eq!(v, &rec[k], "{k} in {line}");
        }
    }

    let o = run_files(
        &["convert", "--to", "csv", "--fields", &list],
        &[&sample],
        1,
    );
    let text = stdout(&o);
    assert!(
        text.starts_with("app_name,message,priority\r\n"),
        "{text:?}"
    );
    let (header, rows) = read_csv(&text);
    assert_eq!(header, cols);
    assert_eq!(rows, cells_from_ndjson(&full, &cols));
    assert_eq!(text, ref_csv(&cols, &cells_from_ndjson(&full, &cols)));
}

#[test]
fn unknown_field_is_a_usage_error_listing_the_valid_names() {
    for to in ["ndjson", "csv"] {
        let o = run(
            &["convert", "--to", to, "--fields", "app_name,nope,message"],
            good("x").as_bytes(),
        );
        assert_eq!(code(&o), 2, "{}", stderr(&o));
        assert!(o.stdout.is_empty(), "no records on a usage error");
        let err = stderr(&o);
        assert!(err.contains("nope"), "{err}");
        for c in COLUMNS {
            assert!(err.contains(c), "valid field {c} not listed: {err}");
        }
    }
    // A field listed twice would give duplicate JSON keys: a usage error too.
    let o = run(
        &["--fields", "message,app_name,message"],
        good("x").as_bytes(),
    );
    assert_eq!(code(&o), 2);
    assert!(
        stderr(&o).contains("\"message\" is listed twice"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn single_column_csv_keeps_rows_whose_cell_is_empty() {
    // With one column, a null or empty cell must not become an empty line: CSV readers skip
    // empty lines, so the record would vanish (RFC 4180 writers emit `""` there).
    let capture = good("first")
        + &heroku_frame("host", "app", "web.1", "-", "-", "-")
        + &heroku_frame("host", "app", "web.1", "-", "-", "")
        + &good("last");
    let o = run(
        &["convert", "--to", "csv", "--fields", "message"],
        capture.as_bytes(),
    );
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let (header, rows) = read_csv(&stdout(&o));
    assert_eq!(header, ["message"]);
    let cells: Vec<&str> = rows.iter().map(|r| r[0].as_str()).collect();
    assert_eq!(cells, ["first", "", "", "last"], "{:?}", stdout(&o));
}

// ---------------------------------------------------------------------------------------------
// 4. --panther

/// Hosts and whether Panther's `hostname` indicator treats them as IP addresses.
const HOSTS: [(&str, bool); 9] = [
    ("host", false),
    ("10.1.2.3", true),
    ("192.168.100.254", true),
    ("2001:db8::1", true),
    ("::1", true),
    ("::ffff:10.0.0.1", true),
    ("d.7f3e2a10-1c4b-4d8e-9f60-5a2b3c4d5e6f", false),
    ("999.1.2.3", false),
    ("web.example.com", false),
];

/// Timestamps with offsets and every fraction length (the UTC conversion must carry days,
/// months and years).
const TIMESTAMPS: [&str; 10] = [
    "2026-03-01T12:00:00Z",
    "2026-03-01T12:00:00.5+00:00",
    "2026-03-01T00:30:00.12-01:00",
    "2025-12-31T23:30:00.123+05:30",
    "2026-01-01T01:00:00.1234-02:00",
    "2024-02-29T23:00:00.12345-02:00",
    "2026-03-01T00:00:00.123456+14:00",
    "2026-03-01T23:59:59.1234567-12:00",
    "2026-03-01T12:00:00.12345678+00:00",
    "2026-03-01T12:00:00.123456789-08:00",
];

/// A capture with every host kind and timestamp above, and frames with null fields.
fn panther_capture() -> (String, Vec<(String, String)>) {
    let mut out = String::new();
    let mut hosts_and_times = Vec::new();
    for (i, (host, _)) in HOSTS.iter().enumerate() {
        for (j, ts) in TIMESTAMPS.iter().enumerate() {
            let text = if (i + j) % 5 == 0 {
                "-"
            } else {
                "hello, \"world\""
            };
            let msgid = if j % 2 == 0 { "-" } else { "ID7" };
            out += &heroku_frame(host, "app", "web.1", msgid, ts, text);
            hosts_and_times.push((host.to_string(), ts.to_string()));
        }
    }
    // Everything nullable is null.
    out += &frame("<13>1 - - - - - -\n");
    out += &frame("<13>1 - - - - -\n");
    hosts_and_times.push(("-".into(), "-".into()));
    hosts_and_times.push(("-".into(), "-".into()));
    (out, hosts_and_times)
}

/// Checks one `--panther` NDJSON line against the plain record of the same frame.
fn check_panther_object(
    line: &str,
    plain: &serde_json::Map<String, Value>,
    ids: &mut HashSet<String>,
) {
    let obj = ordered_object(line);
    let keys: Vec<&str> = obj.iter().map(|(k, _)| k.as_str()).collect();
    let get = |k: &str| obj.iter().find(|(key, _)| key == k).map(|(_, v)| v);
    // Record fields: the non-null ones, in README order, with their plain values; nulls absent.
    let want_fields: Vec<&str> = COLUMNS
        .iter()
        .copied()
        .filter(|c| !plain[*c].is_null())
        .collect();
    assert_eq!(&keys[..want_fields.len()], want_fields, "{line}");
    for (k, v) in &obj {
        assert!(!v.is_null(), "null field {k} in panther output: {line}");
        if let Some(p) = plain.get(k) {
            assert_eq!(v, p, "{k}: {line}");
        }
    }
    let mut want_p = vec!["p_log_type"];
    if !plain["timestamp"].is_null() {
        want_p.push("p_event_time");
    }
    want_p.extend(["p_parse_time", "p_row_id"]);
    let host = plain["host_name"].as_str();
    if let Some(h) = host {
        let is_ip = HOSTS
            .iter()
            .find(|(n, _)| *n == h)
            .is_some_and(|(_, ip)| *ip);
        want_p.push(if is_ip {
            "p_any_ip_addresses"
        } else {
            "p_any_domain_names"
        });
    }
    let mut sorted_p: Vec<&str> = keys[want_fields.len()..].to_vec();
    sorted_p.sort_unstable();
    want_p.sort_unstable();
    assert_eq!(sorted_p, want_p, "{line}");

    assert_eq!(get("p_log_type"), Some(&Value::from("Heroku.Runtime")));
    if let Some(ts) = plain["timestamp"].as_str() {
        let et = get("p_event_time").unwrap().as_str().unwrap();
        assert!(is_panther_time(et), "p_event_time {et:?}");
        assert_eq!(et, chrono_panther(ts), "p_event_time of {ts}");
    }
    assert_recent(get("p_parse_time").unwrap().as_str().unwrap());
    let id = get("p_row_id")
        .unwrap()
        .as_str()
        .expect("p_row_id is a string");
    assert!(!id.is_empty());
    assert!(ids.insert(id.to_string()), "p_row_id {id} repeated");
    if let Some(h) = host {
        let ind = get("p_any_ip_addresses")
            .or(get("p_any_domain_names"))
            .unwrap();
        assert_eq!(ind, &Value::Array(vec![Value::from(h)]), "{line}");
    }
}

#[test]
fn panther_ndjson_adds_standard_fields_and_omits_nulls() {
    let dir = tempfile::tempdir().unwrap();
    let crafted = dir.path().join("crafted.drain");
    let (capture, hosts_and_times) = panther_capture();
    std::fs::write(&crafted, &capture).unwrap();
    let sample = testdata("sample.drain");
    let files: [&Path; 2] = [&sample, &crafted];

    let plain = ndjson(&run_files(&["convert"], &files, 1));
    let o = run_files(&["convert", "--panther"], &files, 1);
    let text = stdout(&o);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), plain.len());
    let mut ids = HashSet::new();
    for (line, p) in lines.iter().zip(&plain) {
        check_panther_object(line, p, &mut ids);
    }

    // The crafted frames: p_event_time from the *input* timestamp (offset included), the
    // indicator from the host as written.
    let crafted_lines = &lines[lines.len() - hosts_and_times.len()..];
    for (line, (host, ts)) in crafted_lines.iter().zip(&hosts_and_times) {
        let v: Value = serde_json::from_str(line).unwrap();
        if ts == "-" {
            assert!(v.get("p_event_time").is_none(), "{line}");
            assert!(v.get("timestamp").is_none(), "{line}");
        } else {
            assert_eq!(v["p_event_time"], chrono_panther(ts), "{ts}");
        }
        match HOSTS.iter().find(|(h, _)| h == host) {
            Some((h, true)) => {
                assert_eq!(v["p_any_ip_addresses"], serde_json::json!([h]), "{line}");
                assert!(v.get("p_any_domain_names").is_none(), "{line}");
            }
            Some((h, false)) => {
                assert_eq!(v["p_any_domain_names"], serde_json::json!([h]), "{line}");
                assert!(v.get("p_any_ip_addresses").is_none(), "{line}");
            }
            None => {
                assert!(v.get("host_name").is_none(), "{line}");
                assert!(v.get("p_any_ip_addresses").is_none(), "{line}");
                assert!(v.get("p_any_domain_names").is_none(), "{line}");
            }
        }
    }
    // The all-null frames keep only what is set.
    let last: Value = serde_json::from_str(lines[lines.len() - 1]).unwrap();
    let mut keys: Vec<&str> = last
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "message_len",
            "p_log_type",
            "p_parse_time",
            "p_row_id",
            "priority",
            "version"
        ]
    );
}

fn panther_row_ids(args: &[&str], files: &[&Path], records: usize) -> Vec<String> {
    let mut a = vec!["convert", "--panther", "--block-size", "4096"];
    a.extend_from_slice(args);
    let o = run_files(&a, files, 0);
    let text = stdout(&o);
    let ids: Vec<String> = if a.contains(&"csv") {
        let (header, rows) = read_csv(&text);
        let col = header.iter().position(|h| h == "p_row_id").unwrap();
        rows.into_iter().map(|r| r[col].clone()).collect()
    } else {
        text.lines()
            .map(|l| {
                let v: Value = serde_json::from_str(l).unwrap();
                v["p_row_id"].as_str().unwrap().to_string()
            })
            .collect()
    };
    assert_eq!(ids.len(), records, "{a:?}");
    let unique: HashSet<&String> = ids.iter().collect();
    assert_eq!(unique.len(), ids.len(), "p_row_id repeats with {a:?}");
    assert!(ids.iter().all(|id| !id.is_empty()));
    ids
}

#[test]
fn panther_row_ids_are_unique_across_files_and_threads() {
    let dir = tempfile::tempdir().unwrap();
    // Two inputs with the very same records, cut into many small batches.
    let (capture, n) = synth(1500, 7, false);
    let a = dir.path().join("a.drain");
    let b = dir.path().join("b.drain");
    std::fs::write(&a, &capture).unwrap();
    std::fs::write(&b, &capture).unwrap();
    let files: [&Path; 2] = [&a, &b];
    let t1 = panther_row_ids(&["--threads", "1"], &files, 2 * n);
    let t2 = panther_row_ids(&["--threads", "2"], &files, 2 * n);
    panther_row_ids(&["--threads", "2", "--to", "csv"], &files, 2 * n);
    panther_row_ids(&["--threads", "1", "--to", "csv"], &[&a], n);
    // Separate runs do not reuse each other's ids either.
    let t1: HashSet<String> = t1.into_iter().collect();
    assert!(t2.iter().all(|id| !t1.contains(id)), "runs share p_row_ids");
}

#[test]
fn panther_csv_has_p_columns_consistent_with_the_records() {
    let dir = tempfile::tempdir().unwrap();
    let crafted = dir.path().join("crafted.drain");
    let (capture, _) = panther_capture();
    std::fs::write(&crafted, &capture).unwrap();
    let sample = testdata("sample.drain");
    let files: [&Path; 2] = [&sample, &crafted];

    let plain = ndjson(&run_files(&["convert"], &files, 1));
    let o = run_files(&["convert", "--panther", "--to", "csv"], &files, 1);
    let text = stdout(&o);
    let (header, rows) = read_csv(&text);
    let want_header: Vec<&str> = COLUMNS.iter().chain(&P_COLUMNS).copied().collect();
    assert_eq!(header, want_header);
    assert_eq!(rows.len(), plain.len());

    let mut ids = HashSet::new();
    let mut full_rows = Vec::new();
    for (row, p) in rows.iter().zip(&plain) {
        assert_eq!(row.len(), want_header.len());
        let col = |name: &str| row[want_header.iter().position(|h| *h == name).unwrap()].as_str();
        for c in COLUMNS {
            assert_eq!(col(c), cell_of(&p[c]), "{c}");
        }
        assert_eq!(col("p_log_type"), "Heroku.Runtime");
        match p["timestamp"].as_str() {
            Some(ts) => assert_eq!(col("p_event_time"), chrono_panther(ts)),
            None => assert_eq!(col("p_event_time"), ""),
        }
        assert_recent(col("p_parse_time"));
        assert!(!col("p_row_id").is_empty());
        assert!(ids.insert(col("p_row_id").to_string()), "p_row_id repeated");
        let host = p["host_name"].as_str().unwrap_or("");
        let is_ip = HOSTS.iter().any(|(h, ip)| *h == host && *ip);
        let (want_ip, want_domain) = if is_ip { (host, "") } else { ("", host) };
        assert_eq!(col("p_any_ip_addresses"), want_ip, "{host}");
        assert_eq!(col("p_any_domain_names"), want_domain, "{host}");
        full_rows.push(row.clone());
    }
    // And the text is the reference RFC 4180 encoding of those cells.
    assert_eq!(text, ref_csv(&want_header, &full_rows));
}

// ---------------------------------------------------------------------------------------------
// 5. --csv-safe

#[test]
fn csv_safe_neutralises_formula_cells_only() {
    let mut capture = awkward_capture(&awkward_messages());
    // Header fields can start with a formula character too.
    capture += &heroku_frame(
        "@evil",
        "=cmd",
        "+web.1",
        "-ID",
        "2026-03-01T12:00:00Z",
        "ok",
    );
    capture += &heroku_frame("host", "a=b", "web-1", "ID-", "2026-03-01T12:00:00Z", " =x");
    let plain = ndjson(&run(&["convert"], capture.as_bytes()));
    let want = cells_from_ndjson(&plain, &COLUMNS);
    let dangerous = |s: &str| s.starts_with(['=', '+', '-', '@', '\t', '\r']);
    assert!(want.iter().flatten().filter(|c| dangerous(c)).count() > 20);

    // Without the flag: untouched.
    let o = run(&["convert", "--to", "csv"], capture.as_bytes());
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let (_, rows) = read_csv(&stdout(&o));
    assert_eq!(rows, want);

    // With it: a leading `'` exactly on cells starting with = + - @ tab CR.
    let o = run(
        &["convert", "--to", "csv", "--csv-safe"],
        capture.as_bytes(),
    );
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let text = stdout(&o);
    let safe: Vec<Vec<String>> = want
        .iter()
        .map(|r| r.iter().map(|c| ref_safe(c)).collect())
        .collect();
    let (header, rows) = read_csv(&text);
    assert_eq!(header, COLUMNS);
    for (got, (w, orig)) in rows.iter().zip(safe.iter().zip(&want)) {
        assert_eq!(got, w, "original {orig:?}");
    }
    assert_eq!(text, ref_csv(&COLUMNS, &safe));
    let last = &rows[rows.len() - 2..];
    assert_eq!(last[0][4..8], ["'@evil", "'=cmd", "'+web.1", "'-ID"]);
    assert_eq!(last[1][4..9], ["host", "a=b", "web-1", "ID-", " =x"]);

    // Panther's host column too; and NDJSON is not CSV, so not affected.
    let o = run(
        &[
            "convert",
            "--to",
            "csv",
            "--csv-safe",
            "--panther",
            "--fields",
            "host_name",
        ],
        capture.as_bytes(),
    );
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let (header, rows) = read_csv(&stdout(&o));
    let dom = header
        .iter()
        .position(|h| h == "p_any_domain_names")
        .unwrap();
    assert_eq!(rows[rows.len() - 2][0], "'@evil");
    assert_eq!(rows[rows.len() - 2][dom], "'@evil");
    let o = run(&["convert", "--csv-safe"], capture.as_bytes());
    assert_eq!(ndjson(&o), plain);
}
