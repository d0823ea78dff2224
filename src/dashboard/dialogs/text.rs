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
use crate::dashboard::theme::Theme;
use crate::dashboard::views::{Cx, DrawCx};

/// Scrollable lines with a search query whose matches are highlighted and can be jumped
/// between: the body of the JSON viewer dialog and of the detail pane's Inspect tab.
#[derive(Debug, Clone, Default)]
pub struct TextPane {
    lines: Vec<String>,
    /// First line shown.
    pub scroll: usize,
    /// Lines that fit, from the last draw.
    height: usize,
    /// The search, lower-cased.
    query: String,
    /// The match n/N last went to (the reference for the next jump, since the scroll is
    /// clamped and may not point at it near the end).
    current: Option<usize>,
}

impl TextPane {
    pub fn new(text: &str) -> Self {
        let mut p = TextPane {
            height: 10,
            ..TextPane::default()
        };
        p.set_text(text);
        p
    }

    /// Replaces the text, keeping the scroll position where it still fits.
    pub fn set_text(&mut self, text: &str) {
        self.lines = text.lines().map(str::to_string).collect();
        self.scroll = self.scroll.min(self.max_scroll());
    }

    pub fn lines(&self) -> &[String] {
        &self.lines
    }

    pub fn set_query(&mut self, q: &str) {
        self.query = q.to_lowercase();
        self.current = None;
    }

    pub fn query(&self) -> &str {
        &self.query
    }

    pub fn matching_lines(&self) -> Vec<usize> {
        if self.query.is_empty() {
            return Vec::new();
        }
        self.lines
            .iter()
            .enumerate()
            .filter(|(_, l)| l.to_lowercase().contains(&self.query))
            .map(|(i, _)| i)
            .collect()
    }

    /// Scrolls to the next (or previous) matching line, wrapping around.
    pub fn jump(&mut self, forward: bool) {
        let m = self.matching_lines();
        let from = self.current.unwrap_or(self.scroll);
        let next = if forward {
            m.iter().find(|&&i| i > from).or(m.first())
        } else {
            m.iter().rev().find(|&&i| i < from).or(m.last())
        };
        if let Some(&i) = next {
            self.current = Some(i);
            self.scroll = i.min(self.max_scroll());
        }
    }

    /// Scrolls to the first match at or after the current line (a search just typed).
    pub fn find_from_here(&mut self) {
        if let Some(&i) = self.matching_lines().iter().find(|&&i| i >= self.scroll) {
            self.current = Some(i);
            self.scroll = i.min(self.max_scroll());
        } else {
            self.current = None;
            self.jump(true);
        }
    }

    pub fn max_scroll(&self) -> usize {
        self.lines.len().saturating_sub(self.height)
    }

    /// Lines per page (from the last draw, at least 1).
    pub fn page(&self) -> usize {
        self.height.max(1)
    }

    pub fn scroll_by(&mut self, delta: isize) {
        self.current = None;
        self.scroll = self
            .scroll
            .saturating_add_signed(delta)
            .min(self.max_scroll());
    }

    pub fn to_top(&mut self) {
        self.current = None;
        self.scroll = 0;
    }

    pub fn to_bottom(&mut self) {
        self.current = None;
        self.scroll = self.max_scroll();
    }

    /// "lines 1-20 of 240".
    pub fn position(&self) -> String {
        format!(
            "lines {}-{} of {}",
            (self.scroll + 1).min(self.lines.len()),
            (self.scroll + self.height).min(self.lines.len()),
            self.lines.len()
        )
    }

    /// Draws the visible lines with every match highlighted.
    pub fn draw(&mut self, f: &mut Frame, area: Rect, theme: &Theme) {
        self.height = area.height as usize;
        self.scroll = self.scroll.min(self.max_scroll());
        let text: Vec<Line> = self
            .lines
            .iter()
            .skip(self.scroll)
            .take(self.height)
            .map(|l| {
                Line::from(highlight(
                    l,
                    &self.query,
                    ratatui::style::Style::default(),
                    theme.highlight(),
                ))
            })
            .collect();
        f.render_widget(Paragraph::new(text), area);
    }
}

