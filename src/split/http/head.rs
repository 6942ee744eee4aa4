//! A request's head: request line and headers, parsed with `httparse`.

use super::body::{parse_decimal, trim_eol};
use crate::diag::{messages, Problem};
use memchr::memchr;
use std::ops::Range;

/// Headers a drain POST has room for (Logplex sends about ten).
const MAX_HEADERS: usize = 128;

/// The headers drainpipe reads, located in the capture.
#[derive(Debug, Default)]
pub struct Head {
    /// `Content-Length`: the value and where it is.
    pub content_length: Option<(u64, usize)>,
    /// `Transfer-Encoding: chunked`.
    pub chunked: bool,
    /// `Content-Encoding: gzip`.
    pub gzip: bool,
    /// Where each `Logplex-Msg-Count` value is, in order (a repeated header is checked
    /// every time: none may disagree with the body).
    pub msg_count: Vec<Range<usize>>,
    /// Where the first non-empty `Logplex-Frame-Id` value is (an empty one identifies nothing,
    /// so it cannot make a request a retry).
    pub frame_id: Option<Range<usize>>,
    /// A problem that rejects the request whole once its extent is known (an unsupported
    /// `Content-Encoding`: the body's length is still known, so the next request is read).
    pub refused: Option<Problem>,
    /// Where each `Logplex-Drain-Token` value is, in order (never copied: it is a secret).
    /// With `--drain-token`, every one must match: a request cannot smuggle a wrong token
    /// past the check by adding the right one.
    pub token: Vec<Range<usize>>,
}

impl Head {
    /// Parses the head `buf[p..body_start]` (request line, headers, blank line). Obsolete line
    /// folding (a header line continued on a line that starts with a space or tab, as Python's
    /// `email` writes long headers) is replaced with spaces first, as RFC 9112 §5.2 allows,
    /// which keeps every offset. A malformed head is a problem located at the line that shows
    /// it (or the value, for a header drainpipe reads).
    pub fn parse(buf: &[u8], p: usize, body_start: usize) -> Result<Head, Problem> {
        let raw = &buf[p..body_start];
        let unfolded = unfold(raw);
        let text: &[u8] = unfolded.as_deref().unwrap_or(raw);
        let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
        let mut req = httparse::Request::new(&mut headers);
        match req.parse(text) {
            Ok(httparse::Status::Complete(n)) if n == text.len() => {}
            Ok(_) => return Err(messages::malformed_head(p)),
            Err(e) => return Err(head_problem(raw, p, e)),
        }
        if req.method != Some("POST") {
            return Err(messages::bad_request_line(p, request_line(raw)));
        }
        // httparse hands out slices of `text`; `text` has the offsets of `raw`.
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
                    return Err(messages::content_length_not_a_number(value.start, val));
                };
                match head.content_length {
                    Some((m, _)) if m != n => {
                        return Err(messages::content_lengths_disagree(value.start, m, n))
                    }
                    _ => head.content_length = Some((n, value.start)),
                }
            } else if name.eq_ignore_ascii_case(b"transfer-encoding") {
                if !val.eq_ignore_ascii_case(b"chunked") {
                    return Err(messages::unsupported_transfer_encoding(value.start, val));
                }
                head.chunked = true;
            } else if name.eq_ignore_ascii_case(b"content-encoding") {
                if val.eq_ignore_ascii_case(b"gzip") || val.eq_ignore_ascii_case(b"x-gzip") {
                    head.gzip = true;
                } else if !val.eq_ignore_ascii_case(b"identity") && head.refused.is_none() {
                    head.refused = Some(messages::unsupported_content_encoding(value.start, val));
                }
            } else if name.eq_ignore_ascii_case(b"logplex-msg-count") {
                head.msg_count.push(value);
            } else if name.eq_ignore_ascii_case(b"logplex-frame-id") {
                if head.frame_id.is_none() && !value.is_empty() {
                    head.frame_id = Some(value);
                }
            } else if name.eq_ignore_ascii_case(b"logplex-drain-token") {
                head.token.push(value);
            }
        }
        Ok(head)
    }
}

