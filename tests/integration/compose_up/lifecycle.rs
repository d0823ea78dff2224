//! One project's life under berth compose: up, ps, recreate on change, scale, profiles, down;
//! a failing health gate; bad files; one-off runs.

use super::*;

const STACK: &str = r#"
name: shop
# busybox's sleep ignores SIGTERM as PID 1: stop with SIGKILL (merged into each service).
x-fast: &fast
  stop_signal: SIGKILL
services:
  seed:
    <<: *fast
    image: busybox
    command: ["sh", "-c", "echo seeded > /data/seed"]
    volumes: [data:/data]
  db:
    <<: *fast
    image: busybox
    command: ["sh", "-c", "sleep 1; touch /ready; exec sleep 300"]
    healthcheck:
      test: ["CMD", "test", "-f", "/ready"]
      interval: 1s
      timeout: 2s
      retries: 20
    volumes: [data:/data, cache:/cache]
  web:
    <<: *fast
    image: busybox
    command: ["sleep", "300"]
    environment:
      GREETING: ${GREETING:-hello}
    depends_on:
      db: {condition: service_healthy}
      seed: {condition: service_completed_successfully}
  tools:
    <<: *fast
    image: busybox
    command: ["sleep", "300"]
    profiles: [debug]
volumes:
  data: {}
  cache: {}
"#;

#[test]
fn up_ps_recreate_scale_profiles_and_down_leave_nothing() {
    let e = TestEngine::with_busybox();
    let dir = project_dir("shop", STACK);
    let d = dir.path();
    ok(&berth_compose(&e, d, &["up", "-d"]));
    let cs = containers(&e, "shop");
    assert_eq!(
        names(&cs),
        ["shop-db-1", "shop-seed-1", "shop-web-1"],
        "the profiled service stays off"
    );
    let web = cs.iter().find(|c| c["Names"][0] == "/shop-web-1").unwrap();
    assert_eq!(web["State"], "running");
    let labels = &web["Labels"];
    for (k, v) in [
        ("com.docker.compose.project", "shop"),
        ("com.docker.compose.service", "web"),
        ("com.docker.compose.container-number", "1"),
        ("com.docker.compose.oneoff", "False"),
    ] {
        assert_eq!(labels[k], v, "label {k}");
    }
    assert_eq!(
        labels["com.docker.compose.config-hash"]
            .as_str()
            .unwrap()
            .len(),
        64
    );
    assert!(labels["com.docker.compose.depends_on"]
        .as_str()
        .unwrap()
        .contains("db:service_healthy"));
    // The seeder ran to completion before web started, with the shared volume.
    let seed = cs.iter().find(|c| c["Names"][0] == "/shop-seed-1").unwrap();
    assert_eq!(seed["State"], "exited");
    let out = ok(&e.berth(&["exec", "shop-db-1", "cat", "/data/seed"]));
    assert_eq!(out.trim(), "seeded");
    assert_eq!(labelled(&e, "networks", "shop"), 1);
    assert_eq!(labelled(&e, "volumes", "shop"), 2);

    // ps lists the services; an unchanged up recreates nothing.
    let ps = ok(&berth_compose(&e, d, &["ps", "--format", "json"]));
    assert!(ps.contains("shop-web-1"), "{ps}");
    let ids = |e: &TestEngine| -> Vec<String> {
        containers(e, "shop")
            .iter()
            .map(|c| c["Id"].as_str().unwrap().to_string())
            .collect()
    };
    let before = ids(&e);
    let out = berth_compose(&e, d, &["up", "-d"]);
    ok(&out);
    assert_eq!(ids(&e), before, "{}", stderr(&out));

    // A changed environment recreates web only.
    let out = berth_compose(&e, d, &["up", "-d"]);
    ok(&out);
    let mut cmd = e.berth_command(&["compose", "up", "-d"]);
    let out = cmd
        .current_dir(d)
        .env("GREETING", "bonjour")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    ok(&out);
    let after = containers(&e, "shop");
    let web2 = after
        .iter()
        .find(|c| c["Names"][0] == "/shop-web-1")
        .unwrap();
    assert_ne!(web2["Id"], web["Id"], "web was recreated");
    let db_before = cs.iter().find(|c| c["Names"][0] == "/shop-db-1").unwrap();
    let db_after = after
        .iter()
        .find(|c| c["Names"][0] == "/shop-db-1")
        .unwrap();
    assert_eq!(db_before["Id"], db_after["Id"], "db was left running");
    let env = ok(&e.berth(&["exec", "shop-web-1", "sh", "-c", "echo $GREETING"]));
    assert_eq!(env.trim(), "bonjour");

    // Scale up and down.
    ok(&berth_compose(
        &e,
        d,
        &["up", "-d", "--scale", "web=3", "web"],
    ));
    let webs: Vec<String> = names(&containers(&e, "shop"))
        .into_iter()
        .filter(|n| n.contains("-web-"))
        .collect();
    assert_eq!(webs, ["shop-web-1", "shop-web-2", "shop-web-3"]);
    ok(&berth_compose(
        &e,
        d,
        &["up", "-d", "--scale", "web=1", "web"],
    ));
    let webs: Vec<String> = names(&containers(&e, "shop"))
        .into_iter()
        .filter(|n| n.contains("-web-"))
        .collect();
    assert_eq!(webs, ["shop-web-1"]);

    // A profile turns the debug service on.
    ok(&berth_compose(&e, d, &["--profile", "debug", "up", "-d"]));
    assert!(names(&containers(&e, "shop")).contains(&"shop-tools-1".to_string()));

    // down -v leaves nothing of the project.
    ok(&berth_compose(&e, d, &["--profile", "debug", "down", "-v"]));
    assert!(containers(&e, "shop").is_empty());
    assert_eq!(labelled(&e, "networks", "shop"), 0);
    assert_eq!(labelled(&e, "volumes", "shop"), 0);
}

