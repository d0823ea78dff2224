//! The shim process: one per container, single-threaded, outlives engine restarts.
//!
//! Lifecycle: the engine execs `berth __berth-shim <dir>` with stdout = the ready pipe and fd 3 =
//! its end of a socketpair. We fork once so the engine can reap the intermediate process, start a
//! new session, create the container (cgroup, stdio, `unshare(CLONE_NEWPID)` + fork into
//! `init::container_main`), report on the ready pipe, and then run a poll() loop that logs output,
//! serves the engine connection (and reconnects on `shim.sock`), and reaps. When the container's
//! main process exits we write `exit.json` and leave.

mod conn;
pub mod log;
mod trace;

use std::io::{self, Write};
use std::os::fd::{AsRawFd, FromRawFd, IntoRawFd, OwnedFd, RawFd};
use std::os::unix::net::UnixListener;
use std::path::{Path, PathBuf};

use crate::runtime::cgroups::ContainerCgroup;
use crate::runtime::init::{self, InitStdio};
use crate::runtime::protocol::{Frame, ReadyReport};
use crate::runtime::spec::{files, ExitRecord, RuntimeSpec, StartRecord};

use conn::Conn;
use log::JsonLog;

/// fd on which the engine passes the first connection.
const ENGINE_FD: RawFd = 3;
/// Exit code for failures of the shim itself (not of the container's command).
const SHIM_FAILURE_CODE: i32 = 128;
/// Stop reading engine input while this much stdin is waiting for the container.
const STDIN_BUFFER_LIMIT: usize = 1 << 20;

fn now_rfc3339() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Nanos, true)
}

fn cvt(ret: libc::c_int) -> io::Result<libc::c_int> {
    if ret < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(ret)
    }
}

fn pipe_cloexec() -> io::Result<(OwnedFd, OwnedFd)> {
    let mut fds = [0; 2];
    // SAFETY: fds is a valid 2-element array.
    cvt(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) })?;
    // SAFETY: pipe2 returned two fresh fds we now own.
    Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
}

fn set_nonblocking(fd: RawFd) -> io::Result<()> {
    // SAFETY: fcntl on an fd we own.
    let flags = cvt(unsafe { libc::fcntl(fd, libc::F_GETFL) })?;
    cvt(unsafe { libc::fcntl(fd, libc::F_SETFL, flags | libc::O_NONBLOCK) })?;
    Ok(())
}

fn set_cloexec(fd: RawFd) -> io::Result<()> {
    // SAFETY: fcntl on an fd we own.
    cvt(unsafe { libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC) })?;
    Ok(())
}

fn read_fd(fd: RawFd, buf: &mut [u8]) -> io::Result<usize> {
    // SAFETY: buf is valid for buf.len() bytes.
    let n = unsafe { libc::read(fd, buf.as_mut_ptr().cast(), buf.len()) };
    if n < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(n as usize)
    }
}

fn write_fd(fd: RawFd, buf: &[u8]) -> io::Result<usize> {
    // SAFETY: buf is valid for buf.len() bytes.
    let n = unsafe { libc::write(fd, buf.as_ptr().cast(), buf.len()) };
    if n < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(n as usize)
    }
}

/// A read buffer whose pages are only touched by the bytes actually read. `vec![0; n]` would
/// write all of it up front and so make every page resident in every shim, while most
/// containers print little or nothing; capacity that is never read into costs no memory.
pub(crate) struct ReadBuf(Vec<u8>);

impl ReadBuf {
    pub(crate) fn new(capacity: usize) -> Self {
        ReadBuf(Vec::with_capacity(capacity))
    }

