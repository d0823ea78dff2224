//! diff, export, cp (archive HEAD/GET/PUT) and update against a real engine and real containers,
//! through the raw API, `berth --headless` and the stock docker CLI, including symlink escapes.
//!
//! `changes`: diff and export; `copy`: the archive API, `docker cp` and `berth cp`, symlink
//! escapes; `update`: resource updates of running containers. Shared here: container setup and
//! tar reading.

mod changes;
mod copy;
mod update;

use crate::common;

use std::collections::BTreeMap;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;

use common::api::{self, named, sh, start};
use common::{stderr, stdout, TestEngine};
use serde_json::{json, Value};

fn create(e: &TestEngine, name: &str, cmd: &str, extra: Value) -> String {
    let mut body = named(name, sh(cmd));
    if let (Some(b), Some(x)) = (body.as_object_mut(), extra.as_object()) {
        for (k, v) in x {
            b.insert(k.clone(), v.clone());
        }
    }
    api::create(e, body)
}

/// Run `cmd` to completion in a new container (the setup of a stopped container).
fn run_to_exit(e: &TestEngine, name: &str, cmd: &str) -> String {
    let id = create(e, name, cmd, json!({}));
    start(e, &id);
    let r = e.api("POST", &format!("/containers/{id}/wait"), None);
    assert_eq!(r.status, 200);
    id
}

fn exec_out(e: &TestEngine, name: &str, cmd: &str) -> String {
    let o = e.docker(&["exec", name, "sh", "-c", cmd]);
    assert!(o.status.success(), "exec {cmd}: {}", stderr(&o));
    stdout(&o)
}

/// Tar entries: name → (type byte, size, mode, uid).
fn tar_entries(data: &[u8]) -> BTreeMap<String, (u8, u64, u32, u64)> {
    let mut a = tar::Archive::new(data);
    a.entries()
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            let h = e.header();
            (
                String::from_utf8_lossy(&e.path_bytes()).into_owned(),
                (
                    h.entry_type().as_byte(),
                    h.size().unwrap(),
                    h.mode().unwrap(),
                    h.uid().unwrap(),
                ),
            )
        })
        .collect()
}
