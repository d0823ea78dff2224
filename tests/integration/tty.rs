//! Terminals, attach, detach keys and stdin piping end to end: `run -it`/`run -t`, `attach`,
//! `exec -it` under a real PTY (a small driver below), resize, ctrl-p ctrl-q, piped stdin and the
//! exec edge cases, with the stock docker CLI and `berth --headless`.

use crate::common;

use std::io::{Read, Write};
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{eventually, stderr, stdout, with_stdin, TestEngine};

/// A process on the slave side of a PTY we hold the master of, as a terminal emulator would.
struct Term {
    master: std::fs::File,
    child: Child,
    screen: Arc<Mutex<Vec<u8>>>,
}

impl Term {
    fn spawn(mut cmd: Command, rows: u16, cols: u16) -> Term {
        let ws = nix::pty::Winsize {
            ws_row: rows,
            ws_col: cols,
            ws_xpixel: 0,
            ws_ypixel: 0,
        };
        let pty = nix::pty::openpty(Some(&ws), None).expect("openpty");
        let slave: OwnedFd = pty.slave;
        let s = slave.as_raw_fd();
        cmd.stdin(Stdio::from(slave.try_clone().unwrap()))
            .stdout(Stdio::from(slave.try_clone().unwrap()))
            .stderr(Stdio::from(slave.try_clone().unwrap()));
        // SAFETY: only async-signal-safe calls between fork and exec.
        unsafe {
            cmd.pre_exec(move || {
                if libc::setsid() < 0 || libc::ioctl(0, libc::TIOCSCTTY, 0) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                let _ = s;
                Ok(())
            });
        }
        let child = cmd.spawn().expect("spawn under pty");
        drop(slave);
        drop(cmd);
        let master = std::fs::File::from(pty.master);
        let screen = Arc::new(Mutex::new(Vec::new()));
        let (mut r, sc) = (master.try_clone().unwrap(), screen.clone());
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            // EIO once the last slave fd closes.
            while let Ok(n) = r.read(&mut buf) {
                if n == 0 {
                    break;
                }
                sc.lock().unwrap().extend_from_slice(&buf[..n]);
            }
        });
        Term {
            master,
            child,
            screen,
        }
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.screen.lock().unwrap()).into_owned()
    }

    fn send(&mut self, data: &[u8]) {
        self.master.write_all(data).unwrap();
    }

    /// Wait until the output (after `from` bytes) contains `what`; the whole text after `from`.
    fn expect_from(&self, from: usize, what: &str, secs: u64) -> String {
        let got = eventually(Duration::from_secs(secs), || {
            let t = self.screen.lock().unwrap();
            let tail = String::from_utf8_lossy(&t[from.min(t.len())..]).into_owned();
            tail.contains(what).then_some(tail)
        });
        got.unwrap_or_else(|| panic!("no {what:?} in terminal output:\n{}", self.text()))
    }

    fn expect(&self, what: &str, secs: u64) -> String {
        self.expect_from(0, what, secs)
    }

    fn len(&self) -> usize {
        self.screen.lock().unwrap().len()
    }

    fn resize(&self, rows: u16, cols: u16) {
        let ws = libc::winsize {
            ws_row: rows,
            ws_col: cols,
            ws_xpixel: 0,
            ws_ypixel: 0,
        };
        // The kernel sends SIGWINCH to the terminal's foreground process group: the client.
        // SAFETY: TIOCSWINSZ with a valid winsize on our master.
        assert_eq!(
            unsafe { libc::ioctl(self.master.as_raw_fd(), libc::TIOCSWINSZ, &ws) },
            0
        );
    }

    /// Exit code of the client, or None when it does not exit in time.
    fn wait(&mut self, secs: u64) -> Option<i32> {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            if let Some(st) = self.child.try_wait().unwrap() {
                return Some(st.code().unwrap_or(-1));
            }
            if Instant::now() > deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Term {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The docker CLI as a terminal user runs it (`TERM` set).
fn docker_cmd(e: &TestEngine, args: &[&str]) -> Command {
    let mut c = e.docker_command(args);
    c.env("TERM", "xterm");
    c
}

/// `berth --headless` as a terminal user runs it (`TERM` set).
fn berth_cmd(e: &TestEngine, args: &[&str]) -> Command {
    let mut c = e.berth_command(args);
    c.env("TERM", "xterm");
    c
}

fn status(e: &TestEngine, name: &str) -> String {
    let v = e.api_json("GET", &format!("/containers/{name}/json"), None);
    v["State"]["Status"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

#[test]
fn docker_run_it_shell_size_resize_and_exit_code() {
    let e = TestEngine::with_busybox();
    let mut t = Term::spawn(
        docker_cmd(
            &e,
            &["run", "-it", "--rm", "--name", "sh1", "busybox", "sh"],
        ),
        25,
        90,
    );
    t.expect("/ #", 20);
    let mark = t.len();
    t.send(b"stty size; tty; ls -l /dev/console | cut -c1-10\r");
    let out = t.expect_from(mark, "/dev/pts/0", 10);
    assert!(out.contains("25 90"), "{out}");
    let out = t.expect_from(mark, "crw", 10);
    assert!(out.contains("crw"), "/dev/console is the terminal: {out}");
    t.resize(40, 120);
    // The client forwards SIGWINCH as POST /containers/{id}/resize.
    let mut resized = false;
    for _ in 0..50 {
        let mark = t.len();
        t.send(b"stty size\r");
        let out = t.expect_from(mark, "\n", 5);
        std::thread::sleep(Duration::from_millis(100));
        let out = format!("{out}{}", &t.text()[mark.min(t.len())..]);
        if out.contains("40 120") {
            resized = true;
            break;
        }
    }
    assert!(resized, "resize not applied:\n{}", t.text());
    t.send(b"exit 3\r");
    assert_eq!(t.wait(20), Some(3), "{}", t.text());
}

#[test]
fn run_t_without_i_has_a_working_terminal() {
    let e = TestEngine::with_busybox();
    // In a terminal: the client's window size reaches the container's terminal.
    for cmd in [
        docker_cmd(
            &e,
            &[
                "run",
                "-t",
                "--rm",
                "busybox",
                "sh",
                "-c",
                "stty size; tty; exit 4",
            ],
        ),
        berth_cmd(
            &e,
            &[
                "run",
                "-t",
                "--rm",
                "busybox",
                "sh",
                "-c",
                "stty size; tty; exit 4",
            ],
        ),
    ] {
        let mut t = Term::spawn(cmd, 30, 100);
        let out = t.expect("/dev/pts/0", 20);
        assert!(out.contains("30 100"), "{out}");
        assert_eq!(t.wait(20), Some(4), "{}", t.text());
    }
    // Not in a terminal: the container still gets one (of the kernel's default size, as with
    // runc when the client sends none).
    let o = e.docker(&[
        "run",
        "-t",
        "--rm",
        "busybox",
        "sh",
        "-c",
        "test -t 0 && test -t 1 && stty -g >/dev/null && tty",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(stdout(&o), "/dev/pts/0\r\n");
}

/// A raw hijacked request: the stream after the `101` head, and the head.
fn hijack(e: &TestEngine, path: &str, body: &str) -> (std::os::unix::net::UnixStream, String) {
    let mut s = std::os::unix::net::UnixStream::connect(&e.socket).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let head = format!(
        "POST /v1.44{path} HTTP/1.1\r\nHost: berth\r\nConnection: Upgrade\r\nUpgrade: tcp\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    s.write_all(head.as_bytes()).unwrap();
    let mut raw = Vec::new();
    let mut b = [0u8; 1];
    while !raw.ends_with(b"\r\n\r\n") {
        assert_eq!(
            s.read(&mut b).unwrap(),
            1,
            "{}",
            String::from_utf8_lossy(&raw)
        );
        raw.push(b[0]);
    }
    (s, String::from_utf8_lossy(&raw).into_owned())
}

fn read_until_eof(s: &mut std::os::unix::net::UnixStream) -> Vec<u8> {
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    out
}

#[test]
fn docker_detach_with_ctrl_p_ctrl_q_and_reattach() {
    let e = TestEngine::with_busybox();
    let mut t = Term::spawn(
        docker_cmd(&e, &["run", "-it", "--name", "d1", "busybox", "sh"]),
        24,
        80,
    );
    t.expect("/ #", 20);
    t.send(b"echo first-$((1+1))\r");
    t.expect("first-2", 10);
    t.send(&[0x10, 0x11]);
    assert_eq!(t.wait(15), Some(0), "detach exits 0:\n{}", t.text());
    assert_eq!(status(&e, "d1"), "running");

    let mut t = Term::spawn(docker_cmd(&e, &["attach", "d1"]), 24, 80);
    std::thread::sleep(Duration::from_millis(500));
    t.send(b"echo again-$((2+3))\r");
    t.expect("again-5", 15);
    // Detach again. The stock CLI's `attach` reports the detach as "read escape sequence"
    // with status 1 (its `run` exits 0); the container keeps running either way.
    t.send(&[0x10, 0x11]);
    let code = t.wait(15);
    assert!(matches!(code, Some(0 | 1)), "{code:?}: {}", t.text());
    assert!(
        code == Some(0) || t.text().contains("read escape sequence"),
        "{}",
        t.text()
    );
    assert_eq!(status(&e, "d1"), "running");

    // Reattach and leave through the shell: attach reports the container's exit code.
    let mut t = Term::spawn(docker_cmd(&e, &["attach", "d1"]), 24, 80);
    std::thread::sleep(Duration::from_millis(500));
    t.send(b"exit 5\r");
    assert_eq!(t.wait(15), Some(5), "{}", t.text());
    let v = e.api_json("GET", "/containers/d1/json", None);
    assert_eq!(v["State"]["ExitCode"], 5);
}

#[test]
fn berth_run_attach_and_custom_detach_keys() {
    let e = TestEngine::with_busybox();
    let mut t = Term::spawn(
        berth_cmd(
            &e,
            &[
                "run",
                "-it",
                "--detach-keys",
                "ctrl-a",
                "--name",
                "d2",
                "busybox",
                "sh",
            ],
        ),
        24,
        80,
    );
    t.expect("/ #", 20);
    // ctrl-p ctrl-q is not the sequence here: it reaches the shell, which ignores it.
    t.send(&[0x10, 0x11]);
    t.send(b"echo still-$((3*3))\r");
    t.expect("still-9", 10);
    t.send(&[0x01]);
    assert_eq!(t.wait(15), Some(0), "{}", t.text());
    assert_eq!(status(&e, "d2"), "running");

    let mut t = Term::spawn(berth_cmd(&e, &["attach", "d2"]), 24, 80);
    std::thread::sleep(Duration::from_millis(500));
    t.send(b"echo attached-$((4*4))\r");
    t.expect("attached-16", 15);
    t.send(&[0x10, 0x11]);
    assert_eq!(t.wait(15), Some(0), "{}", t.text());
    assert_eq!(status(&e, "d2"), "running");

    let mut t = Term::spawn(berth_cmd(&e, &["attach", "d2"]), 24, 80);
    std::thread::sleep(Duration::from_millis(500));
    t.send(b"exit 7\r");
    assert_eq!(t.wait(15), Some(7), "{}", t.text());

    // Bad input: one readable line, non-zero exit, nothing created.
    let o = e.berth(&[
        "run",
        "-it",
        "--detach-keys",
        "ctrl-1",
        "--name",
        "bad",
        "busybox",
        "sh",
    ]);
    assert_eq!(o.status.code(), Some(125), "{}", stderr(&o));
    assert!(stderr(&o).contains("Invalid detach keys"), "{}", stderr(&o));
    assert_eq!(e.api("GET", "/containers/bad/json", None).status, 404);
    let o = e.berth(&["attach", "d2"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("cannot attach to a stopped container"),
        "{}",
        stderr(&o)
    );
    let o = e.berth(&["attach", "nope"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("No such container"), "{}", stderr(&o));
}

/// The engine itself catches the sequence (for clients that send the keys as plain input).
#[test]
fn engine_side_detach_on_attach_and_exec() {
    let e = TestEngine::with_busybox();
    let o = e.berth(&["run", "-dit", "--name", "d3", "busybox", "sh"]);
    assert!(o.status.success(), "{}", stderr(&o));

    let r = e.api(
        "POST",
        "/containers/d3/attach?stream=1&stdin=1&detachKeys=ctrl-1",
        None,
    );
    assert_eq!(r.status, 400, "{}", r.text());
    assert!(
        r.message().contains("Invalid detach keys (ctrl-1)"),
        "{}",
        r.message()
    );

    let (mut s, head) = hijack(
        &e,
        "/containers/d3/attach?stream=1&stdin=1&stdout=1&detachKeys=a,b",
        "",
    );
    assert!(head.starts_with("HTTP/1.1 101"), "{head}");
    s.write_all(b"echo x-$((5+5))\r").unwrap();
    // "a" alone is held back then released with what follows; "a,b" detaches.
    s.write_all(b"echo a").unwrap();
    s.write_all(b"c\r").unwrap();
    std::thread::sleep(Duration::from_millis(300));
    s.write_all(b"ab").unwrap();
    let out = String::from_utf8_lossy(&read_until_eof(&mut s)).into_owned();
    assert!(out.contains("x-10"), "{out}");
    assert!(out.contains("\nac\r"), "{out}");
    assert_eq!(status(&e, "d3"), "running");

    // exec: keys from create (checked there) and the default.
    let r = e.api(
        "POST",
        "/containers/d3/exec",
        Some(r#"{"Cmd":["sh"],"Tty":true,"AttachStdin":true,"AttachStdout":true,"DetachKeys":"ctrl-"}"#),
    );
    assert_eq!(r.status, 400, "{}", r.text());
    let v = e.api_json(
        "POST",
        "/containers/d3/exec",
        Some(r#"{"Cmd":["sh"],"Tty":true,"AttachStdin":true,"AttachStdout":true}"#),
    );
    let id = v["Id"].as_str().unwrap().to_string();
    let (mut s, head) = hijack(&e, &format!("/exec/{id}/start"), r#"{"Tty":true}"#);
    assert!(head.starts_with("HTTP/1.1 101"), "{head}");
    s.write_all(b"echo in-exec-$((6+6))\r").unwrap();
    std::thread::sleep(Duration::from_millis(300));
    s.write_all(&[0x10, 0x11]).unwrap();
    let out = String::from_utf8_lossy(&read_until_eof(&mut s)).into_owned();
    assert!(out.contains("in-exec-12"), "{out}");
    let v = e.api_json("GET", &format!("/exec/{id}/json"), None);
    assert_eq!(v["Running"], true, "the exec keeps running after a detach");
}

#[test]
fn stdin_is_piped_and_closed_at_eof() {
    let e = TestEngine::with_busybox();
    let o = with_stdin(
        berth_cmd(&e, &["run", "-i", "--rm", "busybox", "cat"]),
        b"hi\n",
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(stdout(&o), "hi\n");
    let o = with_stdin(
        docker_cmd(&e, &["run", "-i", "--rm", "busybox", "wc", "-l"]),
        b"a\nb\n",
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(stdout(&o).trim(), "2");

    // 5 MiB arrive intact (run -i and exec -i, both clients), and EOF ends `md5sum`.
    let big: Vec<u8> = (0..5 * 1024 * 1024u32)
        .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
        .collect();
    let want = {
        let mut c = Command::new("md5sum")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut i = c.stdin.take().unwrap();
        let b2 = big.clone();
        let w = std::thread::spawn(move || i.write_all(&b2).unwrap());
        let o = c.wait_with_output().unwrap();
        w.join().unwrap();
        stdout(&o)[..32].to_string()
    };
    for cmd in [
        berth_cmd(&e, &["run", "-i", "--rm", "busybox", "md5sum"]),
        docker_cmd(&e, &["run", "-i", "--rm", "busybox", "md5sum"]),
    ] {
        let o = with_stdin(cmd, &big);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        assert!(stdout(&o).starts_with(&want), "{} vs {want}", stdout(&o));
    }
    let o = e.berth(&["run", "-d", "--name", "box", "busybox", "sleep", "600"]);
    assert!(o.status.success(), "{}", stderr(&o));
    for cmd in [
        berth_cmd(&e, &["exec", "-i", "box", "md5sum"]),
        docker_cmd(&e, &["exec", "-i", "box", "md5sum"]),
    ] {
        let o = with_stdin(cmd, &big);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        assert!(stdout(&o).starts_with(&want), "{} vs {want}", stdout(&o));
    }
    let o = with_stdin(
        berth_cmd(&e, &["exec", "-i", "box", "sh", "-c", "cat; exit 9"]),
        b"bye\n",
    );
    assert_eq!(o.status.code(), Some(9), "{}", stderr(&o));
    assert_eq!(stdout(&o), "bye\n");
}

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

/// Start "sp": a shell with stdin open that says "ready", then on SIGTERM "got-term" and exits 12.
fn start_sp(e: &TestEngine) {
    let script = "trap 'echo got-term; exit 12' TERM; echo ready; while true; do sleep 0.1; done";
    let o = e.berth(&[
        "run", "-d", "-i", "--name", "sp", "busybox", "sh", "-c", script,
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let logs_ready = || {
        eventually(Duration::from_secs(10), || {
            stdout(&e.berth(&["logs", "sp"]))
                .contains("ready")
                .then_some(())
        })
    };
    assert!(logs_ready().is_some());
}

/// `attach` without a TTY forwards our signals to the container (`--sig-proxy`, the default);
/// `--sig-proxy=false` leaves the container alone; `--no-stdin` keeps our stdin to ourselves.
#[test]
fn berth_attach_without_sig_proxy_ends_only_the_client_on_sigterm() {
    let e = TestEngine::with_busybox();
    start_sp(&e);

    // --sig-proxy=false: SIGTERM ends the client only.
    let child = berth_cmd(&e, &["attach", "--no-stdin", "--sig-proxy=false", "sp"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(500));
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let o = child.wait_with_output().unwrap();
    assert_ne!(o.status.code(), Some(0));
    assert_eq!(status(&e, "sp"), "running");
}

#[test]
fn berth_attach_proxies_sigterm_and_sends_no_stdin_with_no_stdin() {
    let e = TestEngine::with_busybox();
    start_sp(&e);

    // Default: the signal reaches the container, whose exit code attach returns. Its stdin is
    // a pipe we keep open: with --no-stdin nothing of it may reach the container.
    let mut child = berth_cmd(&e, &["attach", "--no-stdin", "sp"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    input.write_all(b"should not arrive\n").unwrap();
    std::thread::sleep(Duration::from_millis(500));
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let o = child.wait_with_output().unwrap();
    drop(input);
    assert_eq!(o.status.code(), Some(12), "{}", stderr(&o));
    assert!(stdout(&o).contains("got-term"), "{}", stdout(&o));
}
