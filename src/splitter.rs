//! One splitter per input, whatever its format: it cuts the input into units (octet frames,
//! syslog lines, `heroku logs` messages, HTTP requests) and rejected regions, incrementally.
//! The pipeline only sees [`Event`]s.
//!
//! Also here: [`Pump`], the reader that lets a live `heroku logs --tail` pipe stream even
//! though a `cli` message only ends when the next one starts.

use crate::detect::Format;
use crate::framer::{Event, Framer};
use crate::http::{HttpSplitter, RecentIds};
use crate::lines::{End, LineSplitter};
use std::io::{self, Read};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::time::Duration;

pub enum Splitter {
    Octet(Framer),
    Lines(LineSplitter),
    Http(HttpSplitter),
}

impl Splitter {
    pub fn new(
        format: Format,
        max_frame: u64,
        lenient: bool,
        token: Option<Vec<u8>>,
        seen: RecentIds,
    ) -> Splitter {
        match format {
            Format::Octet => Splitter::Octet(Framer::new(max_frame).lenient(lenient)),
            Format::Syslog => Splitter::Lines(LineSplitter::syslog(max_frame)),
            Format::Cli => Splitter::Lines(LineSplitter::cli(max_frame)),
            // A drain POST holds many frames: allow a body 16 frames' worth.
            Format::Http => {
                Splitter::Http(HttpSplitter::new(max_frame.saturating_mul(16), token, seen))
            }
        }
    }

    pub fn scan(&mut self, buf: &[u8], end: End, out: &mut Vec<Event>) -> usize {
        match self {
            Splitter::Octet(f) => f.scan(buf, end == End::Eof, out),
            Splitter::Lines(l) => l.scan(buf, end, out),
            Splitter::Http(h) => h.scan(buf, end == End::Eof, out),
        }
    }

    /// Hands back the Frame-Ids an HTTP splitter has seen, for the next input.
    pub fn into_seen(self) -> Option<RecentIds> {
        match self {
            Splitter::Http(h) => Some(h.seen),
            _ => None,
        }
    }
}

/// How long a live input must stay quiet before a pending `cli` message is taken as complete.
/// Well under SPEC's 100 ms, well over the gaps inside one burst of output.
pub const IDLE: Duration = Duration::from_millis(40);

/// Reads a live input on a thread of its own, so the pipeline can wait for bytes with a
/// timeout. Only used where that matters (`cli` from a pipe): elsewhere a unit's end is known
/// from its own bytes and plain blocking reads are cheaper.
pub struct Pump {
    rx: Receiver<io::Result<Vec<u8>>>,
    /// A chunk that did not fit the caller's buffer, and how much of it was handed out.
    held: Option<(Vec<u8>, usize)>,
    done: bool,
}

/// What a [`Pump::read`] got.
pub enum Got {
    Bytes(usize),
    /// Nothing arrived within the timeout.
    Idle,
    Eof,
    Failed(io::Error),
}

impl Pump {
    pub fn new(mut reader: Box<dyn Read + Send>) -> Pump {
        let (tx, rx) = mpsc::sync_channel(4);
        // Detached: it may sit in a read on a pipe that never ends after the run is over.
        let _ = std::thread::Builder::new()
            .name("drainpipe-pump".into())
            .spawn(move || loop {
                let mut chunk = vec![0; 64 * 1024];
                match reader.read(&mut chunk) {
                    Ok(0) => {
                        let _ = tx.send(Ok(Vec::new()));
                        return;
                    }
                    Ok(n) => {
                        chunk.truncate(n);
                        if tx.send(Ok(chunk)).is_err() {
                            return;
                        }
                    }
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => {
                        let _ = tx.send(Err(e));
                        return;
                    }
                }
            });
        Pump {
            rx,
            held: None,
            done: false,
        }
    }

    /// Copies what has arrived into `buf`, waiting at most `timeout` (forever with `None`).
    pub fn read(&mut self, buf: &mut [u8], timeout: Option<Duration>) -> Got {
        if self.done {
            return Got::Eof;
        }
        let (chunk, from) = match self.held.take() {
            Some(h) => h,
            None => {
                let got = match timeout {
                    Some(t) => self.rx.recv_timeout(t),
                    None => self.rx.recv().map_err(|_| RecvTimeoutError::Disconnected),
                };
                match got {
                    Ok(Ok(c)) if c.is_empty() => {
                        self.done = true;
                        return Got::Eof;
                    }
                    Ok(Ok(c)) => (c, 0),
                    Ok(Err(e)) => {
                        self.done = true;
                        return Got::Failed(e);
                    }
                    Err(RecvTimeoutError::Timeout) => return Got::Idle,
                    Err(RecvTimeoutError::Disconnected) => {
                        self.done = true;
                        return Got::Eof;
                    }
                }
            }
        };
        let n = (chunk.len() - from).min(buf.len());
        buf[..n].copy_from_slice(&chunk[from..from + n]);
        if from + n < chunk.len() {
            self.held = Some((chunk, from + n));
        }
        Got::Bytes(n)
    }
}
