//! An image's history (`H` in the images view): one row per layer step from
//! `GET /images/{id}/history` — created, the command that made it, size, comment. Commands are cut
//! to the column; Enter shows the selected one whole.

use crossterm::event::{KeyCode, KeyEvent, MouseEvent, MouseEventKind};
use ratatui::layout::{Constraint, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Row};
use ratatui::Frame;
use serde_json::Value;

use super::text::TextViewer;
use super::{frame, hint, Dialog, Outcome};
use crate::dashboard::msg::Purpose;
use crate::dashboard::views::{Cx, DrawCx};
use crate::dashboard::widgets::cursor::Cursor;
use crate::dashboard::widgets::table::{self, col};
use crate::dashboard::widgets::{bytes, centered, ellipsize};

#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    pub id: String,
    pub created: i64,
    pub created_by: String,
    pub size: i64,
    pub comment: String,
    pub tags: Vec<String>,
}

impl Step {
    fn from_json(v: &Value) -> Step {
        Step {
            id: v["Id"].as_str().unwrap_or("<missing>").to_string(),
            created: v["Created"].as_i64().unwrap_or(0),
            // Tabs (Dockerfile continuation lines) would break the table's columns.
            created_by: v["CreatedBy"]
                .as_str()
                .unwrap_or("")
                .replace(['\t', '\n'], " "),
            size: v["Size"].as_i64().unwrap_or(0),
            comment: v["Comment"].as_str().unwrap_or("").to_string(),
            tags: v["Tags"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|t| t.as_str().map(str::to_string))
                .collect(),
        }
    }

    /// Everything about the step, for the full view (the text viewer does not wrap, so the
    /// command is broken at `&&` as Dockerfiles write it, and at spaces past 100 columns).
    fn full_text(&self) -> String {
        let mut s = if self.created_by.trim().is_empty() {
            "(no command: an imported or base layer)".to_string()
        } else {
            wrap_command(&self.created_by, 100)
        };
        s.push_str(&format!("\n\nsize: {}\n", bytes(self.size as f64)));
        if !self.comment.is_empty() {
            s.push_str(&format!("comment: {}\n", self.comment));
        }
        s.push_str(&format!("layer: {}\n", self.id));
        if !self.tags.is_empty() {
            s.push_str(&format!("tags: {}\n", self.tags.join(", ")));
        }
        s
    }
}

/// `a && b && c` → one line per `&&`, long lines wrapped at spaces, continuations indented.
pub fn wrap_command(cmd: &str, width: usize) -> String {
    let mut lines: Vec<String> = Vec::new();
    for (i, part) in cmd.split(" && ").enumerate() {
        let mut line = if i == 0 {
            String::new()
        } else {
            "    && ".to_string()
        };
        let indent = if i == 0 { 4 } else { 7 };
        for word in part.split(' ') {
            let fresh = line.trim().is_empty() || line.ends_with("&& ");
            if !fresh && line.chars().count() + 1 + word.chars().count() > width {
                lines.push(std::mem::replace(&mut line, " ".repeat(indent)));
            } else if !fresh {
                line.push(' ');
            }
            line.push_str(word);
        }
        lines.push(line);
    }
    lines.join("\n")
}

pub struct HistoryDialog {
    title: String,
    /// The image id the answer must be for.
    id: String,
    steps: Option<Vec<Step>>,
    error: Option<String>,
    cursor: Cursor,
    page: usize,
}

impl HistoryDialog {
    /// Waits for the `Purpose::History { id }` answer the caller has asked for.
    pub fn loading(title: impl Into<String>, id: impl Into<String>) -> Self {
        HistoryDialog {
            title: title.into(),
            id: id.into(),
            steps: None,
            error: None,
            cursor: Cursor::default(),
            page: 10,
        }
    }

    pub fn steps(&self) -> Option<&[Step]> {
        self.steps.as_deref()
    }
}

