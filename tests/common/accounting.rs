//! The accounting oracle: whatever the splitter, its events tile the input.
//!
//! Shared by the property tests and the fuzz targets (`#[path]`-included there), so the rule
//! "nothing is lost" is written once, from README's words rather than from the splitters:
//! every byte is in exactly one unit or one rejected region (an Error followed by the Skip that
//! carries its bytes), or is a `\n` / `\r\n` separator between them; events come in input
//! order without overlap; an Error's offending byte lies in the input.

use drainpipe::split::Event;

/// Only `\n` and `\r\n`.
pub fn separators_only(b: &[u8]) -> bool {
    let mut i = 0;
    while i < b.len() {
        match (b[i], b.get(i + 1)) {
            (b'\n', _) => i += 1,
            (b'\r', Some(b'\n')) => i += 2,
            _ => return false,
        }
    }
    true
}

/// The bytes a unit event covers.
pub fn unit_span(ev: &Event) -> Option<(usize, usize)> {
    match ev {
        Event::Frame { start, end, .. }
        | Event::Line { start, end }
        | Event::Continuation { start, end, .. } => Some((*start, *end)),
        Event::Request(r) => Some((r.start, r.end)),
        Event::Error { .. } | Event::Skip { .. } => None,
    }
}

/// Checks that `events` (Skips merged) tile `data`; the message says where they do not.
pub fn tiles(data: &[u8], events: &[Event]) -> Result<(), String> {
    let mut pos = 0;
    let mut open_error = None;
    for (k, ev) in events.iter().enumerate() {
        let ctx = || format!("event {k} {ev:?}");
        let (start, end) = match ev {
            Event::Skip { start, end } => {
                if open_error.take() != Some(*start) {
                    return Err(format!("Skip without its Error: {}", ctx()));
                }
                if !(*start == pos && start < end && *end <= data.len()) {
                    return Err(format!("Skip out of place: {}", ctx()));
                }
                pos = *end;
                continue;
            }
            _ if open_error.is_some() => {
                return Err(format!("Error not followed by its Skip: {}", ctx()))
            }
            Event::Error { start, problem } => {
                if !(*start <= problem.at && problem.at < data.len().max(1)) {
                    return Err(format!("offending byte outside the input: {}", ctx()));
                }
                open_error = Some(*start);
                (*start, *start)
            }
            unit => unit_span(unit).expect("a unit"),
        };
        if start < pos {
            return Err(format!("overlap: {}", ctx()));
        }
        if !separators_only(&data[pos..start]) {
            return Err(format!("bytes {pos}..{start} not accounted for: {}", ctx()));
        }
        if !(start <= end && end <= data.len()) {
            return Err(format!("span out of the input: {}", ctx()));
        }
        pos = end;
    }
    if open_error.is_some() {
        return Err("trailing Error without its Skip".into());
    }
    if !separators_only(&data[pos..]) {
        return Err(format!("trailing bytes {pos}.. not accounted for"));
    }
    Ok(())
}
