//! Real containers through the raw API: lifecycle and exit codes, output framing, logs, user and
//! environment, limits, isolation.

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

#[test]
fn exit_codes_of_finished_containers() {
    let e = TestEngine::with_busybox();

    let (code, out, _) = run(&e, sh("echo hello"));
    assert_eq!((code, out.as_str()), (0, "hello\n"));
    assert_eq!(run(&e, sh("exit 3")).0, 3);
}

#[test]
fn created_then_running_then_stop_escalates_to_sigkill() {
    let e = TestEngine::with_busybox();

    let id = create(
        &e,
        serde_json::json!({"Image": "busybox", "Cmd": ["sleep", "300"]}),
    );
    assert_eq!(inspect(&e, &id)["State"]["Status"], "created");
    start(&e, &id);
    let v = inspect(&e, &id);
    assert_eq!(v["State"]["Status"], "running");
    assert!(v["State"]["Pid"].as_i64().unwrap() > 0);
    // Starting a running container is a 304.
    assert_eq!(
        e.api("POST", &format!("/containers/{id}/start"), None)
            .status,
        304
    );
    // sleep as PID 1 ignores SIGTERM: stop escalates to SIGKILL after t → 137.
    let r = e.api("POST", &format!("/containers/{id}/stop?t=1"), None);
    assert_eq!(r.status, 204);
    let v = inspect(&e, &id);
    assert_eq!(v["State"]["Status"], "exited");
    assert_eq!(v["State"]["ExitCode"], 137);
    assert_ne!(v["State"]["FinishedAt"], "0001-01-01T00:00:00Z");
    assert_eq!(
        e.api("POST", &format!("/containers/{id}/stop"), None)
            .status,
        304
    );
}

#[test]
fn a_process_that_handles_sigterm_exits_143_on_stop() {
    let e = TestEngine::with_busybox();

    // A process that handles SIGTERM exits with 143.
    let id = create(
        &e,
        sh("trap 'exit 143' TERM; while true; do sleep 0.1; done"),
    );
    start(&e, &id);
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(
        e.api("POST", &format!("/containers/{id}/stop?t=10"), None)
            .status,
        204
    );
    assert_eq!(inspect(&e, &id)["State"]["ExitCode"], 143);
}

#[test]
fn kill_gives_137_and_kill_of_a_stopped_container_is_a_conflict() {
    let e = TestEngine::with_busybox();

    // kill with a signal; kill of a stopped container is a 409.
    let id = create(
        &e,
        serde_json::json!({"Image": "busybox", "Cmd": ["sleep", "300"]}),
    );
    start(&e, &id);
    assert_eq!(
        e.api("POST", &format!("/containers/{id}/kill"), None)
            .status,
        204
    );
    assert_eq!(wait(&e, &id), 137);
    assert_eq!(
        e.api("POST", &format!("/containers/{id}/kill"), None)
            .status,
        409
    );
}

#[test]
fn restart_runs_the_command_again() {
    let e = TestEngine::with_busybox();

    // Restart runs it again.
    let id = create(&e, sh("echo run"));
    start(&e, &id);
    wait(&e, &id);
    assert_eq!(
        e.api("POST", &format!("/containers/{id}/restart"), None)
            .status,
        204
    );
    wait(&e, &id);
    let (out, _) = logs(&e, &id, "stdout=1");
    assert_eq!(out, "run\nrun\n");
}

#[test]
fn missing_command_fails_start_with_127() {
    let e = TestEngine::with_busybox();
    let id = create(
        &e,
        serde_json::json!({"Image": "busybox", "Cmd": ["nosuchcmd"]}),
    );
    let r = e.api("POST", &format!("/containers/{id}/start"), None);
    assert!(r.status >= 400, "{}", r.status);
    assert!(
        r.message().contains("executable file not found"),
        "{}",
        r.message()
    );
    // dockerd 20.10 keeps a container that never ran Created, with the exit code and error.
    let v = inspect(&e, &id);
    assert_eq!(v["State"]["Status"], "created");
    assert_eq!(v["State"]["ExitCode"], 127);
    assert!(v["State"]["Error"].as_str().unwrap().contains("nosuchcmd"));
}

