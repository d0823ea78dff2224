//! The logs view's buffer: a ring bounded in lines and bytes, so a container that logs forever
//! costs a fixed amount of memory. Lines remember which container they came from (for the merged
//! view) and the engine's timestamp (asked for always, shown on demand).

use std::collections::VecDeque;

pub const MAX_LINES: usize = 20_000;
pub const MAX_BYTES: usize = 8 << 20;
/// Longer lines are cut: one runaway line must not take the whole budget.
pub const MAX_LINE: usize = 16 << 10;

#[derive(Debug, Clone, PartialEq)]
pub struct LogLine {
    /// Index into the buffer's sources.
    pub source: usize,
    /// RFC 3339 timestamp from `timestamps=1`, when the engine sent one.
    pub timestamp: Option<String>,
    pub text: String,
    pub stderr: bool,
}

#[derive(Debug, Clone)]
pub struct LogBuffer {
    lines: VecDeque<LogLine>,
    bytes: usize,
    max_lines: usize,
    max_bytes: usize,
    /// Lines dropped from the front since the buffer was created.
    pub dropped: u64,
    /// Total lines ever pushed (lets a view keep its place while the front is dropped).
    pub pushed: u64,
}

impl Default for LogBuffer {
    fn default() -> Self {
        LogBuffer::with_limits(MAX_LINES, MAX_BYTES)
    }
}

impl LogBuffer {
    pub fn with_limits(max_lines: usize, max_bytes: usize) -> LogBuffer {
        LogBuffer {
            lines: VecDeque::new(),
            bytes: 0,
            max_lines,
            max_bytes,
            dropped: 0,
            pushed: 0,
        }
    }

    /// Adds a raw line as the engine sent it with `timestamps=1`: "2026-…Z text".
    pub fn push_raw(&mut self, source: usize, raw: &str, stderr: bool) {
        let raw = raw.strip_suffix('\n').unwrap_or(raw);
        let raw = raw.strip_suffix('\r').unwrap_or(raw);
        let (timestamp, text) = match raw.split_once(' ') {
            Some((ts, rest)) if looks_like_timestamp(ts) => (Some(ts.to_string()), rest),
            _ => (None, raw),
        };
        self.push(LogLine {
            source,
            timestamp,
            text: text.to_string(),
            stderr,
        });
    }

    pub fn push(&mut self, mut line: LogLine) {
        if line.text.len() > MAX_LINE {
            let mut cut = MAX_LINE;
            while !line.text.is_char_boundary(cut) {
                cut -= 1;
            }
            line.text.truncate(cut);
            line.text.push('…');
        }
        self.bytes += cost(&line);
        self.lines.push_back(line);
        self.pushed += 1;
        while self.lines.len() > self.max_lines || self.bytes > self.max_bytes {
            match self.lines.pop_front() {
                Some(old) => {
                    self.bytes -= cost(&old);
                    self.dropped += 1;
                }
                None => break,
            }
        }
    }

    pub fn clear(&mut self) {
        self.lines.clear();
        self.bytes = 0;
    }

    pub fn lines(&self) -> &VecDeque<LogLine> {
        &self.lines
    }

    pub fn len(&self) -> usize {
        self.lines.len()
    }

    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }

    /// Bytes held (text and timestamps plus a fixed per-line overhead).
    pub fn bytes(&self) -> usize {
        self.bytes
    }
}

fn cost(l: &LogLine) -> usize {
    l.text.len() + l.timestamp.as_ref().map_or(0, String::len) + std::mem::size_of::<LogLine>()
}

fn looks_like_timestamp(s: &str) -> bool {
    s.len() >= 20 && s.as_bytes()[4] == b'-' && s.as_bytes()[10] == b'T' && s.ends_with('Z')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_timestamps_and_stays_bounded() {
        let mut b = LogBuffer::with_limits(100, 1 << 20);
        b.push_raw(0, "2026-11-23T17:00:00.123456789Z hello world\n", false);
        b.push_raw(0, "no timestamp here", true);
        assert_eq!(
            b.lines()[0].timestamp.as_deref(),
            Some("2026-11-23T17:00:00.123456789Z")
        );
        assert_eq!(b.lines()[0].text, "hello world");
        assert_eq!(b.lines()[1].timestamp, None);
        assert!(b.lines()[1].stderr);
        for i in 0..1000 {
            b.push_raw(0, &format!("line {i}"), false);
        }
        assert_eq!(b.len(), 100);
        assert_eq!(b.lines().back().unwrap().text, "line 999");
        assert_eq!(b.dropped, 902);

        let mut small = LogBuffer::with_limits(1_000_000, 64 << 10);
        for _ in 0..10_000 {
            small.push_raw(0, &"x".repeat(1000), false);
        }
        assert!(small.bytes() <= 64 << 10);
        small.push_raw(0, &"é".repeat(MAX_LINE), false);
        assert!(small.lines().back().unwrap().text.len() <= MAX_LINE + 3);
    }
}
