//! Input bytes as messages show them, and drain tokens kept out of everything written.
//!
//! Heroku puts the drain token (`d.` and a UUID) in HOSTNAME and in the `Logplex-Drain-Token`
//! header, and it is a secret: a quote never shows one, even cut short ([`quote`]), nor does a
//! name ([`mask_tokens`]); rejected bytes are redacted in [`super::redact`].

use std::sync::OnceLock;

/// The run's `--drain-token`, whatever its form: quotes never show it, and `--rejects` has it
/// overwritten ([`keep_secret`]).
static SECRET: OnceLock<Vec<u8>> = OnceLock::new();

/// The shortest `--drain-token` taken: a shorter one would be masked wherever its bytes
/// occur (`1` in every `HTTP/1.1`).
pub const SECRET_MIN: usize = 8;

/// Makes `token` (the `--drain-token` value) a secret for the rest of the process: [`quote`]
/// shows it as `[redacted]` and [`super::redact::Redactor`] overwrites it. Only the first call counts.
pub fn keep_secret(token: &[u8]) {
    if token.len() >= SECRET_MIN {
        let _ = SECRET.set(token.to_vec());
    }
}

pub(crate) fn secret() -> &'static [u8] {
    SECRET.get().map_or(&[], Vec::as_slice)
}

/// The shortest piece of the `--drain-token` value masked where a line break or the end of
/// what is shown cuts the value.
const PIECE_MIN: usize = 4;

/// How many bytes of `b` from `i` are the `--drain-token` value, or a piece of it that a
/// boundary cut: a line break, the start of `b`, or its end when `end` (nothing follows). 0
/// when none.
fn secret_piece(b: &[u8], i: usize, end: bool) -> usize {
    let secret = secret();
    if secret.is_empty() {
        return 0;
    }
    if b[i..].starts_with(secret) {
        return secret.len();
    }
    // A piece that begins the line: the value's tail.
    if i == 0 || b[i - 1] == b'\n' {
        let line = &b[i..memchr::memchr(b'\n', &b[i..]).map_or(b.len(), |k| i + k)];
        let k = (PIECE_MIN..secret.len().min(line.len() + 1))
            .rev()
            .find(|&k| secret.ends_with(&line[..k]));
        if let Some(k) = k {
            return k;
        }
    }
    // A piece that ends the line (or all of `b`): the value's head.
    let stop = memchr::memchr(b'\n', &b[i..]).map(|k| i + k);
    if let Some(stop) = stop.or(end.then_some(b.len())) {
        let rest = &b[i..stop];
        let rest = rest.strip_suffix(b"\r").unwrap_or(rest);
        if rest.len() >= PIECE_MIN && rest.len() < secret.len() && secret.starts_with(rest) {
            return rest.len();
        }
    }
    0
}

/// Quotes bytes for a message: printable ASCII as is, everything else escaped, cut to `max`
/// bytes of input so a 1 MiB garbage run does not become a 4 MiB error line.
///
/// Heroku puts the drain token (`d.` and a UUID) in HOSTNAME, and it is a secret: a quote
/// never shows one (`d.[redacted]`), even cut short.
pub fn quote(bytes: &[u8], max: usize) -> String {
    let cut = bytes.len() > max;
    let shown = if cut { &bytes[..max] } else { bytes };
    // Tokens are looked for past the cut too: one the cut splits is still a token.
    let secret = secret();
    let look = &bytes[..bytes.len().min(shown.len() + TOKEN_LEN.max(secret.len()))];
    let mut s = String::with_capacity(shown.len() + 8);
    s.push('"');
    let mut i = 0;
    while i < shown.len() {
        let piece = secret_piece(look, i, look.len() == bytes.len());
        if piece > 0 {
            s.push_str("[redacted]");
            i += piece;
            continue;
        }
        let token = token_len(look, i);
        if token > 0 {
            s.push_str(if look[i + 1] == b'.' {
                "d.[redacted]"
            } else {
                "[redacted]"
            });
            i += token;
            continue;
        }
        match shown[i] {
            b'"' => s.push_str("\\\""),
            b'\\' => s.push_str("\\\\"),
            b'\n' => s.push_str("\\n"),
            b'\r' => s.push_str("\\r"),
            b'\t' => s.push_str("\\t"),
            b @ 0x20..=0x7e => s.push(b as char),
            b => s.push_str(&format!("\\x{b:02x}")),
        }
        i += 1;
    }
    s.push('"');
    if cut {
        s.push('…');
    }
    s
}

