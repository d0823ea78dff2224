//! `?`: every key that works in the current view, generated from the keymap (so it lists what
//! the config file really binds), grouped by where it applies.

use crossterm::event::{KeyCode, KeyEvent};
use ratatui::layout::Rect;
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;

use super::{frame, hint, Dialog, Outcome};
use crate::dashboard::keymap::{Action, Context, Keymap};
use crate::dashboard::views::{Cx, DrawCx};
use crate::dashboard::widgets::centered;

pub struct Help {
    contexts: Vec<Context>,
    scroll: u16,
}

impl Help {
    pub fn new(view: Context) -> Self {
        Help {
            contexts: vec![view, Context::List, Context::Global],
            scroll: 0,
        }
    }

    pub fn lines(&self, keymap: &Keymap) -> Vec<(Option<Context>, String, &'static str)> {
        let mut out = Vec::new();
        for &ctx in &self.contexts {
            out.push((Some(ctx), String::new(), ""));
            for a in Action::ALL.iter().filter(|a| a.context() == ctx) {
                out.push((None, keymap.labels(*a), a.description()));
            }
        }
        out
    }
}

fn heading(ctx: Context) -> &'static str {
    match ctx {
        Context::Global => "Everywhere",
        Context::List => "Lists",
        Context::Containers => "Containers",
        Context::Images => "Images",
        Context::Volumes => "Volumes",
        Context::Networks => "Networks",
        Context::Events => "Events",
        Context::Logs => "Logs",
        Context::Builds => "Builds",
        Context::Stacks => "Stacks",
    }
}

impl Dialog for Help {
    fn draw(&mut self, f: &mut Frame, area: Rect, cx: &DrawCx) {
        let theme = &cx.config.theme;
        let rect = centered(area, 72, area.height.saturating_sub(2));
        let inner = frame(f, rect, "Keys (from your keymap)", theme);
        let rows = self.lines(&cx.config.keymap);
        let max_scroll = (rows.len() as u16).saturating_sub(inner.height);
        self.scroll = self.scroll.min(max_scroll);
        let lines: Vec<Line> = rows
            .into_iter()
            .map(|(ctx, keys, what)| match ctx {
                Some(c) => {
                    Line::styled(heading(c), theme.title().add_modifier(Modifier::UNDERLINED))
                }
                None => Line::from(vec![
                    Span::styled(format!("  {keys:<18}"), theme.fg(theme.accent)),
                    Span::raw(what),
                ]),
            })
            .collect();
        f.render_widget(Paragraph::new(lines).scroll((self.scroll, 0)), inner);
    }

    fn on_key(&mut self, key: KeyEvent, _cx: &mut Cx) -> Outcome {
        match key.code {
            KeyCode::Char('j') | KeyCode::Down => self.scroll = self.scroll.saturating_add(1),
            KeyCode::Char('k') | KeyCode::Up => self.scroll = self.scroll.saturating_sub(1),
            KeyCode::PageDown | KeyCode::Char(' ') => self.scroll = self.scroll.saturating_add(10),
            KeyCode::PageUp => self.scroll = self.scroll.saturating_sub(10),
            KeyCode::Char('g') | KeyCode::Home => self.scroll = 0,
            KeyCode::Char('G') | KeyCode::End => self.scroll = u16::MAX,
            KeyCode::Esc | KeyCode::Char('?') | KeyCode::Char('q') | KeyCode::Enter => {
                return Outcome::Close
            }
            _ => {}
        }
        Outcome::Keep
    }

    fn on_mouse(&mut self, ev: crossterm::event::MouseEvent, _cx: &mut Cx) -> Outcome {
        use crossterm::event::MouseEventKind;
        match ev.kind {
            MouseEventKind::ScrollDown => self.scroll = self.scroll.saturating_add(3),
            MouseEventKind::ScrollUp => self.scroll = self.scroll.saturating_sub(3),
            _ => {}
        }
        Outcome::Keep
    }

    fn hints(&self) -> Vec<(String, String)> {
        vec![hint("j/k", "scroll"), hint("esc", "close")]
    }
}
