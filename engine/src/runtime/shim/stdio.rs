//! The container's stdio as the shim creates it: pipes (or, with a TTY, a console socket on which
//! init sends the PTY master it opened inside the container), the shim's ends and the child's.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

use super::fdio::{pipe_cloexec, set_cloexec, set_nonblocking, socketpair_cloexec};
use crate::runtime::init::InitStdio;
use crate::runtime::spec::RuntimeSpec;

/// Container stdio: the shim's ends and the child's ends.
pub(super) struct Stdio {
    /// Stdout pipe read end, or the PTY master (with a TTY: only once init has sent it).
    pub(super) out: Option<OwnedFd>,
    /// Stderr pipe read end (none with a TTY).
    pub(super) err: Option<OwnedFd>,
    /// Stdin pipe write end, or a dup of the PTY master (none when stdin is /dev/null).
    pub(super) stdin: Option<OwnedFd>,
    /// With a TTY: our end of the console socket on which init sends the PTY master.
    pub(super) console: Option<OwnedFd>,
    pub(super) open_stdin: bool,
    pub(super) child: Vec<OwnedFd>,
    pub(super) init: InitStdio,
}

pub(super) fn create_stdio(spec: &RuntimeSpec) -> io::Result<Stdio> {
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
pub(super) fn attach_console(stdio: &mut Stdio) -> io::Result<bool> {
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
