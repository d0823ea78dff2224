//! The logs view: one container's logs or a merged stream of several (a compose project, the
//! marked rows), each line prefixed with its container in a stable colour. Lines live in a
//! bounded ring; following keeps the newest line at the bottom.
//!
//! Positions are the buffer's sequence numbers (not indexes), so a scrolled view stays on the
//! same line while new lines arrive and old ones are dropped from the front. The search is
//! smart-case (case-insensitive unless it has a capital letter), plain text or a regex; the
//! lines matching it are kept in a sorted list as they arrive, so counting and `n`/`N` never
//! rescan the buffer.
//!
//! The view is split by job: `streams` opens and closes the logs streams, `since` holds the
//! presets they start from, `matcher` the search and the matching lines, `scroll` which lines
//! are shown and moving through them, `render` the layout of one line, `header` the header
//! line and the empty body's text, `save` the save prompt. This file holds the state and the
//! `View` glue (drawing the body, keys, mouse, stream items).

mod header;
mod matcher;
mod render;
mod save;
mod scroll;
mod since;
mod streams;

use std::collections::VecDeque;
use std::time::Instant;

use chrono::{DateTime, Utc};
use crossterm::event::{MouseEvent, MouseEventKind};
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::Paragraph;
use ratatui::Frame;

use super::{Cx, DrawCx, LogTarget, View, ViewId};
use crate::dashboard::keymap::Action;
use crate::dashboard::msg::{StreamItem, StreamKey};
use crate::dashboard::store::logs::LogBuffer;
use crate::dashboard::store::Store;
use matcher::Matcher;
use render::columns;
pub use since::Since;

/// Lines asked for when a stream opens without a `since`.
pub const TAIL: usize = 1000;

/// Timestamps and file names use the local zone; the tests use UTC so that snapshots do not
/// depend on the machine's zone.
#[cfg(not(test))]
const ZONE: chrono::Local = chrono::Local;
#[cfg(test)]
const ZONE: chrono::Utc = chrono::Utc;

/// Lines a mouse wheel notch scrolls.
const WHEEL: usize = 3;

#[derive(Debug, Clone)]
struct Source {
    id: String,
    name: String,
    tty: bool,
    /// `None` while streaming; `Some(None)` when it ended (the container stopped);
    /// `Some(Some(message))` when it failed.
    ended: Option<Option<String>>,
}

#[derive(Default)]
pub struct LogsView {
    pub target: Option<LogTarget>,
    pub buffer: LogBuffer,
    sources: Vec<Source>,
    /// Bumped on every (re)open; stream keys carry it (see `StreamKey::Logs`).
    generation: u64,
    pub follow: bool,
    /// First line shown (sequence number) when not following.
    top: u64,
    /// (first, last) lines on screen at the last draw.
    visible: Option<(u64, u64)>,
    search: String,
    regex: bool,
    matcher: Matcher,
    /// Sequence numbers of the lines matching the search, ascending.
    matches: VecDeque<u64>,
    /// The match `n`/`N` went to.
    current: Option<u64>,
    only_matching: bool,
    timestamps: bool,
    wrap: bool,
    /// Columns of the text cut on the left when not wrapping.
    hscroll: usize,
    /// The widest text on screen at the last draw (bounds `hscroll`).
    widest: usize,
    since: Since,
    height: usize,
    width: usize,
    /// The clock at the last draw and when that was: "now" for `since` and file names, which
    /// follows the fixed clock in tests and the real one otherwise.
    clock: Option<(DateTime<Utc>, Instant)>,
}

impl LogsView {
    fn now(&self) -> DateTime<Utc> {
        match self.clock {
            Some((at, when)) => at + chrono::Duration::from_std(when.elapsed()).unwrap_or_default(),
            None => Utc::now(),
        }
    }

    fn merged(&self) -> bool {
        self.sources.len() > 1
    }
}

impl View for LogsView {
    fn id(&self) -> ViewId {
        ViewId::Logs
    }

    fn on_tick(&mut self, cx: &mut Cx) {
        self.resume_ended(cx);
    }

    fn tab_title(&self, _store: &Store) -> String {
        match &self.target {
            Some(t) => format!("Logs: {}", t.title),
            None => "Logs".into(),
        }
    }

