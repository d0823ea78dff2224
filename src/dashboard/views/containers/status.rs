//! The STATUS column's text: docker's "Up 3 minutes (healthy)", recomputed each frame.

use chrono::{DateTime, Utc};

use crate::dashboard::store::model::Container;
use crate::dashboard::store::Store;

/// "Up 3 minutes (healthy)" computed now from the container's start time, so uptimes tick
/// without asking the engine; docker's status text when the start time is not known yet.
pub fn status_text(c: &Container, store: &Store, now: DateTime<Utc>) -> String {
    let started = store
        .details
        .get(&c.id)
        .and_then(|d| d["State"]["StartedAt"].as_str())
        .and_then(|t| DateTime::parse_from_rfc3339(t).ok());
    match (c.state.as_str(), started) {
        ("running", Some(t)) => {
            let up = crate::format::units::human_duration(now - t.with_timezone(&Utc));
            match c.health() {
                Some("starting") => format!("Up {up} (health: starting)"),
                Some(h) => format!("Up {up} ({h})"),
                None => format!("Up {up}"),
            }
        }
        _ => c.status.clone(),
    }
}