    /// One read(2) of up to the capacity; the bytes read are returned (empty at EOF).
    pub(crate) fn read(&mut self, fd: RawFd) -> io::Result<&[u8]> {
        self.0.clear();
        let spare = self.0.spare_capacity_mut();
        // SAFETY: spare is valid for spare.len() bytes; read(2) initialises the first n of them.
        let n = unsafe { libc::read(fd, spare.as_mut_ptr().cast(), spare.len()) };
        if n < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: read(2) wrote n <= capacity bytes.
        unsafe { self.0.set_len(n as usize) };
        Ok(&self.0)
    }
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

/// Container stdio: the shim's ends and the child's ends.
struct Stdio {
    /// Stdout pipe read end, or the PTY master (with a TTY: only once init has sent it).
    out: Option<OwnedFd>,
    /// Stderr pipe read end (none with a TTY).
    err: Option<OwnedFd>,
    /// Stdin pipe write end, or a dup of the PTY master (none when stdin is /dev/null).
    stdin: Option<OwnedFd>,
    /// With a TTY: our end of the console socket on which init sends the PTY master.
    console: Option<OwnedFd>,
    open_stdin: bool,
    child: Vec<OwnedFd>,
    init: InitStdio,
}

fn socketpair_cloexec() -> io::Result<(OwnedFd, OwnedFd)> {
    let mut fds = [0; 2];
    // SAFETY: fds is a valid 2-element array.
    cvt(unsafe {
        libc::socketpair(
            libc::AF_UNIX,
            libc::SOCK_STREAM | libc::SOCK_CLOEXEC,
            0,
            fds.as_mut_ptr(),
        )
    })?;
    // SAFETY: socketpair returned two fresh fds we now own.
    Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
}

fn create_stdio(spec: &RuntimeSpec) -> io::Result<Stdio> {
    if spec.process.tty {
        // The PTY is opened by init inside the container's own devpts (see init::console), so
        // until then the child's stdio is /dev/null and we only hold the console socket.
        let (ours, theirs) = socketpair_cloexec()?;
        let null = OwnedFd::from(
            std::fs::OpenOptions::new()
                .read(true)
                .write(true)
                .open("/dev/null")?,
        );
        let (n, t) = (null.as_raw_fd(), theirs.as_raw_fd());
        Ok(Stdio {
            out: None,
            err: None,
            stdin: None,
            console: Some(ours),
            open_stdin: spec.process.open_stdin,
            child: vec![null, theirs],
            init: InitStdio {
                stdin: n,
                stdout: n,
                stderr: n,
                tty: true,
                console_socket: Some(t),
            },
        })
    } else {
        let (out_r, out_w) = pipe_cloexec()?;
        let (err_r, err_w) = pipe_cloexec()?;
        set_nonblocking(out_r.as_raw_fd())?;
        set_nonblocking(err_r.as_raw_fd())?;
        let (stdin, child_in) = if spec.process.open_stdin {
            let (r, w) = pipe_cloexec()?;
            set_nonblocking(w.as_raw_fd())?;
            (Some(w), r)
        } else {
            let null = std::fs::File::open("/dev/null")?;
            (None, OwnedFd::from(null))
        };
        let init = InitStdio {
            stdin: child_in.as_raw_fd(),
            stdout: out_w.as_raw_fd(),
            stderr: err_w.as_raw_fd(),
            tty: false,
            console_socket: None,
        };
        Ok(Stdio {
            out: Some(out_r),
            err: Some(err_r),
            stdin,
            console: None,
            open_stdin: spec.process.open_stdin,
            child: vec![child_in, out_w, err_w],
            init,
        })
    }
}

/// Receive the PTY master init sends on the console socket. `Ok(None)` when init closed the
/// socket without sending one (it failed; its error line says why).
fn recv_console(sock: &OwnedFd) -> io::Result<Option<OwnedFd>> {
    use nix::sys::socket::{recvmsg, ControlMessageOwned, MsgFlags};
    let mut buf = [0u8; 16];
    loop {
        let mut iov = [io::IoSliceMut::new(&mut buf)];
        let mut space = nix::cmsg_space!([RawFd; 2]);
        let msg = match recvmsg::<()>(
            sock.as_raw_fd(),
            &mut iov,
            Some(&mut space),
            MsgFlags::MSG_CMSG_CLOEXEC,
        ) {
            Ok(m) => m,
            Err(nix::errno::Errno::EINTR) => continue,
            Err(e) => return Err(e.into()),
        };
        let mut master = None;
        for c in msg.cmsgs().map_err(io::Error::from)? {
            if let ControlMessageOwned::ScmRights(fds) = c {
                for f in fds {
                    // SAFETY: the kernel just installed f for us; we own it.
                    let owned = unsafe { OwnedFd::from_raw_fd(f) };
                    master.get_or_insert(owned);
                }
            }
        }
        if master.is_some() || msg.bytes == 0 {
            return Ok(master);
        }
    }
}

#[cfg(test)]
pub(crate) fn recv_console_for_test(sock: OwnedFd) -> io::Result<Option<OwnedFd>> {
    recv_console(&sock)
}

/// Take the PTY master from init (TTY containers): it becomes our output and, with open stdin,
/// the stdin end.
fn attach_console(stdio: &mut Stdio) -> io::Result<bool> {
    let Some(sock) = stdio.console.take() else {
        return Ok(true);
    };
    let Some(master) = recv_console(&sock)? else {
        return Ok(false);
    };
    set_cloexec(master.as_raw_fd())?;
    set_nonblocking(master.as_raw_fd())?;
    if stdio.open_stdin {
        stdio.stdin = Some(master.try_clone()?);
    }
    stdio.out = Some(master);
    Ok(true)
}

fn block_sigchld() -> io::Result<libc::sigset_t> {
    // SAFETY: sigset manipulation on a local set.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, libc::SIGCHLD);
        cvt(libc::sigprocmask(
            libc::SIG_BLOCK,
            &set,
            std::ptr::null_mut(),
        ))?;
        Ok(set)
    }
}

