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
        if let Some(clean) = sanitize(&line.text) {
            line.text = clean;
        }
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

    /// Empties the buffer (a new `since`); sequence numbers keep counting so positions taken
    /// before cannot point at the new lines.
    pub fn clear(&mut self) {
        self.lines.clear();
        self.bytes = 0;
    }

    /// The sequence number of the oldest line held (`pushed` counts every line ever added, so a
    /// line keeps its number while the front is dropped).
    pub fn first_seq(&self) -> u64 {
        self.pushed - self.lines.len() as u64
    }

    /// One past the newest line's sequence number.
    pub fn end_seq(&self) -> u64 {
        self.pushed
    }

    pub fn get(&self, seq: u64) -> Option<&LogLine> {
        let i = seq.checked_sub(self.first_seq())?;
        self.lines.get(usize::try_from(i).ok()?)
    }

    /// Lines with their sequence numbers, from `from` on.
    pub fn iter_from(&self, from: u64) -> impl DoubleEndedIterator<Item = (u64, &LogLine)> {
        let first = self.first_seq();
        let skip = from.saturating_sub(first).min(self.lines.len() as u64) as usize;
        self.lines
            .range(skip..)
            .enumerate()
            .map(move |(i, l)| (first + (skip + i) as u64, l))
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

/// Makes a line safe to draw: ANSI escape sequences (colours, cursor moves) are removed, tabs
/// become spaces to the next multiple of 8, other control characters are dropped. A terminal
/// escape in a container's output must not reach the user's terminal through ours. `None` when
/// the line is clean already (the common case costs no copy).
pub fn sanitize(s: &str) -> Option<String> {
    if !s.chars().any(char::is_control) {
        return None;
    }
    let mut out = String::with_capacity(s.len());
    let mut col = 0usize;
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\t' => {
                let n = 8 - col % 8;
                out.extend(std::iter::repeat_n(' ', n));
                col += n;
            }
            '\u{1b}' => match chars.peek() {
                // CSI: parameters and intermediates, then one final byte in @..~.
                Some('[') => {
                    chars.next();
                    for c in chars.by_ref() {
                        if ('@'..='~').contains(&c) {
                            break;
                        }
                    }
                }
                // OSC (titles, hyperlinks): up to BEL or ESC \.
                Some(']') => {
                    chars.next();
                    while let Some(c) = chars.next() {
                        if c == '\u{7}' {
                            break;
                        }
                        if c == '\u{1b}' && chars.peek() == Some(&'\\') {
                            chars.next();
                            break;
                        }
                    }
                }
                // Two-character escapes (ESC c, ESC 7, ...).
                Some(_) => {
                    chars.next();
                }
                None => {}
            },
            c if c.is_control() => {}
            c => {
                out.push(c);
                col += unicode_width::UnicodeWidthChar::width(c).unwrap_or(0);
            }
        }
    }
    Some(out)
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

    #[test]
    fn sequence_numbers_survive_dropping_and_clearing() {
        let mut b = LogBuffer::with_limits(3, 1 << 20);
        for i in 0..5 {
            b.push_raw(0, &format!("l{i}"), false);
        }
        assert_eq!((b.first_seq(), b.end_seq()), (2, 5));
        assert_eq!(b.get(2).unwrap().text, "l2");
        assert_eq!(b.get(1), None);
        assert_eq!(b.get(5), None);
        let seqs: Vec<u64> = b.iter_from(3).map(|(s, _)| s).collect();
        assert_eq!(seqs, vec![3, 4]);
        assert_eq!(b.iter_from(0).count(), 3);
        assert_eq!(b.iter_from(9).count(), 0);
        b.clear();
        assert_eq!((b.first_seq(), b.end_seq()), (5, 5));
        b.push_raw(0, "new", false);
        assert_eq!(b.get(5).unwrap().text, "new");
    }

    #[test]
    fn escapes_and_tabs_are_made_safe() {
        assert_eq!(sanitize("plain"), None);
        assert_eq!(
            sanitize("\u{1b}[1;31mred\u{1b}[0m and \u{1b}]0;title\u{7}done").unwrap(),
            "red and done"
        );
        assert_eq!(sanitize("a\tb").unwrap(), "a       b");
        assert_eq!(sanitize("abcdefgh\tx").unwrap(), "abcdefgh        x");
        assert_eq!(sanitize("bell\u{7}\u{1b}").unwrap(), "bell");
        let mut b = LogBuffer::default();
        b.push_raw(0, "2026-11-23T17:00:00Z \u{1b}[32mok\u{1b}[0m\r\n", false);
        assert_eq!(b.lines()[0].text, "ok");
    }

    /// A container that logs a million lines costs no more than the bounds. The bytes held are
    /// printed for the report (`cargo test -- --nocapture million`).
    #[test]
    fn a_million_lines_stay_bounded() {
        use std::fmt::Write;
        let mut b = LogBuffer::default();
        let mut raw = String::new();
        for i in 0..1_000_000u32 {
            raw.clear();
            let _ = write!(
                raw,
                "2026-11-23T17:00:00.{i:09}Z GET /api/items/{i} 200 OK in 3ms"
            );
            b.push_raw((i % 3) as usize, &raw, i % 7 == 0);
        }
        assert_eq!(b.len(), MAX_LINES);
        assert!(b.bytes() <= MAX_BYTES);
        assert_eq!(b.dropped, 1_000_000 - MAX_LINES as u64);
        assert_eq!(b.first_seq(), 1_000_000 - MAX_LINES as u64);
        assert!(b
            .lines()
            .back()
            .unwrap()
            .text
            .ends_with("999999 200 OK in 3ms"));
        // 20 MB of long lines: the byte bound wins over the line bound.
        let mut long = LogBuffer::default();
        let line = "y".repeat(1000);
        for _ in 0..20_000 {
            long.push_raw(0, &line, false);
        }
        assert!(long.bytes() <= MAX_BYTES && long.len() < MAX_LINES);
        println!(
            "a million short lines: {} lines, {} bytes held; 20k 1000-byte lines: {} lines, {} bytes held",
            b.len(),
            b.bytes(),
            long.len(),
            long.bytes()
        );
    }
}
