//! Engine side of the shim: spawn a shim for a container, or reconnect to a running one after an
//! engine restart, and talk to it over the protocol.
//!
//! Each connection gets two tasks: a reader that turns frames into [`ShimEvent`]s (and guarantees
//! the final `Exited`), and a writer fed by an unbounded channel so commands never block callers.

use std::cell::RefCell;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::time::Duration;

use bytes::Bytes;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt};
use tokio::net::unix::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::UnixStream;
use tokio::sync::mpsc;

use crate::error::{EngineError, IoContext, Result};
use crate::runtime::protocol::{Decoder, Frame, ReadyReport};
use crate::runtime::selfexe::{ShimExecutable, SHIM_ARG};
use crate::runtime::spec::{files, ExitRecord, StartRecord};

/// Docker reports 255 when the runtime of a container is lost.
const LOST_SHIM_EXIT_CODE: i32 = 255;
/// A live shim answers a reconnect at once; this only guards against a stopped (SIGSTOP) shim.
const RECONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// The ready line is small; anything longer is a broken shim.
const MAX_READY_LINE: u64 = 64 * 1024;

/// What a shim reports about its container, in order. `Exited` is always the last event and is
/// delivered exactly once, also when the connection to the shim breaks (then from `exit.json`, or
/// with an error saying the shim died).
#[derive(Debug, Clone)]
pub enum ShimEvent {
    Stdout(Bytes),
    Stderr(Bytes),
    Exited(ExitRecord),
}

/// A live connection to one container's shim. Cheap to clone; commands are queued to a writer task.
#[derive(Debug, Clone)]
pub struct ShimHandle {
    commands: mpsc::UnboundedSender<Frame>,
}

pub type ShimConnection = (ShimHandle, StartRecord, mpsc::UnboundedReceiver<ShimEvent>);

/// A path to `name` in `dir` that fits in `sun_path` (108 bytes) however deep the data root is:
/// through an O_PATH fd of the directory. The returned fd must stay open while the path is used.
pub(crate) fn short_socket_path(dir: &Path, name: &str) -> std::io::Result<(OwnedFd, PathBuf)> {
    let c = std::ffi::CString::new(dir.as_os_str().as_encoded_bytes())
        .map_err(|_| std::io::Error::from(std::io::ErrorKind::InvalidInput))?;
    // SAFETY: valid C string; O_PATH opens without reading the directory.
    let fd = unsafe {
        libc::open(
            c.as_ptr(),
            libc::O_PATH | libc::O_DIRECTORY | libc::O_CLOEXEC,
        )
    };
    if fd < 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: fresh fd we own.
    let fd = unsafe { OwnedFd::from_raw_fd(fd) };
    let path = PathBuf::from(format!("/proc/self/fd/{}/{name}", fd.as_raw_fd()));
    Ok((fd, path))
}

fn start_error(exit_code: i32, error: String) -> EngineError {
    // Docker answers 400 when the command cannot be found or executed, 500 otherwise.
    if exit_code == 126 || exit_code == 127 {
        EngineError::InvalidArgument(error)
    } else {
        EngineError::Internal(error)
    }
}

