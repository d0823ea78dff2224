//! Request bodies: the small JSON ones read whole up to a limit, archives and imports forwarded
//! chunk by chunk (never held whole) to a blocking reader.

use std::io::{self, Read};

use bytes::{Buf, Bytes};
use http_body_util::BodyExt;
use serde::de::DeserializeOwned;
use tokio::sync::mpsc;

use super::RequestBody;
use crate::error::{EngineError, Result};

/// The whole body, or 400 when it is longer than `limit` or breaks off.
pub async fn read_limited(body: RequestBody, limit: usize) -> Result<Bytes> {
    let body = http_body_util::Limited::new(body, limit)
        .collect()
        .await
        .map_err(|e| EngineError::invalid(format!("reading request body: {e}")))?;
    Ok(body.to_bytes())
}

/// A JSON body as `T`; an empty (or all-whitespace) body is `T::default()`.
pub fn json_or_default<T: DeserializeOwned + Default>(body: &[u8]) -> Result<T> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    serde_json::from_slice(body).map_err(|e| EngineError::invalid(format!("invalid JSON: {e}")))
}

/// Forward the request body's data into `tx`; the bounded channel gives backpressure, so the
/// body is never buffered whole. Small frames are gathered into `BATCH`-sized messages: clients
/// stream tens of MiB in chunks of a few KiB, and a message per chunk would wake the blocking
/// reader (and, when the channel is full, this task) thousands of times.
pub(crate) async fn pump_body(mut body: RequestBody, tx: mpsc::Sender<io::Result<Bytes>>) {
    const BATCH: usize = 256 << 10;
    let mut batch = bytes::BytesMut::new();
    loop {
        let next = next_data(&mut body).await;
        let (data, last) = match next {
            Some(Ok(data)) if batch.is_empty() && data.len() >= BATCH => (Some(Ok(data)), false),
            Some(Ok(data)) => {
                batch.extend_from_slice(&data);
                if batch.len() < BATCH {
                    continue;
                }
                (Some(Ok(batch.split().freeze())), false)
            }
            Some(Err(e)) => (Some(Err(e)), true),
            None => (None, true),
        };
        if last && !batch.is_empty() && tx.send(Ok(batch.split().freeze())).await.is_err() {
            return;
        }
        if let Some(item) = data {
            if tx.send(item).await.is_err() {
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
    rx: mpsc::Receiver<io::Result<Bytes>>,
    cur: Bytes,
}

impl ChannelReader {
    pub(crate) fn new(rx: mpsc::Receiver<io::Result<Bytes>>) -> Self {
        ChannelReader {
            rx,
            cur: Bytes::new(),
        }
    }
}

impl Read for ChannelReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.cur.is_empty() {
            match self.rx.blocking_recv() {
                Some(Ok(b)) => self.cur = b,
                Some(Err(e)) => return Err(e),
                None => return Ok(0),
            }
        }
        let n = buf.len().min(self.cur.len());
        buf[..n].copy_from_slice(&self.cur[..n]);
        self.cur.advance(n);
        Ok(n)
    }
}
