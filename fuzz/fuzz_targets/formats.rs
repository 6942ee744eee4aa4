//! Fuzzes the other input formats (issue 5) on arbitrary bytes: format detection, the syslog
//! and `heroku logs` line splitters, the HTTP request splitter with body decoding, and the
//! parsers behind them.
//!
//! Each splitter scans the input whole and in two pieces (split position from the first
//! byte). Checked: nothing panics; every byte is in exactly one unit or rejected region, or
//! is a blank-line separator between them; the split scan gives the same events as the whole
//! one; units that parse serialise to NDJSON that serde_json reads back.
#![no_main]

use drainpipe::encode::{Encoder, OutputFormat};
use drainpipe::record::{parse, parse_cli, Record};
use drainpipe::source::detect::detect;
use drainpipe::split::http::{HttpSplitter, RecentIds};
use drainpipe::split::lines::{clean_unit, LineSplitter};
use drainpipe::split::octet::Framer;
use drainpipe::split::{merge_skips, End, Event};
use libfuzzer_sys::fuzz_target;

#[path = "../../tests/common/accounting.rs"]
mod accounting;

#[derive(Clone, Copy, Debug)]
enum Kind {
    Syslog,
    Cli,
    Http,
}

fuzz_target!(|data: &[u8]| {
    let _ = detect(data, true);
    let _ = detect(data, false);
    let split = data
        .first()
        .map_or(0, |&b| data.len() * usize::from(b) / 255);
    for kind in [Kind::Syslog, Kind::Cli, Kind::Http] {
        for max in [1u64 << 20, 48] {
            let whole = scan(kind, max, data, data.len());
            let pieces = scan(kind, max, data, split);
            assert_eq!(pieces, whole, "{kind:?} max {max} split {split}");
            check_accounting(data, &whole);
            for e in &whole {
                match e {
                    Event::Line { start, end } => {
                        let unit = &data[*start..*end];
                        let parsed = match kind {
                            Kind::Cli => {
                                let (clean, _) = clean_unit(unit);
                                parse_cli(&clean).ok().map(|(r, _)| json_of(&r))
                            }
                            _ => parse(unit, None).ok().map(|(r, _)| json_of(&r)),
                        };
                        if let Some(json) = parsed {
                            let v: serde_json::Value = serde_json::from_slice(&json)
                                .unwrap_or_else(|e| {
                                    panic!("{e}: {:?}", String::from_utf8_lossy(&json))
                                });
                            assert!(v.is_object());
                        }
                    }
                    Event::Request(r) => {
                        assert!(r.start < r.end && r.end <= data.len());
                        {
                            let body = r.body(data);
                            let mut ev = Vec::new();
                            let n = Framer::new(1 << 20).scan(&body, true, &mut ev);
                            assert_eq!(n, body.len());
                            for off in 0..body.len().min(64) {
                                assert!(r.body_offset(off) < data.len());
                            }
                        }
                    }
                    _ => {}
                }
            }
        }
    }
});

fn json_of(r: &Record<'_>) -> Vec<u8> {
    let mut out = Vec::new();
    Encoder::new(OutputFormat::Ndjson).write(r, 1, &mut out);
    out
}

/// Two reads: `data[..split]`, then what was left plus the rest, at end of input.
fn scan(kind: Kind, max: u64, data: &[u8], split: usize) -> Vec<Event> {
    let mut lines = match kind {
        Kind::Syslog => Some(LineSplitter::syslog(max)),
        Kind::Cli => Some(LineSplitter::cli(max)),
        Kind::Http => None,
    };
    let mut http = HttpSplitter::new(max * 4, None, RecentIds::default());
    let mut go = |buf: &[u8], eof: bool, out: &mut Vec<Event>| match lines.as_mut() {
        Some(l) => l.scan(buf, if eof { End::Eof } else { End::More }, out),
        None => http.scan(buf, eof, out),
    };
    let mut events = Vec::new();
    let n = if split < data.len() {
        go(&data[..split], false, &mut events)
    } else {
        0
    };
    assert!(n <= split);
    let mut rest = Vec::new();
    let m = go(&data[n..], true, &mut rest);
    assert_eq!(m, data.len() - n, "a scan at end of input consumes everything");
    events.extend(rest.into_iter().map(|e| e.shifted(n)));
    merge_skips(events)
}

/// Units and rejected regions tile the input in order, with only blank lines between (the
/// shared oracle), and these splitters make no octet frames.
fn check_accounting(data: &[u8], events: &[Event]) {
    if let Err(m) = accounting::tiles(data, events) {
        panic!("{m}: {events:?}");
    }
    assert!(
        !events.iter().any(|e| matches!(e, Event::Frame { .. })),
        "no frames from these splitters"
    );
}
