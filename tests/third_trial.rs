//! What the third outside trial broke (this wave's), one rule per test. Each test failed on
//! the binary the trial ran; expected values come from README's promises, computed here.

mod common;
use common::*;
use std::fs::File;
use std::path::Path;
use std::process::{Command, Stdio};

/// Three valid frames.
fn three() -> String {
    ["one", "two", "three"]
        .iter()
        .map(|m| good(m))
        .collect::<Vec<_>>()
        .concat()
}

/// Runs `cmd` with stdout sent to the regular file `out`; returns the exit code.
fn run_into_file(mut cmd: Command, out: &Path) -> i32 {
    let f = File::create(out).unwrap();
    let st = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::from(f))
        .stderr(Stdio::null())
        .status()
        .unwrap();
    st.code().unwrap()
}

#[test]
fn dev_stdout_redirected_to_a_file_keeps_the_records() {
    // `--report-json /dev/stdout > out.txt` used to replace out.txt (a temp file renamed over
    // it) and lose every record written to stdout. A side output into the record stream is
    // now refused before anything is read (see a_side_output_into_the_record_stream_is_refused);
    // `-o /dev/stdout > out.txt` writes the records through the stream, never renaming over it.
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.drain");
    std::fs::write(&input, three()).unwrap();
    let out = dir.path().join("out.txt");
    let mut cmd = bin();
    cmd.arg(&input).args(["-o", "/dev/stdout"]);
    assert_eq!(run_into_file(cmd, &out), 0);
    let text = std::fs::read_to_string(&out).unwrap();
    assert_eq!(text.matches("\"message_len\"").count(), 3, "{text}");
    let mut cmd = bin();
    cmd.arg(&input).args(["--report-json", "/dev/stdout"]);
    assert_eq!(run_into_file(cmd, &out), 2);
}

#[test]
fn a_token_cut_short_after_a_letter_is_still_redacted() {
    let token = "d.0b6a7c1e-1111-4222-8333-444455556666";
    for k in 18..44 {
        for t in [token.to_string(), token.to_uppercase()] {
            let capture = format!("{}{}{t}\n{}", good("ok"), "x".repeat(k), good("ok"));
            for report in ["text", "json", "github"] {
                let o = run(&["validate", "--report", report], capture.as_bytes());
                let out = stdout(&o).to_lowercase();
                // Any two hex digits of the token after `d.` would be a leak.
                assert!(!out.contains("d.0b"), "k={k} {report}: {out}");
                assert!(!out.contains("0b6a"), "k={k} {report}: {out}");
            }
        }
    }
}

