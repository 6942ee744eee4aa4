//! What the fourth outside trial of this wave found, one rule per test. Each test failed on the
//! binary the trial ran (`DRAINPIPE_TEST_BIN=<that binary> cargo test --test fourth_trial`);
//! expected values come from README's promises, computed here (the chunk decoder below is the
//! test's own, not drainpipe's).

mod common;
use common::*;

const TOKEN: &str = "d.0b6a7c1e-9f3d-4a2b-8c5e-7d1f2a3b4c5d";
const MASKED: &str = "d.xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx";

/// A frame whose HOSTNAME is the drain token, as Heroku's HTTPS drains send it.
fn token_frame(text: &str) -> String {
    frame(&format!(
        "<190>1 2026-03-01T12:00:00.000001+00:00 {TOKEN} app web.1 - {text}\n"
    ))
}

/// `body` as chunked transfer coding, `size` bytes a chunk, with or without the last chunk.
fn chunked(body: &[u8], size: usize, last: bool) -> Vec<u8> {
    let mut out = Vec::new();
    for c in body.chunks(size) {
        out.extend_from_slice(format!("{:x}\r\n", c.len()).as_bytes());
        out.extend_from_slice(c);
        out.extend_from_slice(b"\r\n");
    }
    if last {
        out.extend_from_slice(b"0\r\n\r\n");
    }
    out
}

/// The data of a chunked body (RFC 9112 §7.1), read by this test: sizes in hex, data, CRLF,
/// up to the last chunk or the end.
fn dechunk(mut b: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(i) = b.windows(2).position(|w| w == b"\r\n") {
        let Ok(size) = usize::from_str_radix(std::str::from_utf8(&b[..i]).unwrap_or("x"), 16)
        else {
            break;
        };
        if size == 0 || b.len() < i + 2 + size {
            break;
        }
        out.extend_from_slice(&b[i + 2..i + 2 + size]);
        b = &b[i + 4 + size..];
    }
    out
}

/// The bytes after the first blank line (a request's body).
fn body_of(request: &[u8]) -> &[u8] {
    let i = request
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a head");
    &request[i + 4..]
}

/// Runs convert with `--rejects` into a temporary file; returns the output and the rejects.
fn rejects_of(args: &[&str], input: &[u8]) -> (std::process::Output, Vec<u8>) {
    let dir = tempfile::tempdir().unwrap();
    let rej = dir.path().join("rej.http");
    let mut all: Vec<&str> = args.to_vec();
    all.extend(["--rejects", rej.to_str().unwrap()]);
    let o = run(&all, input);
    let bytes = std::fs::read(&rej).unwrap_or_default();
    (o, bytes)
}

#[test]
fn tokens_cut_by_chunk_framing_are_overwritten_in_rejects() {
    // README: in --rejects every drain token is overwritten with x byte for byte. A chunked
    // body's framing cut the token in pieces and each piece was left readable.
    let body = format!("{}{}", token_frame("one"), token_frame("two"));
    for size in [1, 3, 7, 12, 25, 40] {
        for last in [true, false] {
            let mut input = post(
                "Transfer-Encoding: chunked\r\n",
                &chunked(body.as_bytes(), size, last),
            );
            if !last {
                // No last chunk: the request is malformed, and ends at the next request line.
                input.extend(post("Content-Length: 0\r\n", b""));
            }
            let (o, rej) = rejects_of(
                &["--drain-token", "d.wrong-token", "--from", "http"],
                &input,
            );
            assert_eq!(code(&o), 1, "size {size} last {last}: {}", stderr(&o));
            let data = dechunk(body_of(&rej));
            let text = String::from_utf8_lossy(&data);
            let hex: String = TOKEN[2..].chars().filter(|c| *c != '-').collect();
            for k in 0..=hex.len() - 4 {
                assert!(
                    !text.replace('-', "").contains(&hex[k..k + 4]),
                    "size {size} last {last}: {:?} in {text:?}",
                    &hex[k..k + 4]
                );
            }
            assert_eq!(text.matches(MASKED).count(), 2, "size {size}: {text:?}");
            assert_eq!(data.len(), body.len(), "byte for byte");
        }
    }
}

