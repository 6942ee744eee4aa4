//! Every input a user has (issue 5): format detection and `--from`, syslog lines, `heroku logs`
//! text, saved HTTP POSTs, gzip, directories, `--lenient-length`.
//!
//! The sample captures under testdata/inputs/ and their expected records and error positions
//! are written by testdata/make_inputs.py, which computes them from its own bookkeeping of the
//! bytes it writes (timestamps normalised with Python's datetime), not from drainpipe.

mod common;

use common::*;
use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

fn inputs(name: &str) -> String {
    testdata(&format!("inputs/{name}"))
        .to_str()
        .unwrap()
        .to_string()
}

fn read(name: &str) -> String {
    std::fs::read_to_string(inputs(name)).unwrap()
}

/// `(line, column, code)` of each `error[...]` line of a text report.
fn reported(report: &str) -> Vec<(u64, u64, String)> {
    report
        .lines()
        .filter(|l| l.contains(": error["))
        .map(|l| {
            let (pos, rest) = l.split_once(": error[").unwrap();
            let mut it = pos.rsplitn(3, ':');
            let col = it.next().unwrap().parse().unwrap();
            let line = it.next().unwrap().parse().unwrap();
            let code = rest.split(']').next().unwrap().to_string();
            (line, col, code)
        })
        .collect()
}

fn expected_errors(tsv: &str) -> Vec<(u64, u64, String)> {
    read(tsv)
        .lines()
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            (
                f[0].parse().unwrap(),
                f[1].parse().unwrap(),
                f[2].to_string(),
            )
        })
        .collect()
}

#[test]
fn each_sample_format_is_detected_and_converted() {
    for (file, stem) in [
        ("app.syslog", "app"),
        ("heroku-logs.txt", "heroku-logs"),
        ("drain-posts.http", "drain-posts"),
    ] {
        let path = inputs(file);
        let o = bin().arg(&path).output().unwrap();
        assert_eq!(code(&o), 1, "{file}: {}", stderr(&o));
        assert_eq!(
            stdout(&o),
            read(&format!("{stem}.expected.ndjson")),
            "{file} records"
        );
        let v = bin().args(["validate", &path]).output().unwrap();
        assert_eq!(code(&v), 1);
        assert_eq!(
            reported(&stdout(&v)),
            expected_errors(&format!("{stem}.errors.tsv")),
            "{file} errors: {}",
            stdout(&v)
        );
        // Forcing the detected format changes nothing.
        let from = match stem {
            "app" => "syslog",
            "heroku-logs" => "cli",
            _ => "http",
        };
        let forced = bin().args([&path, "--from", from]).output().unwrap();
        assert_eq!(forced.stdout, o.stdout, "{file} with --from {from}");
    }
}

#[test]
fn http_retries_msg_count_and_drain_token() {
    let path = inputs("drain-posts.http");
    let v = bin()
        .args(["validate", "--report", "json", &path])
        .output()
        .unwrap();
    let doc: serde_json::Value = serde_json::from_slice(&v.stdout).unwrap();
    assert_eq!(doc["summary"]["duplicates"], 1, "{doc}");
    assert_eq!(doc["summary"]["errors_by_code"]["msg-count"], 1);
    assert_eq!(doc["summary"]["invalid"], 0);

    let dir = tempfile::tempdir().unwrap();
    let rejects = dir.path().join("rejects");
    let token_args = [
        "--drain-token",
        "d.TOKEN-GOOD",
        "--rejects",
        rejects.to_str().unwrap(),
        &path,
    ];
    let o = bin().args(token_args).output().unwrap();
    assert_eq!(code(&o), 1);
    assert_eq!(stdout(&o), read("drain-posts.token.ndjson"));
    let v = bin()
        .args(["validate", "--drain-token", "d.TOKEN-GOOD", &path])
        .output()
        .unwrap();
    assert_eq!(
        reported(&stdout(&v)),
        expected_errors("drain-posts.token.tsv")
    );
    // The token comes in through the environment too.
    let e = bin()
        .args(["validate", &path])
        .env("DRAINPIPE_DRAIN_TOKEN", "d.TOKEN-GOOD")
        .output()
        .unwrap();
    assert_eq!(e.stdout, v.stdout);

    // Neither our token nor the intruder's appears anywhere we write.
    let rejected = std::fs::read(&rejects).unwrap();
    assert!(!rejected.is_empty());
    let json = bin()
        .args([
            "validate",
            "--report",
            "json",
            "--drain-token",
            "d.TOKEN-GOOD",
            &path,
        ])
        .output()
        .unwrap();
    let gh = bin()
        .args([
            "validate",
            "--report",
            "github",
            "--drain-token",
            "d.TOKEN-GOOD",
            &path,
        ])
        .output()
        .unwrap();
    let help = bin()
        .args(["convert", "--help"])
        .env("DRAINPIPE_DRAIN_TOKEN", "d.TOKEN-GOOD")
        .output()
        .unwrap();
    for (what, bytes) in [
        ("stdout", &o.stdout),
        ("stderr", &o.stderr),
        ("rejects", &rejected),
        ("text report", &v.stdout),
        ("text stderr", &v.stderr),
        ("json report", &json.stdout),
        ("github report", &gh.stdout),
        ("help", &help.stdout),
    ] {
        let text = String::from_utf8_lossy(bytes);
        for secret in ["TOKEN-GOOD", "SOMEONE-ELSE"] {
            assert!(!text.contains(secret), "{what} shows a token:\n{text}");
        }
    }
    // The rejected requests are still recognisable, with the token redacted.
    let text = String::from_utf8_lossy(&rejected);
    assert_eq!(text.matches("POST /logs HTTP/1.1").count(), 2, "{text}");
    assert!(text.contains("Logplex-Drain-Token: [redacted]"), "{text}");
}

