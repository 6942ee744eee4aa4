//! `--expand`: the typed objects inside a message: `router` for Heroku's router lines,
//! `metrics` and `fields` for any other logfmt message (README "Beyond the schema"; the rule
//! book is `docs/beyond-the-schema.md`).
//!
//! The grammar is read byte by byte over the decoded message: every byte that ends a key or a
//! value is ASCII, so a multi-byte character is never split.

use std::borrow::Cow;

/// One logfmt token.
#[derive(Clone, Debug, PartialEq)]
pub struct Token<'m> {
    /// The key: at least one byte, none a space, `=`, `"` or a control byte.
    pub key: &'m str,
    /// `None` for a bare key; the value otherwise (empty for `key=`), quotes removed and `\"`,
    /// `\\` undone.
    pub value: Option<Cow<'m, str>>,
}

/// An ASCII control byte (C0 or DEL): allowed in neither keys nor values.
#[inline]
fn is_ctl(b: u8) -> bool {
    b < 0x20 || b == 0x7f
}

/// Bytes that end a key (space, `=`, `"`, control bytes) and an unquoted value (the same but
/// `=`), as a table built once: the scanning loops are a measured 16 % of `--expand`'s time,
/// and one lookup beats four comparisons a byte.
const KEY_END: u8 = 1;
const VALUE_END: u8 = 2;
static CLASS: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        if c == b' ' || c == b'"' || c < 0x20 || c == 0x7f {
            t[b] = KEY_END | VALUE_END;
        } else if c == b'=' {
            t[b] = KEY_END;
        }
        b += 1;
    }
    t
};

/// The first index at or after `i` whose byte has class `class`, or `b.len()`.
#[inline]
fn scan(b: &[u8], mut i: usize, class: u8) -> usize {
    while i < b.len() && CLASS[b[i] as usize] & class == 0 {
        i += 1;
    }
    i
}

/// The tokens of `msg` when it is logfmt: nothing but tokens separated by spaces, at least one
/// of them `KEY=VALUE`. `None` otherwise.
pub fn logfmt(msg: &str) -> Option<Vec<Token<'_>>> {
    let b = msg.as_bytes();
    let n = b.len();
    let mut toks = Vec::new();
    let mut any_value = false;
    let mut i = 0;
    loop {
        while i < n && b[i] == b' ' {
            i += 1;
        }
        if i == n {
            break;
        }
        let k = i;
        i = scan(b, i, KEY_END);
        if i == k {
            // A token starting with `=`, `"` or a control byte.
            return None;
        }
        let key = &msg[k..i];
        if i == n || b[i] == b' ' {
            toks.push(Token { key, value: None });
            continue;
        }
        if b[i] != b'=' {
            // A quote or a control byte inside the key.
            return None;
        }
        i += 1;
        any_value = true;
        if i == n || b[i] == b' ' {
            toks.push(Token {
                key,
                value: Some(Cow::Borrowed("")),
            });
            continue;
        }
        if b[i] == b'"' {
            i += 1;
            let start = i;
            let mut owned: Option<String> = None;
            loop {
                if i == n {
                    // Unterminated.
                    return None;
                }
                match b[i] {
                    b'\\' if i + 1 < n && matches!(b[i + 1], b'"' | b'\\') => {
                        let s = owned.get_or_insert_with(|| msg[start..i].to_string());
                        s.push(b[i + 1] as char);
                        i += 2;
                        continue;
                    }
                    b'"' => break,
                    c if is_ctl(c) => return None,
                    _ => {}
                }
                // Copy one character (all of its bytes) when the value is being rebuilt.
                let len = utf8_len(b[i]);
                if let Some(s) = owned.as_mut() {
                    s.push_str(&msg[i..i + len]);
                }
                i += len;
            }
            let value = match owned {
                Some(s) => Cow::Owned(s),
                None => Cow::Borrowed(&msg[start..i]),
            };
            i += 1;
            if i < n && b[i] != b' ' {
                // The closing quote is not followed by a space.
                return None;
            }
            toks.push(Token {
                key,
                value: Some(value),
            });
            continue;
        }
        let v = i;
        i = scan(b, i, VALUE_END);
        if i < n && b[i] != b' ' {
            // A quote or a control byte in the value.
            return None;
        }
        toks.push(Token {
            key,
            value: Some(Cow::Borrowed(&msg[v..i])),
        });
    }
    any_value.then_some(toks)
}

/// The length of the UTF-8 sequence that starts with `lead` (1 for a continuation byte,
/// which valid text never starts with).
#[inline]
fn utf8_len(lead: u8) -> usize {
    match lead {
        0xf0..=0xff => 4,
        0xe0..=0xef => 3,
        0xc0..=0xdf => 2,
        _ => 1,
    }
}

