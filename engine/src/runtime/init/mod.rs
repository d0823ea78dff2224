//! Container init: everything between the shim's fork and the execve of the container process.
//!
//! STUB: the interface the shim calls; the real setup (namespaces, rootfs, mounts, user,
//! capabilities, seccomp) replaces the body.

use std::os::fd::RawFd;

use crate::runtime::spec::RuntimeSpec;

/// Stdio of the container process: fds already open in the child. With `tty`, all three are the
/// PTY slave and init makes it the controlling terminal.
#[derive(Debug, Clone, Copy)]
pub struct InitStdio {
    pub stdin: RawFd,
    pub stdout: RawFd,
    pub stderr: RawFd,
    pub tty: bool,
}

/// Runs in the child the shim forked: PID 1 of a new PID namespace, already in the container's
/// cgroup. Sets everything up and execs `spec.process.args`. On failure writes one line
/// "<exit code> <message>" to `error_fd` (O_CLOEXEC, so a successful execve just closes it) and
/// exits with that code: 127 command not found, 126 not executable, 1 any other setup error.
pub fn container_main(spec: &RuntimeSpec, stdio: InitStdio, error_fd: RawFd) -> ! {
    let _ = (spec, stdio, error_fd);
    unsafe { libc::_exit(1) }
}