#[test]
fn http_body_shorter_than_its_content_length() {
    let body = good("cut short");
    let mut capture = post(
        &format!("Content-Length: {}\r\n", body.len()),
        body.as_bytes(),
    );
    capture.extend(post(
        &format!("Content-Length: {}\r\n", body.len() + 50),
        body.as_bytes(),
    ));
    let o = run(&["validate"], &capture);
    assert_eq!(code(&o), 1);
    let report = stdout(&o);
    // Line 8 is the second request's Content-Length header (request line 6, Host 7); column
    // 17 its value.
    assert!(
        report.contains(&format!(
            "<stdin>:8:17: error[frame-truncated]: request body is shorter than its \
             Content-Length: {} bytes declared, the input ends after {}",
            body.len() + 50,
            body.len()
        )),
        "{report}"
    );
    let c = run(&[], &capture);
    assert_eq!(
        stdout(&c).lines().count(),
        1,
        "the first request still converts"
    );
}

#[test]
fn http_errors_inside_bodies_point_into_the_capture() {
    // A bad frame in a chunked body whose chunk boundary falls before it: the reported line
    // and column are those of the bad field in the capture file.
    let good1 = good("one");
    let bad = frame("<190>1 2026-02-30T00:00:00Z host app web.1 - bad day\n");
    let body = format!("{good1}{bad}");
    let (a, b) = body.split_at(good1.len() + 3);
    let chunked = format!("{:x}\r\n{a}\r\n{:x}\r\n{b}\r\n0\r\n\r\n", a.len(), b.len());
    let capture = post("Transfer-Encoding: chunked\r\n", chunked.as_bytes());
    let o = run(&["validate"], &capture);
    let lines: Vec<&str> = std::str::from_utf8(&capture).unwrap().lines().collect();
    // The bad frame's TIMESTAMP field: find it by hand in the capture.
    let line = lines.iter().position(|l| l.contains("2026-02-30")).unwrap() + 1;
    let col = lines[line - 1].find("2026-02-30").unwrap() + 1;
    assert_eq!(
        reported(&stdout(&o)),
        [(line as u64, col as u64, "timestamp".to_string())],
        "{}",
        stdout(&o)
    );
}

#[test]
fn undetectable_and_empty_inputs_are_reported_and_others_still_run() {
    let dir = tempfile::tempdir().unwrap();
    let junk = dir.path().join("notes.txt");
    std::fs::write(&junk, "hello\nworld\n").unwrap();
    let empty = dir.path().join("empty.drain");
    std::fs::write(&empty, "").unwrap();
    let sample = testdata("sample.drain");
    let o = bin().args([&junk, &empty, &sample]).output().unwrap();
    assert_eq!(code(&o), 1);
    let plain = bin().arg(&sample).output().unwrap();
    assert!(!plain.stdout.is_empty());
    assert_eq!(o.stdout, plain.stdout);
    let v = bin()
        .args(["validate".as_ref(), junk.as_os_str(), empty.as_os_str()])
        .output()
        .unwrap();
    let report = stdout(&v);
    assert!(
        report.contains(&format!(
            "{}: error[format]: not a drain capture",
            junk.display()
        )),
        "{report}"
    );
    assert!(
        report.contains(&format!("{}: error[format]: empty input", empty.display())),
        "{report}"
    );
}

