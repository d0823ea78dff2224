//! One build, opened from the builds table: a summary (tags, status, steps, duration, where it
//! was built from, why it failed), its steps (number, instruction, cached / ran / failed, time,
//! layer size) with the failing one in the error colour, and the selected step's full log
//! below, following its end unless scrolled back. The list's summaries carry no logs, so the
//! detail asks for the whole record (`GET /berth/v1/builds/{id}`), and again every two
//! seconds while the build runs.

use berth_engine::model::build::{BuildRecord, BuildStatus, StepStatus};
use crossterm::event::{MouseButton, MouseEvent, MouseEventKind};
use ratatui::layout::{Constraint, Rect};
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Paragraph, Row};
use ratatui::Frame;
use unicode_width::UnicodeWidthChar;

use super::build_name;
use super::cells::{duration, duration_span, status_span, step_status_span, steps_summary};
use crate::client::api::builds;
use crate::dashboard::keymap::Action;
use crate::dashboard::msg::{Effect, Purpose};
use crate::dashboard::store::tasks::strip_ansi;
use crate::dashboard::store::Store;
use crate::dashboard::views::{Cx, DrawCx};
use crate::dashboard::widgets::cursor::Cursor;
use crate::dashboard::widgets::table::{self, col, Geometry};
use crate::dashboard::widgets::{bytes, ellipsize};
use crate::format::units::ago;

/// Ticks (seconds) between re-reads of a running build.
const REFRESH_TICKS: u32 = 2;

pub struct BuildDetail {
    /// The list's summary until the full record arrives, then the full record.
    record: BuildRecord,
    /// Whether `record` is the full one (with logs).
    loaded: bool,
    error: Option<String>,
    /// A read is under way: no second one is sent meanwhile.
    fetching: bool,
    ticks: u32,
    /// Over the steps.
    cursor: Cursor,
    /// The user picked a step: a re-read no longer moves the selection to the newest step.
    picked: bool,
    /// Lines scrolled back from the end of the log (0: the end is in view).
    log_back: usize,
    /// Where the steps and the log were drawn, for the mouse and page sizes.
    steps_geometry: Geometry,
    log_area: Rect,
}

/// The step to show first: the one that failed, else the one running, else the last.
fn default_step(r: &BuildRecord) -> usize {
    let find = |s: StepStatus| r.steps.iter().position(|st| st.status == s);
    find(StepStatus::Failed)
        .or_else(|| find(StepStatus::Running))
        .unwrap_or(r.steps.len().saturating_sub(1))
}

impl BuildDetail {
    pub fn new(summary: BuildRecord) -> Self {
        let mut cursor = Cursor::default();
        cursor.set_len(summary.steps.len());
        cursor.select(default_step(&summary));
        BuildDetail {
            record: summary,
            loaded: false,
            error: None,
            fetching: false,
            ticks: 0,
            cursor,
            picked: false,
            log_back: 0,
            steps_geometry: Geometry::default(),
            log_area: Rect::default(),
        }
    }

    pub fn record(&self) -> &BuildRecord {
        &self.record
    }

    /// Asks for the whole record.
    pub fn fetch(&mut self, cx: &mut Cx) {
        let id = self.record.id.clone();
        cx.effect(Effect::api(builds::get(&id), Purpose::BuildDetail { id }));
        self.fetching = true;
    }

    pub fn on_answer(&mut self, result: &Result<Option<serde_json::Value>, String>) {
        self.fetching = false;
        let record = match result {
            Ok(Some(v)) => serde_json::from_value::<BuildRecord>(v.clone())
                .map_err(|e| format!("the engine's build record: {e}")),
            Ok(None) => Err("the engine sent no build record".to_string()),
            Err(e) => Err(e.clone()),
        };
        match record {
            Ok(r) => {
                let selected = self
                    .record
                    .steps
                    .get(self.cursor.selected)
                    .map(|s| s.number);
                self.record = r;
                self.loaded = true;
                self.error = None;
                self.cursor.set_len(self.record.steps.len());
                let at = match selected {
                    Some(n) if self.picked => self.record.steps.iter().position(|s| s.number == n),
                    _ => None,
                };
                self.cursor
                    .select(at.unwrap_or_else(|| default_step(&self.record)));
            }
            Err(e) => self.error = Some(e),
        }
    }

