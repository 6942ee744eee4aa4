//! RFC 3339 timestamps as Heroku writes them, checked and normalised to UTC.
//!
//! Hand-written rather than `chrono::DateTime::parse_from_rfc3339` for two reasons: speed (this
//! runs once per record; the fixed layout makes it a handful of byte compares) and exactness
//! (the output must keep the input's fraction digits, which chrono's formatting does not). The
//! tests check it against chrono on valid and invalid inputs.
//!
//! Accepted: `YYYY-MM-DDTHH:MM:SS[.F{1,9}](Z|+hh:mm|-hh:mm)`, upper-case `T` and `Z` as RFC 5424
//! requires, a real calendar date, hour 00–23, minute and second 00–59 (RFC 5424 forbids leap
//! seconds), offset hours 00–23.

/// A timestamp normalised to UTC as `YYYY-MM-DDTHH:MM:SS[.fraction]Z`.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Timestamp {
    /// The UTC form. Invariant: `text[..len]` is ASCII, in that layout.
    text: [u8; 30],
    /// How much of `text` is used.
    len: u8,
}

impl std::fmt::Debug for Timestamp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Timestamp {
    /// The UTC form, `YYYY-MM-DDTHH:MM:SS[.fraction]Z`.
    pub fn as_str(&self) -> &str {
        // Only ASCII digits and separators are ever written into `text`: this cannot fail.
        crate::text::ascii::ascii(&self.text[..self.len as usize]).unwrap_or("")
    }

    /// The UTC form as bytes (ASCII), for encoders that copy it whole.
    pub fn as_bytes(&self) -> &[u8] {
        &self.text[..self.len as usize]
    }

    /// Panther's `p_event_time` form: `YYYY-MM-DD HH:MM:SS.fffffffff` (nine fraction digits).
    pub fn panther(&self) -> [u8; 29] {
        let s = &self.text[..self.len as usize];
        let mut out = *b"0000-00-00 00:00:00.000000000";
        out[..19].copy_from_slice(&s[..19]);
        out[10] = b' ';
        if s[19] == b'.' {
            let frac = &s[20..s.len() - 1];
            out[20..20 + frac.len()].copy_from_slice(frac);
        }
        out
    }
}

/// Why a timestamp was refused: one of [`crate::diag::messages::timestamp`]'s reasons.
pub type Reason = &'static str;

use crate::diag::messages::timestamp as why;

fn digits<const N: usize>(s: &[u8], at: usize) -> Option<u32> {
    let mut n = 0u32;
    for &c in s.get(at..at + N)? {
        if !c.is_ascii_digit() {
            return None;
        }
        n = n * 10 + u32::from(c - b'0');
    }
    Some(n)
}

fn is_leap(y: u32) -> bool {
    y.is_multiple_of(4) && (!y.is_multiple_of(100) || y.is_multiple_of(400))
}

fn days_in_month(y: u32, m: u32) -> u32 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Inverse of [`days_from_civil`].
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

fn put2(out: &mut [u8], at: usize, n: i64) {
    out[at] = b'0' + (n / 10) as u8;
    out[at + 1] = b'0' + (n % 10) as u8;
}

