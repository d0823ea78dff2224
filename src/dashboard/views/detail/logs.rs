//! The Logs tab: the last lines of the container, following live through its own stream
//! (`StreamKey::DetailLogs`), kept in a small bounded buffer. The full logs view (L) is the
//! place for search, timestamps and saving.

use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::Paragraph;
use ratatui::Frame;

use crate::client::api::containers::{self, LogsFrom};
use crate::dashboard::msg::{Effect, Framing, StreamItem, StreamKey, StreamRequest};
use crate::dashboard::store::logs::LogBuffer;
use crate::dashboard::store::model::Container;
use crate::dashboard::theme::Theme;
use crate::dashboard::views::{Cmd, Cx};
use crate::dashboard::widgets::ellipsize;

/// Lines asked for when the stream opens.
pub const TAIL: usize = 200;
/// What the pane keeps: a glance, not an archive.
const MAX_LINES: usize = 1_000;
const MAX_BYTES: usize = 1 << 20;

pub struct LogsPane {
    buffer: LogBuffer,
    /// The container whose stream is open (or ended, while `ended`).
    streaming: Option<String>,
    ended: bool,
    /// The container's state when the stream opened: a stream that ended is reopened when the
    /// state changes (the container was started again).
    state_at_open: String,
    /// Lines scrolled up from the newest; 0 follows.
    back: usize,
    height: usize,
}

impl Default for LogsPane {
    fn default() -> Self {
        LogsPane {
            buffer: LogBuffer::with_limits(MAX_LINES, MAX_BYTES),
            streaming: None,
            ended: false,
            state_at_open: String::new(),
            back: 0,
            height: 10,
        }
    }
}

impl LogsPane {
    pub fn open(&mut self, id: &str, cx: &mut Cx) {
        self.close(cx);
        let tty = cx
            .store
            .details
            .get(id)
            .and_then(|d| d["Config"]["Tty"].as_bool())
            .unwrap_or(false);
        let logs = containers::logs_follow(id, &LogsFrom::Tail(TAIL));
        cx.push(Cmd::Stream(StreamRequest {
            key: StreamKey::DetailLogs(id.to_string()),
            method: logs.method,
            path: logs.path,
            body: logs.body,
            framing: if tty {
                Framing::Raw
            } else {
                Framing::Multiplexed
            },
            // After a reconnect the tail would come again on top of what is shown; the pane
            // reopens on its own when the container restarts.
            reopen: false,
            auth_for: None,
            upload: None,
        }));
        self.state_at_open = cx
            .store
            .container(id)
            .map(|c| c.state.clone())
            .unwrap_or_default();
        self.streaming = Some(id.to_string());
    }

    /// Closes the stream (the pane closed, the tab changed or the selection moved).
    pub fn close(&mut self, cx: &mut Cx) {
        if let Some(id) = self.streaming.take() {
            if !self.ended {
                cx.effect(Effect::close(StreamKey::DetailLogs(id)));
            }
        }
        self.buffer = LogBuffer::with_limits(MAX_LINES, MAX_BYTES);
        self.ended = false;
        self.back = 0;
    }

    pub fn reopen_if_restarted(&mut self, id: &str, cx: &mut Cx) {
        let state = cx.store.container(id).map(|c| c.state.as_str());
        if self.ended
            && self.streaming.as_deref() == Some(id)
            && state == Some("running")
            && state != Some(self.state_at_open.as_str())
        {
            self.open(id, cx);
        }
    }

    pub fn on_stream(&mut self, id: &str, item: Option<&StreamItem>) {
        if self.streaming.as_deref() != Some(id) {
            return;
        }
        match item {
            Some(StreamItem::Text { line, stderr }) => {
                self.buffer.push_raw(0, line, *stderr);
                if self.back > 0 {
                    // Keep the same lines on screen while scrolled up.
                    self.back += 1;
                }
            }
            Some(StreamItem::Json(v)) => self.buffer.push_raw(0, &v.to_string(), false),
            None => self.ended = true,
        }
    }

    pub fn scroll_by(&mut self, delta: isize) {
        // Positive scrolls down, towards the newest line.
        let max = self.buffer.len().saturating_sub(self.height);
        self.back = self.back.saturating_add_signed(-delta).min(max);
    }

    /// "following", "ended" or how far up the view is.
    pub fn state_text(&self) -> String {
        if self.back > 0 {
            format!("{} lines up", self.back)
        } else if self.ended {
            "ended".into()
        } else {
            "following".into()
        }
    }

    pub fn draw(&mut self, f: &mut Frame, area: Rect, c: &Container, theme: &Theme) {
        self.height = area.height as usize;
        if self.buffer.is_empty() {
            let text = if self.ended {
                "no logs".to_string()
            } else if c.is_running() || c.is_paused() {
                "waiting for output…".to_string()
            } else {
                format!("{} is {}: no logs yet", c.name(), c.state)
            };
            f.render_widget(Paragraph::new(Line::styled(text, theme.muted())), area);
            return;
        }
        let len = self.buffer.len();
        self.back = self.back.min(len.saturating_sub(self.height));
        let end = len - self.back;
        let start = end.saturating_sub(self.height);
        let width = area.width as usize;
        let lines: Vec<Line> = self
            .buffer
            .lines()
            .range(start..end)
            .map(|l| {
                // Cut, not wrapped: one line per log line keeps the tail at the bottom.
                let text = ellipsize(&l.text.replace('\t', "    "), width);
                if l.stderr {
                    Line::styled(text, theme.fg(theme.warning))
                } else {
                    Line::raw(text)
                }
            })
            .collect();
        f.render_widget(Paragraph::new(lines), area);
    }
}