    /// The list changed: a build that finished since the last read is read once more.
    pub fn on_store(&mut self, store: &Store) {
        if let Some(s) = store.build(&self.record.id) {
            if s.status != self.record.status {
                self.ticks = REFRESH_TICKS - 1;
            }
        }
    }

    pub fn on_tick(&mut self, cx: &mut Cx) {
        let listed = cx.store.build(&self.record.id).map(|b| b.status);
        let stale = self.record.status == BuildStatus::Running
            || listed.is_some_and(|s| s != self.record.status);
        if !stale || self.fetching {
            return;
        }
        self.ticks += 1;
        if self.ticks >= REFRESH_TICKS {
            self.ticks = 0;
            self.fetch(cx);
        }
    }

    pub fn on_action(&mut self, action: Action, cx: &mut Cx) -> bool {
        let page = usize::from(self.steps_geometry.area.height.saturating_sub(1)).max(1);
        let log_page = usize::from(self.log_area.height.saturating_sub(2)).max(1);
        match action {
            Action::Up => self.cursor.up(1),
            Action::Down => self.cursor.down(1),
            Action::Top => self.cursor.top(),
            Action::Bottom => self.cursor.bottom(),
            Action::PageUp => self.cursor.up(page),
            Action::PageDown => self.cursor.down(page),
            Action::BuildLogUp => {
                self.log_back += log_page.div_ceil(2);
                return true;
            }
            Action::BuildLogDown => {
                self.log_back = self.log_back.saturating_sub(log_page.div_ceil(2));
                return true;
            }
            Action::Open => {
                // Enter again reads the record again (a log that was cut off mid-step).
                if !self.fetching {
                    self.fetch(cx);
                }
                return true;
            }
            _ => return false,
        }
        self.picked = true;
        self.log_back = 0;
        true
    }

    pub fn on_mouse(&mut self, ev: MouseEvent) -> bool {
        let in_log = self
            .log_area
            .contains(ratatui::layout::Position::new(ev.column, ev.row));
        match ev.kind {
            MouseEventKind::ScrollUp if in_log => self.log_back += 3,
            MouseEventKind::ScrollDown if in_log => self.log_back = self.log_back.saturating_sub(3),
            MouseEventKind::ScrollUp => self.cursor.up(1),
            MouseEventKind::ScrollDown => self.cursor.down(1),
            MouseEventKind::Down(MouseButton::Left)
                if self.steps_geometry.contains(ev.column, ev.row) =>
            {
                match self.cursor.row_at(self.steps_geometry.first_row_y, ev.row) {
                    Some(r) => {
                        self.cursor.select(r);
                        self.picked = true;
                        self.log_back = 0;
                    }
                    None => return false,
                }
            }
            _ => return false,
        }
        true
    }

    pub fn draw(&mut self, f: &mut Frame, area: Rect, cx: &DrawCx) {
        if area.height == 0 || area.width == 0 {
            return;
        }
        let head = self.header_lines(area.width as usize, cx);
        let head_h = (head.len() as u16).min(area.height);
        f.render_widget(
            Paragraph::new(head),
            Rect {
                height: head_h,
                ..area
            },
        );
        let rest = Rect {
            y: area.y + head_h,
            height: area.height - head_h,
            ..area
        };
        if rest.height == 0 {
            return;
        }
        // The steps take what they need, up to half of what is left; the log the rest.
        let want = self.record.steps.len() as u16 + 1;
        let steps_h = want.min((rest.height / 2).max(3)).min(rest.height);
        let steps_area = Rect {
            height: steps_h,
            ..rest
        };
        self.draw_steps(f, steps_area, cx);
        self.log_area = Rect {
            y: rest.y + steps_h,
            height: rest.height - steps_h,
            ..rest
        };
        if self.log_area.height > 0 {
            self.draw_log(f, self.log_area, cx);
        }
    }

