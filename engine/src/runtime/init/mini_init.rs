//! `--init`: PID 1 stays in our code, forwards signals to the real process, reaps every zombie
//! and exits with the process's status (128+signal when it was killed), like docker-init (tini).

use std::os::fd::RawFd;

use nix::errno::Errno;
use nix::sys::signal::{kill, sigprocmask, SigSet, SigmaskHow, Signal};
use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
use nix::unistd::{fork, ForkResult, Pid};

use super::exec::{self, Prepared};
use super::{report_and_exit, InitResult};

const FORWARDED: &[Signal] = &[
    Signal::SIGTERM,
    Signal::SIGINT,
    Signal::SIGHUP,
    Signal::SIGQUIT,
    Signal::SIGUSR1,
    Signal::SIGUSR2,
    Signal::SIGWINCH,
];

pub fn run(prepared: Prepared, tty: bool, error_fd: RawFd) -> InitResult<std::convert::Infallible> {
    // Block what we forward before forking so nothing slips through between fork and the wait
    // loop; the child unblocks everything before exec.
    let mut set = SigSet::empty();
    for s in FORWARDED {
        set.add(*s);
    }
    set.add(Signal::SIGCHLD);
    sigprocmask(SigmaskHow::SIG_BLOCK, Some(&set), None)
        .map_err(|e| super::InitError::setup(format!("block signals: {e}")))?;

    // SAFETY: we are single-threaded; the child only does async-signal-safe work and execs.
    match unsafe { fork() } {
        Err(e) => Err(super::InitError::setup(format!("fork: {e}"))),
        Ok(ForkResult::Child) => {
            // Own process group, in the foreground of the terminal, like tini.
            let _ = nix::unistd::setpgid(Pid::from_raw(0), Pid::from_raw(0));
            if tty {
                // SAFETY: ignoring SIGTTOU around tcsetpgrp from a background group.
                unsafe {
                    libc::signal(libc::SIGTTOU, libc::SIG_IGN);
                    libc::tcsetpgrp(0, libc::getpid());
                }
            }
            let err = match exec::exec(&prepared) {
                Ok(never) => match never {},
                Err(e) => e,
            };
            report_and_exit(error_fd, &err)
        }
        Ok(ForkResult::Parent { child }) => {
            // Only the child may report on the error pipe; the shim sees EOF when it execs.
            // SAFETY: closing our copy of the pipe.
            unsafe { libc::close(error_fd) };
            let code = supervise(child, &set);
            // SAFETY: leaving PID 1; the kernel kills the rest of the namespace.
            unsafe { libc::_exit(code) }
        }
    }
}

fn supervise(child: Pid, set: &SigSet) -> i32 {
    loop {
        match set.wait() {
            Ok(Signal::SIGCHLD) => {
                if let Some(code) = reap(child) {
                    return code;
                }
            }
            Ok(sig) => {
                let _ = kill(child, sig);
            }
            Err(_) => {}
        }
        // A SIGCHLD coalesced with another signal must not leave zombies behind.
        if let Some(code) = reap(child) {
            return code;
        }
    }
}

/// Reap every exited process; Some(exit code) once the main child is among them.
fn reap(child: Pid) -> Option<i32> {
    let mut result = None;
    loop {
        match waitpid(Pid::from_raw(-1), Some(WaitPidFlag::WNOHANG)) {
            Ok(WaitStatus::Exited(pid, code)) if pid == child => result = Some(code),
            Ok(WaitStatus::Signaled(pid, sig, _)) if pid == child => {
                result = Some(128 + sig as i32)
            }
            Ok(WaitStatus::StillAlive) | Err(Errno::ECHILD) => return result,
            Ok(_) => {}
            Err(Errno::EINTR) => {}
            Err(_) => return result,
        }
    }
}
