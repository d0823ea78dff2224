//! The Top tab: `GET /containers/{id}/top` as a table, asked again every `TOP_EVERY` seconds
//! while the tab is shown (one request in flight at a time).

use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::Paragraph;
use ratatui::Frame;
use serde_json::Value;

use super::draw_table;
use crate::client::api::containers;
use crate::dashboard::msg::{Effect, Purpose};
use crate::dashboard::store::model::Container;
use crate::dashboard::theme::Theme;
use crate::dashboard::views::Cx;

/// A process table: column titles and rows.
type Processes = (Vec<String>, Vec<Vec<String>>);

#[derive(Default)]
pub struct TopPane {
    /// The container of the last answer, and the answer: titles and process rows, or the
    /// engine's message.
    answer: Option<(String, Result<Processes, String>)>,
    /// The container a request is out for.
    pending: Option<String>,
    pub scroll: usize,
}

impl TopPane {
    pub fn reset(&mut self) {
        *self = TopPane::default();
    }

    /// Asks for the process list, unless an answer is still on its way or the container does
    /// not run (the engine would only refuse).
    pub fn request(&mut self, id: &str, cx: &mut Cx) {
        let running = cx
            .store
            .container(id)
            .is_some_and(|c| c.is_running() || c.is_paused());
        if !running || self.pending.is_some() {
            return;
        }
        self.pending = Some(id.to_string());
        cx.effect(Effect::api(
            containers::top(id, None),
            Purpose::Top { id: id.to_string() },
        ));
    }

    pub fn on_answer(&mut self, id: &str, result: &Result<Option<Value>, String>) {
        if self.pending.as_deref() != Some(id) {
            // An answer for a container the pane has left.
            return;
        }
        self.pending = None;
        let parsed = match result {
            Ok(Some(v)) => Ok(parse(v)),
            Ok(None) => Ok((Vec::new(), Vec::new())),
            Err(e) => Err(e.clone()),
        };
        self.answer = Some((id.to_string(), parsed));
    }

    pub fn draw(&mut self, f: &mut Frame, area: Rect, c: &Container, theme: &Theme) {
        if !c.is_running() && !c.is_paused() {
            let text = format!("{} is {}: no processes", c.name(), c.state);
            f.render_widget(Paragraph::new(Line::styled(text, theme.muted())), area);
            return;
        }
        match &self.answer {
            Some((id, Ok((titles, rows)))) if *id == c.id => {
                let header: Vec<&str> = titles.iter().map(String::as_str).collect();
                self.scroll =
                    draw_table(f, area, &header, rows, self.scroll, theme, "no processes");
            }
            Some((id, Err(e))) if *id == c.id => {
                f.render_widget(Paragraph::new(Line::styled(e.clone(), theme.error())), area)
            }
            _ => f.render_widget(
                Paragraph::new(Line::styled("loading…", theme.muted())),
                area,
            ),
        }
    }
}

/// `{"Titles": [...], "Processes": [[...], ...]}` into strings.
fn parse(v: &Value) -> Processes {
    let text = |x: &Value| match x {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let titles = v["Titles"]
        .as_array()
        .map(|t| t.iter().map(text).collect())
        .unwrap_or_default();
    let rows = v["Processes"]
        .as_array()
        .map(|ps| {
            ps.iter()
                .map(|p| {
                    p.as_array()
                        .map(|r| r.iter().map(text).collect())
                        .unwrap_or_default()
                })
                .collect()
        })
        .unwrap_or_default();
    (titles, rows)
}
