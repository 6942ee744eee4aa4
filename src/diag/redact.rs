//! Redaction of rejected bytes on their way to `--rejects`: drain tokens overwritten, token
//! header values replaced, tokens found across chunk framing, read blocks and inside gzip
//! members. The quoting of bytes in messages is [`super::quote`]'s.

use super::quote::{secret, token_len};
use memchr::memchr;
use std::ops::Range;

/// Replaces the value of every `Logplex-Drain-Token` header line in `bytes` (rejected bytes
/// about to be written out) with `[redacted]`, and overwrites every other drain token with `x`
/// (see [`Redactor`], of which this is the one-piece case).
pub fn redact_token(bytes: &[u8]) -> Vec<u8> {
    let mut r = Redactor::default();
    let mut out = r.push(bytes);
    out.extend(r.finish());
    out
}

/// Redacts rejected bytes as one stream, whatever pieces they come in (a rejected region that
/// crosses a read block comes in two): token header values become `[redacted]`, other drain
/// tokens are overwritten with `x` byte for byte (so every LEN still counts right and the
/// rejected frames read back as the same frames), also where a chunked body's framing cuts a
/// token. What is written does not depend on where the pieces were cut.
#[derive(Default)]
pub struct Redactor {
    /// Bytes received and not yet written: a token or a header line in them may go on in bytes
    /// not yet here. Invariant: between calls, the last [`Redactor::HOLD`] bytes of the
    /// stream, extended back to the start of their line when that is within
    /// [`Redactor::LINE`] bytes, and further to the start of any token, token header line or
    /// run of chunks that the boundary would cut (a run of chunks is at most a request body,
    /// itself bounded by `--max-frame`).
    held: Vec<u8>,
    /// Where in `held` each piece began: a token header may start there, as at a line start
    /// (a rejected region can begin mid-line).
    starts: Vec<usize>,
    /// The text of a gzip member, redacted on its own: gzip members in it are not inflated
    /// again (a gzip quine would never end).
    nested: bool,
}

impl Redactor {
    /// Held back from the end: more than any token, even one cut by chunk framing of 1-byte
    /// chunks (38 chunks of about 6 bytes).
    const HOLD: usize = 4096;
    /// How far back a cut moves to a line start, so that lines are not cut.
    const LINE: usize = 4096;

    /// Takes the next piece; returns the redacted bytes ready to be written.
    pub fn push(&mut self, bytes: &[u8]) -> Vec<u8> {
        self.starts.push(self.held.len());
        self.held.extend_from_slice(bytes);
        let mut cut = self.held.len().saturating_sub(Self::HOLD);
        if let Some(nl) = memchr::memrchr(b'\n', &self.held[..cut]) {
            if cut - (nl + 1) <= Self::LINE {
                cut = nl + 1;
            }
        }
        self.take(cut, false)
    }

    /// The rest, redacted: the stream has ended.
    pub fn finish(&mut self) -> Vec<u8> {
        self.take(self.held.len(), true)
    }

