//! `drainpipe validate`: exact positions, every code, the three report formats, exit codes.

mod common;
use common::*;

/// Positions computed by testdata/make_sample.py while it planted the bad frames.
#[test]
fn sample_errors_are_at_the_independently_computed_positions() {
    let o = bin()
        .args(["validate", "--report", "json"])
        .arg(testdata("sample.drain"))
        .output()
        .unwrap();
    assert_eq!(code(&o), 1);
    let r = report(&o);
    let want: Vec<(u64, u64, String)> = std::fs::read_to_string(testdata("sample.errors.tsv"))
        .unwrap()
        .lines()
        .skip(1)
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            (
                f[0].parse().unwrap(),
                f[1].parse().unwrap(),
                f[2].to_string(),
            )
        })
        .collect();
    let got: Vec<_> = positions(&r)
        .into_iter()
        .filter(|(_, _, c)| c != "utf8")
        .collect();
    assert_eq!(got, want);
    assert_eq!(r["summary"]["frames"], 19);
    assert_eq!(r["summary"]["valid"], 13);
    assert_eq!(r["summary"]["invalid"], 6);
    assert_eq!(r["summary"]["warnings_by_code"]["utf8"], 1);
}

/// One golden report line per error code, driven by `Code::ALL`: a code added without its
/// case here fails the test. Most cases come after a multi-line frame, so line numbers must
/// follow LEN, not count frames. Each case: (arguments, input on stdin, expected first line).
#[test]
fn every_code_has_its_exact_report_line() {
    let multi = good("Traceback:\n  line one\n  line two");
    let after = |bad: &[u8]| [multi.as_bytes(), bad].concat();
    let body = good("x");
    let http = |headers: &str| {
        post(
            &format!("Content-Length: {}\r\n{headers}", body.len()),
            body.as_bytes(),
        )
    };
    let v = ["validate"];
    let cases: Vec<(Vec<&str>, Vec<u8>, &str)> = vec![
        (v.to_vec(), after(b"x marks the spot\n"), "<stdin>:4:1: error[garbage]: expected a frame length (ASCII digits), found \"x marks the spot\""),
        (v.to_vec(), after(b"012 <1>1 - h a p m x\n"), "<stdin>:4:1: error[frame-length]: frame length \"012\" has a leading zero (or is zero)"),
        (v.to_vec(), after(b"12x <1>1\n"), "<stdin>:4:1: error[frame-length]: expected a space after the frame length 12, found \"x\""),
        (v.to_vec(), after(b"2000000 <1>1 x\n"), "<stdin>:4:1: error[frame-too-large]: frame length 2000000 exceeds --max-frame 1048576"),
        (v.to_vec(), after(b"123456789012345678901 <1>1\n"), "<stdin>:4:1: error[frame-too-large]: frame length \"123456789012345678901\" has more than 20 digits"),
        (v.to_vec(), after(b"99 <1>1 - h a p m cut short\n"), "<stdin>:4:1: error[frame-truncated]: frame length says 99 bytes, but the input ends after 25"),
        (v.to_vec(), after(b"5 <1>1 - h a p m x\n"), "<stdin>:4:1: error[frame-overrun]: frame length 5 ends the frame inside text: it is followed by \"- h a p m x\" where a newline, the end of input or another frame should be"),
        (v.to_vec(), after(frame("<192>1 - h a p m x\n").as_bytes()), "<stdin>:4:4: error[priority]: PRI 192 is over 191"),
        (v.to_vec(), after(frame("<13>01 - h a p m x\n").as_bytes()), "<stdin>:4:8: error[version]: VERSION must be 1 to 3 digits without a leading zero, found \"01\""),
        (v.to_vec(), after(frame("<13>1 2025-02-29T00:00:00Z h a p m x\n").as_bytes()), "<stdin>:4:10: error[timestamp]: invalid TIMESTAMP \"2025-02-29T00:00:00Z\": day does not exist in that month"),
        (v.to_vec(), after(frame("<13>1 - h\u{1} a p m x\n").as_bytes()), "<stdin>:4:12: error[hostname]: HOSTNAME must be printable US-ASCII, found byte 0x01 at its byte 2 in \"h\\x01\""),
        (v.to_vec(), after(frame(&format!("<13>1 - h {} p m x\n", "a".repeat(49))).as_bytes()), "<stdin>:4:14: error[app-name]: APP-NAME is 49 bytes long, at most 48 allowed: \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"…"),
        (v.to_vec(), after(frame("<13>1 - h a  m x\n").as_bytes()), "<stdin>:4:16: error[procid]: PROCID is empty (two spaces in a row)"),
        (v.to_vec(), after(frame(&format!("<13>1 - h a p {} x\n", "m".repeat(33))).as_bytes()), "<stdin>:4:18: error[msgid]: MSGID is 33 bytes long, at most 32 allowed: \"mmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmm\""),
        (v.to_vec(), after(frame("<13>1 - h a\n").as_bytes()), "<stdin>:4:15: error[missing-field]: the message ends before PROCID"),
        (v.to_vec(), after(&frame_bytes(b"<13>1 - h a p m caf\xC3\n")), "<stdin>:4:23: warning[utf8]: MSG is not valid UTF-8 (byte sequence \"\\xc3\" replaced with U+FFFD)"),
        (vec!["validate", "--lenient-length"], after(b"3 <13>1 - h a p m x\n"), "<stdin>:4:1: warning[length-mismatch]: length says 3, frame has 18"),
        (v.to_vec(), http("Logplex-Msg-Count: 2\r\n"), "<stdin>:4:20: error[msg-count]: Logplex-Msg-Count says 2 frames, the body holds 1"),
        (vec!["validate", "--drain-token", "d.good-token"], http("Logplex-Drain-Token: d.bad-token\r\n"), "<stdin>:4:22: error[auth]: request rejected: its Logplex-Drain-Token differs from --drain-token"),
        (v.to_vec(), b"hello\n".to_vec(), "<stdin>: error[format]: not a drain capture: no line in it starts like octet frames (`LEN <PRI>`), syslog lines (`<PRI>`), HTTP requests (`POST `) or `heroku logs` output (`YYYY-MM-DDT`); --from says which format to read it as"),
        (vec!["validate", "/nonexistent/x.drain"], Vec::new(), "/nonexistent/x.drain: error[io]: No such file or directory"),
        // A convert-only code: the report comes from --report-json (its first entry, as a
        // text line).
        (vec!["--rejoin", "-o", "/dev/null", "--report-json", "/dev/stdout"], after(frame("<13>1 - h a p - [7-2] tail of a statement\n").as_bytes()), "<stdin>:4:1: warning[rejoin]: PostgreSQL message not rejoined: piece 2 continues no open chain (the pieces before it were not seen, or their chain had ended); its one piece is written as it came"),
    ];
    for code in drainpipe::diag::Code::ALL {
        let tag = format!("[{code}]");
        assert!(
            cases.iter().any(|(_, _, want)| want.contains(&tag)),
            "no golden report line for {code}"
        );
    }
    for (args, input, want) in cases {
        let o = run(&args, &input);
        let out = stdout(&o);
        let first = if args.contains(&"--report-json") {
            let r: serde_json::Value = serde_json::from_str(&out).unwrap();
            let e = &r["errors"][0];
            format!(
                "{}:{}:{}: {}[{}]: {}",
                e["file"].as_str().unwrap(),
                e["line"],
                e["column"],
                e["severity"].as_str().unwrap(),
                e["code"].as_str().unwrap(),
                e["message"].as_str().unwrap()
            )
        } else {
            out.lines().next().unwrap_or("").to_string()
        };
        assert_eq!(first, want, "input {:?}", String::from_utf8_lossy(&input));
        let expected = if want.contains("error[io]") {
            2
        } else if want.contains("warning[") {
            0
        } else {
            1
        };
        assert_eq!(code(&o), expected, "{want}");
    }
}

/// README's error-code table and the library's `Code` table say the same: every code, its
/// kind, its meaning.
#[test]
fn readme_error_code_table_matches_the_code_table() {
    let readme =
        std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md"))
            .unwrap();
    let section = &readme[readme
        .find("\n## Error codes")
        .expect("README has Error codes")..];
    let section = &section[..section[1..].find("\n## ").map_or(section.len(), |i| i + 1)];
    let rows: Vec<(String, String, String)> = section
        .lines()
        .filter(|l| l.starts_with("| `"))
        .map(|l| {
            let cells: Vec<&str> = l.trim_matches('|').split(" | ").map(str::trim).collect();
            assert_eq!(cells.len(), 3, "{l}");
            (
                cells[0].trim_matches('`').to_string(),
                cells[1].to_string(),
                cells[2].to_string(),
            )
        })
        .collect();
    let codes: Vec<(String, String, String)> = drainpipe::diag::Code::ALL
        .iter()
        .map(|c| {
            (
                c.as_str().to_string(),
                c.severity().as_str().to_string(),
                c.description().to_string(),
            )
        })
        .collect();
    for row in &rows {
        assert!(
            codes.contains(row),
            "README row {row:?} is not in the Code table"
        );
    }
    for c in &codes {
        assert!(rows.contains(c), "code {c:?} is not in README's table");
    }
}

#[test]
fn strict_turns_warnings_into_errors() {
    let input = [
        good("caf\u{e9}").into_bytes(),
        frame_bytes(b"<13>1 - h a p m caf\xC3\n"),
    ]
    .concat();
    let o = run(&["validate", "--strict"], &input);
    assert_eq!(code(&o), 1);
    assert!(stdout(&o).contains("error[utf8]"), "{}", stdout(&o));
    let o = run(&["validate"], &input);
    assert_eq!(code(&o), 0);
}

#[test]
fn crlf_and_embedded_newlines_keep_lines_exact() {
    let input = format!(
        "{}\r\n{}\r\n{}",
        good("a\r\nb\r\nc"),
        good("d"),
        frame("<1913>1 - h a p m x\n")
    );
    let o = run(&["validate"], input.as_bytes());
    assert_eq!(
        stdout(&o).lines().next().unwrap(),
        "<stdin>:7:4: error[priority]: expected '>' after 1 to 3 PRI digits, found \"<1913>1\""
    );
}

#[test]
fn json_report_has_everything_a_ci_job_needs() {
    let input = format!("{}{}junk\n", good("a"), frame("<200>1 - h a p m x\n"));
    let o = run(&["validate", "--report", "json"], input.as_bytes());
    assert_eq!(code(&o), 1);
    let r = report(&o);
    let e = &r["errors"][0];
    assert_eq!(e["file"], "<stdin>");
    assert_eq!(
        (e["line"].as_u64(), e["column"].as_u64()),
        (Some(2), Some(4))
    );
    assert_eq!(e["offset"].as_u64(), Some(good("a").len() as u64 + 3));
    assert_eq!(e["frame"], 1);
    assert_eq!(e["code"], "priority");
    assert_eq!(e["severity"], "error");
    assert_eq!(r["errors"][1]["code"], "garbage");
    assert_eq!(r["errors"][1]["frame"], 2);
    let s = &r["summary"];
    assert_eq!(
        (
            s["frames"].as_u64(),
            s["valid"].as_u64(),
            s["invalid"].as_u64()
        ),
        (Some(3), Some(1), Some(2))
    );
    assert_eq!(s["errors_by_code"]["priority"], 1);
    assert_eq!(s["errors_by_code"]["garbage"], 1);
    assert_eq!(r["inputs"][0]["file"], "<stdin>");
    assert_eq!(r["inputs"][0]["errors"], 2);
}

/// GitHub workflow commands: `::error file=F,line=L,col=C,title=CODE::message`, with the
/// documented escapes (`%` `\r` `\n` everywhere, `:` and `,` in properties).
#[test]
fn github_report_follows_the_workflow_command_grammar() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("odd,name:1.drain");
    std::fs::write(&path, format!("{}oops 100% junk\n", good("a"))).unwrap();
    let o = bin()
        .args(["validate", "--report", "github"])
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(code(&o), 1);
    let out = stdout(&o);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 2, "{out}");
    for l in &lines {
        let rest = l.strip_prefix("::").expect("starts with ::");
        let (cmd, data) = rest.split_once("::").expect("command::data");
        let (kind, props) = cmd.split_once(' ').expect("kind and properties");
        assert!(["error", "warning", "notice"].contains(&kind), "{l}");
        for p in props.split(',') {
            let (k, v) = p.split_once('=').expect("key=value");
            assert!(["file", "line", "col", "title"].contains(&k), "{l}");
            assert!(
                !v.contains(':') && !v.contains(','),
                "unescaped property in {l}"
            );
        }
        assert!(!data.contains('\n') && !data.contains('\r'));
    }
    let esc_path = path
        .display()
        .to_string()
        .replace(',', "%2C")
        .replace(':', "%3A");
    assert_eq!(
        lines[0],
        format!("::error file={esc_path},line=2,col=1,title=garbage::expected a frame length (ASCII digits), found \"oops 100%25 junk\"")
    );
    assert!(lines[1].starts_with("::error title=drainpipe validate::checked 1 input"));
}

