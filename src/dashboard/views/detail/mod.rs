//! The containers view's detail pane: tabs about the selected container (logs, stats charts,
//! inspect JSON, env, ports, mounts, processes). The pane follows the table's selection: j/k
//! keep moving in the table, the pane's keys (tabs, scrolling, search) are the view's own.
//! Only the Logs tab holds a stream and only the Top tab polls, and only while they are shown,
//! so an open pane costs one request per container viewed.

mod env;
mod inspect;
mod logs;
mod mounts;
mod ports;
mod stats;
mod top;

use crossterm::event::{MouseButton, MouseEvent, MouseEventKind};
use ratatui::layout::{Constraint, Flex, Layout, Position, Rect};
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Paragraph, Row, Table};
use ratatui::Frame;
use serde_json::Value;

use super::{Cx, DrawCx};
use crate::dashboard::msg::{Purpose, StreamItem, StreamKey};
use crate::dashboard::store::model::Container;
use crate::dashboard::theme::Theme;
use crate::dashboard::widgets::ellipsize;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tab {
    Logs,
    Stats,
    Inspect,
    Env,
    Ports,
    Mounts,
    Top,
}

impl Tab {
    pub const ALL: [Tab; 7] = [
        Tab::Logs,
        Tab::Stats,
        Tab::Inspect,
        Tab::Env,
        Tab::Ports,
        Tab::Mounts,
        Tab::Top,
    ];

    pub fn title(self) -> &'static str {
        match self {
            Tab::Logs => "Logs",
            Tab::Stats => "Stats",
            Tab::Inspect => "Inspect",
            Tab::Env => "Env",
            Tab::Ports => "Ports",
            Tab::Mounts => "Mounts",
            Tab::Top => "Top",
        }
    }

    fn index(self) -> usize {
        Tab::ALL.iter().position(|&t| t == self).unwrap_or(0)
    }
}

/// The pane's state. It lives as long as the view (the tab chosen survives closing the pane).
pub struct Detail {
    pub tab: Tab,
    /// The container shown: the selection, or the last container selected while the cursor
    /// is on a compose group row.
    pub id: Option<String>,
    logs: logs::LogsPane,
    inspect: inspect::InspectPane,
    top: top::TopPane,
    /// First row shown in the Env, Ports and Mounts tables.
    scroll: usize,
    /// Rows the body had at the last draw (page size for scrolling).
    body_rows: usize,
    /// Seconds since the pane opened (the Top tab refreshes every `TOP_EVERY`).
    ticks: u64,
    /// Where the pane and each tab title landed, for the mouse.
    area: Rect,
    tab_ranges: Vec<(u16, u16, Tab)>,
}

impl Default for Detail {
    fn default() -> Self {
        Detail {
            tab: Tab::Logs,
            id: None,
            logs: logs::LogsPane::default(),
            inspect: inspect::InspectPane::default(),
            top: top::TopPane::default(),
            scroll: 0,
            body_rows: 10,
            ticks: 0,
            area: Rect::default(),
            tab_ranges: Vec::new(),
        }
    }
}

/// Seconds between two `GET /containers/{id}/top` while the Top tab is shown.
pub const TOP_EVERY: u64 = 2;

impl Detail {
    /// Shows `id` (the pane was just opened on it).
    pub fn open(&mut self, id: &str, cx: &mut Cx) {
        self.id = Some(id.to_string());
        self.scroll = 0;
        self.ticks = 0;
        self.start(cx);
    }

    /// Stops everything the pane asked for (it is closing).
    pub fn close(&mut self, cx: &mut Cx) {
        self.stop(cx);
    }

    /// Moves the pane to another container (the selection moved).
    pub fn follow(&mut self, id: &str, cx: &mut Cx) {
        if self.id.as_deref() == Some(id) {
            return;
        }
        self.stop(cx);
        self.inspect.reset();
        self.open(id, cx);
    }

    pub fn set_tab(&mut self, tab: Tab, cx: &mut Cx) {
        if tab == self.tab {
            return;
        }
        self.stop(cx);
        self.tab = tab;
        self.scroll = 0;
        self.start(cx);
    }

    pub fn next_tab(&mut self, forward: bool, cx: &mut Cx) {
        let n = Tab::ALL.len();
        let i = self.tab.index();
        let next = if forward {
            (i + 1) % n
        } else {
            (i + n - 1) % n
        };
        self.set_tab(Tab::ALL[next], cx);
    }

    /// What the current tab needs from the engine when it becomes visible.
    fn start(&mut self, cx: &mut Cx) {
        let Some(id) = self.id.clone() else { return };
        match self.tab {
            Tab::Logs => self.logs.open(&id, cx),
            Tab::Top => self.top.request(&id, cx),
            _ => {}
        }
    }

    fn stop(&mut self, cx: &mut Cx) {
        self.logs.close(cx);
        self.top.reset();
    }

