//! Reading a request's body: chunk sizes, gzip, and the check that it does not run into the
//! next request.

use crate::diag::{messages, Problem};
use memchr::memchr;
use std::io::Read;

/// A line without its line end (`\n` or `\r\n`).
pub fn trim_eol(line: &[u8]) -> &[u8] {
    match line {
        [rest @ .., b'\r', b'\n'] => rest,
        [rest @ .., b'\n'] => rest,
        _ => line,
    }
}

/// A `Content-Length` value: 1 to 19 ASCII digits.
pub fn parse_decimal(b: &[u8]) -> Option<u64> {
    if b.is_empty() || b.len() > 19 || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(b.iter().fold(0, |n, &d| n * 10 + u64::from(d - b'0')))
}

/// A chunk-size line (without its line end) as `httparse` reads one: hex digits, optional
/// whitespace and extensions. httparse wants the line's CRLF; captures may end lines in LF.
pub fn chunk_size(line: &[u8]) -> Option<usize> {
    // httparse reads an empty line as size 0; RFC 9112 wants at least one hex digit.
    if !line.first().is_some_and(u8::is_ascii_hexdigit) {
        return None;
    }
    let mut l = Vec::with_capacity(line.len() + 2);
    l.extend_from_slice(line);
    l.extend_from_slice(b"\r\n");
    match httparse::parse_chunk_size(&l) {
        Ok(httparse::Status::Complete((n, size))) if n == l.len() => usize::try_from(size).ok(),
        _ => None,
    }
}

/// Inflates a gzip body of at most `limit` bytes; problems are located at `at`, the body's
/// start.
pub fn gunzip(raw: &[u8], limit: u64, at: usize) -> Result<Vec<u8>, Problem> {
    if !raw.starts_with(&[0x1f, 0x8b]) {
        return Err(messages::not_gzip(at));
    }
    let mut out = Vec::new();
    let mut dec = flate2::read::MultiGzDecoder::new(raw).take(limit + 1);
    match dec.read_to_end(&mut out) {
        Ok(_) if out.len() as u64 > limit => Err(messages::gzip_over_max(at, limit)),
        Ok(_) => Ok(out),
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
            Err(messages::gzip_truncated(at, out.len()))
        }
        Err(e) => Err(messages::gzip_invalid(at, e)),
    }
}

/// As much of a gzip body as inflates, up to `limit` bytes: all of it when it is sound, the
/// bytes before the fault when not.
pub fn inflate_prefix(raw: &[u8], limit: u64) -> Vec<u8> {
    let mut out = Vec::new();
    let mut dec = flate2::read::MultiGzDecoder::new(raw).take(limit);
    let mut block = [0u8; 16 * 1024];
    while let Ok(n) = dec.read(&mut block) {
        if n == 0 {
            break;
        }
        out.extend_from_slice(&block[..n]);
    }
    out
}

/// What [`request_line_within`] found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RequestLine {
    /// A request line starts here.
    At(usize),
    /// None.
    None,
    /// A line starting `POST ` has not ended yet: more bytes decide.
    NeedMore,
}

/// The first line starting in `buf[from..to]` (a body) that is an HTTP request line,
/// `POST … HTTP/1.x`. A line longer than `max_line` without an end is none.
pub fn request_line_within(
    buf: &[u8],
    from: usize,
    to: usize,
    eof: bool,
    max_line: usize,
) -> RequestLine {
    let starts = std::iter::once(from)
        .chain(memchr::memmem::find_iter(&buf[from..to], b"\nPOST ").map(|i| from + i + 1))
        .filter(|&s| s < to && buf[s..].starts_with(b"POST "));
    for s in starts {
        let Some(e) = memchr(b'\n', &buf[s..]) else {
            if eof || buf.len() - s > max_line {
                continue;
            }
            return RequestLine::NeedMore;
        };
        let line = trim_eol(&buf[s..s + e + 1]);
        if line.ends_with(b" HTTP/1.1") || line.ends_with(b" HTTP/1.0") {
            return RequestLine::At(s);
        }
    }
    RequestLine::None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunk_sizes_take_lf_or_crlf_lines_and_extensions() {
        assert_eq!(chunk_size(b"1a"), Some(26));
        assert_eq!(chunk_size(b"1A;ext=1"), Some(26));
        assert_eq!(chunk_size(b"0"), Some(0));
        assert_eq!(chunk_size(b"POST / HTTP/1.1"), None);
        assert_eq!(chunk_size(b""), None);
        assert_eq!(chunk_size(b"1234567890123456789"), None);
    }

    #[test]
    fn a_request_line_inside_a_body_is_found() {
        let b = b"10 <1>1 x\nPOST /logs HTTP/1.1\r\nHost: x\r\n";
        assert_eq!(
            request_line_within(b, 0, b.len(), true, 99),
            RequestLine::At(10)
        );
        let b = b"10 <1>1 x\nPOST cd is a word\n";
        assert_eq!(
            request_line_within(b, 0, b.len(), true, 99),
            RequestLine::None
        );
        let b = b"10 <1>1 x\nPOST /lo";
        assert_eq!(
            request_line_within(b, 0, b.len(), false, 99),
            RequestLine::NeedMore
        );
        assert_eq!(
            request_line_within(b, 0, b.len(), true, 99),
            RequestLine::None
        );
    }
}
