//! Hostile inputs, run through the real binary: random bytes, huge lines without a newline,
//! absurd lengths, NUL bytes, broken gzip, empty files, symlink loops, unreadable files.
//!
//! Every test checks the exit code, that the message names the file (and line:column where
//! there is one), that nothing panics, and that the run ends within a time limit.

mod common;
use common::*;
use std::io::{Read, Write};
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// Generous bound for any one run of the debug binary on these inputs.
const LIMIT: Duration = Duration::from_secs(60);

/// Runs `cmd` (stdin empty unless `stdin` is given) and kills it if it outlives `limit`.
fn run_bounded(mut cmd: Command, stdin: Option<Vec<u8>>, limit: Duration) -> Output {
    let mut child = cmd
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let feeder = stdin.map(|data| {
        let mut input = child.stdin.take().unwrap();
        std::thread::spawn(move || {
            let _ = input.write_all(&data);
        })
    });
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let out_t = std::thread::spawn(move || {
        let mut v = Vec::new();
        out.read_to_end(&mut v).unwrap();
        v
    });
    let err_t = std::thread::spawn(move || {
        let mut v = Vec::new();
        err.read_to_end(&mut v).unwrap();
        v
    });
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{cmd:?} still running after {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    if let Some(f) = feeder {
        f.join().unwrap();
    }
    Output {
        status,
        stdout: out_t.join().unwrap(),
        stderr: err_t.join().unwrap(),
    }
}

/// Runs the binary on `args` within [`LIMIT`].
fn drainpipe(args: &[&str]) -> Output {
    let mut cmd = bin();
    cmd.args(args);
    run_bounded(cmd, None, LIMIT)
}

/// The run ended by itself (no signal), with an exit code drainpipe documents, and nothing
/// panicked.
fn assert_sane(o: &Output) {
    let e = stderr(o);
    assert!(!e.contains("panicked"), "panic: {e}");
    let c = o
        .status
        .code()
        .unwrap_or_else(|| panic!("killed: {:?}", o.status));
    assert!((0..=2).contains(&c), "exit {c}: {e}");
}

fn path_str(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// xorshift64*: deterministic bytes without a dev-dependency.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| (self.next() >> 56) as u8).collect()
    }
}

/// About `size` bytes made of pieces that stress the framer: good frames, frames with wrong
/// lengths, raw random bytes, NUL runs, separators, digit runs, absurd lengths, partial headers.
fn hostile_mix(size: usize, seed: u64) -> Vec<u8> {
    let mut rng = Rng::new(seed);
    let mut out = Vec::with_capacity(size + 4096);
    let mut i = 0u64;
    while out.len() < size {
        i += 1;
        match rng.below(12) {
            0..=3 => out.extend_from_slice(good(&format!("line {i}")).as_bytes()),
            4 => {
                let msg = format!("<190>1 2026-03-01T12:00:00Z h a web.1 - wrong length {i}\n");
                let delta = rng.below(7) as i64 - 3;
                let len = (msg.len() as i64 + delta).max(1);
                out.extend_from_slice(format!("{len} {msg}").as_bytes());
            }
            5 => {
                let n = rng.below(64) as usize + 1;
                out.extend(rng.bytes(n));
            }
            6 => out.extend(std::iter::repeat_n(0u8, rng.below(40) as usize + 1)),
            7 => out
                .extend_from_slice([&b"\n"[..], b"\r\n", b"\r", b"\n\n\n"][rng.below(4) as usize]),
            8 => out.extend(std::iter::repeat_n(b'7', rng.below(30) as usize + 1)),
            9 => out.extend_from_slice(b"123456789012345678901234567890 <190>1 - h a p m x\n"),
            10 => {
                let mut msg = b"<190>1 2026-03-01T12:00:00Z h a web.1 - ".to_vec();
                let n = rng.below(40) as usize;
                msg.extend(rng.bytes(n));
                msg.push(b'\n');
                out.extend(frame_bytes(&msg));
            }
            _ => out.extend_from_slice(
                [&b"99999999 <"[..], b"12 <1", b"<190>1 ", b"5 <1>\n", b"1 x"]
                    [rng.below(5) as usize],
            ),
        }
    }
    out
}

