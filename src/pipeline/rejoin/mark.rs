//! What a worker records of each record it writes under `--rejoin` ([`Mark`]), for the
//! writer's [`super::Rejoiner`]: where its bytes end, its source, its message, and, for a record
//! that may start a chain, its header and position.

use crate::record::pieces;
use crate::record::timestamp::Timestamp;
use crate::record::Record;
use std::borrow::Cow;
use std::ops::Range;

/// A record's source: host, app and process. Invariant: the three fields, each as a 4-byte
/// little-endian length and its bytes, or `u32::MAX` alone for a missing (null) field; one
/// allocation per record rather than three.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub(crate) struct Source(Box<[u8]>);

impl Source {
    fn of(r: &Record<'_>) -> Source {
        let fields = [r.host_name, r.app_name, r.process_id];
        let len: usize = fields.iter().map(|f| 4 + f.map_or(0, str::len)).sum();
        let mut key = Vec::with_capacity(len);
        for f in fields {
            match f {
                Some(v) => {
                    // Header fields are at most 255 bytes.
                    key.extend_from_slice(&(v.len() as u32).to_le_bytes());
                    key.extend_from_slice(v.as_bytes());
                }
                None => key.extend_from_slice(&u32::MAX.to_le_bytes()),
            }
        }
        Source(key.into_boxed_slice())
    }
}

/// A record's MSG bytes (before UTF-8 decoding), for a Heroku chain it may continue.
pub(crate) enum MsgBytes {
    /// A nil message.
    Nil,
    /// `bytes[range]` of the batch.
    Span(Range<usize>),
    /// Bytes that are not in the batch as they are (a decoded HTTP body, cleaned `heroku logs`
    /// text).
    Owned(Vec<u8>),
}

/// The header of a record that may start a chain, kept for the joined record.
#[derive(Clone)]
pub(crate) struct Header {
    priority: Option<u8>,
    version: Option<Box<str>>,
    timestamp: Option<Timestamp>,
    host_name: Option<Box<str>>,
    app_name: Option<Box<str>>,
    process_id: Option<Box<str>>,
    message_id: Option<Box<str>>,
}

impl Header {
    fn of(r: &Record<'_>) -> Header {
        let f = |v: Option<&str>| v.map(Box::from);
        Header {
            priority: r.priority,
            version: f(r.version),
            timestamp: r.timestamp,
            host_name: f(r.host_name),
            app_name: f(r.app_name),
            process_id: f(r.process_id),
            message_id: f(r.message_id),
        }
    }

    /// The joined record: this header, `message`, and a null `message_len`.
    pub(super) fn record<'a>(&'a self, message: &'a str) -> Record<'a> {
        Record {
            message_len: None,
            priority: self.priority,
            version: self.version.as_deref(),
            timestamp: self.timestamp,
            host_name: self.host_name.as_deref(),
            app_name: self.app_name.as_deref(),
            process_id: self.process_id.as_deref(),
            message_id: self.message_id.as_deref(),
            message: Some(Cow::Borrowed(message)),
        }
    }
}

/// What may start a chain: a record whose message is a PostgreSQL chunk or exactly
/// [`HEROKU_PIECE`] bytes. Its header, and where its frame starts in the batch.
pub(crate) struct Start {
    pub(super) header: Header,
    /// Newlines in the batch before the frame.
    pub(super) newlines_before: u64,
    /// The frame's column: in the batch's first line, relative to the batch's start.
    pub(super) column: u64,
}

/// What `--rejoin` needs of one written record.
pub(crate) struct Mark {
    /// Where the record's bytes end in the batch's output (they start where the record
    /// before them ended, or at 0).
    pub end: usize,
    /// Where its frame starts in the batch: diagnostics before it come before it.
    pub at: usize,
    /// Its frame's index in the batch (frames and regions).
    pub unit: u64,
    /// `p_row_id`'s number, for the joined record.
    pub row: u64,
    pub source: Source,
    pub msg: MsgBytes,
    /// The record has a warning of its own.
    pub warned: bool,
    /// Set when the message may start a chain.
    pub start: Option<Box<Start>>,
}

impl MsgBytes {
    /// `msg` as a span of `batch` when it lies in it, else a copy.
    pub(crate) fn of(batch: &[u8], msg: Option<&[u8]>) -> MsgBytes {
        let Some(msg) = msg else {
            return MsgBytes::Nil;
        };
        let (b, p) = (batch.as_ptr() as usize, msg.as_ptr() as usize);
        if p >= b && p + msg.len() <= b + batch.len() {
            MsgBytes::Span(p - b..p - b + msg.len())
        } else {
            MsgBytes::Owned(msg.to_vec())
        }
    }
}

/// Whether a record whose MSG is `msg` may start a chain (the worker then locates its frame
/// and keeps its header).
pub(crate) fn may_start(msg: Option<&[u8]>) -> bool {
    msg.is_some_and(pieces::may_start)
}

impl Mark {
    /// The mark of record `r`, whose encoded bytes end at `end` in the batch's output and
    /// whose frame starts at `at` in the batch; `start_at` is that frame's (newlines before,
    /// column) when [`may_start`] said it may start a chain.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        r: &Record<'_>,
        end: usize,
        at: usize,
        unit: u64,
        row: u64,
        msg: MsgBytes,
        warned: bool,
        start_at: Option<(u64, u64)>,
    ) -> Mark {
        let start = start_at.map(|(newlines_before, column)| {
            Box::new(Start {
                header: Header::of(r),
                newlines_before,
                column,
            })
        });
        Mark {
            end,
            at,
            unit,
            row,
            source: Source::of(r),
            msg,
            warned,
            start,
        }
    }
}
