//! The running shim: a poll() loop over SIGCHLD (signalfd), the reconnect listener, the
//! container's output, the engine connection and the container's stdin; then, once the main
//! process is reaped, draining the output and recording the exit.

use std::io;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::os::unix::net::UnixListener;
use std::path::PathBuf;

use super::conn::Conn;
use super::fdio::{read_fd, write_fd, ReadBuf};
use super::log::JsonLog;
use super::{exit_code_from_status, now_rfc3339, STDIN_BUFFER_LIMIT};
use crate::runtime::cgroups::ContainerCgroup;
use crate::runtime::protocol::Frame;
use crate::runtime::spec::{files, ExitRecord, StartRecord};

pub(super) struct Shim {
    pub(super) dir: PathBuf,
    pub(super) record: StartRecord,
    pub(super) main_pid: i32,
    pub(super) exit_status: Option<libc::c_int>,
    pub(super) out: Option<OwnedFd>,
    pub(super) err: Option<OwnedFd>,
    pub(super) stdin: Option<OwnedFd>,
    pub(super) stdin_buf: Vec<u8>,
    pub(super) stdin_close: bool,
    pub(super) tty: bool,
    pub(super) log: JsonLog,
    pub(super) conn: Option<Conn>,
    pub(super) listener: Option<UnixListener>,
    pub(super) sigfd: OwnedFd,
    pub(super) cgroup: Option<ContainerCgroup>,
}

#[derive(Clone, Copy, PartialEq)]
enum Src {
    Sig,
    Listener,
    Out,
    Err,
    Conn,
    Stdin,
}

