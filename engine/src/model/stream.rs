//! Docker's stream framing for attach, exec and logs without a TTY: an 8-byte header
//! `[stream, 0, 0, 0, len u32 BE]` before each payload. With a TTY the bytes go raw. Also the
//! newline-delimited JSON of progress streams. Wire formats, so both the API and the services
//! that produce stream bytes (logs, push progress) use them from here.

use bytes::{BufMut, Bytes, BytesMut};
use serde::Serialize;

pub const MULTIPLEXED: &str = "application/vnd.docker.multiplexed-stream";
pub const RAW: &str = "application/vnd.docker.raw-stream";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamKind {
    Stdin = 0,
    Stdout = 1,
    Stderr = 2,
}

pub fn frame(kind: StreamKind, payload: &[u8]) -> Bytes {
    let mut buf = BytesMut::with_capacity(8 + payload.len());
    buf.put_u8(kind as u8);
    buf.put_bytes(0, 3);
    buf.put_u32(payload.len() as u32);
    buf.put_slice(payload);
    buf.freeze()
}

/// Split framed bytes (whole frames, as `frame` makes them) into (stream byte, payload) pairs;
/// a truncated trailing frame is returned as far as it goes.
pub fn decode_frames(mut data: &[u8]) -> Vec<(u8, Vec<u8>)> {
    let mut out = Vec::new();
    while data.len() >= 8 {
        let len = u32::from_be_bytes([data[4], data[5], data[6], data[7]]) as usize;
        let end = (8 + len).min(data.len());
        out.push((data[0], data[8..end].to_vec()));
        data = &data[end..];
    }
    out
}

/// Frame when multiplexing, raw otherwise.
pub fn encode(kind: StreamKind, payload: &[u8], tty: bool) -> Bytes {
    if tty {
        Bytes::copy_from_slice(payload)
    } else {
        frame(kind, payload)
    }
}

pub fn content_type(tty: bool) -> &'static str {
    if tty {
        RAW
    } else {
        MULTIPLEXED
    }
}

/// Newline-delimited JSON progress messages (`/images/create`, `/images/load`, ...), docker style.
pub fn progress_line<T: Serialize>(value: &T) -> Bytes {
    let mut data = serde_json::to_vec(value).unwrap_or_default();
    data.push(b'\n');
    Bytes::from(data)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_have_docker_headers() {
        let f = frame(StreamKind::Stderr, b"hi\n");
        assert_eq!(&f[..8], &[2, 0, 0, 0, 0, 0, 0, 3]);
        assert_eq!(&f[8..], b"hi\n");
        assert_eq!(&encode(StreamKind::Stdout, b"x", true)[..], b"x");
    }
}
