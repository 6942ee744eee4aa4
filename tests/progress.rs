//! The progress line (issue 6): on stderr only when it is a terminal, never otherwise.

mod common;

use common::*;
use std::process::Command;

/// A capture big enough that the run is not instant.
fn capture(dir: &std::path::Path) -> std::path::PathBuf {
    let (bytes, _) = synth(20_000, 3, false);
    let path = dir.join("cap.drain");
    std::fs::write(&path, bytes).unwrap();
    path
}

#[test]
fn never_when_stderr_is_not_a_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let path = capture(dir.path());
    let o = bin()
        .arg(&path)
        .env("DRAINPIPE_PROGRESS_DELAY_MS", "0")
        .output()
        .unwrap();
    assert_eq!(code(&o), 0);
    assert!(o.stderr.is_empty(), "{}", stderr(&o));
}

/// Runs `cmd` under a pseudo-terminal with util-linux `script`; `None` where it is missing.
fn on_a_terminal(cmd: &str) -> Option<String> {
    let o = Command::new("script")
        .args(["-qec", cmd, "/dev/null"])
        .env("DRAINPIPE_PROGRESS_DELAY_MS", "0")
        .output()
        .ok()?;
    o.status
        .success()
        .then(|| String::from_utf8_lossy(&o.stdout).into_owned())
}

#[test]
fn shown_on_a_terminal_unless_quiet() {
    let dir = tempfile::tempdir().unwrap();
    let path = capture(dir.path());
    let exe = env!("CARGO_BIN_EXE_drainpipe");
    let p = path.display();
    // stdout to a file, stderr on the terminal: the progress line shows, then is erased.
    let Some(shown) = on_a_terminal(&format!("{exe} --threads 1 {p} > /dev/null")) else {
        may_skip("`script` (util-linux) is not available: no terminal to show a progress line on");
        return;
    };
    assert!(
        shown.contains("% ") && shown.contains("B/s") && shown.contains("ETA"),
        "{shown:?}"
    );
    assert!(
        shown.ends_with("\r\x1b[2K"),
        "the line is erased at the end: {shown:?}"
    );
    let quiet = on_a_terminal(&format!("{exe} --quiet {p} > /dev/null")).unwrap();
    assert!(!quiet.contains("ETA"), "{quiet:?}");
    // Records on the terminal too: no progress line among them.
    let records = on_a_terminal(&format!("{exe} {p}")).unwrap();
    assert!(records.contains("\"message_len\""), "records shown");
    assert!(!records.contains("ETA"), "progress mixed into records");
}
