//! Health checks: healthy and unhealthy with events, `ps` and filters; probe timeouts; image
//! healthchecks inherited, overridden or switched off; `berth run` flags; refusals.

use super::*;

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