    /// Writes out `held[..cut]` (or less, not to cut a header line), redacted with all of
    /// `held` as context; `end`: nothing more will come.
    fn take(&mut self, cut: usize, end: bool) -> Vec<u8> {
        let bytes = &self.held;
        let headers = header_values(bytes, &self.starts);
        let (members, unfinished) = if self.nested {
            (Vec::new(), None)
        } else {
            gzip_members(bytes, end)
        };
        let cut = unfinished.map_or(cut, |m| cut.min(m));
        // Each token: where it starts, and the bytes to overwrite (in a chunked body's view,
        // mapped back).
        let mut tokens: Vec<(usize, Vec<usize>)> = tokens_in(bytes)
            .into_iter()
            .map(|(start, r)| (start, r.collect()))
            .collect();
        let mut chains = Vec::new();
        if let Some(d) = dechunked(bytes) {
            tokens.extend(
                tokens_in(&d.view)
                    .into_iter()
                    .map(|(start, r)| (d.at[start], r.map(|i| d.at[i]).collect())),
            );
            chains = d.chains;
        }
        // A token is overwritten, and a header value redacted, whole: never cut one. The
        // rest of a token would not be known for one in the next call. Nor a run of chunks:
        // read from its middle, its data could be taken for sizes.
        let mut cut = cut;
        loop {
            let crossing_chain = chains
                .iter()
                .filter(|c| c.start < cut && cut < c.end)
                .map(|c| c.start);
            let crossing_header = headers
                .iter()
                .filter(|(_, v)| v.start < cut && cut < v.end)
                .map(|(line, _)| *line);
            let crossing_token = tokens
                .iter()
                .filter(|(start, idx)| *start < cut && idx.last().is_some_and(|&l| l >= cut))
                .map(|(start, _)| *start);
            let crossing_member = members
                .iter()
                .filter(|(r, _)| r.start < cut && cut < r.end)
                .map(|(r, _)| r.start);
            match crossing_header
                .chain(crossing_token)
                .chain(crossing_chain)
                .chain(crossing_member)
                .min()
            {
                Some(earlier) if earlier < cut => cut = earlier,
                _ => break,
            }
        }
        if cut == 0 {
            return Vec::new();
        }
        let mut masked = bytes[..cut].to_vec();
        let overwrite = tokens.into_iter().flat_map(|(_, idx)| idx);
        for i in overwrite.filter(|&i| i < cut) {
            if masked[i] != b'-' && masked[i] != b'.' {
                masked[i] = b'x';
            }
        }
        // Replacements, in order: header values, and gzip members whose text holds a token
        // (written as that text, inflated and redacted: compressed bytes cannot be
        // overwritten).
        let mut edits: Vec<(Range<usize>, Vec<u8>)> = headers
            .into_iter()
            .filter(|(_, v)| v.end <= cut)
            .map(|(_, v)| (v, b" [redacted]".to_vec()))
            .collect();
        edits.extend(
            members
                .into_iter()
                .filter(|(r, _)| r.end <= cut)
                .filter_map(|(r, text)| text.map(|t| (r, t))),
        );
        edits.sort_by_key(|(r, _)| r.start);
        let mut out = Vec::with_capacity(cut);
        let mut last = 0;
        for (r, with) in edits {
            if r.start < last {
                continue;
            }
            out.extend_from_slice(&masked[last..r.start]);
            out.extend_from_slice(&with);
            last = r.end;
        }
        out.extend_from_slice(&masked[last..]);
        self.held.drain(..cut);
        self.starts.retain(|&s| s >= cut);
        self.starts.iter_mut().for_each(|s| *s -= cut);
        out
    }
}

/// The most a gzip member in rejected bytes is inflated to, to look for tokens in it.
const MEMBER_TEXT_MAX: u64 = 64 << 20;

/// The gzip members in `bytes` (rejected bytes: a body in `Content-Encoding: gzip` that was
/// not read, or a gzip body of a malformed request): where each is, and its text, inflated and
/// redacted, when that text holds a token. Also where a member starts that may go on in bytes
/// not yet here (unless `end`): it is held back whole.
#[allow(clippy::type_complexity)]
fn gzip_members(bytes: &[u8], end: bool) -> (Vec<(Range<usize>, Option<Vec<u8>>)>, Option<usize>) {
    use std::io::Read;
    let mut members = Vec::new();
    let mut from = 0;
    for m in memchr::memmem::find_iter(bytes, &[0x1f, 0x8b, 0x08]) {
        if m < from {
            continue;
        }
        let mut input = &bytes[m..];
        let mut text = Vec::new();
        let truncated = {
            let mut dec = flate2::bufread::GzDecoder::new(&mut input).take(MEMBER_TEXT_MAX);
            let mut block = [0u8; 16 * 1024];
            loop {
                match dec.read(&mut block) {
                    Ok(0) => break false,
                    Ok(n) => text.extend_from_slice(&block[..n]),
                    Err(e) => break e.kind() == std::io::ErrorKind::UnexpectedEof,
                }
            }
        };
        if truncated && !end {
            return (members, Some(m));
        }
        let len = bytes.len() - m - input.len();
        if len < 10 {
            // Not a gzip header: bytes that happen to start like one.
            continue;
        }
        from = m + len;
        let mut r = Redactor {
            nested: true,
            ..Redactor::default()
        };
        let mut redacted = r.push(&text);
        redacted.extend(r.finish());
        let holds_token = redacted != text;
        members.push((m..m + len, holds_token.then_some(redacted)));
    }
    (members, None)
}