pub struct TextViewer {
    title: String,
    /// `None` while the document is on its way.
    pane: Option<TextPane>,
    error: Option<String>,
    waiting_for: Option<Purpose>,
    search: Input,
    searching: bool,
}

impl TextViewer {
    pub fn new(title: impl Into<String>, text: &str) -> Self {
        TextViewer {
            title: title.into(),
            pane: Some(TextPane::new(text)),
            error: None,
            waiting_for: None,
            search: Input::default(),
            searching: false,
        }
    }

    /// Waits for the answer to `purpose` (an inspect call the caller has queued).
    pub fn loading(title: impl Into<String>, purpose: Purpose) -> Self {
        let mut v = TextViewer::new(title, "");
        v.pane = None;
        v.waiting_for = Some(purpose);
        v
    }

    /// Hands the search text to the pane (after every edit).
    fn sync_query(&mut self) {
        let q = self.search.value().to_string();
        if let Some(p) = &mut self.pane {
            p.set_query(&q);
        }
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
        match (&mut self.pane, &self.error) {
            (_, Some(e)) => {
                f.render_widget(Paragraph::new(Line::styled(e.clone(), theme.error())), body)
            }
            (None, None) => f.render_widget(
                Paragraph::new(Line::styled("loading…", theme.muted())),
                body,
            ),
            (Some(pane), None) => pane.draw(f, body, theme),
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
            let count = self.pane.as_ref().map_or(0, |p| p.matching_lines().len());
            let label = format!("{count} lines match");
            f.render_widget(
                Paragraph::new(Line::styled(label, theme.muted())),
                Rect {
                    x: bar.right().saturating_sub(18),
                    width: 18.min(bar.width),
                    ..bar
                },
            );
        } else if let Some(pane) = &self.pane {
            f.render_widget(
                Paragraph::new(Line::styled(pane.position(), theme.muted())),
                bar,
            );
        }
    }

    fn on_key(&mut self, key: KeyEvent, _cx: &mut Cx) -> Outcome {
        if self.searching {
            match key.code {
                KeyCode::Enter => {
                    self.searching = false;
                    if let Some(p) = &mut self.pane {
                        p.find_from_here();
                    }
                }
                KeyCode::Esc => {
                    self.searching = false;
                    self.search.reset();
                }
                _ => {
                    self.search.handle_event(&Event::Key(key));
                }
            }
            self.sync_query();
            return Outcome::Keep;
        }
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        if matches!(key.code, KeyCode::Esc | KeyCode::Char('q')) {
            if self.search.value().is_empty() {
                return Outcome::Close;
            }
            self.search.reset();
            self.sync_query();
            return Outcome::Keep;
        }
        if key.code == KeyCode::Char('/') {
            self.searching = true;
            return Outcome::Keep;
        }
        let Some(p) = &mut self.pane else {
            return Outcome::Keep;
        };
        let page = p.page() as isize;
        match key.code {
            KeyCode::Char('n') => p.jump(true),
            KeyCode::Char('N') => p.jump(false),
            KeyCode::Char('j') | KeyCode::Down => p.scroll_by(1),
            KeyCode::Char('k') | KeyCode::Up => p.scroll_by(-1),
            KeyCode::PageDown | KeyCode::Char(' ') => p.scroll_by(page),
            KeyCode::Char('f') if ctrl => p.scroll_by(page),
            KeyCode::PageUp => p.scroll_by(-page),
            KeyCode::Char('b') if ctrl => p.scroll_by(-page),
            KeyCode::Char('g') | KeyCode::Home => p.to_top(),
            KeyCode::Char('G') | KeyCode::End => p.to_bottom(),
            _ => {}
        }
        Outcome::Keep
    }

    fn on_mouse(&mut self, ev: MouseEvent, _cx: &mut Cx) -> Outcome {
        if let Some(p) = &mut self.pane {
            match ev.kind {
                MouseEventKind::ScrollDown => p.scroll_by(3),
                MouseEventKind::ScrollUp => p.scroll_by(-3),
                _ => {}
            }
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
                let mut pane = TextPane::new(&text);
                pane.set_query(self.search.value());
                self.pane = Some(pane);
            }
            Err(e) => self.error = Some(e.clone()),
        }
        true
    }
}