impl Dialog for HistoryDialog {
    fn draw(&mut self, f: &mut Frame, area: Rect, cx: &DrawCx) {
        let theme = &cx.config.theme;
        let rect = centered(area, 140, area.height);
        let inner = frame(f, rect, &self.title, theme);
        if inner.height == 0 || inner.width == 0 {
            return;
        }
        let Some(steps) = &self.steps else {
            let line = match &self.error {
                Some(e) => Line::styled(e.clone(), theme.error()),
                None => Line::styled("loading…", theme.muted()),
            };
            f.render_widget(Paragraph::new(line), inner);
            return;
        };
        let table_area = Rect {
            height: inner.height.saturating_sub(1),
            ..inner
        };
        self.page = table_area.height.saturating_sub(1).max(1) as usize;
        // Narrow: the comment column goes first; CREATED BY takes what is left.
        let wide = inner.width >= 100;
        let comment_w = if wide { 22 } else { 0 };
        let fixed = 14 + 9 + if wide { comment_w + 1 } else { 0 } + 2;
        let by_w = inner.width.saturating_sub(fixed).max(1);
        let mut columns = vec![
            col("CREATED", Constraint::Length(14)),
            col("CREATED BY", Constraint::Length(by_w)),
            col("SIZE", Constraint::Length(9)),
        ];
        if wide {
            columns.push(col("COMMENT", Constraint::Length(comment_w)));
        }
        let now = cx.now;
        let mut cursor = self.cursor;
        cursor.set_len(steps.len());
        table::draw(
            f,
            table_area,
            &columns,
            &mut cursor,
            None,
            theme,
            "no history: the image has no layers",
            |i, _| {
                let s = &steps[i];
                let mut cells = vec![
                    Cell::from(crate::format::units::ago(s.created, now)),
                    Cell::from(ellipsize(&s.created_by, by_w as usize)),
                    Cell::from(bytes(s.size as f64)),
                ];
                if wide {
                    cells.push(Cell::from(Span::styled(
                        ellipsize(&s.comment, comment_w as usize),
                        theme.muted(),
                    )));
                }
                Row::new(cells)
            },
        );
        self.cursor = cursor;
        if inner.height > 1 {
            let total: i64 = steps.iter().map(|s| s.size).sum();
            let text = format!(
                "{} steps, {} in layers   enter: the whole command   esc: close",
                steps.len(),
                bytes(total as f64)
            );
            f.render_widget(
                Paragraph::new(Line::styled(
                    ellipsize(&text, inner.width as usize),
                    theme.muted(),
                )),
                Rect {
                    y: inner.bottom() - 1,
                    height: 1,
                    ..inner
                },
            );
        }
    }

    fn on_key(&mut self, key: KeyEvent, cx: &mut Cx) -> Outcome {
        if let Some(n) = self.steps.as_ref().map(Vec::len) {
            self.cursor.set_len(n);
        }
        match key.code {
            KeyCode::Esc | KeyCode::Char('q') => return Outcome::Close,
            KeyCode::Char('j') | KeyCode::Down => self.cursor.down(1),
            KeyCode::Char('k') | KeyCode::Up => self.cursor.up(1),
            KeyCode::Char('g') | KeyCode::Home => self.cursor.top(),
            KeyCode::Char('G') | KeyCode::End => self.cursor.bottom(),
            KeyCode::PageDown => self.cursor.down(self.page),
            KeyCode::PageUp => self.cursor.up(self.page),
            KeyCode::Enter => {
                if let Some(s) = self
                    .steps
                    .as_ref()
                    .and_then(|s| s.get(self.cursor.selected))
                {
                    let n = self.steps.as_ref().map_or(0, Vec::len);
                    cx.dialog(TextViewer::new(
                        format!("{} · step {} of {n}", self.title, self.cursor.selected + 1),
                        &s.full_text(),
                    ));
                }
            }
            _ => {}
        }
        Outcome::Keep
    }

    fn on_mouse(&mut self, ev: MouseEvent, _cx: &mut Cx) -> Outcome {
        match ev.kind {
            MouseEventKind::ScrollDown => self.cursor.down(3),
            MouseEventKind::ScrollUp => self.cursor.up(3),
            _ => {}
        }
        Outcome::Keep
    }

    fn hints(&self) -> Vec<(String, String)> {
        vec![
            hint("j/k", "move"),
            hint("enter", "whole command"),
            hint("esc", "close"),
        ]
    }

    fn on_answer(&mut self, purpose: &Purpose, result: &Result<Option<Value>, String>) -> bool {
        match purpose {
            Purpose::History { id } if *id == self.id => {
                match result {
                    Ok(Some(Value::Array(a))) => {
                        let steps: Vec<Step> = a.iter().map(Step::from_json).collect();
                        self.cursor.set_len(steps.len());
                        self.steps = Some(steps);
                    }
                    Ok(_) => self.error = Some("the engine sent no history".into()),
                    Err(e) => self.error = Some(e.clone()),
                }
                true
            }
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_wrap_at_and_and_width() {
        assert_eq!(wrap_command("echo hi", 100), "echo hi");
        assert_eq!(
            wrap_command("RUN a && b c && d", 100),
            "RUN a\n    && b c\n    && d"
        );
        let w = wrap_command(&"word ".repeat(30), 20);
        assert!(w.lines().all(|l| l.chars().count() <= 20), "{w}");
        assert_eq!(w.split_whitespace().count(), 30);
    }
}
