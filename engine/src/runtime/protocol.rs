//! Shim control protocol: what travels between the engine and a container's shim.
//!
//! Two channels:
//! - The *ready pipe* (the shim's stdout while it starts): exactly one JSON line, a [`ReadyReport`],
//!   then EOF. It tells the engine whether the container's process runs.
//! - The *connection* (a unix stream: the socketpair the engine passed as fd 3, or a later
//!   connection to `shim.sock`): binary frames `[type u8][len u32 big-endian][payload]`.
//!
//! Frame types, shim → engine:
//! - `1` stdout bytes, `2` stderr bytes (with a TTY everything is stdout),
//! - `3` started: JSON [`StartRecord`], always the first frame of a connection,
//! - `4` exited: JSON [`ExitRecord`], the last frame the shim sends.
//!
//! Engine → shim:
//! - `16` stdin bytes, `17` close stdin (empty payload),
//! - `18` signal: i32 big-endian, `19` resize: rows u16, cols u16 (big-endian).
//!
//! Unknown frame types are an error (both sides are the same binary, so a mismatch is a bug).

use serde::{Deserialize, Serialize};

use crate::error::{EngineError, Result};
use crate::runtime::spec::{ExitRecord, StartRecord};

/// Largest payload either side accepts; a bigger length is a corrupt stream.
pub const MAX_PAYLOAD: usize = 4 << 20;
/// Header: type byte and the payload length.
pub const HEADER_LEN: usize = 5;

const T_STDOUT: u8 = 1;
const T_STDERR: u8 = 2;
const T_STARTED: u8 = 3;
const T_EXITED: u8 = 4;
const T_STDIN: u8 = 16;
const T_STDIN_CLOSE: u8 = 17;
const T_SIGNAL: u8 = 18;
const T_RESIZE: u8 = 19;

#[derive(Debug, Clone, PartialEq)]
pub enum Frame {
    Stdout(Vec<u8>),
    Stderr(Vec<u8>),
    Started(StartRecord),
    Exited(ExitRecord),
    Stdin(Vec<u8>),
    StdinClose,
    Signal(i32),
    Resize { rows: u16, cols: u16 },
}

impl Frame {
    /// The wire form of this frame.
    pub fn encode(&self) -> Vec<u8> {
        let (kind, payload): (u8, std::borrow::Cow<'_, [u8]>) = match self {
            Frame::Stdout(d) => (T_STDOUT, d.as_slice().into()),
            Frame::Stderr(d) => (T_STDERR, d.as_slice().into()),
            // Serializing these plain structs cannot fail.
            Frame::Started(r) => (T_STARTED, serde_json::to_vec(r).unwrap_or_default().into()),
            Frame::Exited(r) => (T_EXITED, serde_json::to_vec(r).unwrap_or_default().into()),
            Frame::Stdin(d) => (T_STDIN, d.as_slice().into()),
            Frame::StdinClose => (T_STDIN_CLOSE, Vec::new().into()),
            Frame::Signal(s) => (T_SIGNAL, s.to_be_bytes().to_vec().into()),
            Frame::Resize { rows, cols } => {
                let mut p = rows.to_be_bytes().to_vec();
                p.extend_from_slice(&cols.to_be_bytes());
                (T_RESIZE, p.into())
            }
        };
        let mut out = Vec::with_capacity(HEADER_LEN + payload.len());
        out.push(kind);
        out.extend_from_slice(&(payload.len() as u32).to_be_bytes());
        out.extend_from_slice(&payload);
        out
    }

    fn decode(kind: u8, payload: &[u8]) -> Result<Frame> {
        let bad = |what: &str| EngineError::internal(format!("shim protocol: bad {what} frame"));
        Ok(match kind {
            T_STDOUT => Frame::Stdout(payload.to_vec()),
            T_STDERR => Frame::Stderr(payload.to_vec()),
            T_STARTED => {
                Frame::Started(serde_json::from_slice(payload).map_err(|_| bad("started"))?)
            }
            T_EXITED => Frame::Exited(serde_json::from_slice(payload).map_err(|_| bad("exited"))?),
            T_STDIN => Frame::Stdin(payload.to_vec()),
            T_STDIN_CLOSE => Frame::StdinClose,
            T_SIGNAL => {
                let b: [u8; 4] = payload.try_into().map_err(|_| bad("signal"))?;
                Frame::Signal(i32::from_be_bytes(b))
            }
            T_RESIZE => {
                if payload.len() != 4 {
                    return Err(bad("resize"));
                }
                Frame::Resize {
                    rows: u16::from_be_bytes([payload[0], payload[1]]),
                    cols: u16::from_be_bytes([payload[2], payload[3]]),
                }
            }
            other => {
                return Err(EngineError::internal(format!(
                    "shim protocol: unknown frame type {other}"
                )))
            }
        })
    }
}

