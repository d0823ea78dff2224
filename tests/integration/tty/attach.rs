//! `run -it`/`run -t` terminals, attach and reattach, detach keys on the client and in the
//! engine, and stdin piped and closed at EOF.

use super::*;

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
