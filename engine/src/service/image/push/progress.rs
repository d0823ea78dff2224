//! A push's progress lines (docker's JSON message stream) and its text bar.

use std::time::Duration;

use bytes::Bytes;
use serde_json::{json, Value};
use tokio::sync::mpsc;

use crate::error::{EngineError, Result};

/// Progress messages per layer are sent at most this often.
pub(super) const PROGRESS_EVERY: Duration = Duration::from_millis(100);

/// Sends progress lines; a closed receiver (the client went away) cancels the push.
#[derive(Clone)]
pub(super) struct Progress {
    pub(super) tx: mpsc::Sender<Bytes>,
}

impl Progress {
    pub(super) async fn send(&self, v: Value) -> Result<()> {
        self.tx
            .send(crate::model::stream::progress_line(&v))
            .await
            .map_err(|_| EngineError::internal("push cancelled: the client went away"))
    }

    pub(super) async fn status(&self, status: &str) -> Result<()> {
        self.send(json!({ "status": status })).await
    }

    pub(super) async fn layer(&self, id: &str, status: &str) -> Result<()> {
        self.send(json!({ "status": status, "progressDetail": {}, "id": id }))
            .await
    }

    /// Non-blocking progress update: dropped when the client is slow (the next one supersedes
    /// it), an error when it is gone.
    pub(super) fn bar(&self, id: &str, status: &str, current: u64, total: u64) -> Result<()> {
        let line = crate::model::stream::progress_line(&json!({
            "status": status,
            "progressDetail": { "current": current, "total": total },
            "progress": progress_bar(current, total),
            "id": id,
        }));
        match self.tx.try_send(line) {
            Ok(()) | Err(mpsc::error::TrySendError::Full(_)) => Ok(()),
            Err(mpsc::error::TrySendError::Closed(_)) => Err(EngineError::internal(
                "push cancelled: the client went away",
            )),
        }
    }
}

/// Docker's text bar: `[=====>      ]  10.5MB/20MB`.
pub fn progress_bar(current: u64, total: u64) -> String {
    const WIDTH: u64 = 50;
    let filled = (current.min(total) * WIDTH).checked_div(total).unwrap_or(0) as usize;
    let mut bar = "=".repeat(filled);
    if filled < WIDTH as usize {
        bar.push('>');
        bar.push_str(&" ".repeat(WIDTH as usize - filled - 1));
    }
    format!("[{bar}] {:>8}/{}", human_size(current), human_size(total))
}

/// Decimal units as docker's go-units HumanSize ("1.5MB", "512B").
pub fn human_size(n: u64) -> String {
    const UNITS: [&str; 7] = ["B", "kB", "MB", "GB", "TB", "PB", "EB"];
    let mut v = n as f64;
    let mut i = 0;
    while v >= 1000.0 && i < UNITS.len() - 1 {
        v /= 1000.0;
        i += 1;
    }
    let s = format!("{v:.4}");
    let s = s.split_once('.').map_or(s.clone(), |(a, b)| {
        let digits = 4usize.saturating_sub(a.len()).min(b.len());
        let frac = b[..digits].trim_end_matches('0');
        if frac.is_empty() {
            a.to_string()
        } else {
            format!("{a}.{frac}")
        }
    });
    format!("{s}{}", UNITS[i])
}
