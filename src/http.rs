//! Saved drain POSTs (SPEC §1 "HTTP captures"): request line, headers, blank line, body,
//! repeated.
//!
//! The splitter runs on the reader thread, in input order, because two of its checks are about
//! order: a `Logplex-Frame-Id` seen before marks a retry, and that needs the earlier requests.
//! It only cuts requests and reads their headers; decoding bodies (dechunking, gunzip) and
//! framing them is left to the workers ([`Request::body`]); a gzip body is inflated here, since
//! only a body that decodes makes its request delivered (and its Frame-Id seen).
//!
//! Logplex's token is a secret: it is compared, never copied into a message, and `--rejects`
//! gets it redacted ([`redact_token`]).

use crate::error::{quote, Code};
use crate::framer::{next_unit, Event, State};
use memchr::memchr;
use std::collections::{HashSet, VecDeque};
use std::io::Read;
use std::ops::Range;

/// A request's head (request line and headers) larger than this is not a drain POST.
const MAX_HEAD: usize = 64 * 1024;

/// What the splitter decided about a complete request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    Accept,
    /// Its `Logplex-Frame-Id` was already seen: a retry, skipped.
    Duplicate,
    /// `--drain-token` is set and the request's token differs or is missing. `at` is where
    /// the header's value (or the request) starts.
    Unauthorized {
        at: usize,
        reason: &'static str,
    },
}

/// A complete request. Offsets index the splitter's buffer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Request {
    pub start: usize,
    pub end: usize,
    /// Where the body starts (after the blank line).
    pub body_start: usize,
    /// The body's bytes in the buffer: one piece, or one per chunk when chunked.
    pub body: Vec<Range<usize>>,
    pub gzip: bool,
    /// The body inflated, for `Content-Encoding: gzip` (decoded while splitting: a body that
    /// does not decode is a failed delivery, and its Frame-Id must not count as seen).
    pub decoded: Option<Vec<u8>>,
    /// The `Logplex-Msg-Count` value, if the header is present.
    pub msg_count: Option<Range<usize>>,
    pub verdict: Verdict,
}

impl Request {
    pub(crate) fn shift(&mut self, base: usize) {
        let mv = |r: &mut Range<usize>| *r = r.start + base..r.end + base;
        self.start += base;
        self.end += base;
        self.body_start += base;
        self.body.iter_mut().for_each(mv);
        if let Some(r) = self.msg_count.as_mut() {
            mv(r);
        }
        if let Verdict::Unauthorized { at, .. } = &mut self.verdict {
            *at += base;
        }
    }

    /// The body as sent, before any `Content-Encoding`: borrowed when it is one piece.
    pub fn raw_body<'a>(&self, buf: &'a [u8]) -> std::borrow::Cow<'a, [u8]> {
        match self.body.as_slice() {
            [one] => std::borrow::Cow::Borrowed(&buf[one.clone()]),
            pieces => std::borrow::Cow::Owned(
                pieces
                    .iter()
                    .flat_map(|r| buf[r.clone()].iter().copied())
                    .collect(),
            ),
        }
    }

    /// Where byte `off` of the raw body lies in the buffer, for lines and columns.
    pub fn body_offset(&self, off: usize) -> usize {
        let mut left = off;
        for r in &self.body {
            if left < r.len() {
                return r.start + left;
            }
            left -= r.len();
        }
        self.body.last().map_or(self.body_start, |r| r.end)
    }

    /// The body as its frames are read: inflated for `Content-Encoding: gzip`.
    pub fn body<'a>(&'a self, buf: &'a [u8]) -> std::borrow::Cow<'a, [u8]> {
        match &self.decoded {
            Some(d) => std::borrow::Cow::Borrowed(d),
            None => self.raw_body(buf),
        }
    }
}

/// Inflates a gzip body of at most `limit` bytes.
fn gunzip(raw: &[u8], limit: u64) -> Result<Vec<u8>, (Code, String)> {
    if !raw.starts_with(&[0x1f, 0x8b]) {
        return Err((
            Code::Garbage,
            "the body is declared gzip (Content-Encoding) but is not gzip".into(),
        ));
    }
    let mut out = Vec::new();
    let mut dec = flate2::read::MultiGzDecoder::new(raw).take(limit + 1);
    match dec.read_to_end(&mut out) {
        Ok(_) if out.len() as u64 > limit => Err((
            Code::FrameTooLarge,
            format!("gzip body inflates to more than {limit} bytes"),
        )),
        Ok(_) => Ok(out),
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => Err((
            Code::FrameTruncated,
            format!(
                "gzip body is truncated: it ends after {} decompressed bytes",
                out.len()
            ),
        )),
        Err(e) => Err((Code::Garbage, format!("gzip body is not valid gzip: {e}"))),
    }
}

