//! Detach keys: docker's key-sequence format ("ctrl-p,ctrl-q", "ctrl-a", "a,b", "DEL") and the
//! escape detector applied to attach and exec input with a TTY.
//!
//! As in docker's daemon, only TTY input is scanned (piped binary stdin must arrive intact).
//! Bytes that could start the sequence are held back; a mismatch releases them, a full match
//! means "detach": the held bytes are dropped and the stream ends, the process keeps running.

use crate::error::{EngineError, Result};

/// Docker's default: ctrl-p ctrl-q.
pub const DEFAULT_KEYS: &[u8] = &[0x10, 0x11];

/// Control characters by name, in code order (moby/term's table): ctrl-@ = 0 ... ctrl-_ = 31.
const CTRL_NAMES: [&str; 32] = [
    "ctrl-@", "ctrl-a", "ctrl-b", "ctrl-c", "ctrl-d", "ctrl-e", "ctrl-f", "ctrl-g", "ctrl-h",
    "ctrl-i", "ctrl-j", "ctrl-k", "ctrl-l", "ctrl-m", "ctrl-n", "ctrl-o", "ctrl-p", "ctrl-q",
    "ctrl-r", "ctrl-s", "ctrl-t", "ctrl-u", "ctrl-v", "ctrl-w", "ctrl-x", "ctrl-y", "ctrl-z",
    "ctrl-[", "ctrl-\\", "ctrl-]", "ctrl-^", "ctrl-_",
];

/// Parse a key sequence; an empty string is docker's default. Errors use docker's wording.
pub fn parse(keys: &str) -> Result<Vec<u8>> {
    if keys.is_empty() {
        return Ok(DEFAULT_KEYS.to_vec());
    }
    let mut out = Vec::new();
    for key in keys.split(',') {
        if key.len() == 1 {
            out.push(key.as_bytes()[0]);
            continue;
        }
        if key == "DEL" {
            out.push(127);
            continue;
        }
        let lower = key.to_ascii_lowercase();
        match CTRL_NAMES.iter().position(|n| *n == lower) {
            Some(code) => out.push(code as u8),
            None => {
                return Err(EngineError::invalid(format!(
                    "Invalid detach keys ({keys}) provided: Unknown character: '{key}'"
                )))
            }
        }
    }
    Ok(out)
}

/// What one chunk of input turned into.
#[derive(Debug, PartialEq, Eq)]
pub enum Scan {
    /// Forward these bytes (possibly empty while a partial sequence is held).
    Forward(Vec<u8>),
    /// The sequence was typed: forward these bytes (typed before it), then detach.
    Detach(Vec<u8>),
}

/// Incremental detector: feed input chunks in order.
#[derive(Debug, Clone)]
pub struct Detector {
    keys: Vec<u8>,
    /// How many bytes of `keys` the held-back input matches.
    matched: usize,
}

impl Detector {
    pub fn new(keys: Vec<u8>) -> Self {
        Detector { keys, matched: 0 }
    }

    pub fn scan(&mut self, input: &[u8]) -> Scan {
        let mut out = Vec::with_capacity(input.len());
        if self.keys.is_empty() {
            out.extend_from_slice(input);
            return Scan::Forward(out);
        }
        for &b in input {
            if b == self.keys[self.matched] {
                self.matched += 1;
                if self.matched == self.keys.len() {
                    self.matched = 0;
                    return Scan::Detach(out);
                }
                continue;
            }
            // Mismatch: the held prefix was ordinary input after all.
            out.extend_from_slice(&self.keys[..self.matched]);
            self.matched = 0;
            if b == self.keys[0] {
                self.matched = 1;
                if self.keys.len() == 1 {
                    self.matched = 0;
                    return Scan::Detach(out);
                }
            } else {
                out.push(b);
            }
        }
        Scan::Forward(out)
    }
}

/// How an input copy ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputEnd {
    /// The client half-closed (or the connection broke).
    Eof,
    /// The client typed the detach sequence.
    Detached,
    /// The receiving side is gone (the process ended or closed its stdin).
    SinkClosed,
}

/// Copy hijacked input into `sink` until EOF, the detach sequence (only when a `detector` is
/// given: TTY sessions) or until `sink` returns false.
pub async fn copy_input<R, F, Fut>(
    mut rd: R,
    mut detector: Option<Detector>,
    mut sink: F,
) -> InputEnd
where
    R: tokio::io::AsyncRead + Unpin,
    F: FnMut(bytes::Bytes) -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    use tokio::io::AsyncReadExt;
    let mut buf = vec![0u8; 32 * 1024];
    loop {
        let n = match rd.read(&mut buf).await {
            Ok(0) | Err(_) => return InputEnd::Eof,
            Ok(n) => n,
        };
        let (data, detach) = match detector.as_mut().map(|d| d.scan(&buf[..n])) {
            None => (buf[..n].to_vec(), false),
            Some(Scan::Forward(d)) => (d, false),
            Some(Scan::Detach(d)) => (d, true),
        };
        if !data.is_empty() && !sink(bytes::Bytes::from(data)).await {
            return InputEnd::SinkClosed;
        }
        if detach {
            return InputEnd::Detached;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_docker_formats() {
        assert_eq!(parse("").unwrap(), vec![16, 17]);
        assert_eq!(parse("ctrl-p,ctrl-q").unwrap(), vec![16, 17]);
        assert_eq!(parse("ctrl-a").unwrap(), vec![1]);
        assert_eq!(parse("a,b").unwrap(), vec![b'a', b'b']);
        assert_eq!(parse("ctrl-@,ctrl-\\,ctrl-_").unwrap(), vec![0, 28, 31]);
        assert_eq!(parse("DEL").unwrap(), vec![127]);
        assert_eq!(parse("CTRL-X").unwrap(), vec![24]);
        let e = parse("ctrl-p,foo").unwrap_err().to_string();
        assert!(e.contains("Invalid detach keys (ctrl-p,foo)"), "{e}");
        assert!(parse("ctrl-1").is_err());
        assert!(parse("ab").is_err());
        assert!(parse(",").is_err());
    }

    #[test]
    fn detects_across_chunks_and_releases_false_starts() {
        let mut d = Detector::new(vec![16, 17]);
        assert_eq!(d.scan(b"ls\r"), Scan::Forward(b"ls\r".to_vec()));
        // A lone ctrl-p is held, then released when something else follows.
        assert_eq!(d.scan(&[16]), Scan::Forward(vec![]));
        assert_eq!(d.scan(b"x"), Scan::Forward(vec![16, b'x']));
        // ctrl-p ctrl-p ctrl-q: the first ctrl-p is input, the rest detaches.
        assert_eq!(d.scan(&[b'a', 16, 16]), Scan::Forward(vec![b'a', 16]));
        assert_eq!(d.scan(&[17, b'z']), Scan::Detach(vec![]));
        let mut d = Detector::new(vec![16, 17]);
        assert_eq!(d.scan(&[b'h', b'i', 16, 17]), Scan::Detach(b"hi".to_vec()));
        let mut d = Detector::new(vec![1]);
        assert_eq!(d.scan(&[b'q', 1, b'r']), Scan::Detach(b"q".to_vec()));
        let mut d = Detector::new(vec![b'a', b'b']);
        assert_eq!(d.scan(b"aab"), Scan::Detach(b"a".to_vec()));
    }
}
