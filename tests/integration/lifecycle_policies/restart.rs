//! Restart policies: on-failure retries, always and unless-stopped, back-off, stops during it,
//! refusals, and what an engine restart brings back.

use super::*;

#[test]
fn on_failure_retries_up_to_the_maximum_then_stays_exited() {
    let e = TestEngine::with_busybox();
    let id = docker_run(
        &e,
        &["--restart", "on-failure:2", "busybox", "sh", "-c", "exit 1"],
    );
    let done = eventually(Duration::from_secs(20), || {
        let (s, n) = status(&e, &id);
        (s == "exited" && n == 2).then_some(())
    });
    assert!(done.is_some(), "state: {}", inspect(&e, &id));
    // No third restart comes.
    std::thread::sleep(Duration::from_millis(1500));
    let i = inspect(&e, &id);
    assert_eq!(i["RestartCount"], 2, "{i}");
    assert_eq!(i["State"]["Status"], "exited");
    assert_eq!(i["State"]["ExitCode"], 1);
    assert_eq!(i["HostConfig"]["RestartPolicy"]["Name"], "on-failure");
    assert_eq!(i["HostConfig"]["RestartPolicy"]["MaximumRetryCount"], 2);
    // One die and one start per run: the first and two restarts.
    let evs = events_of(&e, &id);
    assert_eq!(count_action(&evs, "start"), 3, "{evs:?}");
    assert_eq!(count_action(&evs, "die"), 3, "{evs:?}");
    let order: Vec<&str> = evs
        .iter()
        .filter_map(|e| e["Action"].as_str())
        .filter(|a| *a == "start" || *a == "die")
        .collect();
    assert_eq!(order, ["start", "die", "start", "die", "start", "die"]);

    // Exit 0 is not a failure: no restart at all.
    let ok = docker_run(
        &e,
        &["--restart", "on-failure", "busybox", "sh", "-c", "exit 0"],
    );
    eventually(Duration::from_secs(10), || {
        (status(&e, &ok).0 == "exited").then_some(())
    })
    .expect("exits");
    std::thread::sleep(Duration::from_millis(700));
    assert_eq!(status(&e, &ok), ("exited".into(), 0));
}

#[test]
fn always_restarts_after_exit_0_until_stopped_and_start_resets() {
    let e = TestEngine::with_busybox();
    let id = docker_run(
        &e,
        &["--restart", "always", "busybox", "sh", "-c", "sleep 0.2"],
    );
    eventually(Duration::from_secs(20), || {
        (status(&e, &id).1 >= 2).then_some(())
    })
    .unwrap_or_else(|| panic!("no restarts: {}", inspect(&e, &id)));

    let o = e.docker(&["stop", "-t", "1", &id]);
    assert!(o.status.success(), "stop: {}", stderr(&o));
    let (s, n) = status(&e, &id);
    assert_eq!(s, "exited");
    // Stopped for good: nothing restarts it.
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(status(&e, &id), ("exited".into(), n));

    // A user start resets the count and the policy applies again.
    let o = e.docker(&["start", &id]);
    assert!(o.status.success(), "start: {}", stderr(&o));
    eventually(Duration::from_secs(20), || {
        (status(&e, &id).1 >= 1).then_some(())
    })
    .expect("restarts again after start");
    assert!(status(&e, &id).1 < n.max(2) + 3);

    // docker kill stops it too.
    let o = e.docker(&["kill", &id]);
    assert!(o.status.success(), "kill: {}", stderr(&o));
    eventually(Duration::from_secs(5), || {
        (status(&e, &id).0 == "exited").then_some(())
    })
    .expect("exited after kill");
    let n = status(&e, &id).1;
    std::thread::sleep(Duration::from_millis(1200));
    assert_eq!(status(&e, &id), ("exited".into(), n));

    // docker restart clears the manual stop.
    let o = e.docker(&["restart", "-t", "1", &id]);
    assert!(o.status.success(), "restart: {}", stderr(&o));
    eventually(Duration::from_secs(20), || {
        (status(&e, &id).1 >= 1).then_some(())
    })
    .expect("policy applies after docker restart");
}