impl ShimHandle {
    /// Exec the shim for the `bundle.json` already written in `container_dir` and wait until the
    /// container's process runs. A container that cannot start (exec failure, bad user, mount
    /// error) is an `Err` whose message says why; the shim has then written `exit.json`.
    pub async fn spawn(exe: &ShimExecutable, container_dir: &Path) -> Result<ShimConnection> {
        let (ours, theirs) = std::os::unix::net::UnixStream::pair()
            .io_context(|| "creating the shim socketpair".to_string())?;
        let theirs_fd = theirs.as_raw_fd();
        let mut cmd = tokio::process::Command::new(exe.path());
        cmd.arg(SHIM_ARG)
            .arg(container_dir)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            // Shims outlive the engine; systemd's notify socket is the engine's business only.
            .env_remove("NOTIFY_SOCKET")
            .kill_on_drop(false);
        // SAFETY: only async-signal-safe calls (fcntl, dup2) between fork and exec.
        unsafe {
            cmd.pre_exec(move || {
                let ret = if theirs_fd == 3 {
                    // Already in place: just let it survive the exec.
                    libc::fcntl(3, libc::F_SETFD, 0)
                } else {
                    // dup2 clears close-on-exec on the new fd.
                    libc::dup2(theirs_fd, 3)
                };
                if ret < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let mut child = cmd
            .spawn()
            .io_context(|| format!("starting shim {}", exe.path().display()))?;
        drop(theirs);
        let stdout = child
            .stdout
            .take()
            .ok_or_else(|| EngineError::internal("shim ready pipe missing"))?;
        // The intermediate process exits right after forking the real shim; reap it.
        let status = child
            .wait()
            .await
            .io_context(|| "waiting for the shim to daemonize".to_string())?;
        if !status.success() {
            tracing::warn!("shim launcher exited with {status}");
        }
        let mut line = String::new();
        let mut reader = tokio::io::BufReader::new(stdout.take(MAX_READY_LINE));
        reader
            .read_line(&mut line)
            .await
            .io_context(|| "reading the shim's ready report".to_string())?;
        if line.trim().is_empty() {
            // The shim died before reporting; it may still have recorded why.
            return Err(match read_exit_record(container_dir) {
                Some(ExitRecord {
                    exit_code,
                    error: Some(error),
                    ..
                }) => start_error(exit_code, error),
                _ => EngineError::internal("shim exited unexpectedly"),
            });
        }
        let report: ReadyReport = serde_json::from_str(line.trim())
            .map_err(|e| EngineError::internal(format!("bad shim ready report: {e}")))?;
        match report {
            ReadyReport::Failed { exit_code, error } => Err(start_error(exit_code, error)),
            ReadyReport::Started(record) => {
                ours.set_nonblocking(true)
                    .io_context(|| "shim socket".to_string())?;
                let stream = UnixStream::from_std(ours).io_context(|| "shim socket".to_string())?;
                // The first frame on the socket repeats the start record; the reader skips it.
                let (handle, events) = connect_tasks(stream, Decoder::new(), container_dir);
                Ok((handle, record, events))
            }
        }
    }

    /// Reconnect to the shim of a container that was running when the engine stopped.
    /// `Ok(None)` when no shim answers (the container's exit, if any, is in `exit.json`).
    pub async fn reconnect(container_dir: &Path) -> Result<Option<ShimConnection>> {
        let ctx = || format!("connecting to the shim of {}", container_dir.display());
        let (_dirfd, path) = match short_socket_path(container_dir, files::SHIM_SOCKET) {
            Ok(p) => p,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e).io_context(ctx),
        };
        let mut stream = match UnixStream::connect(&path).await {
            Ok(s) => s,
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::NotFound | std::io::ErrorKind::ConnectionRefused
                ) =>
            {
                return Ok(None)
            }
            Err(e) => return Err(e).io_context(ctx),
        };
        let mut decoder = Decoder::new();
        let started = tokio::time::timeout(RECONNECT_TIMEOUT, async {
            let mut buf = vec![0u8; 16 * 1024];
            loop {
                if let Some(frame) = decoder.next_frame()? {
                    return Ok::<_, EngineError>(match frame {
                        Frame::Started(r) => Some(r),
                        other => {
                            return Err(EngineError::internal(format!(
                                "shim sent {other:?} before its start record"
                            )))
                        }
                    });
                }
                match stream.read(&mut buf).await {
                    // Accepted but gone: the shim was exiting; exit.json has the outcome.
                    Ok(0) | Err(_) => return Ok(None),
                    Ok(n) => decoder.push(&buf[..n]),
                }
            }
        })
        .await
        .map_err(|_| EngineError::internal(format!("{}: shim does not answer", ctx())))??;
        let Some(record) = started else {
            return Ok(None);
        };
        let (handle, events) = connect_tasks(stream, decoder, container_dir);
        Ok(Some((handle, record, events)))
    }

    /// A handle whose commands go to `commands` instead of a shim: the container lifecycle's
    /// test host records them.
    #[cfg(test)]
    pub(crate) fn from_commands(commands: mpsc::UnboundedSender<Frame>) -> ShimHandle {
        ShimHandle { commands }
    }

    fn command(&self, frame: Frame) {
        // Once the shim is gone the writer task has stopped; commands are dropped silently.
        let _ = self.commands.send(frame);
    }

    pub fn write_stdin(&self, data: Bytes) {
        if !data.is_empty() {
            self.command(Frame::Stdin(data.to_vec()));
        }
    }
    /// Close the container's stdin (the attach client half-closed).
    pub fn close_stdin(&self) {
        self.command(Frame::StdinClose);
    }
    /// Deliver a signal to the container's main process if it still runs.
    pub fn signal(&self, signal: i32) {
        self.command(Frame::Signal(signal));
    }
    pub fn resize(&self, rows: u16, cols: u16) {
        self.command(Frame::Resize { rows, cols });
    }
}

fn connect_tasks(
    stream: UnixStream,
    decoder: Decoder,
    dir: &Path,
) -> (ShimHandle, mpsc::UnboundedReceiver<ShimEvent>) {
    let (read_half, write_half) = stream.into_split();
    let (cmd_tx, cmd_rx) = mpsc::unbounded_channel();
    let (ev_tx, ev_rx) = mpsc::unbounded_channel();
    tokio::spawn(writer_task(write_half, cmd_rx));
    tokio::spawn(reader_task(read_half, decoder, ev_tx, dir.to_path_buf()));
    (ShimHandle { commands: cmd_tx }, ev_rx)
}

async fn writer_task(mut w: OwnedWriteHalf, mut rx: mpsc::UnboundedReceiver<Frame>) {
    while let Some(frame) = rx.recv().await {
        if let Err(e) = w.write_all(&frame.encode()).await {
            tracing::debug!("shim connection closed for commands: {e}");
            return;
        }
    }
    // Every handle is gone, but the events may still be read: closing our write side would make
    // the shim drop the connection, so leave it open until the read half goes too.
    w.forget();
}

thread_local! {
    /// Read buffer shared by every reader task on this worker thread: a task only needs it
    /// between readiness and the decoder copy, so a buffer per connection (64 KiB per running
    /// container) would be mostly idle memory.
    static READ_BUF: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// Read what the socket has (it was reported readable) into the decoder. `Ok(false)` at EOF.
fn read_into(r: &OwnedReadHalf, decoder: &mut Decoder) -> std::io::Result<bool> {
    READ_BUF.with_borrow_mut(|buf| {
        if buf.is_empty() {
            buf.resize(64 * 1024, 0);
        }
        let n = r.try_read(buf)?;
        decoder.push(&buf[..n]);
        Ok(n > 0)
    })
}

async fn reader_task(
    r: OwnedReadHalf,
    mut decoder: Decoder,
    events: mpsc::UnboundedSender<ShimEvent>,
    dir: PathBuf,
) {
    loop {
        loop {
            let frame = match decoder.next_frame() {
                Ok(Some(f)) => f,
                Ok(None) => break,
                Err(e) => {
                    tracing::warn!("shim of {}: {e}", dir.display());
                    return lost(&events, &dir);
                }
            };
            let ev = match frame {
                Frame::Stdout(d) => ShimEvent::Stdout(Bytes::from(d)),
                Frame::Stderr(d) => ShimEvent::Stderr(Bytes::from(d)),
                Frame::Exited(rec) => {
                    let _ = events.send(ShimEvent::Exited(rec));
                    return;
                }
                Frame::Started(_) => continue,
                other => {
                    tracing::warn!("unexpected frame from shim: {other:?}");
                    continue;
                }
            };
            // Nobody listens any more: stop reading so the connection can close.
            if events.send(ev).is_err() {
                return;
            }
        }
        tokio::select! {
            res = r.readable() => if res.is_err() {
                return lost(&events, &dir);
            },
            _ = events.closed() => return,
        }
        match read_into(&r, &mut decoder) {
            Ok(true) => {}
            // Readiness can be spurious.
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Ok(false) | Err(_) => return lost(&events, &dir),
        }
    }
}

/// The connection broke before `Exited`: report the recorded exit, or that the shim died.
fn lost(events: &mpsc::UnboundedSender<ShimEvent>, dir: &Path) {
    let record = read_exit_record(dir).unwrap_or_else(|| ExitRecord {
        exit_code: LOST_SHIM_EXIT_CODE,
        oom_killed: false,
        finished_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Nanos, true),
        error: Some("shim exited unexpectedly".into()),
    });
    let _ = events.send(ShimEvent::Exited(record));
}

/// Read `exit.json` from a container directory, if the shim wrote one.
pub fn read_exit_record(container_dir: &Path) -> Option<ExitRecord> {
    let data = std::fs::read(container_dir.join(crate::runtime::spec::files::EXIT_RECORD)).ok()?;
    serde_json::from_slice(&data).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn start_errors_map_to_docker_statuses() {
        assert!(matches!(
            start_error(127, "x".into()),
            EngineError::InvalidArgument(_)
        ));
        assert!(matches!(
            start_error(126, "x".into()),
            EngineError::InvalidArgument(_)
        ));
        assert!(matches!(
            start_error(1, "x".into()),
            EngineError::Internal(_)
        ));
    }

    #[tokio::test]
    async fn reconnect_without_shim_is_none() {
        let dir = tempfile::tempdir().unwrap();
        assert!(ShimHandle::reconnect(dir.path()).await.unwrap().is_none());
        // A stale socket file with no listener behind it.
        let l =
            std::os::unix::net::UnixListener::bind(dir.path().join(files::SHIM_SOCKET)).unwrap();
        drop(l);
        assert!(ShimHandle::reconnect(dir.path()).await.unwrap().is_none());
        assert!(ShimHandle::reconnect(&dir.path().join("missing"))
            .await
            .unwrap()
            .is_none());
    }

    #[tokio::test]
    async fn events_end_with_exactly_one_exited() {
        // A fake shim on the other end of a socketpair: start record, output, then it dies.
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = UnixStream::pair().unwrap();
        let (handle, mut events) = connect_tasks(a, Decoder::new(), dir.path());
        let mut b = b;
        let rec = StartRecord {
            pid: 1,
            shim_pid: 2,
            started_at: "t".into(),
        };
        b.write_all(&Frame::Started(rec).encode()).await.unwrap();
        b.write_all(&Frame::Stdout(b"out".to_vec()).encode())
            .await
            .unwrap();
        b.write_all(&Frame::Stderr(b"err".to_vec()).encode())
            .await
            .unwrap();
        handle.signal(15);
        handle.resize(10, 20);
        let mut got = [0u8; 18];
        b.read_exact(&mut got).await.unwrap();
        let mut d = Decoder::new();
        d.push(&got);
        assert_eq!(d.next_frame().unwrap(), Some(Frame::Signal(15)));
        assert_eq!(
            d.next_frame().unwrap(),
            Some(Frame::Resize { rows: 10, cols: 20 })
        );
        drop(b);
        match events.recv().await.unwrap() {
            ShimEvent::Stdout(d) => assert_eq!(&d[..], b"out"),
            e => panic!("{e:?}"),
        }
        match events.recv().await.unwrap() {
            ShimEvent::Stderr(d) => assert_eq!(&d[..], b"err"),
            e => panic!("{e:?}"),
        }
        match events.recv().await.unwrap() {
            ShimEvent::Exited(r) => {
                assert_eq!(r.exit_code, 255);
                assert_eq!(r.error.as_deref(), Some("shim exited unexpectedly"));
            }
            e => panic!("{e:?}"),
        }
        assert!(events.recv().await.is_none());
        // Commands after the shim is gone are dropped without error.
        handle.write_stdin(Bytes::from_static(b"late"));
        handle.close_stdin();
    }

    #[tokio::test]
    async fn lost_connection_prefers_exit_json() {
        let dir = tempfile::tempdir().unwrap();
        let rec = ExitRecord {
            exit_code: 3,
            oom_killed: false,
            finished_at: "t".into(),
            error: None,
        };
        std::fs::write(
            dir.path().join(files::EXIT_RECORD),
            serde_json::to_vec(&rec).unwrap(),
        )
        .unwrap();
        let (a, b) = UnixStream::pair().unwrap();
        let (_handle, mut events) = connect_tasks(a, Decoder::new(), dir.path());
        drop(b);
        match events.recv().await.unwrap() {
            ShimEvent::Exited(r) => assert_eq!(r, rec),
            e => panic!("{e:?}"),
        }
        assert!(events.recv().await.is_none());
    }
}