/// A member of the `router` object.
#[derive(Clone, Debug, PartialEq)]
pub enum RouterValue<'m> {
    /// An empty value, or an integer key whose value is not one.
    Null,
    /// `connect_ms`, `service_ms`, `status`, `bytes`.
    Int(u64),
    /// Any other key.
    Str(Cow<'m, str>),
}

/// A member of the `metrics` object.
#[derive(Clone, Debug, PartialEq)]
pub struct Metric<'m> {
    /// The number, as a double.
    pub value: f64,
    /// The letters glued to the number, if any.
    pub unit: Option<&'m str>,
}

/// A member of the `fields` object.
#[derive(Clone, Debug, PartialEq)]
pub enum FieldValue<'m> {
    /// `key=value`.
    Str(Cow<'m, str>),
    /// A bare key.
    True,
}

/// What `--expand` adds to one record.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Expansion<'m> {
    /// For `heroku`/`router` records: the members in message order.
    pub router: Option<Vec<(&'m str, RouterValue<'m>)>>,
    /// Metric members, in message order (empty: no `metrics` object).
    pub metrics: Vec<(&'m str, Metric<'m>)>,
    /// Field members, in message order (empty: no `fields` object).
    pub fields: Vec<(&'m str, FieldValue<'m>)>,
}

impl Expansion<'_> {
    /// Whether it adds nothing.
    pub fn is_empty(&self) -> bool {
        self.router.is_none() && self.metrics.is_empty() && self.fields.is_empty()
    }
}

/// The objects `--expand` adds to a record from `app_name`, `process_id` and `message`.
pub fn expand<'m>(app: Option<&str>, process: Option<&str>, message: &'m str) -> Expansion<'m> {
    let Some(tokens) = logfmt(message) else {
        return Expansion::default();
    };
    // Keys seen so far: the first occurrence wins. Messages hold a handful of keys, so a
    // linear scan beats hashing.
    let mut seen: Vec<&str> = Vec::with_capacity(tokens.len());
    let mut first = |key: &'m str| {
        if seen.contains(&key) {
            false
        } else {
            seen.push(key);
            true
        }
    };
    if app == Some("heroku") && process == Some("router") {
        let mut router = Vec::with_capacity(tokens.len());
        for Token { key, value } in tokens {
            // Bare keys are not router members.
            let Some(value) = value else { continue };
            if !first(key) {
                continue;
            }
            let member = match key {
                "connect" => ("connect_ms", int(&value, true)),
                "service" => ("service_ms", int(&value, true)),
                // Spelled as the members `connect` and `service` become, they are typed as
                // those are (the schema declares them integers): digits, no unit.
                "status" | "bytes" | "connect_ms" | "service_ms" => (key, int(&value, false)),
                _ if value.is_empty() => (key, RouterValue::Null),
                _ => (key, RouterValue::Str(value)),
            };
            // `connect=1ms connect_ms=2` would name two members alike: the first stands.
            if router.iter().any(|(name, _)| *name == member.0) {
                continue;
            }
            router.push(member);
        }
        return Expansion {
            router: Some(router),
            ..Expansion::default()
        };
    }
    let mut out = Expansion::default();
    for Token { key, value } in tokens {
        if !first(key) {
            continue;
        }
        let metric = is_metric_key(key);
        match value {
            // A value with escapes undone (owned) holds `"` or `\`: never a number.
            Some(Cow::Borrowed(v)) if metric => match number(v) {
                Some((value, unit)) => out.metrics.push((key, Metric { value, unit })),
                None => out.fields.push((key, FieldValue::Str(Cow::Borrowed(v)))),
            },
            Some(v) => out.fields.push((key, FieldValue::Str(v))),
            None if metric && key.starts_with("count#") => out.metrics.push((
                key,
                Metric {
                    value: 1.0,
                    unit: None,
                },
            )),
            None => out.fields.push((key, FieldValue::True)),
        }
    }
    out
}

/// `sample#`, `measure#` or `count#` and at least one byte after the `#`.
fn is_metric_key(key: &str) -> bool {
    ["sample#", "measure#", "count#"]
        .iter()
        .any(|p| key.len() > p.len() && key.starts_with(p))
}

/// `-?[0-9]+(\.[0-9]+)?[A-Za-z]*` as (the number, the letters if any). A number too large for
/// a double (it would be infinite, which JSON cannot write) is not one.
fn number(v: &str) -> Option<(f64, Option<&str>)> {
    let b = v.as_bytes();
    let mut i = usize::from(b.first() == Some(&b'-'));
    let int_start = i;
    while i < b.len() && b[i].is_ascii_digit() {
        i += 1;
    }
    if i == int_start {
        return None;
    }
    if i < b.len() && b[i] == b'.' {
        let frac = i + 1;
        let mut j = frac;
        while j < b.len() && b[j].is_ascii_digit() {
            j += 1;
        }
        if j == frac {
            return None;
        }
        i = j;
    }
    let num_end = i;
    while i < b.len() && b[i].is_ascii_alphabetic() {
        i += 1;
    }
    if i != b.len() {
        return None;
    }
    let value: f64 = v[..num_end].parse().ok()?;
    if !value.is_finite() {
        return None;
    }
    let unit = (num_end < b.len()).then(|| &v[num_end..]);
    Some((value, unit))
}