/// In the forked child: undo what the shim changed for itself so the container starts with a
/// clean signal state (ignored dispositions and the blocked mask survive execve).
fn reset_signals_in_child() {
    // SAFETY: async-signal-safe calls in the freshly forked child of a single-threaded process.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigprocmask(libc::SIG_SETMASK, &set, std::ptr::null_mut());
        for sig in [
            libc::SIGPIPE,
            libc::SIGTERM,
            libc::SIGINT,
            libc::SIGHUP,
            libc::SIGQUIT,
        ] {
            libc::signal(sig, libc::SIG_DFL);
        }
    }
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

/// Fork the container's PID 1 and wait for its execve. Returns its host pid and our stdio ends,
/// or the exit code and message of the start failure.
fn start_container(
    spec: &RuntimeSpec,
    cgroup: &ContainerCgroup,
) -> Result<(i32, Stdio), (i32, String)> {
    let shim_err = |what: &str, e: io::Error| (SHIM_FAILURE_CODE, format!("shim: {what}: {e}"));
    let mut stdio = create_stdio(spec).map_err(|e| shim_err("creating stdio", e))?;
    let (err_r, err_w) = pipe_cloexec().map_err(|e| shim_err("pipe", e))?;
    let (go_r, go_w) = pipe_cloexec().map_err(|e| shim_err("pipe", e))?;
    block_sigchld().map_err(|e| shim_err("blocking SIGCHLD", e))?;
    // SAFETY: plain syscall; afterwards our next child is PID 1 of a new PID namespace.
    cvt(unsafe { libc::unshare(libc::CLONE_NEWPID) })
        .map_err(|e| shim_err("unshare(CLONE_NEWPID)", e))?;
    // SAFETY: the shim is single-threaded, so the child may run ordinary code after fork.
    let pid = unsafe { libc::fork() };
    if pid < 0 {
        return Err(shim_err("fork", io::Error::last_os_error()));
    }
    if pid == 0 {
        // Child: drop the shim's ends and become the container. init waits for the go byte
        // (we are in the cgroup) before anything of the container runs, so the slow cgroup
        // migration overlaps with building the root filesystem.
        drop(err_r);
        drop(go_w);
        drop(stdio.out);
        drop(stdio.err);
        drop(stdio.stdin);
        drop(stdio.console);
        reset_signals_in_child();
        let err_fd = err_w.into_raw_fd();
        let go_fd = go_r.into_raw_fd();
        // The child-side stdio fds must stay open through container_main.
        std::mem::forget(std::mem::take(&mut stdio.child));
        init::container_main(spec, stdio.init, err_fd, Some(go_fd));
    }
    drop(go_r);
    drop(err_w);
    stdio.child.clear();
    let reap = |pid: i32| {
        let mut status = 0;
        // SAFETY: waiting for our own child.
        unsafe { libc::waitpid(pid, &mut status, 0) };
    };
    // The child is already building its root filesystem; it waits for the go byte before
    // anything of the container runs. If it failed meanwhile, its error line (in the error pipe)
    // is the one to report, not our EPIPE or ESRCH.
    let joined = cgroup.add_process(pid).map_err(|e| {
        (
            SHIM_FAILURE_CODE,
            format!("adding process to cgroup {}: {e}", cgroup.path()),
        )
    });
    let released = match &joined {
        Ok(()) => write_fd(go_w.as_raw_fd(), b"1").map_err(|e| shim_err("releasing init", e)),
        Err(e) => Err(e.clone()),
    };
    drop(go_w);
    if released.is_err() {
        // SAFETY: pid is our unreaped child; it must not run outside its cgroup.
        unsafe { libc::kill(pid, libc::SIGKILL) };
    }
    // With a TTY, init sends the PTY master before it execs (or closes the socket when it
    // fails; then the error pipe below has the reason).
    if released.is_ok() {
        match attach_console(&mut stdio) {
            Ok(_) => {}
            Err(e) => {
                // SAFETY: pid is our unreaped child; without its terminal it cannot be served.
                unsafe { libc::kill(pid, libc::SIGKILL) };
                reap(pid);
                return Err(shim_err("receiving the container's terminal", e));
            }
        }
    }
    // EOF on the error pipe: execve succeeded (the pipe is O_CLOEXEC) or init died silently.
    let mut msg = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match read_fd(err_r.as_raw_fd(), &mut buf) {
            Ok(0) => break,
            Ok(n) => msg.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => {
                tracing::warn!("reading init error pipe: {e}");
                break;
            }
        }
    }
    if let Err(e) = released {
        reap(pid);
        return Err(if msg.is_empty() {
            e
        } else {
            parse_init_error(&msg)
        });
    }
    if !msg.is_empty() {
        reap(pid);
        return Err(parse_init_error(&msg));
    }
    Ok((pid, stdio))
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