/// The `Logplex-Drain-Token` header lines in `bytes` (at a line start, or at one of `starts`):
/// where each line starts and where its value is.
fn header_values(bytes: &[u8], starts: &[usize]) -> Vec<(usize, Range<usize>)> {
    const NAME: &[u8] = b"logplex-drain-token";
    let mut line_starts: Vec<usize> = std::iter::once(0)
        .chain(memchr::memchr_iter(b'\n', bytes).map(|i| i + 1))
        .chain(starts.iter().copied())
        .collect();
    line_starts.sort_unstable();
    line_starts.dedup();
    line_starts
        .into_iter()
        .filter(|&s| {
            bytes.len() - s >= NAME.len() && bytes[s..s + NAME.len()].eq_ignore_ascii_case(NAME)
        })
        .map(|s| {
            // The value starts after the colon, spaces or tabs before it allowed (a malformed
            // line is rejected whole, value included); with no colon, after the name.
            let mut v = s + NAME.len();
            let ws = bytes[v..]
                .iter()
                .take_while(|&&c| c == b' ' || c == b'\t')
                .count();
            if bytes.get(v + ws) == Some(&b':') {
                v += ws + 1;
            }
            let mut e = memchr(b'\n', &bytes[v..]).map_or(bytes.len(), |k| v + k);
            // A folded value (obs-fold) goes on in lines that start with a space or a tab.
            while e < bytes.len() && matches!(bytes.get(e + 1), Some(b' ' | b'\t')) {
                e = memchr(b'\n', &bytes[e + 1..]).map_or(bytes.len(), |k| e + 1 + k);
            }
            let e = if e > v && bytes[e - 1] == b'\r' {
                e - 1
            } else {
                e
            };
            (s, v..e)
        })
        .collect()
}

/// `bytes` read with chunked transfer coding's framing taken out, with the index in `bytes` of
/// each byte of the view and where each run of chunks is; `None` when no line starts a chunk. A line that reads as a chunk
/// size whose data fits starts a run of chunks; the run's size lines and the line ends around
/// them are left out, and it ends at the last chunk or at anything that is not a chunk. The
/// view is only searched for tokens to overwrite, where a line taken for a chunk size by
/// mistake costs nothing: the bytes themselves are searched too.
fn dechunked(bytes: &[u8]) -> Option<Dechunked> {
    let mut keep: Vec<Range<usize>> = Vec::new();
    let mut chains: Vec<Range<usize>> = Vec::new();
    let mut text_from = 0;
    let mut i = 0;
    while i < bytes.len() {
        if let Some((n, data)) = chunk_at(bytes, i).filter(|&(n, d)| n > 0 && d + n <= bytes.len())
        {
            // The line end before the size line is framing too.
            let mut cut = i;
            if cut > text_from && bytes[cut - 1] == b'\n' {
                cut -= 1;
                if cut > text_from && bytes[cut - 1] == b'\r' {
                    cut -= 1;
                }
            }
            keep.push(text_from..cut);
            let (mut n, mut data) = (n, data);
            let mut p;
            loop {
                keep.push(data..data + n);
                p = data + n;
                if bytes[p..].starts_with(b"\r\n") {
                    p += 2;
                } else if bytes[p..].starts_with(b"\n") {
                    p += 1;
                } else {
                    break;
                }
                match chunk_at(bytes, p) {
                    Some((0, after)) => {
                        p = after;
                        break;
                    }
                    Some((m, d)) if d + m <= bytes.len() => (n, data) = (m, d),
                    _ => break,
                }
            }
            chains.push(i..p);
            text_from = p;
            i = p;
            continue;
        }
        i = memchr(b'\n', &bytes[i..]).map_or(bytes.len(), |k| i + k + 1);
    }
    if keep.is_empty() {
        return None;
    }
    keep.push(text_from..bytes.len());
    let at: Vec<usize> = keep.into_iter().flatten().collect();
    let view = at.iter().map(|&k| bytes[k]).collect();
    Some(Dechunked { view, at, chains })
}

/// Bytes read without chunked transfer coding's framing ([`dechunked`]).
struct Dechunked {
    /// The bytes without the framing.
    view: Vec<u8>,
    /// Invariant: `at.len() == view.len()`; `view[i]` is byte `at[i]` of the original.
    at: Vec<usize>,
    /// Each run of chunks in the original, from its first size line to past its last chunk.
    chains: Vec<Range<usize>>,
}

