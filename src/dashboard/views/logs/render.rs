//! The layout of one log line: container prefix, timestamp, highlighted matches, and either
//! wrapped into rows or cut and scrolled sideways; plus the column helpers that go with it.

use chrono::DateTime;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use unicode_width::UnicodeWidthChar;

use super::matcher::Matcher;
use super::{LogsView, ZONE};
use crate::dashboard::store::logs::LogLine;
use crate::dashboard::theme::Theme;
use crate::dashboard::widgets::ellipsize;

/// Prefix colours for merged streams, chosen by the container's position (stable while open).
const PALETTE: [Color; 6] = [
    Color::Cyan,
    Color::Magenta,
    Color::Yellow,
    Color::Green,
    Color::Blue,
    Color::LightRed,
];

impl LogsView {
    /// Columns of the container-name prefix of merged streams (0 for one container).
    pub(super) fn prefix_width(&self) -> usize {
        if !self.merged() {
            return 0;
        }
        let longest = self.sources.iter().map(|s| s.name.len()).max().unwrap_or(0);
        longest.min((self.width / 4).clamp(4, 24))
    }

    /// The screen rows of one line: one when not wrapping (cut, scrolled sideways), as many as
    /// it needs when wrapping.
    pub(super) fn rows_of(&self, seq: u64, line: &LogLine, theme: &Theme) -> Vec<Line<'static>> {
        let mut fixed: Vec<Span<'static>> = Vec::new();
        let pw = self.prefix_width();
        if pw > 0 {
            let name = self
                .sources
                .get(line.source)
                .map_or("", |s| s.name.as_str());
            fixed.push(Span::styled(
                format!("{:<pw$} | ", ellipsize(name, pw)),
                Style::default().fg(PALETTE[line.source % PALETTE.len()]),
            ));
        }
        if self.timestamps {
            fixed.push(Span::styled(
                format!("{:<12} ", short_time(line.timestamp.as_deref())),
                theme.muted(),
            ));
        }
        let mut base = if line.stderr {
            theme.fg(theme.warning)
        } else {
            Style::default()
        };
        if self.current == Some(seq) {
            base = base.patch(theme.selected());
        }
        let mut text = Vec::new();
        let mut at = 0;
        if let Matcher::Re(re) = &self.matcher {
            for m in re.find_iter(&line.text).filter(|m| !m.is_empty()) {
                if m.start() > at {
                    text.push(Span::styled(line.text[at..m.start()].to_string(), base));
                }
                text.push(Span::styled(
                    m.as_str().to_string(),
                    theme.highlight().add_modifier(Modifier::BOLD),
                ));
                at = m.end();
            }
        }
        if at < line.text.len() || text.is_empty() {
            text.push(Span::styled(line.text[at..].to_string(), base));
        }
        let width = self.width.max(1);
        if self.wrap {
            // Continuation rows are indented under the text (a hanging indent), so prefixes
            // and timestamps stay a clean column; too narrow for that, everything wraps.
            let fixed_w: usize = fixed.iter().map(|s| columns(&s.content)).sum();
            if fixed_w + 8 > width {
                fixed.extend(text);
                return wrap_columns(fixed, width)
                    .into_iter()
                    .map(Line::from)
                    .collect();
            }
            wrap_columns(text, width - fixed_w)
                .into_iter()
                .enumerate()
                .map(|(i, row)| {
                    let mut spans = if i == 0 {
                        fixed.clone()
                    } else {
                        vec![Span::raw(" ".repeat(fixed_w))]
                    };
                    spans.extend(row);
                    Line::from(spans)
                })
                .collect()
        } else {
            fixed.extend(skip_columns(text, self.hscroll));
            vec![Line::from(fixed)]
        }
    }
}

/// "HH:MM:SS.mmm" in the local zone from the engine's RFC 3339 timestamp.
pub(super) fn short_time(ts: Option<&str>) -> String {
    let Some(ts) = ts else {
        return String::new();
    };
    match DateTime::parse_from_rfc3339(ts) {
        Ok(t) => t.with_timezone(&ZONE).format("%H:%M:%S%.3f").to_string(),
        Err(_) => ts.chars().take(12).collect(),
    }
}

pub(super) fn columns(s: &str) -> usize {
    s.chars().map(|c| c.width().unwrap_or(0)).sum()
}

