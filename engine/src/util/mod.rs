//! Small shared helpers: ids and timestamps here; docker's human durations (`humanize`), signal
//! names (`signals`), disk usage of a tree (`du`) and mountinfo lookups (`mountinfo`) in their own
//! modules.

pub mod du;
pub mod go;
pub mod humanize;
pub mod mountinfo;
pub mod signals;

use rand::RngCore;

/// A new 64-hex-character id, as docker uses for containers and execs.
pub fn new_id() -> String {
    let mut buf = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut buf);
    hex::encode(buf)
}

/// Now, as RFC 3339 with nanoseconds in UTC (docker's timestamp format).
pub fn now_rfc3339() -> String {
    rfc3339(chrono::Utc::now())
}

pub fn rfc3339(t: chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Nanos, true)
}

/// Docker's zero time, used for FinishedAt/StartedAt that never happened.
pub const ZERO_TIME: &str = "0001-01-01T00:00:00Z";

/// Docker's RAMInBytes: "512", "512k", "1.5g", "10mb" (binary multiples). None when malformed.
pub fn parse_size(s: &str) -> Option<u64> {
    let s = s.trim().to_ascii_lowercase();
    let idx = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(s.len());
    let (num, unit) = s.split_at(idx);
    let n: f64 = num.parse().ok()?;
    let mult: u64 = match unit.trim_end_matches('b').trim_end_matches('i') {
        "" => 1,
        "k" => 1 << 10,
        "m" => 1 << 20,
        "g" => 1 << 30,
        "t" => 1 << 40,
        "p" => 1 << 50,
        _ => return None,
    };
    if unit.len() > 2 && unit != "kib" && unit != "mib" && unit != "gib" {
        return None;
    }
    Some((n * mult as f64) as u64)
}

/// A Go duration ("300ms", "1.5h", "1h30m", "0") in nanoseconds, as Go's time.ParseDuration.
pub fn parse_go_duration(v: &str) -> Option<i64> {
    let (neg, mut rest) = match v.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, v.strip_prefix('+').unwrap_or(v)),
    };
    // Go accepts a bare zero, and only zero, without a unit.
    if rest == "0" {
        return Some(0);
    }
    if rest.is_empty() {
        return None;
    }
    let mut total = 0f64;
    while !rest.is_empty() {
        let num_end = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        if num_end == 0 {
            return None;
        }
        let n: f64 = rest[..num_end].parse().ok()?;
        rest = &rest[num_end..];
        let unit_end = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let mult = match &rest[..unit_end] {
            "ns" => 1.0,
            "us" | "µs" | "μs" => 1e3,
            "ms" => 1e6,
            "s" => 1e9,
            "m" => 60e9,
            "h" => 3600e9,
            _ => return None,
        };
        rest = &rest[unit_end..];
        total += n * mult;
    }
    if !total.is_finite() || total > i64::MAX as f64 {
        return None;
    }
    let ns = total as i64;
    Some(if neg { -ns } else { ns })
}

#[cfg(test)]
mod tests {
    use super::parse_size;

    #[test]
    fn sizes_like_docker() {
        assert_eq!(parse_size("512"), Some(512));
        assert_eq!(parse_size("10m"), Some(10 << 20));
        assert_eq!(parse_size("1.5g"), Some(3 << 29));
        assert_eq!(parse_size("2kb"), Some(2048));
        assert_eq!(parse_size("12x"), None);
        assert_eq!(parse_size("m"), None);
    }
}
