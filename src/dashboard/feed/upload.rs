//! A local file as a request body (import, load): streamed from disk while the engine reads it,
//! so a big archive costs a buffer, not its size, and read here because the engine may run
//! elsewhere. The bytes sent so far become the task's progress ("Uploading" on a line of its
//! own, like a layer), a few times a second.

use std::path::Path;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context as TaskContext, Poll};
use std::time::Duration;

use anyhow::{Context, Result};
use hyper::body::Incoming;
use hyper::Response;
use serde_json::json;
use tokio::io::{AsyncRead, ReadBuf};
use tokio::sync::mpsc::Sender;
use tokio::task::JoinHandle;

use super::AbortOnDrop;
use crate::client::Client;
use crate::dashboard::msg::{Msg, StreamItem, StreamKey};

/// How often the bytes sent are reported.
const REPORT_EVERY: Duration = Duration::from_millis(250);
/// The progress line's id (the column a layer's id has in the task dialog).
pub const UPLOAD_ID: &str = "file";

/// An upload under way: the pump reading the file, and the reporter of its progress.
pub struct Upload {
    pump: JoinHandle<Result<()>>,
    reporter: AbortOnDrop,
    key: StreamKey,
    total: u64,
}

/// Opens `file` and POSTs it to `path` as a tar, returning the engine's answer as soon as it
/// starts (import and load answer while they read).
pub async fn start(
    client: &Client,
    key: &StreamKey,
    path: &str,
    file: &Path,
    items: &Sender<Msg>,
) -> Result<(Response<Incoming>, Upload)> {
    let f = tokio::fs::File::open(file)
        .await
        .with_context(|| format!("open {}", file.display()))?;
    let total = f.metadata().await?.len();
    let sent = Arc::new(AtomicU64::new(0));
    let reporter = AbortOnDrop(tokio::spawn(report(
        key.clone(),
        sent.clone(),
        total,
        items.clone(),
    )));
    let reader = Counting {
        inner: f,
        sent: sent.clone(),
    };
    let (resp, pump) = client
        .post_tar_stream(path, Box::new(reader), "the file")
        .await?;
    Ok((
        resp,
        Upload {
            pump,
            reporter,
            key: key.clone(),
            total,
        },
    ))
}

impl Upload {
    /// After the engine's answer: a failure to read the file fails the task; otherwise the
    /// progress line ends complete.
    pub async fn finish(self, items: &Sender<Msg>) -> Result<()> {
        self.pump.await.context("the upload task")??;
        // Stopped first, so no "Uploading" line can come after the last one.
        drop(self.reporter);
        let _ = items
            .send(progress(&self.key, "Uploaded", self.total, self.total))
            .await;
        Ok(())
    }
}

fn progress(key: &StreamKey, status: &str, current: u64, total: u64) -> Msg {
    Msg::Stream {
        key: key.clone(),
        item: StreamItem::Json(json!({
            "status": status,
            "id": UPLOAD_ID,
            "progressDetail": {"current": current, "total": total},
        })),
    }
}

/// Reports the bytes sent whenever they changed, until aborted.
async fn report(key: StreamKey, sent: Arc<AtomicU64>, total: u64, items: Sender<Msg>) {
    let mut last = u64::MAX;
    loop {
        let now = sent.load(Ordering::Relaxed);
        if now != last {
            last = now;
            if items
                .send(progress(&key, "Uploading", now, total))
                .await
                .is_err()
            {
                return;
            }
        }
        tokio::time::sleep(REPORT_EVERY).await;
    }
}

/// A reader that counts what went through it.
struct Counting<R> {
    inner: R,
    sent: Arc<AtomicU64>,
}

impl<R: AsyncRead + Unpin> AsyncRead for Counting<R> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut TaskContext<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let poll = Pin::new(&mut self.inner).poll_read(cx, buf);
        let read = buf.filled().len() - before;
        self.sent.fetch_add(read as u64, Ordering::Relaxed);
        poll
    }
}
