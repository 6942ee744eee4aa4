//! The SSE2 kernel of [`super::find_json_stop`]: sixteen bytes at a time.

use std::arch::x86_64::*;

/// The index of the first byte at or after `from` that stops the scan (see
/// [`super::JSON_STOP`]), or the index of the first of the fewer than 16 bytes this kernel
/// leaves for a narrower one to finish. SSE2 is part of the x86_64 baseline, so no runtime
/// detection is needed.
#[inline]
pub fn find_stop(b: &[u8], from: usize) -> usize {
    let mut i = from;
    // SAFETY: SSE2 is always available on x86_64, and every load reads the 16 bytes
    // b[i..i + 16], which the loop condition keeps in bounds (unaligned loads are allowed).
    unsafe {
        let quote = _mm_set1_epi8(b'"' as i8);
        let backslash = _mm_set1_epi8(b'\\' as i8);
        let e2 = _mm_set1_epi8(0xE2u8 as i8);
        let max_control = _mm_set1_epi8(0x1F);
        while i + 16 <= b.len() {
            let v = _mm_loadu_si128(b.as_ptr().add(i).cast::<__m128i>());
            // v <= 0x1F (unsigned) exactly when min(v, 0x1F) == v.
            let control = _mm_cmpeq_epi8(_mm_min_epu8(v, max_control), v);
            let hit = _mm_or_si128(
                _mm_or_si128(control, _mm_cmpeq_epi8(v, quote)),
                _mm_or_si128(_mm_cmpeq_epi8(v, backslash), _mm_cmpeq_epi8(v, e2)),
            );
            let mask = _mm_movemask_epi8(hit);
            if mask != 0 {
                return i + mask.trailing_zeros() as usize;
            }
            i += 16;
        }
    }
    i
}
