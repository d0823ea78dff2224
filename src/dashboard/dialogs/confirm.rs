//! "Really?" for destructive actions: y or Enter does it, n or Esc does not.

use crossterm::event::{KeyCode, KeyEvent};
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::{Paragraph, Wrap};
use ratatui::Frame;

use super::{frame, hint, Dialog, Outcome};
use crate::dashboard::views::{Cmd, Cx, DrawCx};
use crate::dashboard::widgets::centered;

pub struct Confirm {
    title: String,
    message: String,
    on_yes: Option<Vec<Cmd>>,
}

impl Confirm {
    pub fn new(title: impl Into<String>, message: impl Into<String>, on_yes: Vec<Cmd>) -> Self {
        Confirm {
            title: title.into(),
            message: message.into(),
            on_yes: Some(on_yes),
        }
    }
}

impl Dialog for Confirm {
    fn draw(&mut self, f: &mut Frame, area: Rect, cx: &DrawCx) {
        let width = (self.message.len() as u16 + 4).clamp(30, 70);
        let lines = (self.message.len() as u16 / (width - 2)) + 1;
        let rect = centered(area, width, lines + 4);
        let inner = frame(f, rect, &self.title, &cx.config.theme);
        let text = vec![
            Line::raw(self.message.clone()),
            Line::raw(""),
            Line::styled("y/enter: yes   n/esc: no", cx.config.theme.muted()),
        ];
        f.render_widget(Paragraph::new(text).wrap(Wrap { trim: false }), inner);
    }

    fn on_key(&mut self, key: KeyEvent, cx: &mut Cx) -> Outcome {
        match key.code {
            KeyCode::Char('y') | KeyCode::Char('Y') | KeyCode::Enter => {
                for cmd in self.on_yes.take().into_iter().flatten() {
                    cx.push(cmd);
                }
                Outcome::Close
            }
            KeyCode::Char('n') | KeyCode::Char('N') | KeyCode::Esc | KeyCode::Char('q') => {
                Outcome::Close
            }
            _ => Outcome::Keep,
        }
    }

    fn hints(&self) -> Vec<(String, String)> {
        vec![hint("y", "yes"), hint("n", "no")]
    }
}
