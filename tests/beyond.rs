//! Beyond the schema (issue 14): `--expand`, `--rejoin`, `drainpipe schema --panther`.
//!
//! The captures under testdata/beyond/ and their expected records and warning positions are
//! written by testdata/make_beyond.py from the rule book (docs/beyond-the-schema.md) and its
//! own re-implementation of PostgreSQL's `write_syslog`, never from drainpipe's code. Records
//! are compared as parsed JSON, member order included (metric values are doubles, whose
//! printed form differs between Python and Rust but not their value).

mod common;

use common::*;
use serde_json::{Map, Value};
use std::io::Write;
use std::time::{Duration, Instant};

fn beyond(name: &str) -> String {
    testdata(&format!("beyond/{name}"))
        .to_str()
        .unwrap()
        .to_string()
}

/// JSON lines as values whose objects keep their member order (serde_json's
/// `preserve_order` is not enabled, so order is compared separately by [`keys_in_order`]).
fn lines(text: &str) -> Vec<Value> {
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

/// The member names of every object in a JSON text, depth first, in the order written.
fn keys_in_order(line: &str) -> Vec<String> {
    // A tiny scanner: a string followed by `:` is a key.
    let b = line.as_bytes();
    let mut keys = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'"' {
            let start = i + 1;
            i += 1;
            while b[i] != b'"' {
                i += if b[i] == b'\\' { 2 } else { 1 };
            }
            let s = &line[start..i];
            i += 1;
            if b.get(i) == Some(&b':') {
                keys.push(s.to_string());
            }
        } else {
            i += 1;
        }
    }
    keys
}

fn assert_same_records(got: &str, want_file: &str) {
    let want = std::fs::read_to_string(beyond(want_file)).unwrap();
    let (g, w) = (lines(got), lines(&want));
    assert_eq!(g.len(), w.len(), "record count against {want_file}");
    for (i, ((gv, wv), (gl, wl))) in g
        .iter()
        .zip(&w)
        .zip(got.lines().zip(want.lines()))
        .enumerate()
    {
        assert_eq!(gv, wv, "record {i} against {want_file}");
        assert_eq!(
            keys_in_order(gl),
            keys_in_order(wl),
            "member order of record {i}"
        );
    }
}

#[test]
fn expand_gives_the_independently_computed_objects() {
    let o = bin()
        .args(["--expand", &beyond("expand.drain")])
        .output()
        .unwrap();
    assert_same_records(&stdout(&o), "expand.expected.ndjson");
}

#[test]
fn rejoin_gives_the_independently_computed_records_and_warnings() {
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("report.json");
    let o = bin()
        .args(["--rejoin", &beyond("rejoin.drain"), "--report-json"])
        .arg(&report)
        .output()
        .unwrap();
    assert_eq!(code(&o), 0, "warnings only: {}", stderr(&o));
    assert_same_records(&stdout(&o), "rejoin.expected.ndjson");
    let r: Value = serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
    let got: Vec<String> = r["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            format!(
                "{}\t{}\t{}",
                e["line"],
                e["column"],
                e["code"].as_str().unwrap()
            )
        })
        .collect();
    let want: Vec<String> = std::fs::read_to_string(beyond("rejoin.warnings.tsv"))
        .unwrap()
        .lines()
        .map(String::from)
        .collect();
    assert_eq!(got, want);
    // Accounting: every frame is a record; the joined ones are counted.
    let s = &r["summary"];
    let written = stdout(&o).lines().count() as u64;
    assert_eq!(s["frames"], s["valid"]);
    assert_eq!(
        s["valid"].as_u64().unwrap() - s["joined"].as_u64().unwrap(),
        written
    );
    assert_eq!(
        s["warnings_by_code"]["rejoin"],
        want.iter().filter(|l| l.ends_with("rejoin")).count()
    );
}

#[test]
fn expand_and_rejoin_together() {
    let o = bin()
        .args(["--rejoin", "--expand", &beyond("rejoin.drain")])
        .output()
        .unwrap();
    assert_same_records(&stdout(&o), "both.expected.ndjson");
}