/// An input's name as a text report or a message line shows it: control characters escaped
/// (`\n`, `\t`, `\x1b`…), so a file name cannot start a line of its own (a CI log reads
/// `::error::` at a line's start as a command) or send escape sequences to a terminal.
pub fn shown_name(name: &str) -> std::borrow::Cow<'_, str> {
    if !name.chars().any(hidden) {
        return std::borrow::Cow::Borrowed(name);
    }
    let mut s = String::with_capacity(name.len() + 8);
    for c in name.chars() {
        match c {
            '\n' => s.push_str("\\n"),
            '\r' => s.push_str("\\r"),
            '\t' => s.push_str("\\t"),
            c if c.is_control() => s.push_str(&format!("\\x{:02x}", c as u32)),
            c if hidden(c) => s.push_str(&format!("\\u{{{:04x}}}", c as u32)),
            c => s.push(c),
        }
    }
    std::borrow::Cow::Owned(s)
}

/// A path as message lines show it: drain tokens masked ([`mask_tokens`]), control and other
/// invisible characters escaped ([`shown_name`]).
pub fn shown_path(p: &std::path::Path) -> String {
    let s = p.to_string_lossy();
    shown_name(&mask_tokens(&s)).into_owned()
}

/// A control character, or an invisible one that changes how the text around it is shown or
/// breaks lines: bidirectional overrides, embeddings, isolates and marks, zero-width
/// characters, line and paragraph separators, the byte-order mark.
fn hidden(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{061c}'
                | '\u{180e}'
                | '\u{200b}'..='\u{200f}'
                | '\u{2028}'..='\u{202e}'
                | '\u{2060}'..='\u{2064}'
                | '\u{2066}'..='\u{206f}'
                | '\u{feff}'
                | '\u{fff9}'..='\u{fffb}'
        )
}

/// `name` with every drain token in it (`d.` and a UUID, as [`quote`] finds them) shown as
/// `d.[redacted]`, the `--drain-token` value ([`keep_secret`]) as `[redacted]`, and anything
/// after a `Logplex-Drain-Token` header name left out: an input's name is printed in reports
/// and messages, and a token pasted where a path was expected must not be.
pub fn mask_tokens(name: &str) -> std::borrow::Cow<'_, str> {
    let b = name.as_bytes();
    let secret = secret();
    const HEADER: &[u8] = b"logplex-drain-token";
    let header = b
        .windows(HEADER.len())
        .position(|w| w.eq_ignore_ascii_case(HEADER))
        .map(|i| i + HEADER.len());
    if let Some(end) = header {
        // A token header pasted as a path (a capture given to --files-from): nothing after
        // the header's name is shown. The name is ASCII: `end` is a character boundary.
        return std::borrow::Cow::Owned(format!("{}: [redacted]", &name[..end]));
    }
    if !secret.is_empty() && (0..b.len()).any(|i| secret_piece(b, i, true) > 0) {
        let mut s = String::with_capacity(name.len());
        let (mut from, mut i) = (0, 0);
        while i < b.len() {
            let piece = secret_piece(b, i, true);
            if piece == 0 {
                i += 1;
                continue;
            }
            s.push_str(&String::from_utf8_lossy(&b[from..i]));
            s.push_str("[redacted]");
            i += piece;
            from = i;
        }
        s.push_str(&String::from_utf8_lossy(&b[from..]));
        return std::borrow::Cow::Owned(mask_uuid_tokens(&s).into_owned());
    }
    mask_uuid_tokens(name)
}