/// A chunk-size line at `i` (1 to 16 hex digits, an optional extension after `;`, a line end):
/// the size and where the chunk's data starts.
fn chunk_at(bytes: &[u8], i: usize) -> Option<(usize, usize)> {
    let k = memchr(b'\n', &bytes[i..])?;
    let mut line = &bytes[i..i + k];
    if let [rest @ .., b'\r'] = line {
        line = rest;
    }
    let size = line.split(|&c| c == b';').next()?.trim_ascii_end();
    if size.is_empty() || size.len() > 15 || !size.iter().all(u8::is_ascii_hexdigit) {
        return None;
    }
    let n = usize::from_str_radix(std::str::from_utf8(size).ok()?, 16).ok()?;
    Some((n, i + k + 1))
}

/// Where `bytes` hold a drain token: `d.` and a UUID (the run of UUID characters after the
/// `d.`), or the `--drain-token` value. Each is where the token starts (its `d.` included) and
/// the bytes to overwrite.
fn tokens_in(bytes: &[u8]) -> Vec<(usize, Range<usize>)> {
    let mut found = Vec::new();
    for dot in memchr::memchr_iter(b'.', bytes) {
        if dot == 0 || !bytes[dot - 1].eq_ignore_ascii_case(&b'd') {
            continue;
        }
        let n = token_len(bytes, dot - 1);
        if n > 0 {
            found.push((dot - 1, dot + 1..dot - 1 + n));
        }
    }
    let secret = secret();
    if !secret.is_empty() {
        found.extend(memchr::memmem::find_iter(bytes, secret).map(|i| (i, i..i + secret.len())));
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use memchr::memmem;

    #[test]
    fn token_header_values_are_redacted() {
        let b = b"POST / HTTP/1.1\r\nLogplex-Drain-TOKEN: d.secret\r\nX: 1\r\n";
        let r = redact_token(b);
        assert!(memmem::find(&r, b"d.secret").is_none());
        assert_eq!(
            &*r,
            b"POST / HTTP/1.1\r\nLogplex-Drain-TOKEN: [redacted]\r\nX: 1\r\n"
        );
        assert_eq!(redact_token(b"no token"), b"no token");
    }

    #[test]
    fn a_stream_is_redacted_the_same_wherever_its_pieces_are_cut() {
        // Tokens and a token header a little past the first 1 KiB, in short lines and in one
        // long line; cut in two and three pieces at every place that moves the held-back
        // boundary across them. The one-piece redaction is the reference.
        let t = "d.0b6a7c1e-9f3d-4a2b-8c5e-7d1f2a3b4c5d";
        let mut short = "a line of garbage\n".repeat(60).into_bytes();
        short.extend(format!("junk {t} here\nLogplex-Drain-Token: {t}\n 9{t}\n").as_bytes());
        short.extend("more garbage\n".repeat(400).as_bytes());
        let mut long = "y".repeat(1100).into_bytes();
        long.extend(format!(" {t} ").as_bytes());
        long.extend("z".repeat(7000).as_bytes());
        // A chunked body of 3-byte chunks: the token is cut over many lines.
        let mut chunked = "a line of garbage\r\n".repeat(58).into_bytes();
        for c in format!("95 <190>1 2026-03-01T10:00:00Z {t} app web.1 - x\n")
            .as_bytes()
            .chunks(3)
        {
            chunked.extend(format!("{:x}\r\n", c.len()).as_bytes());
            chunked.extend(c);
            chunked.extend(b"\r\n");
        }
        chunked.extend("0\r\n\r\n".as_bytes());
        chunked.extend("more garbage\n".repeat(400).as_bytes());
        for sample in [short, long, chunked] {
            let whole = redact_token(&sample);
            assert!(memmem::find(&whole, &t.as_bytes()[2..]).is_none());
            assert!(!String::from_utf8_lossy(&whole).contains("b6a"));
            for k in (4096 + 900)..(4096 + 1300).min(sample.len()) {
                let mut r = Redactor::default();
                let mut out = r.push(&sample[..k]);
                out.extend(r.push(&sample[k..k + (sample.len() - k) / 2]));
                out.extend(r.push(&sample[k + (sample.len() - k) / 2..]));
                out.extend(r.finish());
                assert!(
                    out == whole,
                    "cut at {k}: {:?}",
                    String::from_utf8_lossy(&out[1000..out.len().min(1500)])
                );
            }
        }
    }
}
