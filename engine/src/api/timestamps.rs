//! Time query parameters as docker parses them (`since`, `until` of events, logs and prune):
//! unix seconds with an exact fraction, RFC 3339, local dates, or a Go duration before now.

use crate::error::{EngineError, Result};

pub fn now_nanos() -> i64 {
    let now = chrono::Utc::now();
    now.timestamp_nanos_opt()
        .unwrap_or_else(|| now.timestamp().saturating_mul(1_000_000_000))
}

/// docker's GetTimestamp + ParseTimestamps for `since`/`until`: empty is "unset"; a Go duration
/// ("10m", "1h30m") is that long before now; RFC 3339 times and local dates ("2026-11-23",
/// "2026-11-23T10:00:00") are converted; anything else must be unix seconds with an optional
/// fraction ("1700000000.5"), which is what the docker CLI sends. Returns unix nanoseconds.
pub fn parse_time_param(param: &str, v: &str, now_ns: i64) -> Result<Option<i64>> {
    if v.is_empty() {
        return Ok(None);
    }
    let bad = || {
        EngineError::invalid(format!(
            "invalid value for {param}: {v:?} is not a timestamp, date or duration"
        ))
    };
    if v != "0" {
        if let Some(d) = crate::util::parse_go_duration(v) {
            return Ok(Some(now_ns.saturating_sub(d)));
        }
    }
    if let Some(ns) = parse_unix(v) {
        return Ok(Some(ns));
    }
    use chrono::{Local, NaiveDate, NaiveDateTime, TimeZone};
    let nanos = |t: chrono::DateTime<chrono::Utc>| t.timestamp_nanos_opt().ok_or_else(bad);
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(v) {
        return nanos(t.with_timezone(&chrono::Utc)).map(Some);
    }
    for f in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%dT%H:%M"] {
        if let Ok(t) = NaiveDateTime::parse_from_str(v, f) {
            if let Some(t) = Local.from_local_datetime(&t).single() {
                return nanos(t.with_timezone(&chrono::Utc)).map(Some);
            }
        }
    }
    if let Ok(d) = NaiveDate::parse_from_str(v, "%Y-%m-%d") {
        if let Some(t) = d
            .and_hms_opt(0, 0, 0)
            .and_then(|t| Local.from_local_datetime(&t).single())
        {
            return nanos(t.with_timezone(&chrono::Utc)).map(Some);
        }
    }
    Err(bad())
}

/// "seconds[.fraction]" (as docker's ParseTimestamps) → nanoseconds, exactly.
fn parse_unix(v: &str) -> Option<i64> {
    let (neg, body) = match v.strip_prefix('-') {
        Some(b) => (true, b),
        None => (false, v),
    };
    let (secs, frac) = match body.split_once('.') {
        Some((s, f)) => (s, f),
        None => (body, ""),
    };
    if secs.is_empty() || !secs.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if !frac.bytes().all(|b| b.is_ascii_digit()) || (body.contains('.') && frac.is_empty()) {
        return None;
    }
    let s: i64 = secs.parse().ok()?;
    let mut digits: String = frac.chars().take(9).collect();
    while digits.len() < 9 {
        digits.push('0');
    }
    let n: i64 = digits.parse().ok()?;
    let total = s.checked_mul(1_000_000_000)?.checked_add(n)?;
    Some(if neg { -total } else { total })
}
