//! JSON string escaping, the hottest loop of a conversion (README "Performance").
//!
//! Hand-written rather than `serde_json`'s: it runs once per string field of every record,
//! appends to the worker's batch buffer without allocating, and escapes U+2028/U+2029 as
//! well. It copies runs of bytes that need no escaping in one go and only stops at bytes that
//! do; finding the next such byte is the kernel's job, SSE2 ([`sse2`]) on x86_64 and SWAR
//! ([`swar`]) elsewhere, each tested against the byte-at-a-time definition
//! ([`find_json_stop_plain`]) and [`escape_json_plain`] at every offset.

#[cfg(target_arch = "x86_64")]
pub mod sse2;
pub mod swar;

/// Bytes that stop the fast scan: control characters, `"`, `\`, and 0xE2 (the lead byte of
/// U+2028/U+2029, which JSON allows raw but JavaScript does not, so we escape them).
pub const JSON_STOP: [bool; 256] = {
    let mut t = [false; 256];
    let mut i = 0;
    while i < 0x20 {
        t[i] = true;
        i += 1;
    }
    t[b'"' as usize] = true;
    t[b'\\' as usize] = true;
    t[0xE2] = true;
    t
};

/// Index of the first byte at or after `from` that [`JSON_STOP`] marks, or `b.len()`.
#[inline]
pub fn find_json_stop(b: &[u8], from: usize) -> usize {
    #[cfg(target_arch = "x86_64")]
    let from = {
        let i = sse2::find_stop(b, from);
        if i + 16 <= b.len() {
            // A stop inside a whole block.
            return i;
        }
        i
    };
    swar::find_stop(b, from)
}

/// Byte-at-a-time definition of [`find_json_stop`].
pub fn find_json_stop_plain(b: &[u8], from: usize) -> usize {
    b[from..]
        .iter()
        .position(|&c| JSON_STOP[c as usize])
        .map_or(b.len(), |i| from + i)
}

/// Appends `s` as a JSON string literal (quotes included).
pub fn push_json_str(out: &mut Vec<u8>, s: &str) {
    out.push(b'"');
    let b = s.as_bytes();
    let mut run = 0;
    let mut i = find_json_stop(b, 0);
    while i < b.len() {
        let c = b[i];
        if c == 0xE2 && !(b.get(i + 1) == Some(&0x80) && matches!(b.get(i + 2), Some(0xA8 | 0xA9)))
        {
            i = find_json_stop(b, i + 1);
            continue;
        }
        out.extend_from_slice(&b[run..i]);
        i += push_escape(out, &b[i..]);
        run = i;
        i = find_json_stop(b, i);
    }
    out.extend_from_slice(&b[run..]);
    out.push(b'"');
}

/// Writes the escape for the stop byte(s) at the start of `b`; returns how many bytes it used.
fn push_escape(out: &mut Vec<u8>, b: &[u8]) -> usize {
    match b[0] {
        b'"' => out.extend_from_slice(b"\\\""),
        b'\\' => out.extend_from_slice(b"\\\\"),
        b'\n' => out.extend_from_slice(b"\\n"),
        b'\r' => out.extend_from_slice(b"\\r"),
        b'\t' => out.extend_from_slice(b"\\t"),
        0x08 => out.extend_from_slice(b"\\b"),
        0x0C => out.extend_from_slice(b"\\f"),
        0xE2 => {
            out.extend_from_slice(if b[2] == 0xA8 { b"\\u2028" } else { b"\\u2029" });
            return 3;
        }
        c => {
            const HEX: &[u8; 16] = b"0123456789abcdef";
            out.extend_from_slice(b"\\u00");
            out.push(HEX[(c >> 4) as usize]);
            out.push(HEX[(c & 0xf) as usize]);
        }
    }
    1
}

/// Reference implementation of [`push_json_str`]: one char at a time, no fast path.
pub fn escape_json_plain(s: &str) -> String {
    let mut out = String::from("\"");
    for ch in s.chars() {
        match ch {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json(s: &str) -> String {
        let mut out = Vec::new();
        push_json_str(&mut out, s);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn json_escaping_of_random_mixes_matches_plain_escaping() {
        // Stops at every position of the 16-byte blocks, three-byte escapes crossing block
        // ends, and 0xE2 lead bytes that need no escape (€, ✓).
        let alphabet = [
            "a",
            "\"",
            "\\",
            "\n",
            "\u{1}",
            "\u{1f}",
            "\u{2028}",
            "\u{2029}",
            "€",
            "✓",
            "é",
            " ",
            "xyzxyzxyz",
        ];
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        for _ in 0..5000 {
            let mut s = String::new();
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            for _ in 0..(x % 60) {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                s.push_str(alphabet[(x % alphabet.len() as u64) as usize]);
            }
            assert_eq!(json(&s), escape_json_plain(&s), "{s:?}");
        }
    }

    #[test]
    fn json_fast_path_matches_plain_escaping() {
        let cases = [
            "",
            "plain",
            "quote \" backslash \\ slash /",
            "\n\r\t\u{8}\u{c}\u{0}\u{1f}\u{7f}",
            "line sep \u{2028} para sep \u{2029} other e2: \u{2026} \u{20ac}",
            "caf\u{e9} \u{65e5}\u{672c} \u{1f600}",
            "\u{2028}",
            "ends with \\",
        ];
        for s in cases {
            assert_eq!(json(s), escape_json_plain(s), "{s:?}");
            let back: String = serde_json::from_str(&json(s)).unwrap();
            assert_eq!(back, s);
        }
        // Every char from 0 to 0x3000, one by one and all together.
        let all: String = (0u32..0x3000).filter_map(char::from_u32).collect();
        assert_eq!(json(&all), escape_json_plain(&all));
        for c in (0u32..0x3000).filter_map(char::from_u32) {
            let s = format!("a{c}b");
            assert_eq!(json(&s), escape_json_plain(&s));
        }
    }

    #[test]
    fn swar_stop_search_matches_the_plain_one() {
        // Every byte value at every position of a 24-byte window, over a clean background.
        for v in 0..=255u8 {
            for pos in 0..24 {
                let mut b = vec![b'a'; 24];
                b[pos] = v;
                for from in [0, 1, 7, 8, 9] {
                    let want = find_json_stop_plain(&b, from);
                    assert_eq!(
                        find_json_stop(&b, from),
                        want,
                        "{v:#x} at {pos} from {from}"
                    );
                    assert_eq!(
                        swar::find_stop(&b, from),
                        want,
                        "{v:#x} at {pos} from {from}"
                    );
                }
            }
        }
        // High bytes next to low ones (borrow propagation across bytes).
        let mut b = Vec::new();
        for v in 0..=255u8 {
            b.extend_from_slice(&[0xff, v, 0x80, 0x21, v, 0x1f + (v & 1)]);
        }
        for from in 0..64 {
            let want = find_json_stop_plain(&b, from);
            assert_eq!(find_json_stop(&b, from), want);
            assert_eq!(swar::find_stop(&b, from), want);
        }
        // Longer windows: hits in the second and third 16-byte block, and in the tail.
        for pos in 0..50 {
            let mut b = vec![b'z'; 50];
            b[pos] = b'"';
            assert_eq!(find_json_stop(&b, 0), pos);
            assert_eq!(swar::find_stop(&b, 0), pos);
        }
    }
}