#[test]
fn from_forces_a_format() {
    // The octet sample read as syslog lines: each line must start with `<PRI>`, and LEN is
    // in the way.
    let o = bin()
        .args([
            "validate",
            "--from",
            "syslog",
            testdata("sample.drain").to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert_eq!(code(&o), 1);
    let first = reported(&stdout(&o))[0].clone();
    assert_eq!(first, (1, 1, "priority".to_string()));
    // Syslog lines read as octet frames: garbage.
    let o = bin()
        .args(["validate", "--from", "octet", &inputs("app.syslog")])
        .output()
        .unwrap();
    assert_eq!(reported(&stdout(&o))[0], (1, 1, "garbage".to_string()));
    let o = bin().args(["--from", "xml"]).output().unwrap();
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("octet"), "{}", stderr(&o));
}

#[test]
fn lines_before_the_first_recognisable_one_are_garbage() {
    let mut capture = b"curl: (52) Empty reply\r\n\x1b[31mjunk\x1b[0m\n".to_vec();
    capture.extend(good("after the junk").as_bytes());
    let o = run(&["validate"], &capture);
    assert_eq!(reported(&stdout(&o)), [(1, 1, "garbage".to_string())]);
    let c = run(&[], &capture);
    assert!(stdout(&c).contains("after the junk"));
}

#[test]
fn gzip_inputs_of_every_format_and_multi_member() {
    let dir = tempfile::tempdir().unwrap();
    for (file, stem) in [
        ("app.syslog", "app"),
        ("heroku-logs.txt", "heroku-logs"),
        ("drain-posts.http", "drain-posts"),
    ] {
        // Any name: detection is by the magic bytes.
        let gz = dir.path().join(format!("{stem}.data"));
        std::fs::write(&gz, gzip(&std::fs::read(inputs(file)).unwrap())).unwrap();
        let o = bin().arg(&gz).output().unwrap();
        assert_eq!(
            stdout(&o),
            read(&format!("{stem}.expected.ndjson")),
            "{file}"
        );
        let v = bin().arg("validate").arg(&gz).output().unwrap();
        assert_eq!(
            reported(&stdout(&v)),
            expected_errors(&format!("{stem}.errors.tsv")),
            "{file} gzipped"
        );
    }
    // Two gzip members, as `cat a.gz b.gz` makes.
    let sample = std::fs::read(testdata("sample.drain")).unwrap();
    let (a, b) = sample.split_at(sample.len() / 2);
    let mut two = gzip(a);
    two.extend(gzip(b));
    let o = run(&[], &two);
    let plain = bin().arg(testdata("sample.drain")).output().unwrap();
    assert_eq!(o.stdout, plain.stdout);
}

#[test]
fn truncated_gzip_names_the_file_and_offset_after_emitting_what_came_before() {
    let dir = tempfile::tempdir().unwrap();
    let mut capture = String::new();
    for i in 0..20_000 {
        capture.push_str(&good(&format!("record {i}")));
    }
    let gz = gzip(capture.as_bytes());
    let cut = dir.path().join("cut.drain.gz");
    std::fs::write(&cut, &gz[..gz.len() * 2 / 3]).unwrap();
    let o = bin().arg(&cut).output().unwrap();
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    let records = stdout(&o).lines().count();
    assert!(records > 1000, "only {records} records before the cut");
    let err = stderr(&o);
    assert!(
        err.contains(&cut.display().to_string()) && err.contains("read error after "),
        "{err}"
    );
    // The offset named is the decompressed bytes read, which cover the records emitted.
    let offset: usize = err
        .split("read error after ")
        .nth(1)
        .unwrap()
        .split(' ')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!(offset >= records * good("record 0").len(), "{err}");
}

#[test]
fn directories_are_read_recursively_in_path_order() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::create_dir_all(root.join("b/inner")).unwrap();
    std::fs::create_dir_all(root.join("a")).unwrap();
    let write = |p: &str, msg: &str| std::fs::write(root.join(p), good(msg)).unwrap();
    write("b/inner/z.drain", "third");
    write("b/c.drain", "second");
    write("a/y.drain", "first");
    write("d.drain", "fourth");
    #[cfg(unix)]
    std::os::unix::fs::symlink(root, root.join("b/loop")).unwrap();
    let o = bin().arg(root).output().unwrap();
    let messages: Vec<String> = stdout(&o)
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            v["message"].as_str().unwrap().to_string()
        })
        .collect();
    assert_eq!(messages, ["first", "second", "third", "fourth"]);
}