#[test]
fn max_errors_limits_the_list_not_the_counts() {
    let input = "bad\n".to_string() + &good("ok") + "bad\n" + &good("ok") + "bad\n";
    let o = run(
        &["validate", "--report", "json", "--max-errors", "2"],
        input.as_bytes(),
    );
    let r = report(&o);
    assert_eq!(r["errors"].as_array().unwrap().len(), 2);
    assert_eq!(r["summary"]["errors_by_code"]["garbage"], 3);
    assert_eq!(r["summary"]["unlisted"], 1);
    let o = run(&["validate", "--max-errors", "1"], input.as_bytes());
    let out = stdout(&o);
    assert_eq!(out.lines().filter(|l| l.contains("error[")).count(), 1);
    assert!(out.contains("2 more diagnostics not listed"), "{out}");
    assert!(out.contains("3 errors (garbage 3)"), "{out}");
}

#[test]
fn exit_codes_valid_invalid_and_io() {
    let o = run(&["validate"], good("fine").as_bytes());
    assert_eq!(code(&o), 0, "{}", stdout(&o));
    let o = run(&["validate"], b"nope\n");
    assert_eq!(code(&o), 1);
    // A missing file is reported and the other inputs are still validated.
    let o = bin()
        .args(["validate", "/nonexistent.drain"])
        .arg(testdata("sample.drain"))
        .output()
        .unwrap();
    assert_eq!(code(&o), 2);
    let out = stdout(&o);
    assert!(
        out.contains("/nonexistent.drain: error[io]: No such file or directory"),
        "{out}"
    );
    assert!(out.contains("sample.drain:3:4: error[priority]"), "{out}");
    // Empty input: `format`, naming the file.
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty.drain");
    std::fs::write(&empty, "").unwrap();
    let o = bin().args(["validate"]).arg(&empty).output().unwrap();
    assert_eq!(code(&o), 1);
    assert!(
        stdout(&o).contains("empty.drain: error[format]"),
        "{}",
        stdout(&o)
    );
    // Usage error.
    let o = bin()
        .args(["validate", "--report", "xml"])
        .output()
        .unwrap();
    assert_eq!(code(&o), 2);
}

