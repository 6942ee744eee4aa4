//! Fuzzes the string kernels (JSON escaping, CSV quoting) on arbitrary bytes: every kernel this
//! CPU runs must give the char-by-char definitions' output on valid UTF-8, and refuse invalid
//! UTF-8 whole (writing nothing) in the checked entry points.
#![no_main]

use drainpipe::encode::escape::{csv_cell_plain, escape_json_plain, Kernel};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = std::str::from_utf8(data).ok();
    for k in Kernel::available() {
        let mut out = b"x".to_vec();
        let ok = k.push_checked(&mut out, data);
        assert_eq!(ok, text.is_some(), "{}", k.name());
        let mut csv = b"x".to_vec();
        let csv_ok = k.push_csv_checked(&mut csv, data, data.first() == Some(&b'='));
        assert_eq!(csv_ok, text.is_some(), "{}", k.name());
        match text {
            None => {
                assert_eq!(out, b"x");
                assert_eq!(csv, b"x");
            }
            Some(s) => {
                assert_eq!(&out[1..], escape_json_plain(s).as_bytes(), "{}", k.name());
                let safe = data.first() == Some(&b'=');
                assert_eq!(&csv[1..], csv_cell_plain(s, safe).as_bytes(), "{}", k.name());
                let mut plain = Vec::new();
                k.push_str(&mut plain, s);
                assert_eq!(plain, out[1..], "{}", k.name());
            }
        }
    }
});