#[test]
fn remove_rules() {
    let e = TestEngine::with_busybox();
    let id = create(
        &e,
        serde_json::json!({"Image": "busybox", "Cmd": ["sleep", "300"]}),
    );
    start(&e, &id);
    let r = e.api("DELETE", &format!("/containers/{id}"), None);
    assert_eq!(r.status, 409);
    assert!(
        r.message().contains("cannot remove a running container"),
        "{}",
        r.message()
    );
    assert_eq!(
        e.api("DELETE", &format!("/containers/{id}?force=1"), None)
            .status,
        204
    );
    assert_eq!(
        e.api("GET", &format!("/containers/{id}/json"), None).status,
        404
    );
    assert!(!e.data_path(&format!("containers/{id}")).exists());
    // The image is in use by a container: deleting it is a 409 unless forced.
    let id = create(&e, sh("true"));
    let r = e.api("DELETE", "/images/busybox", None);
    assert_eq!(r.status, 409, "{}", r.text());
    e.api("DELETE", &format!("/containers/{id}"), None);
}

#[test]
fn stdout_and_stderr_are_framed_separately_in_order() {
    let e = TestEngine::with_busybox();
    let (code, out, err) = run(&e, sh("echo out1; echo err1 >&2; echo out2; echo err2 >&2"));
    assert_eq!(code, 0);
    assert_eq!(out, "out1\nout2\n");
    assert_eq!(err, "err1\nerr2\n");
}

#[test]
fn logs_tail_since_timestamps_and_follow() {
    let e = TestEngine::with_busybox();
    let id = create(&e, sh("for i in 1 2 3 4 5; do echo line$i; done"));
    start(&e, &id);
    wait(&e, &id);
    assert_eq!(logs(&e, &id, "stdout=1&tail=2").0, "line4\nline5\n");
    assert_eq!(logs(&e, &id, "stdout=1&tail=0").0, "");
    let (ts, _) = logs(&e, &id, "stdout=1&timestamps=1&tail=1");
    let (stamp, rest) = ts.split_once(' ').unwrap();
    assert!(chrono::DateTime::parse_from_rfc3339(stamp).is_ok(), "{ts}");
    assert_eq!(rest, "line5\n");
    let future = chrono::Utc::now().timestamp() + 3600;
    assert_eq!(logs(&e, &id, &format!("stdout=1&since={future}")).0, "");
    assert_eq!(logs(&e, &id, "stdout=1&until=1").0, "");
    let r = e.api("GET", &format!("/containers/{id}/logs"), None);
    assert_eq!(r.status, 400);

    // follow streams until the container exits.
    let id = create(&e, sh("echo a; sleep 1; echo b"));
    start(&e, &id);
    let r = e.api(
        "GET",
        &format!("/containers/{id}/logs?stdout=1&follow=1"),
        None,
    );
    assert_eq!(demux(&r.body).0, "a\nb\n");
}

#[test]
fn environment_workdir_user_and_groups() {
    let e = TestEngine::with_busybox();
    let (_, out, _) = run(
        &e,
        serde_json::json!({
            "Image": "busybox",
            "Cmd": ["sh", "-c", "echo $FOO; echo $PATH; echo $HOSTNAME; echo $HOME; pwd; id"],
            "Env": ["FOO=bar"],
            "WorkingDir": "/tmp/work",
            "Hostname": "myhost",
        }),
    );
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "bar");
    assert_eq!(
        lines[1],
        "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
    );
    assert_eq!(lines[2], "myhost");
    assert_eq!(lines[3], "/root");
    assert_eq!(lines[4], "/tmp/work");
    assert!(
        lines[5].starts_with("uid=0(root) gid=0(root)"),
        "{}",
        lines[5]
    );

    let (_, out, _) = run(
        &e,
        serde_json::json!({"Image": "busybox", "Cmd": ["sh", "-c", "id; echo $HOME"], "User": "app"}),
    );
    assert!(
        out.starts_with("uid=1000(app) gid=1000(app) groups=29(audio),50(staff),1000(app)"),
        "{out}"
    );
    assert!(out.ends_with("/home/app\n"), "{out}");
    let (_, out, _) = run(
        &e,
        serde_json::json!({"Image": "busybox", "Cmd": ["id"], "User": "1234:50"}),
    );
    assert!(out.starts_with("uid=1234 gid=50(staff)"), "{out}");
    let id = create(
        &e,
        serde_json::json!({"Image": "busybox", "Cmd": ["id"], "User": "nosuchuser"}),
    );
    let r = e.api("POST", &format!("/containers/{id}/start"), None);
    assert!(r.status >= 400);
    assert!(r.message().contains("nosuchuser"), "{}", r.message());
}