#[test]
fn a_gzip_body_of_a_rejected_request_is_written_inflated_without_its_tokens() {
    // A gzip body went to --rejects compressed: `gzip -d` on it printed the token.
    let body = format!("{}{}", token_frame("one"), token_frame("two"));
    let z = gzip(body.as_bytes());
    let cut = &z[..z.len() - 12]; // the trailer and some data gone: does not inflate whole
    for (name, gz, cl) in [
        ("sound", &z[..], true),
        ("sound chunked", &z[..], false),
        ("truncated", cut, true),
    ] {
        let input = if cl {
            post(
                &format!("Content-Encoding: gzip\r\nLogplex-Drain-Token: d.wrong2\r\nContent-Length: {}\r\n", gz.len()),
                gz,
            )
        } else {
            post(
                "Content-Encoding: gzip\r\nTransfer-Encoding: chunked\r\nLogplex-Drain-Token: d.wrong2\r\n",
                &chunked(gz, 50, true),
            )
        };
        // Refused for its token (both), or for its body (the truncated one, any token).
        let (o, rej) = rejects_of(
            &["--drain-token", "d.right-token", "--from", "http"],
            &input,
        );
        assert_eq!(code(&o), 1, "{name}: {}", stderr(&o));
        let text = String::from_utf8_lossy(&rej).into_owned();
        assert!(
            !rej.windows(2).any(|w| w == [0x1f, 0x8b]),
            "{name}: still gzip"
        );
        assert!(!text.contains(&TOKEN[2..10]), "{name}: {text:?}");
        assert!(!text.contains("d.wrong2"), "{name}: header {text:?}");
        if name != "truncated" {
            assert_eq!(text.matches(MASKED).count(), 2, "{name}: {text:?}");
            // It reads back as the same request: two valid frames (no --drain-token now).
            let dir = tempfile::tempdir().unwrap();
            let f = dir.path().join("rej.http");
            std::fs::write(&f, &rej).unwrap();
            let o = bin()
                .args(["--fields", "message"])
                .arg(&f)
                .output()
                .unwrap();
            assert_eq!(
                stdout(&o).lines().count(),
                2,
                "{name}: {}{}",
                stdout(&o),
                stderr(&o)
            );
        }
    }
}

#[test]
fn an_empty_frame_id_marks_no_retry() {
    let mut input = Vec::new();
    for (i, id) in ["", " ", "\t", ""].iter().enumerate() {
        let f = good(&format!("m{i}"));
        input.extend(post(
            &format!("Logplex-Frame-Id: {id}\r\nContent-Length: {}\r\n", f.len()),
            f.as_bytes(),
        ));
    }
    let o = run(&["--fields", "message"], &input);
    assert_eq!(stdout(&o).lines().count(), 4, "{}", stderr(&o));
    assert!(!stderr(&o).contains("duplicate"), "{}", stderr(&o));
}

#[test]
fn every_drain_token_header_must_match() {
    let f = good("x");
    let req = |tokens: &[&str]| {
        let h: String = tokens
            .iter()
            .map(|t| format!("Logplex-Drain-Token: {t}\r\n"))
            .collect();
        post(&format!("{h}Content-Length: {}\r\n", f.len()), f.as_bytes())
    };
    for (tokens, want) in [
        (&["d.bad-token", "d.good-token"][..], 1),
        (&["d.good-token", "d.bad-token"][..], 1),
        (&["d.good-token", "d.good-token"][..], 0),
        (&["d.good-token"][..], 0),
    ] {
        let o = run(&["validate", "--drain-token", "d.good-token"], &req(tokens));
        assert_eq!(code(&o), want, "{tokens:?}: {}", stdout(&o));
    }
}

#[test]
fn every_msg_count_header_is_checked() {
    let f = good("x");
    for (counts, want) in [(["5", "1"], 1), (["1", "5"], 1), (["1", "1"], 0)] {
        let input = post(
            &format!(
                "Logplex-Msg-Count: {}\r\nLogplex-Msg-Count: {}\r\nContent-Length: {}\r\n",
                counts[0],
                counts[1],
                f.len()
            ),
            f.as_bytes(),
        );
        let o = run(&["validate"], &input);
        assert_eq!(code(&o), want, "{counts:?}: {}", stdout(&o));
    }
}

#[test]
fn utf8_is_checked_whatever_the_fields() {
    let mut input = frame_bytes(b"<190>1 2026-03-01T10:00:00Z host app web.1 - bad \xff byte\n");
    input.extend(good("fine").as_bytes());
    let strict = run(&["--strict", "--fields", "timestamp"], &input);
    assert_eq!(code(&strict), 1, "{}", stderr(&strict));
    assert_eq!(stdout(&strict).lines().count(), 1);
    // Without --strict, the warning is in --report-json as validate reports it.
    let dir = tempfile::tempdir().unwrap();
    let r = dir.path().join("r.json");
    let o = run(
        &[
            "--fields",
            "timestamp,app_name",
            "--report-json",
            r.to_str().unwrap(),
        ],
        &input,
    );
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let got: serde_json::Value = serde_json::from_slice(&std::fs::read(&r).unwrap()).unwrap();
    let want = report(&run(&["validate", "--report", "json"], &input));
    assert_eq!(got["errors"], want["errors"]);
    assert_eq!(got["summary"]["warnings"], 1);
}