#[test]
fn a_folded_token_header_is_redacted_in_rejects_continuation_included() {
    let req = "POST /logs HTTP/1.1\r\nHost: x\r\nLogplex-Drain-Token: d.0b6a7c1e-1111\r\n -4222-8333-444455556666\r\nContent-Length: 5\r\nLogplex-Frame-Id: a3\r\n\r\nhello";
    let dir = tempfile::tempdir().unwrap();
    let rj = dir.path().join("rj.http");
    // A wrong token rejects the whole request, head included, into --rejects.
    let o = bin()
        .arg("--rejects")
        .arg(&rj)
        .args(["--drain-token", "d.other-token", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .and_then(|mut c| {
            use std::io::Write;
            c.stdin.take().unwrap().write_all(req.as_bytes())?;
            c.wait()
        })
        .unwrap();
    assert_eq!(o.code(), Some(1));
    let rejected = std::fs::read_to_string(&rj).unwrap();
    assert!(rejected.contains("[redacted]"), "{rejected}");
    assert!(!rejected.contains("4222"), "{rejected}");
    assert!(!rejected.contains("0b6a"), "{rejected}");
}

/// A PostgreSQL chunk frame from one source.
fn pg(text: &str) -> String {
    frame(&format!(
        "<134>1 2026-03-01T12:00:00Z h app postgres.1 - {text}\n"
    ))
}

#[test]
fn rejoin_keeps_the_newline_before_an_indented_line() {
    // "SELECT x…x" (895 bytes) then "    FROM orders": PostgreSQL cut at the newline; a cut at
    // its limit would have left a 897-900-byte piece or one whitespace byte before the word.
    let first = format!("SELECT {}", "x".repeat(888));
    let capture = format!(
        "{}{}",
        pg(&format!("[DATABASE] [7-1] {first}")),
        pg("[DATABASE] [7-2]     FROM orders")
    );
    let o = run(&["--rejoin", "--fields", "message"], capture.as_bytes());
    let rec: serde_json::Value = serde_json::from_str(stdout(&o).trim()).unwrap();
    assert_eq!(
        rec["message"].as_str().unwrap(),
        format!("[DATABASE] [7] {first}\n    FROM orders")
    );
}

#[test]
fn text_reports_escape_control_bytes_in_file_names() {
    let dir = tempfile::tempdir().unwrap();
    let name = "g,h:i\n::warning::x%\u{1b}[31m";
    std::fs::write(dir.path().join(name), "garbage\n").unwrap();
    let o = bin().arg("validate").arg(dir.path()).output().unwrap();
    let out = stdout(&o);
    assert!(
        !out.lines().any(|l| l.starts_with("::warning::")),
        "a file name starts a line: {out}"
    );
    assert!(!out.contains('\u{1b}'), "raw escape: {out:?}");
    assert!(out.contains("\\n::warning::x%"), "{out}");
    // The same for --stdin-name, and for convert's summary line.
    let o = run(
        &["validate", "--stdin-name", "a\n::error::injected\nb"],
        b"garbage\n",
    );
    assert!(!stdout(&o).lines().any(|l| l.starts_with("::error::")));
    let o = run(&["--stdin-name", "a\n::error::x"], b"garbage\n");
    assert!(
        !stderr(&o).lines().any(|l| l.starts_with("::error::")),
        "{}",
        stderr(&o)
    );
}

#[test]
fn a_chain_the_run_stopped_in_is_written_as_it_came() {
    let capture = format!(
        "{}{}{}junk\n{}",
        good("before"),
        pg("[1-1] a"),
        good("mid"),
        pg("[1-2] b")
    );
    let o = run(
        &["--rejoin", "--on-error", "fail", "--fields", "message"],
        capture.as_bytes(),
    );
    assert_eq!(code(&o), 1);
    let out = stdout(&o);
    assert!(out.contains("\"[1-1] a\""), "{out}");
    assert!(!out.contains("\"[1] a\""), "{out}");
}

#[test]
fn stdin_cannot_be_both_the_list_and_an_input() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.drain");
    std::fs::write(&input, three()).unwrap();
    let list = format!("{}\n", input.display());
    let o = run(&["--files-from", "-", "-"], list.as_bytes());
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    assert!(stdout(&o).is_empty(), "usage errors touch nothing");
    assert!(stderr(&o).contains("--files-from -"), "{}", stderr(&o));
}

#[test]
fn blank_lines_before_the_first_unit_are_ignored() {
    let syslog = "<190>1 2026-03-01T12:00:00Z h a p - m\n";
    let cli = "2026-03-01T12:00:00+00:00 app[web.1]: hello\n";
    let octet = good("m");
    let body = good("x");
    let http = post(
        &format!("Content-Length: {}\r\n", body.len()),
        body.as_bytes(),
    );
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("syslog", [b"\n".as_slice(), syslog.as_bytes()].concat()),
        ("octet", [b"\r\n\n".as_slice(), octet.as_bytes()].concat()),
        (
            "octet after BOM",
            [b"\xef\xbb\xbf\r\n".as_slice(), octet.as_bytes()].concat(),
        ),
        ("cli", [b"\n\n".as_slice(), cli.as_bytes()].concat()),
        ("http", [b"\r\n".as_slice(), &http].concat()),
    ];
    for (name, input) in cases {
        let o = run(&["validate", "--report", "json"], &input);
        assert_eq!(code(&o), 0, "{name}: {}", stdout(&o));
        let r = report(&o);
        assert_eq!(r["summary"]["valid"], 1, "{name}: {r}");
        assert_eq!(r["summary"]["frames"], 1, "{name}: {r}");
    }
    // Garbage after blank lines is still garbage, quoted from its first non-blank line.
    let o = run(&["validate"], format!("\n\nhello\n{syslog}").as_bytes());
    assert_eq!(code(&o), 1);
    assert!(stdout(&o).contains("<stdin>:3:1:"), "{}", stdout(&o));
    assert!(stdout(&o).contains("\"hello\""), "{}", stdout(&o));
}

