//! Raw-API shortcuts for containers that many tests share: a `sh -c` body, create (asserting
//! 201), start (asserting 204), create-and-start, inspect.

use serde_json::{json, Value};

use super::TestEngine;

/// A create body running `sh -c cmd` in busybox.
pub fn sh(cmd: &str) -> Value {
    json!({ "Image": "busybox", "Cmd": ["sh", "-c", cmd] })
}

/// `POST /containers/create`; a `"name"` key of `body` travels in the query string, not the body.
/// Asserts 201; the new container's id.
pub fn create(e: &TestEngine, mut body: Value) -> String {
    let path = match body.as_object_mut().unwrap().remove("name") {
        Some(Value::String(n)) => format!("/containers/create?name={n}"),
        _ => "/containers/create".to_string(),
    };
    let r = e.api("POST", &path, Some(&body.to_string()));
    assert_eq!(r.status, 201, "create: {}", r.text());
    r.json()["Id"].as_str().unwrap().to_owned()
}

/// `body` with a `"name"` key, for [`create`].
pub fn named(name: &str, mut body: Value) -> Value {
    body["name"] = json!(name);
    body
}

/// `POST /containers/{id}/start`, asserting 204.
pub fn start(e: &TestEngine, id: &str) {
    let r = e.api("POST", &format!("/containers/{id}/start"), None);
    assert_eq!(r.status, 204, "start: {}", r.text());
}

/// Create and start; the id.
pub fn run_detached(e: &TestEngine, body: Value) -> String {
    let id = create(e, body);
    start(e, &id);
    id
}

/// `GET /containers/{id}/json`.
pub fn inspect(e: &TestEngine, id: &str) -> Value {
    e.api_json("GET", &format!("/containers/{id}/json"), None)
}