    /// The one-second clock while the containers view is on screen.
    pub fn on_tick(&mut self, cx: &mut Cx) {
        self.ticks += 1;
        let Some(id) = self.id.clone() else { return };
        match self.tab {
            Tab::Top if self.ticks.is_multiple_of(TOP_EVERY) => self.top.request(&id, cx),
            // A stopped container's stream ends; follow it again once it runs.
            Tab::Logs => self.logs.reopen_if_restarted(&id, cx),
            _ => {}
        }
    }

    pub fn on_stream(&mut self, key: &StreamKey, item: Option<&StreamItem>) -> bool {
        match key {
            StreamKey::DetailLogs(id) => {
                self.logs.on_stream(id, item);
                true
            }
            _ => false,
        }
    }

    pub fn on_answer(&mut self, purpose: &Purpose, result: &Result<Option<Value>, String>) -> bool {
        match purpose {
            Purpose::Top { id } => {
                self.top.on_answer(id, result);
                true
            }
            _ => false,
        }
    }

    /// Scrolls the current tab by `delta` rows (negative: up).
    pub fn scroll_by(&mut self, delta: isize) {
        match self.tab {
            Tab::Logs => self.logs.scroll_by(delta),
            Tab::Inspect => self.inspect.pane.scroll_by(delta),
            Tab::Top => self.top.scroll = self.top.scroll.saturating_add_signed(delta),
            Tab::Stats => {}
            Tab::Env | Tab::Ports | Tab::Mounts => {
                self.scroll = self.scroll.saturating_add_signed(delta)
            }
        }
    }

    /// Half the body's height: what ctrl-d / ctrl-u move.
    pub fn half_page(&self) -> isize {
        (self.body_rows / 2).max(1) as isize
    }

    /// The Inspect tab's search (typed on the `/` line while that tab is shown).
    pub fn searching(&self) -> bool {
        self.tab == Tab::Inspect
    }

    pub fn search(&self) -> &str {
        &self.inspect.search
    }

    pub fn set_search(&mut self, text: &str) {
        self.inspect.set_search(text);
    }

    pub fn jump(&mut self, forward: bool) {
        self.inspect.pane.jump(forward);
    }

    pub fn contains(&self, ev: &MouseEvent) -> bool {
        self.area.contains(Position {
            x: ev.column,
            y: ev.row,
        })
    }

    /// Clicks on tab titles switch tabs; the wheel scrolls.
    pub fn on_mouse(&mut self, ev: &MouseEvent, cx: &mut Cx) {
        match ev.kind {
            MouseEventKind::ScrollDown => self.scroll_by(3),
            MouseEventKind::ScrollUp => self.scroll_by(-3),
            MouseEventKind::Down(MouseButton::Left) if ev.row == self.area.y => {
                let hit = self
                    .tab_ranges
                    .iter()
                    .find(|(a, b, _)| ev.column >= *a && ev.column < *b)
                    .map(|&(_, _, t)| t);
                if let Some(t) = hit {
                    self.set_tab(t, cx);
                }
            }
            _ => {}
        }
    }

    pub fn draw(&mut self, f: &mut Frame, area: Rect, cx: &DrawCx) {
        self.area = area;
        self.tab_ranges.clear();
        if area.height == 0 || area.width == 0 {
            return;
        }
        let theme = &cx.config.theme;
        let store = cx.store;
        let container = self.id.as_deref().and_then(|id| store.container(id));
        let detail = self.id.as_deref().and_then(|id| store.details.get(id));
        let [bar, body] = Layout::vertical([Constraint::Length(1), Constraint::Min(0)]).areas(area);
        self.draw_bar(f, bar, container, detail, theme);
        self.body_rows = body.height as usize;
        if body.height == 0 {
            return;
        }
        let Some(c) = container else {
            let text = if self.id.is_some() {
                "the container is gone"
            } else {
                "select a container"
            };
            f.render_widget(Paragraph::new(Line::styled(text, theme.muted())), body);
            return;
        };
        // Inset by one column so the text does not touch the terminal's edge.
        let body = Rect {
            x: body.x + 1,
            width: body.width.saturating_sub(2),
            ..body
        };
        match self.tab {
            Tab::Logs => self.logs.draw(f, body, c, theme),
            Tab::Stats => stats::draw(f, body, c, store, theme),
            Tab::Inspect => self.inspect.draw(f, body, detail, theme),
            Tab::Env => {
                let rows = env::rows(detail);
                self.scroll = draw_table(
                    f,
                    body,
                    &["NAME", "VALUE"],
                    &rows,
                    self.scroll,
                    theme,
                    env::empty(detail),
                );
            }
            Tab::Ports => {
                let rows = ports::rows(detail, c);
                self.scroll = draw_table(
                    f,
                    body,
                    &["CONTAINER PORT", "PROTOCOL", "HOST"],
                    &rows,
                    self.scroll,
                    theme,
                    ports::empty(detail),
                );
            }
            Tab::Mounts => {
                let rows = mounts::rows(detail, c);
                self.scroll = draw_table(
                    f,
                    body,
                    &["TYPE", "SOURCE", "DESTINATION", "MODE"],
                    &rows,
                    self.scroll,
                    theme,
                    mounts::empty(detail),
                );
            }
            Tab::Top => self.top.draw(f, body, c, theme),
        }
    }