/// Runs drainpipe with stdout read for one line and then closed; returns the exit code.
fn closed_after_one_line(args: &[&str], input: &[u8]) -> i32 {
    use std::io::BufRead;
    let mut cmd = bin();
    cmd.args(args);
    let (mut child, feeder) = spawn_fed(cmd, input);
    let mut out = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    out.read_line(&mut line).unwrap();
    drop(out);
    let status = child.wait().unwrap();
    feeder.join().unwrap();
    status.code().expect("an exit code, not a signal")
}

#[test]
fn a_closed_stdout_keeps_the_exit_code_of_what_was_found() {
    // `drainpipe validate … | head` under `set -o pipefail` (GitHub Actions' bash) passed on a
    // broken capture. Whether drainpipe meets the closed pipe or finishes first, the code is
    // that of what it found: the expectation does not depend on timing.
    let bad: Vec<u8> = (0..4000)
        .flat_map(|_| {
            frame("<190>1 2026-13-01T10:00:00Z host app web.1 - bad month\n").into_bytes()
        })
        .collect();
    let fine: Vec<u8> = (0..4000)
        .flat_map(|i| good(&format!("m{i}")).into_bytes())
        .collect();
    for report_format in ["text", "json", "github"] {
        assert_eq!(
            closed_after_one_line(&["validate", "--report", report_format, "-"], &bad),
            1,
            "{report_format}"
        );
    }
    assert_eq!(
        closed_after_one_line(
            &["-"],
            &bad.iter().chain(&fine).copied().collect::<Vec<u8>>()
        ),
        1
    );
    assert_eq!(
        closed_after_one_line(&["/nonexistent/x.drain", "-"], &fine),
        2
    );
    assert_eq!(closed_after_one_line(&["-"], &fine), 0);
}

#[test]
fn stdin_can_be_named_only_once() {
    let input = good("x");
    for args in [
        &["-", "-"][..],
        &["-", "/dev/stdin"][..],
        &["validate", "/dev/stdin", "-"][..],
    ] {
        let o = run(args, input.as_bytes());
        assert_eq!(code(&o), 2, "{args:?}: {}", stderr(&o));
        assert!(stderr(&o).contains("stdin"), "{}", stderr(&o));
    }
}

#[test]
fn the_token_value_and_token_headers_never_show_in_paths_or_usage_errors() {
    let dir = tempfile::tempdir().unwrap();
    // A capture given to --files-from by mistake: its lines are taken for paths.
    let cap = dir.path().join("posts.http");
    std::fs::write(
        &cap,
        post(
            "Logplex-Drain-Token: s3cret-value\r\nContent-Length: 0\r\n",
            b"",
        ),
    )
    .unwrap();
    let o = bin()
        .env("DRAINPIPE_DRAIN_TOKEN", "s3cret-value")
        .args(["validate", "--report", "json", "--files-from"])
        .arg(&cap)
        .output()
        .unwrap();
    let all = format!("{}{}", stdout(&o), stderr(&o));
    assert!(!all.contains("s3cret"), "{all}");
    // The same without --drain-token: a token header's value is never shown.
    let o = bin()
        .args(["validate", "--files-from"])
        .arg(&cap)
        .output()
        .unwrap();
    let all = format!("{}{}", stdout(&o), stderr(&o));
    assert!(!all.contains("s3cret"), "{all}");
    // A file named like the token.
    let named = dir.path().join("mysecret-0042");
    std::fs::write(&named, good("x")).unwrap();
    let o = bin()
        .args([
            "validate",
            "--report",
            "json",
            "--drain-token",
            "mysecret-0042",
        ])
        .arg(&named)
        .output()
        .unwrap();
    let all = format!("{}{}", stdout(&o), stderr(&o));
    assert!(!all.contains("mysecret-0042"), "{all}");
    // A token pasted into the wrong option.
    for args in [
        &["--threads", TOKEN][..],
        &["validate", "--report", TOKEN][..],
        &["--fields", TOKEN][..],
    ] {
        let o = run(args, b"");
        assert_eq!(code(&o), 2);
        assert!(
            !stderr(&o).contains(&TOKEN[2..]),
            "{args:?}: {}",
            stderr(&o)
        );
        assert!(stderr(&o).contains("d.[redacted]"), "{}", stderr(&o));
    }
}