#[test]
fn reports_are_identical_across_threads_and_block_boundaries() {
    let (capture, _) = synth(6_000, 4, true);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cap.drain");
    std::fs::write(&path, &capture).unwrap();
    let p = path.to_str().unwrap();
    let reference = bin()
        .args(["validate", "--report", "json", "--threads", "1", p])
        .output()
        .unwrap();
    let r = report(&reference);
    assert!(r["summary"]["invalid"].as_u64().unwrap() > 100);
    for extra in [
        ["--threads", "2"],
        ["--block-size", "777"],
        ["--block-size", "64"],
    ] {
        let o = bin()
            .args(["validate", "--report", "json", p])
            .args(extra)
            .output()
            .unwrap();
        assert_eq!(code(&o), 1, "{}", stderr(&o));
        assert!(
            o.stdout == reference.stdout,
            "report differs with {extra:?}"
        );
    }
    // Every listed line/column agrees with a direct count over the capture.
    for e in r["errors"].as_array().unwrap() {
        let off = e["offset"].as_u64().unwrap() as usize;
        let line = capture[..off].iter().filter(|&&b| b == b'\n').count() + 1;
        let col = off
            - capture[..off]
                .iter()
                .rposition(|&b| b == b'\n')
                .map_or(0, |i| i + 1)
            + 1;
        assert_eq!(
            (
                e["line"].as_u64().unwrap() as usize,
                e["column"].as_u64().unwrap() as usize
            ),
            (line, col),
            "{e}"
        );
    }
}

