//! Lifecycle through the raw API: exit codes, stop escalation, kill, restart, a missing
//! command, remove rules, stdout/stderr framing, logs.

use super::*;

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