#[test]
fn too_many_threads_is_an_error_about_threads() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.drain");
    std::fs::write(&input, three()).unwrap();
    let o = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "ulimit -v 300000; exec {} --threads 1000 {}",
            env!("CARGO_BIN_EXE_drainpipe"),
            input.display()
        ))
        .output()
        .unwrap();
    let err = stderr(&o);
    assert_eq!(code(&o), 2, "{err}");
    assert!(!err.contains("writing output"), "{err}");
    assert!(err.contains("thread"), "{err}");
    // Absurd counts are usage errors.
    let o = bin()
        .args(["--threads", "65535"])
        .arg(&input)
        .output()
        .unwrap();
    assert_eq!(code(&o), 2);
}

#[test]
fn the_schema_declares_no_indicator_convert_does_not_write() {
    let o = bin()
        .args(["schema", "--panther", "--expand"])
        .output()
        .unwrap();
    let y = stdout(&o);
    // Only host_name is an indicator: convert --panther derives p_any_* from it alone.
    assert_eq!(y.matches("indicators:").count(), 1, "{y}");
}

#[test]
fn summary_lines_keep_rejected_frames_apart_from_other_errors() {
    let capture = format!("{}{}", pg("[3-2] orphan"), good("fine"));
    let o = run(&["--rejoin", "--strict"], capture.as_bytes());
    assert_eq!(code(&o), 1);
    let line = stderr(&o);
    assert!(
        line.starts_with("drainpipe: 0 of 2 frames rejected;"),
        "{line}"
    );
    assert!(line.contains("; 1 other error (rejoin 1)"), "{line}");
}

// ---- The second trial of this wave ------------------------------------------------------------

