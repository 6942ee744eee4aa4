//! A progress line on stderr for long batch runs: bytes read of the known total, rate, ETA,
//! drawn by `indicatif`.
//!
//! The caller decides when it is wanted (stderr a terminal, stdout not, the total known,
//! `--quiet` not given). It counts bytes as read from disk (compressed, for gzip inputs), so
//! the total is the sum of the file sizes; the reader adds to a shared counter and a ticker
//! thread moves the bar, so the hot path only does an atomic add per block.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Short runs finish before the line would appear.
const DELAY: Duration = Duration::from_millis(800);
/// How often the line is redrawn.
const TICK: Duration = Duration::from_millis(200);

/// The progress line; erased when dropped.
pub struct Progress {
    done: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Progress {
    /// Starts showing `read` against `total` bytes on stderr.
    pub fn start(total: u64, read: Arc<AtomicU64>) -> Progress {
        let done = Arc::new(AtomicBool::new(false));
        let stop = done.clone();
        // Tests set the delay to 0 to see the line on a short run.
        let delay = std::env::var("DRAINPIPE_PROGRESS_DELAY_MS")
            .ok()
            .and_then(|v| v.parse().ok())
            .map_or(DELAY, Duration::from_millis);
        let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::hidden())
            .with_style(
                ProgressStyle::with_template(
                    "[{bar:24}] {percent:>3}%  {decimal_bytes} / {decimal_total_bytes}  \
                     {decimal_bytes_per_sec}  ETA {eta}",
                )
                .expect("a valid template")
                .progress_chars("=> "),
            );
        let show = |bar: &ProgressBar| {
            bar.set_draw_target(ProgressDrawTarget::stderr_with_hz(5));
            bar.tick();
        };
        let mut shown = delay.is_zero();
        if shown {
            show(&bar);
        }
        let started = Instant::now();
        let thread = std::thread::Builder::new()
            .name("drainpipe-progress".into())
            .spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    if !shown && started.elapsed() >= delay {
                        show(&bar);
                        shown = true;
                    }
                    bar.set_position(read.load(Ordering::Relaxed).min(total));
                    std::thread::park_timeout(TICK);
                }
                bar.finish_and_clear();
            })
            .ok();
        Progress { done, thread }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.done.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            t.thread().unpark();
            let _ = t.join();
        }
    }
}
