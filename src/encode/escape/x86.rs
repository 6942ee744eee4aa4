//! The x86_64 kernels: AVX2 (32 bytes a block) and SSE2 (16 bytes).
//!
//! Contract of each: do exactly what its plain counterpart in the parent module does (append
//! the same bytes, report the same facts), a block at a time. Every read stays inside the input
//! slice; every write inside capacity reserved first.

use super::{json_escape_of, Escape, JSON_STOP};
use std::arch::x86_64::*;

/// The copy loop, written once for both widths and both formats: copy a block unconditionally
/// into the reserved room, find the first byte that stops a clean run, write what it becomes,
/// go on after it. Evaluates to whether every byte was ASCII.
///
/// The last, partial block: in a string of at least a block, one more load ending at the
/// string's end tells whether the bytes left hold a stop (they rarely do), and if not they are
/// copied with a few overlapping word stores; a short string is checked byte by byte. No load
/// reads a byte outside `b`, and none reads memory just stored (which would stall on store
/// forwarding). Stops in the last partial block go through `$plain`, the plain kernel.
///
/// Room: `out` gets `6 * len + W` bytes reserved first. Output never runs ahead of 6 bytes per
/// input byte (a stop becomes at most 6 bytes), so with `i` input bytes done and `o` written,
/// `o <= 6 * i`: a block store at `o` ends by `6 * len + W`, a stop's text (stored as 8 bytes)
/// by `6 * len + 2`, both inside the reservation.
macro_rules! copy_with_stops {
    ($out:expr, $b:expr, $width:expr, $load:ident, $store:ident, $stops:ident,
     $escape:expr, $table:expr, $plain:expr) => {{
        let out: &mut Vec<u8> = $out;
        let b: &[u8] = $b;
        out.reserve(b.len() * 6 + $width);
        let base = out.len();
        let mut high = 0u32;
        // SAFETY (whole block): every write lands in `out`'s spare capacity (see the room
        // argument above); every read is of `b[i..i + W]` with `i + W <= b.len()`, or of
        // `b[len - W..len]` when `len >= W`, or of `b[i..len]`; `set_len` covers only bytes
        // written.
        unsafe {
            let dst = out.as_mut_ptr().add(base);
            let src = b.as_ptr();
            let (mut i, mut o) = (0usize, 0usize);
            while i + $width <= b.len() {
                let v = $load(src.add(i));
                $store(dst.add(o), v);
                let (m, h) = $stops(v);
                high |= h;
                if m == 0 {
                    i += $width;
                    o += $width;
                    continue;
                }
                let k = m.trailing_zeros() as usize;
                i += k;
                o += k;
                let e: Escape = $escape(b, i);
                let (text, len, used) = e.padded();
                std::ptr::write_unaligned(dst.add(o).cast::<[u8; 8]>(), text);
                i += used;
                o += len;
            }
            let rest = b.len() - i;
            let clean = if rest == 0 {
                true
            } else if b.len() >= $width {
                let (m, h) = $stops($load(src.add(b.len() - $width)));
                high |= h >> ($width - rest);
                (m >> ($width - rest)) == 0
            } else {
                let tail = &b[i..];
                high |= u32::from(!tail.is_ascii());
                !tail.iter().any(|&c| $table[c as usize])
            };
            if clean {
                small_copy(src.add(i), dst.add(o), rest);
                out.set_len(base + o + rest);
            } else {
                out.set_len(base + o);
                $plain(out, b, i);
            }
        }
        high == 0
    }};
}