#[test]
fn lenient_length_recovers_anonymised_frames() {
    // An anonymised capture: messages were shortened, LENs kept.
    let originals = [
        "user alice@example.com logged in",
        "card 4111111111111111 declined",
    ];
    let anonymised = ["user <email> logged in", "card <pan> declined"];
    let mut capture = String::new();
    for (o, a) in originals.iter().zip(anonymised) {
        let body = format!("<190>1 2026-03-01T12:00:00Z host app web.1 - {o}\n");
        let anon = format!("<190>1 2026-03-01T12:00:00Z host app web.1 - {a}\n");
        capture.push_str(&format!("{} {anon}", body.len()));
    }
    let strict = run(&["validate"], capture.as_bytes());
    assert_eq!(code(&strict), 1);
    let lenient = run(&["--lenient-length"], capture.as_bytes());
    assert_eq!(code(&lenient), 0, "warnings only: {}", stderr(&lenient));
    let records: Vec<serde_json::Value> = stdout(&lenient)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(records.len(), 2);
    for ((r, o), a) in records.iter().zip(originals).zip(anonymised) {
        assert_eq!(r["message"], a);
        let declared = format!("<190>1 2026-03-01T12:00:00Z host app web.1 - {o}\n").len();
        assert_eq!(
            r["message_len"], declared,
            "message_len keeps the declared LEN"
        );
    }
    let v = run(&["validate", "--lenient-length"], capture.as_bytes());
    let report = stdout(&v);
    let first_actual = format!(
        "<190>1 2026-03-01T12:00:00Z host app web.1 - {}\n",
        anonymised[0]
    )
    .len();
    let first_declared = format!(
        "<190>1 2026-03-01T12:00:00Z host app web.1 - {}\n",
        originals[0]
    )
    .len();
    assert!(
        report.contains(&format!(
            "<stdin>:1:1: warning[length-mismatch]: length says {first_declared}, frame has {first_actual}"
        )),
        "{report}"
    );
    let strict = run(
        &["validate", "--lenient-length", "--strict"],
        capture.as_bytes(),
    );
    assert_eq!(code(&strict), 1);
}

#[test]
fn live_heroku_logs_pipe_streams_each_message() {
    let (mut child, mut stdin, mut lines) = live(&[]);
    for i in 0..3 {
        // A `heroku logs --tail` message ends only when the next one starts, or when the pipe
        // goes quiet: it must come out without waiting for the next.
        let sent = Instant::now();
        writeln!(
            stdin,
            "\x1b[2m2026-03-01T12:00:0{i}+00:00\x1b[0m app[web.1]: live {i}\n  continued {i}"
        )
        .unwrap();
        stdin.flush().unwrap();
        let line = lines.next().unwrap().unwrap();
        let waited = sent.elapsed();
        let v: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(v["message"], format!("live {i}\n  continued {i}"));
        assert!(
            waited < Duration::from_secs(2),
            "message {i} took {waited:?}"
        );
    }
    drop(stdin);
    assert!(child.wait().unwrap().success());
}

#[test]
fn syslog_and_cli_block_boundaries_and_threads_do_not_matter() {
    for file in ["app.syslog", "heroku-logs.txt", "drain-posts.http"] {
        let path = inputs(file);
        let reference = bin().args([&path, "--threads", "1"]).output().unwrap();
        let report = bin()
            .args(["validate", &path, "--threads", "1"])
            .output()
            .unwrap();
        for bs in ["64", "100", "333", "4096"] {
            for t in ["1", "2", "7"] {
                let args = [path.as_str(), "--threads", t, "--block-size", bs];
                let o = bin().args(args).output().unwrap();
                assert!(o.stdout == reference.stdout, "{file} {args:?}");
                let v = bin().arg("validate").args(args).output().unwrap();
                assert_eq!(stdout(&v), stdout(&report), "{file} {args:?}");
            }
        }
        let piped = run(&[], &std::fs::read(Path::new(&path)).unwrap());
        assert!(piped.stdout == reference.stdout, "{file} piped");
    }
}

