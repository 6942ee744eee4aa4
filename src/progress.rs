//! A progress line on stderr for long batch runs: bytes read of the known total, rate, ETA.
//!
//! Hand-written rather than a crate: one line redrawn a few times a second is all it takes,
//! and the caller decides when it is wanted (stderr a terminal, the total known, `--quiet`
//! not given). It counts bytes as read from disk (compressed, for gzip inputs), so the total
//! is the sum of the file sizes.

use std::io::Write;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Short runs finish before the line would appear.
const DELAY: Duration = Duration::from_millis(800);
const TICK: Duration = Duration::from_millis(200);

pub struct Progress {
    done: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Progress {
    /// Starts drawing `read` against `total` bytes on stderr.
    pub fn start(total: u64, read: Arc<AtomicU64>) -> Progress {
        let done = Arc::new(AtomicBool::new(false));
        let stop = done.clone();
        let thread = std::thread::Builder::new()
            .name("drainpipe-progress".into())
            .spawn(move || {
                let started = Instant::now();
                let mut drawn = false;
                // Tests set the delay to 0 to see the line on a short run.
                let delay = std::env::var("DRAINPIPE_PROGRESS_DELAY_MS")
                    .ok()
                    .and_then(|v| v.parse().ok())
                    .map_or(DELAY, Duration::from_millis);
                while !stop.load(Ordering::Relaxed) {
                    let elapsed = started.elapsed();
                    if elapsed >= delay {
                        let line = render(read.load(Ordering::Relaxed), total, elapsed);
                        let mut err = std::io::stderr().lock();
                        let _ = write!(err, "\r\x1b[2K{line}");
                        let _ = err.flush();
                        drawn = true;
                    }
                    std::thread::park_timeout(TICK);
                }
                if drawn {
                    let _ = write!(std::io::stderr().lock(), "\r\x1b[2K");
                }
            })
            .ok();
        Progress { done, thread }
    }

    /// Stops and erases the line, before anything else is printed on stderr.
    pub fn finish(mut self) {
        self.stop();
    }

    fn stop(&mut self) {
        self.done.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            t.thread().unpark();
            let _ = t.join();
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.stop();
    }
}

/// `[=========>          ]  45%  231.0 MB / 512.0 MB  210.3 MB/s  ETA 0:02`
pub fn render(read: u64, total: u64, elapsed: Duration) -> String {
    const WIDTH: usize = 24;
    let total = total.max(1);
    let read = read.min(total);
    let frac = read as f64 / total as f64;
    let filled = ((frac * WIDTH as f64) as usize).min(WIDTH);
    let mut bar = "=".repeat(filled);
    if filled < WIDTH {
        bar.push('>');
        bar.push_str(&" ".repeat(WIDTH - filled - 1));
    }
    let secs = elapsed.as_secs_f64().max(1e-3);
    let rate = read as f64 / secs;
    let eta = if rate > 0.0 {
        let left = ((total - read) as f64 / rate).round() as u64;
        format!("{}:{:02}", left / 60, left % 60)
    } else {
        "-:--".into()
    };
    format!(
        "[{bar}] {:>3}%  {} / {}  {}/s  ETA {eta}",
        (frac * 100.0) as u32,
        mb(read as f64),
        mb(total as f64),
        mb(rate)
    )
}

fn mb(bytes: f64) -> String {
    format!("{:.1} MB", bytes / 1e6)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_fraction_rate_and_eta() {
        let line = render(250_000_000, 1_000_000_000, Duration::from_secs(2));
        assert_eq!(
            line,
            "[======>                 ]  25%  250.0 MB / 1000.0 MB  125.0 MB/s  ETA 0:06"
        );
        let line = render(10, 10, Duration::from_secs(1));
        assert!(
            line.starts_with("[========================] 100%"),
            "{line}"
        );
        let line = render(0, 0, Duration::ZERO);
        assert!(line.contains("ETA -:--"), "{line}");
    }
}