/// Parses and normalises one timestamp.
pub fn parse(s: &[u8]) -> Result<Timestamp, Reason> {
    const LAYOUT: Reason = why::LAYOUT;
    if s.len() < 20 {
        return Err(LAYOUT);
    }
    let (Some(y), Some(mo), Some(d), Some(h), Some(mi), Some(sec)) = (
        digits::<4>(s, 0),
        digits::<2>(s, 5),
        digits::<2>(s, 8),
        digits::<2>(s, 11),
        digits::<2>(s, 14),
        digits::<2>(s, 17),
    ) else {
        return Err(LAYOUT);
    };
    if s[4] != b'-' || s[7] != b'-' || s[10] != b'T' || s[13] != b':' || s[16] != b':' {
        return Err(LAYOUT);
    }
    if !(1..=12).contains(&mo) {
        return Err(why::MONTH);
    }
    if d == 0 || d > days_in_month(y, mo) {
        return Err(why::DAY);
    }
    if h > 23 {
        return Err(why::HOUR);
    }
    if mi > 59 {
        return Err(why::MINUTE);
    }
    if sec > 59 {
        return Err(why::SECOND);
    }
    let mut i = 19;
    if s[i] == b'.' {
        i += 1;
        let frac = s[i..].iter().take_while(|c| c.is_ascii_digit()).count();
        if frac == 0 {
            return Err(why::FRACTION_EMPTY);
        }
        if frac > 9 {
            return Err(why::FRACTION_LONG);
        }
        i += frac;
    }
    let datetime_end = i;
    let offset_minutes: i64 = match &s[i..] {
        [b'Z'] => 0,
        [sign @ (b'+' | b'-'), rest @ ..] if rest.len() == 5 && rest[2] == b':' => {
            let (Some(oh), Some(om)) = (digits::<2>(rest, 0), digits::<2>(rest, 3)) else {
                return Err(LAYOUT);
            };
            if oh > 23 || om > 59 {
                return Err(why::OFFSET_RANGE);
            }
            let m = i64::from(oh * 60 + om);
            if *sign == b'-' {
                -m
            } else {
                m
            }
        }
        _ => return Err(why::ZONE),
    };

    let mut text = [0u8; 30];
    // `datetime_end` is 19 to 29: two overlapping copies of a constant 16 bytes, which the
    // compiler turns into four moves (a copy of a length it does not know calls `memcpy`).
    let head: [u8; 16] = s[..16].try_into().expect("19 bytes or more");
    let tail: [u8; 16] = s[datetime_end - 16..datetime_end]
        .try_into()
        .expect("16 bytes");
    text[..16].copy_from_slice(&head);
    text[datetime_end - 16..datetime_end].copy_from_slice(&tail);
    text[datetime_end] = b'Z';
    if offset_minutes != 0 {
        let local = (days_from_civil(i64::from(y), i64::from(mo), i64::from(d)) * 1440)
            + i64::from(h * 60 + mi);
        let utc = local - offset_minutes;
        let (uy, um, ud) = civil_from_days(utc.div_euclid(1440));
        if !(0..=9999).contains(&uy) {
            return Err(why::YEARS);
        }
        let mins = utc.rem_euclid(1440);
        put2(&mut text, 0, uy / 100);
        put2(&mut text, 2, uy % 100);
        put2(&mut text, 5, um);
        put2(&mut text, 8, ud);
        put2(&mut text, 11, mins / 60);
        put2(&mut text, 14, mins % 60);
    }
    Ok(Timestamp {
        text,
        len: (datetime_end + 1) as u8,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{DateTime, Timelike, Utc};

    fn norm(s: &str) -> Result<String, Reason> {
        parse(s.as_bytes()).map(|t| t.as_str().to_string())
    }

    /// The independent route: chrono parses, converts to UTC, and we rebuild the expected text
    /// with the input's number of fraction digits.
    fn chrono_norm(s: &str) -> Option<String> {
        let dt = DateTime::parse_from_rfc3339(s).ok()?.with_timezone(&Utc);
        let frac_digits = s
            .split_once('.')
            .map(|(_, r)| r.bytes().take_while(u8::is_ascii_digit).count())
            .unwrap_or(0);
        let base = dt.format("%Y-%m-%dT%H:%M:%S").to_string();
        if frac_digits == 0 {
            return Some(format!("{base}Z"));
        }
        let nanos = format!("{:09}", dt.nanosecond());
        Some(format!("{base}.{}Z", &nanos[..frac_digits]))
    }

    #[test]
    fn timestamps_in_heroku_layout_normalise_to_utc() {
        assert_eq!(
            norm("2026-03-01T00:00:00.000923+00:00").unwrap(),
            "2026-03-01T00:00:00.000923Z"
        );
        assert_eq!(
            norm("2026-03-01T00:00:00Z").unwrap(),
            "2026-03-01T00:00:00Z"
        );
        assert_eq!(
            norm("2026-03-01T00:00:00.123456789-00:00").unwrap(),
            "2026-03-01T00:00:00.123456789Z"
        );
    }

    #[test]
    fn offsets_convert_to_utc_across_day_month_and_year() {
        assert_eq!(
            norm("2026-01-01T01:30:00.5+02:00").unwrap(),
            "2025-12-31T23:30:00.5Z"
        );
        assert_eq!(
            norm("2024-02-28T23:00:00-01:30").unwrap(),
            "2024-02-29T00:30:00Z"
        );
        assert_eq!(
            norm("2023-02-28T23:00:00-01:30").unwrap(),
            "2023-03-01T00:30:00Z"
        );
    }

    #[test]
    fn impossible_calendar_instants_are_refused() {
        for bad in [
            "2026-13-01T00:00:00Z",
            "2026-00-01T00:00:00Z",
            "2025-02-29T00:00:00Z",
            "1900-02-29T00:00:00Z",
            "2026-04-31T00:00:00Z",
            "2026-01-01T24:00:00Z",
            "2026-01-01T23:60:00Z",
            "2026-01-01T23:59:60Z",
            "2026-01-01T00:00:00",
            "2026-01-01T00:00:00.Z",
            "2026-01-01T00:00:00.1234567890Z",
            "2026-01-01t00:00:00Z",
            "2026-01-01T00:00:00z",
            "2026-01-01 00:00:00Z",
            "2026-01-01T00:00:00+24:00",
            "2026-01-01T00:00:00+0100",
            "2026-1-01T00:00:00Z",
            "0000-01-01T00:00:00+01:00",
            "9999-12-31T23:00:00-01:00",
            "not a timestamp at all",
        ] {
            assert!(norm(bad).is_err(), "{bad} should be rejected");
        }
        assert_eq!(
            norm("2000-02-29T00:00:00Z").unwrap(),
            "2000-02-29T00:00:00Z"
        );
    }

    #[test]
    fn agrees_with_chrono_on_many_valid_timestamps() {
        let mut n = 0;
        for year in [1, 1969, 1970, 2000, 2024, 2026, 9998] {
            for month in 1..=12 {
                for day in [1, 15, 28, 29, 30, 31] {
                    for (time, off) in [
                        ("00:00:00", "Z"),
                        ("23:59:59.999", "+00:00"),
                        ("12:34:56.123456", "-07:00"),
                        ("00:05:00.1", "+13:45"),
                        ("23:30:00.987654321", "-11:59"),
                    ] {
                        let s = format!("{year:04}-{month:02}-{day:02}T{time}{off}");
                        let ours = norm(&s).ok();
                        assert_eq!(ours, chrono_norm(&s), "{s}");
                        n += usize::from(ours.is_some());
                    }
                }
            }
        }
        assert!(n > 1500, "only {n} valid cases exercised");
    }

    #[test]
    fn panther_form_pads_to_nanoseconds() {
        let t = parse(b"2026-03-01T05:06:07.25+01:00").unwrap();
        assert_eq!(&t.panther(), b"2026-03-01 04:06:07.250000000");
        let t = parse(b"2026-03-01T05:06:07Z").unwrap();
        assert_eq!(&t.panther(), b"2026-03-01 05:06:07.000000000");
    }
}
