//! Background work: one task's progress (a pull's layers with bars, an import's upload, a
//! build's current step and output) or the
//! list of all tasks.
//! Esc sends it to the background; the header keeps counting running tasks.

use crossterm::event::{KeyCode, KeyEvent};
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;

use super::{frame, hint, Dialog, Outcome};
use crate::dashboard::keymap::Action;
use crate::dashboard::store::tasks::{Task, TaskState};
use crate::dashboard::views::{Cx, DrawCx};
use crate::dashboard::widgets::{bars, bytes, centered, ellipsize, wrap_words};

pub struct TaskDialog {
    /// One task, or every task when `None`.
    task: Option<u64>,
}

impl TaskDialog {
    pub fn one(id: u64) -> Self {
        TaskDialog { task: Some(id) }
    }

    pub fn all() -> Self {
        TaskDialog { task: None }
    }
}

fn state_line<'a>(t: &'a Task, theme: &crate::dashboard::theme::Theme) -> Span<'a> {
    match &t.state {
        TaskState::Running => Span::styled(
            match t.fraction() {
                Some(f) => format!("running {:.0}%", f * 100.0),
                None => "running".to_string(),
            },
            theme.fg(theme.warning),
        ),
        TaskState::Done(s) => Span::styled(s.as_str(), theme.fg(theme.ok)),
        TaskState::Failed(e) => Span::styled(e.as_str(), theme.error()),
    }
}

/// The lines for one task: title and state, one bar per layer, the latest notes. `import_key`
/// is the key that imports from a file, offered when a registry could not be reached.
pub fn task_lines<'a>(
    t: &'a Task,
    width: usize,
    theme: &crate::dashboard::theme::Theme,
    import_key: Option<&str>,
) -> Vec<Line<'a>> {
    let title = ellipsize(&t.title, width.saturating_sub(12));
    let state = state_line(t, theme);
    let title_w = unicode_width::UnicodeWidthStr::width(title.as_str());
    let mut lines = Vec::new();
    if title_w + 2 + state.width() <= width {
        lines.push(Line::from(vec![
            Span::styled(title, theme.title()),
            Span::raw("  "),
            state,
        ]));
    } else {
        // A long engine message (an unreachable registry and what to do about it) gets lines
        // of its own, wrapped at words.
        lines.push(Line::styled(title, theme.title()));
        let text = state.content.to_string();
        for line in wrap_words(&text, width.saturating_sub(2))
            .into_iter()
            .take(8)
        {
            lines.push(Line::styled(format!("  {line}"), state.style));
        }
    }
    if let (TaskState::Failed(e), Some(import)) = (&t.state, import_key) {
        if e.starts_with("cannot reach registry") {
            // The engine names its CLI; here the way to a file is a key.
            lines.push(Line::styled(
                format!("  {import}: import an image from a file (images view)"),
                theme.fg(theme.accent),
            ));
        }
    }
    if let Some(step) = &t.step {
        // A build's step: where it is, or where it stopped.
        lines.push(Line::styled(
            format!("  {}", ellipsize(step, width.saturating_sub(2))),
            theme.fg(theme.accent),
        ));
    }
    let bar_w = width.saturating_sub(48).clamp(5, 40);
    for l in &t.layers {
        let frac = l.fraction();
        let size = if l.total > 0 {
            format!("{}/{}", bytes(l.current as f64), bytes(l.total as f64))
        } else {
            String::new()
        };
        lines.push(Line::from(vec![
            Span::raw(format!("  {:<12} ", ellipsize(&l.id, 12))),
            Span::styled(format!("{:<20} ", ellipsize(&l.status, 20)), theme.muted()),
            Span::styled(bars::bar(frac, bar_w), theme.fg(theme.accent)),
            Span::raw(format!(" {size}")),
        ]));
    }
    for n in t.notes.iter().rev().take(3).rev() {
        lines.push(Line::styled(
            format!("  {}", ellipsize(n, width.saturating_sub(2))),
            theme.muted(),
        ));
    }
    lines
}

impl Dialog for TaskDialog {
    fn draw(&mut self, f: &mut Frame, area: Rect, cx: &DrawCx) {
        let theme = &cx.config.theme;
        let tasks: Vec<&Task> = match self.task {
            Some(id) => cx.store.tasks.iter().filter(|t| t.id == id).collect(),
            None => cx.store.tasks.iter().rev().collect(),
        };
        // As tall as the content (each task's lines and a blank line).
        let import = cx.config.keymap.label(Action::Import);
        let import_key = (import != "-").then_some(import.as_str());
        let inner_w = 96.min(area.width).saturating_sub(2) as usize;
        let content: usize = tasks
            .iter()
            .map(|t| task_lines(t, inner_w, theme, import_key).len() + 1)
            .sum::<usize>()
            .max(1);
        let rect = centered(
            area,
            96,
            (content as u16 + 2).clamp(8, area.height.saturating_sub(2).max(8)),
        );
        let title = if self.task.is_some() {
            "Task"
        } else {
            "Background tasks"
        };
        let inner = frame(f, rect, title, theme);
        let mut lines = Vec::new();
        if tasks.is_empty() {
            lines.push(Line::styled(
                "no tasks yet: pulls, pushes, imports, loads and builds show up here",
                theme.muted(),
            ));
        }
        for t in tasks {
            lines.extend(task_lines(t, inner.width as usize, theme, import_key));
            lines.push(Line::raw(""));
        }
        f.render_widget(Paragraph::new(lines), inner);
    }

    fn on_key(&mut self, key: KeyEvent, _cx: &mut Cx) -> Outcome {
        match key.code {
            KeyCode::Esc | KeyCode::Enter | KeyCode::Char('q') => Outcome::Close,
            _ => Outcome::Keep,
        }
    }

    fn hints(&self) -> Vec<(String, String)> {
        vec![hint("esc", "continue in the background")]
    }
}
