//! HTTP captures (README "Inputs", `http`).

use super::p;
use super::LINE_QUOTE;
use crate::diag::quote::quote;
use crate::diag::{Code, Problem};
use std::fmt::Display;

/// A line where a request should start.
pub fn expected_request_line(at: usize, line: &[u8]) -> Problem {
    p(
        Code::Garbage,
        at,
        format!(
            "expected an HTTP request line (POST …), found {}",
            quote(line, LINE_QUOTE)
        ),
    )
}

/// A request line that is not `POST TARGET HTTP/1.x`.
pub fn bad_request_line(at: usize, line: &[u8]) -> Problem {
    p(
        Code::Garbage,
        at,
        format!("expected `POST PATH HTTP/1.1`, found {}", quote(line, 60)),
    )
}

/// A head longer than `max`.
pub fn head_too_long(at: usize, max: usize) -> Problem {
    p(
        Code::FrameTooLarge,
        at,
        format!("request headers are longer than {max} bytes"),
    )
}

/// A header line that is not `NAME: VALUE` (never quoted: it could be the token's).
pub fn malformed_header_name(at: usize) -> Problem {
    p(
        Code::Garbage,
        at,
        "malformed header line: no `:` after a valid header name".into(),
    )
}

/// A header value with a control byte (never quoted).
pub fn malformed_header_value(at: usize) -> Problem {
    p(
        Code::Garbage,
        at,
        "malformed header line: a control byte in its value".into(),
    )
}

/// More header lines than a drain POST has.
pub fn too_many_headers(at: usize, max: usize) -> Problem {
    p(
        Code::Garbage,
        at,
        format!("more than {max} header lines: not a drain POST"),
    )
}

/// A head `httparse` refused for another reason.
pub fn malformed_head(at: usize) -> Problem {
    p(Code::Garbage, at, "malformed request head".into())
}

/// `Content-Length` is not a number.
pub fn content_length_not_a_number(at: usize, value: &[u8]) -> Problem {
    p(
        Code::FrameLength,
        at,
        format!("Content-Length is not a number: {}", quote(value, 24)),
    )
}

/// Two `Content-Length` headers disagree.
pub fn content_lengths_disagree(at: usize, first: u64, second: u64) -> Problem {
    p(
        Code::FrameLength,
        at,
        format!(
            "two Content-Length headers disagree ({first} and {second}): the request is \
             ambiguous (RFC 9112 §6.3)"
        ),
    )
}

/// `Content-Length` together with chunked encoding.
pub fn length_and_chunked(at: usize) -> Problem {
    p(
        Code::FrameLength,
        at,
        "Content-Length together with Transfer-Encoding: chunked makes the request ambiguous \
         (RFC 9112 §6.3): rejected"
            .into(),
    )
}

/// A `Transfer-Encoding` other than chunked.
pub fn unsupported_transfer_encoding(at: usize, value: &[u8]) -> Problem {
    p(
        Code::Garbage,
        at,
        format!("unsupported Transfer-Encoding {}", quote(value, 24)),
    )
}

/// A `Content-Encoding` other than gzip or identity.
pub fn unsupported_content_encoding(at: usize, value: &[u8]) -> Problem {
    p(
        Code::Garbage,
        at,
        format!("unsupported Content-Encoding {}", quote(value, 24)),
    )
}

/// Neither `Content-Length` nor chunked.
pub fn no_body_length(at: usize) -> Problem {
    p(
        Code::FrameLength,
        at,
        "request has neither Content-Length nor Transfer-Encoding: chunked".into(),
    )
}

/// A `Content-Length` above what a body may hold.
pub fn body_over_max(at: usize, len: u64, max: usize) -> Problem {
    p(
        Code::FrameTooLarge,
        at,
        format!("Content-Length {len} exceeds the {max} bytes a body may hold"),
    )
}

/// The input ends inside a body delimited by `Content-Length`.
pub fn body_truncated(at: usize, len: u64, have: usize) -> Problem {
    p(
        Code::FrameTruncated,
        at,
        format!(
            "request body is shorter than its Content-Length: {len} bytes declared, the input \
             ends after {have}"
        ),
    )
}

