//! `berth compose` verbs that read and act on a running project (ps, ls, logs, top, port,
//! images, events, exec, kill, pause, unpause, rm), on containers made here through the API
//! with docker compose's labels, so they do not depend on berth's own `up`. `differential`
//! brings a project up with the real docker compose, when installed, and compares outputs.

mod differential;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::{json, Value};

use crate::common::{self, api, eventually, free_port, ok, stderr, stdout, TestEngine};

/// Create and start `{project}-{service}-{number}` running `cmd`, labelled as docker compose
/// labels its containers; `extra` is merged into the create body. The id.
pub fn service_container(
    e: &TestEngine,
    project: &str,
    service: &str,
    number: u32,
    cmd: &str,
    extra: Value,
) -> String {
    let mut body = api::sh(cmd);
    body["Labels"] = json!({
        "com.docker.compose.project": project,
        "com.docker.compose.service": service,
        "com.docker.compose.container-number": number.to_string(),
        "com.docker.compose.oneoff": "False",
        "com.docker.compose.config-hash": "0123abcd",
        "com.docker.compose.depends_on": "",
        "com.docker.compose.version": "2.40.3",
        "com.docker.compose.project.working_dir": format!("/srv/{project}"),
        "com.docker.compose.project.config_files": format!("/srv/{project}/compose.yaml"),
    });
    for (k, v) in extra.as_object().into_iter().flatten() {
        body[k] = v.clone();
    }
    api::run_detached(
        e,
        api::named(&format!("{project}-{service}-{number}"), body),
    )
}

/// `berth compose ARGS` against `e`.
fn compose(e: &TestEngine, args: &[&str]) -> std::process::Output {
    let mut all = vec!["compose"];
    all.extend_from_slice(args);
    e.berth(&all)
}

/// The same with `input` on stdin.
fn compose_with_input(e: &TestEngine, args: &[&str], input: &[u8]) -> std::process::Output {
    let mut all = vec!["compose"];
    all.extend_from_slice(args);
    common::with_stdin(e.berth_command(&all), input)
}

/// Run `cmd` to its end, killed (and the test failed) past `limit`.
fn with_deadline(mut cmd: Command, limit: Duration) -> std::process::Output {
    let child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id() as i32;
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    match rx.recv_timeout(limit) {
        Ok(out) => out.unwrap(),
        Err(_) => {
            unsafe { libc::kill(pid, libc::SIGKILL) };
            panic!("still running after {limit:?}");
        }
    }
}

fn wait_exited(e: &TestEngine, id: &str) {
    let done = eventually(Duration::from_secs(20), || {
        (api::inspect(e, id)["State"]["Status"] == "exited").then_some(())
    });
    assert!(done.is_some(), "{id} never exited");
}