#[test]
fn cve_2022_24769_default_capabilities_inheritable_and_ambient_empty() {
    let e = TestEngine::with_busybox();

    let (_, out, _) = run(
        &e,
        sh("grep -E '^Cap(Inh|Prm|Eff|Bnd|Amb)' /proc/self/status"),
    );
    assert!(out.contains("CapEff:\t00000000a80425fb"), "{out}");
    assert!(out.contains("CapBnd:\t00000000a80425fb"), "{out}");
    assert!(out.contains("CapInh:\t0000000000000000"), "{out}");
    assert!(out.contains("CapAmb:\t0000000000000000"), "{out}");
}

#[test]
fn masked_and_read_only_kernel_paths() {
    let e = TestEngine::with_busybox();

    // Masked: /proc/interrupts and /proc/timer_list read as empty, /sys/firmware is an empty dir; /proc/sys read-only.
    let (_, out, err) = run(
        &e,
        sh("wc -c < /proc/interrupts; wc -c < /proc/timer_list; echo 1 > /proc/sys/kernel/domainname && echo writable || echo readonly; \
            if [ -e /sys/firmware ]; then ls -A /sys/firmware | wc -l; else echo 0; fi"),
    );
    assert_eq!(out, "0\n0\nreadonly\n0\n", "{out} {err}");
}

#[test]
fn cve_2024_21626_only_stdio_is_open_in_the_containers_first_process() {
    let e = TestEngine::with_busybox();

    // Only 0, 1, 2 are open in the container's first process (the shell; ls is its child).
    let (_, out, _) = run(&e, sh("ls /proc/1/fd; true"));
    assert_eq!(
        out.split_whitespace().collect::<Vec<_>>(),
        ["0", "1", "2"],
        "{out}"
    );
}

#[test]
fn seccomp_refuses_new_namespaces_without_cap_sys_admin() {
    let e = TestEngine::with_busybox();

    // Seccomp: namespaces cannot be created without CAP_SYS_ADMIN.
    let (code, _, _) = run(&e, sh("unshare -U true"));
    assert_ne!(code, 0);
}

#[test]
fn a_container_has_its_own_network_namespace() {
    let e = TestEngine::with_busybox();

    // The container's own network namespace: loopback and its bridge endpoint only.
    let (_, out, _) = run(&e, sh("ls /sys/class/net"));
    assert_eq!(
        out.split_whitespace().collect::<Vec<_>>(),
        ["eth0", "lo"],
        "{out}"
    );
}

#[test]
fn memory_limit_oom_kills_with_137() {
    let e = TestEngine::with_busybox();
    let id = create(
        &e,
        serde_json::json!({
            "Image": "busybox",
            "Cmd": ["tail", "/dev/zero"],
            "HostConfig": {"Memory": 16 * 1024 * 1024, "MemorySwap": 16 * 1024 * 1024}
        }),
    );
    start(&e, &id);
    assert_eq!(wait(&e, &id), 137);
    let v = inspect(&e, &id);
    assert_eq!(v["State"]["OOMKilled"], true);
}

#[test]
fn pids_limit_is_enforced() {
    let e = TestEngine::with_busybox();
    let (_, out, err) = run(
        &e,
        serde_json::json!({
            "Image": "busybox",
            "Cmd": ["sh", "-c", "for i in 1 2 3 4 5 6 7 8 9 10; do sleep 5 & done; wait; echo done"],
            "HostConfig": {"PidsLimit": 4}
        }),
    );
    assert!(
        err.contains("can't fork") || err.contains("Resource temporarily unavailable"),
        "out={out} err={err}"
    );
}