/// `name` with every `d.` and UUID shown as `d.[redacted]`.
fn mask_uuid_tokens(name: &str) -> std::borrow::Cow<'_, str> {
    let b = name.as_bytes();
    if !(0..b.len()).any(|i| token_len(b, i) > 0) {
        return std::borrow::Cow::Borrowed(name);
    }
    let mut s = String::with_capacity(name.len());
    let mut i = 0;
    let mut from = 0;
    while i < b.len() {
        let t = token_len(b, i);
        if t > 0 {
            // Tokens are ASCII: `i` and `i + t` are character boundaries.
            s.push_str(&name[from..i]);
            s.push_str(if b.get(i + 1) == Some(&b'.') {
                "d.[redacted]"
            } else {
                "[redacted]"
            });
            i += t;
            from = i;
        } else {
            i += 1;
        }
    }
    s.push_str(&name[from..]);
    std::borrow::Cow::Owned(s)
}

/// `d.` and a UUID.
pub(crate) const TOKEN_LEN: usize = 38;

/// The length of a drain token starting at `i`, or 0: `d.` (either case, after anything) and
/// at least 8 of a UUID's characters, or a run of a UUID's characters (hex digits and dashes,
/// at least 13 with a dash and 12 digits, not inside a longer word) that a quote may have cut
/// from its `d.`.
pub(crate) fn token_len(b: &[u8], i: usize) -> usize {
    let uuid_run = |from: usize| {
        b[from..]
            .iter()
            .take(36)
            .take_while(|c| c.is_ascii_hexdigit() || **c == b'-')
            .count()
    };
    if b[i].eq_ignore_ascii_case(&b'd') && b.get(i + 1) == Some(&b'.') {
        let run = uuid_run(i + 2);
        return if run >= 8 { 2 + run } else { 0 };
    }
    if i > 0 && (b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'-') {
        return 0;
    }
    let run = uuid_run(i);
    let digits = b[i..i + run]
        .iter()
        .filter(|c| c.is_ascii_hexdigit())
        .count();
    if run >= 13 && run > digits && digits >= 12 {
        run
    } else {
        0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_escape_cut_and_mask_tokens() {
        assert_eq!(quote(b"a\"b\\\n\x01\xff", 100), r#""a\"b\\\n\x01\xff""#);
        assert_eq!(quote(b"abcdef", 3), "\"abc\"…");
        let host = b"x d.7f3e2a10-1c4b-4d8e-9f60-5a2b3c4d5e6f\x01 y";
        assert_eq!(quote(host, 100), r#""x d.[redacted]\x01 y""#);
        assert_eq!(quote(host, 14), "\"x d.[redacted]\"…");
        assert_eq!(quote(b"load.balancer d.1", 100), "\"load.balancer d.1\"");
        // A quote that starts inside a token still hides it; dates and short ids stay.
        assert_eq!(
            quote(b"5ec4e7a0-1234-4abc-8def-0123 x", 100),
            "\"[redacted] x\""
        );
        assert_eq!(
            quote(b"2026-03-01T00:00:00Z id-1234 cafe-babe", 100),
            "\"2026-03-01T00:00:00Z id-1234 cafe-babe\""
        );
    }

    #[test]
    fn tokens_in_names_are_masked() {
        assert_eq!(
            mask_tokens("x/d.11111111-2222-4333-8444-555555555555.drain"),
            "x/d.[redacted].drain"
        );
        assert_eq!(mask_tokens("é/plain.drain"), "é/plain.drain");
    }

    #[test]
    fn names_show_control_characters_escaped() {
        assert_eq!(shown_name("a b.drain"), "a b.drain");
        assert_eq!(shown_name("a\n::x\u{1b}[1m\u{85}"), "a\\n::x\\x1b[1m\\x85");
    }
}
