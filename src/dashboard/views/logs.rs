//! The logs view: one container's logs or a merged stream of several (a compose project, the
//! marked rows), each line prefixed with its container in a stable colour. Lines live in a
//! bounded ring; following keeps the newest line at the bottom.

use hyper::Method;
use ratatui::layout::Rect;
use ratatui::style::{Color, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;

use super::{Cmd, Cx, DrawCx, LogTarget, View, ViewId};
use crate::client::seg;
use crate::dashboard::keymap::Action;
use crate::dashboard::msg::{Framing, StreamItem, StreamKey, StreamRequest};
use crate::dashboard::store::logs::LogBuffer;
use crate::dashboard::store::Store;

/// Lines asked for when a stream opens.
pub const TAIL: usize = 1000;

/// Prefix colours for merged streams, chosen by the container's position (stable while open).
const PALETTE: [Color; 6] = [
    Color::Cyan,
    Color::Magenta,
    Color::Yellow,
    Color::Green,
    Color::Blue,
    Color::LightRed,
];

#[derive(Default)]
pub struct LogsView {
    pub target: Option<LogTarget>,
    pub buffer: LogBuffer,
    pub follow: bool,
    /// First line shown when not following.
    pub scroll: usize,
    pub filter: String,
    height: usize,
}

impl LogsView {
    /// Starts following `target`: one logs stream per container.
    pub fn open(&mut self, target: LogTarget, cx: &mut Cx) {
        self.close(cx);
        self.buffer = LogBuffer::default();
        self.follow = true;
        self.scroll = 0;
        for (id, _) in &target.containers {
            let tty = cx
                .store
                .details
                .get(id)
                .and_then(|d| d["Config"]["Tty"].as_bool())
                .unwrap_or(false);
            cx.push(Cmd::Stream(StreamRequest {
                key: StreamKey::Logs(id.clone()),
                method: Method::GET,
                path: format!(
                    "/containers/{}/logs?follow=1&stdout=1&stderr=1&timestamps=1&tail={TAIL}",
                    seg(id)
                ),
                body: None,
                framing: if tty {
                    Framing::Raw
                } else {
                    Framing::Multiplexed
                },
                reopen: false,
                auth_for: None,
            }));
        }
        self.target = Some(target);
    }

    /// Stops the streams (leaving the view).
    pub fn close(&mut self, cx: &mut Cx) {
        if let Some(t) = self.target.take() {
            for (id, _) in t.containers {
                cx.effect(crate::dashboard::msg::Effect::close(StreamKey::Logs(id)));
            }
        }
    }

    fn source_of(&self, id: &str) -> Option<usize> {
        self.target
            .as_ref()?
            .containers
            .iter()
            .position(|(cid, _)| cid == id)
    }
}

impl View for LogsView {
    fn id(&self) -> ViewId {
        ViewId::Logs
    }

    fn tab_title(&self, _store: &Store) -> String {
        match &self.target {
            Some(t) => format!("Logs: {}", t.title),
            None => "Logs".into(),
        }
    }

    fn draw(&mut self, f: &mut Frame, area: Rect, cx: &DrawCx) {
        let theme = &cx.config.theme;
        self.height = area.height as usize;
        let Some(target) = &self.target else {
            f.render_widget(Paragraph::new("no container selected"), area);
            return;
        };
        let merged = target.containers.len() > 1;
        let width = target
            .containers
            .iter()
            .map(|(_, n)| n.len())
            .max()
            .unwrap_or(0);
        let q = self.filter.to_lowercase();
        let shown: Vec<_> = self
            .buffer
            .lines()
            .iter()
            .filter(|l| q.is_empty() || l.text.to_lowercase().contains(&q))
            .collect();
        let start = if self.follow {
            shown.len().saturating_sub(self.height)
        } else {
            self.scroll.min(shown.len().saturating_sub(self.height))
        };
        let lines: Vec<Line> = shown
            .iter()
            .skip(start)
            .take(self.height)
            .map(|l| {
                let mut spans = Vec::new();
                if merged {
                    let name = target
                        .containers
                        .get(l.source)
                        .map_or("", |(_, n)| n.as_str());
                    spans.push(Span::styled(
                        format!("{name:<width$} | "),
                        Style::default().fg(PALETTE[l.source % PALETTE.len()]),
                    ));
                }
                let style = if l.stderr {
                    theme.fg(theme.warning)
                } else {
                    Style::default()
                };
                spans.push(Span::styled(l.text.clone(), style));
                Line::from(spans)
            })
            .collect();
        if lines.is_empty() {
            f.render_widget(
                Paragraph::new(Line::styled("no log lines yet", theme.muted())),
                area,
            );
        } else {
            f.render_widget(Paragraph::new(lines), area);
        }
    }

    fn commands(&self, _store: &Store) -> Vec<Action> {
        vec![Action::Follow, Action::Filter, Action::Back]
    }

    fn on_action(&mut self, action: Action, cx: &mut Cx) -> bool {
        let page = cx.page.max(1);
        match action {
            Action::Follow => self.follow = !self.follow,
            Action::Up | Action::PageUp => {
                if self.follow {
                    self.follow = false;
                    self.scroll = self.buffer.len().saturating_sub(self.height);
                }
                let n = if action == Action::Up { 1 } else { page };
                self.scroll = self.scroll.saturating_sub(n);
            }
            Action::Down | Action::PageDown => {
                let n = if action == Action::Down { 1 } else { page };
                self.scroll += n;
            }
            Action::Top => {
                self.follow = false;
                self.scroll = 0;
            }
            Action::Bottom => self.follow = true,
            _ => return false,
        }
        true
    }

    fn set_filter(&mut self, text: &str, _store: &Store) {
        self.filter = text.to_string();
    }

    fn filter(&self) -> &str {
        &self.filter
    }

    fn on_stream(&mut self, key: &StreamKey, item: Option<&StreamItem>, _cx: &mut Cx) {
        let StreamKey::Logs(id) = key else { return };
        let Some(source) = self.source_of(id) else {
            return;
        };
        if let Some(StreamItem::Text { line, stderr }) = item {
            self.buffer.push_raw(source, line, *stderr);
        }
    }
}