/// Incremental decoder: feed whatever a read returned, take complete frames out.
#[derive(Debug, Default)]
pub struct Decoder {
    buf: Vec<u8>,
}

impl Decoder {
    pub fn new() -> Self {
        Decoder::default()
    }

    pub fn push(&mut self, data: &[u8]) {
        self.buf.extend_from_slice(data);
    }

    /// The next complete frame, `Ok(None)` when more bytes are needed.
    pub fn next_frame(&mut self) -> Result<Option<Frame>> {
        if self.buf.len() < HEADER_LEN {
            return Ok(None);
        }
        let len = u32::from_be_bytes([self.buf[1], self.buf[2], self.buf[3], self.buf[4]]) as usize;
        if len > MAX_PAYLOAD {
            return Err(EngineError::internal(format!(
                "shim protocol: frame of {len} bytes exceeds the limit"
            )));
        }
        if self.buf.len() < HEADER_LEN + len {
            return Ok(None);
        }
        let frame = Frame::decode(self.buf[0], &self.buf[HEADER_LEN..HEADER_LEN + len]);
        self.buf.drain(..HEADER_LEN + len);
        frame.map(Some)
    }
}

/// The one line the shim writes on the ready pipe.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(tag = "status", rename_all = "lowercase")]
pub enum ReadyReport {
    /// The container's process runs (its execve succeeded).
    Started(StartRecord),
    /// The container could not be started; `exit.json` holds the same code and message.
    Failed { exit_code: i32, error: String },
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all_frames() -> Vec<Frame> {
        vec![
            Frame::Stdout(b"hello\n".to_vec()),
            Frame::Stderr(vec![0, 255, 10]),
            Frame::Stdout(Vec::new()),
            Frame::Started(StartRecord {
                pid: 42,
                shim_pid: 41,
                started_at: "2026-01-01T00:00:00.000000001Z".into(),
            }),
            Frame::Exited(ExitRecord {
                exit_code: 137,
                oom_killed: true,
                finished_at: "2026-01-01T00:00:01Z".into(),
                error: Some("boom".into()),
            }),
            Frame::Stdin(b"input".to_vec()),
            Frame::StdinClose,
            Frame::Signal(-15),
            Frame::Signal(9),
            Frame::Resize {
                rows: 24,
                cols: 65535,
            },
        ]
    }

    #[test]
    fn round_trip_each_frame() {
        for f in all_frames() {
            let mut d = Decoder::new();
            d.push(&f.encode());
            assert_eq!(d.next_frame().unwrap(), Some(f));
            assert_eq!(d.next_frame().unwrap(), None);
        }
    }

    #[test]
    fn decodes_byte_by_byte_and_concatenated() {
        let frames = all_frames();
        let wire: Vec<u8> = frames.iter().flat_map(|f| f.encode()).collect();
        let mut d = Decoder::new();
        let mut got = Vec::new();
        for b in wire {
            d.push(&[b]);
            while let Some(f) = d.next_frame().unwrap() {
                got.push(f);
            }
        }
        assert_eq!(got, frames);
    }

    #[test]
    fn wire_layout_is_type_then_big_endian_length() {
        let w = Frame::Signal(15).encode();
        assert_eq!(w, vec![18, 0, 0, 0, 4, 0, 0, 0, 15]);
        let w = Frame::Resize { rows: 1, cols: 2 }.encode();
        assert_eq!(w, vec![19, 0, 0, 0, 4, 0, 1, 0, 2]);
    }

    #[test]
    fn rejects_garbage() {
        let mut d = Decoder::new();
        d.push(&[99, 0, 0, 0, 0]);
        assert!(d.next_frame().is_err());
        let mut d = Decoder::new();
        d.push(&[1, 0xff, 0xff, 0xff, 0xff]);
        assert!(d.next_frame().is_err());
        let mut d = Decoder::new();
        d.push(&[18, 0, 0, 0, 2, 0, 0]);
        assert!(d.next_frame().is_err());
        let mut d = Decoder::new();
        d.push(&[3, 0, 0, 0, 2, b'{', b'x']);
        assert!(d.next_frame().is_err());
    }

    #[test]
    fn ready_report_is_one_json_line() {
        let r = ReadyReport::Failed {
            exit_code: 127,
            error: "exec: \"x\": executable file not found in $PATH".into(),
        };
        let s = serde_json::to_string(&r).unwrap();
        assert!(!s.contains('\n'));
        assert_eq!(serde_json::from_str::<ReadyReport>(&s).unwrap(), r);
    }
}