struct Shim {
    dir: PathBuf,
    record: StartRecord,
    main_pid: i32,
    exit_status: Option<libc::c_int>,
    out: Option<OwnedFd>,
    err: Option<OwnedFd>,
    stdin: Option<OwnedFd>,
    stdin_buf: Vec<u8>,
    stdin_close: bool,
    tty: bool,
    log: JsonLog,
    conn: Option<Conn>,
    listener: Option<UnixListener>,
    sigfd: OwnedFd,
    cgroup: Option<ContainerCgroup>,
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
    fn event_loop(&mut self) {
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
    fn finish(&mut self) {
        let mut buf = ReadBuf::new(64 * 1024);
        // Every process of the PID namespace is gone once its init is reaped, so reading until
        // EOF (or EAGAIN, to be safe) collects everything that is left.
        while self.out.is_some() && self.read_output(false, &mut buf) {}
        while self.err.is_some() && self.read_output(true, &mut buf) {}
        let status = self.exit_status.unwrap_or(0);
        let cgroup = self.cgroup.take();
        let record = ExitRecord {
            exit_code: exit_code_from_status(status),
            oom_killed: cgroup.as_ref().map(|c| c.oom_killed()).unwrap_or(false),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_follow_docker() {
        // Encoded wait statuses: exited(3) = 3<<8, killed by SIGKILL = 9.
        assert_eq!(exit_code_from_status(3 << 8), 3);
        assert_eq!(exit_code_from_status(0), 0);
        assert_eq!(exit_code_from_status(9), 137);
        assert_eq!(exit_code_from_status(15), 143);
    }

    #[test]
    fn init_error_lines() {
        assert_eq!(
            parse_init_error(b"127 exec: \"x\": executable file not found in $PATH\n"),
            (
                127,
                "exec: \"x\": executable file not found in $PATH".to_string()
            )
        );
        assert_eq!(parse_init_error(b"garbage"), (1, "garbage".to_string()));
    }
}
