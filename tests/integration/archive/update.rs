//! `docker update` of a running container's limits, as the cgroup shows them, and its refusals.

use super::*;

fn cgroup_file(id: &str, ctrl: &str, file: &str) -> String {
    for base in [
        format!("/sys/fs/cgroup/{ctrl}/berth/{id}"),
        format!("/sys/fs/cgroup/berth/{id}"),
    ] {
        if let Ok(s) = std::fs::read_to_string(Path::new(&base).join(file)) {
            return s.trim().to_string();
        }
    }
    panic!("no cgroup file {ctrl}/{file} for {id}");
}

#[test]
fn update_running_container() {
    let e = TestEngine::with_busybox();
    let id = create(
        &e,
        "upd",
        "sleep 600",
        json!({"HostConfig": {"Memory": 64 << 20}}),
    );
    start(&e, &id);
    let v2 = std::fs::read_to_string("/sys/fs/cgroup/cgroup.controllers")
        .is_ok_and(|s| !s.trim().is_empty());
    let r = e.api(
        "POST",
        &format!("/containers/{id}/update"),
        Some(&json!({"Memory": 128 << 20, "CpuShares": 512, "PidsLimit": 50}).to_string()),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json(), json!({"Warnings": []}));
    if v2 {
        assert_eq!(
            cgroup_file(&id, "", "memory.max"),
            (128u64 << 20).to_string()
        );
        assert_eq!(cgroup_file(&id, "", "pids.max"), "50");
    } else {
        assert_eq!(
            cgroup_file(&id, "memory", "memory.limit_in_bytes"),
            (128u64 << 20).to_string()
        );
        assert_eq!(cgroup_file(&id, "cpu", "cpu.shares"), "512");
        assert_eq!(cgroup_file(&id, "pids", "pids.max"), "50");
    }
    let hc = &e.api_json("GET", &format!("/containers/{id}/json"), None)["HostConfig"];
    assert_eq!(hc["Memory"], 128 << 20);
    assert_eq!(hc["CpuShares"], 512);
    assert_eq!(hc["PidsLimit"], 50);
    // The stock CLI.
    let o = e.docker(&[
        "update",
        "--cpus",
        "0.5",
        "--restart",
        "on-failure:3",
        "upd",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stdout(&o).trim(), "upd");
    if !v2 {
        assert_eq!(cgroup_file(&id, "cpu", "cpu.cfs_quota_us"), "50000");
    }
    let hc = &e.api_json("GET", &format!("/containers/{id}/json"), None)["HostConfig"];
    assert_eq!(hc["NanoCpus"], 500_000_000);
    assert_eq!(hc["RestartPolicy"]["Name"], "on-failure");
    assert_eq!(hc["RestartPolicy"]["MaximumRetryCount"], 3);
    // berth.
    let o = e.berth(&["update", "--pids-limit", "77", "-m", "96m", "upd"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let hc = &e.api_json("GET", &format!("/containers/{id}/json"), None)["HostConfig"];
    assert_eq!(hc["PidsLimit"], 77);
    assert_eq!(hc["Memory"], 96 << 20);
    // The next start uses the stored limits.
    let r = e.api("POST", &format!("/containers/{id}/restart?t=0"), None);
    assert_eq!(r.status, 204);
    if !v2 {
        assert_eq!(cgroup_file(&id, "pids", "pids.max"), "77");
        assert_eq!(
            cgroup_file(&id, "memory", "memory.limit_in_bytes"),
            (96u64 << 20).to_string()
        );
    }
}

#[test]
fn update_rejects_bad_values() {
    let e = TestEngine::with_busybox();
    let id = create(
        &e,
        "badupd",
        "sleep 600",
        json!({"HostConfig": {"Memory": 64 << 20}}),
    );
    start(&e, &id);
    for (body, msg) in [
        (
            json!({"Memory": 1 << 20}),
            "Minimum memory limit allowed is 6MB",
        ),
        (
            json!({"Memory": 64 << 20, "MemorySwap": 32 << 20}),
            "memoryswap",
        ),
        (json!({"CpuPeriod": 10}), "CPU cfs period"),
        (
            json!({"RestartPolicy": {"Name": "sometimes"}}),
            "invalid restart policy",
        ),
        (json!({"CpusetCpus": "0"}), "not supported"),
    ] {
        let r = e.api(
            "POST",
            &format!("/containers/{id}/update"),
            Some(&body.to_string()),
        );
        assert_eq!(r.status, 400, "{body}: {}", r.text());
        assert!(r.message().contains(msg), "{body}: {}", r.message());
    }
    let r = e.api(
        "POST",
        &format!("/containers/{id}/update"),
        Some("{not json"),
    );
    assert_eq!(r.status, 400);
    let r = e.api("POST", "/containers/nosuch/update", Some("{}"));
    assert_eq!(r.status, 404);
    // Nothing changed.
    let hc = &e.api_json("GET", &format!("/containers/{id}/json"), None)["HostConfig"];
    assert_eq!(hc["Memory"], 64 << 20);
    let o = e.docker(&["update", "-m", "1m", "badupd"]);
    assert!(!o.status.success());
    let o = e.berth(&["update", "-m", "1m", "badupd"]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(stderr(&o).trim().lines().count(), 1, "{}", stderr(&o));
    assert!(
        stderr(&o).contains("Minimum memory limit"),
        "{}",
        stderr(&o)
    );
}
