//! `--rejoin`: one record for a message its sender split into pieces: PostgreSQL's `[SEQ-N]`
//! syslog chunks and Heroku's 10,000-byte pieces (README "Beyond the schema"; the rule book is
//! `docs/beyond-the-schema.md`).
//!
//! Workers mark every record they write ([`Mark`]: where its bytes end, its source, its
//! message); the writer hands the marks to a [`Rejoiner`] in input order. While a chain is
//! open, the records and diagnostics after its first piece are held back (the joined record
//! takes the first piece's place); when the chain ends, its pieces become one record or, if it
//! is incomplete, stay as they are with a `rejoin` warning at the first piece's frame. What is
//! held is bounded: by the 100-record window after each chain's last piece, and by
//! [`HOLD_LIMIT`] bytes in all.

mod mark;

pub(super) use mark::{may_start, Mark, MsgBytes};
use mark::{Header, Source, Start};

use super::worker::BatchResult;
use crate::diag::messages::{self, ChainBreak};
use crate::diag::{Code, Diagnostic, Severity};
use crate::encode::Encoder;
use crate::record::pieces::{self, chunk, HEROKU_PIECE};
use crate::sink::{Sink, Summary};
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::io;

/// How many records may follow a chain's last piece before the chain ends without its next
/// one.
pub const WINDOW: u64 = 100;

/// The most output held back for open chains at once. Past it, the oldest open chain is ended
/// as incomplete (its pieces written as they came, with a warning), so memory stays flat
/// whatever the input.
pub const HOLD_LIMIT: usize = 16 << 20;

/// What a chain is made of.
enum Kind {
    /// PostgreSQL chunks: the TAG and SEQ they share, the last N, the texts.
    Pg {
        tag: Option<Vec<u8>>,
        seq: Vec<u8>,
        n: u32,
        texts: Vec<Vec<u8>>,
    },
    /// Heroku's pieces: their bytes so far.
    Heroku { bytes: Vec<u8> },
}

/// An open chain.
struct Chain {
    kind: Kind,
    /// The held sequence numbers of its pieces' records, in order.
    pieces: Vec<u64>,
    /// The record number (in the input) of its last piece.
    last: u64,
    /// The first piece's header, row and position.
    header: Header,
    row: u64,
    warned_first: bool,
    position: Diagnostic,
}

impl Chain {
    fn kind_name(&self) -> &'static str {
        match self.kind {
            Kind::Pg { .. } => "PostgreSQL",
            Kind::Heroku { .. } => "Heroku 10,000-byte",
        }
    }

    /// The joined message.
    fn message(&self) -> String {
        match &self.kind {
            Kind::Pg {
                tag, seq, texts, ..
            } => String::from_utf8_lossy(&pieces::join_pg(tag.as_deref(), seq, texts)).into_owned(),
            Kind::Heroku { bytes } => String::from_utf8_lossy(bytes).into_owned(),
        }
    }
}

/// An item held back while a chain before it is open.
enum Held {
    /// A record's bytes, and the `rejoin` warning that goes before it.
    Record {
        bytes: Vec<u8>,
        warning: Option<Diagnostic>,
    },
    /// A piece absorbed into a joined record.
    Gone,
    /// A diagnostic.
    Diag(Diagnostic),
}

impl Held {
    /// What it holds in memory, roughly (for [`HOLD_LIMIT`]).
    fn size(&self) -> usize {
        match self {
            Held::Record { bytes, warning } => {
                bytes.len() + warning.as_ref().map_or(0, |w| w.message.len())
            }
            Held::Gone => 0,
            Held::Diag(d) => d.message.len() + std::mem::size_of::<Diagnostic>(),
        }
    }
}

/// Where a batch starts in its input, for positions.
pub(super) struct BatchStart {
    pub line: u64,
    pub carry: u64,
    pub offset: u64,
    pub units: u64,
}