#[test]
fn a_side_output_into_the_record_stream_is_refused() {
    // --report-json or --rejects into the stream that carries the records (or drainpipe's own
    // messages) would interleave two documents byte-wise, differently from run to run.
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.drain");
    std::fs::write(&input, format!("{}junk\n", three())).unwrap();
    let out = dir.path().join("out.txt");
    for flag in ["--report-json", "--rejects"] {
        let mut cmd = bin();
        cmd.arg(&input).args([flag, "/dev/stdout"]);
        assert_eq!(run_into_file(cmd, &out), 2, "{flag}");
        assert_eq!(std::fs::read(&out).unwrap(), b"", "{flag}: nothing written");
        // Through a pipe too.
        let o = run(&[flag, "/dev/stdout"], three().as_bytes());
        assert_eq!(code(&o), 2, "{flag}");
        assert!(stderr(&o).contains("stdout"), "{}", stderr(&o));
        // Into the file stderr writes to.
        let err = File::create(dir.path().join("err.txt")).unwrap();
        let st = bin()
            .arg(&input)
            .args([flag, "/dev/stderr"])
            .stdout(Stdio::null())
            .stderr(Stdio::from(err))
            .status()
            .unwrap();
        assert_eq!(st.code(), Some(2), "{flag} /dev/stderr");
    }
    // With the records in -o, the report may go to stdout; /dev/null is always fine.
    let rec = dir.path().join("rec.ndjson");
    let o = bin()
        .arg(&input)
        .arg("-o")
        .arg(&rec)
        .args(["--report-json", "/dev/stdout"])
        .output()
        .unwrap();
    assert_eq!(code(&o), 1);
    let r: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(r["summary"]["valid"], 3);
    let o = bin()
        .arg(&input)
        .args(["--rejects", "/dev/null", "-o", "/dev/null"])
        .stderr(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(code(&o), 1);
}

#[test]
fn a_token_header_line_with_space_before_its_colon_is_redacted_in_rejects() {
    let token = "d.0f8e2a6c-1b3d-4e5f-9a7b-8c9d0e1f2a3b";
    let body = good("hi");
    for sep in [" :", "\t:", "  :"] {
        let req = format!(
            "POST /logs HTTP/1.1\r\nLogplex-Msg-Count: 1\r\nLogplex-Drain-Token{sep} {token}\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        let dir = tempfile::tempdir().unwrap();
        let rj = dir.path().join("rj.http");
        let o = bin()
            .arg("-o")
            .arg("/dev/null")
            .arg("--rejects")
            .arg(&rj)
            .arg("-")
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .and_then(|mut c| {
                use std::io::Write;
                c.stdin.take().unwrap().write_all(req.as_bytes())?;
                c.wait()
            })
            .unwrap();
        assert_eq!(o.code(), Some(1), "{sep:?}");
        let rejected = std::fs::read_to_string(&rj).unwrap();
        assert!(!rejected.contains("0f8e2a6c"), "{sep:?}: {rejected}");
        assert!(rejected.contains("[redacted]"), "{sep:?}: {rejected}");
    }
}

#[test]
fn a_postgresql_chain_whose_last_piece_was_cut_at_the_limit_is_not_complete() {
    // A 900-byte piece proves more was coming: when no next piece comes (end of input, or the
    // window), the chain is written as it came, with a warning, not as a finished message.
    let capture = pg(&format!("[DATABASE] [12-1] {}", "x".repeat(900)));
    let o = run(
        &["--rejoin", "--fields", "message_len,message"],
        capture.as_bytes(),
    );
    assert_eq!(code(&o), 0);
    let rec: serde_json::Value = serde_json::from_str(stdout(&o).trim()).unwrap();
    assert!(
        rec["message"]
            .as_str()
            .unwrap()
            .starts_with("[DATABASE] [12-1] xxx"),
        "{rec}"
    );
    assert!(rec["message_len"].is_u64(), "{rec}");
    assert!(stderr(&o).contains("rejoin 1"), "{}", stderr(&o));
    // But when its source moves on to another message, PostgreSQL finished this one (it
    // writes a message's chunks one after another), whatever its last piece's length.
    let capture = format!(
        "{}{}",
        pg(&format!("[DATABASE] [14-1] {}", "y".repeat(899))),
        pg("something else")
    );
    let o = run(&["--rejoin", "--fields", "message"], capture.as_bytes());
    assert!(
        stdout(&o).contains("\"[DATABASE] [14] yyy"),
        "{}",
        stdout(&o)
    );
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    // A short last piece may end its message: that chain is complete.
    let o = run(
        &["--rejoin", "--fields", "message"],
        pg("[DATABASE] [13-1] SELECT 1").as_bytes(),
    );
    assert!(
        stdout(&o).contains("\"[DATABASE] [13] SELECT 1\""),
        "{}",
        stdout(&o)
    );
}

#[test]
fn a_list_read_from_stdin_by_any_name_cannot_share_it() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.drain");
    std::fs::write(&input, three()).unwrap();
    let list = format!("{}\n", input.display());
    let o = run(&["--files-from", "/dev/stdin", "-"], list.as_bytes());
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    assert!(stdout(&o).is_empty());
}

#[test]
fn names_are_shown_without_bidi_controls_or_tokens_and_stdin_name_is_not_empty() {
    let dir = tempfile::tempdir().unwrap();
    let token = "d.11111111-2222-4333-8444-555555555555";
    std::fs::write(dir.path().join("a\u{202e}b.drain"), "junk\n").unwrap();
    let o = bin().arg("validate").arg(dir.path()).output().unwrap();
    assert!(!stdout(&o).contains('\u{202e}'), "{}", stdout(&o));
    let o = bin()
        .args(["--drain-token", token, token])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(code(&o), 2);
    assert!(!stderr(&o).contains("55555555"), "{}", stderr(&o));
    let o = run(&["--stdin-name", ""], b"");
    assert_eq!(code(&o), 2, "an empty name is a usage error");
}

#[test]
fn a_failing_report_file_is_named_as_such() {
    let o = run(
        &["--report-json", "/dev/full", "-o", "/dev/null"],
        three().as_bytes(),
    );
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("--report-json"), "{}", stderr(&o));
}

#[test]
fn whitespace_and_colour_only_lines_before_the_first_unit_are_blank() {
    let syslog = "<190>1 2026-03-01T12:00:00Z h a p - m\n";
    for lead in ["   \n", "\t\n", "\x0c\n", "\x1b[0m\n", " \r\n\n"] {
        let o = run(
            &["validate", "--report", "json"],
            format!("{lead}{syslog}").as_bytes(),
        );
        assert_eq!(code(&o), 0, "{lead:?}: {}", stdout(&o));
    }
}

// ---- The third trial of this wave ------------------------------------------------------------

/// `bad.drain` of the trial: one good frame and a garbage line.
fn good_and_garbage() -> String {
    format!("{}garbage line\n", good("ok"))
}

