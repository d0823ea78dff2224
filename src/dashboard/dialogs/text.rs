//! A full-screen text viewer over the views: inspect JSON (pretty-printed), or any long text.
//! Scrolls with the list keys and the wheel; `/` searches with every match highlighted, n/N
//! jump between matches.

use crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers, MouseEvent, MouseEventKind};
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;
use serde_json::Value;
use tui_input::backend::crossterm::EventHandler;
use tui_input::Input;

use super::prompt::draw_input;
use super::{frame, hint, Dialog, Outcome};
use crate::dashboard::msg::Purpose;
use crate::dashboard::views::{Cx, DrawCx};

pub struct TextViewer {
    title: String,
    /// `None` while the document is on its way.
    lines: Option<Vec<String>>,
    error: Option<String>,
    waiting_for: Option<Purpose>,
    scroll: usize,
    height: usize,
    search: Input,
    searching: bool,
}

impl TextViewer {
    pub fn new(title: impl Into<String>, text: &str) -> Self {
        TextViewer {
            title: title.into(),
            lines: Some(text.lines().map(str::to_string).collect()),
            error: None,
            waiting_for: None,
            scroll: 0,
            height: 10,
            search: Input::default(),
            searching: false,
        }
    }

    /// Waits for the answer to `purpose` (an inspect call the caller has queued).
    pub fn loading(title: impl Into<String>, purpose: Purpose) -> Self {
        let mut v = TextViewer::new(title, "");
        v.lines = None;
        v.waiting_for = Some(purpose);
        v
    }

    fn query(&self) -> String {
        self.search.value().to_lowercase()
    }

    fn matching_lines(&self) -> Vec<usize> {
        let q = self.query();
        if q.is_empty() {
            return Vec::new();
        }
        self.lines
            .iter()
            .flatten()
            .enumerate()
            .filter(|(_, l)| l.to_lowercase().contains(&q))
            .map(|(i, _)| i)
            .collect()
    }

    fn jump(&mut self, forward: bool) {
        let m = self.matching_lines();
        let next = if forward {
            m.iter().find(|&&i| i > self.scroll).or(m.first())
        } else {
            m.iter().rev().find(|&&i| i < self.scroll).or(m.last())
        };
        if let Some(&i) = next {
            self.scroll = i;
        }
    }

    fn max_scroll(&self) -> usize {
        self.lines
            .as_ref()
            .map_or(0, |l| l.len().saturating_sub(self.height))
    }
}

/// Splits `text` into spans with every case-insensitive occurrence of `q` highlighted.
pub fn highlight<'a>(
    text: &'a str,
    q: &str,
    base: ratatui::style::Style,
    hl: ratatui::style::Style,
) -> Vec<Span<'a>> {
    if q.is_empty() {
        return vec![Span::styled(text, base)];
    }
    let lower = text.to_lowercase();
    // Lower-casing can change byte lengths (rare scripts); then skip highlighting.
    if lower.len() != text.len() {
        return vec![Span::styled(text, base)];
    }
    let mut spans = Vec::new();
    let mut at = 0;
    while let Some(pos) = lower[at..].find(q) {
        let start = at + pos;
        if start > at {
            spans.push(Span::styled(&text[at..start], base));
        }
        spans.push(Span::styled(&text[start..start + q.len()], hl));
        at = start + q.len();
    }
    if at < text.len() {
        spans.push(Span::styled(&text[at..], base));
    }
    spans
}

