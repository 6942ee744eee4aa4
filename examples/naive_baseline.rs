//! The benchmark's baseline: the converter one would write first, single-threaded.
//!
//! Octet framing by reading LEN then LEN bytes, `str::splitn` for the header, chrono's
//! `DateTime::parse_from_rfc3339` for the timestamp, and a `serde_json::Value` per record.
//! It only exists so `bench/run.py` can report drainpipe's speed as a ratio measured in the
//! same run on the same machine; it is not a reference for correctness.

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{json, Value};
use std::io::{self, BufRead, BufReader, BufWriter, Read, Write};

fn main() -> io::Result<()> {
    let path = std::env::args().nth(1).expect("usage: naive_baseline FILE");
    let mut input = BufReader::with_capacity(1 << 16, std::fs::File::open(path)?);
    let mut out = BufWriter::new(io::stdout().lock());
    let mut len_buf = Vec::new();
    let mut msg = Vec::new();
    loop {
        len_buf.clear();
        if input.read_until(b' ', &mut len_buf)? == 0 {
            break;
        }
        let text = String::from_utf8_lossy(&len_buf);
        let text = text.trim_matches(|c: char| c.is_whitespace());
        let Ok(len) = text.parse::<usize>() else {
            // Resynchronise crudely: skip the rest of the line.
            let mut skip = Vec::new();
            input.read_until(b'\n', &mut skip)?;
            continue;
        };
        msg.resize(len, 0);
        if input.read_exact(&mut msg).is_err() {
            break;
        }
        let s = String::from_utf8_lossy(&msg);
        let s = s.strip_suffix('\n').unwrap_or(&s);
        let mut it = s.splitn(7, ' ');
        let (Some(pv), Some(ts), Some(host), Some(app), Some(proc_), Some(msgid)) = (
            it.next(),
            it.next(),
            it.next(),
            it.next(),
            it.next(),
            it.next(),
        ) else {
            continue;
        };
        let message = it.next().unwrap_or("");
        let Some((pri, version)) = pv.strip_prefix('<').and_then(|p| p.split_once('>')) else {
            continue;
        };
        let Ok(priority) = pri.parse::<u8>() else {
            continue;
        };
        let timestamp = match DateTime::parse_from_rfc3339(ts) {
            Ok(t) => Value::from(
                t.with_timezone(&Utc)
                    .to_rfc3339_opts(SecondsFormat::AutoSi, true),
            ),
            Err(_) => continue,
        };
        let nil = |v: &str| {
            if v == "-" {
                Value::Null
            } else {
                Value::from(v)
            }
        };
        let record = json!({
            "message_len": len,
            "priority": priority,
            "version": version,
            "timestamp": timestamp,
            "host_name": nil(host),
            "app_name": nil(app),
            "process_id": nil(proc_),
            "message_id": nil(msgid),
            "message": nil(message),
        });
        serde_json::to_writer(&mut out, &record)?;
        out.write_all(b"\n")?;
    }
    out.flush()
}