#[test]
fn rejoin_is_the_same_at_any_thread_count_block_size_and_from_a_pipe() {
    let path = beyond("rejoin.drain");
    let reference = bin()
        .args(["--rejoin", "--expand", &path, "--threads", "1"])
        .output()
        .unwrap();
    for args in [
        vec!["--threads", "2"],
        vec!["--threads", "5", "--block-size", "4096"],
        vec!["--threads", "3", "--block-size", "777"],
    ] {
        let o = bin()
            .args(["--rejoin", "--expand", &path])
            .args(&args)
            .output()
            .unwrap();
        assert!(o.stdout == reference.stdout, "records differ with {args:?}");
        assert_eq!(o.stderr, reference.stderr, "{args:?}");
    }
    let piped = run(&["--rejoin", "--expand"], &std::fs::read(&path).unwrap());
    assert!(
        piped.stdout == reference.stdout,
        "records differ when piped"
    );
}

#[test]
fn strict_counts_rejoin_as_an_error_but_writes_every_piece() {
    // Under --strict, utf8 frames are rejected; every other frame is still a record, and an
    // incomplete chain's pieces are still written (nothing is dropped), the warning counted as
    // an error.
    let path = beyond("rejoin.drain");
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("r.json");
    let o = bin()
        .args(["--rejoin", "--strict", &path, "--report-json"])
        .arg(&report)
        .output()
        .unwrap();
    assert_eq!(code(&o), 1);
    let r: Value = serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
    let s = &r["summary"];
    assert_eq!(s["invalid"], 3, "the three utf8 frames");
    assert!(s["errors_by_code"]["rejoin"].as_u64().unwrap() >= 1);
    assert_eq!(s["warnings"], 0);
    assert_eq!(
        s["valid"].as_u64().unwrap() + s["invalid"].as_u64().unwrap(),
        s["frames"].as_u64().unwrap()
    );
    assert_eq!(
        s["valid"].as_u64().unwrap() - s["joined"].as_u64().unwrap(),
        stdout(&o).lines().count() as u64
    );
}

/// `[TAG] [SEQ-N] text` as a frame from host h, app app, process postgres.1.
fn pg(text: &str) -> String {
    frame(&format!(
        "<134>1 2026-03-01T12:00:00Z h app postgres.1 - {text}\n"
    ))
}

#[test]
fn a_waiting_piece_is_held_only_for_the_idle_window_on_a_live_pipe() {
    let (mut child, mut stdin, mut out) = live(&["--rejoin", "--idle-ms", "50"]);
    // A first chunk: its chain could go on, so it waits, but only until the pipe is quiet.
    stdin.write_all(pg("[5-1] SELECT 1").as_bytes()).unwrap();
    stdin.flush().unwrap();
    let t = Instant::now();
    let line = out.next().unwrap().unwrap();
    let waited = t.elapsed();
    let rec: Value = serde_json::from_str(&line).unwrap();
    assert_eq!(
        rec["message"], "[5] SELECT 1",
        "a complete chain of one piece"
    );
    assert_eq!(rec["message_len"], Value::Null);
    assert!(waited < Duration::from_millis(2000), "held {waited:?}");
    // A Heroku piece of exactly 10,000 bytes, then quiet: written as it came.
    let piece = "x".repeat(10_000);
    stdin.write_all(pg(&piece).as_bytes()).unwrap();
    stdin.flush().unwrap();
    let line = out.next().unwrap().unwrap();
    let rec: Value = serde_json::from_str(&line).unwrap();
    assert_eq!(rec["message"].as_str().unwrap().len(), 10_000);
    drop(stdin);
    assert!(child.wait().unwrap().success());
    assert!(out.next().is_none());
}