/// Checks `frames = valid + invalid` and friends in a JSON report; returns the summary.
fn checked_summary(o: &Output) -> serde_json::Value {
    let r = report(o);
    let s = r["summary"].clone();
    let n = |k: &str| s[k].as_u64().unwrap_or_else(|| panic!("summary.{k}: {s}"));
    assert_eq!(n("frames"), n("valid") + n("invalid"), "{s}");
    let by_code: u64 = s["errors_by_code"]
        .as_object()
        .unwrap()
        .values()
        .map(|v| v.as_u64().unwrap())
        .sum();
    assert_eq!(by_code, n("errors"), "{s}");
    // Without --strict, each rejected frame or region carries exactly one error; `format`
    // and `io` concern whole inputs.
    let whole_input: u64 = ["format", "io"]
        .iter()
        .map(|c| s["errors_by_code"][c].as_u64().unwrap_or(0))
        .sum();
    assert_eq!(n("invalid"), n("errors") - whole_input, "{s}");
    s
}

/// Bytes that `records` (NDJSON lines) came from: `LEN SP MSG` each.
fn frame_bytes_of(records: &str) -> u64 {
    records
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            let len = v["message_len"].as_u64().unwrap();
            len.to_string().len() as u64 + 1 + len
        })
        .sum()
}

#[test]
fn random_bytes_are_rejected_and_accounted_for() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("random.bin");
    let data = Rng::new(0x5EED).bytes(1 << 20);
    assert_ne!(&data[..2], &[0x1f, 0x8b], "not gzip by accident");
    std::fs::write(&path, &data).unwrap();

    let v = drainpipe(&["validate", "--report", "json", path_str(&path)]);
    assert_sane(&v);
    assert_eq!(code(&v), 1, "{}", stderr(&v));
    let s = checked_summary(&v);
    assert_eq!(s["bytes"], data.len() as u64);
    assert!(s["invalid"].as_u64().unwrap() >= 1, "{s}");
    let first = &report(&v)["errors"][0];
    assert_eq!(first["file"], path_str(&path));
    assert_eq!(
        (first["line"].as_u64(), first["column"].as_u64()),
        (Some(1), Some(1))
    );

    let rejects = dir.path().join("rejects.bin");
    let c = drainpipe(&[path_str(&path), "--rejects", path_str(&rejects)]);
    assert_sane(&c);
    assert_eq!(code(&c), 1);
    let rejected = std::fs::read(&rejects).unwrap();
    assert!(!rejected.is_empty());
    let records = stdout(&c);
    assert_eq!(records.lines().count() as u64, s["valid"].as_u64().unwrap());
    // Every byte is a record's frame, a rejected byte, or a tolerated separator.
    let accounted = rejected.len() as u64 + frame_bytes_of(&records);
    let separators = data.iter().filter(|&&b| b == b'\n' || b == b'\r').count() as u64;
    assert!(accounted <= data.len() as u64);
    assert!(
        data.len() as u64 - accounted <= separators,
        "{} bytes neither records nor rejects",
        data.len() as u64 - accounted
    );
    let e = stderr(&c);
    assert!(
        e.contains(&format!(
            "{} of {} frames rejected",
            s["invalid"], s["frames"]
        )),
        "{e}"
    );
    assert!(
        e.contains(&format!("first: {}:1:1 ", path_str(&path))),
        "{e}"
    );
}

