//! Request bodies: the small JSON ones read whole up to a limit, archives and imports forwarded
//! chunk by chunk (never held whole) to a blocking reader.

use std::io::{self, Read};

use bytes::{Buf, Bytes};
use http_body_util::BodyExt;
use serde::de::DeserializeOwned;
use tokio::sync::mpsc;

use super::RequestBody;
use crate::error::{EngineError, Result};
use crate::model::go_keys::{canonicalize, Shape};

/// The whole body, or 400 when it is longer than `limit` or breaks off.
pub async fn read_limited(body: RequestBody, limit: usize) -> Result<Bytes> {
    let body = http_body_util::Limited::new(body, limit)
        .collect()
        .await
        .map_err(|e| EngineError::invalid(format!("reading request body: {e}")))?;
    Ok(body.to_bytes())
}

/// A JSON body as `T`; an empty (or all-whitespace) body, or `null` (Go's zero value, see
/// `model::go_json`), is `T::default()`.
pub fn json_or_default<T: DeserializeOwned + Default>(body: &[u8]) -> Result<T> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    serde_json::from_slice::<Option<T>>(body)
        .map(Option::unwrap_or_default)
        .map_err(|e| EngineError::invalid(format!("invalid JSON: {e}")))
}

/// `json_or_default` with the keys first given docker's names as Go's decoder would match them
/// (`model::go_keys`).
pub fn shaped_json_or_default<T: DeserializeOwned + Default>(
    body: &[u8],
    shape: &Shape,
) -> Result<T> {
    Ok(shaped_json(body, shape)?.unwrap_or_default())
}

/// A JSON body given docker's key names (`model::go_keys`); None when empty or `null`.
pub fn shaped_json<T: DeserializeOwned>(body: &[u8], shape: &Shape) -> Result<Option<T>> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    let invalid = |e: serde_json::Error| EngineError::invalid(format!("invalid JSON: {e}"));
    let mut value: serde_json::Value = serde_json::from_slice(body).map_err(invalid)?;
    canonicalize(&mut value, shape);
    serde_json::from_value(value).map_err(invalid)
}

/// Forward the request body's data into `tx`; the bounded channel gives backpressure, so the
/// body is never buffered whole. Frames go in batches of about `BATCH` bytes: clients stream tens
/// of MiB in chunks of a few KiB, and a message per chunk would wake the blocking reader (and,
/// when the channel is full, this task) thousands of times.
pub(crate) async fn pump_body(mut body: RequestBody, tx: mpsc::Sender<io::Result<Vec<Bytes>>>) {
    const BATCH: usize = 256 << 10;
    let mut batch = Vec::new();
    let mut batched = 0;
    loop {
        let next = next_data(&mut body).await;
        let last = !matches!(next, Some(Ok(_)));
        match next {
            Some(Ok(data)) => {
                batched += data.len();
                batch.push(data);
            }
            Some(Err(e)) => {
                if !batch.is_empty() {
                    let _ = tx.send(Ok(std::mem::take(&mut batch))).await;
                }
                let _ = tx.send(Err(e)).await;
                return;
            }
            None => {}
        }
        if (last || batched >= BATCH) && !batch.is_empty() {
            batched = 0;
            if tx.send(Ok(std::mem::take(&mut batch))).await.is_err() {
                return;
            }
        }
        if last {
            return;
        }
    }
}

/// The next data frame (trailers skipped); None at the end.
async fn next_data(body: &mut RequestBody) -> Option<io::Result<Bytes>> {
    while let Some(frame) = body.frame().await {
        match frame {
            Ok(f) => match f.into_data() {
                Ok(data) => return Some(Ok(data)),
                Err(_) => continue, // trailers
            },
            Err(e) => {
                return Some(Err(io::Error::other(format!(
                    "reading the request body: {e}"
                ))))
            }
        }
    }
    None
}

/// A blocking `Read` over the body chunks; used on the blocking pool by the extractor.
pub(crate) struct ChannelReader {
    rx: mpsc::Receiver<io::Result<Vec<Bytes>>>,
    pending: std::collections::VecDeque<Bytes>,
}

impl ChannelReader {
    pub(crate) fn new(rx: mpsc::Receiver<io::Result<Vec<Bytes>>>) -> Self {
        ChannelReader {
            rx,
            pending: std::collections::VecDeque::new(),
        }
    }
}

impl Read for ChannelReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            match self.pending.front_mut() {
                Some(cur) if !cur.is_empty() => {
                    let n = buf.len().min(cur.len());
                    buf[..n].copy_from_slice(&cur[..n]);
                    cur.advance(n);
                    return Ok(n);
                }
                Some(_) => {
                    self.pending.pop_front();
                }
                None => match self.rx.blocking_recv() {
                    Some(Ok(batch)) => self.pending.extend(batch),
                    Some(Err(e)) => return Err(e),
                    None => return Ok(0),
                },
            }
        }
    }
}
