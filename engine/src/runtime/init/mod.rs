//! Container init: everything between the shim's fork and the execve of the container process.
//!
//! `container_main` runs in the child the shim forked (PID 1 of a new PID namespace). The order
//! follows runc/youki: session and stdio, namespaces, rootfs and mounts (every target resolved
//! inside the rootfs with openat2), pivot_root, masked and read-only paths, hostname, user,
//! working dir, executable lookup, seccomp, capabilities and credentials, fd hygiene, execve.

use std::fmt;
use std::os::fd::RawFd;

use nix::errno::Errno;

use crate::runtime::spec::RuntimeSpec;

pub(crate) mod caps;
mod console;
mod devices;
pub(crate) mod exec;
mod mini_init;
mod mounts;
mod namespaces;
mod rootfs;
pub(crate) mod seccomp_load;
pub(crate) mod user;
mod user_mounts;

/// Stdio of the container process: fds already open in the child. With `tty` and no
/// `console_socket`, all three are the PTY slave and init makes it the controlling terminal.
/// With a `console_socket` (the container's main process), the three are placeholders
/// (/dev/null) and init creates the terminal inside the container after pivot_root, sending the
/// master back on that socket.
#[derive(Debug, Clone, Copy)]
pub struct InitStdio {
    pub stdin: RawFd,
    pub stdout: RawFd,
    pub stderr: RawFd,
    pub tty: bool,
    pub console_socket: Option<RawFd>,
}

/// A setup failure: the exit code the shim reports and a message for the user.
#[derive(Debug)]
pub(crate) struct InitError {
    pub code: i32,
    pub msg: String,
}

impl InitError {
    pub fn new(code: i32, msg: impl Into<String>) -> Self {
        InitError {
            code,
            msg: msg.into(),
        }
    }
    pub fn setup(msg: impl Into<String>) -> Self {
        Self::new(1, msg)
    }
}

impl fmt::Display for InitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.code, self.msg)
    }
}

pub(crate) type InitResult<T> = Result<T, InitError>;

/// `.ctx("mount proc")?` turns an errno into "mount proc: EPERM (Operation not permitted)".
pub(crate) trait ErrnoCtx<T> {
    fn ctx(self, what: impl fmt::Display) -> InitResult<T>;
}

impl<T> ErrnoCtx<T> for Result<T, Errno> {
    fn ctx(self, what: impl fmt::Display) -> InitResult<T> {
        self.map_err(|e| InitError::setup(format!("{what}: {e}")))
    }
}

impl<T> ErrnoCtx<T> for std::io::Result<T> {
    fn ctx(self, what: impl fmt::Display) -> InitResult<T> {
        self.map_err(|e| InitError::setup(format!("{what}: {e}")))
    }
}

/// Runs in the child the shim forked: PID 1 of a new PID namespace, already in the container's
/// cgroup. Sets everything up and execs `spec.process.args`. On failure writes one line
/// "<exit code> <message>" to `error_fd` (O_CLOEXEC, so a successful execve just closes it) and
/// exits with that code: 127 command not found, 126 not executable, 1 any other setup error.
///
/// `release_fd`, when given, is read (one byte) just before the point of no return (seccomp,
/// capabilities, exec): the shim writes it once the process is in the container's cgroup. Moving a
/// task into a cgroup v1 hierarchy can take tens of milliseconds (an RCU grace period), so the
/// shim does it while this process builds the root filesystem instead of before. EOF means the shim
/// died: the container must not run outside its cgroup.
pub fn container_main(
    spec: &RuntimeSpec,
    stdio: InitStdio,
    error_fd: RawFd,
    release_fd: Option<RawFd>,
) -> ! {
    let err = match run(spec, stdio, error_fd, release_fd) {
        Ok(never) => match never {},
        Err(e) => e,
    };
    report_and_exit(error_fd, &err)
}

