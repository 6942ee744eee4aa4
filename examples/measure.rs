//! The benchmark's stopwatch: `measure CMD ARGS...` runs the command (stdin inherited, stdout
//! and stderr to /dev/null) and prints `WALL_S CPU_S PEAK_RSS_KIB EXIT_CODE` on stdout.
//!
//! `bench/run.py` uses it instead of timing the command itself because a child forked by
//! Python inherits Python's resident set into its `ru_maxrss` (Linux carries the high-water
//! mark across `exec`), which would floor every peak at ~24 MiB; this launcher is a few MiB.

use std::os::unix::process::ExitStatusExt;
use std::process::{Command, Stdio};
use std::time::Instant;

fn main() {
    let mut args = std::env::args_os().skip(1);
    let Some(program) = args.next() else {
        eprintln!("usage: measure CMD [ARGS...]");
        std::process::exit(2);
    };
    let start = Instant::now();
    let child = Command::new(program)
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn();
    let child = match child {
        Ok(c) => c,
        Err(e) => {
            eprintln!("measure: {e}");
            std::process::exit(2);
        }
    };
    let mut status = 0;
    // SAFETY: a zeroed rusage is a valid value for wait4 to fill in.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: the pid is our child, not yet reaped; the pointers are to live locals.
    let r = unsafe { libc::wait4(child.id() as libc::pid_t, &mut status, 0, &mut usage) };
    let wall = start.elapsed().as_secs_f64();
    if r < 0 {
        eprintln!("measure: wait4: {}", std::io::Error::last_os_error());
        std::process::exit(2);
    }
    let secs = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    let cpu = secs(usage.ru_utime) + secs(usage.ru_stime);
    let code = std::process::ExitStatus::from_raw(status)
        .code()
        .unwrap_or(-1);
    println!("{wall:.6} {cpu:.6} {} {code}", usage.ru_maxrss);
}
