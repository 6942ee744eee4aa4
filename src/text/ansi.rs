//! ANSI escape sequences, as `heroku logs --force-colors` writes them.
//!
//! The Heroku CLI colours its prefix and rewrites message bodies too (router, web, api, run,
//! Postgres and Redis lines get colours of its own), so in `cli` input every colour code (SGR,
//! `ESC [ … m`) is removed from the whole line, message included (see `pipeline::clean_cli`).
//! An app's own colour codes cannot be told from the CLI's there and go too; a drain capture
//! of the same logs keeps them.

use memchr::memchr;
use std::borrow::Cow;

/// The length of the escape sequence at `b[i]` (an ESC): `ESC [ params final` or a two-byte
/// `ESC x`; a sequence cut short by the end of `b` runs to the end.
pub fn escape_len(b: &[u8], i: usize) -> usize {
    match b.get(i + 1) {
        Some(b'[') => {
            // CSI: parameter and intermediate bytes, then one final byte 0x40..=0x7e.
            let mut j = i + 2;
            while j < b.len() && (0x20..=0x3f).contains(&b[j]) {
                j += 1;
            }
            if j < b.len() && (0x40..=0x7e).contains(&b[j]) {
                j + 1 - i
            } else {
                j - i
            }
        }
        Some(_) => 2,
        None => 1,
    }
}

/// Whether `seq` (a whole escape sequence, as [`escape_len`] measures it) sets colours or
/// styles: SGR, `ESC [ parameters m`.
pub fn is_sgr(seq: &[u8]) -> bool {
    seq.len() >= 3 && seq[1] == b'[' && seq[seq.len() - 1] == b'm'
}

/// Removes every escape sequence. Borrows when there are none, which is the common case.
pub fn strip_ansi(b: &[u8]) -> Cow<'_, [u8]> {
    let Some(first) = memchr(0x1b, b) else {
        return Cow::Borrowed(b);
    };
    let mut out = Vec::with_capacity(b.len());
    out.extend_from_slice(&b[..first]);
    let mut i = first;
    while i < b.len() {
        if b[i] == 0x1b {
            i += escape_len(b, i);
        } else {
            let next = memchr(0x1b, &b[i..]).map_or(b.len(), |k| i + k);
            out.extend_from_slice(&b[i..next]);
            i = next;
        }
    }
    Cow::Owned(out)
}

/// Whether `b` ends inside an escape sequence (a read cut it): stripping it now would hide
/// bytes that only the rest of the line shows.
pub fn ends_inside_escape(b: &[u8]) -> bool {
    let Some(k) = memchr::memrchr(0x1b, b) else {
        return false;
    };
    match b.get(k + 1) {
        None => true,
        // Only parameter bytes so far: the final byte has not arrived.
        Some(b'[') => b[k + 2..].iter().all(|c| (0x20..=0x3f).contains(c)),
        Some(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_sequences_are_removed() {
        assert_eq!(&*strip_ansi(b"a\x1b[1;31mb\x1b[0mc"), b"abc");
        assert!(matches!(strip_ansi(b"plain"), Cow::Borrowed(_)));
        assert_eq!(&*strip_ansi(b"x\x1b"), b"x");
        assert_eq!(&*strip_ansi(b"\x1b=z"), b"z");
    }

    #[test]
    fn sequences_cut_by_a_read_are_noticed() {
        assert!(ends_inside_escape(b"a\x1b"));
        assert!(ends_inside_escape(b"a\x1b[1;3"));
        assert!(!ends_inside_escape(b"a\x1b[1;3m"));
        assert!(!ends_inside_escape(b"a\x1b[1\x00"));
        assert!(!ends_inside_escape(b"plain"));
    }
}
