//! Restart policies and health checks with a real engine, real containers and the stock docker
//! CLI: retries and back-off, manual stops, engine restarts, probes, timeouts, events and `ps`.

use crate::common;

use std::time::Duration;

use common::api::inspect;
use common::{eventually, now_ts, stderr, stdout, urlencode, TestEngine};
use serde_json::{json, Value};

/// Events of one container so far (replayed from the engine's ring).
fn events_of(e: &TestEngine, id: &str) -> Vec<Value> {
    let filters = json!({ "container": [id] }).to_string();
    let r = e.api(
        "GET",
        &format!(
            "/events?since=0&until={}&filters={}",
            now_ts(),
            urlencode(&filters)
        ),
        None,
    );
    assert_eq!(r.status, 200, "{}", r.text());
    r.text()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn count_action(events: &[Value], action: &str) -> usize {
    events.iter().filter(|e| e["Action"] == action).count()
}

/// `docker run -d ARGS`; the container id.
fn docker_run(e: &TestEngine, args: &[&str]) -> String {
    let mut all = vec!["run", "-d"];
    all.extend_from_slice(args);
    let o = e.docker(&all);
    assert!(o.status.success(), "docker run {args:?}: {}", stderr(&o));
    stdout(&o).trim().to_owned()
}

fn status(e: &TestEngine, id: &str) -> (String, i64) {
    let i = inspect(e, id);
    (
        i["State"]["Status"].as_str().unwrap().to_owned(),
        i["RestartCount"].as_i64().unwrap(),
    )
}

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

fn health(e: &TestEngine, id: &str) -> Value {
    inspect(e, id)["State"]["Health"].clone()
}

fn wait_health(e: &TestEngine, id: &str, want: &str, secs: u64) -> Value {
    eventually(Duration::from_secs(secs), || {
        let h = health(e, id);
        (h["Status"] == want).then_some(h)
    })
    .unwrap_or_else(|| panic!("health never {want}: {}", inspect(e, id)["State"]))
}

fn ps_status(e: &TestEngine, name: &str) -> String {
    let o = e.docker(&[
        "ps",
        "-a",
        "--filter",
        &format!("name={name}"),
        "--format",
        "{{.Status}}",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    stdout(&o).trim().to_owned()
}

fn ps_names(e: &TestEngine, filter: &str) -> Vec<String> {
    let o = e.docker(&["ps", "-a", "--filter", filter, "--format", "{{.Names}}"]);
    assert!(o.status.success(), "{}", stderr(&o));
    stdout(&o).lines().map(str::to_owned).collect()
}

#[test]
fn healthy_and_unhealthy_with_events_ps_and_filters() {
    let e = TestEngine::with_busybox();
    let since = now_ts();
    let good = docker_run(
        &e,
        &[
            "--name",
            "good",
            "--health-cmd",
            "echo ok",
            "--health-interval",
            "200ms",
            "busybox",
            "sleep",
            "1000",
        ],
    );
    let bad = docker_run(
        &e,
        &[
            "--name",
            "bad",
            "--health-cmd",
            "echo nope >&2; false",
            "--health-interval",
            "100ms",
            "--health-retries",
            "2",
            "busybox",
            "sleep",
            "1000",
        ],
    );
    let plain = docker_run(&e, &["--name", "plain", "busybox", "sleep", "1000"]);
    // Starting first (the first probe comes after one interval).
    let st = ps_status(&e, "good");
    assert!(
        st.ends_with("(health: starting)") || st.ends_with("(healthy)"),
        "{st}"
    );

    let h = wait_health(&e, &good, "healthy", 15);
    assert_eq!(h["FailingStreak"], 0);
    let log = h["Log"].as_array().unwrap();
    assert!(!log.is_empty());
    assert_eq!(log[0]["ExitCode"], 0);
    assert_eq!(log[0]["Output"], "ok\n");
    assert!(log[0]["Start"].as_str().unwrap() <= log[0]["End"].as_str().unwrap());
    assert!(
        ps_status(&e, "good").ends_with("(healthy)"),
        "{}",
        ps_status(&e, "good")
    );

    let h = wait_health(&e, &bad, "unhealthy", 15);
    assert!(h["FailingStreak"].as_i64().unwrap() >= 2, "{h}");
    assert_eq!(h["Log"][0]["ExitCode"], 1);
    assert_eq!(h["Log"][0]["Output"], "nope\n");
    assert!(ps_status(&e, "bad").ends_with("(unhealthy)"));
    // More probes: the log keeps the last five.
    eventually(Duration::from_secs(15), || {
        (health(&e, &bad)["FailingStreak"].as_i64().unwrap() >= 7).then_some(())
    })
    .expect("streak grows");
    assert_eq!(health(&e, &bad)["Log"].as_array().unwrap().len(), 5);

    // Probes are not exec instances.
    assert!(inspect(&e, &good)["ExecIDs"].is_null());
    // No health state without a healthcheck.
    assert!(inspect(&e, &plain)["State"].get("Health").is_none());
    assert!(!ps_status(&e, "plain").contains('('));

    assert_eq!(ps_names(&e, "health=healthy"), ["good"]);
    assert_eq!(ps_names(&e, "health=unhealthy"), ["bad"]);
    assert_eq!(ps_names(&e, "health=none"), ["plain"]);
    assert!(ps_names(&e, "health=starting").is_empty());
    let o = e.docker(&["ps", "--filter", "health=sick"]);
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("Unrecognised filter value for health: sick"),
        "{}",
        stderr(&o)
    );

    // Events: one per change, docker's action text; `event=health_status` matches them.
    let o = e.docker(&[
        "events",
        "--since",
        &since,
        "--until",
        &now_ts(),
        "--filter",
        "event=health_status",
        "--format",
        "{{.Actor.Attributes.name}} {{.Action}}",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let lines: Vec<String> = stdout(&o).lines().map(str::to_owned).collect();
    assert_eq!(
        lines,
        [
            "good health_status: healthy",
            "bad health_status: unhealthy"
        ],
        "{lines:?}"
    );

    // Stopping ends the probes (status unhealthy, as docker); a start begins at starting.
    let o = e.docker(&["stop", "-t", "1", "good"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let h = health(&e, &good);
    assert_eq!(h["Status"], "unhealthy");
    let n = h["Log"].as_array().unwrap().len();
    std::thread::sleep(Duration::from_millis(600));
    assert_eq!(health(&e, &good)["Log"].as_array().unwrap().len(), n);
    let o = e.docker(&["start", "good"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let st = health(&e, &good)["Status"].clone();
    assert!(st == "starting" || st == "healthy", "{st}");
    wait_health(&e, &good, "healthy", 15);
}

#[test]
fn probe_timeout_kills_the_probe() {
    let e = TestEngine::with_busybox();
    let id = docker_run(
        &e,
        &[
            "--health-cmd",
            "sleep 5",
            "--health-timeout",
            "300ms",
            "--health-interval",
            "200ms",
            "--health-retries",
            "1",
            "busybox",
            "sleep",
            "1000",
        ],
    );
    let h = wait_health(&e, &id, "unhealthy", 15);
    let last = &h["Log"][0];
    assert_eq!(last["ExitCode"], -1, "{h}");
    assert_eq!(
        last["Output"], "Health check exceeded timeout (300ms)",
        "{h}"
    );
    // The timed-out probes were killed: at most the current one is running.
    let o = e.docker(&["exec", &id, "ps"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let sleeping = stdout(&o).lines().filter(|l| l.contains("sleep 5")).count();
    assert!(sleeping <= 1, "{}", stdout(&o));
}

/// Import busybox as "hcbox:latest" with an image healthcheck: `true` every 200ms, 2 retries.
fn import_hcbox(e: &TestEngine) {
    let tar = common::image::busybox_rootfs_tar();
    let change = urlencode("HEALTHCHECK --interval=200ms --retries=2 CMD [\"true\"]");
    let r = common::http::request(
        &e.socket,
        "POST",
        &format!("/images/create?fromSrc=-&repo=hcbox&tag=latest&changes={change}"),
        Some(&tar),
    )
    .unwrap();
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(!r.text().contains("errorDetail"), "{}", r.text());
    let img = e.api_json("GET", "/images/hcbox/json", None);
    assert_eq!(img["Config"]["Healthcheck"]["Test"], json!(["CMD", "true"]));
    assert_eq!(img["Config"]["Healthcheck"]["Interval"], 200_000_000);
}

#[test]
fn a_healthcheck_is_inherited_from_the_image() {
    let e = TestEngine::start();
    import_hcbox(&e);

    // Inherited from the image.
    let inherits = docker_run(&e, &["hcbox", "sleep", "1000"]);
    wait_health(&e, &inherits, "healthy", 15);
}

#[test]
fn health_timings_can_be_overridden_keeping_the_images_test() {
    let e = TestEngine::start();
    import_hcbox(&e);

    // Timings overridden, the image's test kept.
    let tuned = docker_run(&e, &["--health-retries", "5", "hcbox", "sleep", "1000"]);
    let cfg = inspect(&e, &tuned)["Config"]["Healthcheck"].clone();
    assert_eq!(cfg["Test"], json!(["CMD", "true"]), "{cfg}");
    assert_eq!(cfg["Retries"], 5);
    assert_eq!(cfg["Interval"], 200_000_000);
}

#[test]
fn no_healthcheck_switches_the_images_off() {
    let e = TestEngine::start();
    import_hcbox(&e);

    // --no-healthcheck switches it off.
    let off = docker_run(
        &e,
        &[
            "--name",
            "off",
            "--no-healthcheck",
            "hcbox",
            "sleep",
            "1000",
        ],
    );
    std::thread::sleep(Duration::from_millis(800));
    let i = inspect(&e, &off);
    assert_eq!(i["Config"]["Healthcheck"]["Test"], json!(["NONE"]));
    assert!(i["State"].get("Health").is_none(), "{}", i["State"]);
    assert_eq!(ps_names(&e, "health=none"), ["off"]);
}

#[test]
fn berth_run_takes_the_health_flags() {
    let e = TestEngine::start();
    import_hcbox(&e);

    // berth --headless takes the same flags.
    let o = e.berth(&[
        "run",
        "-d",
        "--name",
        "hb",
        "--health-cmd",
        "test -d /",
        "--health-interval",
        "100ms",
        "hcbox",
        "sleep",
        "1000",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let hb = stdout(&o).trim().to_owned();
    let h = wait_health(&e, &hb, "healthy", 15);
    assert_eq!(
        inspect(&e, &hb)["Config"]["Healthcheck"]["Test"],
        json!(["CMD-SHELL", "test -d /"])
    );
    assert_eq!(h["FailingStreak"], 0);
    let o = e.berth(&["ps", "--filter", "name=hb"]);
    assert!(stdout(&o).contains("(healthy)"), "{}", stdout(&o));
}

#[test]
fn bad_healthchecks_are_refused() {
    let e = TestEngine::with_busybox();
    for (hc, want) in [
        (
            json!({"Test": ["CMD", "true"], "Interval": 5}),
            "Interval in Healthcheck cannot be less than 1ms",
        ),
        (
            json!({"Test": ["CMD", "true"], "Timeout": 10}),
            "Timeout in Healthcheck cannot be less than 1ms",
        ),
        (
            json!({"Test": ["CMD", "true"], "Retries": -2}),
            "Retries in Healthcheck cannot be negative",
        ),
        (json!({"Test": ["CMD"]}), "needs a command"),
        (
            json!({"Test": ["RUN", "x"]}),
            "unknown Healthcheck.Test type",
        ),
        (
            json!({"Test": ["CMD", "true"], "Interval": "soon"}),
            "invalid Healthcheck",
        ),
    ] {
        let body = json!({"Image": "busybox", "Cmd": ["true"], "Healthcheck": hc});
        let r = e.api("POST", "/containers/create", Some(&body.to_string()));
        assert_eq!(r.status, 400, "{hc}: {}", r.text());
        assert!(r.message().contains(want), "{hc}: {}", r.message());
    }
    for args in [
        &["run", "-d", "--health-interval", "soon", "busybox", "true"][..],
        &["run", "-d", "--health-interval", "-1s", "busybox", "true"],
        &[
            "run",
            "-d",
            "--no-healthcheck",
            "--health-cmd",
            "true",
            "busybox",
            "true",
        ],
        &["run", "-d", "--health-retries", "many", "busybox", "true"],
    ] {
        let o = e.berth(args);
        assert_eq!(o.status.code(), Some(125), "berth {args:?}: {}", stderr(&o));
        assert_eq!(stderr(&o).trim().lines().count(), 1, "{}", stderr(&o));
    }
    let o = e.docker(&[
        "run",
        "-d",
        "--health-interval",
        "100us",
        "--health-cmd",
        "true",
        "busybox",
        "true",
    ]);
    assert_eq!(o.status.code(), Some(125), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("cannot be less than 1ms"),
        "{}",
        stderr(&o)
    );
    // import --change with a bad HEALTHCHECK is a clean 400 (nothing imported).
    let change = urlencode("HEALTHCHECK --interval=fast CMD true");
    // The engine may answer before it read the whole upload (the client then sees a broken
    // pipe); either way nothing is imported.
    if let Ok(r) = common::http::request(
        &e.socket,
        "POST",
        &format!("/images/create?fromSrc=-&repo=badhc&tag=latest&changes={change}"),
        Some(&common::image::busybox_rootfs_tar()),
    ) {
        let text = r.text();
        assert!(
            r.status == 400 || text.contains("errorDetail"),
            "{}: {text}",
            r.status
        );
    }
    assert_eq!(e.api("GET", "/images/badhc/json", None).status, 404);
    let all = e.api_json("GET", "/containers/json?all=1", None);
    assert_eq!(all.as_array().unwrap().len(), 0, "{all}");
}
