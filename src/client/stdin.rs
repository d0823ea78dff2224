//! Local stdin → hijacked stream, with docker's detach keys: in a TTY session the key sequence
//! (ctrl-p ctrl-q unless `--detach-keys` says otherwise) is caught here, as docker's CLI does,
//! so the client can leave at once and exit 0 while the container keeps running. The engine
//! scans for the same sequence (we pass it as `detachKeys`) for clients that do not.

use berth_engine::api::detach::{Detector, Scan};
use tokio::io::{AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::oneshot;

/// The parsed detach sequence, or a one-line error (exit `code`) in docker's wording.
pub fn parse_keys(keys: Option<&str>, code: i32) -> anyhow::Result<Vec<u8>> {
    berth_engine::api::detach::parse(keys.unwrap_or(""))
        .map_err(|e| crate::exit::ExitError::with(code, e.to_string()))
}

/// A running stdin pump; dropping it stops the pump at once, so a caller that lives on (the
/// dashboard after an exec) gets its keyboard back.
pub struct Pump {
    detach: Option<oneshot::Receiver<()>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Pump {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Aborts a spawned helper task (resize or signal forwarding) when the session ends.
pub struct AbortOnDrop(pub tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Local input: the terminal through its own non-blocking file description (readiness-based,
/// so an abort really stops reading), or plain stdin when it is a pipe or file.
enum Input {
    Tty(tokio::io::unix::AsyncFd<std::fs::File>),
    Stdin(tokio::io::Stdin),
}

impl Input {
    fn open() -> Input {
        use std::io::IsTerminal;
        use std::os::unix::fs::OpenOptionsExt;
        if std::io::stdin().is_terminal() {
            // A fresh open of /dev/tty: O_NONBLOCK on it does not touch the shell's stdin.
            let tty = std::fs::OpenOptions::new()
                .read(true)
                .custom_flags(libc::O_NONBLOCK | libc::O_CLOEXEC)
                .open("/dev/tty");
            if let Ok(f) = tty {
                // SAFETY: the AsyncFd owns the File, so the fd stays open (and is not reused)
                // for as long as it is registered.
                let registered = unsafe {
                    tokio::io::unix::AsyncFd::register_with_interest(
                        f,
                        tokio::io::Interest::READABLE,
                    )
                };
                if let Ok(fd) = registered {
                    return Input::Tty(fd);
                }
            }
        }
        Input::Stdin(tokio::io::stdin())
    }

    async fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self {
            Input::Stdin(s) => s.read(buf).await,
            Input::Tty(fd) => loop {
                let mut ready = fd.readable().await?;
                match ready.try_io(|f| std::io::Read::read(&mut f.get_ref(), buf)) {
                    Ok(r) => return r,
                    Err(_would_block) => continue,
                }
            },
        }
    }
}

/// Copy local stdin to `writer`; at EOF half-close it (the engine then closes the process's
/// stdin). With `keys` (TTY sessions) the pump reports when the user types them.
pub fn spawn_pump<W>(mut writer: W, keys: Option<Vec<u8>>) -> Pump
where
    W: AsyncWrite + Unpin + Send + 'static,
{
    let (tx, rx) = oneshot::channel();
    let task = tokio::spawn(async move {
        let mut detector = keys.map(Detector::new);
        let mut stdin = Input::open();
        let mut buf = vec![0u8; 32 * 1024];
        loop {
            let n = match stdin.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            let (data, detach) = match detector.as_mut().map(|d| d.scan(&buf[..n])) {
                None => (buf[..n].to_vec(), false),
                Some(Scan::Forward(d)) => (d, false),
                Some(Scan::Detach(d)) => (d, true),
            };
            if !data.is_empty() && writer.write_all(&data).await.is_err() {
                return;
            }
            if detach {
                let _ = writer.flush().await;
                let _ = tx.send(());
                return;
            }
        }
        let _ = writer.shutdown().await;
        // Keep the sender alive: EOF is not a detach, and a dropped sender would look like one
        // to a careless select.
        std::future::pending::<()>().await;
        drop(tx);
    });
    Pump {
        detach: Some(rx),
        task,
    }
}

/// Resolves when the pump reported a detach; never otherwise.
pub async fn detached(pump: Option<&mut Pump>) {
    if let Some(rx) = pump.and_then(|p| p.detach.as_mut()) {
        if rx.await.is_ok() {
            return;
        }
    }
    std::future::pending::<()>().await
}