/// Copies `n < 32` bytes from `src` to `dst` with a few overlapping loads and stores (what a
/// `memcpy` of a small size does, without the call).
///
/// # Safety
/// `src[..n]` readable, `dst[..n]` writable, `n < 32`, the two apart.
#[inline(always)]
pub unsafe fn small_copy(src: *const u8, dst: *mut u8, n: usize) {
    if n >= 16 {
        let a = _mm_loadu_si128(src.cast());
        let z = _mm_loadu_si128(src.add(n - 16).cast());
        _mm_storeu_si128(dst.cast(), a);
        _mm_storeu_si128(dst.add(n - 16).cast(), z);
    } else if n >= 8 {
        let a = std::ptr::read_unaligned(src.cast::<u64>());
        let z = std::ptr::read_unaligned(src.add(n - 8).cast::<u64>());
        std::ptr::write_unaligned(dst.cast::<u64>(), a);
        std::ptr::write_unaligned(dst.add(n - 8).cast::<u64>(), z);
    } else if n >= 4 {
        let a = std::ptr::read_unaligned(src.cast::<u32>());
        let z = std::ptr::read_unaligned(src.add(n - 4).cast::<u32>());
        std::ptr::write_unaligned(dst.cast::<u32>(), a);
        std::ptr::write_unaligned(dst.add(n - 4).cast::<u32>(), z);
    } else if n >= 2 {
        let a = std::ptr::read_unaligned(src.cast::<u16>());
        let z = std::ptr::read_unaligned(src.add(n - 2).cast::<u16>());
        std::ptr::write_unaligned(dst.cast::<u16>(), a);
        std::ptr::write_unaligned(dst.add(n - 2).cast::<u16>(), z);
    } else if n == 1 {
        *dst = *src;
    }
}

/// JSON-escapes `b` onto `out` 32 bytes at a time; whether every byte was ASCII.
///
/// # Safety
/// The CPU must have AVX2.
#[target_feature(enable = "avx2")]
pub unsafe fn json_avx2(out: &mut Vec<u8>, b: &[u8]) -> bool {
    copy_with_stops!(
        out,
        b,
        32,
        load32,
        store32,
        json_stops32,
        json_escape_of,
        JSON_STOP,
        super::json_plain_from
    )
}

/// JSON-escapes `b` onto `out` 16 bytes at a time; whether every byte was ASCII.
pub fn json_sse2(out: &mut Vec<u8>, b: &[u8]) -> bool {
    copy_with_stops!(
        out,
        b,
        16,
        load16,
        store16,
        json_stops16,
        json_escape_of,
        JSON_STOP,
        super::json_plain_from
    )
}

/// Copies `b` onto `out` with every `"` doubled (a quoted CSV cell's inside), 32 bytes at a
/// time.
///
/// # Safety
/// The CPU must have AVX2.
#[target_feature(enable = "avx2")]
pub unsafe fn csv_avx2(out: &mut Vec<u8>, b: &[u8]) {
    let _ascii = copy_with_stops!(
        out,
        b,
        32,
        load32,
        store32,
        quote_stops32,
        super::csv_escape_of,
        super::QUOTE_STOP,
        super::csv_plain_from
    );
}

/// [`csv_avx2`], 16 bytes at a time.
pub fn csv_sse2(out: &mut Vec<u8>, b: &[u8]) {
    let _ascii = copy_with_stops!(
        out,
        b,
        16,
        load16,
        store16,
        quote_stops16,
        super::csv_escape_of,
        super::QUOTE_STOP,
        super::csv_plain_from
    );
}

/// A CSV cell's scan (see `csv_scan_plain`): its quoting flags and whether a byte is not
/// ASCII. 32 bytes at a time; the tail through one more load ending at `b`'s end.
///
/// # Safety
/// The CPU must have AVX2, and `b` must hold at least 32 bytes.
#[target_feature(enable = "avx2")]
pub unsafe fn csv_scan_avx2(b: &[u8]) -> u8 {
    let (mut special, mut quote, mut high) = (0u32, 0u32, 0u32);
    let mut scan = |v: __m256i, keep: u32| {
        let (s, q, h) = csv_specials32(v);
        special |= s & keep;
        quote |= q & keep;
        high |= h & keep;
    };
    let mut i = 0;
    while i + 32 <= b.len() {
        // SAFETY: `b[i..i + 32]` is in bounds (loop condition).
        scan(load32(b.as_ptr().add(i)), u32::MAX);
        i += 32;
    }
    let rest = b.len() - i;
    if rest > 0 {
        // SAFETY: `b.len() >= 32`, so `b[len - 32..len]` is in bounds; only its last `rest`
        // bytes are new.
        scan(load32(b.as_ptr().add(b.len() - 32)), !0u32 << (32 - rest));
    }
    u8::from(special != 0) | (u8::from(quote != 0) * 3) | (u8::from(high != 0) * super::NOT_ASCII)
}

