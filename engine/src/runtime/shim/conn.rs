//! One engine connection inside the shim: a non-blocking unix stream with a bounded output
//! buffer, so a slow or stuck engine never blocks the container's output.

use std::io;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::time::{Duration, Instant};

use super::fdio::ReadBuf;
use crate::runtime::protocol::{Decoder, Frame};

/// Output frames beyond this much unsent data are dropped (the log file has them).
pub const OUTPUT_BUFFER_LIMIT: usize = 1 << 20;

pub struct Conn {
    fd: OwnedFd,
    out: Vec<u8>,
    /// Bytes of `out` already written.
    sent: usize,
    decoder: Decoder,
    dropped: u64,
}

impl Conn {
    /// `fd` must already be non-blocking.
    pub fn new(fd: OwnedFd) -> Self {
        Conn {
            fd,
            out: Vec::new(),
            sent: 0,
            decoder: Decoder::new(),
            dropped: 0,
        }
    }

    pub fn raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }

    pub fn has_pending(&self) -> bool {
        self.sent < self.out.len()
    }

    /// Queue a frame. `droppable` output frames are discarded while the buffer is full.
    pub fn send(&mut self, frame: &Frame, droppable: bool) {
        if droppable && self.out.len() - self.sent >= OUTPUT_BUFFER_LIMIT {
            self.dropped += 1;
            if self.dropped == 1 || self.dropped.is_multiple_of(1000) {
                tracing::warn!("engine too slow: dropped {} output frames", self.dropped);
            }
            return;
        }
        if self.sent > 0 && self.sent * 2 >= self.out.len() {
            self.out.drain(..self.sent);
            self.sent = 0;
        }
        self.out.extend_from_slice(&frame.encode());
    }

    /// Write what the socket takes now. Err = the connection is gone.
    pub fn flush(&mut self) -> io::Result<()> {
        while self.has_pending() {
            let rest = &self.out[self.sent..];
            // SAFETY: rest is valid for rest.len() bytes; MSG_NOSIGNAL avoids SIGPIPE.
            let n = unsafe {
                libc::send(
                    self.fd.as_raw_fd(),
                    rest.as_ptr().cast(),
                    rest.len(),
                    libc::MSG_NOSIGNAL,
                )
            };
            if n < 0 {
                let e = io::Error::last_os_error();
                match e.kind() {
                    io::ErrorKind::WouldBlock => return Ok(()),
                    io::ErrorKind::Interrupted => continue,
                    _ => return Err(e),
                }
            }
            self.sent += n as usize;
        }
        self.out.clear();
        self.sent = 0;
        Ok(())
    }

    /// `flush` ignoring errors: a dead connection is noticed by the next poll.
    pub fn flush_quietly(&mut self) {
        let _ = self.flush();
    }

    /// Block (in poll) until everything is sent, the peer is gone, or the deadline passes.
    pub fn flush_with_deadline(&mut self, limit: Duration) {
        let deadline = Instant::now() + limit;
        while self.has_pending() {
            if self.flush().is_err() {
                return;
            }
            if !self.has_pending() {
                return;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return;
            }
            let mut pfd = libc::pollfd {
                fd: self.fd.as_raw_fd(),
                events: libc::POLLOUT,
                revents: 0,
            };
            // SAFETY: one valid pollfd.
            unsafe { libc::poll(&mut pfd, 1, left.as_millis().min(i32::MAX as u128) as i32) };
        }
    }

    /// Read what is available and decode complete frames. The bool is false once the peer closed.
    pub fn read_frames(&mut self, buf: &mut ReadBuf) -> crate::error::Result<(Vec<Frame>, bool)> {
        let mut open = true;
        loop {
            match buf.read(self.fd.as_raw_fd()) {
                Err(e) => match e.kind() {
                    io::ErrorKind::WouldBlock => break,
                    io::ErrorKind::Interrupted => continue,
                    _ => {
                        open = false;
                        break;
                    }
                },
                Ok([]) => {
                    open = false;
                    break;
                }
                Ok(data) => {
                    self.decoder.push(data);
                    // One read per poll wake-up keeps the loop fair to container output.
                    break;
                }
            }
        }
        let mut frames = Vec::new();
        while let Some(f) = self.decoder.next_frame()? {
            frames.push(f);
        }
        Ok((frames, open))
    }
}
