//! `docker exec` end to end: the exec API, `berth --headless exec` and the stock docker CLI
//! against real containers.

use crate::common;

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::process::{Command, Output};
use std::time::Duration;

use common::{eventually, stderr, stdout, with_stdin, TestEngine};

/// A running busybox container named `name` (sleeping).
fn running(e: &TestEngine, name: &str) -> String {
    let o = e.berth(&["run", "-d", "--name", name, "busybox", "sleep", "600"]);
    assert!(o.status.success(), "{}", stderr(&o));
    stdout(&o).trim().to_string()
}

/// Raw hijacked `POST /exec/{id}/start`: (status line, headers, stream bytes).
fn raw_start(e: &TestEngine, id: &str, body: &str, input: &[u8]) -> (String, String, Vec<u8>) {
    let mut s = UnixStream::connect(&e.socket).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    let head = format!(
        "POST /v1.44/exec/{id}/start HTTP/1.1\r\nHost: berth\r\nConnection: Upgrade\r\nUpgrade: tcp\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    s.write_all(head.as_bytes()).unwrap();
    let mut raw = Vec::new();
    let mut buf = [0u8; 4096];
    let end = loop {
        let n = s.read(&mut buf).unwrap();
        assert!(n > 0, "no response head: {}", String::from_utf8_lossy(&raw));
        raw.extend_from_slice(&buf[..n]);
        if let Some(p) = raw.windows(4).position(|w| w == b"\r\n\r\n") {
            break p;
        }
    };
    let headers = String::from_utf8_lossy(&raw[..end]).into_owned();
    let mut rest = raw[end + 4..].to_vec();
    s.write_all(input).unwrap();
    // Half-close: the process's stdin gets EOF, output keeps coming.
    s.shutdown(std::net::Shutdown::Write).unwrap();
    s.read_to_end(&mut rest).unwrap();
    let status = headers.lines().next().unwrap_or_default().to_string();
    (status, headers, rest)
}

fn create_exec(e: &TestEngine, container: &str, body: &str) -> String {
    let v = e.api_json("POST", &format!("/containers/{container}/exec"), Some(body));
    let id = v["Id"].as_str().unwrap().to_string();
    assert_eq!(id.len(), 64);
    assert!(id.chars().all(|c| c.is_ascii_hexdigit()));
    id
}

#[test]
fn exec_api_create_start_inspect() {
    let e = TestEngine::with_busybox();
    let cid = running(&e, "api");

    // Unknown container, missing command.
    let r = e.api("POST", "/containers/nope/exec", Some(r#"{"Cmd":["true"]}"#));
    assert_eq!(r.status, 404, "{}", r.text());
    let r = e.api("POST", "/containers/api/exec", Some(r#"{"Cmd":[]}"#));
    assert_eq!(r.status, 400, "{}", r.text());

    // Attached, multiplexed, stdin forwarded and closed by the half-close.
    let id = create_exec(
        &e,
        "api",
        r#"{"AttachStdin":true,"AttachStdout":true,"AttachStderr":true,"Cmd":["sh","-c","cat; echo err >&2; exit 3"]}"#,
    );
    let v = e.api_json("GET", &format!("/exec/{id}/json"), None);
    assert_eq!(v["Running"], false);
    assert!(v["ExitCode"].is_null(), "{v}");
    assert_eq!(v["ContainerID"], cid.as_str());
    assert_eq!(v["OpenStdin"], true);
    assert_eq!(v["ProcessConfig"]["entrypoint"], "sh");
    assert_eq!(
        v["ProcessConfig"]["arguments"],
        serde_json::json!(["-c", "cat; echo err >&2; exit 3"])
    );
    let (status, headers, stream) = raw_start(&e, &id, r#"{"Detach":false,"Tty":false}"#, b"in\n");
    assert_eq!(status, "HTTP/1.1 101 UPGRADED", "{headers}");
    assert!(headers
        .to_ascii_lowercase()
        .contains("application/vnd.docker.multiplexed-stream"));
    let (out, err) = common::http::demux(&stream);
    assert_eq!(out, "in\n");
    assert_eq!(err, "err\n");
    let v = eventually(Duration::from_secs(10), || {
        let v = e.api_json("GET", &format!("/exec/{id}/json"), None);
        (!v["ExitCode"].is_null()).then_some(v)
    })
    .expect("exit code recorded");
    assert_eq!(v["ExitCode"], 3);
    assert_eq!(v["Running"], false);
    assert!(v["Pid"].as_i64().unwrap() > 0, "{v}");
    // A second start is refused.
    let r = e.api(
        "POST",
        &format!("/exec/{id}/start"),
        Some(r#"{"Detach":true}"#),
    );
    assert_eq!(r.status, 409, "{}", r.text());

    // With a TTY: raw stream, resize reaches the terminal.
    let id = create_exec(
        &e,
        "api",
        r#"{"AttachStdout":true,"AttachStderr":true,"Tty":true,"ConsoleSize":[20,70],"Cmd":["stty","size"]}"#,
    );
    let (status, headers, stream) = raw_start(&e, &id, r#"{"Tty":true}"#, b"");
    assert_eq!(status, "HTTP/1.1 101 UPGRADED");
    assert!(headers
        .to_ascii_lowercase()
        .contains("application/vnd.docker.raw-stream"));
    assert_eq!(String::from_utf8_lossy(&stream), "20 70\r\n");

    // Detached: 200 at once, the process runs in the background; Running while it does.
    let id = create_exec(&e, "api", r#"{"Cmd":["sh","-c","sleep 1; exit 7"]}"#);
    let r = e.api(
        "POST",
        &format!("/exec/{id}/start"),
        Some(r#"{"Detach":true}"#),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let v = e.api_json("GET", &format!("/exec/{id}/json"), None);
    assert_eq!(v["Running"], true, "{v}");
    assert!(v["ExitCode"].is_null());
    let r = e.api("POST", &format!("/exec/{id}/resize?h=10&w=10"), None);
    assert_eq!(r.status, 200, "{}", r.text());
    let v = eventually(Duration::from_secs(10), || {
        let v = e.api_json("GET", &format!("/exec/{id}/json"), None);
        (v["ExitCode"] == 7).then_some(v)
    });
    assert!(v.is_some(), "detached exec exit code");

    // Unknown exec ids are 404 on every route.
    for (m, p) in [
        ("GET", "/exec/0000/json"),
        ("POST", "/exec/0000/start"),
        ("POST", "/exec/0000/resize?h=1&w=1"),
    ] {
        assert_eq!(e.api(m, p, Some("{}")).status, 404, "{m} {p}");
    }

    // Removing the container forgets its execs.
    let o = e.berth(&["rm", "-f", "api"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let gone = eventually(Duration::from_secs(5), || {
        (e.api("GET", &format!("/exec/{id}/json"), None).status == 404).then_some(())
    });
    assert!(gone.is_some(), "exec forgotten after container removal");
}

#[test]
fn exec_into_stopped_container_is_a_conflict() {
    let e = TestEngine::with_busybox();
    let o = e.berth(&["run", "--name", "done", "busybox", "true"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let r = e.api("POST", "/containers/done/exec", Some(r#"{"Cmd":["true"]}"#));
    assert_eq!(r.status, 409, "{}", r.text());
    assert!(r.message().contains("is not running"), "{}", r.message());
    let o = e.berth(&["exec", "done", "true"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("is not running"), "{}", stderr(&o));
    let o = e.docker(&["exec", "done", "true"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("is not running"), "{}", stderr(&o));
}

#[test]
fn berth_exec_prints_output_and_returns_the_exit_code() {
    let e = TestEngine::with_busybox();
    running(&e, "box");

    let o = e.berth(&["exec", "box", "echo", "hi"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(stdout(&o), "hi\n");
    let o = e.berth(&["exec", "box", "sh", "-c", "echo out; echo err >&2; exit 5"]);
    assert_eq!(o.status.code(), Some(5));
    assert_eq!(stdout(&o), "out\n");
    assert_eq!(stderr(&o), "err\n");
}

#[test]
fn berth_exec_of_unknown_or_unexecutable_commands_is_126() {
    let e = TestEngine::with_busybox();
    running(&e, "box");

    // Unknown command: docker's message and 126 (dockerd 20.10's exec); not executable: 126.
    let o = e.berth(&["exec", "box", "nosuchcmd"]);
    assert_eq!(o.status.code(), Some(126), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("executable file not found in $PATH"),
        "{}",
        stdout(&o)
    );
    let o = e.berth(&["exec", "box", "/etc/passwd"]);
    assert_eq!(o.status.code(), Some(126), "{}", stdout(&o));
}

#[test]
fn berth_exec_env_user_and_workdir_overrides() {
    let e = TestEngine::with_busybox();
    running(&e, "box");

    // Env, user and working dir overrides; the container's env is kept.
    let o = e.berth(&[
        "exec",
        "-e",
        "FOO=bar",
        "-u",
        "app",
        "-w",
        "/tmp",
        "box",
        "sh",
        "-c",
        "echo $FOO $HOME $PATH; id -u; id -g; pwd",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(
        stdout(&o),
        "bar /home/app /usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\n1000\n1000\n/tmp\n"
    );
    let o = e.berth(&["exec", "-u", "ghost", "box", "true"]);
    assert_eq!(o.status.code(), Some(126), "{}", stdout(&o));
}

#[test]
fn berth_exec_i_pipes_stdin() {
    let e = TestEngine::with_busybox();
    running(&e, "box");

    // Piped stdin.
    let o = with_stdin(
        e.berth_command(&["exec", "-i", "box", "cat"]),
        b"hi\nthere\n",
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(stdout(&o), "hi\nthere\n");
}

#[test]
fn berth_exec_shares_the_containers_filesystem_hostname_and_pids() {
    let e = TestEngine::with_busybox();
    let cid = running(&e, "box");

    // The container's filesystem, hostname and PID namespace.
    let o = e.berth(&["exec", "box", "sh", "-c", "echo data > /tmp/f"]);
    assert!(o.status.success());
    let o = e.berth(&["exec", "box", "cat", "/tmp/f"]);
    assert_eq!(stdout(&o), "data\n");
    let o = e.berth(&["exec", "box", "hostname"]);
    assert_eq!(stdout(&o).trim(), &cid[..12]);
    let o = e.berth(&["exec", "box", "ps", "-o", "pid,args"]);
    let ps = stdout(&o);
    let pid1 = ps
        .lines()
        .find(|l| l.split_whitespace().next() == Some("1"))
        .unwrap_or_default();
    assert!(pid1.contains("sleep 600"), "{ps}");
}

#[test]
fn berth_exec_joins_the_containers_cgroup() {
    let e = TestEngine::with_busybox();
    let cid = running(&e, "box");

    // The container's cgroup: same as its PID 1.
    let o = e.berth(&[
        "exec",
        "box",
        "sh",
        "-c",
        "cat /proc/self/cgroup; echo ---; cat /proc/1/cgroup",
    ]);
    let text = stdout(&o);
    let (mine, init) = text.split_once("---\n").expect("two cgroup lists");
    assert_eq!(mine.trim(), init.trim());
    assert!(mine.contains(&cid), "{mine}");
}

#[test]
fn berth_exec_has_dockers_default_capabilities_or_all_when_privileged() {
    let e = TestEngine::with_busybox();
    running(&e, "box");

    // Docker's 14 default capabilities, nothing inheritable or ambient.
    let o = e.berth(&["exec", "box", "grep", "Cap", "/proc/self/status"]);
    let caps = stdout(&o);
    assert!(caps.contains("CapEff:\t00000000a80425fb"), "{caps}");
    assert!(caps.contains("CapInh:\t0000000000000000"), "{caps}");
    assert!(caps.contains("CapAmb:\t0000000000000000"), "{caps}");
    // --privileged gets every capability.
    let o = e.berth(&[
        "exec",
        "--privileged",
        "box",
        "grep",
        "CapEff",
        "/proc/self/status",
    ]);
    assert!(!stdout(&o).contains("00000000a80425fb"), "{}", stdout(&o));
}

#[test]
fn berth_exec_d_runs_detached() {
    let e = TestEngine::with_busybox();
    running(&e, "box");

    // Detached exec.
    let o = e.berth(&["exec", "-d", "box", "sh", "-c", "echo bg > /tmp/bg"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let seen = eventually(Duration::from_secs(10), || {
        let o = e.berth(&["exec", "box", "cat", "/tmp/bg"]);
        (stdout(&o) == "bg\n").then_some(())
    });
    assert!(seen.is_some());
}

#[test]
fn docker_cli_exec() {
    let e = TestEngine::with_busybox();
    running(&e, "dk");
    let o = e.docker(&["exec", "dk", "echo", "hi"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(stdout(&o), "hi\n");
    let o = e.docker(&["exec", "dk", "sh", "-c", "exit 5"]);
    assert_eq!(o.status.code(), Some(5), "{}", stderr(&o));
    let o = e.docker(&["exec", "dk", "nosuchcmd"]);
    assert_eq!(o.status.code(), Some(126), "{}", stderr(&o));

    let mut cmd = Command::new("docker");
    cmd.env("DOCKER_HOST", e.host())
        .env("DOCKER_CLI_HINTS", "false")
        .env_remove("DOCKER_CONTEXT")
        .args(["exec", "-i", "dk", "cat"]);
    let o = with_stdin(cmd, b"piped\n");
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(stdout(&o), "piped\n");

    let o = e.docker(&["exec", "-d", "dk", "touch", "/tmp/d"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let o = e.docker(&[
        "exec",
        "-u",
        "app",
        "-e",
        "A=1",
        "-w",
        "/home",
        "dk",
        "sh",
        "-c",
        "echo $A; id -u; pwd",
    ]);
    assert_eq!(stdout(&o), "1\n1000\n/home\n", "{}", stderr(&o));
}

/// `docker exec -it` in a real terminal (tmux): a usable shell prompt, the window size, and the
/// shell's exit code.
#[test]
fn docker_exec_it_under_tmux() {
    if Command::new("tmux").arg("-V").output().is_err() {
        panic!("tmux is required for this test (apt-get install tmux)");
    }
    let e = TestEngine::with_busybox();
    running(&e, "tty");
    let session = format!("berth-exec-{}", std::process::id());
    let status_file = e.dir.path().join("status");
    let script = format!(
        "DOCKER_HOST={} DOCKER_CLI_HINTS=false docker exec -it tty sh; echo $? > {}; sleep 30",
        e.host(),
        status_file.display()
    );
    let tmux = |args: &[&str]| {
        Command::new("tmux")
            .args(["-L", &session])
            .args(args)
            .output()
            .unwrap()
    };
    struct Kill(Box<dyn Fn()>);
    impl Drop for Kill {
        fn drop(&mut self) {
            (self.0)();
        }
    }
    let s2 = session.clone();
    let _cleanup = Kill(Box::new(move || {
        let _ = Command::new("tmux")
            .args(["-L", &s2, "kill-server"])
            .output();
    }));
    let o = tmux(&[
        "new-session",
        "-d",
        "-s",
        &session,
        "-x",
        "90",
        "-y",
        "25",
        &script,
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let pane =
        |tmux: &dyn Fn(&[&str]) -> Output| stdout(&tmux(&["capture-pane", "-p", "-t", &session]));
    let prompt = eventually(Duration::from_secs(15), || {
        let p = pane(&tmux);
        p.contains("/ #").then_some(p)
    });
    assert!(prompt.is_some(), "no prompt:\n{}", pane(&tmux));
    tmux(&[
        "send-keys",
        "-t",
        &session,
        "echo $((6*7)); stty size; tty",
        "Enter",
    ]);
    let shown = eventually(Duration::from_secs(10), || {
        let p = pane(&tmux);
        (p.contains("\n42\n") && p.contains("/dev/pts/")).then_some(p)
    });
    let shown = shown.unwrap_or_else(|| panic!("no answer:\n{}", pane(&tmux)));
    assert!(
        shown.contains("25 90") || shown.contains("24 90"),
        "{shown}"
    );
    tmux(&["send-keys", "-t", &session, "exit 3", "Enter"]);
    let code = eventually(Duration::from_secs(10), || {
        std::fs::read_to_string(&status_file).ok()
    });
    assert_eq!(code.as_deref().map(str::trim), Some("3"));
}
