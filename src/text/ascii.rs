//! ASCII checked once, used as `&str` without a second check.
//!
//! Header fields are most of a record's strings. Running the UTF-8 validator again on bytes
//! just checked to be printable ASCII cost 8 % of a conversion's instructions (callgrind, on
//! 16 MB of gen-drain), so these functions check and convert in one step: the unchecked
//! conversion sits behind the check that makes it sound, and no caller can separate them.

/// `b` as `&str` when every byte is ASCII; otherwise the index of the first byte that is not.
pub fn ascii(b: &[u8]) -> Result<&str, usize> {
    match b.iter().position(|c| !c.is_ascii()) {
        Some(i) => Err(i),
        // SAFETY: every byte is ASCII (checked just above), and ASCII is valid UTF-8.
        None => Ok(unsafe { std::str::from_utf8_unchecked(b) }),
    }
}

/// `b` as `&str` when every byte is printable US-ASCII (0x21..=0x7e, as RFC 5424 header fields
/// are); otherwise the index of the first byte that is not.
pub fn printable(b: &[u8]) -> Result<&str, usize> {
    match b.iter().position(|c| !(0x21..=0x7e).contains(c)) {
        Some(i) => Err(i),
        // SAFETY: every byte is in 0x21..=0x7e (checked just above): ASCII, valid UTF-8.
        None => Ok(unsafe { std::str::from_utf8_unchecked(b) }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ascii_is_checked_before_it_is_converted() {
        assert_eq!(ascii(b"2026-03-01Z"), Ok("2026-03-01Z"));
        assert_eq!(ascii(b"ab\xc3\xa9"), Err(2));
        assert_eq!(printable(b"web.1"), Ok("web.1"));
        assert_eq!(printable(b"we b"), Err(2));
        assert_eq!(printable(b"\x7f"), Err(0));
        assert_eq!(printable(b""), Ok(""));
    }
}
