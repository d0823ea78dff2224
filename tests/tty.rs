//! Terminals, attach, detach keys and stdin piping end to end: `run -it`/`run -t`, `attach`,
//! `exec -it` under a real PTY (a small driver below), resize, ctrl-p ctrl-q, piped stdin and the
//! exec edge cases, with the stock docker CLI and `berth --headless`.

mod common;

use std::io::{Read, Write};
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{eventually, stderr, stdout, TestEngine, BERTH};

fn engine() -> TestEngine {
    let e = TestEngine::start();
    e.import_busybox("busybox:latest");
    e
}

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

fn docker_cmd(e: &TestEngine, args: &[&str]) -> Command {
    let mut c = Command::new("docker");
    c.env("DOCKER_HOST", e.host())
        .env("DOCKER_CLI_HINTS", "false")
        .env("TERM", "xterm")
        .env_remove("DOCKER_CONTEXT")
        .args(args);
    c
}

fn berth_cmd(e: &TestEngine, args: &[&str]) -> Command {
    let mut c = Command::new(BERTH);
    c.arg("--host")
        .arg(e.host())
        .arg("--no-autostart")
        .arg("--headless")
        .env("TERM", "xterm")
        .args(args);
    c
}

/// `cmd` with `input` on stdin (written from a thread so big inputs cannot deadlock).
fn with_stdin(mut cmd: Command, input: Vec<u8>) -> Output {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&input);
    });
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    out
}

fn status(e: &TestEngine, name: &str) -> String {
    let v = e.api_json("GET", &format!("/containers/{name}/json"), None);
    v["State"]["Status"].as_str().unwrap_or_default().to_string()
}

#[test]
fn docker_run_it_shell_size_resize_and_exit_code() {
    let e = engine();
    let mut t = Term::spawn(
        docker_cmd(&e, &["run", "-it", "--rm", "--name", "sh1", "busybox", "sh"]),
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
    let e = engine();
    // In a terminal: the client's window size reaches the container's terminal.
    for cmd in [
        docker_cmd(&e, &["run", "-t", "--rm", "busybox", "sh", "-c", "stty size; tty; exit 4"]),
        berth_cmd(&e, &["run", "-t", "--rm", "busybox", "sh", "-c", "stty size; tty; exit 4"]),
    ] {
        let mut t = Term::spawn(cmd, 30, 100);
        let out = t.expect("/dev/pts/0", 20);
        assert!(out.contains("30 100"), "{out}");
        assert_eq!(t.wait(20), Some(4), "{}", t.text());
    }
    // Not in a terminal: the container still gets one (of the kernel's default size, as with
    // runc when the client sends none).
    let o = e.docker(&["run", "-t", "--rm", "busybox", "sh", "-c", "test -t 0 && test -t 1 && stty -g >/dev/null && tty"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(stdout(&o), "/dev/pts/0\r\n");
}
