//! The shim process: one per container, single-threaded, outlives engine restarts.
//!
//! Lifecycle: the engine execs `berth __berth-shim <dir>` with stdout = the ready pipe and fd 3 =
//! its end of a socketpair. We fork once so the engine can reap the intermediate process, start a
//! new session, create the container (cgroup, stdio, `unshare(CLONE_NEWPID)` + fork into
//! `init::container_main`), report on the ready pipe, and then run a poll() loop that logs output,
//! serves the engine connection (and reconnects on `shim.sock`), and reaps. When the container's
//! main process exits we write `exit.json` and leave.

mod conn;
mod event_loop;
mod fdio;
pub mod log;
mod start;
mod stdio;
mod trace;

use std::io::{self, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::net::UnixListener;
use std::path::Path;

use crate::runtime::cgroups::ContainerCgroup;
use crate::runtime::protocol::{Frame, ReadyReport};
use crate::runtime::spec::{files, ExitRecord, RuntimeSpec, StartRecord};

use conn::Conn;
use event_loop::Shim;
use fdio::{cvt, set_cloexec, set_nonblocking};
use log::JsonLog;
use start::start_container;
#[cfg(test)]
pub(crate) use stdio::recv_console_for_test;

/// fd on which the engine passes the first connection.
const ENGINE_FD: RawFd = 3;
/// Exit code for failures of the shim itself (not of the container's command).
const SHIM_FAILURE_CODE: i32 = 128;
/// Stop reading engine input while this much stdin is waiting for the container.
const STDIN_BUFFER_LIMIT: usize = 1 << 20;

fn now_rfc3339() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Nanos, true)
}

/// Docker's exit code for a wait status: the exit status, or 128 + the killing signal.
pub fn exit_code_from_status(status: libc::c_int) -> i32 {
    if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else if libc::WIFSIGNALED(status) {
        128 + libc::WTERMSIG(status)
    } else {
        SHIM_FAILURE_CODE
    }
}

/// Parse init's error line "<code> <message>"; a malformed line still fails the start.
fn parse_init_error(raw: &[u8]) -> (i32, String) {
    let text = String::from_utf8_lossy(raw);
    let text = text.trim_end_matches('\n');
    match text.split_once(' ') {
        Some((code, msg)) if code.parse::<i32>().is_ok() => {
            (code.parse().unwrap_or(1), msg.to_string())
        }
        _ => (1, text.to_string()),
    }
}

/// The ready pipe (our stdout until the container runs).
struct Ready {
    open: bool,
}

impl Ready {
    fn report(&mut self, report: &ReadyReport) {
        if !self.open {
            return;
        }
        self.open = false;
        let mut line = serde_json::to_vec(report).unwrap_or_default();
        line.push(b'\n');
        let mut out = io::stdout().lock();
        let _ = out.write_all(&line);
        let _ = out.flush();
        drop(out);
        // Close the pipe (so the engine sees EOF) but keep fd 1 valid: point it at /dev/null.
        if let Ok(null) = std::fs::OpenOptions::new().write(true).open("/dev/null") {
            // SAFETY: dup2 onto our own stdout.
            unsafe { libc::dup2(null.as_raw_fd(), 1) };
        }
    }
}

