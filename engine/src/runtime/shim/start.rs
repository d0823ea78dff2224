//! Starting the container: its stdio, its PID namespace (`unshare(CLONE_NEWPID)`, or `setns`
//! into another container's for `--pid container:<id>`) and the fork into
//! `init::container_main`, the cgroup join and the go byte, then init's error pipe (EOF means
//! execve succeeded).

use std::io;
use std::os::fd::{AsRawFd, IntoRawFd};

use super::fdio::{cvt, pipe_cloexec, read_fd, write_fd};
use super::stdio::{attach_console, create_stdio, Stdio};
use super::{parse_init_error, SHIM_FAILURE_CODE};
use crate::runtime::cgroups::ContainerCgroup;
use crate::runtime::init;
use crate::runtime::spec::{RuntimeSpec, SharedNamespace};

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

/// Choose the PID namespace our next child is born in (both calls leave the shim itself where it
/// is): a new one, whose PID 1 the child becomes (`unshare`); another container's (`setns` on its
/// init's `ns/pid`, `--pid container:<id>`); or the host's, left as it is (`--pid host`).
fn enter_pid_namespace(mode: &SharedNamespace) -> Result<(), (String, io::Error)> {
    match mode {
        // SAFETY: plain syscall.
        SharedNamespace::Private => cvt(unsafe { libc::unshare(libc::CLONE_NEWPID) })
            .map(|_| ())
            .map_err(|e| ("unshare(CLONE_NEWPID)".into(), e)),
        SharedNamespace::Host => Ok(()),
        SharedNamespace::Path(path) => {
            let what = || format!("joining PID namespace {}", path.display());
            let ns = std::fs::File::open(path).map_err(|e| (what(), e))?;
            // SAFETY: setns on a namespace fd we own.
            cvt(unsafe { libc::setns(ns.as_raw_fd(), libc::CLONE_NEWPID) })
                .map(|_| ())
                .map_err(|e| (what(), e))
        }
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

/// Fork the container's PID 1 and wait for its execve. Returns its host pid and our stdio ends,
/// or the exit code and message of the start failure.
pub(super) fn start_container(
    spec: &RuntimeSpec,
    cgroup: &ContainerCgroup,
) -> Result<(i32, Stdio), (i32, String)> {
    let shim_err = |what: &str, e: io::Error| (SHIM_FAILURE_CODE, format!("shim: {what}: {e}"));
    let mut stdio = create_stdio(spec).map_err(|e| shim_err("creating stdio", e))?;
    let (err_r, err_w) = pipe_cloexec().map_err(|e| shim_err("pipe", e))?;
    let (go_r, go_w) = pipe_cloexec().map_err(|e| shim_err("pipe", e))?;
    block_sigchld().map_err(|e| shim_err("blocking SIGCHLD", e))?;
    enter_pid_namespace(&spec.namespaces.pid).map_err(|(what, e)| shim_err(&what, e))?;
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