#[inline(always)]
unsafe fn load16(p: *const u8) -> __m128i {
    _mm_loadu_si128(p.cast())
}

#[inline(always)]
unsafe fn store16(p: *mut u8, v: __m128i) {
    _mm_storeu_si128(p.cast(), v)
}

#[inline(always)]
unsafe fn load32(p: *const u8) -> __m256i {
    _mm256_loadu_si256(p.cast())
}

#[inline(always)]
unsafe fn store32(p: *mut u8, v: __m256i) {
    _mm256_storeu_si256(p.cast(), v)
}

/// Bit `k` of the first value set where byte `k` of `v` stops a JSON run; the second value has
/// bit `k` set where byte `k` is not ASCII.
#[inline(always)]
unsafe fn json_stops16(v: __m128i) -> (u32, u32) {
    // v <= 0x1F (unsigned) exactly when min(v, 0x1F) == v.
    let control = _mm_cmpeq_epi8(_mm_min_epu8(v, _mm_set1_epi8(0x1F)), v);
    let hit = _mm_or_si128(
        _mm_or_si128(control, _mm_cmpeq_epi8(v, _mm_set1_epi8(b'"' as i8))),
        _mm_or_si128(
            _mm_cmpeq_epi8(v, _mm_set1_epi8(b'\\' as i8)),
            _mm_cmpeq_epi8(v, _mm_set1_epi8(0xE2u8 as i8)),
        ),
    );
    (
        _mm_movemask_epi8(hit) as u32,
        _mm_movemask_epi8(v) as u32 & 0xFFFF,
    )
}

/// [`json_stops16`] for 32 bytes.
#[inline(always)]
unsafe fn json_stops32(v: __m256i) -> (u32, u32) {
    let control = _mm256_cmpeq_epi8(_mm256_min_epu8(v, _mm256_set1_epi8(0x1F)), v);
    let hit = _mm256_or_si256(
        _mm256_or_si256(control, _mm256_cmpeq_epi8(v, _mm256_set1_epi8(b'"' as i8))),
        _mm256_or_si256(
            _mm256_cmpeq_epi8(v, _mm256_set1_epi8(b'\\' as i8)),
            _mm256_cmpeq_epi8(v, _mm256_set1_epi8(0xE2u8 as i8)),
        ),
    );
    (
        _mm256_movemask_epi8(hit) as u32,
        _mm256_movemask_epi8(v) as u32,
    )
}

/// Bits where byte `k` of `v` is `"`; no ASCII report (the scan made it).
#[inline(always)]
unsafe fn quote_stops16(v: __m128i) -> (u32, u32) {
    (
        _mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8(b'"' as i8))) as u32,
        0,
    )
}

/// [`quote_stops16`] for 32 bytes.
#[inline(always)]
unsafe fn quote_stops32(v: __m256i) -> (u32, u32) {
    (
        _mm256_movemask_epi8(_mm256_cmpeq_epi8(v, _mm256_set1_epi8(b'"' as i8))) as u32,
        0,
    )
}

/// Bits where byte `k` of `v` is `,` CR or LF; where it is `"`; where it is not ASCII.
#[inline(always)]
unsafe fn csv_specials32(v: __m256i) -> (u32, u32, u32) {
    let hit = _mm256_or_si256(
        _mm256_cmpeq_epi8(v, _mm256_set1_epi8(b',' as i8)),
        _mm256_or_si256(
            _mm256_cmpeq_epi8(v, _mm256_set1_epi8(b'\r' as i8)),
            _mm256_cmpeq_epi8(v, _mm256_set1_epi8(b'\n' as i8)),
        ),
    );
    (
        _mm256_movemask_epi8(hit) as u32,
        _mm256_movemask_epi8(_mm256_cmpeq_epi8(v, _mm256_set1_epi8(b'"' as i8))) as u32,
        _mm256_movemask_epi8(v) as u32,
    )
}