#[test]
fn a_frame_without_a_newline_leaves_a_quiet_live_pipe_at_once() {
    // README: on a pipe each record leaves within ~100 ms of its last byte. A frame with no
    // newline after it waited for the next frame (or the end of input).
    use std::io::Write;
    let (mut child, mut stdin, mut lines) = live(&["--fields", "message", "-"]);
    let first = frame("<190>1 2026-03-01T10:00:00Z host app web.1 - no newline");
    stdin.write_all(first.as_bytes()).unwrap();
    stdin.flush().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let reader = std::thread::spawn(move || {
        for l in lines.by_ref() {
            if tx.send(l.unwrap()).is_err() {
                break;
            }
        }
    });
    let got = rx.recv_timeout(std::time::Duration::from_secs(3));
    assert_eq!(got.as_deref(), Ok(r#"{"message":"no newline"}"#));
    // The next frame is read as usual, right after it.
    stdin.write_all(good("second").as_bytes()).unwrap();
    drop(stdin);
    let got = rx.recv_timeout(std::time::Duration::from_secs(3));
    assert_eq!(got.as_deref(), Ok(r#"{"message":"second"}"#));
    assert_eq!(child.wait().unwrap().code(), Some(0));
    reader.join().unwrap();
}

// The fifth outside trial of this wave (run on the binary with the fixes above), one rule per
// test; each failed on the binary it ran (`DRAINPIPE_TEST_BIN=<that binary>`).

/// Four frames, one of them rejected (a bad month).
fn one_bad() -> String {
    format!(
        "{}{}{}",
        good("a"),
        frame("<190>1 2026-13-01T10:00:00Z host app web.1 - bad month\n"),
        good("b")
    )
}

/// Runs `script` under bash in `dir` with `$D` the binary under test; returns (stdout, stderr).
fn sh(dir: &std::path::Path, script: &str) -> (String, String) {
    let d = std::env::var_os("DRAINPIPE_TEST_BIN")
        .unwrap_or_else(|| env!("CARGO_BIN_EXE_drainpipe").into());
    let o = std::process::Command::new("bash")
        .arg("-c")
        .arg(script)
        .env("D", d)
        .current_dir(dir)
        .output()
        .unwrap();
    (stdout(&o), stderr(&o))
}

#[test]
fn a_side_output_whose_reader_is_gone_is_an_error() {
    // It ended the run quietly with exit 0, as a closed stdout does: with --report-json every
    // record was lost, with --rejects the rejects were.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("in.drain"), one_bad()).unwrap();
    for flag in ["--report-json", "--rejects"] {
        // fd 3 is a pipe whose reader (`true`) is gone by the time drainpipe writes.
        let script = format!(
            r#"{{ (sleep 0.3; exec "$D" in.drain {flag} /dev/fd/3 3>&1 >&4 2>&5) | true; echo "${{PIPESTATUS[0]}}"; }} 4>recs.nd 5>err.txt; cat err.txt"#
        );
        let (out, _) = sh(dir.path(), &script);
        let mut lines = out.lines();
        assert_eq!(lines.next(), Some("2"), "{flag}: {out}");
        let err: String = lines.collect();
        assert!(err.contains(flag), "{flag}: {err}");
        // With -o, the file is not created.
        let script = format!(
            r#"rm -f out.nd; {{ (sleep 0.3; exec "$D" in.drain -o out.nd {flag} /dev/fd/3 3>&1 2>/dev/null) | true; echo "${{PIPESTATUS[0]}}"; }}; ls out.nd 2>&1 || true"#
        );
        let (out, _) = sh(dir.path(), &script);
        assert!(out.starts_with("2\n"), "{flag}: {out}");
        assert!(out.contains("No such file"), "{flag}: {out}");
    }
}

#[test]
fn no_output_is_committed_when_another_fails_at_the_end() {
    // -o was renamed into place before --rejects failed (exit 2): README says -o is not
    // created when the run fails.
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("in.drain"), one_bad()).unwrap();
    for side in [
        &["--rejects", "/dev/full"][..],
        &["--report-json", "/dev/full"][..],
        &["--rejects", "/dev/full", "--report-json", "r.json"][..],
    ] {
        let o = bin()
            .current_dir(d)
            .args(["in.drain", "-o", "out.nd"])
            .args(side)
            .output()
            .unwrap();
        assert_eq!(code(&o), 2, "{side:?}");
        assert!(!d.join("out.nd").exists(), "{side:?}");
        assert!(!d.join("r.json").exists(), "{side:?}");
        assert!(stderr(&o).contains(side[0]), "{side:?}: {}", stderr(&o));
    }
}

#[test]
fn on_error_fail_shows_the_frame_it_stopped_at() {
    // Under --strict, an unjoined chain is an error that rejects no frame: the run goes on
    // past it, and the frame that stops it is the one to print.
    let pg = |m: &str| {
        frame(&format!(
            "<190>1 2026-03-01T10:00:00Z host app postgres.1 - {m}\n"
        ))
    };
    let input = format!(
        "{}{}{}{}{}",
        good("first"),
        pg("[7-2] orphan"),
        good("after"),
        frame("<190>1 2026-13-01T00:00:00Z host app web.1 - stop here\n"),
        good("never")
    );
    let o = run(
        &[
            "--rejoin",
            "--strict",
            "--on-error",
            "fail",
            "--fields",
            "message",
        ],
        input.as_bytes(),
    );
    assert_eq!(code(&o), 1);
    assert!(!stdout(&o).contains("never"), "{}", stdout(&o));
    let err = stderr(&o);
    assert!(err.contains("<stdin>:4:11: error[timestamp]"), "{err}");
    assert!(
        err.contains("first: <stdin>:4:11 timestamp; stopped there"),
        "{err}"
    );
}

#[test]
fn the_token_value_in_any_form_is_masked_in_usage_errors() {
    for via_env in [true, false] {
        for bad in [
            &["--fields", "Xsecret9"][..],
            &["--threads", "Xsecret9"][..],
            &["--to", "Xsecret9"][..],
        ] {
            let mut c = bin();
            if via_env {
                c.env("DRAINPIPE_DRAIN_TOKEN", "Xsecret9");
            } else {
                c.args(["--drain-token", "Xsecret9"]);
            }
            let o = c.args(bad).output().unwrap();
            assert_eq!(code(&o), 2, "{bad:?}");
            assert!(!stderr(&o).contains("Xsecret9"), "{bad:?}: {}", stderr(&o));
        }
    }
}

#[test]
fn help_into_a_full_device_is_an_error() {
    for arg in ["--help", "--version"] {
        let full = std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .unwrap();
        let o = bin().arg(arg).stdout(full).output().unwrap();
        assert_eq!(code(&o), 2, "{arg}");
        assert!(
            stderr(&o).contains("No space left"),
            "{arg}: {}",
            stderr(&o)
        );
    }
}

// The sixth outside trial of this wave, one rule per test; each failed on the binary it ran.

#[test]
fn rejects_are_the_same_bytes_and_keep_no_token_at_any_block_size() {
    // A token in a rejected region that crosses a read block was only partly overwritten
    // (its tail, up to 19 hex digits, stayed), and the rejects depended on the block size.
    let mut input = String::new();
    for i in 0..40 {
        input.push_str(&good(&format!("filler {i} {}", "f".repeat(i * 7))));
        if i % 9 == 4 {
            input.push_str(&format!("junk {TOKEN} here\n"));
        }
        if i % 13 == 6 {
            // A LEN that runs into the next frame on the same line: frame-overrun.
            let inner =
                format!("<190>1 2026-03-01T12:00:00.123456+00:00 host app web.1 - {TOKEN} here\n");
            input.push_str(&format!(
                "103 <190>1 2026-03-01T12:00:00.123456+00:00 host app web{}{inner}",
                frame(&inner)
            ));
        }
    }
    let hex: String = TOKEN[2..].chars().filter(|c| *c != '-').collect();
    let mut seen: Option<Vec<u8>> = None;
    for block in ["64", "65", "66", "100", "333", "1000", "1M"] {
        let (o, rej) = rejects_of(
            &["--block-size", block, "-o", "/dev/null"],
            input.as_bytes(),
        );
        assert_eq!(code(&o), 1, "{block}: {}", stderr(&o));
        let text = String::from_utf8_lossy(&rej).replace('-', "");
        for k in 0..=hex.len() - 4 {
            assert!(
                !text.contains(&hex[k..k + 4]),
                "{block}: {:?} in {text}",
                &hex[k..k + 4]
            );
        }
        match &seen {
            None => seen = Some(rej),
            Some(s) => assert!(*s == rej, "{block}: rejects differ"),
        }
    }
}

#[test]
fn blank_lines_before_the_first_unit_are_passed_over_with_from_too() {
    // `--from` skips the detection, not the rule for what comes before the first unit.
    let cases = [
        ("octet", good("x")),
        (
            "syslog",
            "<190>1 2026-03-01T12:00:00Z host app web.1 - x\n".to_string(),
        ),
        (
            "cli",
            "2026-03-01T12:00:00+00:00 app[web.1]: x\n".to_string(),
        ),
    ];
    for (from, unit) in cases {
        for lead in ["  \n", "\t\r\n", "\x1b[0m\n", "\n \n\x1b[2m \x1b[22m\n"] {
            let input = format!("{lead}{unit}");
            let with = run(
                &["validate", "--report", "json", "--from", from],
                input.as_bytes(),
            );
            let without = run(&["validate", "--report", "json"], input.as_bytes());
            assert_eq!(code(&with), 0, "{from} {lead:?}: {}", stdout(&with));
            assert_eq!(
                report(&with)["summary"],
                report(&without)["summary"],
                "{from} {lead:?}"
            );
        }
        // Other bytes before it are still an error at their line (in syslog every line is a
        // unit: a line without a PRI is a `priority` error).
        let o = run(
            &["validate", "--from", from],
            format!(" \nnot it\n{unit}").as_bytes(),
        );
        assert_eq!(code(&o), 1, "{from}: {}", stdout(&o));
        assert!(
            stdout(&o).contains("<stdin>:2:1: error["),
            "{from}: {}",
            stdout(&o)
        );
    }
}

#[test]
fn github_annotations_percent_encode_line_ends_in_file_names() {
    let dir = tempfile::tempdir().unwrap();
    let name = dir.path().join("new\nline\r.drain");
    std::fs::write(
        &name,
        frame("<190>1 2026-13-01T10:00:00Z host app web.1 - bad\n"),
    )
    .unwrap();
    let o = bin()
        .args(["validate", "--report", "github"])
        .arg(&name)
        .output()
        .unwrap();
    let out = stdout(&o);
    assert!(out.contains("new%0Aline%0D.drain,line=1"), "{out}");
    // The text report still shows them escaped, on one line.
    let o = bin().arg("validate").arg(&name).output().unwrap();
    assert!(
        stdout(&o).contains("new\\nline\\r.drain:1:"),
        "{}",
        stdout(&o)
    );
}

#[test]
fn counts_of_one_are_singular() {
    let o = run(&["validate"], good("x").as_bytes());
    assert!(
        stdout(&o).starts_with("checked 1 input: 1 frame, 1 valid"),
        "{}",
        stdout(&o)
    );
}

// The seventh outside trial of this wave, one rule per test; each failed on the binary it ran.

/// Whether `bytes`, or the text of any gzip member in them (inflated as far as it goes, by
/// flate2 here), holds a part of [`TOKEN`] after its `d.`.
fn token_recoverable(bytes: &[u8]) -> bool {
    use std::io::Read;
    let needle = &TOKEN.as_bytes()[2..14];
    let has = |b: &[u8]| b.windows(needle.len()).any(|w| w == needle);
    if has(bytes) {
        return true;
    }
    (0..bytes.len().saturating_sub(2))
        .filter(|&i| bytes[i..].starts_with(&[0x1f, 0x8b, 0x08]))
        .any(|i| {
            let mut text = Vec::new();
            let mut d = flate2::read::GzDecoder::new(&bytes[i..]);
            let mut block = [0u8; 4096];
            while let Ok(n) = d.read(&mut block) {
                if n == 0 {
                    break;
                }
                text.extend_from_slice(&block[..n]);
            }
            has(&text)
        })
}

#[test]
fn tokens_in_gzip_bodies_of_malformed_requests_are_not_in_rejects() {
    // A request rejected as malformed went to --rejects as it came: gunzip on its body gave
    // the tokens back.
    let body: String = (0..30).map(|i| token_frame(&format!("line {i}"))).collect();
    let z = gzip(body.as_bytes());
    let n = z.len();
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("cut short", post(&format!("Content-Encoding: gzip\r\nContent-Length: {n}\r\n"), &z[..n / 2])),
        ("longer length", post(&format!("Content-Encoding: gzip\r\nContent-Length: {}\r\n", n + 50), &z)),
        ("gzip, gzip", post(&format!("Content-Encoding: gzip, gzip\r\nContent-Length: {n}\r\n"), &z)),
        ("no encoding header", post(&format!("Content-Length: {n}\r\n"), &z)),
        ("lengths disagree", post(&format!("Content-Encoding: gzip\r\nContent-Length: {n}\r\nContent-Length: {}\r\n", n + 1), &z)),
        ("length and chunked", post(&format!("Content-Encoding: gzip\r\nContent-Length: {n}\r\nTransfer-Encoding: chunked\r\n"), &z)),
        ("bad length", post("Content-Encoding: gzip\r\nContent-Length: 1x\r\n", &z)),
        ("no length", post("Content-Encoding: gzip\r\n", &z)),
        ("huge length", post("Content-Encoding: gzip\r\nContent-Length: 99999999999\r\n", &z)),
    ];
    for (name, input) in cases {
        let (o, rej) = rejects_of(&["--from", "http", "-o", "/dev/null"], &input);
        assert_ne!(code(&o), 0, "{name}: {}", stderr(&o));
        assert!(!rej.is_empty(), "{name}: nothing rejected");
        assert!(
            !token_recoverable(&rej),
            "{name}: {}",
            String::from_utf8_lossy(&rej)
        );
    }
}

#[test]
fn a_request_in_an_unsupported_encoding_ends_where_its_length_says() {
    // Its body swallowed the next, valid request up to the next line starting `POST `.
    let bad = b"x\x9c\x2b\xcf\x48\x2c\x29\x4b\x2d\x02\x00"; // deflate: not read, no newline
    let mut input = post(
        &format!(
            "Content-Encoding: deflate\r\nContent-Length: {}\r\n",
            bad.len()
        ),
        bad,
    );
    for m in ["good one", "good two"] {
        let f = good(m);
        input.extend(post(
            &format!("Logplex-Msg-Count: 1\r\nContent-Length: {}\r\n", f.len()),
            f.as_bytes(),
        ));
    }
    let o = run(&["--fields", "message"], &input);
    assert_eq!(
        stdout(&o).lines().count(),
        2,
        "{}{}",
        stdout(&o),
        stderr(&o)
    );
    let v = report(&run(&["validate", "--report", "json"], &input));
    assert_eq!(v["summary"]["frames"], 3, "{v}");
    assert_eq!(v["summary"]["valid"], 2, "{v}");
}

#[test]
fn blank_lines_that_arrive_apart_on_a_live_pipe_are_passed_over_with_from() {
    // Found while fixing the sixth trial's `--from` finding: the first read ended the leading
    // blank lines, and a blank line in the next read was `garbage`.
    use std::io::Write;
    let mut child = bin()
        .args(["validate", "--report", "json", "--from", "octet", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    for part in ["\n", " \n", "\x1b[0m\n"] {
        stdin.write_all(part.as_bytes()).unwrap();
        stdin.flush().unwrap();
        std::thread::sleep(std::time::Duration::from_millis(120));
    }
    stdin.write_all(good("x").as_bytes()).unwrap();
    drop(stdin);
    let o = child.wait_with_output().unwrap();
    let r: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(r["summary"]["errors"], 0, "{r}");
    assert_eq!(r["summary"]["valid"], 1, "{r}");
}

// The eighth outside trial of this wave, one rule per test; each failed on the binary it ran.

#[test]
fn an_input_that_cannot_be_opened_before_an_http_capture_does_not_hang() {
    // The HTTP input waited for the run's Frame-Ids, which the unopened input never handed on.
    let dir = tempfile::tempdir().unwrap();
    let f = good("x");
    std::fs::write(
        dir.path().join("posts.http"),
        post(&format!("Content-Length: {}\r\n", f.len()), f.as_bytes()),
    )
    .unwrap();
    std::fs::create_dir(dir.path().join("empty")).unwrap();
    for (threads, missing) in [
        ("1", "missing.drain"),
        ("2", "missing.drain"),
        ("2", "empty"),
    ] {
        let mut child = bin()
            .current_dir(dir.path())
            .args(["validate", "--threads", threads, missing, "posts.http"])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let start = std::time::Instant::now();
        let status = loop {
            if let Some(s) = child.try_wait().unwrap() {
                break s;
            }
            if start.elapsed() > std::time::Duration::from_secs(20) {
                let _ = child.kill();
                panic!("threads {threads}, {missing}: still running after 20 s");
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        };
        assert_eq!(status.code(), Some(2), "threads {threads}, {missing}");
    }
}

#[test]
fn a_drain_token_too_short_to_mask_safely_is_refused() {
    // `--drain-token 1` turned every `HTTP/1.1` in --rejects into `HTTP/x.x`.
    for t in ["1", "d.x", "1234567"] {
        let o = run(&["validate", "--drain-token", t], good("x").as_bytes());
        assert_eq!(code(&o), 2, "{t}");
        assert!(
            stderr(&o).contains("--drain-token is"),
            "{t}: {}",
            stderr(&o)
        );
    }
    let o = run(
        &["validate", "--drain-token", "12345678"],
        good("x").as_bytes(),
    );
    assert_eq!(code(&o), 0, "{}", stderr(&o));
}

// The ninth outside trial of this wave, one rule per test; each failed on the binary it ran.

#[test]
fn a_list_read_from_stdin_redirected_from_a_file_is_guarded_like_an_input() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("a.drain"), good("x")).unwrap();
    std::fs::write(d.join("list"), "a.drain\n").unwrap();
    for flag in ["-o", "--rejects", "--report-json"] {
        let o = bin()
            .current_dir(d)
            .args(["--files-from", "-", flag, "list"])
            .stdin(std::fs::File::open(d.join("list")).unwrap())
            .output()
            .unwrap();
        assert_eq!(code(&o), 2, "{flag}: {}", stderr(&o));
        assert_eq!(
            std::fs::read_to_string(d.join("list")).unwrap(),
            "a.drain\n",
            "{flag}"
        );
    }
}

#[test]
fn pieces_of_the_token_value_cut_by_a_line_end_are_masked() {
    let s = "supersecretvalue";
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    for (name, first) in [
        ("g4.drain", "abc supersecre"),
        ("g5.drain", "ersecretvalue abc"),
    ] {
        std::fs::write(d.join(name), format!("{first}\n{}", good("x"))).unwrap();
        let o = bin()
            .current_dir(d)
            .args(["validate", "--drain-token", s, name])
            .output()
            .unwrap();
        assert_eq!(code(&o), 1, "{name}");
        assert!(!stdout(&o).contains("secre"), "{name}: {}", stdout(&o));
    }
    std::fs::write(d.join("list"), "ecretvalue\nsupersecr\n").unwrap();
    let o = bin()
        .current_dir(d)
        .args(["--drain-token", s, "--files-from", "list"])
        .output()
        .unwrap();
    assert_eq!(code(&o), 2);
    assert!(!stderr(&o).contains("secr"), "{}", stderr(&o));
    // A token from the environment is named as such when refused.
    let o = bin()
        .env("DRAINPIPE_DRAIN_TOKEN", "abc")
        .arg("validate")
        .arg(d.join("g4.drain"))
        .output()
        .unwrap();
    assert_eq!(code(&o), 2);
    assert!(
        stderr(&o).contains("DRAINPIPE_DRAIN_TOKEN is 3 bytes"),
        "{}",
        stderr(&o)
    );
}

// The tenth outside trial of this wave; the test failed on the binary it ran.

#[test]
fn any_bytes_after_the_gzip_data_get_the_same_clear_error() {
    // One or a few stray bytes were "unexpected end of file", as if the archive were cut.
    let dir = tempfile::tempdir().unwrap();
    let z = gzip(good("x").as_bytes());
    for tail in [
        &b"a"[..],
        b"abcd",
        b"abcdefghijklmnopqrstuvwxyz0123456789",
        b"\0\0\x1f",
    ] {
        let f = dir.path().join("t.gz");
        std::fs::write(&f, [&z[..], tail].concat()).unwrap();
        let o = bin().arg("validate").arg(&f).output().unwrap();
        assert_eq!(code(&o), 2, "{tail:?}");
        assert!(
            stdout(&o).contains(
                "bytes after the gzip data that are neither a gzip member nor zero padding"
            ),
            "{tail:?}: {}",
            stdout(&o)
        );
        assert!(
            stdout(&o).contains("1 frame, 1 valid"),
            "{tail:?}: {}",
            stdout(&o)
        );
    }
}

// The eleventh outside trial of this wave; each test failed on the binary it ran.

#[test]
fn the_man_page_documents_every_command_s_options() {
    // The page listed only --generate, -h and -V, and pointed at drainpipe-convert(1), which
    // nothing installs.
    let o = bin().args(["--generate", "man"]).output().unwrap();
    assert_eq!(code(&o), 0);
    let page = stdout(&o);
    for (section, option) in [
        ("CONVERT OPTIONS", r"\-\-rejects"),
        ("CONVERT OPTIONS", r"\-\-drain\-token"),
        ("VALIDATE OPTIONS", r"\-\-report"),
        ("SCHEMA OPTIONS", r"\-\-panther"),
    ] {
        let at = page
            .find(&format!(".SH \"{section}\""))
            .unwrap_or_else(|| panic!("{section}"));
        let body = &page[at + 1..];
        let body = &body[..body.find("\n.SH").unwrap_or(body.len())];
        assert!(body.contains(option), "{section}: {option}");
    }
}

#[test]
fn version_works_after_a_command_too() {
    let top = stdout(&bin().arg("--version").output().unwrap());
    let version = top.split_whitespace().nth(1).unwrap().to_string();
    for cmd in ["convert", "validate", "schema"] {
        let o = bin().args([cmd, "--version"]).output().unwrap();
        assert_eq!(code(&o), 0, "{cmd}: {}", stderr(&o));
        assert!(stdout(&o).contains(&version), "{cmd}: {}", stdout(&o));
    }
}
