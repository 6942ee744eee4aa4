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
