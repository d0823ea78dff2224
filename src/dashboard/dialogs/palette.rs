//! `:` command palette: type to narrow every action available here (by name or description),
//! Enter runs it. The list comes from the keymap table, with each action's current key.

use crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;
use tui_input::backend::crossterm::EventHandler;
use tui_input::Input;

use super::prompt::draw_input;
use super::{frame, hint, Dialog, Outcome};
use crate::dashboard::keymap::{Action, Context};
use crate::dashboard::views::{Cmd, Cx, DrawCx};
use crate::dashboard::widgets::centered;

pub struct Palette {
    actions: Vec<Action>,
    input: Input,
    selected: usize,
}

/// Every character of `needle` appears in `hay` in order (case-insensitive).
fn fuzzy(hay: &str, needle: &str) -> bool {
    let mut chars = hay.chars().flat_map(char::to_lowercase);
    needle
        .chars()
        .flat_map(char::to_lowercase)
        .filter(|c| !c.is_whitespace())
        .all(|n| chars.any(|h| h == n))
}

impl Palette {
    pub fn new(view: Context) -> Self {
        let actions = Action::ALL
            .iter()
            .copied()
            .filter(|a| {
                let c = a.context();
                (c == view || c == Context::Global || c == Context::List) && *a != Action::Palette
            })
            .collect();
        Palette {
            actions,
            input: Input::default(),
            selected: 0,
        }
    }

    /// Matching actions, best first: names starting with the query, then names or
    /// descriptions containing it, then fuzzy matches.
    pub fn matches(&self) -> Vec<Action> {
        let q = self.input.value().trim().to_lowercase();
        let mut scored: Vec<(u8, Action)> = self
            .actions
            .iter()
            .copied()
            .filter_map(|a| {
                let text = format!("{} {}", a.name(), a.description()).to_lowercase();
                if a.name().starts_with(&q) || a.description().to_lowercase().starts_with(&q) {
                    Some((0, a))
                } else if text.contains(&q) {
                    Some((1, a))
                } else if fuzzy(&text, &q) {
                    Some((2, a))
                } else {
                    None
                }
            })
            .collect();
        scored.sort_by_key(|(score, _)| *score);
        scored.into_iter().map(|(_, a)| a).collect()
    }
}

impl Dialog for Palette {
    fn draw(&mut self, f: &mut Frame, area: Rect, cx: &DrawCx) {
        let theme = &cx.config.theme;
        let rect = centered(area, 60, area.height.saturating_sub(4).min(20));
        let inner = frame(f, rect, "Command", theme);
        let [input, list] =
            Layout::vertical([Constraint::Length(1), Constraint::Min(0)]).areas(inner);
        f.render_widget(Paragraph::new(":"), Rect { width: 1, ..input });
        draw_input(
            f,
            Rect {
                x: input.x + 1,
                width: input.width.saturating_sub(1),
                ..input
            },
            &self.input,
            ratatui::style::Style::default(),
            true,
        );
        let matches = self.matches();
        self.selected = self.selected.min(matches.len().saturating_sub(1));
        let height = list.height as usize;
        let offset = self.selected.saturating_sub(height.saturating_sub(1));
        let lines: Vec<Line> = matches
            .iter()
            .enumerate()
            .skip(offset)
            .take(height)
            .map(|(i, a)| {
                let style = if i == self.selected {
                    theme.selected()
                } else {
                    ratatui::style::Style::default()
                };
                Line::from(vec![
                    Span::styled(format!("{:<24}", a.description()), style),
                    Span::styled(format!(" {}", cx.config.keymap.label(*a)), theme.muted()),
                ])
            })
            .collect();
        f.render_widget(Paragraph::new(lines), list);
    }

    fn on_key(&mut self, key: KeyEvent, cx: &mut Cx) -> Outcome {
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        match key.code {
            KeyCode::Esc => return Outcome::Close,
            KeyCode::Enter => {
                if let Some(a) = self.matches().get(self.selected) {
                    cx.push(Cmd::Action(*a));
                }
                return Outcome::Close;
            }
            KeyCode::Up => self.selected = self.selected.saturating_sub(1),
            KeyCode::Char('p') if ctrl => self.selected = self.selected.saturating_sub(1),
            KeyCode::Down | KeyCode::Tab => self.selected += 1,
            KeyCode::Char('n') if ctrl => self.selected += 1,
            _ => {
                self.input.handle_event(&Event::Key(key));
                self.selected = 0;
            }
        }
        Outcome::Keep
    }

    fn hints(&self) -> Vec<(String, String)> {
        vec![
            hint("enter", "run"),
            hint("up/down", "choose"),
            hint("esc", "close"),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fuzzy_matches_in_order() {
        assert!(fuzzy("restart restart", "rst"));
        assert!(fuzzy("Pull an image", "pull img"));
        assert!(!fuzzy("restart", "tsr"));
        let mut p = Palette::new(Context::Images);
        for c in "pull".chars() {
            p.input.handle(tui_input::InputRequest::InsertChar(c));
        }
        assert_eq!(p.matches().first(), Some(&Action::Pull));
        assert!(!p.matches().contains(&Action::Restart));
    }
}