#[test]
fn hostile_mix_is_accounted_for_byte_by_byte_at_any_block_size() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mix.drain");
    let data = hostile_mix(1 << 20, 42);
    std::fs::write(&path, &data).unwrap();

    let v = drainpipe(&["validate", "--report", "json", path_str(&path)]);
    assert_sane(&v);
    assert_eq!(code(&v), 1);
    let s = checked_summary(&v);
    assert_eq!(s["bytes"], data.len() as u64);
    let valid = s["valid"].as_u64().unwrap();
    assert!(valid > 1000 && s["invalid"].as_u64().unwrap() > 1000, "{s}");
    for e in report(&v)["errors"].as_array().unwrap() {
        assert_eq!(e["file"], path_str(&path));
        assert!(e["line"].as_u64().unwrap() >= 1 && e["column"].as_u64().unwrap() >= 1);
    }

    let rejects = dir.path().join("rejects.drain");
    let c = drainpipe(&[
        path_str(&path),
        "--from",
        "octet",
        "--rejects",
        path_str(&rejects),
    ]);
    assert_sane(&c);
    assert_eq!(code(&c), 1);
    let records = stdout(&c);
    assert_eq!(records.lines().count() as u64, valid);
    let rejected = std::fs::read(&rejects).unwrap();
    let accounted = rejected.len() as u64 + frame_bytes_of(&records);
    let separators = data.iter().filter(|&&b| b == b'\n' || b == b'\r').count() as u64;
    assert!(accounted <= data.len() as u64);
    assert!(data.len() as u64 - accounted <= separators);

    // Block boundaries and thread counts change nothing, even in garbage.
    for args in [["--threads", "1"], ["--block-size", "4099"]] {
        let mut all = vec![path_str(&path)];
        all.extend(args);
        let again = drainpipe(&all);
        assert_sane(&again);
        assert_eq!(code(&again), 1);
        assert!(again.stdout == c.stdout, "{args:?} changes the records");
        assert_eq!(stderr(&again), stderr(&c), "{args:?}");
    }
}

/// Peak RSS of `drainpipe args` in KiB, from the kernel's own account of the child
/// (`wait4`'s `ru_maxrss`: no tool needed, so the check always runs).
fn with_peak_rss(args: &[&str]) -> (Output, Option<u64>) {
    let mut cmd = bin();
    cmd.args(args);
    let (o, rss) = run_measured(cmd, LIMIT);
    (o, Some(rss))
}

/// A 100 MiB input that is one single line of `byte`.
fn huge_line(dir: &Path, name: &str, byte: u8) -> std::path::PathBuf {
    let path = dir.join(name);
    let mut f = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    let chunk = vec![byte; 1 << 20];
    for _ in 0..100 {
        f.write_all(&chunk).unwrap();
    }
    f.flush().unwrap();
    path
}

