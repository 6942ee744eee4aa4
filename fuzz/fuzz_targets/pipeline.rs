//! Fuzzes framer → parser → writers on arbitrary bytes.
//!
//! Each input is framed whole and in two pieces (the split position comes from its first
//! byte), the way the pipeline's reader hands back unconsumed bytes, under four framer
//! configurations (strict and lenient, default and small `--max-frame`). Checked:
//! - nothing panics;
//! - the events account for every byte exactly once (a frame, a rejected region, or a tolerated
//!   `\n` / `\r\n` separator between them), in order, and each Error is followed by its Skip;
//! - the split scan gives the same events as the whole one;
//! - every parsed record serialises to one NDJSON line that serde_json reads back with the
//!   record's values, and to a CSV row that the csv crate reads back with the same cells.
#![no_main]

use drainpipe::encode::{Encoder, OutputFormat};
use drainpipe::record::{parse, Record};
use drainpipe::split::octet::Framer;
use drainpipe::split::{merge_skips, Event};
use libfuzzer_sys::fuzz_target;

#[path = "../../tests/common/accounting.rs"]
mod accounting;

fuzz_target!(|data: &[u8]| {
    let split = data
        .first()
        .map_or(0, |&b| data.len() * usize::from(b) / 255);
    for (lenient, max_frame) in [(false, 1 << 20), (true, 1 << 20), (false, 64), (true, 64)] {
        let framer = Framer::new(max_frame).lenient(lenient);

        let whole = scan_whole(&mut framer.clone(), data);
        check_accounting(data, &whole, lenient);

        let pieces = scan_split(&mut framer.clone(), data, split);
        check_accounting(data, &pieces, lenient);
        assert_eq!(
            pieces, whole,
            "split at {split} differs (lenient {lenient}, max_frame {max_frame})"
        );

        for e in &whole {
            if let Event::Frame { body, end, len, .. } = *e {
                if let Ok((record, _warning)) = parse(&data[body..end], Some(len)) {
                    check_writers(&record);
                }
            }
        }
    }
});

fn scan_whole(framer: &mut Framer, data: &[u8]) -> Vec<Event> {
    let mut out = Vec::new();
    let n = framer.scan(data, true, &mut out);
    assert_eq!(n, data.len(), "a scan at end of input consumes everything");
    merge_skips(out)
}

/// Two reads: `data[..split]`, then what the framer left plus the rest, at end of input.
fn scan_split(framer: &mut Framer, data: &[u8], split: usize) -> Vec<Event> {
    let mut events = Vec::new();
    let n = framer.scan(&data[..split], false, &mut events);
    assert!(n <= split);
    let mut rest = Vec::new();
    let m = framer.scan(&data[n..], true, &mut rest);
    assert_eq!(
        m,
        data.len() - n,
        "a scan at end of input consumes everything"
    );
    events.extend(rest.into_iter().map(|e| rebase(e, n)));
    merge_skips(events)
}

fn rebase(e: Event, base: usize) -> Event {
    e.shifted(base)
}

/// Every byte is in exactly one frame or rejected region, or is a separator between them
/// (the shared oracle), and every frame's `LEN SP` is what it says.
fn check_accounting(data: &[u8], events: &[Event], lenient: bool) {
    if let Err(m) = accounting::tiles(data, events) {
        panic!("{m}: {events:?}");
    }
    for ev in events {
        match *ev {
            Event::Frame {
                start,
                body,
                end,
                len,
            } => {
                assert!(start < body, "{ev:?}");
                let head = &data[start..body - 1];
                assert!(
                    data[body - 1] == b' '
                        && head[0] != b'0'
                        && std::str::from_utf8(head).ok().and_then(|s| s.parse().ok()) == Some(len),
                    "bad LEN SP: {ev:?}"
                );
                if !lenient {
                    assert_eq!((end - body) as u64, len, "{ev:?}");
                }
            }
            Event::Error { .. } | Event::Skip { .. } => {}
            Event::Line { .. } | Event::Continuation { .. } | Event::Request(_) => {
                panic!("not from the octet framer: {ev:?}")
            }
        }
    }
}

/// The record's fields as the writers show them (null = `None`), in README order.
fn fields(r: &Record<'_>) -> [(&'static str, Option<String>); 9] {
    let s = |v: Option<&str>| v.map(str::to_string);
    [
        ("message_len", r.message_len.map(|n| n.to_string())),
        ("priority", r.priority.map(|n| n.to_string())),
        ("version", s(r.version)),
        ("timestamp", r.timestamp.map(|t| t.as_str().to_string())),
        ("host_name", s(r.host_name)),
        ("app_name", s(r.app_name)),
        ("process_id", s(r.process_id)),
        ("message_id", s(r.message_id)),
        ("message", r.message.as_deref().map(str::to_string)),
    ]
}

fn check_writers(r: &Record<'_>) {
    let want = fields(r);

    let mut json = Vec::new();
    Encoder::new(OutputFormat::Ndjson).write(r, 1, &mut json);
    assert_eq!(json.last(), Some(&b'\n'));
    assert_eq!(
        memchr_count(b'\n', &json),
        1,
        "NDJSON record spans lines: {:?}",
        String::from_utf8_lossy(&json)
    );
    let v: serde_json::Value = serde_json::from_slice(&json)
        .unwrap_or_else(|e| panic!("invalid NDJSON {:?}: {e}", String::from_utf8_lossy(&json)));
    let obj = v.as_object().expect("an object");
    assert_eq!(obj.len(), want.len());
    for (name, value) in &want {
        let got = &obj[*name];
        match value {
            None => assert!(got.is_null(), "{name}: {got:?}"),
            Some(s) => {
                let text = got
                    .as_str()
                    .map(str::to_string)
                    .or_else(|| got.as_u64().map(|n| n.to_string()));
                assert_eq!(text.as_ref(), Some(s), "{name}");
            }
        }
    }

    let mut csv = Vec::new();
    Encoder::new(OutputFormat::Csv).write(r, 1, &mut csv);
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(csv.as_slice());
    let rows: Vec<csv::StringRecord> = rdr
        .records()
        .collect::<Result<_, _>>()
        .unwrap_or_else(|e| panic!("CSV {:?}: {e}", String::from_utf8_lossy(&csv)));
    assert_eq!(rows.len(), 1, "{:?}", String::from_utf8_lossy(&csv));
    let cells: Vec<&str> = rows[0].iter().collect();
    let expected: Vec<&str> = want
        .iter()
        .map(|(_, v)| v.as_deref().unwrap_or(""))
        .collect();
    assert_eq!(cells, expected);
}

fn memchr_count(c: u8, b: &[u8]) -> usize {
    b.iter().filter(|&&x| x == c).count()
}