/// The `Logplex-Frame-Id`s of the last [`RecentIds::CAPACITY`] requests. Logplex retries a
/// POST within seconds to minutes, so a window that long catches every retry, while memory
/// stays bounded however many requests a run reads (a set of every id would not).
#[derive(Debug, Default)]
pub struct RecentIds {
    set: HashSet<Vec<u8>>,
    order: VecDeque<Vec<u8>>,
}

impl RecentIds {
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
    max_request: usize,
    token: Option<Vec<u8>>,
    /// Frame-Ids seen recently in the run (retries are recognised across inputs too).
    pub seen: RecentIds,
    state: State,
}

enum Step {
    Request(Box<Request>),
    NeedMore,
    /// An error about the request starting at `p`: code, offending offset, message, and
    /// where the rejected bytes end if known (`None`: resynchronise at the next `POST `).
    Error(Code, usize, String, Option<usize>),
}

impl HttpSplitter {
    /// `max_body`: the most a body may hold (chunked or not, before decompression).
    pub fn new(max_body: u64, token: Option<Vec<u8>>, seen: RecentIds) -> HttpSplitter {
        HttpSplitter {
            max_request: usize::try_from(max_body).unwrap_or(usize::MAX),
            token,
            seen,
            state: State::Units,
        }
    }