fn huge_line_is_one_error_in_flat_memory(byte: u8, code_name: &str) {
    let dir = tempfile::tempdir().unwrap();
    let path = huge_line(dir.path(), "huge.drain", byte);
    // No line in it looks like any input format: detection gives up after 64 KiB.
    let (o, rss) = with_peak_rss(&["validate", path_str(&path)]);
    assert_sane(&o);
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    assert!(
        stdout(&o).starts_with(&format!(
            "{}: error[format]: not a drain capture",
            path_str(&path)
        )),
        "{}",
        stdout(&o)
    );
    if let Some(kib) = rss {
        assert!(kib < 64 * 1024, "peak RSS {kib} KiB for a 100 MiB line");
    }
    // Read as octet frames, the framer must stream the whole line past as one region.
    let start = Instant::now();
    let (o, rss) = with_peak_rss(&["validate", "--from", "octet", path_str(&path)]);
    let took = start.elapsed();
    assert_sane(&o);
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    let report = stdout(&o);
    let mut lines = report.lines();
    let first = lines.next().unwrap();
    assert!(
        first.starts_with(&format!("{}:1:1: error[{code_name}]: ", path_str(&path))),
        "{first}"
    );
    assert!(
        first.len() < 300,
        "the message quotes a bounded excerpt: {first}"
    );
    let summary = lines.next().unwrap();
    assert!(
        summary.contains("1 frame, 0 valid, 1 invalid"),
        "the whole line is one rejected region: {summary}"
    );
    assert_eq!(lines.next(), None);
    if let Some(kib) = rss {
        assert!(kib < 64 * 1024, "peak RSS {kib} KiB for a 100 MiB line");
        eprintln!(
            "100 MiB of {:?}: peak RSS {kib} KiB, {took:?}",
            byte as char
        );
    }
    assert!(took < Duration::from_secs(20), "took {took:?}");

    // convert: the same error, nothing on stdout, the whole line in --rejects.
    let rejects = dir.path().join("rejects");
    let c = drainpipe(&[
        path_str(&path),
        "--from",
        "octet",
        "--rejects",
        path_str(&rejects),
    ]);
    assert_sane(&c);
    assert_eq!(code(&c), 1);
    assert!(c.stdout.is_empty());
    let e = stderr(&c);
    assert!(e.contains("1 of 1 frames rejected"), "{e}");
    assert!(
        e.contains(&format!("first: {}:1:1 {code_name}", path_str(&path))),
        "{e}"
    );
    assert_eq!(std::fs::metadata(&rejects).unwrap().len(), 100 << 20);
}

#[test]
fn hundred_mib_without_a_newline_is_garbage_at_1_1() {
    huge_line_is_one_error_in_flat_memory(b'x', "garbage");
}

#[test]
fn hundred_mib_of_digits_is_frame_too_large_at_1_1() {
    huge_line_is_one_error_in_flat_memory(b'1', "frame-too-large");
}

/// A gzip bomb: 100 members of 1 MiB of NUL each (a few KiB on disk, 100 MiB unpacked, one
/// line). Read as octet frames: one `garbage` error, flat memory.
#[test]
fn gzip_bomb_of_nuls_is_one_garbage_error_in_flat_memory() {
    let dir = tempfile::tempdir().unwrap();
    let member = gzipped(&vec![0u8; 1 << 20]);
    let path = dir.path().join("bomb.gz");
    std::fs::write(&path, member.repeat(100)).unwrap();
    let start = Instant::now();
    let (o, rss) = with_peak_rss(&[
        "validate",
        "--from",
        "octet",
        "--report",
        "json",
        path_str(&path),
    ]);
    let took = start.elapsed();
    assert_sane(&o);
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    let s = checked_summary(&o);
    assert_eq!(s["bytes"], 100u64 << 20, "every member is read");
    assert_eq!(
        positions(&report(&o)),
        vec![(1, 1, "garbage".to_string())],
        "{s}"
    );
    assert_eq!(report(&o)["errors"][0]["file"], path_str(&path));
    if let Some(kib) = rss {
        eprintln!("gzip bomb: peak RSS {kib} KiB, {took:?}");
        assert!(kib < 64 * 1024, "peak RSS {kib} KiB");
    }
    assert!(took < Duration::from_secs(20), "took {took:?}");
}

/// A flood of tiny bad frames (`1 \n`, 3 bytes each): every one counted, the list capped by
/// --max-errors, in bounded time.
#[test]
fn error_flood_is_counted_in_full_and_listed_up_to_max_errors() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("flood.drain");
    let n = 300_000;
    std::fs::write(&path, "1 \n".repeat(n)).unwrap();
    let o = drainpipe(&[
        "validate",
        "--from",
        "octet",
        "--report",
        "json",
        "--max-errors",
        "5",
        path_str(&path),
    ]);
    assert_sane(&o);
    assert_eq!(code(&o), 1);
    let s = checked_summary(&o);
    assert_eq!(s["frames"], n as u64);
    assert_eq!(s["invalid"], n as u64);
    assert_eq!(
        (s["listed"].as_u64(), s["unlisted"].as_u64()),
        (Some(5), Some(n as u64 - 5))
    );
    let r = report(&o);
    let listed = positions(&r);
    assert_eq!(listed.len(), 5);
    for (i, (line, column, _)) in listed.iter().enumerate() {
        assert_eq!((*line, *column), (i as u64 + 1, 3), "{r}");
    }

    let c = drainpipe(&[path_str(&path), "--from", "octet"]);
    assert_sane(&c);
    assert_eq!(code(&c), 1);
    assert!(c.stdout.is_empty());
    let e = stderr(&c);
    assert_eq!(
        e.lines().count(),
        1,
        "one summary line, not one per error: {e}"
    );
    assert!(e.contains(&format!("{n} of {n} frames rejected")), "{e}");
    assert!(
        e.contains(&format!("first: {}:1:3 ", path_str(&path))),
        "{e}"
    );
}

