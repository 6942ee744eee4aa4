//! String kernels for the encoders: JSON escaping and CSV quoting, the hottest loops of a
//! conversion (README "Performance").
//!
//! Hand-written rather than `serde_json`'s and the `csv` crate's: they run once per string field
//! of every record, append to the worker's batch buffer, escape U+2028/U+2029 as well, and
//! check UTF-8 in the same pass (a message is checked as it is escaped, not before). The SIMD
//! kernels copy the string a block at a time straight into the output's reserved room,
//! unconditionally, and only stop at bytes that need something else (for JSON: control
//! characters, `"`, `\`, and the 0xE2 lead byte of U+2028/U+2029; inside a quoted CSV cell:
//! `"`): a run of clean bytes costs one load, one compare and one store per block, and no call
//! to `memcpy`.
//!
//! Kernels, chosen at run time ([`Kernel::best`]): AVX2 (32 bytes a block, when the CPU has
//! it), SSE2 (16 bytes, part of the x86_64 baseline), and plain (a byte at a time through
//! [`JSON_STOP`], on every architecture). Every kernel is tested against the char-by-char
//! definitions ([`escape_json_plain`], [`csv_cell_plain`]) at every offset and length, and
//! fuzzed.

#[cfg(target_arch = "x86_64")]
mod x86;

/// Bytes that stop a clean JSON run: control characters, `"`, `\`, and 0xE2 (the lead byte of
/// U+2028/U+2029, which JSON allows raw but JavaScript does not, so they are escaped).
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

/// What a byte means for a CSV cell's quoting: 1 for `,` CR LF (quote the cell), 3 for `"`
/// (quote it and double the quote), 0 otherwise.
const CSV_SPECIAL: [u8; 256] = {
    let mut t = [0u8; 256];
    t[b',' as usize] = 1;
    t[b'\r' as usize] = 1;
    t[b'\n' as usize] = 1;
    t[b'"' as usize] = 3;
    t
};

/// Bytes that stop a clean run inside a quoted CSV cell: `"` (doubled).
const QUOTE_STOP: [bool; 256] = {
    let mut t = [false; 256];
    t[b'"' as usize] = true;
    t
};

/// A way to run the kernels, one this CPU runs: the only values are those [`Kernel::best`] and
/// [`Kernel::available`] hand out, which check the CPU, so a kernel is used without checking
/// again.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Kernel(Kind);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    /// 32 bytes a block (x86_64 with AVX2).
    #[cfg(target_arch = "x86_64")]
    Avx2,
    /// 16 bytes a block (x86_64).
    #[cfg(target_arch = "x86_64")]
    Sse2,
    /// A byte at a time (everywhere).
    Plain,
}

/// Strings this short that need no escape skip the kernels.
const SHORT: usize = 24;

impl Kernel {
    /// The fastest kernel this CPU runs.
    pub fn best() -> Kernel {
        *Kernel::available().last().expect("plain is always there")
    }

    /// Every kernel this CPU runs, slowest first.
    pub fn available() -> Vec<Kernel> {
        let mut k = vec![Kernel(Kind::Plain)];
        #[cfg(target_arch = "x86_64")]
        {
            k.push(Kernel(Kind::Sse2));
            if std::is_x86_feature_detected!("avx2") {
                k.push(Kernel(Kind::Avx2));
            }
        }
        k
    }