#[test]
fn backoff_grows_and_rm_force_ends_a_restart_loop() {
    let e = TestEngine::with_busybox();
    let id = docker_run(
        &e,
        &[
            "--name",
            "flappy",
            "--restart",
            "on-failure",
            "busybox",
            "sh",
            "-c",
            "exit 3",
        ],
    );
    // Restarts at 100, 200, 400, 800 ms... : wait for five starts.
    let starts = eventually(Duration::from_secs(30), || {
        let t: Vec<i64> = events_of(&e, &id)
            .iter()
            .filter(|e| e["Action"] == "start")
            .map(|e| e["timeNano"].as_i64().unwrap())
            .collect();
        (t.len() >= 5).then_some(t)
    })
    .expect("five starts");
    let gaps: Vec<i64> = starts
        .windows(2)
        .map(|w| (w[1] - w[0]) / 1_000_000)
        .collect();
    // Each wait is twice the previous one, plus the container's own short run. Only lower bounds
    // are checked: a loaded machine stretches gaps, it never shortens the back-off.
    for (i, gap) in gaps.iter().take(4).enumerate() {
        let backoff = 100 << i;
        assert!(
            *gap >= backoff * 9 / 10,
            "gap {i} shorter than {backoff} ms: {gaps:?}"
        );
    }

    // While waiting it is `restarting`, and docker ps says so.
    let seen = eventually(Duration::from_secs(20), || {
        let o = e.docker(&[
            "ps",
            "-a",
            "--filter",
            "name=flappy",
            "--format",
            "{{.Status}}",
        ]);
        let s = stdout(&o);
        s.starts_with("Restarting (3)").then_some(s)
    });
    assert!(seen.is_some(), "never seen restarting");
    let i = inspect(&e, &id);
    assert!(i["RestartCount"].as_i64().unwrap() >= 4, "{i}");

    // rm -f in the middle of the loop: gone, and nothing starts again.
    let o = e.docker(&["rm", "-f", &id]);
    assert!(o.status.success(), "rm -f: {}", stderr(&o));
    assert_eq!(
        e.api("GET", &format!("/containers/{id}/json"), None).status,
        404
    );
    let starts_before = count_action(&events_of(&e, &id), "start");
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(count_action(&events_of(&e, &id), "start"), starts_before);
    let all = e.api_json("GET", "/containers/json?all=1", None);
    assert_eq!(all.as_array().unwrap().len(), 0, "{all}");
}

#[test]
fn stop_during_backoff_settles_exited() {
    let e = TestEngine::with_busybox();
    // A command that fails at once: after a few restarts the container spends most of its
    // time in the back-off wait.
    let id = docker_run(&e, &["--restart", "on-failure", "busybox", "false"]);
    eventually(Duration::from_secs(20), || {
        (status(&e, &id).0 == "restarting" && status(&e, &id).1 >= 4).then_some(())
    })
    .expect("restarting");
    let o = e.docker(&["stop", &id]);
    assert!(o.status.success(), "stop: {}", stderr(&o));
    let i = inspect(&e, &id);
    assert_eq!(i["State"]["Status"], "exited", "{i}");
    assert_eq!(i["State"]["Restarting"], false);
    let n = i["RestartCount"].as_i64().unwrap();
    std::thread::sleep(Duration::from_millis(2500));
    assert_eq!(status(&e, &id), ("exited".into(), n));
}

