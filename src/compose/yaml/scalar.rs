//! Plain scalars typed as go-yaml v3 types them when compose-go decodes a file into `any`: the
//! YAML 1.2 core schema plus Go's integer syntax. The differences from other YAML readers are
//! what users meet: `0755` is octal (493, for file modes), `1_000` is 1000, `0b101` is 5, and
//! `yes`/`on`/`off` are strings (compose casts them to booleans only where a boolean is due).

use super::Value;

/// The value of an untagged plain scalar.
pub fn resolve_plain(text: &str) -> Value {
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return Value::Null,
        "true" | "True" | "TRUE" => return Value::Bool(true),
        "false" | "False" | "FALSE" => return Value::Bool(false),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => {
            return Value::Float(f64::INFINITY)
        }
        "-.inf" | "-.Inf" | "-.INF" => return Value::Float(f64::NEG_INFINITY),
        ".nan" | ".NaN" | ".NAN" => return Value::Float(f64::NAN),
        _ => {}
    }
    let first = text.as_bytes()[0];
    if first.is_ascii_digit() || matches!(first, b'-' | b'+' | b'.') {
        // go-yaml removes every underscore before trying the number forms.
        let plain = text.replace('_', "");
        if let Some(i) = go_parse_int(&plain) {
            return Value::Int(i);
        }
        if is_yaml_float(&plain) {
            if let Ok(f) = plain.parse::<f64>() {
                return Value::Float(f);
            }
        }
        // Beyond i64 (go-yaml tries uint64, then float64): a number all the same.
        if !plain.is_empty() && plain.bytes().all(|b| b.is_ascii_digit()) {
            if let Ok(f) = plain.parse::<f64>() {
                return Value::Float(f);
            }
        }
    }
    Value::Str(text.to_string())
}

/// A scalar with a core-schema tag (`!!str 5`, `!!int "7"`); None when the text does not fit.
pub fn resolve_tagged(tag: &str, text: &str) -> Option<Value> {
    match tag {
        "!!str" => Some(Value::Str(text.to_string())),
        "!!null" => Some(Value::Null),
        "!!bool" => match resolve_plain(text) {
            b @ Value::Bool(_) => Some(b),
            _ => None,
        },
        "!!int" => go_parse_int(text).map(Value::Int),
        "!!float" => match resolve_plain(text) {
            Value::Int(i) => Some(Value::Float(i as f64)),
            f @ Value::Float(_) => Some(f),
            _ => None,
        },
        // !!binary, !!timestamp, !!map, …: kept as written.
        _ => Some(resolve_plain(text)),
    }
}

/// Go's `strconv.ParseInt(s, 0, 64)`: optional sign, `0x`/`0o`/`0b` prefixes, a leading `0` for
/// octal.
fn go_parse_int(text: &str) -> Option<i64> {
    let (negative, body) = match text.as_bytes()[0] {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    if body.is_empty() {
        return None;
    }
    let lower = body.to_ascii_lowercase();
    let (radix, digits) = if let Some(d) = lower.strip_prefix("0x") {
        (16, d)
    } else if let Some(d) = lower.strip_prefix("0o") {
        (8, d)
    } else if let Some(d) = lower.strip_prefix("0b") {
        (2, d)
    } else if lower.len() > 1 && lower.starts_with('0') {
        (8, &lower[1..])
    } else {
        (10, lower.as_str())
    };
    if digits.is_empty() || digits.starts_with(['+', '-']) {
        return None;
    }
    let magnitude = i128::from_str_radix(digits, radix).ok()?;
    let value = if negative { -magnitude } else { magnitude };
    i64::try_from(value).ok()
}

/// go-yaml's float pattern: `^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`.
fn is_yaml_float(text: &str) -> bool {
    let s = text.strip_prefix(['-', '+']).unwrap_or(text);
    let (mantissa, exponent) = match s.find(['e', 'E']) {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    };
    let mantissa_ok = match mantissa.split_once('.') {
        Some(("", frac)) => !frac.is_empty() && frac.bytes().all(|b| b.is_ascii_digit()),
        Some((int, frac)) => {
            !int.is_empty()
                && int.bytes().all(|b| b.is_ascii_digit())
                && frac.bytes().all(|b| b.is_ascii_digit())
        }
        None => !mantissa.is_empty() && mantissa.bytes().all(|b| b.is_ascii_digit()),
    };
    let exponent_ok = match exponent {
        None => true,
        Some(e) => {
            let e = e.strip_prefix(['-', '+']).unwrap_or(e);
            !e.is_empty() && e.bytes().all(|b| b.is_ascii_digit())
        }
    };
    mantissa_ok && exponent_ok
}
