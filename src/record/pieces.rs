//! Messages their senders split (README "Beyond the schema"; the rule book is
//! `docs/beyond-the-schema.md`): PostgreSQL's syslog chunks (`[TAG] [SEQ-N] text`, as
//! `write_syslog` in PostgreSQL's `src/backend/utils/error/elog.c` makes them) and Heroku's
//! 10,000-byte pieces; how chunk texts join. Which records make a chain is the pipeline's
//! business (`pipeline/rejoin/`); what a piece is and how pieces join is here.

/// The length of each of Heroku's pieces of a long log line.
pub const HEROKU_PIECE: usize = 10_000;

/// PostgreSQL's `PG_SYSLOG_LIMIT`: the longest chunk `write_syslog` sends.
pub const PG_LIMIT: usize = 900;

/// Whether a message (MSG's bytes) may start a chain: a PostgreSQL chunk, or exactly
/// [`HEROKU_PIECE`] bytes.
pub fn may_start(msg: &[u8]) -> bool {
    msg.len() == HEROKU_PIECE || chunk(msg).is_some()
}

/// A PostgreSQL chunk: `[TAG] [SEQ-N] TEXT`, the `[TAG] ` optional.
#[derive(Debug, PartialEq)]
pub struct Chunk<'m> {
    /// The colour name Heroku Postgres puts in front, if any.
    pub tag: Option<&'m [u8]>,
    /// The message's sequence number, as written.
    pub seq: &'m [u8],
    /// The chunk's number in its message, from 1.
    pub n: u32,
    /// The rest: the chunk's text.
    pub text: &'m [u8],
}

/// `m` as a chunk, if it is one: TAG one or more of `[A-Za-z0-9_]`, SEQ 1-20 digits, N 1-9
/// digits without a leading zero, then exactly one space.
pub fn chunk(m: &[u8]) -> Option<Chunk<'_>> {
    fn seq_n(m: &[u8]) -> Option<(&[u8], u32, usize)> {
        let m = m.strip_prefix(b"[")?;
        let d = m.iter().take_while(|c| c.is_ascii_digit()).count();
        if !(1..=20).contains(&d) || m.get(d) != Some(&b'-') {
            return None;
        }
        let rest = &m[d + 1..];
        let nd = rest.iter().take_while(|c| c.is_ascii_digit()).count();
        if !(1..=9).contains(&nd) || rest[0] == b'0' || !rest[nd..].starts_with(b"] ") {
            return None;
        }
        let n = std::str::from_utf8(&rest[..nd]).ok()?.parse().ok()?;
        // `[` SEQ `-` N `] `
        Some((&m[..d], n, 1 + d + 1 + nd + 2))
    }
    if let Some((seq, n, len)) = seq_n(m) {
        return Some(Chunk {
            tag: None,
            seq,
            n,
            text: &m[len..],
        });
    }
    let inner = m.strip_prefix(b"[")?;
    let t = inner
        .iter()
        .take_while(|c| c.is_ascii_alphanumeric() || **c == b'_')
        .count();
    if t == 0 || !inner[t..].starts_with(b"] ") {
        return None;
    }
    let (seq, n, len) = seq_n(&inner[t + 2..])?;
    Some(Chunk {
        tag: Some(&inner[..t]),
        seq,
        n,
        text: &inner[t + 2 + len..],
    })
}

/// The rule book's whitespace: space, tab, CR, vertical tab, form feed.
fn is_ws(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | 0x0b | 0x0c)
}

/// Whether PostgreSQL cut between chunk texts `a` and `b` at its limit (join directly) rather
/// than at a newline it dropped (join with `\n`). A cut at the limit leaves `a` 897-900 bytes
/// long (900, or less where a multi-byte character would have been split), or, when it backed
/// off to the last whitespace before a word that would not fit, `b` starting with exactly that
/// one whitespace byte and the word. A word that fills `b` to its end when `b` is itself cut
/// at the limit goes on in the next piece: it is longer than `b` shows.
pub fn cut_at_limit(a: &[u8], b: &[u8]) -> bool {
    if at_limit(a) {
        return true;
    }
    match b {
        [w, rest @ ..] if is_ws(*w) && rest.first().is_some_and(|&c| !is_ws(c)) => {
            let word = rest.iter().take_while(|&&c| !is_ws(c)).count();
            (word == rest.len() && at_limit(b)) || a.len() + 1 + word > PG_LIMIT
        }
        _ => false,
    }
}

/// Whether a chunk text is 897-900 bytes long: what PostgreSQL leaves when it cuts a line at
/// its limit (900 bytes, fewer where a multi-byte character would have been split), so a
/// chunk that must have a next one.
pub fn at_limit(text: &[u8]) -> bool {
    (PG_LIMIT - 3..=PG_LIMIT).contains(&text.len())
}

/// The message PostgreSQL would have written unsplit: `[TAG] [SEQ] ` (without `[TAG] ` when
/// there was none), then the chunks' texts joined by [`cut_at_limit`]'s reading.
pub fn join_pg(tag: Option<&[u8]>, seq: &[u8], texts: &[Vec<u8>]) -> Vec<u8> {
    let mut m = Vec::with_capacity(texts.iter().map(|t| t.len() + 1).sum::<usize>() + 32);
    if let Some(t) = tag {
        m.push(b'[');
        m.extend_from_slice(t);
        m.extend_from_slice(b"] ");
    }
    m.push(b'[');
    m.extend_from_slice(seq);
    m.extend_from_slice(b"] ");
    for (i, t) in texts.iter().enumerate() {
        if i > 0 && !cut_at_limit(&texts[i - 1], t) {
            m.push(b'\n');
        }
        m.extend_from_slice(t);
    }
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_with_and_without_tag() {
        let c = chunk(b"[DATABASE] [12-3] text").unwrap();
        assert_eq!(
            (c.tag, c.seq, c.n, c.text),
            (Some(&b"DATABASE"[..]), &b"12"[..], 3, &b"text"[..])
        );
        let c = chunk(b"[7-1]  indented").unwrap();
        assert_eq!((c.tag, c.n, c.text), (None, 1, &b" indented"[..]));
        assert_eq!(chunk(b"[7-1] ").unwrap().text, b"");
        for not in [
            &b"[7-1]"[..],
            b"[7-01] x",
            b"[7-0] x",
            b"[-1] x",
            b"[A-B] [1-1] x",
            b"[] [1-1] x",
            b"[T]  [1-1] x",
            b"[T] [1-1]x",
            b"[123456789012345678901-1] x",
            b"[1-1234567890] x",
            b"x [1-1] y",
        ] {
            assert_eq!(chunk(not), None, "{}", String::from_utf8_lossy(not));
        }
    }

    #[test]
    fn cuts_at_the_limit() {
        let a = vec![b'a'; 895];
        assert!(!cut_at_limit(&a, b" abc"), "895 + 4 = 899 fits");
        assert!(cut_at_limit(&a, b" abcdef"), "895 + 7 > 900");
        assert!(
            !cut_at_limit(&a, b"    FROM"),
            "a back-off leaves one whitespace byte"
        );
        assert!(
            cut_at_limit(&vec![b'a'; 898], b"  x"),
            "898: cut at the (clipped) limit"
        );
        let long_word = [b" ".as_slice(), &[b'w'; 897]].concat();
        assert!(cut_at_limit(b"s", &long_word), "the word goes on past b");
        assert!(cut_at_limit(&vec![b'a'; 897], b"xyz"));
        assert!(!cut_at_limit(&vec![b'a'; 896], b"xyz"));
        assert!(cut_at_limit(&vec![b'a'; 900], b"xyz"));
    }
}
