//! NDJSON: one object per record, keys in field order (README "Records").

use super::escape::push_json_str;
use super::{panther, push_u64, value, Encoder, Value};
use crate::record::Record;

/// Appends `r` as one JSON line.
pub fn write(e: &Encoder, r: &Record<'_>, row: u64, out: &mut Vec<u8>) {
    out.push(b'{');
    let mut first = true;
    for &f in &e.fields {
        let v = value(r, f);
        if e.panther && matches!(v, Value::Null) {
            continue;
        }
        let k = f.json_key();
        out.extend_from_slice(if first { &k[1..] } else { k });
        first = false;
        match v {
            Value::Null => out.extend_from_slice(b"null"),
            Value::Int(n) => push_u64(out, n),
            Value::Str(s) => push_json_str(out, s),
        }
    }
    if e.panther {
        panther::write_json(e, r, row, first, out);
    }
    out.extend_from_slice(b"}\n");
}

#[cfg(test)]
mod tests {
    use crate::encode::{Encoder, OutputFormat};
    use crate::record::parse;

    #[test]
    fn ndjson_record_in_field_order_with_nulls() {
        let (r, _) = parse(
            b"<158>1 2026-03-01T00:00:00.5+01:00 host heroku router - say \"hi\"\n",
            Some(70),
        )
        .unwrap();
        let mut out = Vec::new();
        Encoder::new(OutputFormat::Ndjson).write(&r, 0, &mut out);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "{\"message_len\":70,\"priority\":158,\"version\":\"1\",\
             \"timestamp\":\"2026-02-28T23:00:00.5Z\",\"host_name\":\"host\",\
             \"app_name\":\"heroku\",\"process_id\":\"router\",\"message_id\":null,\
             \"message\":\"say \\\"hi\\\"\"}\n"
        );
    }
}