/// A router integer: 1-18 ASCII digits (followed by `ms` for the timings); anything else, the
/// empty value included, is null.
fn int(v: &str, ms: bool) -> RouterValue<'static> {
    let digits = if ms {
        match v.strip_suffix("ms") {
            Some(d) => d,
            None => return RouterValue::Null,
        }
    } else {
        v
    };
    if (1..=18).contains(&digits.len()) && digits.bytes().all(|c| c.is_ascii_digit()) {
        // 18 digits always fit a u64.
        RouterValue::Int(digits.parse().unwrap_or(0))
    } else {
        RouterValue::Null
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(msg: &str) -> Option<Vec<(String, Option<String>)>> {
        logfmt(msg).map(|t| {
            t.into_iter()
                .map(|t| (t.key.to_string(), t.value.map(|v| v.into_owned())))
                .collect()
        })
    }

    #[test]
    fn logfmt_tokens_and_what_is_not_logfmt() {
        assert_eq!(
            keys(r#"  a=1 b="x \"y\" \\ \z" flag c= "#).unwrap(),
            vec![
                ("a".into(), Some("1".into())),
                ("b".into(), Some(r#"x "y" \ \z"#.into())),
                ("flag".into(), None),
                ("c".into(), Some("".into())),
            ]
        );
        assert_eq!(
            keys("url=/a?b=c").unwrap(),
            vec![("url".into(), Some("/a?b=c".into()))]
        );
        for not in [
            "",
            "   ",
            "just words",
            "a=\"open",
            "=x",
            "a=1\tb=2",
            "a=\"x\"y",
            "k\"=1",
            "a=b\"c",
            "a= \"b\"",
        ] {
            assert_eq!(keys(not), None, "{not:?}");
        }
    }

    #[test]
    fn the_class_table_is_the_grammar() {
        for c in 0..=255u8 {
            let key_end = c == b' ' || c == b'=' || c == b'"' || is_ctl(c);
            let value_end = c == b' ' || c == b'"' || is_ctl(c);
            assert_eq!(CLASS[c as usize] & KEY_END != 0, key_end, "{c}");
            assert_eq!(CLASS[c as usize] & VALUE_END != 0, value_end, "{c}");
        }
    }

    #[test]
    fn quoted_values_keep_multibyte_text_around_escapes() {
        let t = keys(r#"d="é \"ü\" 日本""#).unwrap();
        assert_eq!(t[0].1.as_deref(), Some(r#"é "ü" 日本"#));
    }

    #[test]
    fn numbers_and_units() {
        assert_eq!(number("21.00MB"), Some((21.0, Some("MB"))));
        assert_eq!(number("-2.5"), Some((-2.5, None)));
        assert_eq!(number("348836pages"), Some((348836.0, Some("pages"))));
        for not in ["", "-", "1.", ".5", "1e5x1", "1.5.2", "3µs", "1 2"] {
            assert_eq!(number(not), None, "{not:?}");
        }
        assert_eq!(number(&"9".repeat(400)), None, "infinite");
    }

    #[test]
    fn router_integers() {
        assert_eq!(int("30000ms", true), RouterValue::Int(30000));
        assert_eq!(int("5", true), RouterValue::Null);
        assert_eq!(int("ms", true), RouterValue::Null);
        assert_eq!(
            int(&"9".repeat(18), false),
            RouterValue::Int(999_999_999_999_999_999)
        );
        assert_eq!(int(&"9".repeat(19), false), RouterValue::Null);
        assert_eq!(int("-1", false), RouterValue::Null);
    }

    #[test]
    fn router_members_are_unique_by_name() {
        let e = expand(
            Some("heroku"),
            Some("router"),
            "connect=1ms connect_ms=2 at=info",
        );
        let names: Vec<&str> = e.router.unwrap().iter().map(|m| m.0).collect();
        assert_eq!(names, ["connect_ms", "at"]);
        // A key spelled as a typed member is typed too, whichever comes first.
        let e = expand(
            Some("heroku"),
            Some("router"),
            "connect_ms=fast service_ms=7 service=3ms",
        );
        let r = e.router.unwrap();
        assert_eq!(r[0], ("connect_ms", RouterValue::Null));
        assert_eq!(r[1], ("service_ms", RouterValue::Int(7)));
        assert_eq!(r.len(), 2);
    }

    #[test]
    fn metrics_from_a_quoted_value_with_escapes_keep_their_unit() {
        let e = expand(Some("app"), Some("web.1"), r#"x="\\" sample#m="5kB""#);
        assert_eq!(e.metrics[0].1.unit, Some("kB"));
        assert_eq!(e.fields[0].1, FieldValue::Str(Cow::Borrowed("\\")));
    }
}
