//! The Inspect tab: the container's inspect JSON (`store.details`, refreshed by the app when
//! the container changes), scrollable, with the `/` line searching it and n/N jumping between
//! matches — the JSON viewer dialog's `TextPane`.

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::Line;
use ratatui::widgets::Paragraph;
use ratatui::Frame;
use serde_json::Value;

use crate::dashboard::dialogs::text::TextPane;
use crate::dashboard::theme::Theme;

#[derive(Default)]
pub struct InspectPane {
    pub pane: TextPane,
    /// The search as typed.
    pub search: String,
    /// The document shown, to notice when the store has a newer one.
    shown: Option<String>,
}

impl InspectPane {
    /// Forgets the document and its position (another container).
    pub fn reset(&mut self) {
        let search = std::mem::take(&mut self.search);
        *self = InspectPane::default();
        self.set_search(&search);
    }

    /// A new search starts from the top, so the first match is the first one in the document.
    pub fn set_search(&mut self, text: &str) {
        self.search = text.to_string();
        self.pane.set_query(text);
        if !text.is_empty() {
            self.pane.to_top();
            self.pane.find_from_here();
        }
    }

    pub fn draw(&mut self, f: &mut Frame, area: Rect, detail: Option<&Value>, theme: &Theme) {
        let Some(d) = detail else {
            f.render_widget(
                Paragraph::new(Line::styled("loading…", theme.muted())),
                area,
            );
            return;
        };
        let text = serde_json::to_string_pretty(d).unwrap_or_default();
        if self.shown.as_deref() != Some(text.as_str()) {
            self.pane.set_text(&text);
            self.shown = Some(text);
        }
        let [body, bar] = Layout::vertical([Constraint::Min(0), Constraint::Length(1)]).areas(area);
        if body.height == 0 {
            self.pane.draw(f, bar, theme);
            return;
        }
        self.pane.draw(f, body, theme);
        let status = if self.search.is_empty() {
            self.pane.position()
        } else {
            format!(
                "{}  ·  \"{}\": {} lines match",
                self.pane.position(),
                self.search,
                self.pane.matching_lines().len()
            )
        };
        f.render_widget(Paragraph::new(Line::styled(status, theme.muted())), bar);
    }
}
