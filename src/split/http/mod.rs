//! Saved drain POSTs (README "Inputs", `http`): request line, headers, blank line, body,
//! repeated.
//!
//! The splitter runs on the reader thread, in input order, because two of its checks are about
//! order: a `Logplex-Frame-Id` seen before marks a retry, and that needs the earlier requests.
//! It cuts requests, reads their heads ([`head`], with `httparse`) and delimits their bodies
//! ([`body`]); a gzip body is inflated here too, since only a body that decodes makes its
//! request delivered (and its Frame-Id seen). Framing a body is left to the workers
//! ([`Request::frames`]).
//!
//! Logplex's token is a secret: it is compared, never copied into a message.

mod body;
mod head;
mod request;

pub use request::{counts_as_frame, Request, Verdict};

use super::event::Event;
use super::resync::{excerpt_ready, next_unit, Looks, Next, State};
use crate::diag::messages::{self, LINE_QUOTE};
use crate::diag::Problem;
use body::{chunk_size, gunzip, request_line_within, trim_eol, RequestLine};
use head::Head;
use memchr::memchr;
use std::collections::{HashSet, VecDeque};
use std::ops::Range;

/// A request's head (request line and headers) larger than this is not a drain POST.
const MAX_HEAD: usize = 64 * 1024;

/// The `Logplex-Frame-Id`s of the last [`RecentIds::CAPACITY`] requests. Logplex retries a
/// POST within seconds to minutes, so a window that long catches every retry, while memory
/// stays bounded however many requests a run reads (a set of every id would not).
#[derive(Debug, Default)]
pub struct RecentIds {
    /// The ids, for lookups. Invariant: the same ids as `order`.
    set: HashSet<Vec<u8>>,
    /// The ids, oldest first, at most [`RecentIds::CAPACITY`].
    order: VecDeque<Vec<u8>>,
}

impl RecentIds {
    /// How many ids are remembered.
    pub const CAPACITY: usize = 100_000;

    /// Whether `id` is among the recent ones.
    pub fn contains(&self, id: &[u8]) -> bool {
        self.set.contains(id)
    }

    /// Adds `id`; false if it is already among the recent ones.
    pub fn insert(&mut self, id: &[u8]) -> bool {
        if self.set.contains(id) {
            return false;
        }
        if self.order.len() == Self::CAPACITY {
            if let Some(old) = self.order.pop_front() {
                self.set.remove(&old);
            }
        }
        self.set.insert(id.to_vec());
        self.order.push_back(id.to_vec());
        true
    }
}

/// Cuts saved HTTP requests out of a capture, incrementally.
#[derive(Debug)]
pub struct HttpSplitter {
    /// The most a body may hold (chunked or not, before and after decompression).
    max_request: usize,
    /// `--drain-token`.
    token: Option<Vec<u8>>,
    /// Frame-Ids of delivered requests, recently, in the run (retries are recognised across
    /// inputs too).
    pub seen: RecentIds,
    /// Between requests or inside a rejected region.
    state: State,
}

/// What starts at a position.
enum Step {
    /// A complete request.
    Request(Box<Request>),
    /// More bytes are needed to tell.
    NeedMore,
    /// A malformed request, and where its rejected bytes end if known (`None`: at the next line
    /// starting `POST `).
    Error(Problem, Option<usize>),
}

impl HttpSplitter {
    /// `max_body`: the most a body may hold; `token`: `--drain-token`; `seen`: the run's
    /// Frame-Ids so far.
    pub fn new(max_body: u64, token: Option<Vec<u8>>, seen: RecentIds) -> HttpSplitter {
        HttpSplitter {
            max_request: usize::try_from(max_body).unwrap_or(usize::MAX),
            token,
            seen,
            state: State::Units,
        }
    }

