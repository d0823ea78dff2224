//! Cuts a streamed HTTP body into items: JSON lines, multiplexed stdout/stderr lines, or raw
//! lines. Partial lines wait for the rest; a line too long to be sane is cut.

use bytes::Bytes;
use serde_json::Value;

use crate::client::demux::{Demuxer, StreamKind};
use crate::dashboard::msg::{Framing, StreamItem};

const MAX_PENDING: usize = 1 << 20;

pub struct LineSplitter {
    framing: Framing,
    demux: Demuxer,
    out: Vec<u8>,
    err: Vec<u8>,
}

impl LineSplitter {
    pub fn new(framing: Framing) -> Self {
        LineSplitter {
            framing,
            demux: Demuxer::new(),
            out: Vec::new(),
            err: Vec::new(),
        }
    }

    /// Feeds one body chunk; returns the complete items in it. A multiplexing error ends the
    /// stream with its message.
    pub fn push(&mut self, chunk: &Bytes) -> Result<Vec<StreamItem>, String> {
        let mut items = Vec::new();
        match self.framing {
            Framing::Multiplexed => {
                self.demux.push(chunk);
                while let Some((kind, payload)) = self.demux.next_frame()? {
                    let stderr = matches!(kind, StreamKind::Stderr);
                    let buf = if stderr { &mut self.err } else { &mut self.out };
                    buf.extend_from_slice(&payload);
                    drain_lines(buf, &mut |l| items.push(text(l, stderr)));
                }
            }
            Framing::Raw => {
                self.out.extend_from_slice(chunk);
                drain_lines(&mut self.out, &mut |l| items.push(text(l, false)));
            }
            Framing::JsonLines => {
                self.out.extend_from_slice(chunk);
                drain_lines(&mut self.out, &mut |l| {
                    if let Ok(v) = serde_json::from_slice::<Value>(l) {
                        items.push(StreamItem::Json(v));
                    }
                });
            }
        }
        Ok(items)
    }

    /// What is left when the body ends (a last line without a newline).
    pub fn finish(&mut self) -> Vec<StreamItem> {
        let mut items = Vec::new();
        for (buf, stderr) in [
            (std::mem::take(&mut self.out), false),
            (std::mem::take(&mut self.err), true),
        ] {
            if buf.is_empty() {
                continue;
            }
            match self.framing {
                Framing::JsonLines => {
                    if let Ok(v) = serde_json::from_slice::<Value>(&buf) {
                        items.push(StreamItem::Json(v));
                    }
                }
                _ => items.push(text(&buf, stderr)),
            }
        }
        items
    }
}

fn text(line: &[u8], stderr: bool) -> StreamItem {
    StreamItem::Text {
        line: String::from_utf8_lossy(line).into_owned(),
        stderr,
    }
}

fn drain_lines(buf: &mut Vec<u8>, emit: &mut dyn FnMut(&[u8])) {
    let mut start = 0;
    while let Some(pos) = buf[start..].iter().position(|&b| b == b'\n') {
        emit(&buf[start..start + pos]);
        start += pos + 1;
    }
    buf.drain(..start);
    if buf.len() > MAX_PENDING {
        emit(&buf[..]);
        buf.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::demux::encode_frame;

    #[test]
    fn splits_each_framing() {
        let mut j = LineSplitter::new(Framing::JsonLines);
        assert!(
            j.push(&Bytes::from_static(b"{\"a\":1}\n{\"b\""))
                .unwrap()
                .len()
                == 1
        );
        let rest = j.push(&Bytes::from_static(b":2}\n")).unwrap();
        assert_eq!(rest, vec![StreamItem::Json(serde_json::json!({"b": 2}))]);

        let mut m = LineSplitter::new(Framing::Multiplexed);
        let mut body = encode_frame(1, b"out one\nout ");
        body.extend(encode_frame(2, b"err\n"));
        body.extend(encode_frame(1, b"two\n"));
        let items = m.push(&Bytes::from(body)).unwrap();
        assert_eq!(
            items,
            vec![
                StreamItem::Text {
                    line: "out one".into(),
                    stderr: false
                },
                StreamItem::Text {
                    line: "err".into(),
                    stderr: true
                },
                StreamItem::Text {
                    line: "out two".into(),
                    stderr: false
                },
            ]
        );

        let mut r = LineSplitter::new(Framing::Raw);
        assert_eq!(r.push(&Bytes::from_static(b"a\nb")).unwrap().len(), 1);
        assert_eq!(
            r.finish(),
            vec![StreamItem::Text {
                line: "b".into(),
                stderr: false
            }]
        );
    }
}
