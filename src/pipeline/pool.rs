//! The fixed set of buffers a run works in, lent out and given back by dropping the lease.
//!
//! Memory is bounded by this pool: the reader cannot get ahead of the writer by more than the
//! pool holds. A [`Lease`] travels with its batch from the reader to a worker to the writer,
//! and whoever drops it last gives the buffers back, however the run ends.

use crate::split::Event;
use std::ops::{Deref, DerefMut};
use std::sync::mpsc::{self, Receiver, SyncSender};

/// A pooled set: a block of input, what the splitter found in it, and the buffer its output is
/// encoded into. All are reused for the whole run, so steady state allocates nothing per block
/// (a fresh event list per block cost page faults and zeroing: its ~200 KB came from mmap each
/// time).
#[derive(Default)]
pub struct Buffers {
    /// Input bytes. Only a prefix is in use; its length is kept by the batch.
    pub input: Vec<u8>,
    /// The splitter's events for the batch's bytes.
    pub events: Vec<Event>,
    /// Encoded records.
    pub out: Vec<u8>,
}

/// Lends out a fixed number of [`Buffers`].
pub struct Pool {
    free: Receiver<Buffers>,
    home: SyncSender<Buffers>,
}

impl Pool {
    /// A pool of `size` empty buffer sets.
    pub fn new(size: usize) -> Pool {
        let (home, free) = mpsc::sync_channel(size);
        for _ in 0..size {
            home.send(Buffers::default())
                .expect("the pool has room for its own");
        }
        Pool { free, home }
    }

    /// Waits for a free set.
    pub fn take(&self) -> Lease {
        let bufs = self
            .free
            .recv()
            .expect("the pool keeps a sender, so it never closes");
        Lease {
            bufs: Some(bufs),
            home: self.home.clone(),
        }
    }
}

/// Buffers lent out by a [`Pool`]; dropping the lease gives them back.
pub struct Lease {
    /// Always `Some` until dropped.
    bufs: Option<Buffers>,
    home: SyncSender<Buffers>,
}

impl Deref for Lease {
    type Target = Buffers;
    fn deref(&self) -> &Buffers {
        self.bufs.as_ref().expect("held until dropped")
    }
}

impl DerefMut for Lease {
    fn deref_mut(&mut self) -> &mut Buffers {
        self.bufs.as_mut().expect("held until dropped")
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        if let Some(b) = self.bufs.take() {
            // The pool is gone only when the run is over.
            let _ = self.home.try_send(b);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dropping_a_lease_gives_the_buffers_back() {
        let pool = Pool::new(2);
        let mut a = pool.take();
        a.input.extend_from_slice(b"kept");
        let b = pool.take();
        drop(a);
        // The buffers came back, allocation and all.
        let c = pool.take();
        assert_eq!(c.input, b"kept");
        drop((b, c));
        let _ = (pool.take(), pool.take());
    }
}