/// Entry point of the hidden shim mode. Never returns.
pub fn main(container_dir: &std::path::Path) -> ! {
    // We chdir to "/" below (so the shim pins no mount); keep the container dir usable.
    let abs = std::path::absolute(container_dir).unwrap_or_else(|_| container_dir.to_path_buf());
    let container_dir = abs.as_path();
    // SAFETY: called from main before any thread exists, so fork and signal changes are sound.
    unsafe {
        // A vanished engine must not kill us through a write to its pipe or socket.
        libc::signal(libc::SIGPIPE, libc::SIG_IGN);
        match libc::fork() {
            -1 => {
                let err = io::Error::last_os_error();
                Ready { open: true }.report(&ReadyReport::Failed {
                    exit_code: SHIM_FAILURE_CODE,
                    error: format!("shim: fork: {err}"),
                });
                libc::_exit(1);
            }
            // The intermediate process exits at once: the engine reaps it and we are reparented
            // away from the engine, so its restart or death does not touch us.
            0 => {}
            _ => libc::_exit(0),
        }
        libc::setsid();
        libc::chdir(c"/".as_ptr());
        // Survive `kill` of the engine's process group or terminal: we only signal the container
        // when asked to.
        libc::signal(libc::SIGTERM, libc::SIG_IGN);
        libc::signal(libc::SIGINT, libc::SIG_IGN);
        libc::signal(libc::SIGHUP, libc::SIG_IGN);
        libc::signal(libc::SIGQUIT, libc::SIG_IGN);
    }
    redirect_stderr(container_dir);
    let _ = tracing::subscriber::set_global_default(trace::ShimLog::stderr());
    let code = run(container_dir);
    std::process::exit(code)
}

fn redirect_stderr(dir: &Path) {
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join(files::SHIM_LOG));
    if let Ok(f) = log {
        // SAFETY: dup2 onto our own stderr; the original file is closed on drop.
        unsafe { libc::dup2(f.as_raw_fd(), 2) };
    }
}

/// Record a failure to start: `exit.json` and the ready pipe. Returns the shim's exit code.
fn fail_start(dir: &Path, ready: &mut Ready, exit_code: i32, error: String) -> i32 {
    tracing::error!("container start failed ({exit_code}): {error}");
    let record = ExitRecord {
        exit_code,
        oom_killed: false,
        finished_at: now_rfc3339(),
        error: Some(error.clone()),
    };
    if let Err(e) = crate::store::atomic::write_json_atomic(&dir.join(files::EXIT_RECORD), &record)
    {
        tracing::error!("writing exit record: {e}");
    }
    ready.report(&ReadyReport::Failed { exit_code, error });
    1
}

/// The engine's first connection, if fd 3 is a socket (it is not when run by hand).
fn engine_connection() -> Option<Conn> {
    // SAFETY: fstat into a zeroed struct.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    if unsafe { libc::fstat(ENGINE_FD, &mut st) } < 0 || st.st_mode & libc::S_IFMT != libc::S_IFSOCK
    {
        return None;
    }
    // SAFETY: fd 3 is a socket the engine handed to us and nothing else owns it.
    let fd = unsafe { OwnedFd::from_raw_fd(ENGINE_FD) };
    if set_cloexec(ENGINE_FD).is_err() || set_nonblocking(ENGINE_FD).is_err() {
        return None;
    }
    Some(Conn::new(fd))
}