/// Write "<code> <message>\n" to the error pipe and `_exit(code)`.
pub(crate) fn report_and_exit(error_fd: RawFd, err: &InitError) -> ! {
    // One line; newlines inside the message would split it for the reader.
    let line = format!("{} {}\n", err.code, err.msg.replace('\n', " "));
    let bytes = line.as_bytes();
    let mut off = 0;
    while off < bytes.len() {
        // SAFETY: writing a valid buffer to a raw fd we were given.
        let n = unsafe { libc::write(error_fd, bytes[off..].as_ptr().cast(), bytes.len() - off) };
        if n < 0 && Errno::last() == Errno::EINTR {
            continue;
        }
        if n <= 0 {
            break;
        }
        off += n as usize;
    }
    // SAFETY: _exit never returns and skips atexit handlers inherited from the shim.
    unsafe { libc::_exit(err.code) }
}

/// Block until the shim has put us in the container's cgroup.
fn wait_for_release(fd: RawFd) -> InitResult<()> {
    let mut b = [0u8; 1];
    loop {
        // SAFETY: reading one byte into a valid buffer from an fd the shim gave us.
        let n = unsafe { libc::read(fd, b.as_mut_ptr().cast(), 1) };
        if n == 1 {
            // SAFETY: closing our own fd; it is not used again.
            unsafe { libc::close(fd) };
            return Ok(());
        }
        if n < 0 && Errno::last() == Errno::EINTR {
            continue;
        }
        return Err(InitError::setup(
            "the shim went away before the container joined its cgroup",
        ));
    }
}

/// The setup sequence; returns only on error.
fn run(
    spec: &RuntimeSpec,
    stdio: InitStdio,
    error_fd: RawFd,
    release_fd: Option<RawFd>,
) -> InitResult<std::convert::Infallible> {
    // Everything we create (device nodes, dirs) gets the exact mode we ask for; the process gets
    // docker's 0022 back before exec.
    // SAFETY: umask has no memory effects.
    unsafe { libc::umask(0) };

    exec::setup_stdio(stdio)?;
    namespaces::unshare_namespaces(&spec.network, &spec.namespaces)?;

    // Host-side inputs must be read before pivot_root hides the host.
    let seccomp_prog = match &spec.seccomp_bpf {
        Some(p) => Some(seccomp_load::read_program(p)?),
        None => None,
    };

    rootfs::prepare_rootfs(spec)?;
    user_mounts::mount_all(&spec.rootfs.mount_point, &spec.mounts)?;
    rootfs::pivot_root(&spec.rootfs.mount_point)?;
    if let (true, Some(socket)) = (stdio.tty, stdio.console_socket) {
        console::setup(socket, spec.process.console_size)?;
    }
    mounts::mask_and_readonly(&spec.masked_paths, &spec.readonly_paths)?;
    if spec.rootfs.readonly {
        mounts::remount_root_readonly()?;
    }
    // `--uts host`: the host's name stays, as with runc (no UTS namespace to name).
    if spec.namespaces.uts == crate::runtime::spec::SharedNamespace::Private {
        nix::unistd::sethostname(&spec.hostname).ctx("sethostname")?;
    }

    let ident = user::resolve_in_container(&spec.process.user, &spec.process.group_add)?;
    if stdio.tty {
        console::chown_terminal(ident.uid)?;
    }
    let env = exec::build_env(&spec.process.env, &ident);
    exec::enter_workdir(&spec.process.cwd, &ident)?;
    if let Some(fd) = release_fd {
        wait_for_release(fd)?;
    }

    // Without no_new_privileges the filter must go in while we still hold CAP_SYS_ADMIN; the
    // remaining setup syscalls (setgroups, setuid, capset, prctl) are allowed by docker's profile.
    if !spec.process.no_new_privileges {
        if let Some(prog) = &seccomp_prog {
            seccomp_load::load(prog)?;
        }
    }
    caps::drop_privileges(&spec.process.capabilities, &ident)?;
    let program = exec::find_executable(&spec.process.args, &env)?;
    if spec.process.no_new_privileges {
        seccomp_load::set_no_new_privs()?;
        if let Some(prog) = &seccomp_prog {
            seccomp_load::load(prog)?;
        }
    }

    let prepared = exec::Prepared::new(&program, &spec.process.args, &env)?;
    if spec.init {
        mini_init::run(prepared, stdio.tty, error_fd)
    } else {
        exec::exec(&prepared)
    }
}