impl Shim {
    pub(super) fn event_loop(&mut self) {
        let mut buf = ReadBuf::new(64 * 1024);
        while self.exit_status.is_none() {
            let mut fds: Vec<libc::pollfd> = Vec::with_capacity(6);
            let mut srcs: Vec<Src> = Vec::with_capacity(6);
            let mut add = |fd: RawFd, events: libc::c_short, src: Src| {
                fds.push(libc::pollfd {
                    fd,
                    events,
                    revents: 0,
                });
                srcs.push(src);
            };
            add(self.sigfd.as_raw_fd(), libc::POLLIN, Src::Sig);
            if let Some(l) = &self.listener {
                add(l.as_raw_fd(), libc::POLLIN, Src::Listener);
            }
            if let Some(fd) = &self.out {
                add(fd.as_raw_fd(), libc::POLLIN, Src::Out);
            }
            if let Some(fd) = &self.err {
                add(fd.as_raw_fd(), libc::POLLIN, Src::Err);
            }
            if let Some(c) = &self.conn {
                let mut ev = 0;
                // Back-pressure: stop reading engine input while the container does not read
                // its stdin (control frames then wait in the socket too).
                if self.stdin_buf.len() < STDIN_BUFFER_LIMIT {
                    ev |= libc::POLLIN;
                }
                if c.has_pending() {
                    ev |= libc::POLLOUT;
                }
                add(c.raw_fd(), ev, Src::Conn);
            }
            if let Some(fd) = &self.stdin {
                if !self.stdin_buf.is_empty() {
                    add(fd.as_raw_fd(), libc::POLLOUT, Src::Stdin);
                }
            }
            // SAFETY: fds is a valid array of pollfd.
            let n = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, -1) };
            if n < 0 {
                let e = io::Error::last_os_error();
                if e.kind() != io::ErrorKind::Interrupted {
                    tracing::error!("poll: {e}");
                    // Avoid a busy loop on a persistent error.
                    std::thread::sleep(std::time::Duration::from_millis(100));
                }
                continue;
            }
            for (pfd, src) in fds.iter().zip(srcs) {
                if pfd.revents == 0 {
                    continue;
                }
                match src {
                    Src::Sig => self.on_sigchld(),
                    Src::Listener => self.accept(),
                    Src::Out => {
                        self.read_output(false, &mut buf);
                    }
                    Src::Err => {
                        self.read_output(true, &mut buf);
                    }
                    Src::Conn => self.on_conn(pfd.revents, &mut buf),
                    Src::Stdin => self.flush_stdin(),
                }
            }
        }
    }

    fn on_sigchld(&mut self) {
        // Drain the signalfd; the siginfo content does not matter, waitpid tells all.
        let mut info = [0u8; std::mem::size_of::<libc::signalfd_siginfo>() * 8];
        while matches!(read_fd(self.sigfd.as_raw_fd(), &mut info), Ok(n) if n > 0) {}
        loop {
            let mut status = 0;
            // SAFETY: reaping any child; as a subreaper we may collect orphans too.
            let pid = unsafe { libc::waitpid(-1, &mut status, libc::WNOHANG) };
            if pid <= 0 {
                break;
            }
            if pid == self.main_pid {
                self.exit_status = Some(status);
            }
        }
    }

    fn accept(&mut self) {
        let Some(l) = &self.listener else { return };
        loop {
            match l.accept() {
                Ok((stream, _)) => {
                    if stream.set_nonblocking(true).is_err() {
                        continue;
                    }
                    // A new engine replaces the previous connection.
                    let mut c = Conn::new(OwnedFd::from(stream));
                    c.send(&Frame::Started(self.record.clone()), false);
                    c.flush_quietly();
                    tracing::info!("engine reconnected");
                    self.conn = Some(c);
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    tracing::warn!("accept: {e}");
                    break;
                }
            }
        }
    }

    /// Read once from stdout/stderr (or the PTY), log it and forward it. Returns false at EOF.
    fn read_output(&mut self, stderr: bool, buf: &mut ReadBuf) -> bool {
        let slot = if stderr { &mut self.err } else { &mut self.out };
        let Some(fd) = slot.as_ref() else {
            return false;
        };
        match buf.read(fd.as_raw_fd()) {
            Ok([]) => {
                *slot = None;
                false
            }
            Ok(data) => {
                let stream = if stderr { "stderr" } else { "stdout" };
                self.log.write(stream, data);
                if let Some(c) = self.conn.as_mut() {
                    let frame = if stderr {
                        Frame::Stderr(data.to_vec())
                    } else {
                        Frame::Stdout(data.to_vec())
                    };
                    c.send(&frame, true);
                    if c.flush().is_err() {
                        self.conn = None;
                    }
                }
                true
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => false,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => true,
            Err(e) => {
                // EIO on a PTY master: every slave fd is closed.
                if e.raw_os_error() != Some(libc::EIO) {
                    tracing::warn!("reading container output: {e}");
                }
                *slot = None;
                false
            }
        }
    }

    fn on_conn(&mut self, revents: libc::c_short, buf: &mut ReadBuf) {
        let Some(c) = self.conn.as_mut() else { return };
        if revents & libc::POLLOUT != 0 && c.flush().is_err() {
            self.conn = None;
            return;
        }
        if revents & (libc::POLLIN | libc::POLLHUP | libc::POLLERR) == 0 {
            return;
        }
        match c.read_frames(buf) {
            Ok((frames, open)) => {
                for f in frames {
                    self.on_frame(f);
                }
                if !open {
                    tracing::info!("engine disconnected");
                    self.conn = None;
                }
            }
            Err(e) => {
                tracing::warn!("engine connection: {e}");
                self.conn = None;
            }
        }
    }

    fn on_frame(&mut self, frame: Frame) {
        match frame {
            Frame::Stdin(data) => {
                if self.stdin.is_some() && !self.stdin_close {
                    self.stdin_buf.extend_from_slice(&data);
                    self.flush_stdin();
                }
            }
            Frame::StdinClose => {
                // With a TTY the terminal stays (docker keeps the console open too).
                if !self.tty {
                    self.stdin_close = true;
                    self.flush_stdin();
                }
            }
            Frame::Signal(sig) => {
                // Never signal after reaping: the pid may belong to someone else by then.
                if self.exit_status.is_none() && sig > 0 && sig < 65 {
                    // SAFETY: main_pid is our unreaped child (at worst a zombie).
                    if unsafe { libc::kill(self.main_pid, sig) } < 0 {
                        tracing::warn!(
                            "kill({}, {sig}): {}",
                            self.main_pid,
                            io::Error::last_os_error()
                        );
                    }
                } else {
                    tracing::warn!("ignoring signal {sig}");
                }
            }
            Frame::Resize { rows, cols } => {
                if let (true, Some(fd)) = (self.tty, &self.out) {
                    let ws = libc::winsize {
                        ws_row: rows,
                        ws_col: cols,
                        ws_xpixel: 0,
                        ws_ypixel: 0,
                    };
                    // SAFETY: TIOCSWINSZ with a valid winsize on the PTY master.
                    unsafe { libc::ioctl(fd.as_raw_fd(), libc::TIOCSWINSZ, &ws) };
                }
            }
            other => tracing::warn!("unexpected frame from engine: {other:?}"),
        }
    }

    fn flush_stdin(&mut self) {
        let Some(fd) = &self.stdin else {
            self.stdin_buf.clear();
            return;
        };
        while !self.stdin_buf.is_empty() {
            match write_fd(fd.as_raw_fd(), &self.stdin_buf) {
                Ok(n) => {
                    self.stdin_buf.drain(..n);
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => {
                    // The container closed its stdin: nothing more can be delivered.
                    self.stdin_buf.clear();
                    self.stdin = None;
                    return;
                }
            }
        }
        if self.stdin_close {
            self.stdin = None;
        }
    }

    /// The main process is reaped: drain output, record the exit, tell the engine, clean up.
    pub(super) fn finish(&mut self) {
        let cgroup = self.cgroup.take();
        let oom_killed = cgroup.as_ref().map(|c| c.oom_killed()).unwrap_or(false);
        if let Some(c) = &cgroup {
            // With a PID namespace of its own, every other process of the container died with
            // its init. In a shared one (`--pid host`, `--pid container:<id>`) they live on in
            // the cgroup: end them there, as runc does, so a stopped container runs nothing.
            crate::runtime::strays::kill_all(c);
        }
        let mut buf = ReadBuf::new(64 * 1024);
        // Every writer is gone now, so reading until EOF (or EAGAIN, to be safe) collects
        // everything that is left.
        while self.out.is_some() && self.read_output(false, &mut buf) {}
        while self.err.is_some() && self.read_output(true, &mut buf) {}
        let status = self.exit_status.unwrap_or(0);
        let record = ExitRecord {
            exit_code: exit_code_from_status(status),
            oom_killed,
            finished_at: now_rfc3339(),
            error: None,
        };
        tracing::info!("container exited with code {}", record.exit_code);
        let path = self.dir.join(files::EXIT_RECORD);
        if let Err(e) = crate::store::atomic::write_json_atomic(&path, &record) {
            tracing::error!("writing exit record: {e}");
        }
        if let Some(c) = cgroup {
            if let Err(e) = c.destroy() {
                tracing::warn!("removing cgroup: {e}");
            }
        }
        if let Some(mut c) = self.conn.take() {
            c.send(&Frame::Exited(record), false);
            c.flush_with_deadline(std::time::Duration::from_secs(5));
        }
        let _ = std::fs::remove_file(self.dir.join(files::SHIM_SOCKET));
        let _ = std::fs::remove_file(self.dir.join("shim.pid"));
    }
}
