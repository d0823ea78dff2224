//! Terminals, attach, detach keys and stdin piping end to end: `run -it`/`run -t`, `attach`,
//! `exec -it` under a real PTY (a small driver below), resize, ctrl-p ctrl-q, piped stdin and the
//! exec edge cases, with the stock docker CLI and `berth --headless`.

mod attach;
mod exec;
mod sig_proxy;

use crate::common;

use std::io::{Read, Write};
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{eventually, stderr, stdout, with_stdin, TestEngine};

/// A process on the slave side of a PTY we hold the master of, as a terminal emulator would.
pub(super) struct Term {
    master: std::fs::File,
    child: Child,
    screen: Arc<Mutex<Vec<u8>>>,
}

impl Term {
    pub(super) fn spawn(mut cmd: Command, rows: u16, cols: u16) -> Term {
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

    pub(super) fn text(&self) -> String {
        String::from_utf8_lossy(&self.screen.lock().unwrap()).into_owned()
    }

    pub(super) fn send(&mut self, data: &[u8]) {
        self.master.write_all(data).unwrap();
    }

    /// Wait until the output (after `from` bytes) contains `what`; the whole text after `from`.
    pub(super) fn expect_from(&self, from: usize, what: &str, secs: u64) -> String {
        let got = eventually(Duration::from_secs(secs), || {
            let t = self.screen.lock().unwrap();
            let tail = String::from_utf8_lossy(&t[from.min(t.len())..]).into_owned();
            tail.contains(what).then_some(tail)
        });
        got.unwrap_or_else(|| panic!("no {what:?} in terminal output:\n{}", self.text()))
    }

    pub(super) fn expect(&self, what: &str, secs: u64) -> String {
        self.expect_from(0, what, secs)
    }

    pub(super) fn len(&self) -> usize {
        self.screen.lock().unwrap().len()
    }

    pub(super) fn resize(&self, rows: u16, cols: u16) {
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
    pub(super) fn wait(&mut self, secs: u64) -> Option<i32> {
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
pub(super) fn docker_cmd(e: &TestEngine, args: &[&str]) -> Command {
    let mut c = e.docker_command(args);
    c.env("TERM", "xterm");
    c
}

/// `berth --headless` as a terminal user runs it (`TERM` set).
pub(super) fn berth_cmd(e: &TestEngine, args: &[&str]) -> Command {
    let mut c = e.berth_command(args);
    c.env("TERM", "xterm");
    c
}

pub(super) fn status(e: &TestEngine, name: &str) -> String {
    let v = e.api_json("GET", &format!("/containers/{name}/json"), None);
    v["State"]["Status"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

/// A raw hijacked request: the stream after the `101` head, and the head.
pub(super) fn hijack(
    e: &TestEngine,
    path: &str,
    body: &str,
) -> (std::os::unix::net::UnixStream, String) {
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

pub(super) fn read_until_eof(s: &mut std::os::unix::net::UnixStream) -> Vec<u8> {
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    out
}