#[test]
fn a_chain_that_would_hold_too_much_is_written_as_it_came() {
    // Heroku pieces of 10,000 bytes from one source, 2,000 of them (20 MB): holding the chain
    // would exceed the 16 MiB limit, so it is cut there with a warning, and memory stays flat.
    let piece = "y".repeat(10_000);
    let mut capture = Vec::new();
    for _ in 0..2_000 {
        capture.extend_from_slice(pg(&piece).as_bytes());
    }
    capture.extend_from_slice(pg("the end").as_bytes());
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("long.drain");
    std::fs::write(&path, &capture).unwrap();
    let report = dir.path().join("r.json");
    let mut cmd = bin();
    cmd.args(["--rejoin", "-o", "/dev/null", "--report-json"])
        .arg(&report)
        .arg(&path);
    let (o, rss_kib) = run_measured(cmd, Duration::from_secs(60));
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let r: Value = serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
    let first = &r["errors"][0];
    assert_eq!(first["code"], "rejoin");
    assert!(
        first["message"].as_str().unwrap().contains("16 MiB"),
        "{first}"
    );
    assert_eq!(r["summary"]["valid"], 2_001);
    assert!(rss_kib < 64 * 1024, "peak RSS {rss_kib} KiB");
}

#[test]
fn csv_columns_hold_the_same_objects_as_ndjson() {
    // The independent route: the NDJSON objects, already checked against the script's
    // expectations, spread over the 20 columns README describes.
    let path = beyond("expand.drain");
    let json = bin().args(["--expand", &path]).output().unwrap();
    let csv_out = bin()
        .args(["--expand", "--to", "csv", &path])
        .output()
        .unwrap();
    let mut rdr = csv::Reader::from_reader(&csv_out.stdout[..]);
    let header: Vec<String> = rdr.headers().unwrap().iter().map(String::from).collect();
    let router_cols = KNOWN_ROUTER;
    let mut want_header: Vec<String> = [
        "message_len",
        "priority",
        "version",
        "timestamp",
        "host_name",
        "app_name",
        "process_id",
        "message_id",
        "message",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    want_header.extend(router_cols.iter().map(|c| format!("router_{c}")));
    want_header.extend(["router_other", "metrics", "fields"].map(String::from));
    assert_eq!(header, want_header);
    let records = lines(&stdout(&json));
    let rows: Vec<csv::StringRecord> = rdr.records().map(|r| r.unwrap()).collect();
    assert_eq!(rows.len(), records.len());
    let cell_json = |s: &str| -> Value {
        if s.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(s).unwrap()
        }
    };
    for (rec, row) in records.iter().zip(&rows) {
        let col = |name: &str| &row[header.iter().position(|h| h == name).unwrap()];
        let router = rec.get("router").and_then(Value::as_object);
        let mut other = Map::new();
        if let Some(r) = router {
            for (k, v) in r {
                if !router_cols.contains(&k.as_str()) {
                    other.insert(k.clone(), v.clone());
                }
            }
        }
        for c in router_cols {
            let want = match router.and_then(|r| r.get(c)) {
                None | Some(Value::Null) => String::new(),
                Some(Value::String(s)) => s.clone(),
                Some(v) => v.to_string(),
            };
            assert_eq!(col(&format!("router_{c}")), want, "{rec}");
        }
        let want_other = if other.is_empty() {
            Value::Null
        } else {
            Value::Object(other)
        };
        assert_eq!(cell_json(col("router_other")), want_other, "{rec}");
        for obj in ["metrics", "fields"] {
            let want = rec.get(obj).cloned().unwrap_or(Value::Null);
            assert_eq!(cell_json(col(obj)), want, "{rec}");
        }
    }
}

/// `v` without null members, recursively (what --panther leaves out).
fn without_nulls(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k.clone(), without_nulls(v)))
                .collect(),
        ),
        v => v.clone(),
    }
}

#[test]
fn panther_keeps_the_objects_without_null_members() {
    let path = beyond("expand.drain");
    let plain = lines(&stdout(&bin().args(["--expand", &path]).output().unwrap()));
    let panther = lines(&stdout(
        &bin()
            .args(["--expand", "--panther", &path])
            .output()
            .unwrap(),
    ));
    assert_eq!(plain.len(), panther.len());
    for (a, b) in plain.iter().zip(&panther) {
        let b: Map<String, Value> = b
            .as_object()
            .unwrap()
            .iter()
            .filter(|(k, _)| !k.starts_with("p_"))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        assert_eq!(without_nulls(a), Value::Object(b));
    }
}