#[test]
fn bad_restart_policies_are_refused() {
    let e = TestEngine::with_busybox();
    for (policy, auto_remove, want) in [
        (
            json!({"Name": "sometimes"}),
            false,
            "unknown policy 'sometimes'",
        ),
        (
            json!({"Name": "always", "MaximumRetryCount": 3}),
            false,
            "maximum retry count can only be used with 'on-failure'",
        ),
        (
            json!({"Name": "on-failure", "MaximumRetryCount": -1}),
            false,
            "cannot be negative",
        ),
        (
            json!({"Name": "unless-stopped"}),
            true,
            "can't create 'AutoRemove' container with restart policy",
        ),
    ] {
        let body = json!({
            "Image": "busybox", "Cmd": ["true"],
            "HostConfig": {"RestartPolicy": policy, "AutoRemove": auto_remove},
        });
        let r = e.api("POST", "/containers/create", Some(&body.to_string()));
        assert_eq!(r.status, 400, "{policy}: {}", r.text());
        assert!(r.message().contains(want), "{policy}: {}", r.message());
    }
    // CLIs: one readable line, exit 125.
    for args in [
        &["run", "-d", "--restart", "bogus", "busybox", "true"][..],
        &["run", "-d", "--restart", "always:3", "busybox", "true"],
        &["run", "-d", "--restart", "on-failure:x", "busybox", "true"],
        &["run", "--rm", "--restart", "always", "busybox", "true"],
    ] {
        let o = e.berth(args);
        assert_eq!(o.status.code(), Some(125), "berth {args:?}: {}", stderr(&o));
        assert_eq!(stderr(&o).trim().lines().count(), 1, "{}", stderr(&o));
    }
    let o = e.docker(&["run", "-d", "--restart", "bogus", "busybox", "true"]);
    assert_eq!(o.status.code(), Some(125), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("unknown policy 'bogus'"),
        "{}",
        stderr(&o)
    );
    // Nothing half-created.
    let all = e.api_json("GET", "/containers/json?all=1", None);
    assert_eq!(all.as_array().unwrap().len(), 0, "{all}");
}

#[test]
fn engine_restart_applies_always_and_unless_stopped() {
    let mut e = TestEngine::with_busybox();
    let always = docker_run(
        &e,
        &[
            "--name",
            "always",
            "--restart",
            "always",
            "busybox",
            "sleep",
            "1000",
        ],
    );
    let unless = docker_run(
        &e,
        &[
            "--name",
            "unless",
            "--restart",
            "unless-stopped",
            "busybox",
            "sleep",
            "1000",
        ],
    );
    let running = docker_run(
        &e,
        &[
            "--name",
            "running",
            "--restart",
            "unless-stopped",
            "busybox",
            "sleep",
            "1000",
        ],
    );
    let crashed = docker_run(
        &e,
        &[
            "--name",
            "crashed",
            "--restart",
            "always",
            "busybox",
            "sleep",
            "1000",
        ],
    );
    for id in [&always, &unless] {
        let o = e.docker(&["stop", "-t", "1", id]);
        assert!(o.status.success(), "stop: {}", stderr(&o));
    }
    let crashed_pid = inspect(&e, &crashed)["State"]["Pid"].as_i64().unwrap();
    let running_pid = inspect(&e, &running)["State"]["Pid"].as_i64().unwrap();
    assert!(crashed_pid > 0);

    e.kill9();
    // While the engine is down, one container's process dies (as after a crash or a reboot).
    unsafe { libc::kill(crashed_pid as i32, libc::SIGKILL) };
    std::thread::sleep(Duration::from_millis(300));
    e.spawn();

    let back = eventually(Duration::from_secs(20), || {
        let ok = status(&e, &always).0 == "running" && status(&e, &crashed).0 == "running";
        ok.then_some(())
    });
    assert!(
        back.is_some(),
        "always: {} crashed: {}\n{}",
        inspect(&e, &always)["State"],
        inspect(&e, &crashed)["State"],
        e.log()
    );
    std::thread::sleep(Duration::from_millis(500));
    // The manually stopped unless-stopped container stays stopped; the running one was simply
    // reconnected (same process).
    assert_eq!(status(&e, &unless).0, "exited");
    let r = inspect(&e, &running);
    assert_eq!(r["State"]["Status"], "running");
    assert_eq!(r["State"]["Pid"], running_pid);
    // The crashed one came back through its policy: a new process. (Whether that counts in
    // RestartCount depends on who saw the death first: the engine's restart of `always`
    // containers at start does not count, a policy restart after its shim reports does.)
    let c = inspect(&e, &crashed);
    assert_eq!(c["State"]["Status"], "running");
    let new_pid = c["State"]["Pid"].as_i64().unwrap();
    assert!(new_pid > 0 && new_pid != crashed_pid, "{}", c["State"]);
    let o = e.docker(&["ps", "--format", "{{.Names}}"]);
    let names = stdout(&o);
    for n in ["always", "running", "crashed"] {
        assert!(names.lines().any(|l| l == n), "{names}");
    }
    assert!(!names.lines().any(|l| l == "unless"), "{names}");
}

// ---------------------------------------------------------------------------------------------
// Health checks
