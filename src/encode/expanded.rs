//! `--expand`'s objects written out: JSON members for NDJSON, 20 columns for CSV (README
//! "Beyond the schema").

use super::escape::Kernel;
use super::{push_u64, Encoder};
use crate::record::expand::{Expansion, FieldValue, Metric, RouterValue};

/// The router keys that have a CSV column of their own, in column order (before them: none;
/// after them `router_other`, `metrics`, `fields`).
pub const ROUTER_COLUMNS: [&str; 17] = [
    "at",
    "code",
    "desc",
    "method",
    "path",
    "host",
    "request_id",
    "fwd",
    "dyno",
    "connect_ms",
    "service_ms",
    "status",
    "bytes",
    "protocol",
    "tls",
    "tls_version",
    "sock",
];

/// The CSV header's extra names.
pub fn csv_header(names: &mut Vec<String>) {
    names.extend(ROUTER_COLUMNS.iter().map(|c| format!("router_{c}")));
    names.extend(["router_other", "metrics", "fields"].map(String::from));
}

/// Appends a double as JSON (shortest round-trip form; `ryu` writes `21.0`, not `21`).
fn push_f64(out: &mut Vec<u8>, v: f64) {
    let mut b = ryu::Buffer::new();
    out.extend_from_slice(b.format_finite(v).as_bytes());
}

fn push_router_value(k: Kernel, out: &mut Vec<u8>, v: &RouterValue<'_>) {
    match v {
        RouterValue::Null => out.extend_from_slice(b"null"),
        RouterValue::Int(n) => push_u64(out, *n),
        RouterValue::Str(s) => k.push_str(out, s),
    }
}

/// Writes `{...}` with the members `items` gives; `skip_nulls` leaves out null members.
fn push_object<T>(
    k: Kernel,
    out: &mut Vec<u8>,
    items: impl Iterator<Item = (T, bool)>,
    mut member: impl FnMut(&mut Vec<u8>, T),
    name: impl Fn(&T) -> &str,
    skip_nulls: bool,
) {
    out.push(b'{');
    let mut first = true;
    for (item, null) in items {
        if null && skip_nulls {
            continue;
        }
        if !first {
            out.push(b',');
        }
        first = false;
        k.push_str(out, name(&item));
        out.push(b':');
        member(out, item);
    }
    out.push(b'}');
}

fn push_router<'a>(
    k: Kernel,
    out: &mut Vec<u8>,
    members: impl Iterator<Item = &'a (&'a str, RouterValue<'a>)>,
    skip_nulls: bool,
) {
    push_object(
        k,
        out,
        members.map(|m| (m, m.1 == RouterValue::Null)),
        |out, m| push_router_value(k, out, &m.1),
        |m| m.0,
        skip_nulls,
    );
}

fn push_metrics(k: Kernel, out: &mut Vec<u8>, m: &[(&str, Metric<'_>)], skip_nulls: bool) {
    push_object(
        k,
        out,
        m.iter().map(|m| (m, false)),
        |out, (_, metric)| {
            out.extend_from_slice(b"{\"value\":");
            push_f64(out, metric.value);
            match metric.unit {
                Some(u) => {
                    out.extend_from_slice(b",\"unit\":");
                    k.push_str(out, u);
                }
                None if !skip_nulls => out.extend_from_slice(b",\"unit\":null"),
                None => {}
            }
            out.push(b'}');
        },
        |(key, _)| key,
        skip_nulls,
    );
}

fn push_fields(k: Kernel, out: &mut Vec<u8>, f: &[(&str, FieldValue<'_>)], skip_nulls: bool) {
    push_object(
        k,
        out,
        f.iter().map(|f| (f, false)),
        |out, (_, v)| match v {
            FieldValue::Str(s) => k.push_str(out, s),
            FieldValue::True => out.extend_from_slice(b"true"),
        },
        |(key, _)| key,
        skip_nulls,
    );
}

/// Appends the objects as members of a JSON object (`first`: nothing written in it yet);
/// whether anything was written. With `--panther`, null members are left out.
pub fn write_json(e: &Encoder, x: &Expansion<'_>, first: bool, out: &mut Vec<u8>) -> bool {
    let k = e.kernel;
    let mut first = first;
    let mut key = |out: &mut Vec<u8>, name: &[u8]| {
        if !first {
            out.push(b',');
        }
        first = false;
        out.extend_from_slice(name);
    };
    if let Some(r) = &x.router {
        key(out, b"\"router\":");
        push_router(k, out, r.iter(), e.panther);
    }
    if !x.metrics.is_empty() {
        key(out, b"\"metrics\":");
        push_metrics(k, out, &x.metrics, e.panther);
    }
    if !x.fields.is_empty() {
        key(out, b"\"fields\":");
        push_fields(k, out, &x.fields, e.panther);
    }
    !first
}

/// Appends the 20 CSV cells (each preceded by a comma). JSON-text cells are written as NDJSON
/// writes the objects (with `--panther`, without null members).
pub fn write_csv(e: &Encoder, x: &Expansion<'_>, out: &mut Vec<u8>) {
    let k = e.kernel;
    let mut json = Vec::new();
    let cell = |out: &mut Vec<u8>, json: &[u8]| {
        out.push(b',');
        if !json.is_empty() {
            // JSON text is UTF-8 we wrote.
            k.push_csv(out, std::str::from_utf8(json).unwrap_or(""), e.csv_safe);
        }
    };
    let router = x.router.as_deref().unwrap_or(&[]);
    for col in ROUTER_COLUMNS {
        out.push(b',');
        match router.iter().find(|(name, _)| *name == col) {
            Some((_, RouterValue::Int(n))) => push_u64(out, *n),
            Some((_, RouterValue::Str(s))) => k.push_csv(out, s, e.csv_safe),
            Some((_, RouterValue::Null)) | None => {}
        }
    }
    let mut other = router
        .iter()
        .filter(|(name, _)| !ROUTER_COLUMNS.contains(name))
        .peekable();
    if other.peek().is_some() {
        push_router(k, &mut json, other, e.panther);
    }
    cell(out, &json);
    json.clear();
    if !x.metrics.is_empty() {
        push_metrics(k, &mut json, &x.metrics, e.panther);
    }
    cell(out, &json);
    json.clear();
    if !x.fields.is_empty() {
        push_fields(k, &mut json, &x.fields, e.panther);
    }
    cell(out, &json);
}