#[test]
fn thirty_digit_length_is_frame_too_large_at_column_1() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("len30.drain");
    let len30 = "123456789012345678901234567890";
    let content = format!(
        "{}{len30} <190>1 2026-03-01T12:00:00Z h a p m x\n{}\
         99999999999999999999 <1>1 - h a p m overflows u64\n{}",
        good("a"),
        good("b"),
        good("c")
    );
    std::fs::write(&path, &content).unwrap();
    let o = drainpipe(&["validate", path_str(&path)]);
    assert_sane(&o);
    assert_eq!(code(&o), 1);
    let out = stdout(&o);
    let p = path_str(&path);
    let line2 = out
        .lines()
        .find(|l| l.starts_with(&format!("{p}:2:1: error[frame-too-large]: ")))
        .unwrap_or_else(|| panic!("{out}"));
    assert!(line2.contains("has more than 20 digits"), "{line2}");
    assert!(line2.contains(&len30[..21]), "{line2}");
    assert!(
        out.contains(&format!("{p}:4:1: error[frame-too-large]: ")),
        "20 digits above u64::MAX: {out}"
    );
    assert!(out.contains("5 frames, 3 valid, 2 invalid"), "{out}");

    let c = drainpipe(&[p]);
    assert_sane(&c);
    assert_eq!(code(&c), 1);
    assert_eq!(
        stdout(&c).lines().count(),
        3,
        "the frames around it survive"
    );
}