#[test]
fn a_side_output_into_stderr_is_refused_when_stderr_and_stdout_share_a_pipe() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("bad.drain");
    std::fs::write(&input, good_and_garbage()).unwrap();
    let bin_path = env!("CARGO_BIN_EXE_drainpipe");
    for args in [
        "-o /dev/stdout --report-json /dev/stderr",
        "-o x.nd --rejects /dev/stderr",
        "-o x.nd --report-json /proc/self/fd/2",
    ] {
        let o = Command::new("sh")
            .current_dir(dir.path())
            .arg("-c")
            .arg(format!("{bin_path} bad.drain {args} 2>&1 | cat"))
            .output()
            .unwrap();
        let out = String::from_utf8_lossy(&o.stdout);
        assert!(out.contains("stderr"), "{args}: {out}");
        assert!(
            !out.contains("\"message_len\""),
            "{args}: nothing read: {out}"
        );
    }
}

#[test]
fn drain_tokens_are_overwritten_in_rejects_and_the_token_value_is_never_quoted() {
    let t = "d.3f2504e0-4f89-11d3-9a0c-0305e82c3301";
    let f = |m: &str, ts: &str| {
        let b = format!("<190>1 {ts} {t} app web.1 - {m}");
        format!("{} {b}", b.len())
    };
    let body = format!(
        "{}{}",
        f("ok\n", "2026-03-01T12:00:00.123456+00:00"),
        f("bad ts\n", "2026-02-30T00:00:00Z")
    );
    let req = format!(
        "POST /logs HTTP/1.1\r\nLogplex-Drain-Token: {t}\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let dir = tempfile::tempdir().unwrap();
    let rj = dir.path().join("real.rej");
    let mut cmd = bin();
    cmd.env("DRAINPIPE_DRAIN_TOKEN", t)
        .args(["-o", "/dev/null", "--rejects"])
        .arg(&rj)
        .arg("-");
    assert_eq!(code(&run_cmd(cmd, req.as_bytes())), 1);
    let rejected = std::fs::read(&rj).unwrap();
    let text = String::from_utf8_lossy(&rejected);
    assert!(!text.contains("3f2504e0"), "{text}");
    // Overwritten in place, so the rejected frame still reads as the same frame.
    let v = bin()
        .arg("validate")
        .arg(&rj)
        .args(["--report", "json"])
        .output()
        .unwrap();
    let r = report(&v);
    assert_eq!(r["errors"][0]["code"], "timestamp", "{r}");
    // A --drain-token of any form is never quoted in errors or reports, nor kept in rejects.
    let secret = "s3cr3t-tok";
    let capture = format!("{secret} garbage\n{}", good("ok"));
    for report_kind in ["text", "json", "github"] {
        let o = run(
            &["validate", "--drain-token", secret, "--report", report_kind],
            capture.as_bytes(),
        );
        assert!(!stdout(&o).contains(secret), "{}", stdout(&o));
    }
    let rj = dir.path().join("s.rej");
    let mut cmd = bin();
    cmd.args(["--drain-token", secret, "-o", "/dev/null", "--rejects"])
        .arg(&rj)
        .arg("-");
    assert_eq!(code(&run_cmd(cmd, capture.as_bytes())), 1);
    let rejected = std::fs::read_to_string(&rj).unwrap();
    assert!(!rejected.contains(secret), "{rejected}");
}

#[test]
fn paths_in_every_message_line_are_escaped_and_masked() {
    let t = "d.3f2504e0-4f89-11d3-9a0c-0305e82c3301";
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("a.drain"), good("ok")).unwrap();
    // A broken link with an escape, a newline and a token in its name.
    std::fs::create_dir(d.join("dl")).unwrap();
    std::fs::write(d.join("dl/real.drain"), good("ok")).unwrap();
    std::os::unix::fs::symlink("nowhere", d.join(format!("dl/x\x1b[31m\n::error::{t}"))).unwrap();
    let check = |o: &std::process::Output, what: &str| {
        let e = stderr(o);
        assert!(!e.contains('\x1b'), "{what}: {e:?}");
        assert!(
            !e.lines().any(|l| l.starts_with("::error::")),
            "{what}: {e}"
        );
        assert!(!e.contains("3f2504e0"), "{what}: {e}");
    };
    let o = bin()
        .current_dir(d)
        .args(["dl", "-o", "/dev/null"])
        .output()
        .unwrap();
    check(&o, "broken link");
    // Refusals and cannot-create errors.
    let n = format!("in\x1b[1m\n::error::{t}");
    std::fs::write(d.join(&n), good("ok")).unwrap();
    let o = bin()
        .current_dir(d)
        .arg(&n)
        .arg("-o")
        .arg(&n)
        .output()
        .unwrap();
    assert_eq!(code(&o), 2);
    check(&o, "refusal");
    let o = bin()
        .current_dir(d)
        .args(["a.drain", "-o"])
        .arg(format!("no\x1b[31mdir\n::error::{t}/o.nd"))
        .output()
        .unwrap();
    assert_eq!(code(&o), 2);
    check(&o, "cannot create");
    assert!(!stderr(&o).contains(".tmp"), "{}", stderr(&o));
    let o = bin()
        .current_dir(d)
        .args(["--files-from", t])
        .output()
        .unwrap();
    assert_eq!(code(&o), 2);
    check(&o, "files-from");
}

