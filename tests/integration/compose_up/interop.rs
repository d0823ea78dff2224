//! The same project across tools: docker compose v2 and docker-compose 1.29 on one side, berth
//! compose on the other, each listing and removing what the other started.

use super::*;

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