#[test]
fn cpu_limits_reach_the_cgroup() {
    let e = TestEngine::with_busybox();
    let id = create(
        &e,
        serde_json::json!({
            "Image": "busybox",
            "Cmd": ["sleep", "300"],
            "HostConfig": {"NanoCpus": 500_000_000i64, "CpuShares": 512}
        }),
    );
    start(&e, &id);
    let (quota, shares) = if std::path::Path::new("/sys/fs/cgroup/cgroup.controllers").exists() {
        let max = std::fs::read_to_string(format!("/sys/fs/cgroup/berth/{id}/cpu.max")).unwrap();
        (
            max.split_whitespace().next().unwrap().to_owned(),
            String::new(),
        )
    } else {
        let quota =
            std::fs::read_to_string(format!("/sys/fs/cgroup/cpu/berth/{id}/cpu.cfs_quota_us"))
                .unwrap();
        let shares =
            std::fs::read_to_string(format!("/sys/fs/cgroup/cpu/berth/{id}/cpu.shares")).unwrap();
        (quota.trim().to_owned(), shares.trim().to_owned())
    };
    assert_eq!(quota, "50000");
    if !shares.is_empty() {
        assert_eq!(shares, "512");
    }
    e.api("DELETE", &format!("/containers/{id}?force=1"), None);
}

#[test]
fn a_read_only_rootfs_refuses_writes() {
    let e = TestEngine::with_busybox();

    let (code, _, err) = run(
        &e,
        serde_json::json!({"Image": "busybox", "Cmd": ["touch", "/x"], "HostConfig": {"ReadonlyRootfs": true}}),
    );
    assert_ne!(code, 0);
    assert!(err.contains("Read-only file system"), "{err}");
}

#[test]
fn host_network_shows_the_hosts_interfaces() {
    let e = TestEngine::with_busybox();

    let (_, out, _) = run(
        &e,
        serde_json::json!({"Image": "busybox", "Cmd": ["ls", "/sys/class/net"], "HostConfig": {"NetworkMode": "host"}}),
    );
    assert!(
        out.split_whitespace().count() > 1,
        "host network shows host interfaces: {out}"
    );
}

