//! The container's terminal, created inside the container as runc does with its console socket.
//!
//! After pivot_root the init opens `/dev/pts/ptmx` of the container's own devpts instance, so the
//! slave is a `/dev/pts/N` that exists inside the container (`tty`, `ttyname` and `stty` work,
//! and nothing of the host's devpts is visible). The slave is bound over `/dev/console`, becomes
//! stdin/stdout/stderr and the controlling terminal, and the master goes to the shim over the
//! console socket (SCM_RIGHTS); the shim owns it from then on.

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::path::Path;

use nix::errno::Errno;
use nix::mount::MsFlags;

use super::mounts::mount_on_fd;
use super::{ErrnoCtx, InitError, InitResult};
use crate::fs_at::in_root::create_file_in_root;

/// The container's devpts multiplexer (`/dev/ptmx` is a symlink to it).
const PTMX: &std::ffi::CStr = c"/dev/pts/ptmx";

/// A new PTY of the container's devpts: (master, slave, slave path), both ends close-on-exec.
fn open_pty() -> InitResult<(OwnedFd, OwnedFd, String)> {
    let flags = libc::O_RDWR | libc::O_NOCTTY | libc::O_CLOEXEC;
    // SAFETY: plain syscalls on a NUL-terminated path and on fds we own.
    unsafe {
        let m = libc::open(PTMX.as_ptr(), flags);
        if m < 0 {
            return Err(Errno::last()).ctx("open /dev/pts/ptmx");
        }
        let master = OwnedFd::from_raw_fd(m);
        let unlock: libc::c_int = 0;
        if libc::ioctl(m, libc::TIOCSPTLCK, &unlock) < 0 {
            return Err(Errno::last()).ctx("unlock the PTY");
        }
        let mut n: libc::c_uint = 0;
        if libc::ioctl(m, libc::TIOCGPTN, &mut n) < 0 {
            return Err(Errno::last()).ctx("PTY number");
        }
        // TIOCGPTPEER opens the slave through the master, never by a path someone could swap.
        let s = libc::ioctl(m, libc::TIOCGPTPEER, flags);
        if s < 0 {
            return Err(Errno::last()).ctx("open the PTY slave");
        }
        Ok((master, OwnedFd::from_raw_fd(s), format!("/dev/pts/{n}")))
    }
}

/// Set the terminal size (rows, cols); zero sizes are left to the kernel default.
pub fn set_size(fd: RawFd, size: Option<(u16, u16)>) -> InitResult<()> {
    let Some((rows, cols)) = size.filter(|(r, c)| *r > 0 && *c > 0) else {
        return Ok(());
    };
    let ws = libc::winsize {
        ws_row: rows,
        ws_col: cols,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: TIOCSWINSZ reads a valid winsize.
    if unsafe { libc::ioctl(fd, libc::TIOCSWINSZ, &ws) } < 0 {
        return Err(Errno::last()).ctx("set the terminal size");
    }
    Ok(())
}

/// Send the master on the console socket: one byte with the fd attached.
fn send_master(socket: RawFd, master: &OwnedFd) -> InitResult<()> {
    use nix::sys::socket::{sendmsg, ControlMessage, MsgFlags};
    let iov = [std::io::IoSlice::new(b"m")];
    let fds = [master.as_raw_fd()];
    loop {
        match sendmsg::<()>(
            socket,
            &iov,
            &[ControlMessage::ScmRights(&fds)],
            MsgFlags::MSG_NOSIGNAL,
            None,
        ) {
            Ok(_) => return Ok(()),
            Err(Errno::EINTR) => continue,
            Err(e) => return Err(e).ctx("send the terminal to the shim"),
        }
    }
}

/// Runs in the container's init after pivot_root: create the PTY, bind its slave over
/// /dev/console, make it stdio and the controlling terminal, hand the master to the shim.
pub fn setup(socket: RawFd, size: Option<(u16, u16)>) -> InitResult<()> {
    let (master, slave, slave_path) = open_pty()?;
    set_size(master.as_raw_fd(), size)?;
    let root = std::fs::File::open("/").ctx("open /")?;
    let console = create_file_in_root(root.as_raw_fd(), Path::new("/dev/console"))
        .ctx("create /dev/console")?;
    mount_on_fd(
        Some(slave_path.as_str()),
        &console,
        None,
        MsFlags::MS_BIND,
        None,
    )
    .ctx("bind /dev/console")?;
    for fd in 0..3 {
        // SAFETY: dup2 of an fd we own onto our stdio (dup2 clears close-on-exec).
        if unsafe { libc::dup2(slave.as_raw_fd(), fd) } < 0 {
            return Err(Errno::last()).ctx("dup the terminal onto stdio");
        }
    }
    drop(slave);
    // SAFETY: we are a session leader without a terminal (setup_stdio called setsid).
    if unsafe { libc::ioctl(0, libc::TIOCSCTTY, 0) } < 0 {
        return Err(Errno::last()).ctx("set controlling terminal");
    }
    send_master(socket, &master)?;
    drop(master);
    // SAFETY: closing the console socket; the shim has the master now.
    unsafe { libc::close(socket) };
    Ok(())
}

/// runc's fixStdioPermissions: the terminal belongs to the user the process runs as, so it can
/// reopen it (`/dev/tty`, `/proc/self/fd/0`) after dropping privileges.
pub fn chown_terminal(uid: u32) -> InitResult<()> {
    // SAFETY: fchown on our stdin; -1 keeps the group (devpts gives gid 5, tty).
    if unsafe { libc::fchown(0, uid, u32::MAX) } < 0 {
        return Err(InitError::setup(format!(
            "chown the terminal to {uid}: {}",
            Errno::last()
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pty_of_the_mounted_devpts_with_size() {
        // The host's devpts stands in for the container's (same path after pivot_root).
        let (master, slave, path) = open_pty().unwrap();
        assert!(path.starts_with("/dev/pts/"), "{path}");
        assert!(std::path::Path::new(&path).exists());
        for fd in [master.as_raw_fd(), slave.as_raw_fd()] {
            // SAFETY: F_GETFD on fds we own.
            assert!(unsafe { libc::fcntl(fd, libc::F_GETFD) } & libc::FD_CLOEXEC != 0);
        }
        set_size(master.as_raw_fd(), Some((31, 97))).unwrap();
        set_size(master.as_raw_fd(), Some((0, 5))).unwrap();
        // SAFETY: zeroed plain struct, filled by TIOCGWINSZ.
        let mut ws: libc::winsize = unsafe { std::mem::zeroed() };
        assert_eq!(
            unsafe { libc::ioctl(slave.as_raw_fd(), libc::TIOCGWINSZ, &mut ws) },
            0
        );
        assert_eq!((ws.ws_row, ws.ws_col), (31, 97));
    }

    #[test]
    fn master_travels_over_the_console_socket() {
        let (a, b) = std::os::unix::net::UnixStream::pair().unwrap();
        let (master, _slave, _) = open_pty().unwrap();
        send_master(b.as_raw_fd(), &master).unwrap();
        let got = crate::runtime::shim::recv_console_for_test(OwnedFd::from(a)).unwrap();
        let got = got.expect("a master fd");
        assert_ne!(got.as_raw_fd(), master.as_raw_fd());
        // A closed socket without a message: init failed before it got that far.
        let (a, b) = std::os::unix::net::UnixStream::pair().unwrap();
        drop(b);
        let got = crate::runtime::shim::recv_console_for_test(OwnedFd::from(a)).unwrap();
        assert!(got.is_none());
    }
}