    fn draw(&mut self, f: &mut Frame, area: Rect, cx: &DrawCx) {
        self.clock = Some((cx.now, Instant::now()));
        let theme = &cx.config.theme;
        if area.height == 0 || area.width == 0 {
            return;
        }
        if self.target.is_none() {
            f.render_widget(
                Paragraph::new(Line::styled("no container selected", theme.muted())),
                area,
            );
            return;
        }
        let header = Rect { height: 1, ..area };
        let body = Rect {
            y: area.y + 1,
            height: area.height - 1,
            ..area
        };
        self.width = body.width as usize;
        self.height = body.height as usize;
        self.draw_header(f, header, cx);
        if body.height == 0 {
            return;
        }

        let mut rows: Vec<Line<'static>> = Vec::new();
        let mut first = None;
        let mut last = None;
        if self.follow {
            // From the newest line back until the screen is full; the oldest line shown may be
            // cut at the top.
            let mut per_line = Vec::new();
            let mut count = 0;
            for seq in self.shown_before(u64::MAX) {
                let Some(line) = self.buffer.get(seq) else {
                    break;
                };
                let r = self.rows_of(seq, line, theme);
                count += r.len();
                per_line.push(r);
                first = Some(seq);
                last = last.or(Some(seq));
                if count >= self.height {
                    break;
                }
            }
            rows = per_line.into_iter().rev().flatten().collect();
            let extra = rows.len().saturating_sub(self.height);
            rows.drain(..extra);
        } else {
            let oldest = self.first_shown().unwrap_or(0);
            let bottom = self.bottom_top(theme).unwrap_or(0);
            self.top = self.top.clamp(oldest, bottom.max(oldest));
            for seq in self.shown_from(self.top) {
                let Some(line) = self.buffer.get(seq) else {
                    break;
                };
                rows.extend(self.rows_of(seq, line, theme));
                first = first.or(Some(seq));
                last = Some(seq);
                if rows.len() >= self.height {
                    break;
                }
            }
            rows.truncate(self.height);
        }
        self.visible = first.zip(last);
        // The widest text on screen bounds the sideways scroll (no scrolling into emptiness).
        if !self.wrap {
            let text_w = self
                .width
                .saturating_sub(self.prefix_width() + 3 * usize::from(self.merged()))
                .saturating_sub(13 * usize::from(self.timestamps));
            self.widest = match self.visible {
                Some((a, b)) => self
                    .buffer
                    .iter_from(a)
                    .take_while(|(s, _)| *s <= b)
                    .map(|(_, l)| columns(&l.text))
                    .max()
                    .unwrap_or(0)
                    .saturating_sub(text_w),
                None => 0,
            };
            if self.hscroll > self.widest {
                self.hscroll = self.widest;
                // Redrawn next frame with the bounded scroll; this one is at most one step off.
            }
        }
        if rows.is_empty() {
            let (text, error) = self.empty_text();
            let style = if error { theme.error() } else { theme.muted() };
            f.render_widget(Paragraph::new(Line::styled(text, style)), body);
        } else {
            f.render_widget(Paragraph::new(rows), body);
        }
    }

    fn commands(&self, _store: &Store) -> Vec<Action> {
        let mut c = vec![Action::Follow, Action::Filter];
        if !matches!(self.matcher, Matcher::None) {
            c.extend([Action::NextMatch, Action::PrevMatch, Action::OnlyMatching]);
        }
        c.extend([
            Action::Timestamps,
            Action::Wrap,
            Action::Since,
            Action::SaveLogs,
            Action::Regex,
            Action::Back,
        ]);
        c
    }

    fn on_action(&mut self, action: Action, cx: &mut Cx) -> bool {
        let theme = &cx.config.theme;
        let page = self.height.saturating_sub(1).max(1);
        match action {
            Action::Follow => {
                if self.follow {
                    self.unfollow(theme);
                } else {
                    self.follow = true;
                }
            }
            Action::Up => self.scroll_up(1, theme),
            Action::PageUp => self.scroll_up(page, theme),
            Action::Down => self.scroll_down(1, theme),
            Action::PageDown => self.scroll_down(page, theme),
            Action::Top => {
                self.follow = false;
                self.top = self.first_shown().unwrap_or(0);
            }
            Action::Bottom => self.follow = true,
            Action::NextMatch => self.jump(true, cx),
            Action::PrevMatch => self.jump(false, cx),
            Action::OnlyMatching => self.only_matching = !self.only_matching,
            Action::Regex => {
                self.regex = !self.regex;
                self.rematch();
            }
            Action::Timestamps => self.timestamps = !self.timestamps,
            Action::Wrap => {
                self.wrap = !self.wrap;
                self.hscroll = 0;
            }
            Action::NextTab | Action::PrevTab if !self.wrap => {
                let step = (self.width / 2).max(4);
                self.hscroll = if action == Action::NextTab {
                    (self.hscroll + step).min(self.widest)
                } else {
                    self.hscroll.saturating_sub(step)
                };
            }
            Action::Since => self.cycle_since(cx),
            Action::SaveLogs => self.save(cx),
            // Esc clears the search first, then leaves the view (the app's meaning).
            Action::Back if !self.search.is_empty() => self.set_search(""),
            _ => return false,
        }
        true
    }

    fn on_mouse(&mut self, ev: MouseEvent, cx: &mut Cx) -> bool {
        let theme = &cx.config.theme;
        match ev.kind {
            MouseEventKind::ScrollUp => self.scroll_up(WHEEL, theme),
            MouseEventKind::ScrollDown => self.scroll_down(WHEEL, theme),
            _ => return false,
        }
        true
    }

    fn set_filter(&mut self, text: &str, _store: &Store) {
        self.set_search(text);
    }

    fn filter(&self) -> &str {
        &self.search
    }

    fn on_stream(&mut self, key: &StreamKey, item: Option<&StreamItem>, _cx: &mut Cx) {
        let Some(source) = self.source_of(key) else {
            return;
        };
        if let Some(StreamItem::Text { line, stderr }) = item {
            self.push_line(source, line, *stderr);
        }
    }
}
