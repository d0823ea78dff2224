//! `network_mode: service:x`: the sidecar joins the container of `x` (`container:<id>` on the
//! engine), is recreated with it, and docker compose v2 agrees that nothing else changed.

use super::*;

const SIDECAR: &str = r#"
name: mesh
services:
  base:
    image: busybox
    stop_signal: SIGKILL
    command: ["sh", "-c", "mkdir -p /www && echo $$MSG > /www/index.html && exec httpd -f -p 127.0.0.1:8080 -h /www"]
    environment:
      MSG: ${MSG:-one}
  sidecar:
    image: busybox
    stop_signal: SIGKILL
    command: ["sleep", "300"]
    network_mode: "service:base"
"#;

/// What the sidecar reads from base's loopback-only server.
fn through_sidecar(e: &TestEngine, d: &Path) -> String {
    eventually(Duration::from_secs(10), || {
        let out = berth_compose(
            e,
            d,
            &[
                "exec",
                "-T",
                "sidecar",
                "wget",
                "-qO-",
                "http://127.0.0.1:8080/",
            ],
        );
        out.status
            .success()
            .then(|| stdout(&out).trim().to_string())
    })
    .expect("the sidecar reaches base's loopback")
}

fn ids(e: &TestEngine) -> Vec<String> {
    containers(e, "mesh")
        .iter()
        .map(|c| c["Id"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn a_sidecar_shares_its_service_s_network_and_is_recreated_with_it() {
    let e = TestEngine::with_busybox();
    let dir = project_dir("mesh", SIDECAR);
    let d = dir.path();
    ok(&berth_compose(&e, d, &["up", "-d"]));
    let first = ids(&e);
    assert_eq!(
        names(&containers(&e, "mesh")),
        ["mesh-base-1", "mesh-sidecar-1"]
    );
    let base = crate::common::api::inspect(&e, &first[0]);
    let side = crate::common::api::inspect(&e, &first[1]);
    assert_eq!(
        side["HostConfig"]["NetworkMode"],
        format!("container:{}", first[0])
    );
    assert_eq!(side["Config"]["Hostname"], base["Config"]["Hostname"]);
    assert_eq!(through_sidecar(&e, d), "one");

    // Unchanged: nothing recreated.
    ok(&berth_compose(&e, d, &["up", "-d"]));
    assert_eq!(ids(&e), first);
    // base changed: base is recreated, and the sidecar with it (its mode names base's new id).
    ok(&e
        .berth_command(&["compose", "up", "-d"])
        .current_dir(d)
        .env("MSG", "two")
        .stdin(Stdio::null())
        .output()
        .unwrap());
    let second = ids(&e);
    assert_ne!(second[0], first[0]);
    assert_ne!(second[1], first[1]);
    let side = crate::common::api::inspect(&e, &second[1]);
    assert_eq!(
        side["HostConfig"]["NetworkMode"],
        format!("container:{}", second[0])
    );
    assert_eq!(through_sidecar(&e, d), "two");

    // docker compose v2 computes the same hashes: it recreates nothing.
    if let Some(v2) = compose_v2() {
        let out = Command::new(&v2)
            .args(["up", "-d"])
            .current_dir(d)
            .env("DOCKER_HOST", e.host())
            .env("MSG", "two")
            .stdin(Stdio::null())
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
        assert_eq!(ids(&e), second, "docker compose v2 recreated something");
    }
    ok(&berth_compose(&e, d, &["down"]));
    assert!(containers(&e, "mesh").is_empty());
    assert_eq!(labelled(&e, "networks", "mesh"), 0);
}
