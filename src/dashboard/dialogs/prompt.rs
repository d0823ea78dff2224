//! One line of text (rename, tag, a volume's name, where to save logs), edited with tui-input.
//! Enter hands the text to the dialog's continuation; Esc cancels.

use crossterm::event::{Event, KeyCode, KeyEvent};
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::Line;
use ratatui::widgets::Paragraph;
use ratatui::Frame;
use tui_input::backend::crossterm::EventHandler;
use tui_input::Input;

use super::{frame, hint, Dialog, Outcome};
use crate::dashboard::views::{Cmd, Cx, DrawCx};
use crate::dashboard::widgets::centered;

type Submit = Box<dyn FnMut(&str) -> Result<Vec<Cmd>, String>>;

pub struct Prompt {
    title: String,
    label: String,
    input: Input,
    submit: Submit,
    error: Option<String>,
}

impl Prompt {
    /// `submit` turns the text into commands, or says what is wrong with it (the prompt stays
    /// open with the message).
    pub fn new(
        title: impl Into<String>,
        label: impl Into<String>,
        initial: &str,
        submit: impl FnMut(&str) -> Result<Vec<Cmd>, String> + 'static,
    ) -> Self {
        Prompt {
            title: title.into(),
            label: label.into(),
            input: Input::new(initial.to_string()),
            submit: Box::new(submit),
            error: None,
        }
    }
}

/// Draws a tui-input line in `area` with the terminal cursor at the edit point.
pub fn draw_input(f: &mut Frame, area: Rect, input: &Input, style: Style, focused: bool) {
    let width = area.width.max(1) as usize;
    let scroll = input.visual_scroll(width.saturating_sub(1));
    f.render_widget(
        Paragraph::new(input.value())
            .style(style)
            .scroll((0, scroll as u16)),
        area,
    );
    if focused {
        let x = area.x + (input.visual_cursor().saturating_sub(scroll)) as u16;
        f.set_cursor_position((x.min(area.right().saturating_sub(1)), area.y));
    }
}

impl Dialog for Prompt {
    fn draw(&mut self, f: &mut Frame, area: Rect, cx: &DrawCx) {
        let theme = &cx.config.theme;
        let rect = centered(area, 64, 6);
        let inner = frame(f, rect, &self.title, theme);
        let [label, input, msg] = Layout::vertical([
            Constraint::Length(1),
            Constraint::Length(1),
            Constraint::Length(1),
        ])
        .areas(inner);
        f.render_widget(Paragraph::new(self.label.as_str()), label);
        draw_input(f, input, &self.input, theme.selected(), true);
        let line = match &self.error {
            Some(e) => Line::styled(e.clone(), theme.error()),
            None => Line::styled("enter: ok   esc: cancel", theme.muted()),
        };
        f.render_widget(Paragraph::new(line), msg);
    }

    fn on_key(&mut self, key: KeyEvent, cx: &mut Cx) -> Outcome {
        match key.code {
            KeyCode::Esc => Outcome::Close,
            KeyCode::Enter => match (self.submit)(self.input.value()) {
                Ok(cmds) => {
                    for c in cmds {
                        cx.push(c);
                    }
                    Outcome::Close
                }
                Err(e) => {
                    self.error = Some(e);
                    Outcome::Keep
                }
            },
            _ => {
                self.input.handle_event(&Event::Key(key));
                self.error = None;
                Outcome::Keep
            }
        }
    }

    fn on_paste(&mut self, text: &str) {
        for c in text.chars().filter(|c| !c.is_control()) {
            self.input.handle(tui_input::InputRequest::InsertChar(c));
        }
    }

    fn hints(&self) -> Vec<(String, String)> {
        vec![hint("enter", "ok"), hint("esc", "cancel")]
    }
}
