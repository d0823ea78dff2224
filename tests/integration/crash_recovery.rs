//! The engine SIGKILLed at the worst moments of create, start and remove, each moment made
//! exact by leaving on disk what a kill there leaves: after the restart every container that
//! runs is listed, nothing runs that no container accounts for, and removing leaves no shim and
//! no cgroup. Then tests/chaos/engine_kills.py: clients and random kills together.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use serde_json::Value;

use crate::common;
use common::{eventually, ok, TestEngine};

/// Host pids of the shims serving this engine's containers.
fn shims(e: &TestEngine) -> Vec<String> {
    let out = Command::new("pgrep")
        .args(["-f", &format!("__berth-shim {}/", e.data_root.display())])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .map(str::to_owned)
        .collect()
}

/// Whether a process of the container's cgroup is alive (any hierarchy that has the file).
fn cgroup_procs(id: &str) -> Option<usize> {
    for root in [
        "/sys/fs/cgroup/pids",
        "/sys/fs/cgroup/memory",
        "/sys/fs/cgroup/unified",
        "/sys/fs/cgroup",
    ] {
        let f = Path::new(root).join("berth").join(id).join("cgroup.procs");
        if let Ok(s) = std::fs::read_to_string(&f) {
            return Some(s.split_whitespace().count());
        }
    }
    None
}

fn edit_record(e: &TestEngine, id: &str, f: impl FnOnce(&mut Value)) {
    let path = e.data_path(&format!("containers/{id}/container.json"));
    let mut rec: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    f(&mut rec);
    std::fs::write(&path, serde_json::to_vec(&rec).unwrap()).unwrap();
}

fn run_sleeper(e: &TestEngine) -> String {
    ok(&e.docker(&["run", "-d", "busybox", "sleep", "600"]))
        .trim()
        .to_owned()
}

#[test]
fn a_start_the_kill_left_unrecorded_is_adopted() {
    let mut e = TestEngine::with_busybox();
    let id = run_sleeper(&e);
    assert_eq!(shims(&e).len(), 1);
    // Killed after the shim started, before the record said `running`.
    e.kill9();
    edit_record(&e, &id, |r| {
        r["State"]["Status"] = "created".into();
        r["State"]["Pid"] = 0.into();
    });
    e.spawn();
    let state = eventually(Duration::from_secs(10), || {
        let s = e.api_json("GET", &format!("/containers/{id}/json"), None)["State"].clone();
        (s["Status"] == "running").then_some(s)
    })
    .unwrap_or_else(|| panic!("not adopted\n{}", e.log()));
    assert!(state["Pid"].as_i64().unwrap() > 0);
    // It is really under the engine's control: rm -f ends the process and the shim.
    ok(&e.docker(&["rm", "-f", &id]));
    assert!(eventually(Duration::from_secs(10), || shims(&e)
        .is_empty()
        .then_some(()))
    .is_some());
    assert!(eventually(Duration::from_secs(10), || cgroup_procs(&id)
        .is_none()
        .then_some(()))
    .is_some());
}

#[test]
fn a_shim_for_a_half_removed_container_is_ended_with_its_processes() {
    let mut e = TestEngine::with_busybox();
    let id = run_sleeper(&e);
    let kept = run_sleeper(&e);
    e.kill9();
    // Killed between a removal's rename and its deletion, the process still running.
    let dir = e.data_path(&format!("containers/{id}"));
    std::fs::rename(&dir, dir.with_file_name(format!(".removing-{id}"))).unwrap();
    assert_eq!(cgroup_procs(&id), Some(1));
    e.spawn();
    ok(&e.docker(&["ps"]));
    assert!(
        eventually(Duration::from_secs(10), || cgroup_procs(&id)
            .is_none()
            .then_some(()))
        .is_some(),
        "{}",
        e.log()
    );
    assert_eq!(
        shims(&e).len(),
        1,
        "only the listed container's shim is left"
    );
    let listed = ok(&e.docker(&["ps", "-q", "--no-trunc"]));
    assert_eq!(listed.trim(), kept);
    ok(&e.docker(&["rm", "-f", &kept]));
}

#[test]
fn processes_a_lost_shim_left_are_killed_before_the_container_is_settled() {
    let mut e = TestEngine::with_busybox();
    let id = run_sleeper(&e);
    e.kill9();
    // The shim dies too (OOM killer, a careless kill): its container's process lives on.
    for pid in shims(&e) {
        Command::new("kill").args(["-9", &pid]).status().unwrap();
    }
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(
        cgroup_procs(&id),
        Some(1),
        "the container process outlived its shim"
    );
    e.spawn();
    let state = eventually(Duration::from_secs(10), || {
        let s = e.api_json("GET", &format!("/containers/{id}/json"), None)["State"].clone();
        (s["Status"] == "exited").then_some(s)
    })
    .unwrap_or_else(|| panic!("not settled\n{}", e.log()));
    assert_eq!(state["ExitCode"], 255);
    assert_eq!(cgroup_procs(&id), None, "its processes and cgroup are gone");
    ok(&e.docker(&["rm", &id]));
}

#[test]
fn an_interrupted_rm_v_removes_the_anonymous_volume_at_restart() {
    let mut e = TestEngine::with_busybox();
    let id = ok(&e.docker(&["create", "-v", "/anon", "busybox", "true"]))
        .trim()
        .to_owned();
    let vol = e.api_json("GET", &format!("/containers/{id}/json"), None)["Mounts"][0]["Name"]
        .as_str()
        .unwrap()
        .to_owned();
    e.kill9();
    let dir = e.data_path(&format!("containers/{id}"));
    std::fs::write(dir.join("remove-volumes"), b"").unwrap();
    std::fs::rename(&dir, dir.with_file_name(format!(".removing-{id}"))).unwrap();
    e.spawn();
    let vols = ok(&e.docker(&["volume", "ls", "-q"]));
    assert!(!vols.contains(&vol), "{vols}");
    assert_eq!(
        e.api("GET", &format!("/containers/{id}/json"), None).status,
        404
    );
}

#[test]
fn chaos_clients_and_engine_kills_lose_nothing_and_leave_nothing() {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/chaos/engine_kills.py");
    let out = Command::new("python3")
        .args([script, "--ops", "250", "--kills", "8", "--clients", "3"])
        .args(["--berth", env!("CARGO_BIN_EXE_berth")])
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{text}");
    let kills = text
        .split(" engine kills")
        .next()
        .and_then(|s| s.rsplit(' ').next())
        .and_then(|n| n.parse::<u32>().ok());
    assert!(kills >= Some(8), "{text}");
    assert!(text.contains("nothing left behind"), "{text}");
}