    /// Scans `buf` as [`Framer::scan`](super::octet::Framer::scan) does.
    pub fn scan(&mut self, buf: &[u8], eof: bool, out: &mut Vec<Event>) -> usize {
        let mut p = 0;
        loop {
            p = match next_unit(&mut self.state, buf, p, eof, out, &starts_post) {
                Next::Unit(p) => p,
                Next::Done(p) => return p,
            };
            match self.request(buf, p, eof) {
                Step::NeedMore => return p,
                Step::Request(r) => {
                    p = r.end;
                    out.push(Event::Request(r));
                }
                Step::Error(problem, Some(end)) => {
                    out.push(Event::Error { start: p, problem });
                    out.push(Event::Skip { start: p, end });
                    p = end;
                }
                Step::Error(mut problem, None) => {
                    // A malformed request ends at the next line, after its request line, that
                    // starts `POST `. When the offending byte lies at or past that line (a body
                    // that ran into the next request), the request itself is what is wrong:
                    // the problem points at it, and stays inside the region (and the batch) it
                    // belongs to.
                    let at = problem.at;
                    let after_request_line =
                        memchr(b'\n', &buf[p..]).map_or(buf.len(), |i| p + i + 1);
                    let (end, state) = match post_line_until(buf, after_request_line, at, eof) {
                        PostLine::At(q) => {
                            if at >= q {
                                problem.at = p;
                            }
                            (q, State::Units)
                        }
                        PostLine::None => (
                            at.max(p),
                            State::Skipping {
                                at_line_start: false,
                            },
                        ),
                        // `q` starts a line that needs more bytes to tell.
                        PostLine::Undecided(q) => (
                            q,
                            State::Skipping {
                                at_line_start: true,
                            },
                        ),
                    };
                    out.push(Event::Error { start: p, problem });
                    if end > p {
                        out.push(Event::Skip { start: p, end });
                    }
                    p = end;
                    self.state = state;
                }
            }
        }
    }

    /// Reads the request that starts at `p`.
    fn request(&mut self, buf: &[u8], p: usize, eof: bool) -> Step {
        let b = &buf[p..];
        let n = b.len().min(5);
        if b[..n] != b"POST "[..n] {
            if !excerpt_ready(b, LINE_QUOTE, eof) {
                return Step::NeedMore;
            }
            let line = &b[..memchr(b'\n', b).unwrap_or(b.len()).min(LINE_QUOTE)];
            return Step::Error(messages::expected_request_line(p, line), None);
        }
        // The head ends at the first empty line.
        let mut line = p;
        let body_start = loop {
            let Some(i) = memchr(b'\n', &buf[line..]) else {
                return self.incomplete(buf, p, eof, "inside the request headers");
            };
            let next = line + i + 1;
            if next - p > MAX_HEAD {
                return Step::Error(messages::head_too_long(p, MAX_HEAD), None);
            }
            if trim_eol(&buf[line..next]).is_empty() {
                break next;
            }
            line = next;
        };
        let head = match Head::parse(buf, p, body_start) {
            Ok(h) => h,
            Err(problem) => return Step::Error(problem, None),
        };
        let (body, end) = if head.chunked {
            if let Some((_, at)) = head.content_length {
                return Step::Error(messages::length_and_chunked(at), None);
            }
            match self.chunks(buf, p, body_start, eof) {
                Ok(x) => x,
                Err(step) => return step,
            }
        } else {
            let Some((len, at)) = head.content_length else {
                return Step::Error(messages::no_body_length(p), None);
            };
            if len > self.max_request as u64 {
                return Step::Error(messages::body_over_max(at, len, self.max_request), None);
            }
            let end = body_start + len as usize;
            if end > buf.len() {
                if !eof {
                    return Step::NeedMore;
                }
                let problem = messages::body_truncated(at, len, buf.len() - body_start);
                return Step::Error(problem, Some(buf.len()));
            }
            (std::iter::once(body_start..end).collect(), end)
        };
        // A body that takes in a request line has the wrong length: it runs into the next
        // request (which would otherwise escape every check, the token's included).
        match request_line_within(buf, body_start, end, eof, MAX_HEAD) {
            RequestLine::NeedMore => return Step::NeedMore,
            RequestLine::At(_) => {
                return Step::Error(messages::body_runs_into_next_request(p, head.chunked), None)
            }
            RequestLine::None => {}
        }

        let mut request = Box::new(Request {
            start: p,
            end,
            body_start,
            body,
            gzip: head.gzip,
            decoded: None,
            msg_count: head.msg_count,
            verdict: Verdict::Accept,
        });
        if let Some(problem) = head.refused {
            request.verdict = Verdict::Refused(problem);
            return Step::Request(request);
        }
        if let Some(want) = &self.token {
            let refused = match head
                .token
                .iter()
                .find(|got| !same_secret(want, &buf[(*got).clone()]))
            {
                Some(got) => Some(messages::token_differs(got.start)),
                None if head.token.is_empty() => Some(messages::token_missing(p)),
                None => None,
            };
            if let Some(problem) = refused {
                request.verdict = Verdict::Refused(problem);
                return Step::Request(request);
            }
        }
        let id = head.frame_id.map(|r| &buf[r]);
        if id.is_some_and(|id| self.seen.contains(id)) {
            request.verdict = Verdict::Duplicate;
            return Step::Request(request);
        }
        if head.gzip {
            match gunzip(&request.raw_body(buf), self.max_request as u64, body_start) {
                Ok(d) => request.decoded = Some(d),
                // The request is delimited; only its body is bad. Rejected whole, as a
                // request, so that its rejected bytes can be written without a token.
                Err(problem) => {
                    request.verdict = Verdict::Refused(problem);
                    return Step::Request(request);
                }
            }
        }
        // Only a request that was delivered counts as seen: a failed one is what Logplex
        // retries, and that retry must not be skipped.
        if let Some(id) = id {
            self.seen.insert(id);
        }
        Step::Request(request)
    }

