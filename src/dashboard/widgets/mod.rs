//! Drawing pieces shared by views: the selection cursor, inline bars and sparklines, the
//! header, tab bar and footer, and centred popups.

pub mod bars;
pub mod chrome;
pub mod cursor;
pub mod table;

use ratatui::layout::{Constraint, Flex, Layout, Rect};

/// A centred rectangle of at most `w`×`h` inside `area`.
pub fn centered(area: Rect, w: u16, h: u16) -> Rect {
    let [row] = Layout::vertical([Constraint::Length(h.min(area.height))])
        .flex(Flex::Center)
        .areas(area);
    let [cell] = Layout::horizontal([Constraint::Length(w.min(area.width))])
        .flex(Flex::Center)
        .areas(row);
    cell
}

pub use crate::format::ellipsize;

/// Breaks `text` into lines of at most `width` columns at spaces; a word wider than a line is
/// cut where it must be.
pub fn wrap_words(text: &str, width: usize) -> Vec<String> {
    use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};
    let width = width.max(1);
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        let needed = if line.is_empty() { 0 } else { 1 } + word.width();
        if !line.is_empty() && line.width() + needed > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        for c in word.chars() {
            if line.width() + c.width().unwrap_or(0) > width {
                lines.push(std::mem::take(&mut line));
            }
            line.push(c);
        }
    }
    if !line.is_empty() || lines.is_empty() {
        lines.push(line);
    }
    lines
}

/// Bytes as docker prints them (1.5MB, 12kB).
pub fn bytes(n: f64) -> String {
    crate::format::units::human_size_precision(n, 3)
}

/// A rate in bytes per second.
pub fn rate(n: f64) -> String {
    format!("{}/s", bytes(n))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wraps_at_words_and_cuts_only_what_must_be() {
        assert_eq!(
            wrap_words("cannot reach registry 127.0.0.1:1: connection refused", 24),
            vec![
                "cannot reach registry",
                "127.0.0.1:1: connection",
                "refused"
            ]
        );
        assert_eq!(wrap_words("abcdefgh ij", 3), vec!["abc", "def", "gh", "ij"]);
        assert_eq!(wrap_words("", 10), vec![""]);
    }

    #[test]
    fn ellipsize_counts_columns() {
        assert_eq!(ellipsize("hello", 5), "hello");
        assert_eq!(ellipsize("hello world", 6), "hello…");
        assert_eq!(ellipsize("日本語テキスト", 5), "日本…");
        assert_eq!(ellipsize("abc", 0), "");
    }
}