/// The request line of a head, without its line end.
fn request_line(raw: &[u8]) -> &[u8] {
    trim_eol(&raw[..memchr(b'\n', raw).map_or(raw.len(), |i| i + 1)])
}

/// `raw` with obsolete line folding replaced by spaces (the line end before a line that starts
/// with a space or tab becomes spaces: same length, same offsets); `None` when there is none.
fn unfold(raw: &[u8]) -> Option<Vec<u8>> {
    let first_line_end = memchr(b'\n', raw)?;
    let folds: Vec<usize> = memchr::memchr_iter(b'\n', raw)
        // Folding continues a header, never the request line.
        .filter(|&i| i > first_line_end && matches!(raw.get(i + 1), Some(b' ' | b'\t')))
        .collect();
    if folds.is_empty() {
        return None;
    }
    let mut out = raw.to_vec();
    for i in folds {
        out[i] = b' ';
        if out[i - 1] == b'\r' {
            out[i - 1] = b' ';
        }
    }
    Some(out)
}

/// The problem `httparse` found, located: at the request line when that is not
/// `POST TARGET HTTP/1.x`, else at the first header line that is not `NAME: VALUE`. A header
/// line is never quoted: it could be the token's.
fn head_problem(raw: &[u8], p: usize, e: httparse::Error) -> Problem {
    let line = request_line(raw);
    if matches!(e, httparse::Error::Token | httparse::Error::Version)
        || !(line.ends_with(b" HTTP/1.1") || line.ends_with(b" HTTP/1.0"))
    {
        return messages::bad_request_line(p, line);
    }
    let at = bad_header_line(raw).map_or(p, |i| p + i);
    match e {
        httparse::Error::HeaderValue => messages::malformed_header_value(at),
        httparse::Error::TooManyHeaders => messages::too_many_headers(p, MAX_HEADERS),
        httparse::Error::HeaderName => messages::malformed_header_name(at),
        _ => messages::malformed_head(at),
    }
}

/// The offset of the first header line that is not `NAME: VALUE` with a token name and a value
/// without control bytes.
fn bad_header_line(raw: &[u8]) -> Option<usize> {
    let starts = memchr::memchr_iter(b'\n', raw).map(|i| i + 1);
    for start in starts {
        let end = memchr(b'\n', &raw[start..]).map_or(raw.len(), |i| start + i + 1);
        let line = trim_eol(&raw[start..end]);
        if line.is_empty() {
            return None;
        }
        let name_ok = memchr(b':', line).is_some_and(|c| c > 0 && line[..c].iter().all(is_tchar));
        let value_ok = line.iter().all(|&b| b == b'\t' || (b >= 0x20 && b != 0x7f));
        if !name_ok || !value_ok {
            return Some(start);
        }
    }
    None
}

/// A token character of RFC 9110 §5.6.2 (what a header name is made of).
fn is_tchar(b: &u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folded_lines_become_spaces_and_keep_offsets() {
        let raw = b"POST / HTTP/1.1\r\nX-A: one\r\n two\r\n\tthree\r\nB: 2\r\n\r\n";
        let u = unfold(raw).unwrap();
        assert_eq!(u.len(), raw.len());
        assert_eq!(
            &u[..],
            &b"POST / HTTP/1.1\r\nX-A: one   two  \tthree\r\nB: 2\r\n\r\n"[..]
        );
        assert!(unfold(b"POST / HTTP/1.1\r\nA: 1\r\n\r\n").is_none());
    }

    #[test]
    fn the_line_that_breaks_a_head_is_found() {
        let raw = b"POST / HTTP/1.1\r\nGood: 1\r\nBad header\r\n\r\n";
        assert_eq!(bad_header_line(raw), Some(26));
        let e = Head::parse(raw, 0, raw.len()).unwrap_err();
        assert_eq!((e.code, e.at), (crate::diag::Code::Garbage, 26));
    }
}