/// The schema as (field name → its YAML node).
fn schema(args: &[&str]) -> Vec<yaml_rust2::Yaml> {
    let o = bin().arg("schema").args(args).output().unwrap();
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let docs = yaml_rust2::YamlLoader::load_from_str(&stdout(&o)).expect("valid YAML");
    assert_eq!(docs.len(), 1);
    let doc = &docs[0];
    assert_eq!(doc["schema"].as_str(), Some("Custom.Heroku.Runtime"));
    assert_eq!(doc["version"].as_i64(), Some(0));
    doc["fields"].as_vec().expect("fields").clone()
}

/// The router keys README lists (the schema must declare each).
const KNOWN_ROUTER: [&str; 17] = [
    "at",
    "code",
    "desc",
    "method",
    "path",
    "host",
    "request_id",
    "fwd",
    "dyno",
    "connect_ms",
    "service_ms",
    "status",
    "bytes",
    "protocol",
    "tls",
    "tls_version",
    "sock",
];

/// Whether `v` is a value of Panther type `ty` as the schema node `node` declares it.
fn matches_type(v: &Value, node: &yaml_rust2::Yaml) -> Result<(), String> {
    let ty = node["type"].as_str().unwrap_or("?");
    let ok = match (ty, v) {
        (_, Value::Null) => true,
        ("string", Value::String(_)) => true,
        ("int" | "bigint", Value::Number(n)) => n.is_u64() || n.is_i64(),
        ("timestamp", Value::String(s)) => chrono::DateTime::parse_from_rfc3339(s).is_ok(),
        ("json", _) => true,
        ("object", Value::Object(m)) => {
            let fields = node["fields"].as_vec().cloned().unwrap_or_default();
            for (k, v) in m {
                match fields.iter().find(|f| f["name"].as_str() == Some(k)) {
                    Some(f) => matches_type(v, f).map_err(|e| format!("{k}: {e}"))?,
                    // A router key Heroku may add tomorrow cannot be declared (README
                    // "drainpipe schema"): only keys outside the known set may be missing.
                    None if node["name"].as_str() == Some("router")
                        && !KNOWN_ROUTER.contains(&k.as_str()) => {}
                    None => return Err(format!("member {k} is not in the schema")),
                }
            }
            true
        }
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        Err(format!("{v} is not a {ty}"))
    }
}

