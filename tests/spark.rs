//! The Spark job (issue 13): `scale/spark/test_job.py` run against this build. It converts
//! generated archives with `scale/spark/convert.py` in `local[2]` and checks the table's rows,
//! the rejects and the reports against `drainpipe convert` and `drainpipe validate` run on
//! each file (its docstring lists every check). PySpark comes from `scale/spark/setup.sh`
//! (`.ci/run` runs it); without it the test is skipped with a note, except in CI.

mod common;
use common::*;
use std::path::PathBuf;
use std::process::Command;

#[test]
fn the_spark_job_writes_exactly_drainpipes_records_rejects_and_reports() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let venv = std::env::var_os("DRAINPIPE_SPARK_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target/spark-venv"));
    let python = venv.join("bin/python");
    if !python.exists() && may_skip("PySpark: run scale/spark/setup.sh target/spark-venv first") {
        return;
    }
    let mut cmd = Command::new(&python);
    cmd.arg(root.join("scale/spark/test_job.py"))
        .arg("--drainpipe")
        .arg(env!("CARGO_BIN_EXE_drainpipe"))
        .arg("--python-for-spark")
        .arg(&python);
    // A Java runtime setup.sh installed into the virtualenv, when the machine had none.
    if let Ok(home) = std::fs::read_to_string(venv.join("java_home")) {
        let home = home.trim();
        let path = std::env::var("PATH").unwrap_or_default();
        cmd.env("JAVA_HOME", home)
            .env("PATH", format!("{home}/bin:{path}"));
    }
    let o = cmd.output().expect("run test_job.py");
    let out = String::from_utf8_lossy(&o.stdout);
    let last = out.lines().last().unwrap_or("");
    assert!(
        o.status.success() && last.ends_with(" 0 failed"),
        "test_job.py: {}\n{out}\n{}",
        o.status,
        String::from_utf8_lossy(&o.stderr)
    );
    let passed: u32 = last
        .split_whitespace()
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    assert!(passed >= 40, "{last}");
}