    /// A chunked body: its data pieces and where the request ends.
    fn chunks(
        &self,
        buf: &[u8],
        p: usize,
        body_start: usize,
        eof: bool,
    ) -> Result<(Vec<Range<usize>>, usize), Step> {
        let mut pieces = Vec::new();
        let mut total = 0usize;
        let mut q = body_start;
        loop {
            let Some(i) = memchr(b'\n', &buf[q..]) else {
                return Err(self.incomplete(buf, p, eof, "inside a chunked body"));
            };
            let line = trim_eol(&buf[q..q + i + 1]);
            if line.starts_with(b"POST ") {
                return Err(Step::Error(messages::no_last_chunk(p), None));
            }
            let Some(size) = chunk_size(line) else {
                return Err(Step::Error(messages::bad_chunk_size(q, line), None));
            };
            let size_line = q;
            q += i + 1;
            if size == 0 {
                // Trailers, up to an empty line.
                loop {
                    let Some(i) = memchr(b'\n', &buf[q..]) else {
                        return Err(self.incomplete(buf, p, eof, "inside a chunked body"));
                    };
                    let empty = trim_eol(&buf[q..q + i + 1]).is_empty();
                    q += i + 1;
                    if empty {
                        return Ok((pieces, q));
                    }
                }
            }
            total = total.saturating_add(size);
            if total > self.max_request {
                return Err(Step::Error(
                    messages::chunks_over_max(size_line, self.max_request),
                    None,
                ));
            }
            let data_end = q + size;
            let after = if buf.get(data_end) == Some(&b'\r') {
                data_end + 2
            } else {
                data_end + 1
            };
            if after > buf.len() {
                return Err(self.incomplete(buf, p, eof, "inside a chunked body"));
            }
            if buf[after - 1] != b'\n' {
                return Err(Step::Error(messages::chunk_without_crlf(size_line), None));
            }
            pieces.push(q..data_end);
            q = after;
        }
    }

    /// A request that has not ended: wait for more bytes, unless it is already too large or
    /// the input has ended.
    fn incomplete(&self, buf: &[u8], p: usize, eof: bool, place: &str) -> Step {
        if !eof {
            if buf.len() - p > self.max_request.saturating_add(MAX_HEAD) {
                return Step::Error(
                    messages::request_too_large(p, self.max_request + MAX_HEAD),
                    None,
                );
            }
            return Step::NeedMore;
        }
        Step::Error(messages::input_ends_in_request(p, place), Some(buf.len()))
    }
}

