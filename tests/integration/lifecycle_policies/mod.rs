//! Restart policies and health checks with a real engine, real containers and the stock docker
//! CLI: retries and back-off, manual stops, engine restarts, probes, timeouts, events and `ps`.
//!
//! `restart`: restart policies (retries, back-off, stops, engine restarts, bad policies);
//! `health`: health checks (probes, timeouts, image healthchecks, flags). Shared here: events,
//! `docker run` and status helpers.

mod health;
mod restart;

use crate::common;

use std::time::Duration;

use common::api::inspect;
use common::{eventually, now_ts, stderr, stdout, urlencode, TestEngine};
use serde_json::{json, Value};

/// Events of one container so far (replayed from the engine's ring).
fn events_of(e: &TestEngine, id: &str) -> Vec<Value> {
    let filters = json!({ "container": [id] }).to_string();
    let r = e.api(
        "GET",
        &format!(
            "/events?since=0&until={}&filters={}",
            now_ts(),
            urlencode(&filters)
        ),
        None,
    );
    assert_eq!(r.status, 200, "{}", r.text());
    r.text()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn count_action(events: &[Value], action: &str) -> usize {
    events.iter().filter(|e| e["Action"] == action).count()
}

/// `docker run -d ARGS`; the container id.
fn docker_run(e: &TestEngine, args: &[&str]) -> String {
    let mut all = vec!["run", "-d"];
    all.extend_from_slice(args);
    let o = e.docker(&all);
    assert!(o.status.success(), "docker run {args:?}: {}", stderr(&o));
    stdout(&o).trim().to_owned()
}

fn status(e: &TestEngine, id: &str) -> (String, i64) {
    let i = inspect(e, id);
    (
        i["State"]["Status"].as_str().unwrap().to_owned(),
        i["RestartCount"].as_i64().unwrap(),
    )
}