#[test]
fn drain_tokens_in_quoted_bytes_are_masked() {
    // Heroku puts the drain token in HOSTNAME. It stays in the record (it is the data Panther
    // stores as host_name), but error messages that quote input bytes never show it.
    let token = "d.7f3e2a10-1c4b-4d8e-9f60-5a2b3c4d5e6f";
    let mut capture = format!("junk {token} junk\n");
    capture.push_str(&frame(&format!(
        "<190>1 2026-03-01T12:00:00Z {token}\u{1} app web.1 - bad host\n"
    )));
    capture.push_str(&frame(&format!(
        "<190>1 2026-03-01T12:00:00Z {token} app web.1 - good\n"
    )));
    for report in ["text", "json", "github"] {
        let o = run(&["validate", "--report", report], capture.as_bytes());
        let out = stdout(&o);
        assert_eq!(out.matches("d.[redacted]").count(), 2, "{out}");
        assert!(!out.contains("7f3e2a10"), "{out}");
    }
    let c = run(&[], capture.as_bytes());
    assert!(stdout(&c).contains(token), "host_name keeps the value");
    assert!(!stderr(&c).contains("7f3e2a10"), "{}", stderr(&c));
}

fn records(o: &std::process::Output) -> Vec<serde_json::Value> {
    stdout(o)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// `s` without SGR sequences (`ESC [ digits and ; m`), written here independently of the
/// code under test.
fn strip_sgr(s: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(i) = rest.find("\x1b[") {
        out.push_str(&rest[..i]);
        let after = &rest[i + 2..];
        let params = after
            .find(|c: char| !(c.is_ascii_digit() || c == ';'))
            .unwrap_or(after.len());
        if after[params..].starts_with('m') {
            rest = &after[params + 1..];
        } else {
            out.push_str("\x1b[");
            rest = after;
        }
    }
    out.push_str(rest);
    out
}

#[test]
fn gen_drain_formats_carry_the_same_messages() {
    // gen-drain writes the same messages from a seed in every format: octet frames, syslog
    // lines and `heroku logs` text (colours, continuation lines). Read back, they must agree.
    let common = [
        "--frames",
        "3000",
        "--seed",
        "9",
        "--multiline-rate",
        "0.05",
    ];
    let gen = |extra: &[&str]| {
        let mut args = common.to_vec();
        args.extend_from_slice(extra);
        gen_drain(&args).map(|(bytes, _)| bytes)
    };
    let Some(octet) = gen(&["--format", "octet"]) else {
        return;
    };
    let cli = gen(&["--format", "cli", "--ansi"]).unwrap();
    let octet = records(&run(&[], &octet));
    let cli_out = run(&[], &cli);
    assert_eq!(code(&cli_out), 0, "{}", stderr(&cli_out));
    let cli = records(&cli_out);
    assert_eq!(octet.len(), 3000);
    assert_eq!(cli.len(), octet.len());
    for (o, c) in octet.iter().zip(&cli) {
        for key in ["timestamp", "app_name", "process_id"] {
            assert_eq!(o[key], c[key], "{key}: {o} vs {c}");
        }
        // `heroku logs` text loses every colour code, the app's own included (README "Inputs").
        let message = o["message"].as_str().map(strip_sgr);
        assert_eq!(message.as_deref(), c["message"].as_str(), "{o} vs {c}");
        for key in [
            "message_len",
            "priority",
            "version",
            "host_name",
            "message_id",
        ] {
            assert!(c[key].is_null(), "{key} in {c}");
        }
    }
    // Syslog lines: one line per text line, so compare single-line messages only.
    let single = ["--frames", "3000", "--seed", "9", "--multiline-rate", "0"];
    let octet = records(&run(&[], &gen_drain(&single).unwrap().0));
    let mut args = single.to_vec();
    args.extend_from_slice(&["--format", "lines"]);
    let lines_out = run(&[], &gen_drain(&args).unwrap().0);
    assert_eq!(code(&lines_out), 0, "{}", stderr(&lines_out));
    let lines = records(&lines_out);
    assert_eq!(lines.len(), octet.len());
    for (o, l) in octet.iter().zip(&lines) {
        let mut o = o.clone();
        o["message_len"] = serde_json::Value::Null;
        assert_eq!(&o, l);
    }
}

#[test]
fn gen_drain_corruptions_in_lines_and_cli_are_accounted_for() {
    let args = ["--frames", "20000", "--seed", "3", "--bad-rate", "0.02"];
    let with = |extra: &[&str]| {
        let mut a = args.to_vec();
        a.extend_from_slice(extra);
        gen_drain(&a)
    };
    let Some((lines, stats)) = with(&["--format", "lines"]) else {
        return;
    };
    let planted = |k: &str| stats["corruptions"][k].as_u64().unwrap_or(0);
    let v = run(&["validate", "--report", "json"], &lines);
    let doc: serde_json::Value = serde_json::from_slice(&v.stdout).unwrap();
    let s = &doc["summary"];
    let found = |k: &str| s["errors_by_code"][k].as_u64().unwrap_or(0);
    assert_eq!(
        s["frames"].as_u64(),
        Some(s["valid"].as_u64().unwrap() + s["invalid"].as_u64().unwrap())
    );
    // One error per corrupted line for the kinds that touch one field of one line.
    assert_eq!(found("version"), planted("version"), "{s}");
    assert_eq!(found("app-name"), planted("app-name-long"), "{s}");
    assert_eq!(found("hostname"), planted("hostname-ctl"), "{s}");
    assert_eq!(found("missing-field"), planted("missing-fields"), "{s}");
    assert_eq!(s["warnings_by_code"]["utf8"], planted("utf8"), "{s}");
    // Garbage may span lines, each of which is reported.
    assert!(
        found("priority") >= planted("pri-missing") + planted("pri-range") + planted("garbage")
    );

    // heroku logs text: missing fields and a truncated last line read as continuation lines
    // (README "Inputs"), so those messages join the previous one; bad timestamps are errors.
    let (cli, stats) = with(&["--format", "cli", "--ansi"]).unwrap();
    let planted = |k: &str| stats["corruptions"][k].as_u64().unwrap_or(0);
    let v = run(&["validate", "--report", "json"], &cli);
    let doc: serde_json::Value = serde_json::from_slice(&v.stdout).unwrap();
    let s = &doc["summary"];
    assert_eq!(
        s["errors_by_code"]["timestamp"],
        planted("timestamp"),
        "{s}"
    );
    assert_eq!(s["errors"], planted("timestamp"), "{s}");
    assert_eq!(
        s["frames"].as_u64().unwrap(),
        stats["messages"].as_u64().unwrap() - planted("missing-fields") - planted("truncated"),
        "{s}"
    );
}

#[test]
fn cli_columns_point_into_the_capture_despite_colours_and_crlf() {
    let capture = b"2026-03-01T00:00:02Z app[web.1]: caf\xe9 ok\r\n\x1b[2m2026-03-01T00:00:02Z\x1b[0m \x1b[36mapp[web.1]:\x1b[0m caf\xe9 ok\n";
    let o = run(&["validate"], capture);
    let report = stdout(&o);
    // The invalid byte's column, found by hand in each line.
    let lines: Vec<&[u8]> = capture.split(|&c| c == b'\n').collect();
    for (n, line) in lines.iter().take(2).enumerate() {
        let col = line.iter().position(|&c| c == 0xe9).unwrap() + 1;
        let want = format!("<stdin>:{}:{col}: warning[utf8]", n + 1);
        assert!(report.contains(&want), "{want} not in {report}");
    }
}

#[test]
fn tokens_do_not_leak_through_rejected_regions_cut_by_reads() {
    // A rejected request (not a POST) whose token header falls across a block boundary, at
    // every boundary position; and the same bytes read as octet frames (a capture cut off
    // mid-request), where the header sits in a rejected region too.
    let token = "d.SECRET-0123456789";
    let mut capture = format!(
        "PUT /logs HTTP/1.1\r\nHost: x\r\nLogplex-Drain-Token: {token}\r\nContent-Length: 0\r\n\r\n"
    )
    .into_bytes();
    capture.extend(post(
        &format!(
            "Content-Length: {}\r\nLogplex-Drain-Token: {token}\r\n",
            good("x").len()
        ),
        good("x").as_bytes(),
    ));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cut.http");
    std::fs::write(&path, &capture).unwrap();
    let rejects = dir.path().join("rejects");
    for from in ["http", "octet"] {
        for block in 64..140 {
            let o = bin()
                .args([
                    "--from",
                    from,
                    "--block-size",
                    &block.to_string(),
                    "--rejects",
                ])
                .arg(&rejects)
                .arg(&path)
                .output()
                .unwrap();
            let rejected = String::from_utf8_lossy(&std::fs::read(&rejects).unwrap()).into_owned();
            assert!(!rejected.is_empty(), "{from} {block}");
            assert!(
                !rejected.contains("SECRET"),
                "{from} block {block}: {rejected}"
            );
            assert!(!stderr(&o).contains("SECRET"), "{from} block {block}");
        }
    }
}

#[test]
fn retries_are_recognised_across_an_input_that_fails() {
    let body = good("once");
    let request = post(
        &format!(
            "Content-Length: {}\r\nLogplex-Frame-Id: id-1\r\n",
            body.len()
        ),
        body.as_bytes(),
    );
    let dir = tempfile::tempdir().unwrap();
    let first = dir.path().join("1.http");
    std::fs::write(&first, &request).unwrap();
    // A truncated gzip in between: an I/O error part-way.
    let cut = dir.path().join("2.http.gz");
    let gz = gzip(&request.repeat(200));
    std::fs::write(&cut, &gz[..gz.len() / 2]).unwrap();
    let retry = dir.path().join("3.http");
    std::fs::write(&retry, &request).unwrap();
    let o = bin()
        .args(["validate", "--report", "json"])
        .args([&first, &cut, &retry])
        .output()
        .unwrap();
    assert_eq!(code(&o), 2);
    let doc: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    // Every request after the first, including the one in 3.http, is a retry.
    assert_eq!(doc["summary"]["valid"], 1, "{}", doc["summary"]);
}

/// Validates `capture` whole and at every block size in `blocks`: no panic, and the same
/// report every time. Returns that report.
fn same_report_at_every_block_size(capture: &[u8], blocks: std::ops::Range<usize>) -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.http");
    std::fs::write(&path, capture).unwrap();
    let p = path.to_str().unwrap();
    let reference = stdout(&bin().args(["validate", p]).output().unwrap());
    for block in blocks {
        let o = bin()
            .args(["validate", p, "--block-size", &block.to_string()])
            .output()
            .unwrap();
        assert!(
            !stderr(&o).contains("panicked"),
            "block {block}: {}",
            stderr(&o)
        );
        assert_eq!(stdout(&o), reference, "block {block}");
    }
    reference
}