/// The writer's side of `--rejoin`: chains by source, and what is held back.
pub(super) struct Rejoiner<'a> {
    encoder: &'a Encoder,
    strict: bool,
    /// Held items; `held[0]` has the sequence number `base`.
    held: VecDeque<Held>,
    base: u64,
    /// Bytes of records held.
    held_bytes: usize,
    open: HashMap<Source, Chain>,
    /// Open chains by their last piece's record number (each record is the last piece of at
    /// most one chain), for the window.
    by_last: BTreeMap<u64, Source>,
    /// Records of the current input so far.
    records: u64,
}

impl<'a> Rejoiner<'a> {
    /// A rejoiner encoding joined records with `encoder`.
    pub(super) fn new(encoder: &'a Encoder, strict: bool) -> Rejoiner<'a> {
        Rejoiner {
            encoder,
            strict,
            held: VecDeque::new(),
            base: 0,
            held_bytes: 0,
            open: HashMap::new(),
            by_last: BTreeMap::new(),
            records: 0,
        }
    }

    /// A diagnostic, in input order.
    pub(super) fn diagnostic(
        &mut self,
        d: Diagnostic,
        names: &[String],
        summary: &mut Summary,
        sink: &mut dyn Sink,
    ) -> io::Result<()> {
        if self.held.is_empty() {
            sink.diagnostic(&d, &names[d.input])
        } else {
            let item = Held::Diag(d);
            self.held_bytes += item.size();
            self.held.push_back(item);
            self.limit(names, summary, sink)
        }
    }

    /// The records of batch `b` (by its marks), with the batch's diagnostics
    /// `diags` (in offset order, with their batch offsets) put between them in input order.
    pub(super) fn batch(
        &mut self,
        b: &BatchResult,
        diags: Vec<(usize, Diagnostic)>,
        start: &BatchStart,
        names: &[String],
        summary: &mut Summary,
        sink: &mut dyn Sink,
    ) -> io::Result<()> {
        let mut diags = diags.into_iter().peekable();
        let mut from = 0;
        for m in &b.marks {
            while let Some((_, d)) = diags.next_if(|(at, _)| *at < m.at) {
                self.diagnostic(d, names, summary, sink)?;
            }
            let bytes = &b.lease.out[from..m.end];
            from = m.end;
            self.record(b, m, bytes, start, summary, sink)?;
            self.limit(names, summary, sink)?;
        }
        for (_, d) in diags {
            self.diagnostic(d, names, summary, sink)?;
        }
        self.release(names, sink)
    }

    /// One record: written, held, or taken into a chain.
    fn record(
        &mut self,
        b: &BatchResult,
        m: &Mark,
        bytes: &[u8],
        start: &BatchStart,
        summary: &mut Summary,
        sink: &mut dyn Sink,
    ) -> io::Result<()> {
        self.records += 1;
        let k = self.records;
        // Chains whose window has passed end before this record.
        while let Some((&last, _)) = self.by_last.first_key_value() {
            if last + WINDOW >= k {
                break;
            }
            let (_, source) = self.by_last.pop_first().expect("just seen");
            let chain = self.open.remove(&source).expect("indexed chains are open");
            self.end(chain, ChainBreak::Window { window: WINDOW }, summary);
        }
        let msg: Option<&[u8]> = match &m.msg {
            MsgBytes::Nil => None,
            MsgBytes::Span(r) => Some(&b.bytes()[r.clone()]),
            MsgBytes::Owned(v) => Some(v),
        };
        // Does the record continue the open chain of its source?
        let mut joins = None;
        if let Some(mut chain) = self.open.remove(&m.source) {
            self.by_last.remove(&chain.last);
            match &mut chain.kind {
                Kind::Heroku { bytes: joined } => {
                    // Whatever it holds, it is the next piece.
                    let msg = msg.unwrap_or(&[]);
                    joined.extend_from_slice(msg);
                    let more = msg.len() == HEROKU_PIECE;
                    joins = Some((chain, more));
                }
                Kind::Pg { tag, seq, n, texts } => match msg.and_then(chunk) {
                    Some(c) if c.tag == tag.as_deref() && c.seq == seq.as_slice() => {
                        if c.n == *n + 1 {
                            *n = c.n;
                            texts.push(c.text.to_vec());
                            joins = Some((chain, true));
                        } else {
                            let expected = *n + 1;
                            let why = ChainBreak::Missing {
                                expected,
                                found: c.n,
                            };
                            self.end_incomplete(chain, why, summary);
                        }
                    }
                    // PostgreSQL has moved on to another message: it writes a message's
                    // chunks one after another, so this one is complete, whatever the
                    // length of its last piece.
                    _ => self.end_complete(chain, summary),
                },
            }
        }
        let seq = self.base + self.held.len() as u64;
        if let Some((mut chain, more)) = joins {
            self.hold(bytes);
            chain.pieces.push(seq);
            chain.last = k;
            if more {
                self.by_last.insert(k, m.source.clone());
                self.open.insert(m.source.clone(), chain);
            } else {
                self.end_complete(chain, summary);
            }
        } else if let Some(s) = &m.start {
            // A chain may start here.
            let position = self.position(b, m, s, start);
            let mut chain = Chain {
                kind: Kind::Heroku { bytes: Vec::new() },
                pieces: vec![seq],
                last: k,
                header: s.header.clone(),
                row: m.row,
                warned_first: m.warned,
                position,
            };
            let msg = msg.unwrap_or(&[]);
            match chunk(msg) {
                Some(c) => {
                    chain.kind = Kind::Pg {
                        tag: c.tag.map(<[u8]>::to_vec),
                        seq: c.seq.to_vec(),
                        n: c.n,
                        texts: vec![c.text.to_vec()],
                    };
                    self.hold(bytes);
                    if c.n == 1 {
                        self.by_last.insert(k, m.source.clone());
                        self.open.insert(m.source.clone(), chain);
                    } else {
                        self.end_incomplete(chain, ChainBreak::Orphan { n: c.n }, summary);
                    }
                }
                None => {
                    chain.kind = Kind::Heroku {
                        bytes: msg.to_vec(),
                    };
                    self.hold(bytes);
                    self.by_last.insert(k, m.source.clone());
                    self.open.insert(m.source.clone(), chain);
                }
            }
        } else if self.held.is_empty() {
            sink.output(bytes)?;
        } else {
            self.hold(bytes);
        }
        Ok(())
    }

    /// Ends the oldest open chains as incomplete while more than [`HOLD_LIMIT`] is held.
    fn limit(
        &mut self,
        names: &[String],
        summary: &mut Summary,
        sink: &mut dyn Sink,
    ) -> io::Result<()> {
        while self.held_bytes > HOLD_LIMIT {
            let Some(source) = self
                .open
                .iter()
                .min_by_key(|(_, c)| c.pieces[0])
                .map(|(s, _)| s.clone())
            else {
                break;
            };
            let chain = self.open.remove(&source).expect("just found");
            self.by_last.remove(&chain.last);
            let why = ChainBreak::TooLong { limit: HOLD_LIMIT };
            self.end_incomplete(chain, why, summary);
            self.release(names, sink)?;
        }
        Ok(())
    }

    /// The position of the frame of mark `m` (which may start a chain), as a diagnostic.
    fn position(&self, b: &BatchResult, m: &Mark, s: &Start, start: &BatchStart) -> Diagnostic {
        Diagnostic {
            input: b.input,
            code: Code::Rejoin,
            severity: if self.strict {
                Severity::Error
            } else {
                Severity::Warning
            },
            line: start.line + s.newlines_before,
            column: if s.newlines_before == 0 {
                start.carry + s.column
            } else {
                s.column
            },
            offset: start.offset + m.at as u64,
            frame: start.units + m.unit,
            message: String::new(),
        }
    }

    fn hold(&mut self, bytes: &[u8]) {
        self.held_bytes += bytes.len();
        self.held.push_back(Held::Record {
            bytes: bytes.to_vec(),
            warning: None,
        });
    }

    fn held_mut(&mut self, seq: u64) -> &mut Held {
        let i = (seq - self.base) as usize;
        &mut self.held[i]
    }

    /// Ends `chain` without its next piece: a PostgreSQL chain is complete (PostgreSQL sends
    /// the chunks of a message together, so the next one would have come) unless its last
    /// piece was cut at the limit; a Heroku chain, whose last piece was a full 10,000 bytes,
    /// is not.
    fn end(&mut self, chain: Chain, why: ChainBreak, summary: &mut Summary) {
        match &chain.kind {
            // A last piece cut at the limit proves more was coming.
            Kind::Pg { texts, .. } if texts.last().is_some_and(|t| pieces::at_limit(t)) => {
                self.end_incomplete(chain, why, summary)
            }
            Kind::Pg { .. } => self.end_complete(chain, summary),
            Kind::Heroku { .. } => self.end_incomplete(chain, why, summary),
        }
    }

    /// Joins `chain`'s pieces into one record, in its first piece's place.
    fn end_complete(&mut self, chain: Chain, summary: &mut Summary) {
        let message = chain.message();
        let mut out = Vec::new();
        self.encoder
            .write(&chain.header.record(&message), chain.row, &mut out);
        summary.joined += chain.pieces.len() as u64 - 1;
        self.held_bytes += out.len();
        let mut out = Some(out);
        for &seq in &chain.pieces {
            let held = self.held_mut(seq);
            let gone = std::mem::replace(
                held,
                match out.take() {
                    Some(bytes) => Held::Record {
                        bytes,
                        warning: None,
                    },
                    None => Held::Gone,
                },
            );
            self.held_bytes -= gone.size();
        }
    }

    /// Leaves `chain`'s pieces as they came, with a warning saying `why` before the first.
    fn end_incomplete(&mut self, chain: Chain, why: ChainBreak, summary: &mut Summary) {
        let problem = messages::chain_not_joined(chain.kind_name(), chain.pieces.len(), why);
        let d = Diagnostic {
            message: problem.message,
            ..chain.position
        };
        summary.count(d.code, d.severity);
        if d.severity == Severity::Warning && !chain.warned_first {
            summary.warned += 1;
        }
        self.held_bytes += d.message.len();
        if let Held::Record { warning, .. } = self.held_mut(chain.pieces[0]) {
            *warning = Some(d);
        }
    }

    /// Ends every open chain and writes out all that was held: the input ended or went quiet
    /// (`why` is [`ChainBreak::EndOfInput`] or [`ChainBreak::Quiet`]: a PostgreSQL chain is
    /// complete then, a Heroku one is not), or the run stopped ([`ChainBreak::Stopped`]: no
    /// chain can be told complete, so each is written as it came).
    pub(super) fn end_all(
        &mut self,
        why: ChainBreak,
        names: &[String],
        summary: &mut Summary,
        sink: &mut dyn Sink,
    ) -> io::Result<()> {
        let mut chains: Vec<Chain> = self.open.drain().map(|(_, c)| c).collect();
        chains.sort_by_key(|c| c.pieces[0]);
        self.by_last.clear();
        for chain in chains {
            if why == ChainBreak::Stopped {
                self.end_incomplete(chain, why, summary);
            } else {
                self.end(chain, why, summary);
            }
        }
        if why != ChainBreak::Quiet {
            self.records = 0;
        }
        self.release(names, sink)
    }

    /// Writes out what no open chain holds back.
    fn release(&mut self, names: &[String], sink: &mut dyn Sink) -> io::Result<()> {
        let until = self
            .open
            .values()
            .map(|c| c.pieces[0])
            .min()
            .unwrap_or(u64::MAX);
        while self.base < until {
            let Some(item) = self.held.pop_front() else {
                break;
            };
            self.base += 1;
            self.held_bytes -= item.size();
            match item {
                Held::Record { bytes, warning } => {
                    if let Some(w) = warning {
                        sink.diagnostic(&w, &names[w.input])?;
                    }
                    sink.output(&bytes)?;
                }
                Held::Gone => {}
                Held::Diag(d) => sink.diagnostic(&d, &names[d.input])?,
            }
        }
        Ok(())
    }
}