#[test]
fn list_filters_and_prune() {
    let e = TestEngine::with_busybox();
    let a = create(
        &e,
        serde_json::json!({"Image": "busybox", "Cmd": ["true"], "Labels": {"team": "a"}}),
    );
    let b = create(
        &e,
        serde_json::json!({"Image": "busybox", "Cmd": ["sh", "-c", "exit 2"]}),
    );
    start(&e, &b);
    wait(&e, &b);
    let ids = |q: &str| -> Vec<String> {
        e.api_json("GET", &format!("/containers/json?{q}"), None)
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["Id"].as_str().unwrap().to_owned())
            .collect()
    };
    assert!(ids("").is_empty());
    assert_eq!(ids("all=1").len(), 2);
    assert_eq!(ids("all=1&limit=1"), vec![b.clone()]);
    let f = |v: &str| format!("all=1&filters={}", urlencode(v));
    assert_eq!(ids(&f(r#"{"label":["team=a"]}"#)), vec![a.clone()]);
    assert_eq!(ids(&f(r#"{"status":["exited"]}"#)), vec![b.clone()]);
    assert_eq!(ids(&f(r#"{"exited":["2"]}"#)), vec![b.clone()]);
    assert_eq!(
        ids(&f(&format!(r#"{{"id":["{}"]}}"#, &a[..6]))),
        vec![a.clone()]
    );
    assert_eq!(ids(&f(r#"{"ancestor":["busybox"]}"#)).len(), 2);
    let summary = &e.api_json("GET", "/containers/json?all=1&limit=1", None)[0];
    assert!(
        summary["Status"]
            .as_str()
            .unwrap()
            .starts_with("Exited (2)"),
        "{summary}"
    );
    assert_eq!(summary["Command"], "sh -c exit 2");
    let v = e.api_json("POST", "/containers/prune", None);
    assert_eq!(v["ContainersDeleted"].as_array().unwrap().len(), 2);
    assert!(ids("all=1").is_empty());
}

#[test]
fn auto_remove_removes_the_container_after_its_exit() {
    let e = TestEngine::with_busybox();

    let id = create(
        &e,
        serde_json::json!({"Image": "busybox", "Cmd": ["true"], "HostConfig": {"AutoRemove": true}}),
    );
    // wait answers its headers at once and its body at the exit: ask from another thread.
    let socket = e.socket.clone();
    let path = format!("/containers/{id}/wait?condition=removed");
    let waiter =
        std::thread::spawn(move || common::http::request(&socket, "POST", &path, None).unwrap());
    std::thread::sleep(Duration::from_millis(100));
    start(&e, &id);
    let r = waiter.join().unwrap();
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["StatusCode"], 0);
    assert!(eventually(Duration::from_secs(5), || {
        (e.api("GET", &format!("/containers/{id}/json"), None).status == 404).then_some(())
    })
    .is_some());
}

#[test]
fn rename_changes_the_name_and_frees_the_old_one() {
    let e = TestEngine::with_busybox();

    let id = create(&e, serde_json::json!({"Image": "busybox", "Cmd": ["true"]}));
    let old = inspect(&e, &id)["Name"].as_str().unwrap().to_owned();
    assert_eq!(
        e.api(
            "POST",
            &format!("/containers/{id}/rename?name=renamed"),
            None
        )
        .status,
        204
    );
    assert_eq!(inspect(&e, "renamed")["Id"], id.as_str());
    assert_eq!(
        e.api("GET", &format!("/containers{old}/json"), None).status,
        404
    );
}

#[test]
fn engine_kill9_and_restart_keeps_containers() {
    let mut e = TestEngine::with_busybox();
    let long = create(
        &e,
        sh("i=0; while true; do echo tick$i; i=$((i+1)); sleep 0.2; done"),
    );
    start(&e, &long);
    let short = create(&e, sh("sleep 1; exit 7"));
    start(&e, &short);
    let pid = inspect(&e, &long)["State"]["Pid"].as_i64().unwrap();
    e.kill9();
    std::thread::sleep(Duration::from_millis(1500));
    // The container kept running while the engine was down.
    assert!(std::path::Path::new(&format!("/proc/{pid}")).exists());
    e.spawn();
    let v = eventually(Duration::from_secs(5), || {
        let v = inspect(&e, &short);
        (v["State"]["Status"] == "exited").then_some(v)
    })
    .expect("short container settles as exited");
    assert_eq!(v["State"]["ExitCode"], 7);
    let v = inspect(&e, &long);
    assert_eq!(v["State"]["Status"], "running");
    assert_eq!(v["State"]["Pid"], pid);
    // Logging continued, and the reconnected engine can stop it.
    let before = logs(&e, &long, "stdout=1").0.lines().count();
    std::thread::sleep(Duration::from_millis(600));
    assert!(logs(&e, &long, "stdout=1").0.lines().count() > before);
    assert_eq!(
        e.api("POST", &format!("/containers/{long}/stop?t=1"), None)
            .status,
        204
    );
    assert_eq!(inspect(&e, &long)["State"]["Status"], "exited");
}

#[test]
fn auto_remove_happens_even_when_the_engine_was_down() {
    let mut e = TestEngine::with_busybox();
    let id = create(
        &e,
        serde_json::json!({"Image": "busybox", "Cmd": ["sleep", "1"], "HostConfig": {"AutoRemove": true}}),
    );
    start(&e, &id);
    e.kill9();
    std::thread::sleep(Duration::from_millis(1500));
    e.spawn();
    assert!(eventually(Duration::from_secs(5), || {
        (e.api("GET", &format!("/containers/{id}/json"), None).status == 404).then_some(())
    })
    .is_some());
}

#[test]
fn kill9_during_creates_leaves_no_half_listed_container() {
    let mut e = TestEngine::with_busybox();
    let socket = e.socket.clone();
    let creators: Vec<_> = (0..8)
        .map(|_| {
            let socket = socket.clone();
            std::thread::spawn(move || {
                for _ in 0..20 {
                    let _ = common::http::request(
                        &socket,
                        "POST",
                        "/containers/create",
                        Some(br#"{"Image":"busybox","Cmd":["true"]}"#),
                    );
                }
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(150));
    e.kill9();
    for c in creators {
        let _ = c.join();
    }
    e.spawn();
    let list = e.api_json("GET", "/containers/json?all=1", None);
    for c in list.as_array().unwrap() {
        let id = c["Id"].as_str().unwrap();
        let v = inspect(&e, id);
        assert_eq!(v["State"]["Status"], "created");
        assert!(e
            .data_path(&format!("containers/{id}/container.json"))
            .exists());
    }
    let leftovers = std::fs::read_dir(e.data_path("containers"))
        .unwrap()
        .flatten()
        .filter(|d| d.file_name().to_string_lossy().starts_with('.'))
        .count();
    assert_eq!(leftovers, 0);
}

#[test]
fn fifty_containers_in_parallel() {
    let e = TestEngine::with_busybox();
    let socket = e.socket.clone();
    let handles: Vec<_> = (0..50)
        .map(|i| {
            let socket = socket.clone();
            std::thread::spawn(move || {
                // Long enough to be running when listed however loaded the machine is; killed
                // below.
                let body =
                    format!(r#"{{"Image":"busybox","Cmd":["sh","-c","echo n{i}; sleep 120"]}}"#);
                let r = common::http::request(
                    &socket,
                    "POST",
                    "/containers/create",
                    Some(body.as_bytes()),
                )
                .unwrap();
                assert_eq!(r.status, 201, "{}", r.text());
                let id = r.json()["Id"].as_str().unwrap().to_owned();
                let r = common::http::request(
                    &socket,
                    "POST",
                    &format!("/containers/{id}/start"),
                    None,
                )
                .unwrap();
                assert_eq!(r.status, 204, "{}", r.text());
                id
            })
        })
        .collect();
    let ids: Vec<String> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    let running = e.api_json("GET", "/containers/json", None);
    assert_eq!(running.as_array().unwrap().len(), 50);
    for (i, id) in ids.iter().enumerate() {
        let r = e.api("POST", &format!("/containers/{id}/kill"), None);
        assert_eq!(r.status, 204, "{}", r.text());
        assert_eq!(wait(&e, id), 137);
        assert_eq!(logs(&e, id, "stdout=1").0, format!("n{i}\n"));
    }
}

#[test]
fn sigterm_of_the_engine_leaves_containers_running() {
    let mut e = TestEngine::with_busybox();
    let id = create(&e, sh("while true; do sleep 0.2; done"));
    start(&e, &id);
    let pid = inspect(&e, &id)["State"]["Pid"].as_i64().unwrap();
    e.terminate();
    assert!(!e.socket.exists(), "a clean shutdown removes the socket");
    std::thread::sleep(Duration::from_millis(500));
    assert!(std::path::Path::new(&format!("/proc/{pid}")).exists());
    e.spawn();
    let v = inspect(&e, &id);
    assert_eq!(v["State"]["Status"], "running");
    assert_eq!(v["State"]["Pid"], pid);
    assert_eq!(
        e.api("POST", &format!("/containers/{id}/kill"), None)
            .status,
        204
    );
    assert_eq!(wait(&e, &id), 137);
}

#[test]
fn resize_changes_the_container_terminal() {
    let e = TestEngine::with_busybox();
    let id = create(
        &e,
        serde_json::json!({
            "Image": "busybox", "Tty": true, "OpenStdin": true,
            "Cmd": ["sh", "-c", "sleep 1; stty size"]
        }),
    );
    // Not running yet: nothing to resize.
    assert_eq!(
        e.api("POST", &format!("/containers/{id}/resize?h=40&w=120"), None)
            .status,
        409
    );
    start(&e, &id);
    assert_eq!(
        e.api("POST", &format!("/containers/{id}/resize?h=40&w=120"), None)
            .status,
        204
    );
    assert_eq!(
        e.api("POST", &format!("/containers/{id}/resize?h=0&w=x"), None)
            .status,
        400
    );
    assert_eq!(wait(&e, &id), 0);
    let r = e.api("GET", &format!("/containers/{id}/logs?stdout=1"), None);
    // A TTY container's logs are raw, not framed.
    assert!(r.text().contains("40 120"), "{}", r.text());
}
