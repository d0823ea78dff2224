//! Docker's unit conventions (github.com/docker/go-units and the CLI's opts): memory sizes are
//! binary (`512m` = 512 MiB), displayed sizes are decimal with 4 significant digits (`4.26MB`),
//! ages are "5 seconds ago".

use chrono::{DateTime, Local, NaiveDate, NaiveDateTime, TimeZone, Utc};

/// Parse a memory size like docker's `RAMInBytes`: `^(\d+(\.\d+)*) ?([kKmMgGtTpP])?[iI]?[bB]?$`,
/// binary multipliers.
pub fn parse_ram_size(s: &str) -> Result<i64, String> {
    let err = || format!("invalid size: '{s}'");
    let digits_end = s
        .char_indices()
        .find(|(_, c)| !(c.is_ascii_digit() || *c == '.'))
        .map(|(i, _)| i)
        .unwrap_or(s.len());
    let (num, mut rest) = s.split_at(digits_end);
    if num.is_empty() || num.starts_with('.') || num.ends_with('.') || num.contains("..") {
        return Err(err());
    }
    let value: f64 = num.parse().map_err(|_| err())?;
    rest = rest.strip_prefix(' ').unwrap_or(rest);
    let mut chars = rest.chars().peekable();
    let mut mult: f64 = 1.0;
    if let Some(c) = chars.peek().copied() {
        let m = match c.to_ascii_lowercase() {
            'k' => Some(1u64 << 10),
            'm' => Some(1 << 20),
            'g' => Some(1 << 30),
            't' => Some(1 << 40),
            'p' => Some(1 << 50),
            _ => None,
        };
        if let Some(m) = m {
            mult = m as f64;
            chars.next();
        }
    }
    if matches!(chars.peek(), Some('i' | 'I')) {
        chars.next();
    }
    if matches!(chars.peek(), Some('b' | 'B')) {
        chars.next();
    }
    if chars.next().is_some() {
        return Err(err());
    }
    let bytes = value * mult;
    if !bytes.is_finite() || bytes > i64::MAX as f64 {
        return Err(err());
    }
    Ok(bytes as i64)
}

/// `--memory-swap` additionally accepts -1 (unlimited swap).
pub fn parse_mem_swap(s: &str) -> Result<i64, String> {
    if s == "-1" {
        return Ok(-1);
    }
    parse_ram_size(s)
}

/// `--cpus 1.5` → NanoCpus.
pub fn parse_cpus(s: &str) -> Result<i64, String> {
    let v: f64 = s
        .parse()
        .ok()
        .filter(|v: &f64| v.is_finite() && *v >= 0.0)
        .ok_or_else(|| format!("failed to parse {s} as a rational number"))?;
    let nanos = (v * 1e9).round();
    if nanos > i64::MAX as f64 {
        return Err("value is too precise".into());
    }
    Ok(nanos as i64)
}

/// Decimal human size with 4 significant digits, docker's `units.HumanSize`.
pub fn human_size(size: f64) -> String {
    const UNITS: [&str; 9] = ["B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB"];
    let mut v = size;
    let mut i = 0;
    while v >= 1000.0 && i < UNITS.len() - 1 {
        v /= 1000.0;
        i += 1;
    }
    format!("{}{}", format_g4(v), UNITS[i])
}

/// Go's `%.4g` for values below 1e4 (what human_size produces).
fn format_g4(v: f64) -> String {
    if v == 0.0 {
        return "0".into();
    }
    let exp = v.abs().log10().floor() as i32;
    let decimals = (3 - exp).max(0) as usize;
    let mut s = format!("{v:.decimals$}");
    if s.contains('.') {
        while s.ends_with('0') {
            s.pop();
        }
        if s.ends_with('.') {
            s.pop();
        }
    }
    s
}