#[test]
fn ps_ls_port_top_and_images_know_a_project_by_name() {
    let e = TestEngine::with_busybox();
    let port = free_port();
    let bindings = json!({"HostConfig": {"PortBindings": {"80/tcp": [{"HostPort": port.to_string()}]}},
        "ExposedPorts": {"80/tcp": {}}});
    let web = service_container(&e, "cmds", "web", 1, "sleep 300", bindings);
    service_container(&e, "cmds", "db", 1, "sleep 300", json!({}));
    service_container(&e, "cmds", "db", 2, "sleep 300", json!({}));
    let job = service_container(&e, "cmds", "job", 1, "exit 3", json!({}));
    wait_exited(&e, &job);

    let table = ok(&compose(&e, &["-p", "cmds", "ps"]));
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(lines.len(), 4, "{table}");
    assert!(
        lines[0].starts_with("NAME         IMAGE     COMMAND   "),
        "{table}"
    );
    assert!(lines[0].ends_with("PORTS"), "{table}");
    assert!(
        lines[1].starts_with("cmds-db-1    busybox   \"sh -c sleep 300\"   db  "),
        "{table}"
    );
    assert!(
        lines[3].ends_with(&format!("0.0.0.0:{port}->80/tcp")),
        "{table}"
    );

    let json = ok(&compose(
        &e,
        &["-p", "cmds", "ps", "-a", "--format", "json"],
    ));
    let rows: Vec<Value> = json
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let names: Vec<&str> = rows.iter().map(|r| r["Name"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        ["cmds-db-1", "cmds-db-2", "cmds-job-1", "cmds-web-1"]
    );
    assert_eq!(rows[2]["ExitCode"], 3);
    assert_eq!(rows[2]["State"], "exited");
    assert_eq!(rows[3]["Publishers"][0]["PublishedPort"], port);
    assert_eq!(rows[3]["ID"], &web[..12]);

    let ids = ok(&compose(&e, &["-p", "cmds", "ps", "-q", "web"]));
    assert_eq!(ids, format!("{web}\n"));
    assert_eq!(
        ok(&compose(&e, &["-p", "cmds", "ps", "--services"])),
        "db\nweb\n"
    );
    let exited = compose(
        &e,
        &[
            "-p",
            "cmds",
            "ps",
            "--status",
            "exited",
            "--format",
            "{{.Name}}",
        ],
    );
    assert_eq!(ok(&exited), "cmds-job-1\n");

    let ls = ok(&compose(&e, &["ls"]));
    assert_eq!(
        ls,
        "NAME                STATUS              CONFIG FILES\n\
         cmds                running(3)          /srv/cmds/compose.yaml\n"
    );
    let ls = ok(&compose(&e, &["ls", "-a", "--format", "json"]));
    assert_eq!(
        ls,
        "[{\"Name\":\"cmds\",\"Status\":\"exited(1), running(3)\",\"ConfigFiles\":\"/srv/cmds/compose.yaml\"}]\n"
    );
    assert_eq!(
        ok(&compose(&e, &["ls", "-q", "--filter", "name=^cm"])),
        "cmds\n"
    );

    assert_eq!(
        ok(&compose(&e, &["-p", "cmds", "port", "web", "80"])),
        format!("0.0.0.0:{port}\n")
    );
    let o = compose(&e, &["-p", "cmds", "port", "web", "81"]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        stderr(&o),
        format!("no port 81/tcp for container cmds-web-1: {port}/tcp\n")
    );

    let top = ok(&compose(&e, &["-p", "cmds", "top", "db"]));
    let top: Vec<&str> = top.lines().collect();
    assert!(top[0].starts_with("SERVICE  #   "), "{top:?}");
    assert!(top[0].ends_with("CMD"), "{top:?}");
    assert!(
        top[1].starts_with("db       1   ") && top[1].ends_with("sleep 300"),
        "{top:?}"
    );
    assert!(top[2].starts_with("db       2   "), "{top:?}");

    let images = ok(&compose(&e, &["-p", "cmds", "images"]));
    assert!(
        images.starts_with("CONTAINER           REPOSITORY          TAG "),
        "{images}"
    );
    assert!(
        images.contains("\ncmds-web-1          busybox             latest              linux/"),
        "{images}"
    );
    let ids = ok(&compose(&e, &["-p", "cmds", "images", "-q"]));
    assert_eq!(ids.lines().count(), 1, "{ids}");

    // Without -p, the project comes from a compose file: none here.
    let dir = tempfile::tempdir().unwrap();
    let o = e
        .berth_command(&["compose", "ps"])
        .current_dir(dir.path())
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(stderr(&o), "no configuration file provided: not found\n");
}

#[test]
fn logs_merge_prefixed_lines_and_follow_until_all_exit() {
    let e = TestEngine::with_busybox();
    // Both still run when `logs -f` starts (it would wait for them to start again otherwise).
    let alpha = "echo one; echo two >&2; sleep 5; echo three";
    service_container(&e, "lg", "alpha", 1, alpha, json!({}));
    service_container(&e, "lg", "b", 1, "echo beta; sleep 6; exit 4", json!({}));
    let first = eventually(Duration::from_secs(10), || {
        let text = stdout(&compose(&e, &["-p", "lg", "logs", "--no-color"]));
        (text.contains("one") && text.contains("two") && text.contains("beta")).then_some(text)
    })
    .expect("the first lines");
    let mut lines: Vec<&str> = first.lines().collect();
    lines.sort();
    // The prefix widens as names arrive: either order of arrival gives these widths.
    assert!(
        lines.iter().any(|l| l.starts_with("alpha-1  | one")),
        "{first}"
    );
    assert!(
        lines.iter().any(|l| l.starts_with("alpha-1  | two")),
        "{first}"
    );
    assert!(lines.iter().any(|l| l.starts_with("b-1")), "{first}");

    let o = compose(
        &e,
        &["-p", "lg", "logs", "--no-log-prefix", "--tail", "1", "b"],
    );
    assert_eq!(ok(&o), "beta\n");
    let o = compose(&e, &["-p", "lg", "logs", "--index", "1"]);
    assert_eq!(stderr(&o), "--index requires one service to be selected\n");

    let o = with_deadline(
        e.berth_command(&["compose", "-p", "lg", "logs", "-f", "--no-color"]),
        Duration::from_secs(60),
    );
    let text = ok(&o);
    assert!(text.contains("alpha-1  | three\n"), "{text}");
    assert!(text.contains("\r\x1b[Kb-1 exited with code 4\n"), "{text}");
    assert!(
        text.contains("\r\x1b[Kalpha-1 exited with code 0\n"),
        "{text}"
    );
}

#[test]
fn exec_runs_in_a_service_container_with_its_status() {
    let e = TestEngine::with_busybox();
    service_container(&e, "ex", "web", 1, "sleep 300", json!({}));
    service_container(&e, "ex", "web", 2, "sleep 300", json!({}));
    let o = compose(
        &e,
        &[
            "-p",
            "ex",
            "exec",
            "-T",
            "-e",
            "X=1",
            "web",
            "sh",
            "-c",
            "echo x$X; exit 3",
        ],
    );
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert_eq!(stdout(&o), "x1\n");
    let o = compose(
        &e,
        &["-p", "ex", "exec", "-T", "--index", "2", "web", "hostname"],
    );
    let id2 = api::inspect(&e, "ex-web-2")["Id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(ok(&o).trim(), &id2[..12]);
    let o = compose_with_input(&e, &["-p", "ex", "exec", "-T", "web", "cat"], b"piped\n");
    assert_eq!(ok(&o), "piped\n");
    let o = compose(&e, &["-p", "ex", "exec", "-T", "db", "true"]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(stderr(&o), "service \"db\" is not running\n");
}

fn sorted_lines(s: &str) -> Vec<String> {
    let mut v: Vec<String> = s.lines().map(String::from).collect();
    v.sort();
    v
}

#[test]
fn kill_pause_and_rm_report_as_docker_compose() {
    let e = TestEngine::with_busybox();
    service_container(&e, "life", "web", 1, "sleep 300", json!({}));
    service_container(&e, "life", "web", 2, "sleep 300", json!({}));
    let o = compose(&e, &["-p", "life", "pause"]);
    assert_eq!(
        sorted_lines(&stderr(&o)),
        [
            " Container life-web-1  Paused",
            " Container life-web-2  Paused"
        ]
    );
    assert_eq!(api::inspect(&e, "life-web-1")["State"]["Status"], "paused");
    let o = compose(&e, &["-p", "life", "unpause", "web"]);
    assert_eq!(
        sorted_lines(&stderr(&o)),
        [
            " Container life-web-1  Unpaused",
            " Container life-web-2  Unpaused"
        ]
    );
    let o = compose(&e, &["-p", "life", "rm", "-f"]);
    assert_eq!(stderr(&o), "No stopped containers\n");

    let o = compose(&e, &["-p", "life", "kill", "-s", "SIGKILL"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        sorted_lines(&stderr(&o)),
        [
            " Container life-web-1  Killed",
            " Container life-web-1  Killing",
            " Container life-web-2  Killed",
            " Container life-web-2  Killing",
        ]
    );
    wait_exited(&e, "life-web-1");
    wait_exited(&e, "life-web-2");
    let o = compose(&e, &["-p", "life", "kill"]);
    assert_eq!(stderr(&o), "no container to kill");

    // Piped, docker compose prints the bare question and reads a word: "n" keeps them.
    let o = compose_with_input(&e, &["-p", "life", "rm"], b"n\n");
    let question = stdout(&o);
    assert!(
        question.starts_with("Going to remove life-web-"),
        "{question}"
    );
    assert!(!question.ends_with('\n'), "{question:?}");
    assert_eq!(
        e.api("GET", "/containers/life-web-1/json", None).status,
        200
    );
    let o = compose_with_input(&e, &["-p", "life", "rm", "-v"], b"y\n");
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        sorted_lines(&stderr(&o)),
        [
            " Container life-web-1  Removed",
            " Container life-web-1  Removing",
            " Container life-web-2  Removed",
            " Container life-web-2  Removing",
        ]
    );
    assert_eq!(
        e.api("GET", "/containers/life-web-1/json", None).status,
        404
    );
}

/// A child's stdout lines, read on a thread so the test can wait with a deadline.
fn lines_of(child: &mut Child) -> std::sync::mpsc::Receiver<String> {
    let (tx, rx) = std::sync::mpsc::channel();
    let out = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

#[test]
fn events_stream_the_projects_containers() {
    let e = TestEngine::with_busybox();
    let id = service_container(&e, "ev", "web", 1, "sleep 300", json!({}));
    service_container(&e, "other", "web", 1, "sleep 300", json!({}));
    let mut child: Child = e
        .berth_command(&["compose", "-p", "ev", "events", "--json"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let rx = lines_of(&mut child);
    // The stream is open once the engine has it: retry the pause until a line comes.
    let mut line = None;
    for _ in 0..20 {
        e.api("POST", "/containers/other-web-1/pause", None);
        e.api("POST", "/containers/ev-web-1/pause", None);
        if let Ok(l) = rx.recv_timeout(Duration::from_millis(500)) {
            line = Some(l);
            break;
        }
        e.api("POST", "/containers/ev-web-1/unpause", None);
        e.api("POST", "/containers/other-web-1/unpause", None);
    }
    let _ = child.kill();
    let _ = child.wait();
    let v: Value = serde_json::from_str(&line.expect("an event")).unwrap();
    assert_eq!(v["id"], id.as_str());
    assert_eq!(v["service"], "web");
    assert_eq!(v["type"], "container");
    assert!(
        matches!(v["action"].as_str(), Some("pause" | "unpause")),
        "{v}"
    );
    assert_eq!(v["attributes"]["name"], "ev-web-1");
    assert!(
        v["attributes"].get("com.docker.compose.project").is_none(),
        "{v}"
    );
}