#[test]
fn zero_padding_after_gzip_data_is_ignored_as_gzip_does() {
    let capture = three();
    let mut gz = gzip(capture.as_bytes());
    gz.extend_from_slice(&[0; 4]);
    let o = run(&["--fields", "message"], &gz);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(stdout(&o).lines().count(), 3);
    // Other trailing bytes are still an error.
    let mut gz = gzip(capture.as_bytes());
    gz.extend_from_slice(b"junk");
    let o = run(&["--fields", "message"], &gz);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    assert_eq!(
        stdout(&o).lines().count(),
        3,
        "the records before are written"
    );
}

#[test]
fn stdin_by_any_name_cannot_be_both_the_list_and_an_input() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("a.drain");
    std::fs::write(&input, three()).unwrap();
    let list = format!("{}\n", input.display());
    let o = run(&["--files-from", "-", "/dev/stdin"], list.as_bytes());
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    assert!(stdout(&o).is_empty());
    let o = run(&["--files-from", "-"], b"/dev/stdin\n");
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    let o = run(&["--files-from", "/dev/stdin", "-"], list.as_bytes());
    assert!(
        stderr(&o).contains("--files-from /dev/stdin"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn the_list_file_is_not_overwritten() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("a.drain");
    std::fs::write(&input, three()).unwrap();
    let list = dir.path().join("lst");
    std::fs::write(&list, format!("{}\n", input.display())).unwrap();
    for flag in ["-o", "--rejects", "--report-json"] {
        let o = bin()
            .arg("--files-from")
            .arg(&list)
            .arg(flag)
            .arg(&list)
            .output()
            .unwrap();
        assert_eq!(code(&o), 2, "{flag}");
        assert_eq!(
            std::fs::read_to_string(&list).unwrap(),
            format!("{}\n", input.display())
        );
    }
}

#[test]
fn a_directory_with_no_regular_file_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let o = bin().arg("validate").arg(dir.path()).output().unwrap();
    assert_ne!(code(&o), 0, "{}", stdout(&o));
}

#[test]
fn invisible_characters_in_names_are_escaped_in_text_and_github_reports() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path()
            .join("b\x1b[31m\x7f\u{202e}\u{2028}\u{200b}\u{feff}.drain"),
        "junk\n",
    )
    .unwrap();
    for kind in ["text", "github"] {
        let o = bin()
            .args(["validate", "--report", kind])
            .arg(dir.path())
            .output()
            .unwrap();
        let out = stdout(&o);
        for c in [
            '\x1b', '\x7f', '\u{202e}', '\u{2028}', '\u{200b}', '\u{feff}',
        ] {
            assert!(!out.contains(c), "{kind}: {c:?} in {out:?}");
        }
    }
    let o = run(&["--stdin-name", " "], b"");
    assert_eq!(code(&o), 2);
}

#[test]
fn an_output_path_naming_a_directory_fails_before_reading() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("a.drain");
    std::fs::write(&input, three()).unwrap();
    let o = bin()
        .current_dir(dir.path())
        .args(["a.drain", "-o", "x.nd/"])
        .output()
        .unwrap();
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("x.nd/"), "{}", stderr(&o));
    assert!(stdout(&o).is_empty());
}