/// Go's `%.{prec}g` for the non-negative values the size helpers produce: shortest of fixed and
/// exponent notation, trailing zeros removed.
pub fn format_g(v: f64, prec: usize) -> String {
    if v == 0.0 || !v.is_finite() {
        return "0".into();
    }
    let p = prec.max(1);
    let sci = format!("{:.*e}", p - 1, v);
    let (mant, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let trim = |s: &str| -> String {
        if s.contains('.') {
            s.trim_end_matches('0').trim_end_matches('.').to_string()
        } else {
            s.to_string()
        }
    };
    if exp < -4 || exp >= p as i32 {
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{}e{sign}{:02}", trim(mant), exp.abs())
    } else {
        let decimals = (p as i32 - 1 - exp).max(0) as usize;
        trim(&format!("{v:.decimals$}"))
    }
}

/// docker's `units.HumanSizeWithPrecision`: decimal units, `prec` significant digits.
pub fn human_size_precision(size: f64, prec: usize) -> String {
    const UNITS: [&str; 9] = ["B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB"];
    let mut v = size;
    let mut i = 0;
    while v >= 1000.0 && i < UNITS.len() - 1 {
        v /= 1000.0;
        i += 1;
    }
    format!("{}{}", format_g(v, prec), UNITS[i])
}

/// docker's `units.BytesSize`: binary units (KiB, MiB, ...), 4 significant digits.
pub fn bytes_size(size: f64) -> String {
    const UNITS: [&str; 9] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB", "ZiB", "YiB"];
    let mut v = size;
    let mut i = 0;
    while v >= 1024.0 && i < UNITS.len() - 1 {
        v /= 1024.0;
        i += 1;
    }
    format!("{}{}", format_g(v, 4), UNITS[i])
}

/// docker's `units.HumanDuration`.
pub fn human_duration(d: chrono::Duration) -> String {
    let seconds = d.num_seconds();
    if seconds < 1 {
        return "Less than a second".into();
    }
    if seconds == 1 {
        return "1 second".into();
    }
    if seconds < 60 {
        return format!("{seconds} seconds");
    }
    let minutes = d.num_minutes();
    if minutes == 1 {
        return "About a minute".into();
    }
    if minutes < 60 {
        return format!("{minutes} minutes");
    }
    let hours = (d.num_seconds() as f64 / 3600.0 + 0.5) as i64;
    if hours == 1 {
        return "About an hour".into();
    }
    if hours < 48 {
        return format!("{hours} hours");
    }
    if hours < 24 * 7 * 2 {
        return format!("{} days", hours / 24);
    }
    if hours < 24 * 30 * 2 {
        return format!("{} weeks", hours / 24 / 7);
    }
    if hours < 24 * 365 * 2 {
        return format!("{} months", hours / 24 / 30);
    }
    format!("{} years", d.num_hours() / 24 / 365)
}

/// "5 seconds ago" for a unix timestamp, relative to `now`.
pub fn ago(created_unix: i64, now: DateTime<Utc>) -> String {
    let created = Utc.timestamp_opt(created_unix, 0).single().unwrap_or(now);
    format!("{} ago", human_duration(now - created))
}

/// Go's `time.Time.String()` shape used by docker's CreatedAt: "2024-01-02 15:04:05 +0000 UTC".
pub fn created_at(created_unix: i64) -> String {
    match Local.timestamp_opt(created_unix, 0).single() {
        Some(t) => {
            let offset = t.format("%z").to_string();
            let zone = if offset == "+0000" {
                "UTC".to_string()
            } else {
                offset.clone()
            };
            format!("{} {offset} {zone}", t.format("%Y-%m-%d %H:%M:%S"))
        }
        None => String::new(),
    }
}

/// docker's `GetTimestamp` for `--since`/`--until`: a Go duration is relative to `now`, RFC 3339
/// and plain dates are converted, a unix timestamp (with optional fraction) passes through.
/// Returns the API's "seconds.nanoseconds" string.
pub fn parse_timestamp(value: &str, now: DateTime<Utc>) -> Result<String, String> {
    if let Some(ns) = berth_engine::util::parse_go_duration(value).map(i128::from) {
        let now_ns = now.timestamp() as i128 * 1_000_000_000 + now.timestamp_subsec_nanos() as i128;
        let t = now_ns - ns;
        return Ok(format!(
            "{}.{:09}",
            t.div_euclid(1_000_000_000),
            t.rem_euclid(1_000_000_000)
        ));
    }
    let is_number = {
        let mut parts = value.splitn(2, '.');
        let secs = parts.next().unwrap_or("");
        let frac = parts.next();
        !secs.is_empty()
            && secs.chars().all(|c| c.is_ascii_digit())
            && frac.is_none_or(|f| !f.is_empty() && f.chars().all(|c| c.is_ascii_digit()))
    };
    if is_number {
        return Ok(value.to_string());
    }
    let fmt = |t: DateTime<Utc>| format!("{}.{:09}", t.timestamp(), t.timestamp_subsec_nanos());
    if let Ok(t) = DateTime::parse_from_rfc3339(value) {
        return Ok(fmt(t.with_timezone(&Utc)));
    }
    for f in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%dT%H:%M"] {
        if let Ok(t) = NaiveDateTime::parse_from_str(value, f) {
            if let Some(t) = Local.from_local_datetime(&t).single() {
                return Ok(fmt(t.with_timezone(&Utc)));
            }
        }
    }
    if let Ok(d) = NaiveDate::parse_from_str(value, "%Y-%m-%d") {
        if let Some(t) = d
            .and_hms_opt(0, 0, 0)
            .and_then(|t| Local.from_local_datetime(&t).single())
        {
            return Ok(fmt(t.with_timezone(&Utc)));
        }
    }
    Err(format!(
        "failed to parse value as time or duration: \"{value}\""
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ram_sizes_are_binary() {
        assert_eq!(parse_ram_size("512m"), Ok(512 << 20));
        assert_eq!(parse_ram_size("1g"), Ok(1 << 30));
        assert_eq!(parse_ram_size("1GiB"), Ok(1 << 30));
        assert_eq!(parse_ram_size("1.5k"), Ok(1536));
        assert_eq!(parse_ram_size("100"), Ok(100));
        assert_eq!(parse_ram_size("64 MB"), Ok(64 << 20));
        assert_eq!(parse_ram_size("10b"), Ok(10));
    }

    #[test]
    fn bad_ram_sizes_are_rejected_with_docker_wording() {
        assert_eq!(parse_ram_size("12x"), Err("invalid size: '12x'".into()));
        for bad in ["", "m", "1..2m", ".5m", "1mm", "-1", "1gb2"] {
            assert!(parse_ram_size(bad).is_err(), "{bad}");
        }
        assert_eq!(parse_mem_swap("-1"), Ok(-1));
    }

    #[test]
    fn cpus_to_nanocpus() {
        assert_eq!(parse_cpus("1.5"), Ok(1_500_000_000));
        assert_eq!(parse_cpus("0.01"), Ok(10_000_000));
        assert!(parse_cpus("abc").is_err());
        assert!(parse_cpus("-1").is_err());
    }

    #[test]
    fn human_sizes_match_docker() {
        assert_eq!(human_size(0.0), "0B");
        assert_eq!(human_size(999.0), "999B");
        assert_eq!(human_size(4_260_000.0), "4.26MB");
        assert_eq!(human_size(7_801_110.0), "7.801MB");
        assert_eq!(human_size(1_000_000_000.0), "1GB");
        assert_eq!(human_size(123_456.0), "123.5kB");
    }

    #[test]
    fn human_durations_match_docker() {
        let s = chrono::Duration::seconds;
        assert_eq!(human_duration(s(0)), "Less than a second");
        assert_eq!(human_duration(s(1)), "1 second");
        assert_eq!(human_duration(s(5)), "5 seconds");
        assert_eq!(human_duration(s(61)), "About a minute");
        assert_eq!(human_duration(s(600)), "10 minutes");
        assert_eq!(human_duration(s(3600)), "About an hour");
        assert_eq!(human_duration(s(5 * 3600)), "5 hours");
        assert_eq!(human_duration(s(3 * 86400)), "3 days");
        assert_eq!(human_duration(s(21 * 86400)), "3 weeks");
        assert_eq!(human_duration(s(90 * 86400)), "3 months");
        assert_eq!(human_duration(s(800 * 86400)), "2 years");
        let now = Utc.timestamp_opt(1_000_000, 0).unwrap();
        assert_eq!(ago(1_000_000 - 5, now), "5 seconds ago");
    }

    #[test]
    fn go_durations() {
        assert_eq!(
            berth_engine::util::parse_go_duration("10s"),
            Some(10_000_000_000)
        );
        assert_eq!(
            berth_engine::util::parse_go_duration("1m30s"),
            Some(90_000_000_000)
        );
        assert_eq!(
            berth_engine::util::parse_go_duration("1.5h"),
            Some(5_400_000_000_000)
        );
        assert_eq!(
            berth_engine::util::parse_go_duration("300ms"),
            Some(300_000_000)
        );
        assert_eq!(berth_engine::util::parse_go_duration("10"), None);
        assert_eq!(berth_engine::util::parse_go_duration("10x"), None);
        assert_eq!(berth_engine::util::parse_go_duration(""), None);
    }

    #[test]
    fn timestamps_for_since_and_until() {
        let now = Utc.timestamp_opt(1_700_000_000, 0).unwrap();
        assert_eq!(parse_timestamp("10s", now).unwrap(), "1699999990.000000000");
        assert_eq!(
            parse_timestamp("1m30s", now).unwrap(),
            "1699999910.000000000"
        );
        assert_eq!(parse_timestamp("1699999000", now).unwrap(), "1699999000");
        assert_eq!(
            parse_timestamp("1699999000.5", now).unwrap(),
            "1699999000.5"
        );
        assert_eq!(
            parse_timestamp("2023-11-14T22:13:20Z", now).unwrap(),
            "1700000000.000000000"
        );
        assert_eq!(
            parse_timestamp("2023-11-14T23:13:20+01:00", now).unwrap(),
            "1700000000.000000000"
        );
        assert!(parse_timestamp("yesterday", now).is_err());
    }
}
