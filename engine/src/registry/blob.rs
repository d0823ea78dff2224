//! Response bodies: streamed blob downloads ([`Blob`], [`BlobReader`]) and bounded whole reads.

use bytes::Bytes;

use super::{RegResult, RegistryError};

/// Read a whole body, refusing more than `max` bytes (manifests, configs, error bodies).
pub async fn read_limited(mut resp: reqwest::Response, max: usize) -> RegResult<Vec<u8>> {
    if let Some(len) = resp.content_length() {
        if len as usize > max {
            return Err(RegistryError::other(format!(
                "response of {len} bytes exceeds the limit of {max} bytes"
            )));
        }
    }
    let mut out = Vec::new();
    while let Some(chunk) = resp
        .chunk()
        .await
        .map_err(|e| RegistryError::transport("reading response", e))?
    {
        if out.len() + chunk.len() > max {
            return Err(RegistryError::other(format!(
                "response exceeds the limit of {max} bytes"
            )));
        }
        out.extend_from_slice(&chunk);
    }
    Ok(out)
}

/// A blob body being downloaded.
pub struct Blob {
    /// Content-Length when the registry sent it.
    pub size: Option<u64>,
    pub(super) resp: reqwest::Response,
}

impl Blob {
    /// Next chunk of the body; `None` at the end.
    pub async fn chunk(&mut self) -> RegResult<Option<Bytes>> {
        self.resp
            .chunk()
            .await
            .map_err(|e| RegistryError::transport("reading blob", e))
    }

    /// A blocking `Read` over the body for extraction threads: a task forwards chunks through
    /// a small bounded channel (backpressure, never the whole blob in memory). Must be called
    /// inside the tokio runtime; the reader must be used outside it.
    pub fn into_reader(mut self) -> BlobReader {
        let (tx, rx) = tokio::sync::mpsc::channel::<std::io::Result<Bytes>>(16);
        tokio::spawn(async move {
            loop {
                match self.chunk().await {
                    Ok(Some(b)) => {
                        if tx.send(Ok(b)).await.is_err() {
                            return; // the reader gave up
                        }
                    }
                    Ok(None) => return,
                    Err(e) => {
                        let _ = tx.send(Err(std::io::Error::other(e.to_string()))).await;
                        return;
                    }
                }
            }
        });
        BlobReader {
            rx,
            cur: Bytes::new(),
        }
    }
}

/// See [`Blob::into_reader`].
pub struct BlobReader {
    rx: tokio::sync::mpsc::Receiver<std::io::Result<Bytes>>,
    cur: Bytes,
}

impl std::io::Read for BlobReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.cur.is_empty() {
            match self.rx.blocking_recv() {
                Some(Ok(b)) => self.cur = b,
                Some(Err(e)) => return Err(e),
                None => return Ok(0),
            }
        }
        let n = buf.len().min(self.cur.len());
        buf[..n].copy_from_slice(&self.cur[..n]);
        let _ = self.cur.split_to(n);
        Ok(n)
    }
}