#[test]
fn a_failing_health_gate_stops_up_with_docker_compose_words() {
    let e = TestEngine::with_busybox();
    let dir = project_dir(
        "gate",
        r#"
services:
  db:
    image: busybox
    command: ["sleep", "300"]
    stop_signal: SIGKILL
    healthcheck: {test: ["CMD", "false"], interval: 1s, retries: 1}
  web:
    image: busybox
    command: ["sleep", "300"]
    stop_signal: SIGKILL
    depends_on: {db: {condition: service_healthy}}
"#,
    );
    let out = berth_compose(&e, dir.path(), &["-p", "gate", "up", "-d"]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("dependency failed to start: container gate-db-1 is unhealthy"),
        "{}",
        stderr(&out)
    );
    ok(&berth_compose(&e, dir.path(), &["-p", "gate", "down"]));
}

#[test]
fn bad_files_are_refused_with_file_line_and_column() {
    let e = TestEngine::start();
    for (yaml, want) in [
        ("services:\n  web:\n    image: busybox\n    imagee: x\n", "additional properties 'imagee' not allowed"),
        ("services:\n  web:\n    image: busybox\n    depends_on: [nope]\n", "depends on undefined service \"nope\""),
        ("services:\n  a:\n    image: busybox\n    depends_on: [b]\n  b:\n    image: busybox\n    depends_on: [a]\n", "dependency cycle detected"),
        ("services:\n  web:\n    image: ${IMG:?set IMG}\n", "required variable IMG is missing a value: set IMG"),
        ("services:\n  web:\n    image: [busybox\n", "compose.yaml:"),
    ] {
        let dir = project_dir("bad", yaml);
        let out = berth_compose(&e, dir.path(), &["up", "-d"]);
        assert!(!out.status.success());
        let err = stderr(&out);
        assert!(err.contains(want), "{yaml}\n{err}");
        assert_eq!(err.trim().lines().count(), 1, "one line: {err}");
    }
    let dir = project_dir(
        "bad",
        "services:\n  web:\n    image: busybox\n    imagee: x\n",
    );
    let err = stderr(&berth_compose(&e, dir.path(), &["config"]));
    assert!(
        err.contains("compose.yaml:4:5:"),
        "the position of the unknown key: {err}"
    );
}

#[test]
fn run_makes_a_one_off_container_with_the_command_s_status() {
    let e = TestEngine::with_busybox();
    let dir = project_dir(
        "oneoff",
        r#"
services:
  db:
    image: busybox
    command: ["sleep", "300"]
    stop_signal: SIGKILL
  app:
    image: busybox
    environment: {FROM_FILE: "yes"}
    depends_on: [db]
"#,
    );
    let d = dir.path();
    let out = berth_compose(
        &e,
        d,
        &[
            "-p",
            "oneoff",
            "run",
            "--rm",
            "-T",
            "-e",
            "X=1",
            "app",
            "sh",
            "-c",
            "echo $FROM_FILE $X; exit 3",
        ],
    );
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert_eq!(stdout(&out).trim(), "yes 1");
    // The dependency was brought up; the one-off container is gone (--rm).
    let cs = containers(&e, "oneoff");
    assert_eq!(names(&cs), ["oneoff-db-1"]);
    // A kept one-off is labelled as docker compose labels it.
    let out = berth_compose(
        &e,
        d,
        &["-p", "oneoff", "run", "-T", "--no-deps", "app", "true"],
    );
    ok(&out);
    let cs = containers(&e, "oneoff");
    let run = cs
        .iter()
        .find(|c| {
            c["Names"][0]
                .as_str()
                .unwrap()
                .starts_with("/oneoff-app-run-")
        })
        .expect("the one-off container");
    assert_eq!(run["Labels"]["com.docker.compose.oneoff"], "True");
    assert_eq!(
        run["Labels"]["com.docker.compose.slug"]
            .as_str()
            .unwrap()
            .len(),
        64
    );
    ok(&berth_compose(
        &e,
        d,
        &["-p", "oneoff", "down", "--remove-orphans"],
    ));
    assert!(containers(&e, "oneoff").is_empty());
}