#[test]
fn nul_bytes_in_a_frame_and_between_frames() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("nul.drain");
    let mut data = Vec::new();
    // 1: a message with NUL bytes in it: a valid record, NUL escaped in JSON.
    data.extend(frame_bytes(
        b"<190>1 2026-03-01T12:00:00Z host app web.1 - a\0b\0\0c\n",
    ));
    // 2: NUL in the host name: hostname error at its column.
    data.extend(frame_bytes(
        b"<190>1 2026-03-01T12:00:00Z ho\0st app web.1 - x\n",
    ));
    // 3: a body of NULs only: priority error at the body's first byte.
    let mut nuls = vec![0u8; 49];
    nuls.push(b'\n');
    data.extend(frame_bytes(&nuls));
    // 4: a NUL run on a line of its own, then a good frame on the next line.
    data.extend_from_slice(&[0; 300]);
    data.push(b'\n');
    data.extend_from_slice(good("after nul line").as_bytes());
    // 5: a NUL run directly before a frame: the region runs to the next plausible line start,
    // so that frame is rejected with the NULs.
    data.extend_from_slice(&[0; 7]);
    data.extend_from_slice(good("swallowed").as_bytes());
    data.extend_from_slice(good("resynced").as_bytes());
    // 6: NUL inside the LEN.
    data.extend_from_slice(b"1\x002 <190>1 - h a p m x\n");
    data.extend_from_slice(good("last").as_bytes());
    std::fs::write(&p, &data).unwrap();
    let ps = path_str(&p);

    let v = drainpipe(&["validate", "--report", "json", ps]);
    assert_sane(&v);
    assert_eq!(code(&v), 1);
    let r = report(&v);
    let s = checked_summary(&v);
    assert_eq!(
        positions(&r),
        vec![
            (2, 32, "hostname".to_string()),
            (3, 4, "priority".to_string()),
            (4, 1, "garbage".to_string()),
            (6, 1, "garbage".to_string()),
            // Framing errors point at the frame start (README "Error codes").
            (8, 1, "frame-length".to_string()),
        ],
        "{r}"
    );
    assert!(r["errors"]
        .as_array()
        .unwrap()
        .iter()
        .all(|e| e["file"] == ps));
    assert_eq!(
        (s["valid"].as_u64(), s["invalid"].as_u64()),
        (Some(4), Some(5))
    );

    let rejects = dir.path().join("rejects");
    let c = drainpipe(&[ps, "--rejects", path_str(&rejects)]);
    assert_sane(&c);
    assert_eq!(code(&c), 1);
    let records: Vec<serde_json::Value> = stdout(&c)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let messages: Vec<&str> = records
        .iter()
        .map(|r| r["message"].as_str().unwrap())
        .collect();
    assert_eq!(
        messages,
        ["a\0b\0\0c", "after nul line", "resynced", "last"]
    );
    assert!(stdout(&c).contains(r#""a\u0000b\u0000\u0000c""#));
    let rejected = std::fs::read(&rejects).unwrap();
    let mut want = Vec::new();
    want.extend(frame_bytes(
        b"<190>1 2026-03-01T12:00:00Z ho\0st app web.1 - x\n",
    ));
    want.extend(frame_bytes(&nuls));
    want.extend_from_slice(&[0; 300]);
    want.push(b'\n');
    want.extend_from_slice(&[0; 7]);
    want.extend_from_slice(good("swallowed").as_bytes());
    want.extend_from_slice(b"1\x002 <190>1 - h a p m x\n");
    assert!(rejected == want, "rejects hold exactly the bad bytes");
    let e = stderr(&c);
    assert!(e.contains(&format!("first: {ps}:2:32 hostname")), "{e}");
}

/// `capture` as one gzip member.
fn gzipped(capture: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(capture).unwrap();
    enc.finish().unwrap()
}

#[test]
fn truncated_gzip_keeps_what_came_before_and_names_file_and_offset() {
    let dir = tempfile::tempdir().unwrap();
    let (capture, n) = synth(20_000, 11, false);
    let gz = gzipped(&capture);
    let cut = dir.path().join("cut.drain.gz");
    std::fs::write(&cut, &gz[..gz.len() / 2]).unwrap();
    let after = dir.path().join("after.drain");
    std::fs::write(&after, good("after the broken one")).unwrap();

    let full = dir.path().join("full.drain");
    std::fs::write(&full, &capture).unwrap();
    let reference = drainpipe(&[path_str(&full)]);
    assert_eq!(code(&reference), 0);
    assert_eq!(reference.stdout.iter().filter(|&&b| b == b'\n').count(), n);

    let o = drainpipe(&[path_str(&cut), path_str(&after)]);
    assert_sane(&o);
    assert_eq!(
        code(&o),
        2,
        "a read error is an I/O failure: {}",
        stderr(&o)
    );
    let out = stdout(&o);
    let mut lines: Vec<&str> = out.lines().collect();
    assert!(lines.pop().unwrap().contains("after the broken one"));
    assert!(
        lines.len() > 1000,
        "records before the cut: {}",
        lines.len()
    );
    assert!(lines.len() < n);
    let ref_out = stdout(&reference);
    assert!(
        ref_out.starts_with(&lines.iter().map(|l| format!("{l}\n")).collect::<String>()),
        "the records before the cut are exactly the capture's first ones"
    );
    let e = stderr(&o);
    let prefix = format!(
        "drainpipe: {}: error[io]: read error after ",
        path_str(&cut)
    );
    let line = e
        .lines()
        .find(|l| l.starts_with(&prefix))
        .unwrap_or_else(|| panic!("no read error naming the file: {e}"));
    let offset: u64 = line[prefix.len()..]
        .split(' ')
        .next()
        .unwrap()
        .parse()
        .unwrap_or_else(|_| panic!("no byte offset: {line}"));
    assert!(
        offset >= frame_bytes_of(&lines.join("\n")) && offset < capture.len() as u64,
        "offset {offset}: {line}"
    );

    // validate: the same failure, by file, in the report (no line: it is about the input).
    let v = drainpipe(&["validate", "--report", "json", path_str(&cut)]);
    assert_sane(&v);
    assert_eq!(code(&v), 2);
    let r = report(&v);
    let io: Vec<_> = r["errors"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["code"] == "io")
        .collect();
    assert_eq!(io.len(), 1, "{r}");
    assert_eq!(io[0]["file"], path_str(&cut));
    assert!(io[0]["message"]
        .as_str()
        .unwrap()
        .starts_with(&format!("read error after {offset} bytes")));
    assert_eq!(r["summary"]["inputs_failed"], 1);
}

#[test]
fn corrupt_and_stub_gzip_are_io_errors_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let (capture, _) = synth(2_000, 3, false);
    let mut gz = gzipped(&capture);
    let mid = gz.len() / 2;
    for b in &mut gz[mid..mid + 64] {
        *b ^= 0x5a;
    }
    let corrupt = dir.path().join("corrupt.gz");
    std::fs::write(&corrupt, &gz).unwrap();
    let stub = dir.path().join("stub.gz");
    std::fs::write(&stub, [0x1f, 0x8b]).unwrap();
    let ok = dir.path().join("ok.drain");
    std::fs::write(&ok, good("fine")).unwrap();

    let o = drainpipe(&[path_str(&corrupt), path_str(&stub), path_str(&ok)]);
    assert_sane(&o);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    let e = stderr(&o);
    for p in [&corrupt, &stub] {
        assert!(
            e.contains(&format!("drainpipe: {}: error[io]: ", path_str(p))),
            "{e}"
        );
    }
    assert!(stdout(&o).lines().last().unwrap().contains("\"fine\""));
}