#[test]
fn the_panther_schema_covers_every_field_convert_writes() {
    for expand in [false, true] {
        let flags: Vec<&str> = if expand {
            vec!["--panther", "--expand"]
        } else {
            vec!["--panther"]
        };
        let fields = schema(&flags);
        let ts = fields
            .iter()
            .find(|f| f["name"].as_str() == Some("timestamp"))
            .unwrap();
        assert_eq!(ts["type"].as_str(), Some("timestamp"));
        assert_eq!(ts["timeFormat"].as_str(), Some("rfc3339"));
        assert_eq!(ts["isEventTime"].as_bool(), Some(true));
        let host = fields
            .iter()
            .find(|f| f["name"].as_str() == Some("host_name"))
            .unwrap();
        assert_eq!(host["indicators"][0].as_str(), Some("hostname"));
        if expand {
            let router = fields
                .iter()
                .find(|f| f["name"].as_str() == Some("router"))
                .unwrap();
            let declared: Vec<&str> = router["fields"]
                .as_vec()
                .unwrap()
                .iter()
                .map(|f| f["name"].as_str().unwrap())
                .collect();
            assert_eq!(declared, KNOWN_ROUTER);
        }
        let samples = [
            testdata("sample.drain"),
            testdata("inputs/app.syslog"),
            testdata("inputs/heroku-logs.txt"),
            testdata("inputs/drain-posts.http"),
            testdata("beyond/expand.drain"),
            testdata("beyond/rejoin.drain"),
        ];
        let mut seen = std::collections::BTreeSet::new();
        for sample in &samples {
            let o = bin()
                .args(["--rejoin"])
                .args(&flags)
                .arg(sample)
                .output()
                .unwrap();
            for rec in lines(&stdout(&o)) {
                for (k, v) in rec.as_object().unwrap() {
                    // Panther adds its own p_* fields to every log type; a schema does not
                    // declare them.
                    if k.starts_with("p_") {
                        continue;
                    }
                    let f = fields
                        .iter()
                        .find(|f| f["name"].as_str() == Some(k))
                        .unwrap_or_else(|| panic!("{k} is not in the schema"));
                    matches_type(v, f).unwrap_or_else(|e| panic!("{k}: {e} in {rec}"));
                    seen.insert(k.clone());
                }
            }
        }
        let declared: std::collections::BTreeSet<String> = fields
            .iter()
            .map(|f| f["name"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(
            seen, declared,
            "every declared field appears in the samples"
        );
    }
    // --fields narrows the schema as it narrows the records.
    let f = schema(&["--panther", "--fields", "timestamp,message"]);
    let names: Vec<&str> = f.iter().map(|f| f["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["timestamp", "message"]);
}

#[test]
fn outputs_named_dev_stdout_are_written_on_a_pipe() {
    // /dev/stdout on a pipe leads to `pipe:[N]`, which is no path: it is written directly.
    let o = run(
        &[
            "--rejoin",
            "-o",
            "/dev/null",
            "--report-json",
            "/dev/stdout",
        ],
        pg("[9-2] orphan").as_bytes(),
    );
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let r: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(r["errors"][0]["code"], "rejoin");
    let o = run(&["-o", "/dev/stdout"], pg("[9-2] orphan").as_bytes());
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(stdout(&o).lines().count(), 1);
}

// ---- PostgreSQL's own splitting, re-implemented here ------------------------------------------

/// PostgreSQL's `isspace` in the C locale.
fn pg_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

/// `pg_mbcliplen` for UTF-8: the longest prefix of `s[..len]` of at most `limit` bytes that
/// does not split a character.
fn mbcliplen(s: &[u8], len: usize, limit: usize) -> usize {
    if len <= limit {
        return len;
    }
    let mut n = limit;
    while n > 0 && (s[n] & 0xc0) == 0x80 {
        n -= 1;
    }
    n
}

/// How a chunk boundary came about.
#[derive(Clone, Copy, PartialEq, Debug)]
enum Boundary {
    /// PostgreSQL dropped a newline (or several).
    Newline,
    /// It cut a line at its 900-byte limit.
    Cut,
}

/// `write_syslog` (src/backend/utils/error/elog.c): the chunks' texts of a message that needs
/// splitting, and how each boundary after the first chunk came about.
fn write_syslog(line: &[u8]) -> (Vec<Vec<u8>>, Vec<Boundary>) {
    const LIMIT: usize = 900;
    let (mut chunks, mut bounds) = (Vec::new(), Vec::new());
    let mut rest = line;
    let mut after_newline = false;
    while !rest.is_empty() {
        if rest[0] == b'\n' {
            rest = &rest[1..];
            after_newline = true;
            continue;
        }
        let line_len = rest.iter().position(|&c| c == b'\n').unwrap_or(rest.len());
        let mut buflen = mbcliplen(rest, line_len, LIMIT);
        if buflen == 0 {
            break;
        }
        // Already at a word boundary? Otherwise try to divide at one.
        if buflen < rest.len() && !pg_space(rest[buflen]) {
            let mut i = buflen - 1;
            while i > 0 && !pg_space(rest[i]) {
                i -= 1;
            }
            if i > 0 {
                buflen = i;
            }
        }
        if !chunks.is_empty() {
            bounds.push(if after_newline {
                Boundary::Newline
            } else {
                Boundary::Cut
            });
        }
        chunks.push(rest[..buflen].to_vec());
        rest = &rest[buflen..];
        after_newline = false;
    }
    (chunks, bounds)
}

/// A random statement: lines of words (ASCII, accented, CJK, emoji), some long, some
/// indented with spaces or a tab, some empty.
fn statement(rng: &mut Rng) -> Vec<u8> {
    const WORDS: [&str; 10] = [
        "SELECT",
        "orders.id",
        "FROM",
        "customers",
        "WHERE",
        "é",
        "日本語",
        "😀x",
        "a",
        "'0123456789abcdef'",
    ];
    let mut s = String::new();
    let lines = 1 + rng.next() % 6;
    for l in 0..lines {
        if l > 0 {
            s.push('\n');
        }
        match rng.next() % 8 {
            0 => continue, // an empty line
            1 => s.push('\t'),
            2 => s.push_str(&" ".repeat(1 + (rng.next() % 6) as usize)),
            _ => {}
        }
        // Lengths around the limit are the interesting ones.
        let target = match rng.next() % 4 {
            0 => 880 + (rng.next() % 40) as usize,
            1 => (rng.next() % 200) as usize,
            _ => (rng.next() % 3000) as usize,
        };
        while s.len() - s.rfind('\n').map_or(0, |i| i + 1) < target {
            let w = WORDS[(rng.next() % WORDS.len() as u64) as usize];
            // Long words too (a literal with no space in it).
            if rng.next().is_multiple_of(50) {
                s.push_str(&w.repeat(100));
            } else {
                s.push_str(w);
            }
            s.push(if rng.next().is_multiple_of(20) {
                '\t'
            } else {
                ' '
            });
        }
    }
    s.into_bytes()
}

#[test]
fn rejoin_gives_back_what_postgresql_split() {
    // Statements split by the re-implementation above, sent as drain frames interleaved with
    // another process's records. Each boundary PostgreSQL cut at its limit must be joined
    // directly; each newline it dropped must come back as `\n`, except in the two cases README
    // says the pieces cannot tell apart from a cut: a piece of 897-900 bytes before it, or
    // the next line indented by one whitespace byte whose first word would not have fitted.
    let mut rng = Rng(0x005e_ed0f_9057_u64);
    let mut capture = String::new();
    let mut expected = Vec::new();
    let mut ambiguous = 0;
    let mut seq = 100;
    while expected.len() < 300 {
        let text = statement(&mut rng);
        let (chunks, bounds) = write_syslog(&text);
        if chunks.len() < 2 || chunks.iter().any(|c| std::str::from_utf8(c).is_err()) {
            continue;
        }
        seq += 1;
        let mut want = format!("[DATABASE] [{seq}] ").into_bytes();
        for (i, c) in chunks.iter().enumerate() {
            if i > 0 {
                let prev = &chunks[i - 1];
                let one_ws_word = c.len() >= 2 && pg_space(c[0]) && !pg_space(c[1]) && {
                    let word = c[1..].iter().take_while(|&&b| !pg_space(b)).count();
                    // A word that fills a piece cut at the limit goes on in the next one.
                    let goes_on = word == c.len() - 1 && (897..=900).contains(&c.len());
                    goes_on || prev.len() + 1 + word > 900
                };
                let looks_cut = (897..=900).contains(&prev.len()) || one_ws_word;
                match bounds[i - 1] {
                    Boundary::Cut => {}
                    Boundary::Newline if looks_cut => ambiguous += 1,
                    Boundary::Newline => want.push(b'\n'),
                }
            }
            want.extend_from_slice(c);
            let text = String::from_utf8(c.clone()).unwrap();
            capture.push_str(&pg(&format!("[DATABASE] [{seq}-{}] {text}", i + 1)));
            if rng.next().is_multiple_of(3) {
                capture.push_str(&good("an app line in between"));
            }
        }
        expected.push(String::from_utf8(want).unwrap());
    }
    let o = run(
        &["--rejoin", "--fields", "process_id,message"],
        capture.as_bytes(),
    );
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let got: Vec<String> = lines(&stdout(&o))
        .into_iter()
        .filter(|r| r["process_id"] == "postgres.1")
        .map(|r| r["message"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(got.len(), expected.len());
    for (i, (g, w)) in got.iter().zip(&expected).enumerate() {
        assert_eq!(g, w, "statement {i}");
    }
    // The ambiguous cases are the exception, not the rule.
    assert!(ambiguous * 10 < expected.len(), "{ambiguous} ambiguous");
}