#[test]
fn http_errors_on_later_lines_are_located_at_any_block_size() {
    // Errors found lines into a request (a bad header, chunk data without its CRLF) must be
    // located the same however the capture is cut into blocks.
    let body = good("x");
    let mut capture = post("X-Bad header\r\n", b"");
    // Chunk data that runs on past its size, in the middle of a line.
    capture.extend(post(
        "Transfer-Encoding: chunked\r\n",
        b"5\r\nabcdeXYZ\r\n0\r\n\r\n",
    ));
    capture.extend(post(
        &format!("Content-Length: {}\r\n", body.len()),
        body.as_bytes(),
    ));
    let report = same_report_at_every_block_size(&capture, 64..400);
    assert_eq!(reported(&report).len(), 2, "{report}");
}

#[test]
fn a_body_line_starting_post_before_the_error_does_not_cut_the_region_short() {
    // Chunk data longer than its size line says, with a body line starting `POST ` before the
    // byte that shows it. The rejected region must reach that byte: ending it at the `POST `
    // line once made a batch end before the byte its column comes from (a panic).
    let body = good("after");
    let mut capture = post(
        "Transfer-Encoding: chunked\r\n",
        b"8\r\nab\nPOST cdXYZ\r\n0\r\n\r\n",
    );
    capture.extend(post(
        &format!("Content-Length: {}\r\n", body.len()),
        body.as_bytes(),
    ));
    let report = same_report_at_every_block_size(&capture, 64..200);
    assert!(report.contains("error[frame-length]"), "{report}");
}

