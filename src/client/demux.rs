//! Docker's multiplexed stream framing (attach/logs without a TTY): frames of
//! `[type, 0, 0, 0, len u32 BE] + payload`; type 0/1 = stdout, 2 = stderr.

use bytes::{Buf, Bytes, BytesMut};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamKind {
    Stdout,
    Stderr,
}

/// Incremental decoder: feed arbitrary chunks, take out complete frames.
#[derive(Debug, Default)]
pub struct Demuxer {
    buf: BytesMut,
}

impl Demuxer {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn push(&mut self, chunk: &[u8]) {
        self.buf.extend_from_slice(chunk);
    }

    /// The next complete frame, or `None` until more bytes arrive. Unknown stream types are an
    /// error (the stream is not framed: the caller guessed the TTY mode wrong).
    pub fn next_frame(&mut self) -> Result<Option<(StreamKind, Bytes)>, String> {
        if self.buf.len() < 8 {
            return Ok(None);
        }
        let kind = match self.buf[0] {
            0 | 1 => StreamKind::Stdout,
            2 => StreamKind::Stderr,
            other => return Err(format!("unrecognized stream type {other} in attach stream")),
        };
        let len = u32::from_be_bytes([self.buf[4], self.buf[5], self.buf[6], self.buf[7]]) as usize;
        if self.buf.len() < 8 + len {
            return Ok(None);
        }
        self.buf.advance(8);
        Ok(Some((kind, self.buf.split_to(len).freeze())))
    }

    /// Bytes left over that do not form a complete frame (non-empty at EOF means truncation).
    pub fn pending(&self) -> usize {
        self.buf.len()
    }
}

/// Encode one frame (used by tests and by anything that needs to produce the framing).
pub fn encode_frame(kind: u8, payload: &[u8]) -> Vec<u8> {
    let mut v = vec![kind, 0, 0, 0];
    v.extend_from_slice(&(payload.len() as u32).to_be_bytes());
    v.extend_from_slice(payload);
    v
}

/// Copy a hijacked attach/exec stream to our stdout and stderr until it ends: raw bytes with a
/// TTY, docker's multiplexed frames otherwise.
pub async fn copy_output<R>(mut reader: R, tty: bool) -> anyhow::Result<()>
where
    R: tokio::io::AsyncRead + Unpin,
{
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stdout = tokio::io::stdout();
    let mut stderr = tokio::io::stderr();
    let mut demux = Demuxer::new();
    let mut buf = vec![0u8; 32 * 1024];
    loop {
        let n = match reader.read(&mut buf).await {
            Ok(0) => return Ok(()),
            Ok(n) => n,
            Err(e) => {
                tracing::debug!("stream ended: {e}");
                return Ok(());
            }
        };
        if tty {
            stdout.write_all(&buf[..n]).await?;
            stdout.flush().await?;
            continue;
        }
        demux.push(&buf[..n]);
        while let Some((kind, data)) = demux.next_frame().map_err(anyhow::Error::msg)? {
            let out: &mut (dyn tokio::io::AsyncWrite + Unpin) = match kind {
                StreamKind::Stdout => &mut stdout,
                StreamKind::Stderr => &mut stderr,
            };
            out.write_all(&data).await?;
            out.flush().await?;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_split_across_chunks() {
        let mut data = encode_frame(1, b"hello\n");
        data.extend(encode_frame(2, b"oops\n"));
        data.extend(encode_frame(1, b""));
        let mut d = Demuxer::new();
        let mut out = Vec::new();
        for b in data.chunks(3) {
            d.push(b);
            while let Some(f) = d.next_frame().unwrap() {
                out.push(f);
            }
        }
        assert_eq!(
            out,
            vec![
                (StreamKind::Stdout, Bytes::from_static(b"hello\n")),
                (StreamKind::Stderr, Bytes::from_static(b"oops\n")),
                (StreamKind::Stdout, Bytes::new()),
            ]
        );
        assert_eq!(d.pending(), 0);
    }

    #[test]
    fn partial_and_bad_frames() {
        let mut d = Demuxer::new();
        d.push(&[1, 0, 0, 0, 0, 0, 0, 5, b'a']);
        assert_eq!(d.next_frame().unwrap(), None);
        assert_eq!(d.pending(), 9);
        let mut d = Demuxer::new();
        d.push(b"plain text!");
        assert!(d.next_frame().is_err());
    }
}