    pub fn scan(&mut self, buf: &[u8], eof: bool, out: &mut Vec<Event>) -> usize {
        let mut p = 0;
        loop {
            p = match next_unit(&mut self.state, buf, p, eof, out, &starts_post) {
                Ok(p) => p,
                Err(p) => return p,
            };
            match self.request(buf, p, eof) {
                Step::NeedMore => return p,
                Step::Request(r) => {
                    p = r.end;
                    out.push(Event::Request(r));
                }
                Step::Error(code, at, message, end) => {
                    out.push(Event::Error {
                        start: p,
                        at,
                        code,
                        message,
                    });
                    match end {
                        Some(e) => {
                            out.push(Event::Skip { start: p, end: e });
                            p = e;
                        }
                        None => {
                            // A malformed request ends at the next line, after its request
                            // line, that starts `POST `. When the offending byte lies at or
                            // past that line (a body that ran into the next request), the
                            // request itself is what is wrong: the error points at it, and
                            // stays inside the region (and the batch) it belongs to.
                            let after_request_line =
                                memchr(b'\n', &buf[p..]).map_or(buf.len(), |i| p + i + 1);
                            match post_line_until(buf, after_request_line, at, eof) {
                                PostLine::At(q) => {
                                    if let Some(Event::Error { at, .. }) = out.last_mut() {
                                        if *at >= q {
                                            *at = p;
                                        }
                                    }
                                    out.push(Event::Skip { start: p, end: q });
                                    p = q;
                                }
                                PostLine::None => {
                                    if at > p {
                                        out.push(Event::Skip { start: p, end: at });
                                        p = at;
                                    }
                                    self.state = State::Skipping {
                                        at_line_start: false,
                                    }
                                }
                                PostLine::Undecided(q) => {
                                    // `q` starts a line that needs more bytes to tell.
                                    out.push(Event::Skip { start: p, end: q });
                                    p = q;
                                    self.state = State::Skipping {
                                        at_line_start: true,
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    fn request(&mut self, buf: &[u8], p: usize, eof: bool) -> Step {
        let b = &buf[p..];
        let n = b.len().min(5);
        if b[..n] != b"POST "[..n] {
            if !crate::framer::excerpt_ready(b, 40, eof) {
                return Step::NeedMore;
            }
            return Step::Error(
                Code::Garbage,
                p,
                format!(
                    "expected an HTTP request line (POST …), found {}",
                    quote(&b[..memchr(b'\n', b).unwrap_or(b.len()).min(40)], 40)
                ),
                None,
            );
        }
        // The head ends at the first empty line.
        let mut line = p;
        let body_start = loop {
            let Some(i) = memchr(b'\n', &buf[line..]) else {
                return self.incomplete(buf, p, eof, "inside the request headers");
            };
            let next = line + i + 1;
            if next - p > MAX_HEAD {
                return Step::Error(
                    Code::FrameTooLarge,
                    p,
                    format!("request headers are longer than {MAX_HEAD} bytes"),
                    None,
                );
            }
            if trim_eol(&buf[line..next]).is_empty() {
                break next;
            }
            line = next;
        };
        let head = Head::parse(buf, p, body_start);
        let head = match head {
            Ok(h) => h,
            Err((code, at, message)) => return Step::Error(code, at, message, None),
        };
        let (body, end) = if head.chunked {
            if let Some((_, at)) = head.content_length {
                return Step::Error(
                    Code::FrameLength,
                    at,
                    "Content-Length together with Transfer-Encoding: chunked makes the \
                     request ambiguous (RFC 9112 §6.3): rejected"
                        .into(),
                    None,
                );
            }
            match self.chunks(buf, p, body_start, eof) {
                Ok(x) => x,
                Err(step) => return step,
            }
        } else {
            let Some((len, at)) = head.content_length else {
                return Step::Error(
                    Code::FrameLength,
                    p,
                    "request has neither Content-Length nor Transfer-Encoding: chunked".into(),
                    None,
                );
            };
            if len > self.max_request as u64 {
                return Step::Error(
                    Code::FrameTooLarge,
                    at,
                    format!(
                        "Content-Length {len} exceeds the {} bytes a body may hold",
                        self.max_request
                    ),
                    None,
                );
            }
            let end = body_start + len as usize;
            if end > buf.len() {
                if !eof {
                    return Step::NeedMore;
                }
                return Step::Error(
                    Code::FrameTruncated,
                    at,
                    format!(
                        "request body is shorter than its Content-Length: {len} bytes \
                         declared, the input ends after {}",
                        buf.len() - body_start
                    ),
                    Some(buf.len()),
                );
            }
            (std::iter::once(body_start..end).collect(), end)
        };
        // A body that takes in a request line has the wrong length: it runs into the next
        // request (which would otherwise escape every check, the token's included).
        match request_line_within(buf, body_start, end, eof) {
            None => return Step::NeedMore,
            Some(Some(_)) => {
                return Step::Error(
                    Code::FrameLength,
                    p,
                    format!(
                        "the body runs into the next request: its {} take(s) in a \
                         `POST … HTTP/1.1` request line",
                        if head.chunked {
                            "chunk sizes"
                        } else {
                            "Content-Length"
                        }
                    ),
                    None,
                )
            }
            Some(None) => {}
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
        if let Some(want) = &self.token {
            let refused = match head.token {
                Some(got) if !same_secret(want, &buf[got.clone()]) => Some((
                    got.start,
                    "its Logplex-Drain-Token differs from --drain-token",
                )),
                None => Some((
                    p,
                    "it has no Logplex-Drain-Token header and --drain-token is set",
                )),
                Some(_) => None,
            };
            if let Some((at, reason)) = refused {
                request.verdict = Verdict::Unauthorized { at, reason };
                return Step::Request(request);
            }
        }
        let id = head.frame_id.map(|r| &buf[r]);
        if id.is_some_and(|id| self.seen.contains(id)) {
            request.verdict = Verdict::Duplicate;
            return Step::Request(request);
        }
        if head.gzip {
            match gunzip(&request.raw_body(buf), self.max_request as u64) {
                Ok(d) => request.decoded = Some(d),
                // The request is delimited; only its body is bad.
                Err((code, message)) => return Step::Error(code, body_start, message, Some(end)),
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
                return Err(Step::Error(
                    Code::FrameLength,
                    p,
                    "the chunked body ends without its last chunk (`0`): a request line \
                     follows"
                        .into(),
                    None,
                ));
            }
            let size = chunk_size(line).ok_or_else(|| {
                Step::Error(
                    Code::FrameLength,
                    q,
                    format!("invalid chunk size line {}", quote(line, 24)),
                    None,
                )
            })?;
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
                    Code::FrameTooLarge,
                    size_line,
                    format!(
                        "chunked body exceeds the {} bytes a body may hold",
                        self.max_request
                    ),
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
                return Err(Step::Error(
                    Code::FrameLength,
                    size_line,
                    "chunk data is not followed by CRLF: its size line is wrong".into(),
                    None,
                ));
            }
            pieces.push(q..data_end);
            q = after;
        }
    }

    fn incomplete(&self, buf: &[u8], p: usize, eof: bool, where_: &str) -> Step {
        if !eof {
            if buf.len() - p > self.max_request.saturating_add(MAX_HEAD) {
                return Step::Error(
                    Code::FrameTooLarge,
                    p,
                    format!(
                        "request is larger than {} bytes",
                        self.max_request + MAX_HEAD
                    ),
                    None,
                );
            }
            return Step::NeedMore;
        }
        Step::Error(
            Code::FrameTruncated,
            p,
            format!("input ends {where_}"),
            Some(buf.len()),
        )
    }
}

fn trim_eol(line: &[u8]) -> &[u8] {
    match line {
        [rest @ .., b'\r', b'\n'] => rest,
        [rest @ .., b'\n'] => rest,
        _ => line,
    }
}

fn parse_decimal(b: &[u8]) -> Option<u64> {
    if b.is_empty() || b.len() > 19 || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(b.iter().fold(0, |n, &d| n * 10 + u64::from(d - b'0')))
}

/// A chunk-size line (without its line end) as `httparse` reads one: hex digits, optional
/// whitespace and extensions. httparse wants the line's CRLF; captures may end lines in LF.
fn chunk_size(line: &[u8]) -> Option<usize> {
    let mut l = line.to_vec();
    l.extend_from_slice(b"\r\n");
    match httparse::parse_chunk_size(&l) {
        Ok(httparse::Status::Complete((n, size))) if n == l.len() => usize::try_from(size).ok(),
        _ => None,
    }
}

/// The headers drainpipe reads, located in the capture.
#[derive(Default)]
struct Head {
    /// The value and where it is.
    content_length: Option<(u64, usize)>,
    chunked: bool,
    gzip: bool,
    msg_count: Option<Range<usize>>,
    frame_id: Option<Range<usize>>,
    token: Option<Range<usize>>,
}

/// Headers a drain POST has room for (Logplex sends about ten).
const MAX_HEADERS: usize = 128;

impl Head {
    /// Parses the head `buf[p..body_start]` (request line, headers, blank line) with
    /// `httparse`. Obsolete line folding (a header line continued on a line that starts with a
    /// space or tab, as Python's `email` writes long headers) is replaced with spaces first, as
    /// RFC 9112 §5.2 allows, which keeps every offset. `Err((code, at, message))`: a malformed
    /// head, `at` the line or value that shows it.
    fn parse(buf: &[u8], p: usize, body_start: usize) -> Result<Head, (Code, usize, String)> {
        let raw = &buf[p..body_start];
        let unfolded = unfold(raw);
        let text: &[u8] = unfolded.as_deref().unwrap_or(raw);
        let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
        let mut req = httparse::Request::new(&mut headers);
        match req.parse(text) {
            Ok(httparse::Status::Complete(n)) if n == text.len() => {}
            Ok(_) => return Err((Code::Garbage, p, "malformed request head".into())),
            Err(e) => return Err((Code::Garbage, head_error(raw, p), head_message(raw, e))),
        }
        if req.method != Some("POST") {
            return Err((Code::Garbage, p, "expected `POST PATH HTTP/1.1`".into()));
        }
        let at = |s: &[u8]| p + (s.as_ptr() as usize - text.as_ptr() as usize);
        let range = |s: &[u8]| {
            let v = s.trim_ascii();
            let start = if v.is_empty() { at(s) } else { at(v) };
            start..start + v.len()
        };
        let mut head = Head::default();
        for h in req.headers.iter() {
            let value = range(h.value);
            let val = &buf[value.clone()];
            let name = h.name.as_bytes();
            if name.eq_ignore_ascii_case(b"content-length") {
                let Some(n) = parse_decimal(val) else {
                    return Err((
                        Code::FrameLength,
                        value.start,
                        format!("Content-Length is not a number: {}", quote(val, 24)),
                    ));
                };
                match head.content_length {
                    Some((m, _)) if m != n => {
                        return Err((
                            Code::FrameLength,
                            value.start,
                            format!(
                                "two Content-Length headers disagree ({m} and {n}): the \
                                 request is ambiguous (RFC 9112 §6.3)"
                            ),
                        ))
                    }
                    _ => head.content_length = Some((n, value.start)),
                }
            } else if name.eq_ignore_ascii_case(b"transfer-encoding") {
                if val.eq_ignore_ascii_case(b"chunked") {
                    head.chunked = true;
                } else {
                    return Err((
                        Code::Garbage,
                        value.start,
                        format!("unsupported Transfer-Encoding {}", quote(val, 24)),
                    ));
                }
            } else if name.eq_ignore_ascii_case(b"content-encoding") {
                if val.eq_ignore_ascii_case(b"gzip") || val.eq_ignore_ascii_case(b"x-gzip") {
                    head.gzip = true;
                } else if !val.eq_ignore_ascii_case(b"identity") {
                    return Err((
                        Code::Garbage,
                        value.start,
                        format!("unsupported Content-Encoding {}", quote(val, 24)),
                    ));
                }
            } else if name.eq_ignore_ascii_case(b"logplex-msg-count") {
                head.msg_count = Some(value);
            } else if name.eq_ignore_ascii_case(b"logplex-frame-id") {
                head.frame_id = Some(value);
            } else if name.eq_ignore_ascii_case(b"logplex-drain-token") {
                head.token = Some(value);
            }
        }
        Ok(head)
    }
}
/// `raw` with obsolete line folding replaced by spaces (the line end before a line that starts
/// with a space or tab becomes spaces: same length, same offsets); `None` when there is none.
fn unfold(raw: &[u8]) -> Option<Vec<u8>> {
    let folds: Vec<usize> = memchr::memchr_iter(b'\n', raw)
        .filter(|&i| {
            matches!(raw.get(i + 1), Some(b' ' | b'\t'))
                // not the request line's end: folding only continues a header
                && raw[..i].contains(&b'\n')
        })
        .collect();
    if folds.is_empty() {
        return None;
    }
    let mut out = raw.to_vec();
    for i in folds {
        out[i] = b' ';
        if i > 0 && out[i - 1] == b'\r' {
            out[i - 1] = b' ';
        }
    }
    Some(out)
}

/// Where a head that `httparse` refused shows its fault: the request line when it is not
/// `POST TARGET HTTP/1.x`, else the first header line that is not `NAME: VALUE`.
fn head_error(raw: &[u8], p: usize) -> usize {
    let mut lines = std::iter::once(0).chain(memchr::memchr_iter(b'\n', raw).map(|i| i + 1));
    let request_line_end = memchr(b'\n', raw).map_or(raw.len(), |i| i + 1);
    let request_line = trim_eol(&raw[..request_line_end]);
    if !(request_line.ends_with(b" HTTP/1.1") || request_line.ends_with(b" HTTP/1.0")) {
        return p;
    }
    lines.next();
    for start in lines {
        let end = memchr(b'\n', &raw[start..]).map_or(raw.len(), |i| start + i + 1);
        let line = trim_eol(&raw[start..end]);
        if line.is_empty() {
            break;
        }
        let name_ok = memchr(b':', line).is_some_and(|c| {
            c > 0
                && line[..c]
                    .iter()
                    .all(|&b| b.is_ascii_graphic() && !b"\"(),/:;<=>?@[\\]{}".contains(&b))
        });
        let value_ok = line.iter().all(|&b| b == b'\t' || b >= 0x20 && b != 0x7f);
        if !name_ok || !value_ok || matches!(line[0], b' ' | b'\t') {
            return p + start;
        }
    }
    p
}

/// What `httparse` found wrong, in words. A header line is never quoted: it could be the
/// token's.
fn head_message(raw: &[u8], e: httparse::Error) -> String {
    let request_line_end = memchr(b'\n', raw).map_or(raw.len(), |i| i + 1);
    match e {
        httparse::Error::Token | httparse::Error::Version => format!(
            "expected `POST PATH HTTP/1.1`, found {}",
            quote(trim_eol(&raw[..request_line_end]), 60)
        ),
        httparse::Error::HeaderName => {
            "malformed header line: no `:` after a valid header name".into()
        }
        httparse::Error::HeaderValue => "malformed header line: a control byte in its value".into(),
        httparse::Error::TooManyHeaders => {
            format!("more than {MAX_HEADERS} header lines: not a drain POST")
        }
        httparse::Error::NewLine | httparse::Error::Status => "malformed request head".into(),
    }
}

/// Whether a line that starts in `buf[from..to]` (a body) is an HTTP request line, `POST … HTTP/1.x`:
/// `Some(Some(start))` for the first, `Some(None)` for none, `None` when a line that starts
/// `POST ` there has not ended yet (more bytes decide).
fn request_line_within(buf: &[u8], from: usize, to: usize, eof: bool) -> Option<Option<usize>> {
    let starts = std::iter::once(from)
        .chain(memchr::memmem::find_iter(&buf[from..to], b"\nPOST ").map(|i| from + i + 1))
        .filter(|&s| s < to && buf[s..].starts_with(b"POST "));
    for s in starts {
        let Some(e) = memchr(b'\n', &buf[s..]) else {
            if eof || buf.len() - s > MAX_HEAD {
                continue;
            }
            return None;
        };
        let line = trim_eol(&buf[s..s + e + 1]);
        if line.ends_with(b" HTTP/1.1") || line.ends_with(b" HTTP/1.0") {
            return Some(Some(s));
        }
    }
    Some(None)
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
            Some(true) => return PostLine::At(s),
            None => return PostLine::Undecided(s),
            Some(false) => {}
        }
        match memchr(b'\n', &buf[s..until]) {
            Some(i) => s += i + 1,
            None => break,
        }
    }
    PostLine::None
}

/// Whether a line start begins a request (`None`: too few bytes to tell).
fn starts_post(b: &[u8], eof: bool) -> Option<bool> {
    if b.starts_with(b"POST ") {
        Some(true)
    } else if b.len() < 5 && b"POST ".starts_with(b) && !eof {
        None
    } else {
        Some(false)
    }
}

/// Replaces the value of every `Logplex-Drain-Token` header line in `bytes` (rejected bytes
/// about to be written out) with `[redacted]`. Borrows when there is none.
pub fn redact_token(bytes: &[u8]) -> std::borrow::Cow<'_, [u8]> {
    const NAME: &[u8] = b"logplex-drain-token:";
    let line_starts = std::iter::once(0).chain(memchr::memchr_iter(b'\n', bytes).map(|i| i + 1));
    let found: Vec<Range<usize>> = line_starts
        .filter(|&s| {
            bytes.len() - s >= NAME.len() && bytes[s..s + NAME.len()].eq_ignore_ascii_case(NAME)
        })
        .map(|s| {
            let v = s + NAME.len();
            let e = memchr(b'\n', &bytes[v..]).map_or(bytes.len(), |k| v + k);
            let e = if e > v && bytes[e - 1] == b'\r' {
                e - 1
            } else {
                e
            };
            v..e
        })
        .collect();
    if found.is_empty() {
        return std::borrow::Cow::Borrowed(bytes);
    }
    let mut out = Vec::with_capacity(bytes.len());
    let mut last = 0;
    for r in found {
        out.extend_from_slice(&bytes[last..r.start]);
        out.extend_from_slice(b" [redacted]");
        last = r.end;
    }
    out.extend_from_slice(&bytes[last..]);
    std::borrow::Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;
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
    fn content_length_and_chunked_bodies() {
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
        assert_eq!(&input[r.msg_count.clone().unwrap()], b"1");
    }

    #[test]
    fn gzip_body_is_decoded() {
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
        let ev = scan(&mut splitter(None), &fixed);
        assert!(
            matches!(
                ev[0],
                Event::Error {
                    code: Code::FrameTruncated,
                    ..
                }
            ),
            "{ev:?}"
        );
    }

    #[test]
    fn retries_and_tokens() {
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
        assert!(matches!(v[2], Verdict::Unauthorized { .. }));
        assert!(matches!(v[3], Verdict::Unauthorized { .. }));
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
        let Event::Error { at, code, .. } = ev[0] else {
            panic!("{ev:?}")
        };
        assert_eq!(code, Code::FrameTooLarge);
        assert_eq!(&input[at..at + 5], b"fffff");
    }

    #[test]
    fn errors_and_resynchronisation() {
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
                matches!(ev[0], Event::Error { code: c, .. } if c == code),
                "{ev:?}"
            );
            assert!(matches!(ev.last(), Some(Event::Request(_))), "{ev:?}");
        }
        // A body shorter than its Content-Length at end of input.
        let short = post("Content-Length: 99\r\n", body);
        let ev = scan(&mut splitter(None), &short);
        let Event::Error { code, message, .. } = &ev[0] else {
            panic!("{ev:?}")
        };
        assert_eq!(*code, Code::FrameTruncated);
        assert!(message.contains("99 bytes declared"), "{message}");
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
            assert_eq!(crate::framer::merge_skips(out), whole, "split {split}");
        }
    }

    #[test]
    fn tokens_are_redacted() {
        let b = b"POST / HTTP/1.1\r\nLogplex-Drain-TOKEN: d.secret\r\nX: 1\r\n";
        let r = redact_token(b);
        assert!(memmem::find(&r, b"d.secret").is_none());
        assert_eq!(
            &*r,
            b"POST / HTTP/1.1\r\nLogplex-Drain-TOKEN: [redacted]\r\nX: 1\r\n"
        );
        assert!(matches!(
            redact_token(b"no token"),
            std::borrow::Cow::Borrowed(_)
        ));
    }
}
