//! `drainpipe convert`, run as a user would: the real binary, real files and pipes.

mod common;
use common::*;
use std::io::{BufRead, BufReader, Write};
use std::process::Stdio;
use std::time::{Duration, Instant};

/// The shipped sample against expectations written by testdata/make_sample.py, which computes
/// the records from its own structured data (independent of drainpipe's parser).
#[test]
fn sample_capture_gives_the_independently_computed_records() {
    let o = bin().arg(testdata("sample.drain")).output().unwrap();
    assert_eq!(code(&o), 1, "the sample has bad frames: exit 1");
    let got: Vec<serde_json::Value> = stdout(&o)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let want: Vec<serde_json::Value> = std::fs::read_to_string(testdata("sample.expected.ndjson"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(got.len(), want.len());
    for (g, w) in got.iter().zip(&want) {
        assert_eq!(g, w);
    }
    let err = stderr(&o);
    assert_eq!(err.lines().count(), 1, "one summary line: {err}");
    assert!(err.contains("6 of 19 frames rejected"), "{err}");
}

#[test]
fn fields_come_in_spec_order_and_output_is_utf8_json() {
    let input =
        good("say \"hi\"\u{2028}\u{7}\tcaf\u{e9}") + &frame("<13>1 - - - - - \u{FEFF}bom\n");
    let o = run(&[], input.as_bytes());
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let out = stdout(&o);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 2);
    assert!(lines[0].starts_with("{\"message_len\":"));
    let keys = [
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
    let mut at = 0;
    for k in keys {
        let i = lines[0][at..]
            .find(&format!("\"{k}\":"))
            .unwrap_or_else(|| panic!("{k} out of order"));
        at += i;
    }
    assert!(
        lines[0].contains(r#""message":"say \"hi\"\u2028\u0007\tcafé""#),
        "{}",
        lines[0]
    );
    let v: serde_json::Value = serde_json::from_str(lines[1]).unwrap();
    assert_eq!(v["message"], "bom");
    assert_eq!(v["timestamp"], serde_json::Value::Null);
}

#[test]
fn bare_command_is_convert_and_dash_is_stdin() {
    let input = good("one") + &good("two");
    let a = run(&[], input.as_bytes());
    let b = run(&["convert", "-"], input.as_bytes());
    let c = run(&["-"], input.as_bytes());
    assert_eq!(code(&a), 0);
    assert_eq!(a.stdout, b.stdout);
    assert_eq!(a.stdout, c.stdout);
    assert_eq!(stdout(&a).lines().count(), 2);
}

#[test]
fn fields_option_picks_and_orders_columns() {
    let o = run(&["--fields", "message,priority"], good("x").as_bytes());
    assert_eq!(stdout(&o), "{\"message\":\"x\",\"priority\":190}\n");
    let o = run(&["--fields", "message,bogus"], good("x").as_bytes());
    assert_eq!(code(&o), 2);
    let e = stderr(&o);
    assert!(
        e.contains("bogus") && e.contains("message_len,priority,version"),
        "{e}"
    );
}

#[test]
fn rejects_hold_exactly_the_bad_bytes_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let rejects = dir.path().join("rejects.drain");
    let bad1 = "garbage line\n";
    let bad2 = frame("<192>1 - h a p m x\n");
    let bad3 = "10 <1>1 - h a p m too long for its length\n";
    let input = format!(
        "{}{bad1}{}{bad2}{}{bad3}{}",
        good("a"),
        good("b"),
        good("c"),
        good("d")
    );
    let o = run(&["--rejects", rejects.to_str().unwrap()], input.as_bytes());
    assert_eq!(code(&o), 1);
    assert_eq!(stdout(&o).lines().count(), 4);
    let got = std::fs::read_to_string(&rejects).unwrap();
    assert_eq!(got, format!("{bad1}{bad2}{bad3}"));
    // Validating the rejects finds only errors, one per rejected frame.
    let v = bin()
        .args(["validate", "--report", "json", rejects.to_str().unwrap()])
        .output()
        .unwrap();
    let r = report(&v);
    assert_eq!(r["summary"]["valid"], 0);
    assert_eq!(r["summary"]["invalid"], 3);
}

#[test]
fn output_file_is_written_atomically() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.ndjson");
    let o = bin()
        .args([
            testdata("sample.drain").to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert_eq!(code(&o), 1);
    assert_eq!(std::fs::read_to_string(&out).unwrap().lines().count(), 13);
    // With --on-error fail the run fails and leaves neither the file nor a temp file behind.
    let out2 = dir.path().join("out2.ndjson");
    let o = bin()
        .args([
            testdata("sample.drain").to_str().unwrap(),
            "-o",
            out2.to_str().unwrap(),
            "--on-error",
            "fail",
        ])
        .output()
        .unwrap();
    assert_eq!(code(&o), 1);
    assert!(!out2.exists());
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(names, vec!["out.ndjson".to_string()]);
    let e = stderr(&o);
    assert!(e.contains("sample.drain:3:4: error[priority]"), "{e}");
}

#[test]
fn on_error_fail_stops_at_the_first_bad_frame() {
    let input = format!(
        "{}{}{}",
        good("a"),
        frame("<999>1 - h a p m x\n"),
        good("c")
    );
    let o = run(&["--on-error", "fail"], input.as_bytes());
    assert_eq!(code(&o), 1);
    assert_eq!(
        stdout(&o).lines().count(),
        1,
        "only the record before the error"
    );
    assert!(
        stderr(&o).contains("<stdin>:2:4: error[priority]"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn missing_file_is_reported_and_others_still_convert() {
    let o = bin()
        .args([
            "/nonexistent/capture.drain",
            testdata("sample.drain").to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert_eq!(code(&o), 2);
    assert_eq!(stdout(&o).lines().count(), 13);
    assert!(stderr(&o).contains("/nonexistent/capture.drain: error[io]: No such file or directory"));
}

#[test]
fn closed_stdout_ends_quietly() {
    let (capture, _) = synth(20_000, 7, false);
    let mut child = bin()
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let feeder = std::thread::spawn(move || {
        let _ = stdin.write_all(&capture);
    });
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    // Dropping our end closes the pipe, like `| head -1` does.
    let out = child.wait_with_output().unwrap();
    feeder.join().unwrap();
    assert!(first.starts_with("{\"message_len\":"));
    assert_eq!(code(&out), 0);
    assert_eq!(stderr(&out), "");
}

#[test]
fn full_disk_is_a_clear_error() {
    if !std::path::Path::new("/dev/full").exists() {
        panic!("/dev/full is needed for this test");
    }
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .unwrap();
    let o = bin()
        .arg(testdata("sample.drain"))
        .stdout(full)
        .output()
        .unwrap();
    assert_eq!(code(&o), 2);
    assert!(
        stderr(&o).contains("No space left on device"),
        "{}",
        stderr(&o)
    );
}

/// A live pipe: each record must come out while stdin stays open, not at end of input.
#[test]
fn live_pipe_streams_each_record_as_its_frame_completes() {
    let (mut child, mut stdin, mut lines) = live(&[]);
    for i in 0..3 {
        let f = good(&format!("live {i}"));
        // Send the frame in two writes, the second after a pause, as a slow sender would.
        let (a, b) = f.split_at(10);
        stdin.write_all(a.as_bytes()).unwrap();
        stdin.flush().unwrap();
        std::thread::sleep(Duration::from_millis(20));
        let sent = Instant::now();
        stdin.write_all(b.as_bytes()).unwrap();
        stdin.flush().unwrap();
        let line = lines.next().unwrap().unwrap();
        let waited = sent.elapsed();
        assert!(line.contains(&format!("live {i}")), "{line}");
        // README promises ~100 ms; allow slack for a loaded CI machine, far below "at EOF".
        assert!(
            waited < Duration::from_secs(2),
            "record {i} took {waited:?}"
        );
    }
    drop(stdin);
    assert!(child.wait().unwrap().success());
}

#[test]
fn output_is_identical_at_any_thread_count_and_block_size() {
    let (capture, good_frames) = synth(8_000, 11, true);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cap.drain");
    std::fs::write(&path, &capture).unwrap();
    let p = path.to_str().unwrap();
    let reference = bin().args([p, "--threads", "1"]).output().unwrap();
    assert_eq!(code(&reference), 1);
    assert_eq!(stdout(&reference).lines().count(), good_frames);
    for args in [
        vec!["--threads", "2"],
        vec!["--threads", "7"],
        vec!["--threads", "3", "--block-size", "4096"],
        vec!["--threads", "2", "--block-size", "100"],
    ] {
        let o = bin().arg(p).args(&args).output().unwrap();
        assert!(o.stdout == reference.stdout, "records differ with {args:?}");
        assert_eq!(o.stderr, reference.stderr, "summary differs with {args:?}");
    }
    // Piped through stdin (streaming reads) too.
    let o = run(&["--threads", "2"], &capture);
    assert!(o.stdout == reference.stdout, "records differ when piped");
}

#[test]
fn gen_drain_capture_is_identical_at_any_thread_count() {
    let Some((capture, _)) = gen_drain(&["--size", "2M", "--seed", "11", "--bad-rate", "0.02"])
    else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cap.drain");
    std::fs::write(&path, &capture).unwrap();
    let p = path.to_str().unwrap();
    let reference = bin().args([p, "--threads", "1"]).output().unwrap();
    assert_eq!(code(&reference), 1);
    // Accounting: every frame is a record or a rejection, as the summary line says.
    let records = stdout(&reference).lines().count();
    let summary = stderr(&reference);
    let (rejected, frames) = summary
        .strip_prefix("drainpipe: ")
        .and_then(|s| s.split_once(" frames rejected"))
        .and_then(|(counts, _)| counts.split_once(" of "))
        .map(|(r, f)| (r.parse::<usize>().unwrap(), f.parse::<usize>().unwrap()))
        .unwrap_or_else(|| panic!("summary line: {summary}"));
    assert!(rejected > 50, "{summary}");
    assert_eq!(records + rejected, frames);
    for t in ["2", "7"] {
        let o = bin()
            .args([p, "--threads", t, "--block-size", "65536"])
            .output()
            .unwrap();
        assert!(
            o.stdout == reference.stdout,
            "records differ with --threads {t}"
        );
        assert_eq!(o.stderr, reference.stderr);
    }
}

#[test]
fn many_inputs_do_not_exhaust_the_buffer_pool() {
    // Each input used to keep one pooled buffer when it ended; after a few inputs the reader
    // waited for a buffer forever. A directory of many files, some not captures, some empty.
    let dir = tempfile::tempdir().unwrap();
    let mut expected = 0;
    for i in 0..40 {
        let path = dir.path().join(format!("{i:02}.drain"));
        match i % 4 {
            0 => std::fs::write(&path, "hello, not a capture\n").unwrap(),
            1 => std::fs::write(&path, "").unwrap(),
            _ => {
                std::fs::write(&path, good(&format!("file {i}"))).unwrap();
                expected += 1;
            }
        }
    }
    for threads in ["1", "2", "3"] {
        let mut child = bin()
            .args(["--threads", threads])
            .arg(dir.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(30);
        while child.try_wait().unwrap().is_none() {
            if Instant::now() > deadline {
                child.kill().unwrap();
                panic!("--threads {threads}: still running after 30 s");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let o = child.wait_with_output().unwrap();
        assert_eq!(code(&o), 1, "format errors for the junk and empty files");
        assert_eq!(stdout(&o).lines().count(), expected, "--threads {threads}");
    }
}

#[test]
fn output_to_a_fifo_or_device_is_written_in_place() {
    // Renaming a temp file over them would replace a pipe or a device with a regular file.
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("fifo");
    let made = std::process::Command::new("mkfifo").arg(&fifo).status();
    if !made.is_ok_and(|s| s.success()) {
        may_skip("mkfifo is not available");
        return;
    }
    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || std::fs::read(fifo).unwrap())
    };
    let o = bin()
        .arg(testdata("sample.drain"))
        .arg("-o")
        .arg(&fifo)
        .output()
        .unwrap();
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    let got = reader.join().unwrap();
    let plain = bin().arg(testdata("sample.drain")).output().unwrap();
    assert_eq!(got, plain.stdout);
    use std::os::unix::fs::FileTypeExt;
    assert!(std::fs::metadata(&fifo).unwrap().file_type().is_fifo());
}

#[test]
fn on_error_fail_names_the_bad_frame_even_after_a_missing_input() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.drain");
    let bad_frame = frame("<999>1 - - - - - x\n");
    let col = bad_frame.find('<').unwrap() + 1;
    std::fs::write(&bad, format!("{}{bad_frame}", good("ok"))).unwrap();
    let missing = dir.path().join("missing.drain");
    let o = bin()
        .args(["--on-error", "fail"])
        .args([&missing, &bad])
        .output()
        .unwrap();
    let err = stderr(&o);
    assert!(
        err.contains(&format!("{}:2:{col}: error[priority]", bad.display())),
        "{err}"
    );
}

#[test]
fn sizes_beyond_one_gib_are_usage_errors() {
    let o = run(&["--max-frame", "18446744073709551615"], b"");
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("more than the 1G"), "{}", stderr(&o));
    let o = run(
        &["--max-frame", "1G"],
        b"18446744073709551610 <1>1 - - - - -\n",
    );
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    assert!(stderr(&o).contains("frame-too-large"), "{}", stderr(&o));
}