fn run(dir: &Path) -> i32 {
    let mut ready = Ready { open: true };
    let bundle = dir.join(files::BUNDLE);
    let spec: RuntimeSpec = match std::fs::read(&bundle)
        .map_err(|e| e.to_string())
        .and_then(|d| serde_json::from_slice(&d).map_err(|e| e.to_string()))
    {
        Ok(s) => s,
        Err(e) => {
            return fail_start(
                dir,
                &mut ready,
                SHIM_FAILURE_CODE,
                format!("reading {}: {e}", bundle.display()),
            )
        }
    };
    let mut conn = engine_connection();
    // SAFETY: prctl with integer arguments.
    if unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) } < 0 {
        tracing::warn!("PR_SET_CHILD_SUBREAPER: {}", io::Error::last_os_error());
    }
    let _ = std::fs::write(dir.join("shim.pid"), std::process::id().to_string());
    // A stale record from a previous run must not be mistaken for this run's exit.
    let _ = std::fs::remove_file(dir.join(files::EXIT_RECORD));

    let log = match JsonLog::open(&spec.log) {
        Ok(l) => l,
        Err(e) => {
            let msg = format!("opening log {}: {e}", spec.log.path.display());
            return fail_start(dir, &mut ready, SHIM_FAILURE_CODE, msg);
        }
    };
    let cgroup = match ContainerCgroup::create(&spec.cgroup) {
        Ok(c) => c,
        Err(e) => {
            let msg = format!("creating cgroup {}: {e}", spec.cgroup.path);
            return fail_start(dir, &mut ready, SHIM_FAILURE_CODE, msg);
        }
    };
    let started = start_container(&spec, &cgroup);
    let (pid, stdio) = match started {
        Ok(v) => v,
        Err((code, msg)) => {
            if let Err(e) = cgroup.destroy() {
                tracing::warn!("removing cgroup: {e}");
            }
            return fail_start(dir, &mut ready, code, msg);
        }
    };

    let record = StartRecord {
        pid,
        shim_pid: std::process::id() as i32,
        started_at: now_rfc3339(),
    };
    let listener = match bind_listener(dir) {
        Ok(l) => Some(l),
        Err(e) => {
            // The container runs; only reconnection after an engine restart is lost.
            tracing::error!("listening on {}: {e}", files::SHIM_SOCKET);
            None
        }
    };
    if let Some(c) = conn.as_mut() {
        c.send(&Frame::Started(record.clone()), false);
        c.flush_quietly();
    }
    let sigfd = match signalfd_for_sigchld() {
        Ok(fd) => fd,
        Err(e) => {
            // Without SIGCHLD we cannot supervise: kill the container and record it.
            // SAFETY: pid is our unreaped child.
            unsafe { libc::kill(pid, libc::SIGKILL) };
            let mut status = 0;
            unsafe { libc::waitpid(pid, &mut status, 0) };
            let _ = cgroup.destroy();
            return fail_start(dir, &mut ready, SHIM_FAILURE_CODE, format!("signalfd: {e}"));
        }
    };
    ready.report(&ReadyReport::Started(record.clone()));
    tracing::info!("container {} running as pid {pid}", spec.id);
    let tty = spec.process.tty;
    // The spec is not needed while the container runs, and start-up (JSON parsing, the
    // container's fork) left freed heap behind: give those pages back, since the shim lives as
    // long as its container and there is one per container.
    drop(spec);
    // SAFETY: malloc_trim only releases free heap memory.
    unsafe { libc::malloc_trim(0) };

    let mut shim = Shim {
        dir: dir.to_path_buf(),
        record,
        main_pid: pid,
        exit_status: None,
        out: stdio.out,
        err: stdio.err,
        stdin: stdio.stdin,
        stdin_buf: Vec::new(),
        stdin_close: false,
        tty,
        log,
        conn,
        listener,
        sigfd,
        cgroup: Some(cgroup),
    };
    shim.event_loop();
    shim.finish();
    0
}

fn bind_listener(dir: &Path) -> io::Result<UnixListener> {
    let _ = std::fs::remove_file(dir.join(files::SHIM_SOCKET));
    // Deep data roots overflow sun_path: bind through a short /proc/self/fd path.
    let (_dirfd, path) = crate::runtime::shim_client::short_socket_path(dir, files::SHIM_SOCKET)?;
    // Bind with a restrictive umask so the socket is 0600 from its first moment.
    // SAFETY: umask only changes our own process state.
    let old = unsafe { libc::umask(0o177) };
    let res = UnixListener::bind(&path);
    unsafe { libc::umask(old) };
    let listener = res?;
    listener.set_nonblocking(true)?;
    Ok(listener)
}

fn signalfd_for_sigchld() -> io::Result<OwnedFd> {
    // SAFETY: SIGCHLD is already blocked; signalfd returns a fresh fd.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, libc::SIGCHLD);
        let fd = cvt(libc::signalfd(
            -1,
            &set,
            libc::SFD_CLOEXEC | libc::SFD_NONBLOCK,
        ))?;
        Ok(OwnedFd::from_raw_fd(fd))
    }
}

#[cfg(test)]
mod tests;
