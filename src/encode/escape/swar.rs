//! The portable kernel of [`super::find_json_stop`]: eight bytes at a time with word
//! arithmetic (SWAR).

/// The index of the first byte at or after `from` that stops the scan (see
/// [`super::JSON_STOP`]), or `b.len()`. A word is skipped when none of its bytes is below 0x20,
/// `"`, `\\` or 0xE2; the first word that may hold one is finished with the table.
#[inline]
pub fn find_stop(b: &[u8], from: usize) -> usize {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    /// High bit set in each byte of `x` that is zero (exact for the lowest such byte, which is
    /// all we need: we only ask "is there one" and then scan the word with the table).
    #[inline(always)]
    fn zero_bytes(x: u64) -> u64 {
        x.wrapping_sub(LO) & !x & HI
    }
    let mut i = from;
    while i + 8 <= b.len() {
        let w = u64::from_le_bytes(b[i..i + 8].try_into().expect("8 bytes"));
        // Bytes below 0x20: (w - 0x20 per byte) borrows into the high bit where w < 0x20,
        // provided the byte's own high bit is clear.
        let control = w.wrapping_sub(LO * 0x20) & !w & HI;
        let hit = control
            | zero_bytes(w ^ (LO * u64::from(b'"')))
            | zero_bytes(w ^ (LO * u64::from(b'\\')))
            | zero_bytes(w ^ (LO * 0xE2));
        if hit != 0 {
            break;
        }
        i += 8;
    }
    super::find_json_stop_plain(b, i)
}