#[test]
fn empty_file_is_a_format_error_and_others_still_convert() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty.drain");
    std::fs::write(&empty, "").unwrap();
    let empty_gz = dir.path().join("empty.gz");
    std::fs::write(&empty_gz, gzipped(b"")).unwrap();
    let ok = dir.path().join("ok.drain");
    std::fs::write(&ok, format!("{}{}", good("one"), good("two"))).unwrap();

    let o = drainpipe(&[path_str(&empty), path_str(&ok), path_str(&empty_gz)]);
    assert_sane(&o);
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    assert_eq!(stdout(&o).lines().count(), 2);
    let e = stderr(&o);
    for p in [&empty, &empty_gz] {
        assert!(
            e.contains(&format!("drainpipe: {}: error[format]: ", path_str(p))),
            "{e}"
        );
    }

    let v = drainpipe(&["validate", path_str(&empty), path_str(&ok)]);
    assert_sane(&v);
    assert_eq!(code(&v), 1);
    assert!(
        stdout(&v).contains(&format!("{}: error[format]: ", path_str(&empty))),
        "{}",
        stdout(&v)
    );

    // Empty stdin too.
    let mut cmd = bin();
    cmd.arg("-");
    let s = run_bounded(cmd, Some(Vec::new()), LIMIT);
    assert_sane(&s);
    assert_eq!(code(&s), 1);
    assert!(
        stderr(&s).contains("<stdin>: error[format]: "),
        "{}",
        stderr(&s)
    );
}

