//! Helpers shared by the integration tests: run the real binary, build frames and requests,
//! use gen-drain, check accounting.
#![allow(dead_code)]

pub mod accounting;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// The binary under test: this build's, or `DRAINPIPE_TEST_BIN` (to show that a new test
/// fails on an older binary, such as the one an outside trial ran).
pub fn bin() -> Command {
    match std::env::var_os("DRAINPIPE_TEST_BIN") {
        Some(p) => Command::new(p),
        None => Command::new(env!("CARGO_BIN_EXE_drainpipe")),
    }
}

pub fn testdata(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("testdata")
        .join(name)
}

/// Runs drainpipe with `args`, feeding `stdin`.
pub fn run(args: &[&str], stdin: &[u8]) -> Output {
    let mut cmd = bin();
    cmd.args(args);
    run_cmd(cmd, stdin)
}

/// Runs `cmd`, feeding `stdin`; stdout and stderr are captured.
pub fn run_cmd(cmd: Command, stdin: &[u8]) -> Output {
    let (child, feeder) = spawn_fed(cmd, stdin);
    let out = child.wait_with_output().expect("wait");
    feeder.join().unwrap();
    out
}

/// Starts `cmd` with stdout and stderr piped and `stdin` written to its stdin from a thread
/// (which ends when all is written or the child stops reading).
pub fn spawn_fed(
    mut cmd: Command,
    stdin: &[u8],
) -> (std::process::Child, std::thread::JoinHandle<()>) {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn drainpipe");
    let mut input = child.stdin.take().unwrap();
    let data = stdin.to_vec();
    let feeder = std::thread::spawn(move || {
        let _ = input.write_all(&data);
    });
    (child, feeder)
}

/// Starts drainpipe on a pipe kept open, as a live tail would feed it: returns the child, its
/// stdin and its stdout as lines, to read records as they come.
pub fn live(
    args: &[&str],
) -> (
    std::process::Child,
    std::process::ChildStdin,
    std::io::Lines<std::io::BufReader<std::process::ChildStdout>>,
) {
    use std::io::BufRead;
    let mut child = bin()
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn drainpipe");
    let stdin = child.stdin.take().unwrap();
    let lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
    (child, stdin, lines)
}

pub fn code(o: &Output) -> i32 {
    o.status.code().expect("exited normally")
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).expect("stdout is UTF-8")
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// `LEN SP msg` with LEN computed.
pub fn frame(msg: &str) -> String {
    format!("{} {msg}", msg.len())
}

/// `LEN SP msg` for bytes that need not be UTF-8.
pub fn frame_bytes(msg: &[u8]) -> Vec<u8> {
    let mut out = format!("{} ", msg.len()).into_bytes();
    out.extend_from_slice(msg);
    out
}

/// A saved drain POST as Logplex sends one: request line, `Host`, `headers`, blank line,
/// `body`.
pub fn post(headers: &str, body: &[u8]) -> Vec<u8> {
    let mut v = format!("POST /logs HTTP/1.1\r\nHost: x\r\n{headers}\r\n").into_bytes();
    v.extend_from_slice(body);
    v
}

