//! Dialogs: modal layers over the views (confirmations, text prompts, help, the command
//! palette, the JSON viewer, task progress, importing an image from a file, and the forms views
//! add). The top one gets every key; Esc closes it unless it says otherwise.

pub mod build_form;
pub mod confirm;
pub mod container_picker;
pub mod help;
pub mod history;
pub mod import;
pub mod network_form;
pub mod palette;
pub mod prompt;
pub mod run_form;
pub mod tasks;
pub mod text;

use crossterm::event::{KeyEvent, MouseEvent};
use ratatui::layout::Rect;
use ratatui::Frame;

use super::views::{Cx, DrawCx};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Keep,
    Close,
}

pub trait Dialog {
    fn draw(&mut self, f: &mut Frame, area: Rect, cx: &DrawCx);
    fn on_key(&mut self, key: KeyEvent, cx: &mut Cx) -> Outcome;
    fn on_mouse(&mut self, _ev: MouseEvent, _cx: &mut Cx) -> Outcome {
        Outcome::Keep
    }
    fn on_paste(&mut self, _text: &str) {}
    /// A file system answer this dialog asked for with `Effect::Files` (path completion, the
    /// kind of a file to import).
    fn on_files(&mut self, _answer: &super::files::FileAnswer, _cx: &mut Cx) -> Outcome {
        Outcome::Keep
    }
    /// (key, what) pairs for the footer while the dialog is open.
    fn hints(&self) -> Vec<(String, String)>;
    /// An API answer this dialog waits for (the JSON viewer loading its document).
    fn on_answer(
        &mut self,
        _purpose: &super::msg::Purpose,
        _result: &Result<Option<serde_json::Value>, String>,
    ) -> bool {
        false
    }
}

/// The standard dialog frame: a bordered, titled box cleared of what is under it.
pub fn frame(f: &mut Frame, area: Rect, title: &str, theme: &super::theme::Theme) -> Rect {
    use ratatui::widgets::{Block, BorderType, Borders, Clear};
    f.render_widget(Clear, area);
    let block = Block::default()
        .borders(Borders::ALL)
        .border_type(BorderType::Rounded)
        .border_style(ratatui::style::Style::default().fg(theme.accent))
        .title(ratatui::text::Span::styled(
            format!(" {title} "),
            theme.title(),
        ));
    let inner = block.inner(area);
    f.render_widget(block, area);
    inner
}

pub fn hint(k: &str, what: &str) -> (String, String) {
    (k.to_string(), what.to_string())
}
