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
        .map_err(|e| crate::cli::ExitError::with(code, e.to_string()))
}

/// Copy local stdin to `writer`; at EOF half-close it (the engine then closes the process's
/// stdin). With `keys` (TTY sessions) the returned receiver fires when the user types them.
pub fn spawn_pump<W>(mut writer: W, keys: Option<Vec<u8>>) -> oneshot::Receiver<()>
where
    W: AsyncWrite + Unpin + Send + 'static,
{
    let (tx, rx) = oneshot::channel();
    tokio::spawn(async move {
        let mut detector = keys.map(Detector::new);
        let mut stdin = tokio::io::stdin();
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
    rx
}

/// Resolves when the pump reported a detach; never otherwise.
pub async fn detached(rx: Option<oneshot::Receiver<()>>) {
    if let Some(rx) = rx {
        if rx.await.is_ok() {
            return;
        }
    }
    std::future::pending::<()>().await
}