/// Compares without stopping at the first difference, so timing does not leak how much of a
/// guess was right.
fn same_secret(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// What [`post_line_until`] found.
enum PostLine {
    /// A line starting `POST ` starts here.
    At(usize),
    /// None up to the limit.
    None,
    /// The line starting here needs more bytes to tell.
    Undecided(usize),
}

/// The first line starting `POST ` that starts in `buf[from..=until]` (`from` is a line start).
fn post_line_until(buf: &[u8], from: usize, until: usize, eof: bool) -> PostLine {
    let until = until.min(buf.len());
    let mut s = from;
    while s <= until {
        match starts_post(&buf[s..], eof) {
            Looks::Yes => return PostLine::At(s),
            Looks::NeedMore => return PostLine::Undecided(s),
            Looks::No => {}
        }
        match memchr(b'\n', &buf[s..until]) {
            Some(i) => s += i + 1,
            None => break,
        }
    }
    PostLine::None
}

/// Whether a line start begins a request.
fn starts_post(b: &[u8], eof: bool) -> Looks {
    if b.starts_with(b"POST ") {
        Looks::Yes
    } else if b.len() < 5 && b"POST ".starts_with(b) && !eof {
        Looks::NeedMore
    } else {
        Looks::No
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diag::Code;
    use memchr::memmem;

    fn post(headers: &str, body: &[u8]) -> Vec<u8> {
        let mut v = format!("POST /logs HTTP/1.1\r\n{headers}\r\n").into_bytes();
        v.extend_from_slice(body);
        v
    }

    fn scan(s: &mut HttpSplitter, input: &[u8]) -> Vec<Event> {
        let mut out = Vec::new();
        assert_eq!(s.scan(input, true, &mut out), input.len());
        out
    }

    fn splitter(token: Option<&str>) -> HttpSplitter {
        HttpSplitter::new(
            1 << 20,
            token.map(|t| t.as_bytes().to_vec()),
            RecentIds::default(),
        )
    }

    #[test]
    fn bodies_are_delimited_by_content_length_or_chunks() {
        let body = b"10 <1>1 - h a p -\n";
        let mut input = post("Content-Length: 18\r\nLogplex-Msg-Count: 1\r\n", body);
        input.extend(post(
            "transfer-encoding: chunked\r\n",
            b"5\r\n10 <1\r\nd;ext=1\r\n>1 - h a p -\n\r\n0\r\n\r\n",
        ));
        let ev = scan(&mut splitter(None), &input);
        assert_eq!(ev.len(), 2, "{ev:?}");
        for e in &ev {
            let Event::Request(r) = e else {
                panic!("{e:?}")
            };
            assert_eq!(r.verdict, Verdict::Accept);
            assert_eq!(&*r.body(&input), body);
        }
        let Event::Request(r) = &ev[0] else {
            unreachable!()
        };
        assert_eq!(&input[r.msg_count[0].clone()], b"1");
    }

    #[test]
    fn gzip_bodies_are_inflated_and_cut_ones_are_truncated() {
        use std::io::Write;
        let body = b"10 <1>1 - h a p -\n";
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(body).unwrap();
        let gz = gz.finish().unwrap();
        let input = post(
            &format!("Content-Encoding: gzip\r\nContent-Length: {}\r\n", gz.len()),
            &gz,
        );
        let ev = scan(&mut splitter(None), &input);
        let Event::Request(r) = &ev[0] else {
            panic!("{ev:?}")
        };
        assert_eq!(&*r.body(&input), body);
        let cut = &input[..input.len() - 10];
        let mut fixed = cut.to_vec();
        // Same request with a Content-Length that fits the cut body: a truncated gzip stream.
        let declared = format!("Content-Length: {}", gz.len());
        let shorter = format!("Content-Length: {}", gz.len() - 10);
        let pos = memmem::find(&fixed, declared.as_bytes()).unwrap();
        fixed.splice(pos..pos + declared.len(), shorter.bytes());
        // Rejected whole, as a request (so that --rejects can write it inflated).
        let ev = scan(&mut splitter(None), &fixed);
        assert!(
            matches!(&ev[0], Event::Request(r) if matches!(&r.verdict, Verdict::Refused(p) if p.code == Code::FrameTruncated)),
            "{ev:?}"
        );
    }

    #[test]
    fn retries_are_duplicates_and_wrong_tokens_unauthorized() {
        let body = b"10 <1>1 - h a p -\n";
        let mut input = post(
            "Content-Length: 18\r\nLogplex-Frame-Id: abc\r\nLogplex-Drain-Token: d.good\r\n",
            body,
        );
        input.extend(input.clone());
        input.extend(post(
            "Content-Length: 18\r\nLogplex-Frame-Id: def\r\nLogplex-Drain-Token: d.bad\r\n",
            body,
        ));
        input.extend(post("Content-Length: 18\r\n", body));
        let verdicts = |token| -> Vec<Verdict> {
            scan(&mut splitter(token), &input)
                .into_iter()
                .map(|e| match e {
                    Event::Request(r) => r.verdict,
                    e => panic!("{e:?}"),
                })
                .collect()
        };
        assert_eq!(
            verdicts(None),
            [
                Verdict::Accept,
                Verdict::Duplicate,
                Verdict::Accept,
                Verdict::Accept
            ]
        );
        let v = verdicts(Some("d.good"));
        assert_eq!(v[..2], [Verdict::Accept, Verdict::Duplicate]);
        assert!(matches!(v[2], Verdict::Refused { .. }));
        assert!(matches!(v[3], Verdict::Refused { .. }));
    }

    #[test]
    fn recent_ids_forget_the_oldest_beyond_capacity() {
        let mut ids = RecentIds::default();
        assert!(ids.insert(b"first"));
        assert!(!ids.insert(b"first"));
        for i in 0..RecentIds::CAPACITY {
            assert!(ids.insert(format!("id-{i}").as_bytes()));
        }
        // "first" was pushed out by the newer ones; the newest are still known.
        assert!(ids.insert(b"first"));
        assert!(!ids.insert(format!("id-{}", RecentIds::CAPACITY - 1).as_bytes()));
        assert_eq!(ids.set.len(), RecentIds::CAPACITY);
    }

    #[test]
    fn error_positions_lie_inside_the_input() {
        // Found by fuzzing: a chunk size over the limit on the last line was reported at the
        // byte after it, past the end of the input.
        let input = post("Transfer-Encoding: chunked\r\n", b"fffff\r\n");
        let ev = scan(
            &mut HttpSplitter::new(64, None, RecentIds::default()),
            &input,
        );
        let Event::Error { problem, .. } = &ev[0] else {
            panic!("{ev:?}")
        };
        assert_eq!(problem.code, Code::FrameTooLarge);
        assert_eq!(&input[problem.at..problem.at + 5], b"fffff");
    }

    #[test]
    fn malformed_requests_are_rejected_and_the_next_one_read() {
        let body = b"10 <1>1 - h a p -\n";
        let good = post("Content-Length: 18\r\n", body);
        let cases: [(Vec<u8>, Code); 5] = [
            (b"GET / HTTP/1.1\r\n\r\n".to_vec(), Code::Garbage),
            (post("X: y\r\n", body), Code::FrameLength),
            (post("Content-Length: x\r\n", body), Code::FrameLength),
            (
                post("Transfer-Encoding: chunked\r\n", b"zz\r\n"),
                Code::FrameLength,
            ),
            (post("Bad header\r\n", body), Code::Garbage),
        ];
        for (bad, code) in cases {
            let mut input = bad.clone();
            input.extend(&good);
            let ev = scan(&mut splitter(None), &input);
            assert!(
                matches!(&ev[0], Event::Error { problem, .. } if problem.code == code),
                "{ev:?}"
            );
            assert!(matches!(ev.last(), Some(Event::Request(_))), "{ev:?}");
        }
        // A body shorter than its Content-Length at end of input.
        let short = post("Content-Length: 99\r\n", body);
        let ev = scan(&mut splitter(None), &short);
        let Event::Error { problem, .. } = &ev[0] else {
            panic!("{ev:?}")
        };
        assert_eq!(problem.code, Code::FrameTruncated);
        assert!(
            problem.message.contains("99 bytes declared"),
            "{}",
            problem.message
        );
    }

    #[test]
    fn every_split_point_gives_the_same_requests() {
        let body = b"10 <1>1 - h a p -\n";
        let mut input = post("Content-Length: 18\r\nLogplex-Frame-Id: a\r\n", body);
        input.extend(b"junk\r\n");
        input.extend(post(
            "Transfer-Encoding: chunked\r\nLogplex-Frame-Id: a\r\n",
            b"12\r\n10 <1>1 - h a p -\n\r\n0\r\n\r\n",
        ));
        let whole = scan(&mut splitter(None), &input);
        for split in 0..=input.len() {
            let mut s = splitter(None);
            let mut out = Vec::new();
            let n = s.scan(&input[..split], false, &mut out);
            let mut rest = Vec::new();
            let m = s.scan(&input[n..], true, &mut rest);
            assert_eq!(n + m, input.len());
            out.extend(rest.into_iter().map(|e| e.shifted(n)));
            assert_eq!(
                crate::split::event::merge_skips(out),
                whole,
                "split {split}"
            );
        }
    }
}
