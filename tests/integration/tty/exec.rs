//! Exec edge cases: created and paused containers, user/workdir/env/privileges, exit codes and
//! TTYs, exec ids and resize, `berth exec -it`.

use super::*;

/// `berth run -d --name box busybox sleep 600`; its id.
fn running_box(e: &TestEngine) -> String {
    let o = e.berth(&["run", "-d", "--name", "box", "busybox", "sleep", "600"]);
    assert!(o.status.success(), "{}", stderr(&o));
    stdout(&o).trim().to_string()
}

#[test]
fn exec_into_a_created_container_and_its_resize_are_conflicts() {
    let e = TestEngine::with_busybox();
    // created, never started
    let o = e.berth(&["create", "--name", "fresh", "busybox", "sleep", "600"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let fresh_id = stdout(&o).trim().to_string();
    let r = e.api(
        "POST",
        "/containers/fresh/exec",
        Some(r#"{"Cmd":["true"]}"#),
    );
    assert_eq!(r.status, 409, "{}", r.text());
    assert_eq!(r.message(), format!("container {fresh_id} is not running"));
    let o = e.docker(&["exec", "fresh", "true"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("is not running"), "{}", stderr(&o));

    // The container's own terminal resize needs a running TTY container.
    assert_eq!(
        e.api("POST", "/containers/fresh/resize?h=5&w=5", None)
            .status,
        409
    );
}

#[test]
fn exec_into_a_paused_container_is_a_conflict() {
    let e = TestEngine::with_busybox();
    let box_id = running_box(&e);

    // paused
    let o = e.berth(&["pause", "box"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let r = e.api("POST", "/containers/box/exec", Some(r#"{"Cmd":["true"]}"#));
    assert_eq!(r.status, 409, "{}", r.text());
    assert_eq!(
        r.message(),
        format!("Container {box_id} is paused, unpause the container before exec")
    );
    let o = e.berth(&["exec", "box", "true"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("is paused, unpause the container"),
        "{}",
        stderr(&o)
    );
    let o = e.berth(&["unpause", "box"]);
    assert!(o.status.success(), "{}", stderr(&o));
}

#[test]
fn exec_user_workdir_env_privileges_exit_codes_and_tty() {
    let e = TestEngine::with_busybox();
    running_box(&e);

    // user, workdir, env, privileged or not, exit codes
    let o = e.berth(&[
        "exec",
        "-u",
        "1000:1000",
        "-w",
        "/tmp",
        "-e",
        "FOO=bar",
        "box",
        "sh",
        "-c",
        "id -u; id -g; pwd; echo $FOO",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(stdout(&o), "1000\n1000\n/tmp\nbar\n");
    let caps = |privileged: &str| {
        let o = e.docker(&[
            "exec",
            privileged,
            "box",
            "grep",
            "CapEff",
            "/proc/self/status",
        ]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        stdout(&o)
    };
    let (plain, full) = (caps("--privileged=false"), caps("--privileged"));
    assert!(
        plain.contains("00000000a80425fb"),
        "docker's default set: {plain}"
    );
    assert_ne!(plain, full);
    for (cmd, code) in [
        (vec!["true"], 0),
        (vec!["sh", "-c", "exit 42"], 42),
        (vec!["/etc"], 126),
        // dockerd 20.10's exec: 126 for a missing command too (a `run` gives 127).
        (vec!["no-such-command"], 126),
    ] {
        let mut args = vec!["exec", "box"];
        args.extend(cmd.iter().copied());
        assert_eq!(
            e.docker(&args).status.code(),
            Some(code),
            "{cmd:?} via docker"
        );
        assert_eq!(
            e.berth(&args).status.code(),
            Some(code),
            "{cmd:?} via berth"
        );
    }
    let o = e.docker(&["exec", "-t", "box", "sh", "-c", "tty; exit 6"]);
    assert_eq!(o.status.code(), Some(6), "{}", stderr(&o));
    assert!(stdout(&o).starts_with("/dev/pts/"), "{}", stdout(&o));
}

#[test]
fn exec_ids_and_exec_resize_until_the_container_stops() {
    let e = TestEngine::with_busybox();
    running_box(&e);

    // ExecIDs while execs exist; exec resize; all forgotten when the container stops.
    let v = e.api_json(
        "POST",
        "/containers/box/exec",
        Some(r#"{"Cmd":["sh"],"Tty":true,"AttachStdin":true,"AttachStdout":true,"ConsoleSize":[20,70]}"#),
    );
    let id = v["Id"].as_str().unwrap().to_string();
    let ids = e.api_json("GET", "/containers/box/json", None)["ExecIDs"].clone();
    assert!(
        ids.as_array().unwrap().iter().any(|x| x == id.as_str()),
        "{ids}"
    );
    let (mut s, head) = hijack(&e, &format!("/exec/{id}/start"), r#"{"Tty":true}"#);
    assert!(head.starts_with("HTTP/1.1 101"), "{head}");
    s.set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let mut seen = Vec::new();
    let mut ask = |s: &mut std::os::unix::net::UnixStream, want: &str| {
        s.write_all(b"stty size\r").unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut buf = [0u8; 4096];
        while Instant::now() < deadline {
            if let Ok(n) = s.read(&mut buf) {
                seen.extend_from_slice(&buf[..n]);
            }
            if String::from_utf8_lossy(&seen).contains(want) {
                return;
            }
        }
        panic!("no {want:?} in {}", String::from_utf8_lossy(&seen));
    };
    ask(&mut s, "20 70");
    let r = e.api("POST", &format!("/exec/{id}/resize?h=50&w=132"), None);
    assert_eq!(r.status, 200, "{}", r.text());
    ask(&mut s, "50 132");
    assert_eq!(e.api("POST", "/exec/nope/resize?h=5&w=5", None).status, 404);
    assert_eq!(
        e.api("POST", &format!("/exec/{id}/resize?h=x&w=5"), None)
            .status,
        400
    );

    let o = e.berth(&["stop", "-t", "1", "box"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let gone = eventually(Duration::from_secs(10), || {
        let v = e.api_json("GET", "/containers/box/json", None);
        (v["ExecIDs"].is_null() && e.api("GET", &format!("/exec/{id}/json"), None).status == 404)
            .then_some(())
    });
    assert!(gone.is_some(), "execs forgotten once the container stopped");
    let r = e.api("POST", "/containers/box/exec", Some(r#"{"Cmd":["true"]}"#));
    assert_eq!(r.status, 409, "{}", r.text());
}

#[test]
fn berth_exec_it_is_an_interactive_shell() {
    let e = TestEngine::with_busybox();
    let o = e.berth(&["run", "-d", "--name", "box", "busybox", "sleep", "600"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let mut t = Term::spawn(berth_cmd(&e, &["exec", "-it", "box", "sh"]), 33, 111);
    t.expect("/ #", 20);
    let mark = t.len();
    t.send(b"stty size; echo $((7*6)); tty\r");
    let out = t.expect_from(mark, "/dev/pts/", 10);
    assert!(out.contains("33 111") && out.contains("42"), "{out}");
    t.resize(44, 100);
    let mut ok = false;
    for _ in 0..50 {
        let mark = t.len();
        t.send(b"stty size\r");
        std::thread::sleep(Duration::from_millis(100));
        if t.text()[mark.min(t.len())..].contains("44 100") {
            ok = true;
            break;
        }
    }
    assert!(ok, "exec resize:\n{}", t.text());
    t.send(b"exit 3\r");
    assert_eq!(t.wait(15), Some(3), "{}", t.text());

    // ctrl-p ctrl-q leaves the exec's shell running.
    let mut t = Term::spawn(berth_cmd(&e, &["exec", "-it", "box", "sh"]), 24, 80);
    t.expect("/ #", 20);
    t.send(&[0x10, 0x11]);
    assert_eq!(t.wait(15), Some(0), "{}", t.text());
    let o = e.berth(&["exec", "box", "sh", "-c", "ps | grep -c ' sh$'"]);
    assert_eq!(
        stdout(&o).trim(),
        "1",
        "the detached shell still runs: {}",
        stdout(&o)
    );
}
