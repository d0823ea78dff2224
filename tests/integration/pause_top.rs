//! pause/unpause (cgroup freezer) and top through the raw API, `berth --headless` and the stock
//! docker CLI, with real containers.

use crate::common;

use std::time::Duration;

use common::api::{named, run_detached, sh};
use common::{eventually, stderr, stdout, TestEngine};
use serde_json::{json, Value};

/// A loop printing an increasing counter ten times a second.
const COUNTER: &str = "i=0; while :; do i=$((i+1)); echo $i; sleep 0.05; done";

/// Lines logged so far.
fn log_lines(e: &TestEngine, id: &str) -> usize {
    let o = e.berth(&["logs", id]);
    assert!(o.status.success(), "logs: {}", stderr(&o));
    stdout(&o).lines().count()
}

fn state(e: &TestEngine, id: &str) -> Value {
    e.api_json("GET", &format!("/containers/{id}/json"), None)["State"].clone()
}

#[test]
fn pause_stops_the_counter_and_unpause_resumes_it() {
    let e = TestEngine::with_busybox();
    let id = run_detached(&e, named("counter", sh(COUNTER)));
    eventually(Duration::from_secs(10), || {
        (log_lines(&e, &id) >= 3).then_some(())
    })
    .expect("counter starts");

    let r = e.api("POST", &format!("/containers/{id}/pause"), None);
    assert_eq!(r.status, 204, "pause: {}", r.text());
    let st = state(&e, &id);
    assert_eq!(st["Status"], "paused");
    assert_eq!(st["Paused"], true);
    assert_eq!(st["Running"], true);
    let ps = stdout(&e.berth(&["ps"]));
    assert!(ps.contains("(Paused)"), "{ps}");
    let listed = e.api_json("GET", "/containers/json", None);
    assert_eq!(listed[0]["State"], "paused", "{listed}");

    // Frozen: nothing more is logged.
    let frozen_at = log_lines(&e, &id);
    std::thread::sleep(Duration::from_millis(800));
    assert_eq!(
        log_lines(&e, &id),
        frozen_at,
        "the counter advanced while paused"
    );

    // Error cases while paused.
    let r = e.api("POST", &format!("/containers/{id}/pause"), None);
    assert_eq!(r.status, 409);
    assert_eq!(r.message(), format!("Container {id} is already paused"));
    let r = e.api("POST", &format!("/containers/{id}/start"), None);
    assert_eq!(r.status, 409, "{}", r.text());

    let r = e.api("POST", &format!("/containers/{id}/unpause"), None);
    assert_eq!(r.status, 204, "unpause: {}", r.text());
    assert_eq!(state(&e, &id)["Status"], "running");
    eventually(Duration::from_secs(10), || {
        (log_lines(&e, &id) > frozen_at + 3).then_some(())
    })
    .expect("the counter resumes after unpause");
    let r = e.api("POST", &format!("/containers/{id}/unpause"), None);
    assert_eq!(r.status, 409);
    assert_eq!(r.message(), format!("Container {id} is not paused"));

    // A paused container is stopped promptly: stop thaws it so SIGTERM/SIGKILL act.
    let r = e.api("POST", &format!("/containers/{id}/pause"), None);
    assert_eq!(r.status, 204);
    let r = e.api("POST", &format!("/containers/{id}/stop?t=1"), None);
    assert_eq!(r.status, 204, "stop: {}", r.text());
    assert_eq!(state(&e, &id)["Status"], "exited");

    // Not running.
    let r = e.api("POST", &format!("/containers/{id}/pause"), None);
    assert_eq!(r.status, 409);
    assert_eq!(r.message(), format!("Container {id} is not running"));
    let r = e.api("POST", &format!("/containers/{id}/unpause"), None);
    assert_eq!(r.status, 409);
    assert_eq!(r.message(), format!("Container {id} is not paused"));
    let r = e.api("POST", "/containers/nosuch/pause", None);
    assert_eq!(r.status, 404);
}

#[test]
fn docker_cli_pause_and_unpause() {
    let e = TestEngine::with_busybox();
    let id = run_detached(&e, named("dpause", sh(COUNTER)));

    let o = e.docker(&["pause", "dpause"]);
    assert!(o.status.success(), "docker pause: {}", stderr(&o));
    assert_eq!(stdout(&o).trim(), "dpause");
    let o = e.docker(&["ps", "--format", "{{.Status}}", "--filter", "name=dpause"]);
    assert!(stdout(&o).contains("(Paused)"), "{}", stdout(&o));
    let o = e.docker(&["inspect", "-f", "{{.State.Status}}", "dpause"]);
    assert_eq!(stdout(&o).trim(), "paused");
    let o = e.docker(&["pause", "dpause"]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("is already paused"), "{}", stderr(&o));

    let o = e.docker(&["unpause", "dpause"]);
    assert!(o.status.success(), "docker unpause: {}", stderr(&o));
    assert_eq!(state(&e, &id)["Status"], "running");
}