    /// The tab titles on the pane's top rule, the container's name and state on its right.
    fn draw_bar(
        &mut self,
        f: &mut Frame,
        area: Rect,
        container: Option<&Container>,
        detail: Option<&Value>,
        theme: &Theme,
    ) {
        f.render_widget(
            Block::default()
                .borders(Borders::TOP)
                .border_style(theme.border()),
            area,
        );
        let mut spans = Vec::new();
        let mut x = area.x + 1;
        for tab in Tab::ALL {
            let count = match tab {
                Tab::Env => Some(env::rows(detail).len()),
                Tab::Ports => container.map(|c| ports::rows(detail, c).len()),
                Tab::Mounts => container.map(|c| mounts::rows(detail, c).len()),
                _ => None,
            };
            let name = match count {
                Some(n) if n > 0 => format!("{} {n}", tab.title()),
                _ => tab.title().to_string(),
            };
            // Brackets mark the active tab where colours do not show (mono, screen readers).
            let text = if tab == self.tab {
                format!("[{name}]")
            } else {
                format!(" {name} ")
            };
            let w = text.chars().count() as u16;
            if x + w > area.right() {
                break;
            }
            let style = if tab == self.tab {
                theme.selected().fg(theme.accent)
            } else {
                theme.muted()
            };
            self.tab_ranges.push((x, x + w, tab));
            spans.push(Span::styled(text, style));
            spans.push(Span::styled("─", theme.border()));
            x += w + 1;
        }
        let tabs_w = x - area.x - 1;
        f.render_widget(
            Paragraph::new(Line::from(spans)),
            Rect {
                x: area.x + 1,
                width: tabs_w.min(area.width.saturating_sub(1)),
                ..area
            },
        );
        let Some(c) = container else { return };
        let room = area.right().saturating_sub(x + 1) as usize;
        // When narrow the state goes first (the table shows it), then what the logs do.
        let logs = (self.tab == Tab::Logs).then(|| self.logs.state_text());
        let candidates = [
            logs.as_ref().map(|l| format!(" {} · {} ", c.name(), l)),
            Some(format!(" {} · {} ", c.name(), c.state)),
            Some(format!(" {} ", c.name())),
        ];
        let mut label = match &logs {
            Some(l) => format!(" {} · {} · {l} ", c.name(), c.state),
            None => format!(" {} · {} ", c.name(), c.state),
        };
        for cand in candidates.into_iter().flatten() {
            if label.chars().count() <= room {
                break;
            }
            label = cand;
        }
        if room < 8 {
            return;
        }
        let label = ellipsize(&label, room);
        let w = label.chars().count() as u16;
        f.render_widget(
            Paragraph::new(Line::from(vec![
                Span::styled(label, theme.state(&c.state).add_modifier(Modifier::BOLD)),
                Span::styled("─", theme.border()),
            ])),
            Rect {
                x: area.right().saturating_sub(w + 1),
                width: w + 1,
                ..area
            },
        );
    }
}

/// A plain table of strings with a header, scrolled to `scroll` (clamped; the clamped value is
/// returned). Columns get their content's width, the last one the rest.
pub fn draw_table(
    f: &mut Frame,
    area: Rect,
    header: &[&str],
    rows: &[Vec<String>],
    scroll: usize,
    theme: &Theme,
    empty: &str,
) -> usize {
    if rows.is_empty() {
        f.render_widget(Paragraph::new(Line::styled(empty, theme.muted())), area);
        return 0;
    }
    let visible = (area.height as usize).saturating_sub(1);
    let scroll = scroll.min(rows.len().saturating_sub(visible));
    let n = header.len();
    // Every column but the last is as wide as its widest cell, within a share of the width.
    let cap = (area.width as usize / n.max(1)).max(8);
    let mut widths: Vec<Constraint> = (0..n.saturating_sub(1))
        .map(|i| {
            let w = rows
                .iter()
                .map(|r| r.get(i).map_or(0, |s| s.chars().count()))
                .chain([header[i].len()])
                .max()
                .unwrap_or(0);
            Constraint::Length(w.min(cap) as u16)
        })
        .collect();
    widths.push(Constraint::Fill(1));
    let header = Row::new(header.iter().map(|h| Cell::from(*h)))
        .style(theme.title().add_modifier(Modifier::UNDERLINED));
    let body: Vec<Row> = rows
        .iter()
        .skip(scroll)
        .take(visible)
        .map(|r| Row::new(r.iter().map(|s| Cell::from(s.as_str()))))
        .collect();
    f.render_widget(
        Table::new(body, widths)
            .header(header)
            .column_spacing(2)
            .flex(Flex::Start),
        area,
    );
    if rows.len() > visible && area.height > 1 {
        let more = format!(
            " {}-{} of {} ",
            scroll + 1,
            (scroll + visible).min(rows.len()),
            rows.len()
        );
        let w = more.len() as u16;
        if w < area.width {
            f.render_widget(
                Paragraph::new(Line::styled(more, theme.muted())),
                Rect {
                    x: area.right() - w,
                    y: area.y,
                    width: w,
                    height: 1,
                },
            );
        }
    }
    scroll
}
