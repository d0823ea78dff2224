//! Ports of the Go library parsers a `--mount` spec goes through in BuildKit, each matching its
//! original's accepted inputs exactly, since that decides which specs docker accepts: Go's
//! encoding/csv for the field list, strconv.ParseBool for flags, docker's units.RAMInBytes for
//! tmpfs sizes.

/// Go's strconv.ParseBool.
pub(super) fn parse_go_bool(s: &str) -> Option<bool> {
    match s {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(false),
        _ => None,
    }
}

/// docker's units.RAMInBytes: a number with an optional binary unit (`b`, `k`, `m`, `g`, `t`,
/// `p`, optionally followed by `b` or `ib`), case-insensitive.
pub(crate) fn ram_in_bytes(s: &str) -> Option<u64> {
    let s = s.trim();
    let split = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let n: f64 = num.parse().ok()?;
    let unit = unit.to_ascii_lowercase();
    let unit = unit
        .strip_suffix("ib")
        .or_else(|| unit.strip_suffix('b').filter(|u| !u.is_empty()))
        .unwrap_or(&unit);
    let mul: f64 = match unit {
        "" | "b" => 1.0,
        "k" => 1024.0,
        "m" => 1024.0 * 1024.0,
        "g" => 1024.0 * 1024.0 * 1024.0,
        "t" => 1024.0_f64.powi(4),
        "p" => 1024.0_f64.powi(5),
        _ => return None,
    };
    let v = n * mul;
    (v.is_finite() && v >= 0.0).then_some(v as u64)
}

/// One CSV record (RFC 4180 quoting, as Go's encoding/csv with default settings).
pub(super) fn csv_fields(s: &str) -> Result<Vec<String>, String> {
    let mut fields = Vec::new();
    let mut cur = String::new();
    let mut chars = s.chars().peekable();
    let mut at_start = true;
    loop {
        if at_start && chars.peek() == Some(&'"') {
            chars.next();
            loop {
                match chars.next() {
                    None => return Err("extraneous or missing \" in quoted-field".into()),
                    Some('"') if chars.peek() == Some(&'"') => {
                        chars.next();
                        cur.push('"');
                    }
                    Some('"') => break,
                    Some(c) => cur.push(c),
                }
            }
            match chars.next() {
                None => {
                    fields.push(std::mem::take(&mut cur));
                    return Ok(fields);
                }
                Some(',') => {
                    fields.push(std::mem::take(&mut cur));
                    continue;
                }
                Some(_) => return Err("extraneous or missing \" in quoted-field".into()),
            }
        }
        at_start = false;
        match chars.next() {
            None => {
                fields.push(std::mem::take(&mut cur));
                return Ok(fields);
            }
            Some(',') => {
                fields.push(std::mem::take(&mut cur));
                at_start = true;
            }
            Some('"') => return Err("bare \" in non-quoted-field".into()),
            Some(c) => cur.push(c),
        }
    }
}