    /// The title line (name, status, steps, duration, when), where it was built from, and
    /// the error of a failed build or of the last read.
    fn header_lines(&self, width: usize, cx: &DrawCx) -> Vec<Line<'static>> {
        let theme = &cx.config.theme;
        let r = &self.record;
        let started = chrono::DateTime::parse_from_rfc3339(&r.started)
            .map(|t| ago(t.timestamp(), cx.now))
            .unwrap_or_default();
        let mut first = vec![
            Span::styled(ellipsize(&build_name(r), width / 2), theme.title()),
            Span::raw("  "),
            status_span(r.status, theme),
            Span::raw(format!("  steps {}  ", steps_summary(&r.steps))),
            duration_span(r, cx.now, theme),
        ];
        if !started.is_empty() {
            first.push(Span::styled(format!("  started {started}"), theme.muted()));
        }
        let mut from = vec![format!(
            "from {}",
            r.context_dir
                .as_deref()
                .unwrap_or("(directory not recorded)")
        )];
        if !r.dockerfile.is_empty() && r.dockerfile != "Dockerfile" {
            from.push(format!("-f {}", r.dockerfile));
        }
        if let Some(t) = r.target.as_deref().filter(|t| !t.is_empty()) {
            from.push(format!("--target {t}"));
        }
        for (k, v) in &r.build_args {
            from.push(format!("--build-arg {k}={v}"));
        }
        if let Some(id) = &r.image_id {
            from.push(format!("→ {}", super::short_image(id)));
        }
        let mut lines = vec![
            Line::from(first),
            Line::styled(ellipsize(&from.join(" "), width), theme.muted()),
        ];
        if let Some(e) = self.error.as_ref().or(r.error.as_ref()) {
            lines.push(Line::styled(ellipsize(e, width), theme.error()));
        }
        lines
    }

    fn draw_steps(&mut self, f: &mut Frame, area: Rect, cx: &DrawCx) {
        let theme = &cx.config.theme;
        let r = &self.record;
        let stages = r
            .steps
            .iter()
            .map(|s| s.stage.as_str())
            .collect::<std::collections::BTreeSet<_>>()
            .len();
        let mut columns = vec![col("#", Constraint::Length(3))];
        if stages > 1 {
            columns.push(col("STAGE", Constraint::Length(10)));
        }
        columns.extend([
            col("INSTRUCTION", Constraint::Fill(1)),
            col("STATE", Constraint::Length(7)),
            col("TIME", Constraint::Length(7)),
            col("SIZE", Constraint::Length(8)),
        ]);
        let empty = if self.loaded {
            "this build has no steps (it stopped before its Dockerfile was read)"
        } else {
            "loading…"
        };
        let mut cursor = self.cursor;
        self.steps_geometry = table::draw(
            f,
            area,
            &columns,
            &mut cursor,
            None,
            theme,
            empty,
            |i, _| {
                let s = &r.steps[i];
                // The failing step stands out in the error colour, selected or not.
                let failed = s.status == StepStatus::Failed;
                let style = if failed {
                    theme.error().add_modifier(Modifier::BOLD)
                } else {
                    ratatui::style::Style::default()
                };
                let mut cells = vec![Cell::from(Span::styled(s.number.to_string(), style))];
                if stages > 1 {
                    cells.push(Cell::from(Span::styled(s.stage.clone(), theme.muted())));
                }
                cells.extend([
                    Cell::from(Span::styled(s.instruction.clone(), style)),
                    Cell::from(step_status_span(s.status, theme)),
                    Cell::from(match s.duration_ms {
                        Some(ms) => Span::styled(duration(ms), style),
                        None => Span::styled("-", theme.muted()),
                    }),
                    Cell::from(match s.layer_size {
                        Some(n) => Span::styled(bytes(n as f64), style),
                        None => Span::styled("-", theme.muted()),
                    }),
                ]);
                Row::new(cells)
            },
        );
        self.cursor = cursor;
    }

    fn draw_log(&mut self, f: &mut Frame, area: Rect, cx: &DrawCx) {
        let theme = &cx.config.theme;
        let step = self.record.steps.get(self.cursor.selected);
        let total = self.record.steps.len();
        let title = match step {
            Some(s) => format!(" step {}/{total} log ", s.number),
            None => " log ".to_string(),
        };
        let block = Block::default()
            .borders(Borders::TOP)
            .border_style(theme.border())
            .title(Span::styled(title, theme.title()));
        let inner = block.inner(area);
        f.render_widget(block, area);
        let (w, h) = (inner.width as usize, inner.height as usize);
        if w == 0 || h == 0 {
            return;
        }
        let Some(step) = step else {
            return;
        };
        let log = strip_ansi(&step.log);
        // What it printed as it printed it; for the failed step, why it failed below, in the
        // error colour (a COPY that found nothing printed nothing).
        let mut lines: Vec<(String, bool)> = log
            .lines()
            .flat_map(|l| hard_wrap(l, w))
            .map(|l| (l, false))
            .collect();
        if step.status == StepStatus::Failed {
            if let Some(e) = &self.record.error {
                lines.extend(e.lines().flat_map(|l| hard_wrap(l, w)).map(|l| (l, true)));
            }
        }
        if lines.is_empty() {
            let why = if !self.loaded {
                "loading…"
            } else {
                match step.status {
                    StepStatus::Cached => "from the cache: this step did not run in this build",
                    StepStatus::Pending => "not run yet",
                    StepStatus::Running => "running, nothing printed yet",
                    _ => "this step printed nothing",
                }
            };
            f.render_widget(Paragraph::new(Span::styled(why, theme.muted())), inner);
            return;
        }
        // Scrolling back stops at the first line.
        self.log_back = self.log_back.min(lines.len().saturating_sub(h));
        let end = lines.len() - self.log_back;
        let start = end.saturating_sub(h);
        let shown: Vec<Line> = lines[start..end]
            .iter()
            .map(|(l, error)| {
                if *error {
                    Line::styled(l.clone(), theme.error())
                } else {
                    Line::raw(l.clone())
                }
            })
            .collect();
        f.render_widget(Paragraph::new(shown), inner);
        if self.log_back > 0 && inner.width > 12 {
            // Says there is more below, at the log's top right.
            let more = format!(" ↓ {} more ", self.log_back);
            let mw = more.chars().count() as u16;
            f.render_widget(
                Paragraph::new(Span::styled(more, theme.highlight())),
                Rect {
                    x: area.right().saturating_sub(mw + 1),
                    y: area.y,
                    width: mw.min(area.width),
                    height: 1,
                },
            );
        }
    }
}

/// Cuts a line into pieces `width` columns wide (a log keeps every character; no words are
/// moved, so what a compiler printed lines up as it did). Tabs become spaces.
fn hard_wrap(line: &str, width: usize) -> Vec<String> {
    let width = width.max(1);
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut w = 0;
    for c in line.chars() {
        let (c, cw) = match c {
            '\t' => (' ', 1),
            '\r' => continue,
            c => (c, c.width().unwrap_or(0)),
        };
        if w + cw > width {
            out.push(std::mem::take(&mut cur));
            w = 0;
        }
        cur.push(c);
        w += cw;
    }
    out.push(cur);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hard_wrap_keeps_every_character() {
        assert_eq!(hard_wrap("abcdefg", 3), vec!["abc", "def", "g"]);
        assert_eq!(hard_wrap("", 3), vec![""]);
        assert_eq!(hard_wrap("a\tb\r", 10), vec!["a b"]);
        assert_eq!(hard_wrap("日本語", 4), vec!["日本", "語"]);
    }
}
