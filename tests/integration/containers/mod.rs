//! Real containers through the raw API: lifecycle and exit codes, output framing, logs, user and
//! environment, limits, isolation.
//!
//! `lifecycle`: start, stop, kill, restart, remove, exit codes, output and logs; `isolation`:
//! environment and user, capabilities, masked paths, fds, seccomp, namespaces, limits;
//! `engine`: listing, prune, auto-remove, rename, many at once, engine kills and restarts.

mod engine;
mod isolation;
mod lifecycle;

use crate::common;

use std::time::Duration;

use common::api::{create, inspect, sh, start};
use common::http::demux;
use common::{eventually, urlencode, TestEngine};
use serde_json::Value;

fn wait(e: &TestEngine, id: &str) -> i64 {
    let v = e.api_json("POST", &format!("/containers/{id}/wait"), None);
    v["StatusCode"].as_i64().unwrap()
}

fn logs(e: &TestEngine, id: &str, query: &str) -> (String, String) {
    let r = e.api("GET", &format!("/containers/{id}/logs?{query}"), None);
    assert_eq!(r.status, 200, "logs: {}", r.text());
    demux(&r.body)
}

/// Run a command to completion; returns (exit code, stdout, stderr).
fn run(e: &TestEngine, body: Value) -> (i64, String, String) {
    let id = create(e, body);
    start(e, &id);
    let code = wait(e, &id);
    let (out, err) = logs(e, &id, "stdout=1&stderr=1");
    (code, out, err)
}
