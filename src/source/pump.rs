//! A reader for live inputs that can be waited on with a timeout.
//!
//! A `heroku logs` message only ends when the next one starts, so on a live pipe the pipeline
//! must notice when the pipe has gone quiet. [`Pump`] reads on a thread of its own and hands
//! over what arrived, waiting at most as long as asked. Only used where that matters (`cli`
//! from a pipe): elsewhere a unit's end is known from its own bytes and plain blocking reads
//! are cheaper.

use std::io::{self, Read};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::time::Duration;

/// How long a live input must stay quiet before a pending `cli` message is taken as complete.
/// Well under the ~100 ms within which README promises a live record, well over the gaps
/// inside one burst of output.
pub const DEFAULT_IDLE: Duration = Duration::from_millis(40);

/// Reads a live input on a thread of its own, so the pipeline can wait for bytes with a
/// timeout.
pub struct Pump {
    rx: Receiver<io::Result<Vec<u8>>>,
    /// A chunk that did not fit the caller's buffer, and how much of it was handed out.
    held: Option<(Vec<u8>, usize)>,
    done: bool,
}

/// What a [`Pump::read`] got.
pub enum Arrived {
    /// This many bytes were copied.
    Bytes(usize),
    /// Nothing arrived within the timeout.
    Idle,
    /// The input has ended.
    Eof,
    /// Reading failed.
    Failed(io::Error),
}

impl Pump {
    /// Starts reading `reader` on its own thread.
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
    pub fn read(&mut self, buf: &mut [u8], timeout: Option<Duration>) -> Arrived {
        if self.done {
            return Arrived::Eof;
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
                        return Arrived::Eof;
                    }
                    Ok(Ok(c)) => (c, 0),
                    Ok(Err(e)) => {
                        self.done = true;
                        return Arrived::Failed(e);
                    }
                    Err(RecvTimeoutError::Timeout) => return Arrived::Idle,
                    Err(RecvTimeoutError::Disconnected) => {
                        self.done = true;
                        return Arrived::Eof;
                    }
                }
            }
        };
        let n = (chunk.len() - from).min(buf.len());
        buf[..n].copy_from_slice(&chunk[from..from + n]);
        if from + n < chunk.len() {
            self.held = Some((chunk, from + n));
        }
        Arrived::Bytes(n)
    }
}