    /// Its name, for tests and benchmarks.
    pub fn name(self) -> &'static str {
        match self.0 {
            #[cfg(target_arch = "x86_64")]
            Kind::Avx2 => "avx2",
            #[cfg(target_arch = "x86_64")]
            Kind::Sse2 => "sse2",
            Kind::Plain => "plain",
        }
    }

    /// Appends `s` as a JSON string literal, quotes included.
    #[inline]
    pub fn push_str(self, out: &mut Vec<u8>, s: &str) {
        out.push(b'"');
        self.json_body(out, s.as_bytes());
        out.push(b'"');
    }

    /// Appends `b` as a JSON string literal when it is valid UTF-8, checking that in the pass
    /// that escapes it; when it is not, appends nothing and says so (`false`).
    #[inline]
    pub fn push_checked(self, out: &mut Vec<u8>, b: &[u8]) -> bool {
        let start = out.len();
        out.push(b'"');
        let ascii = self.json_body(out, b);
        if !ascii && std::str::from_utf8(b).is_err() {
            out.truncate(start);
            return false;
        }
        out.push(b'"');
        true
    }

    /// JSON-escapes `b` (no quotes); whether every byte was ASCII.
    #[inline]
    fn json_body(self, out: &mut Vec<u8>, b: &[u8]) -> bool {
        // Most header fields are short and clean: copied here, without a kernel call.
        if b.len() <= SHORT && !b.iter().any(|&c| JSON_STOP[c as usize]) {
            push_short(out, b);
            return b.is_ascii();
        }
        match self.0 {
            // SAFETY: a Kernel(Avx2) exists only when the CPU has AVX2 (`available`).
            #[cfg(target_arch = "x86_64")]
            Kind::Avx2 => unsafe { x86::json_avx2(out, b) },
            #[cfg(target_arch = "x86_64")]
            Kind::Sse2 => x86::json_sse2(out, b),
            Kind::Plain => {
                json_plain_from(out, b, 0);
                b.is_ascii()
            }
        }
    }

    /// Appends `s` as one RFC 4180 cell, quoted only when needed: a `,`, `"`, CR or LF inside,
    /// or a leading/trailing space that some readers would trim. With `safe`, a cell a
    /// spreadsheet would evaluate (`= + - @`, tab, CR first) gets a leading `'` (OWASP's advice
    /// for CSV injection).
    #[inline]
    pub fn push_csv(self, out: &mut Vec<u8>, s: &str, safe: bool) {
        let b = s.as_bytes();
        let flags = self.csv_scan(b);
        self.csv_cell(out, b, flags, safe);
    }

    /// [`Kernel::push_csv`] for bytes that should be UTF-8, checked in the scan that decides
    /// the quoting; when they are not, appends nothing and says so (`false`).
    #[inline]
    pub fn push_csv_checked(self, out: &mut Vec<u8>, b: &[u8], safe: bool) -> bool {
        let flags = self.csv_scan(b);
        if flags & NOT_ASCII != 0 && std::str::from_utf8(b).is_err() {
            return false;
        }
        self.csv_cell(out, b, flags, safe);
        true
    }

    /// `b`'s [`CSV_SPECIAL`] flags ORed together, and [`NOT_ASCII`] when a byte is not ASCII.
    #[inline]
    fn csv_scan(self, b: &[u8]) -> u8 {
        match self.0 {
            // SAFETY: a Kernel(Avx2) exists only when the CPU has AVX2 (`available`).
            #[cfg(target_arch = "x86_64")]
            Kind::Avx2 if b.len() >= 32 => unsafe { x86::csv_scan_avx2(b) },
            _ => csv_scan_plain(b),
        }
    }

    /// Writes the cell `b` with its scan's `flags`.
    #[inline]
    fn csv_cell(self, out: &mut Vec<u8>, b: &[u8], flags: u8, safe: bool) {
        let formula = safe && matches!(b.first(), Some(b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r'));
        let quoted = flags & 1 != 0 || b.first() == Some(&b' ') || b.last() == Some(&b' ');
        if quoted {
            out.push(b'"');
        }
        if formula {
            out.push(b'\'');
        }
        if flags & 2 == 0 {
            push_short(out, b);
        } else {
            match self.0 {
                // SAFETY: a Kernel(Avx2) exists only when the CPU has AVX2 (`available`).
                #[cfg(target_arch = "x86_64")]
                Kind::Avx2 => unsafe { x86::csv_avx2(out, b) },
                #[cfg(target_arch = "x86_64")]
                Kind::Sse2 => x86::csv_sse2(out, b),
                Kind::Plain => csv_plain_from(out, b, 0),
            }
        }
        if quoted {
            out.push(b'"');
        }
    }
}

/// The flag [`Kernel`]'s CSV scan sets for a byte that is not ASCII.
const NOT_ASCII: u8 = 4;

/// Appends `b` with one or two word copies when it is shorter than 32 bytes:
/// `extend_from_slice` of a length the compiler does not know calls `memcpy`, which for a few
/// bytes costs more than the copy (measured: 2 % of a conversion's instructions for numbers
/// and timestamps alone).
#[inline(always)]
pub fn push_short(out: &mut Vec<u8>, b: &[u8]) {
    #[cfg(target_arch = "x86_64")]
    if b.len() < 32 {
        out.reserve(b.len());
        let base = out.len();
        // SAFETY: `b.len() < 32` bytes of spare capacity were just reserved; `small_copy`
        // writes exactly those and reads only `b`.
        unsafe {
            x86::small_copy(b.as_ptr(), out.as_mut_ptr().add(base), b.len());
            out.set_len(base + b.len());
        }
        return;
    }
    out.extend_from_slice(b);
}

/// What a stop byte is written as: up to 6 bytes of text in a word (kernels store the whole
/// word where room allows), and how many input bytes it covers.
#[derive(Clone, Copy)]
struct Escape {
    text: [u8; 8],
    len: u8,
    used: u8,
}

impl Escape {
    const fn new(text: &[u8], used: u8) -> Escape {
        let mut t = [0u8; 8];
        let mut i = 0;
        while i < text.len() {
            t[i] = text[i];
            i += 1;
        }
        Escape {
            text: t,
            len: text.len() as u8,
            used,
        }
    }

    /// The word, the text's length, the input bytes covered.
    #[inline(always)]
    fn padded(self) -> ([u8; 8], usize, usize) {
        (self.text, self.len as usize, self.used as usize)
    }

    fn as_bytes(&self) -> &[u8] {
        &self.text[..self.len as usize]
    }
}

/// What the JSON stop byte at `b[i]` is written as: an escape, or the byte itself (0xE2 that
/// does not start U+2028/U+2029).
#[inline]
fn json_escape_of(b: &[u8], i: usize) -> Escape {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    match b[i] {
        b'"' => Escape::new(b"\\\"", 1),
        b'\\' => Escape::new(b"\\\\", 1),
        b'\n' => Escape::new(b"\\n", 1),
        b'\r' => Escape::new(b"\\r", 1),
        b'\t' => Escape::new(b"\\t", 1),
        0x08 => Escape::new(b"\\b", 1),
        0x0C => Escape::new(b"\\f", 1),
        0xE2 => match (b.get(i + 1), b.get(i + 2)) {
            (Some(0x80), Some(0xA8)) => Escape::new(b"\\u2028", 3),
            (Some(0x80), Some(0xA9)) => Escape::new(b"\\u2029", 3),
            _ => Escape::new(&[0xE2], 1),
        },
        c => Escape::new(
            &[
                b'\\',
                b'u',
                b'0',
                b'0',
                HEX[(c >> 4) as usize],
                HEX[(c & 0xf) as usize],
            ],
            1,
        ),
    }
}

/// The `"` at `b[i]` inside a quoted CSV cell, doubled.
#[inline]
fn csv_escape_of(_b: &[u8], _i: usize) -> Escape {
    Escape::new(b"\"\"", 1)
}

/// The plain JSON kernel on `b[from..]` (`from` at a character boundary): a byte at a time,
/// clean runs copied whole.
fn json_plain_from(out: &mut Vec<u8>, b: &[u8], from: usize) {
    plain_from(out, b, from, &JSON_STOP, json_escape_of)
}

/// The plain CSV kernel on `b[from..]`: `"` doubled.
fn csv_plain_from(out: &mut Vec<u8>, b: &[u8], from: usize) {
    plain_from(out, b, from, &QUOTE_STOP, csv_escape_of)
}

fn plain_from(
    out: &mut Vec<u8>,
    b: &[u8],
    from: usize,
    stop: &[bool; 256],
    escape_of: fn(&[u8], usize) -> Escape,
) {
    let mut run = from;
    let mut i = from;
    while i < b.len() {
        if !stop[b[i] as usize] {
            i += 1;
            continue;
        }
        out.extend_from_slice(&b[run..i]);
        let e = escape_of(b, i);
        out.extend_from_slice(e.as_bytes());
        i += e.used as usize;
        run = i;
    }
    out.extend_from_slice(&b[run..]);
}

/// The plain CSV scan: `b`'s [`CSV_SPECIAL`] flags ORed, and [`NOT_ASCII`].
fn csv_scan_plain(b: &[u8]) -> u8 {
    let mut flags = 0;
    for &c in b {
        flags |= CSV_SPECIAL[c as usize] | ((c >> 7) << 2);
    }
    flags
}

/// The kernel chosen for this process, once.
static BEST: std::sync::OnceLock<Kernel> = std::sync::OnceLock::new();

/// Appends `s` as a JSON string literal (quotes included), with the fastest kernel.
#[inline]
pub fn push_json_str(out: &mut Vec<u8>, s: &str) {
    BEST.get_or_init(Kernel::best).push_str(out, s);
}

/// The char-by-char definition of a JSON string literal, the reference every kernel is tested
/// against.
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

/// The char-by-char definition of a CSV cell (README "Records"), the reference every kernel is
/// tested against.
pub fn csv_cell_plain(s: &str, safe: bool) -> String {
    let formula = safe && s.starts_with(['=', '+', '-', '@', '\t', '\r']);
    let quoted = s.contains([',', '"', '\r', '\n']) || s.starts_with(' ') || s.ends_with(' ');
    let mut out = String::new();
    if quoted {
        out.push('"');
    }
    if formula {
        out.push('\'');
    }
    for c in s.chars() {
        if quoted && c == '"' {
            out.push('"');
        }
        out.push(c);
    }
    if quoted {
        out.push('"');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(k: Kernel, s: &str) -> String {
        let mut out = b"prefix".to_vec();
        k.push_str(&mut out, s);
        assert_eq!(&out[..6], b"prefix");
        let mut checked = b"prefix".to_vec();
        assert!(k.push_checked(&mut checked, s.as_bytes()));
        assert_eq!(checked, out);
        String::from_utf8(out[6..].to_vec()).unwrap()
    }

    fn csv_with(k: Kernel, s: &str, safe: bool) -> String {
        let mut out = b"p".to_vec();
        k.push_csv(&mut out, s, safe);
        let mut checked = b"p".to_vec();
        assert!(k.push_csv_checked(&mut checked, s.as_bytes(), safe));
        assert_eq!(checked, out);
        String::from_utf8(out[1..].to_vec()).unwrap()
    }

    /// Every kernel gives the definitions' output for `s`.
    fn check(s: &str) {
        let want = escape_json_plain(s);
        for k in Kernel::available() {
            assert_eq!(with(k, s), want, "{} on {s:?}", k.name());
            for safe in [false, true] {
                assert_eq!(
                    csv_with(k, s, safe),
                    csv_cell_plain(s, safe),
                    "csv {} on {s:?}",
                    k.name()
                );
            }
        }
    }

    #[test]
    fn every_kernel_escapes_every_char_like_the_definition() {
        for s in [
            "",
            "plain",
            "quote \" backslash \\ slash /",
            "\n\r\t\u{8}\u{c}\u{0}\u{1f}\u{7f}",
            "line sep \u{2028} para sep \u{2029} other e2: \u{2026} \u{20ac}",
            "caf\u{e9} \u{65e5}\u{672c} \u{1f600}",
            "\u{2028}",
            "ends with \\",
            " padded ",
            "=1+2",
            "a,b \"c\"",
        ] {
            check(s);
            let back: String = serde_json::from_str(&with(Kernel::best(), s)).unwrap();
            assert_eq!(back, s);
        }
        let all: String = (0u32..0x3000).filter_map(char::from_u32).collect();
        check(&all);
        for c in (0u32..0x3000).filter_map(char::from_u32) {
            check(&format!("a{c}b"));
        }
    }

    #[test]
    fn every_kernel_matches_the_definition_at_every_offset_and_length() {
        // Each stop char at every position of strings up to 80 bytes long (past two AVX2
        // blocks), over clean backgrounds of ASCII and of multi-byte text.
        let stops = [
            "\"", "\\", "\n", "\r", ",", " ", "\u{1}", "\u{1f}", "\u{2028}", "\u{2029}", "\u{2026}",
        ];
        for background in ["a", "é"] {
            for len in 0..80 {
                let base: Vec<&str> = std::iter::repeat_n(background, len).collect();
                check(&base.concat());
                for pos in 0..len {
                    for stop in stops {
                        let mut s = base.clone();
                        s[pos] = stop;
                        check(&s.concat());
                    }
                }
            }
        }
    }

    #[test]
    fn every_kernel_matches_the_definition_on_random_mixes() {
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
            "\u{7f}",
            ",",
            "\r",
            "=",
        ];
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        for _ in 0..5000 {
            let mut s = String::new();
            for _ in 0..(next() % 80) {
                s.push_str(alphabet[(next() % alphabet.len() as u64) as usize]);
            }
            check(&s);
        }
    }

    #[test]
    fn invalid_utf8_is_refused_whole_at_every_position() {
        for k in Kernel::available() {
            for len in 1..70 {
                for pos in 0..len {
                    for bad in [&b"\xff"[..], b"\xc3", b"\xe2\x80", b"\xed\xa0\x80"] {
                        let mut b = vec![b'a'; len];
                        b.splice(pos..pos + 1, bad.iter().copied());
                        let mut out = b"x".to_vec();
                        assert!(!k.push_checked(&mut out, &b), "{} {pos} {len}", k.name());
                        assert_eq!(out, b"x", "nothing written");
                        assert!(!k.push_csv_checked(&mut out, &b, false));
                        assert_eq!(out, b"x");
                    }
                }
            }
        }
    }
}