#[test]
fn berth_pause_and_unpause() {
    let e = TestEngine::with_busybox();
    let id = run_detached(&e, named("dpause", sh(COUNTER)));

    // Headless berth.
    let o = e.berth(&["pause", "dpause"]);
    assert!(o.status.success(), "berth pause: {}", stderr(&o));
    assert_eq!(stdout(&o).trim(), "dpause");
    assert_eq!(state(&e, &id)["Status"], "paused");
    let o = e.berth(&["unpause", "dpause"]);
    assert!(o.status.success(), "berth unpause: {}", stderr(&o));
    assert_eq!(state(&e, &id)["Status"], "running");
    let o = e.berth(&["unpause", "dpause"]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("is not paused"), "{}", stderr(&o));
}

#[test]
fn sigkill_reaches_a_frozen_container() {
    let e = TestEngine::with_busybox();
    let id = run_detached(&e, named("dpause", sh(COUNTER)));

    // SIGKILL reaches a frozen container.
    let o = e.berth(&["pause", "dpause"]);
    assert!(o.status.success());
    let o = e.docker(&["kill", "dpause"]);
    assert!(o.status.success(), "docker kill: {}", stderr(&o));
    let st = eventually(Duration::from_secs(5), || {
        let st = state(&e, &id);
        (st["Status"] == "exited").then_some(st)
    })
    .expect("killed paused container exits");
    assert_eq!(st["ExitCode"], 137);
    let o = e.docker(&["unpause", "dpause"]);
    assert!(!o.status.success());
}

#[test]
fn a_paused_container_is_removed_only_by_force() {
    let e = TestEngine::with_busybox();
    // Forced removal of a paused container.
    let id2 = run_detached(&e, named("rmpaused", sh(COUNTER)));
    let o = e.docker(&["pause", "rmpaused"]);
    assert!(o.status.success());
    let o = e.docker(&["rm", "rmpaused"]);
    assert!(!o.status.success(), "rm of a paused container needs force");
    let o = e.docker(&["rm", "-f", "rmpaused"]);
    assert!(o.status.success(), "docker rm -f: {}", stderr(&o));
    assert_eq!(
        e.api("GET", &format!("/containers/{id2}/json"), None)
            .status,
        404
    );
    assert!(
        !std::path::Path::new(&format!("/sys/fs/cgroup/freezer/berth/{id2}")).exists()
            || eventually(Duration::from_secs(5), || {
                (!std::path::Path::new(&format!("/sys/fs/cgroup/freezer/berth/{id2}")).exists())
                    .then_some(())
            })
            .is_some(),
        "the cgroup of the removed container is gone"
    );
}

#[test]
fn top_lists_the_container_processes() {
    let e = TestEngine::with_busybox();
    let id = run_detached(&e, named("toppy", sh("sleep 300 & sleep 301")));

    let top = eventually(Duration::from_secs(10), || {
        let v = e.api_json("GET", &format!("/containers/{id}/top"), None);
        let cmds: Vec<String> = v["Processes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p[7].as_str().unwrap().to_string())
            .collect();
        (cmds.iter().any(|c| c == "sleep 300") && cmds.iter().any(|c| c == "sleep 301"))
            .then_some(v)
    })
    .expect("both sleeps are listed");
    assert_eq!(
        top["Titles"],
        json!(["UID", "PID", "PPID", "C", "STIME", "TTY", "TIME", "CMD"])
    );
    let procs = top["Processes"].as_array().unwrap();
    for p in procs {
        let row = p.as_array().unwrap();
        assert_eq!(row.len(), 8, "{p}");
        assert_eq!(row[0], "root");
        let pid: i32 = row[1].as_str().unwrap().parse().unwrap();
        assert!(pid > 1, "host pids are shown: {p}");
        assert_eq!(row[5], "?");
        assert_eq!(row[6], "00:00:00");
    }
    // The container's pid 1 (the shell or, if it exec'd, a sleep) is its host pid in inspect.
    let pid = state(&e, &id)["Pid"].as_i64().unwrap().to_string();
    assert!(procs.iter().any(|p| p[1] == pid.as_str()), "{top}");
    let ok = e.api("GET", &format!("/containers/{id}/top?ps_args=-ef"), None);
    assert_eq!(ok.status, 200);
    let bad = e.api("GET", &format!("/containers/{id}/top?ps_args=aux"), None);
    assert_eq!(bad.status, 400, "{}", bad.text());

    // Paused containers can still be listed.
    assert_eq!(
        e.api("POST", &format!("/containers/{id}/pause"), None)
            .status,
        204
    );
    let o = e.docker(&["top", "toppy"]);
    assert!(o.status.success(), "docker top: {}", stderr(&o));
    let out = stdout(&o);
    assert!(out.starts_with("UID"), "{out}");
    assert!(
        out.contains("sleep 300") && out.contains("sleep 301"),
        "{out}"
    );
    let o = e.berth(&["top", "toppy"]);
    assert!(o.status.success(), "berth top: {}", stderr(&o));
    let out = stdout(&o);
    assert!(out.starts_with("UID"), "{out}");
    assert!(
        out.contains("sleep 300") && out.contains("sleep 301"),
        "{out}"
    );

    let o = e.docker(&["kill", "toppy"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let r = e.api("GET", &format!("/containers/{id}/top"), None);
    assert_eq!(r.status, 409);
    assert_eq!(r.message(), format!("Container {id} is not running"));
    let o = e.berth(&["top", "toppy"]);
    assert!(!o.status.success());
}