/// gen-drain counts the frames it corrupts, by kind. Every uncorrupted frame must come out as a
/// record. A header corruption spoils exactly its own frame; a framing corruption may merge with
/// an adjacent one into a single skipped region (README "Framing": "reported as one error"), so there the
/// rejected count may be lower, never higher.
#[test]
fn accounting_matches_the_generator_per_corruption_kind() {
    for kind in [
        "len-nonnumeric",
        "len-leading-zero",
        "len-huge",
        "pri-range",
        "pri-missing",
        "version",
        "missing-fields",
        "timestamp",
        "empty-field",
        "hostname-ctl",
        "app-name-long",
    ] {
        let Some((capture, stats)) = gen_drain(&[
            "--frames",
            "400",
            "--seed",
            "9",
            "--bad-rate",
            "0.1",
            "--bad-kinds",
            kind,
        ]) else {
            return;
        };
        let corrupted = stats["corrupted"].as_u64().unwrap();
        assert!(corrupted > 10, "{kind}: {stats}");
        let o = run(&["validate", "--report", "json"], &capture);
        let s = &report(&o)["summary"];
        assert_eq!(s["valid"].as_u64().unwrap(), 400 - corrupted, "{kind}");
        let invalid = s["invalid"].as_u64().unwrap();
        if kind.starts_with("len-") {
            assert!(
                invalid <= corrupted && invalid * 10 >= corrupted * 8,
                "{kind}: {invalid}"
            );
        } else {
            assert_eq!(invalid, corrupted, "{kind}");
        }
    }
    let Some((capture, stats)) = gen_drain(&[
        "--frames",
        "400",
        "--seed",
        "9",
        "--bad-rate",
        "0.1",
        "--bad-kinds",
        "utf8",
    ]) else {
        return;
    };
    let o = run(&["validate", "--report", "json"], &capture);
    let s = &report(&o)["summary"];
    assert_eq!(s["valid"], 400);
    assert_eq!(s["warnings_by_code"]["utf8"], stats["corrupted"]);
}