/// A body whose length takes in a request line.
pub fn body_runs_into_next_request(at: usize, chunked: bool) -> Problem {
    p(
        Code::FrameLength,
        at,
        format!(
            "the body runs into the next request: its {} take(s) in a `POST … HTTP/1.1` \
             request line",
            if chunked {
                "chunk sizes"
            } else {
                "Content-Length"
            }
        ),
    )
}

/// A chunked body followed by a request line instead of its `0` chunk.
pub fn no_last_chunk(at: usize) -> Problem {
    p(
        Code::FrameLength,
        at,
        "the chunked body ends without its last chunk (`0`): a request line follows".into(),
    )
}

/// A chunk-size line that is not one.
pub fn bad_chunk_size(at: usize, line: &[u8]) -> Problem {
    p(
        Code::FrameLength,
        at,
        format!("invalid chunk size line {}", quote(line, 24)),
    )
}

/// Chunks adding up to more than a body may hold.
pub fn chunks_over_max(at: usize, max: usize) -> Problem {
    p(
        Code::FrameTooLarge,
        at,
        format!("chunked body exceeds the {max} bytes a body may hold"),
    )
}

/// Chunk data not followed by its CRLF.
pub fn chunk_without_crlf(at: usize) -> Problem {
    p(
        Code::FrameLength,
        at,
        "chunk data is not followed by CRLF: its size line is wrong".into(),
    )
}

/// A request larger than anything allowed, still incomplete.
pub fn request_too_large(at: usize, max: usize) -> Problem {
    p(
        Code::FrameTooLarge,
        at,
        format!("request is larger than {max} bytes"),
    )
}

/// The input ends inside a request (`place`: "inside the request headers", …).
pub fn input_ends_in_request(at: usize, place: &str) -> Problem {
    p(Code::FrameTruncated, at, format!("input ends {place}"))
}

/// A body declared gzip that is not gzip.
pub fn not_gzip(at: usize) -> Problem {
    p(
        Code::Garbage,
        at,
        "the body is declared gzip (Content-Encoding) but is not gzip".into(),
    )
}

/// A gzip body that inflates beyond `limit`.
pub fn gzip_over_max(at: usize, limit: u64) -> Problem {
    p(
        Code::FrameTooLarge,
        at,
        format!("gzip body inflates to more than {limit} bytes"),
    )
}

/// A gzip body cut short.
pub fn gzip_truncated(at: usize, inflated: usize) -> Problem {
    p(
        Code::FrameTruncated,
        at,
        format!("gzip body is truncated: it ends after {inflated} decompressed bytes"),
    )
}

/// A gzip body that does not inflate.
pub fn gzip_invalid(at: usize, e: impl Display) -> Problem {
    p(
        Code::Garbage,
        at,
        format!("gzip body is not valid gzip: {e}"),
    )
}

/// `--drain-token` is set and the request's token differs.
pub fn token_differs(at: usize) -> Problem {
    p(
        Code::Auth,
        at,
        "request rejected: its Logplex-Drain-Token differs from --drain-token".into(),
    )
}

/// `--drain-token` is set and the request has none.
pub fn token_missing(at: usize) -> Problem {
    p(
        Code::Auth,
        at,
        "request rejected: it has no Logplex-Drain-Token header and --drain-token is set".into(),
    )
}

/// `Logplex-Msg-Count` differs from the frames in the body.
pub fn msg_count_differs(at: usize, declared: u64, found: u64) -> Problem {
    p(
        Code::MsgCount,
        at,
        format!("Logplex-Msg-Count says {declared} frames, the body holds {found}"),
    )
}

/// `Logplex-Msg-Count` is not a number.
pub fn msg_count_not_a_number(at: usize, value: &[u8]) -> Problem {
    p(
        Code::MsgCount,
        at,
        format!("Logplex-Msg-Count is not a number: {}", quote(value, 24)),
    )
}