impl Dialog for TextViewer {
    fn draw(&mut self, f: &mut Frame, area: Rect, cx: &DrawCx) {
        let theme = &cx.config.theme;
        let inner = frame(f, area, &self.title, theme);
        let [body, bar] =
            Layout::vertical([Constraint::Min(0), Constraint::Length(1)]).areas(inner);
        self.height = body.height as usize;
        match (&self.lines, &self.error) {
            (_, Some(e)) => {
                f.render_widget(Paragraph::new(Line::styled(e.clone(), theme.error())), body)
            }
            (None, None) => f.render_widget(
                Paragraph::new(Line::styled("loading…", theme.muted())),
                body,
            ),
            (Some(lines), None) => {
                self.scroll = self.scroll.min(lines.len().saturating_sub(self.height));
                let q = self.query();
                let text: Vec<Line> = lines
                    .iter()
                    .skip(self.scroll)
                    .take(self.height)
                    .map(|l| {
                        Line::from(highlight(
                            l,
                            &q,
                            ratatui::style::Style::default(),
                            theme.highlight(),
                        ))
                    })
                    .collect();
                f.render_widget(Paragraph::new(text), body);
            }
        }
        if self.searching || !self.search.value().is_empty() {
            f.render_widget(Paragraph::new("/"), Rect { width: 1, ..bar });
            let input = Rect {
                x: bar.x + 1,
                width: bar.width.saturating_sub(20),
                ..bar
            };
            draw_input(
                f,
                input,
                &self.search,
                ratatui::style::Style::default(),
                self.searching,
            );
            let count = self.matching_lines().len();
            let label = format!("{count} lines match");
            f.render_widget(
                Paragraph::new(Line::styled(label, theme.muted())),
                Rect {
                    x: bar.right().saturating_sub(18),
                    width: 18.min(bar.width),
                    ..bar
                },
            );
        } else if let Some(lines) = &self.lines {
            let pos = format!(
                "lines {}-{} of {}",
                (self.scroll + 1).min(lines.len()),
                (self.scroll + self.height).min(lines.len()),
                lines.len()
            );
            f.render_widget(Paragraph::new(Line::styled(pos, theme.muted())), bar);
        }
    }

    fn on_key(&mut self, key: KeyEvent, _cx: &mut Cx) -> Outcome {
        if self.searching {
            match key.code {
                KeyCode::Enter => {
                    self.searching = false;
                    self.scroll = self.scroll.saturating_sub(1);
                    self.jump(true);
                }
                KeyCode::Esc => {
                    self.searching = false;
                    self.search.reset();
                }
                _ => {
                    self.search.handle_event(&Event::Key(key));
                }
            }
            return Outcome::Keep;
        }
        let page = self.height.max(1);
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        match key.code {
            KeyCode::Esc | KeyCode::Char('q') => {
                if self.search.value().is_empty() {
                    return Outcome::Close;
                }
                self.search.reset();
            }
            KeyCode::Char('/') => self.searching = true,
            KeyCode::Char('n') => self.jump(true),
            KeyCode::Char('N') => self.jump(false),
            KeyCode::Char('j') | KeyCode::Down => self.scroll += 1,
            KeyCode::Char('k') | KeyCode::Up => self.scroll = self.scroll.saturating_sub(1),
            KeyCode::PageDown | KeyCode::Char(' ') => self.scroll += page,
            KeyCode::Char('f') if ctrl => self.scroll += page,
            KeyCode::PageUp => self.scroll = self.scroll.saturating_sub(page),
            KeyCode::Char('b') if ctrl => self.scroll = self.scroll.saturating_sub(page),
            KeyCode::Char('g') | KeyCode::Home => self.scroll = 0,
            KeyCode::Char('G') | KeyCode::End => self.scroll = self.max_scroll(),
            _ => {}
        }
        self.scroll = self.scroll.min(self.max_scroll());
        Outcome::Keep
    }

    fn on_mouse(&mut self, ev: MouseEvent, _cx: &mut Cx) -> Outcome {
        match ev.kind {
            MouseEventKind::ScrollDown => self.scroll = (self.scroll + 3).min(self.max_scroll()),
            MouseEventKind::ScrollUp => self.scroll = self.scroll.saturating_sub(3),
            _ => {}
        }
        Outcome::Keep
    }

    fn on_paste(&mut self, text: &str) {
        if self.searching {
            for c in text.chars().filter(|c| !c.is_control()) {
                self.search.handle(tui_input::InputRequest::InsertChar(c));
            }
        }
    }

    fn hints(&self) -> Vec<(String, String)> {
        if self.searching {
            return vec![hint("enter", "find"), hint("esc", "cancel")];
        }
        vec![
            hint("j/k", "scroll"),
            hint("/", "search"),
            hint("n/N", "next/prev"),
            hint("esc", "close"),
        ]
    }

    fn on_answer(&mut self, purpose: &Purpose, result: &Result<Option<Value>, String>) -> bool {
        if self.waiting_for.as_ref() != Some(purpose) {
            return false;
        }
        self.waiting_for = None;
        match result {
            Ok(v) => {
                let text = serde_json::to_string_pretty(v.as_ref().unwrap_or(&Value::Null))
                    .unwrap_or_default();
                self.lines = Some(text.lines().map(str::to_string).collect());
            }
            Err(e) => self.error = Some(e.clone()),
        }
        true
    }
}