#[test]
fn directory_with_a_symlink_loop_converts_each_file_once() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().join("captures");
    std::fs::create_dir(&d).unwrap();
    std::os::unix::fs::symlink(&d, d.join("loop")).unwrap();
    std::fs::create_dir(d.join("sub")).unwrap();
    std::os::unix::fs::symlink("..", d.join("sub/up")).unwrap();
    std::fs::write(d.join("valid.drain"), format!("{}{}", good("x"), good("y"))).unwrap();

    let o = drainpipe(&[path_str(&d)]);
    assert_sane(&o);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(stdout(&o).lines().count(), 2, "{}", stdout(&o));
    assert_eq!(stderr(&o), "");

    let v = drainpipe(&["validate", path_str(&d)]);
    assert_sane(&v);
    assert_eq!(code(&v), 0);
    assert!(
        stdout(&v).contains("checked 1 input: 2 frames, 2 valid"),
        "{}",
        stdout(&v)
    );
}

/// A walk reads files, as `find -type f` does: a link to nothing is passed over with a note
/// naming it, in both commands, and is no input (README, "Inputs").
#[test]
fn dangling_symlink_in_a_directory_is_skipped_with_a_note_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let dangling = d.join("dangling.drain");
    std::os::unix::fs::symlink(d.join("gone"), &dangling).unwrap();
    std::fs::write(d.join("valid.drain"), good("x")).unwrap();
    let o = drainpipe(&[path_str(d)]);
    assert_sane(&o);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(stdout(&o).lines().count(), 1);
    let e = stderr(&o);
    assert!(
        e.contains(&format!(
            "drainpipe: {}: skipped: a broken symbolic link (No such file or directory)",
            dangling.display()
        )),
        "{e}"
    );
    let v = drainpipe(&["validate", "--report", "json", path_str(d)]);
    assert_sane(&v);
    assert_eq!(code(&v), 0);
    let r = report(&v);
    assert_eq!(r["summary"]["inputs"], 1, "{r}");
    assert!(stderr(&v).contains("skipped"), "{}", stderr(&v));
}

#[test]
fn unreadable_file_is_permission_denied_and_others_still_convert() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let locked = dir.path().join("locked.drain");
    std::fs::write(&locked, good("secret")).unwrap();
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o000)).unwrap();
    if std::fs::read(&locked).is_ok() {
        eprintln!("NOTE: running as root (mode 000 is still readable); permission test skipped");
        return;
    }
    let ok = dir.path().join("ok.drain");
    std::fs::write(&ok, good("public")).unwrap();

    let o = drainpipe(&[path_str(&locked), path_str(&ok)]);
    assert_sane(&o);
    assert_eq!(code(&o), 2);
    assert_eq!(stdout(&o).lines().count(), 1);
    assert!(stdout(&o).contains("public"));
    let e = stderr(&o);
    assert!(
        e.contains(&format!(
            "drainpipe: {}: error[io]: Permission denied",
            path_str(&locked)
        )),
        "{e}"
    );

    let v = drainpipe(&["validate", path_str(&locked), path_str(&ok)]);
    assert_sane(&v);
    assert_eq!(code(&v), 2);
    assert!(
        stdout(&v).contains(&format!(
            "{}: error[io]: Permission denied",
            path_str(&locked)
        )),
        "{}",
        stdout(&v)
    );
}

/// A LEN of 30 digits is quoted as its first 21 digits with nothing to say the quote is cut,
/// which reads as if the length had 21 digits.
#[test]
fn thirty_digit_length_is_not_misquoted() {
    let len30 = "123456789012345678901234567890";
    let mut cmd = bin();
    cmd.arg("validate");
    let o = run_bounded(
        cmd,
        Some(format!("{len30} <190>1 - h a p m x\n").into_bytes()),
        LIMIT,
    );
    assert_sane(&o);
    assert_eq!(code(&o), 1);
    let out = stdout(&o);
    let first = out.lines().next().unwrap();
    assert!(
        first.contains(len30) || first.contains(&format!("{}…", &len30[..21])),
        "{first}"
    );
}
