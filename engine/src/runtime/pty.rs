//! The PTY master of an exec with a terminal: the exec helper opens the pair inside the
//! container's namespaces and hands the master to the engine over its status socket
//! (SCM_RIGHTS); the engine drives it non-blocking from tokio's reactor.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

use tokio::io::unix::AsyncFd;

/// A PTY master: non-blocking, driven by tokio's reactor.
pub struct Pty {
    master: AsyncFd<OwnedFd>,
}

impl Pty {
    /// Drive a PTY master (received from the exec helper) from tokio's reactor.
    pub(crate) fn from_master(master: OwnedFd) -> io::Result<Pty> {
        // SAFETY: fcntl on an fd we own.
        unsafe {
            let fl = libc::fcntl(master.as_raw_fd(), libc::F_GETFL);
            if fl < 0 || libc::fcntl(master.as_raw_fd(), libc::F_SETFL, fl | libc::O_NONBLOCK) < 0 {
                return Err(io::Error::last_os_error());
            }
        }
        // SAFETY: the OwnedFd owns the master for the AsyncFd's whole life, as `register`
        // requires.
        let master = unsafe { AsyncFd::register(master) }.map_err(|e| e.into_parts().1)?;
        Ok(Pty { master })
    }

    pub fn resize(&self, rows: u16, cols: u16) -> io::Result<()> {
        let ws = libc::winsize {
            ws_row: rows,
            ws_col: cols,
            ws_xpixel: 0,
            ws_ypixel: 0,
        };
        // SAFETY: TIOCSWINSZ reads a valid winsize.
        if unsafe { libc::ioctl(self.master.as_raw_fd(), libc::TIOCSWINSZ, &ws) } < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }

    /// Read output; Ok(0) once every slave fd is closed (the kernel reports EIO then).
    pub(crate) async fn read(&self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            let mut guard = self.master.readable().await?;
            let res = guard.try_io(|fd| {
                // SAFETY: buf is valid for buf.len() bytes.
                let n = unsafe { libc::read(fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len()) };
                if n < 0 {
                    Err(io::Error::last_os_error())
                } else {
                    Ok(n as usize)
                }
            });
            match res {
                Ok(Err(e)) if e.raw_os_error() == Some(libc::EIO) => return Ok(0),
                Ok(r) => return r,
                Err(_would_block) => continue,
            }
        }
    }

    pub(crate) async fn write_all(&self, mut data: &[u8]) -> io::Result<()> {
        while !data.is_empty() {
            let mut guard = self.master.writable().await?;
            let res = guard.try_io(|fd| {
                // SAFETY: data is valid for data.len() bytes.
                let n = unsafe { libc::write(fd.as_raw_fd(), data.as_ptr().cast(), data.len()) };
                if n < 0 {
                    Err(io::Error::last_os_error())
                } else {
                    Ok(n as usize)
                }
            });
            match res {
                Ok(Ok(n)) => data = &data[n..],
                Ok(Err(e)) => return Err(e),
                Err(_would_block) => continue,
            }
        }
        Ok(())
    }
}

/// Receive the PTY master the helper sends (SCM_RIGHTS with the line "pty"); bytes read on the
/// way are kept in `got` for the status parser. None when the helper ended without sending it.
pub(crate) async fn recv_master(
    sock: &tokio::net::UnixStream,
    got: &mut Vec<u8>,
) -> Option<OwnedFd> {
    use nix::sys::socket::{recvmsg, ControlMessageOwned, MsgFlags};
    loop {
        if sock.readable().await.is_err() {
            return None;
        }
        let mut buf = [0u8; 256];
        let res = sock.try_io(tokio::io::Interest::READABLE, || {
            let mut iov = [io::IoSliceMut::new(&mut buf)];
            let mut space = nix::cmsg_space!([std::os::fd::RawFd; 2]);
            let msg = recvmsg::<()>(
                sock.as_raw_fd(),
                &mut iov,
                Some(&mut space),
                MsgFlags::MSG_CMSG_CLOEXEC,
            )
            .map_err(io::Error::from)?;
            let mut fd = None;
            for c in msg.cmsgs().map_err(io::Error::from)? {
                if let ControlMessageOwned::ScmRights(fds) = c {
                    for f in fds {
                        // SAFETY: the kernel just installed f for us; we own it.
                        let owned = unsafe { OwnedFd::from_raw_fd(f) };
                        fd.get_or_insert(owned);
                    }
                }
            }
            Ok((msg.bytes, fd))
        });
        match res {
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
            Err(_) | Ok((0, None)) => return None,
            Ok((n, fd)) => {
                got.extend_from_slice(&buf[..n]);
                if fd.is_some() {
                    return fd;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn pty_master_round_trip_and_resize() {
        let (master, slave) = crate::runtime::exec_helper::open_pty_pair().unwrap();
        // Both ends are close-on-exec.
        for fd in [master.as_raw_fd(), slave.as_raw_fd()] {
            let fl = unsafe { libc::fcntl(fd, libc::F_GETFD) };
            assert!(fl & libc::FD_CLOEXEC != 0);
        }
        let pty = Pty::from_master(master).unwrap();
        pty.resize(33, 101).unwrap();
        let mut ws: libc::winsize = unsafe { std::mem::zeroed() };
        assert_eq!(
            unsafe { libc::ioctl(slave.as_raw_fd(), libc::TIOCGWINSZ, &mut ws) },
            0
        );
        assert_eq!((ws.ws_row, ws.ws_col), (33, 101));
        let mut f = std::fs::File::from(slave);
        std::io::Write::write_all(&mut f, b"hello\n").unwrap();
        let mut buf = [0u8; 64];
        let n = pty.read(&mut buf).await.unwrap();
        assert!(buf[..n].starts_with(b"hello"));
        drop(f);
        // Every slave closed: EIO becomes end of stream.
        let mut total = 0;
        loop {
            let n = pty.read(&mut buf).await.unwrap();
            if n == 0 {
                break;
            }
            total += n;
            assert!(total < 64);
        }
    }

    #[tokio::test]
    async fn master_arrives_over_the_status_socket() {
        let (a, b) = std::os::unix::net::UnixStream::pair().unwrap();
        let (master, _slave) = crate::runtime::exec_helper::open_pty_pair().unwrap();
        let fds = [master.as_raw_fd()];
        nix::sys::socket::sendmsg::<()>(
            b.as_raw_fd(),
            &[io::IoSlice::new(b"pty\n")],
            &[nix::sys::socket::ControlMessage::ScmRights(&fds)],
            nix::sys::socket::MsgFlags::empty(),
            None,
        )
        .unwrap();
        std::io::Write::write_all(&mut &b, b"pid 9\n").unwrap();
        drop(b);
        a.set_nonblocking(true).unwrap();
        let sock = tokio::net::UnixStream::from_std(a).unwrap();
        let mut got = Vec::new();
        let fd = recv_master(&sock, &mut got).await.expect("master fd");
        assert!(fd.as_raw_fd() != master.as_raw_fd());
        assert!(got.starts_with(b"pty\n"));
        // Without an fd (the helper failed early) the answer is None, bytes kept.
        let (a, b) = std::os::unix::net::UnixStream::pair().unwrap();
        std::io::Write::write_all(&mut &b, b"1 boom\n").unwrap();
        drop(b);
        a.set_nonblocking(true).unwrap();
        let sock = tokio::net::UnixStream::from_std(a).unwrap();
        let mut got = Vec::new();
        assert!(recv_master(&sock, &mut got).await.is_none());
        assert_eq!(got, b"1 boom\n");
    }
}