/// Drops the first `skip` columns of `spans` (sideways scrolling).
pub(super) fn skip_columns(spans: Vec<Span<'static>>, skip: usize) -> Vec<Span<'static>> {
    if skip == 0 {
        return spans;
    }
    let mut left = skip;
    let mut out = Vec::new();
    for span in spans {
        if left == 0 {
            out.push(span);
            continue;
        }
        let mut rest = String::new();
        for c in span.content.chars() {
            if left > 0 {
                left = left.saturating_sub(c.width().unwrap_or(0));
            } else {
                rest.push(c);
            }
        }
        if !rest.is_empty() {
            out.push(Span::styled(rest, span.style));
        }
    }
    out
}

/// Cuts `spans` into rows of `width` columns, breaking after the last space of a row when it
/// has one (words stay whole) and anywhere otherwise; a wide character that does not fit moves
/// to the next row.
pub(super) fn wrap_columns(spans: Vec<Span<'static>>, width: usize) -> Vec<Vec<Span<'static>>> {
    let width = width.max(1);
    let chars: Vec<(char, usize)> = spans
        .iter()
        .flat_map(|s| s.content.chars())
        .map(|c| (c, c.width().unwrap_or(0)))
        .collect();
    // Char indexes where a new row starts.
    let mut breaks = Vec::new();
    let mut row_start = 0;
    let mut col = 0;
    let mut last_space: Option<usize> = None;
    for (j, &(c, w)) in chars.iter().enumerate() {
        if col + w > width && col > 0 {
            // After the row's last space (so nothing after it is a space: the new row starts
            // without one), or here when the row is one long word.
            let at = match last_space {
                Some(sp) if sp >= row_start => sp + 1,
                _ => j,
            };
            breaks.push(at);
            row_start = at;
            col = chars[at..j].iter().map(|&(_, w)| w).sum();
            last_space = None;
            // The carried word and a wide character may still not fit together.
            if col + w > width && col > 0 {
                breaks.push(j);
                row_start = j;
                col = 0;
            }
        }
        col += w;
        if c == ' ' {
            last_space = Some(j);
        }
    }
    let mut rows = vec![Vec::new()];
    let mut next_break = breaks.iter().copied().peekable();
    let mut i = 0;
    for span in spans {
        let mut piece = String::new();
        for c in span.content.chars() {
            if next_break.peek() == Some(&i) {
                next_break.next();
                if !piece.is_empty() {
                    rows.last_mut()
                        .expect("rows starts non-empty")
                        .push(Span::styled(std::mem::take(&mut piece), span.style));
                }
                rows.push(Vec::new());
            }
            piece.push(c);
            i += 1;
        }
        if !piece.is_empty() {
            rows.last_mut()
                .expect("rows starts non-empty")
                .push(Span::styled(piece, span.style));
        }
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(rows: &[Vec<Span<'static>>]) -> Vec<String> {
        rows.iter()
            .map(|r| r.iter().map(|s| s.content.as_ref()).collect())
            .collect()
    }

    #[test]
    fn wrapping_counts_columns_and_keeps_styles() {
        let spans = vec![
            Span::raw("abc"),
            Span::styled("defgh", Style::default().fg(Color::Red)),
        ];
        let rows = wrap_columns(spans, 3);
        assert_eq!(text(&rows), vec!["abc", "def", "gh"]);
        assert_eq!(rows[1][0].style.fg, Some(Color::Red));
        // Words stay whole when the row has a space; a word longer than a row is cut.
        let rows = wrap_columns(vec![Span::raw("one two three fourfivesix")], 9);
        assert_eq!(text(&rows), vec!["one two ", "three ", "fourfives", "ix"]);
        let rows = wrap_columns(vec![Span::raw("a bcd日")], 5);
        assert_eq!(text(&rows), vec!["a ", "bcd日"]);
        let rows = wrap_columns(vec![Span::raw("a bcde日")], 5);
        assert_eq!(text(&rows), vec!["a ", "bcde", "日"]);
        // A wide character never splits; it moves to the next row.
        let rows = wrap_columns(vec![Span::raw("ab日本")], 3);
        assert_eq!(text(&rows), vec!["ab", "日", "本"]);
        // Width 1 with wide characters still ends.
        assert_eq!(wrap_columns(vec![Span::raw("日本")], 1).len(), 2);
        assert_eq!(text(&wrap_columns(vec![Span::raw("")], 5)), vec![""]);
    }

    #[test]
    fn skipping_columns() {
        let spans = vec![Span::raw("abc"), Span::raw("def")];
        let rows = skip_columns(spans.clone(), 4);
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].content, "ef");
        assert!(skip_columns(spans, 10).is_empty());
    }

    #[test]
    fn short_times() {
        assert_eq!(
            short_time(Some("2026-11-23T11:59:58.123456789Z")),
            "11:59:58.123"
        );
        assert_eq!(short_time(None), "");
        assert_eq!(short_time(Some("garbage-timestamp-x")), "garbage-time");
    }
}