#[test]
fn many_inputs_read_at_once_give_the_records_of_one_at_a_time() {
    // Several inputs are read (and inflated) at once. The independent route: drainpipe run on
    // each file alone, the outputs concatenated in path order; a directory of the same files,
    // read several at once at any thread count and block size, must give exactly that.
    let dir = tempfile::tempdir().unwrap();
    let (big, _) = synth(3_000, 5, true);
    let (small, _) = synth(40, 6, true);
    let files: Vec<(&str, Vec<u8>)> = vec![
        ("a00.drain", big.clone()),
        ("a01.drain.gz", gzip(&small)),
        ("a02.syslog", std::fs::read(inputs("app.syslog")).unwrap()),
        ("a03.txt.gz", gzip(read("heroku-logs.txt").as_bytes())),
        ("a04.bin", b"not a capture at all\n".to_vec()),
        ("a05.drain", Vec::new()),
        ("a06.drain.gz", gzip(&big)),
        ("a07.drain", small.clone()),
        ("a09.drain.gz", gzip(&big[..big.len() / 3])),
    ];
    for (name, bytes) in &files {
        std::fs::write(dir.path().join(name), bytes).unwrap();
    }
    let out = tempfile::tempdir().unwrap();
    let mut records = Vec::new();
    let mut rejects = Vec::new();
    for (name, _) in &files {
        let p = dir.path().join(name);
        let rj = out.path().join("one.rejects");
        let o = bin()
            .arg(&p)
            .args(["--threads", "1", "--rejects"])
            .arg(&rj)
            .output()
            .unwrap();
        records.extend_from_slice(&o.stdout);
        rejects.extend(std::fs::read(&rj).unwrap_or_default());
    }
    assert!(records.len() > 100_000, "the inputs make records");
    assert!(rejects.len() > 1_000, "the inputs make rejects");
    for t in ["1", "2", "5"] {
        for bs in ["65536", "4096", "1048576"] {
            let rj = out.path().join("all.rejects");
            let o = bin()
                .arg(dir.path())
                .args(["--threads", t, "--block-size", bs, "--rejects"])
                .arg(&rj)
                .output()
                .unwrap();
            assert_eq!(code(&o), 1, "{}", stderr(&o));
            assert!(
                o.stdout == records,
                "records differ at --threads {t} --block-size {bs}"
            );
            assert!(
                std::fs::read(&rj).unwrap() == rejects,
                "rejects differ at --threads {t} --block-size {bs}"
            );
        }
    }
}