/// `data` as one gzip member.
pub fn gzip(data: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

/// A deterministic xorshift64 stream (the tests' one RNG: no dependency, same numbers
/// everywhere).
pub struct Rng(pub u64);

impl Rng {
    /// The next number.
    pub fn next(&mut self) -> u64 {
        let x = &mut self.0;
        *x ^= *x << 13;
        *x ^= *x >> 7;
        *x ^= *x << 17;
        *x
    }
}

/// Whether tools the tests need may be missing: only outside CI. In CI (`CI` set) a missing
/// tool fails the test, so a check never passes by not running.
pub fn may_skip(why: &str) -> bool {
    assert!(std::env::var_os("CI").is_none(), "{why}");
    eprintln!("SKIPPED: {why}");
    true
}

/// Runs `cmd` (stdin empty), killing it if it outlives `limit`; returns its output and its
/// peak RSS in KiB as the kernel counted it (`wait4`'s `ru_maxrss`).
#[allow(clippy::zombie_processes)] // reaped by wait4 below, which Child::wait cannot replace
pub fn run_measured(mut cmd: Command, limit: std::time::Duration) -> (Output, u64) {
    use std::io::Read;
    use std::os::unix::process::ExitStatusExt;
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
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
    let pid = child.id() as libc::pid_t;
    let start = std::time::Instant::now();
    let (status, rss) = loop {
        let mut status = 0;
        // SAFETY: a zeroed rusage is a valid value for wait4 to fill in.
        let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
        // SAFETY: `pid` is our child, not yet reaped; the pointers are to live locals.
        let r = unsafe { libc::wait4(pid, &mut status, libc::WNOHANG, &mut usage) };
        assert!(r >= 0, "wait4: {}", std::io::Error::last_os_error());
        if r == pid {
            break (status, usage.ru_maxrss as u64);
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            panic!("{cmd:?} still running after {limit:?}");
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    };
    let o = Output {
        status: std::process::ExitStatus::from_raw(status),
        stdout: out_t.join().unwrap(),
        stderr: err_t.join().unwrap(),
    };
    (o, rss)
}

/// A valid Heroku frame carrying `text`.
pub fn good(text: &str) -> String {
    frame(&format!(
        "<190>1 2026-03-01T12:00:00.000001+00:00 host app web.1 - {text}\n"
    ))
}

/// Runs `../shared/bench/gen-drain` (the project's deterministic capture generator, Python)
/// and returns the capture and its `--stats` JSON. Where it cannot run (no `../shared`, no
/// python3) the test is skipped with a note, except in CI (`CI` set), where that is a failure.
pub fn gen_drain(args: &[&str]) -> Option<(Vec<u8>, serde_json::Value)> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/bench/gen-drain");
    let python = Command::new("python3").arg("--version").output().is_ok();
    if !script.exists() || !python {
        may_skip(&format!(
            "gen-drain cannot run (needs python3 and {})",
            script.display()
        ));
        return None;
    }
    let out = Command::new("python3")
        .arg(&script)
        .args(args)
        .args(["--stats", "--jobs", "1"])
        .output()
        .expect("run gen-drain with python3");
    assert!(out.status.success(), "gen-drain failed: {}", stderr(&out));
    let stats = String::from_utf8_lossy(&out.stderr);
    let json_line = stats.lines().rev().find(|l| l.starts_with('{')).unwrap();
    Some((out.stdout, serde_json::from_str(json_line).unwrap()))
}

/// A deterministic capture made here in Rust: `n` frames, realistic shapes (router lines,
/// multi-line traces, UTF-8, CRLF separators) and, with `bad`, about 3 % broken frames of every
/// kind. Returns the bytes and the number of good frames.
pub fn synth(n: usize, seed: u64, bad: bool) -> (Vec<u8>, usize) {
    let mut rng = Rng(seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407));
    let mut next = move || rng.next();
    let mut out = Vec::new();
    let mut good_frames = 0;
    for i in 0..n {
        let r = next();
        let us = i * 1000 + (r % 1000) as usize;
        let ts = format!(
            "2026-03-01T{:02}:{:02}:{:02}.{:06}+00:00",
            (us / 3_600_000_000) % 24,
            (us / 60_000_000) % 60,
            (us / 1_000_000) % 60,
            us % 1_000_000
        );
        let text = match r % 7 {
            0 => format!(
                "at=info method=GET path=\"/items/{i}\" status=200 bytes={} protocol=https",
                r % 99999
            ),
            1 => format!(
                "Traceback (most recent call last):\n  File \"app.py\", line {}\nKeyError: 'k{i}'",
                r % 500
            ),
            2 => format!("Benutzer J\u{fc}rgen \u{2713} \u{65e5}\u{672c} \u{1f680} {i}"),
            3 => format!(
                "sample#memory_total={}.{}MB say \"hi\", tab\there",
                r % 1000,
                r % 100
            ),
            _ => format!("job {i} done in {}ms", r % 10000),
        };
        let msg = format!("<190>1 {ts} host app web.{} - {text}\n", r % 9 + 1);
        if bad && r % 33 == 5 {
            let broken = match (r >> 8) % 6 {
                0 => format!("{} {}", msg.len() - 2, msg),
                1 => format!("0{} {}", msg.len(), msg),
                2 => format!("x{} {}", msg.len(), msg),
                3 => frame(&msg.replace("<190>", "<300>")),
                4 => frame(&msg.replace("T", " ")),
                _ => frame(&msg.replace(" app ", " a\u{7}pp ")),
            };
            out.extend_from_slice(broken.as_bytes());
        } else {
            out.extend_from_slice(frame(&msg).as_bytes());
            good_frames += 1;
        }
        if r % 50 == 7 {
            out.extend_from_slice(b"\r\n");
        }
    }
    (out, good_frames)
}

/// Parses a `validate --report json` document.
pub fn report(o: &Output) -> serde_json::Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| {
        panic!(
            "report is not JSON ({e}): {}",
            String::from_utf8_lossy(&o.stdout)
        )
    })
}

/// `(line, column, code)` of every listed diagnostic in a JSON report.
pub fn positions(report: &serde_json::Value) -> Vec<(u64, u64, String)> {
    report["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["line"].as_u64().unwrap_or(0),
                e["column"].as_u64().unwrap_or(0),
                e["code"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}
