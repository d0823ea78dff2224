//! Small shared helpers: ids and timestamps.

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