#[test]
fn idle_ms_0_reads_a_pipe_like_a_file() {
    // `heroku logs` text arriving with a pause inside a message: with the default window the
    // late line becomes a record of its own; with --idle-ms 0 the pipe is read like a file, so
    // the records never depend on timing (batch pipelines: zcat … | drainpipe).
    let (mut child, mut stdin, mut out) = live(&["--idle-ms", "0", "--fields", "message"]);
    stdin
        .write_all(b"2026-03-01T12:00:00.000000+00:00 app[web.1]: Traceback:\n")
        .unwrap();
    stdin.flush().unwrap();
    std::thread::sleep(Duration::from_millis(300));
    stdin
        .write_all(b"  line 1\n2026-03-01T12:00:01.000000+00:00 app[web.1]: next\n")
        .unwrap();
    drop(stdin);
    let got: Vec<String> = out.by_ref().map(|l| l.unwrap()).collect();
    assert!(child.wait().unwrap().success());
    assert_eq!(
        got,
        [
            "{\"message\":\"Traceback:\\n  line 1\"}",
            "{\"message\":\"next\"}"
        ]
    );
}

#[test]
fn a_failed_input_counts_the_bytes_read_before_it_failed() {
    let (capture, _) = synth(2_000, 3, false);
    let gz = gzip(&capture);
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("cut.drain.gz");
    std::fs::write(&p, &gz[..gz.len() / 2]).unwrap();
    let o = bin()
        .args(["validate", "--report", "json"])
        .arg(&p)
        .output()
        .unwrap();
    assert_eq!(code(&o), 2);
    let r = report(&o);
    let bytes = r["summary"]["bytes"].as_u64().unwrap();
    assert!(bytes > 0, "{r}");
    // The failure names the decompressed offset reached; the summary counts as much.
    let failure = r["inputs"][0]["failure"].as_str().unwrap();
    assert!(failure.contains(&bytes.to_string()), "{failure} vs {bytes}");
}
