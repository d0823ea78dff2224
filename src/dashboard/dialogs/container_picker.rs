//! Pick one item from a short list, narrowing it by typing (the networks view picks a container
//! to connect or disconnect). Up/down choose, Enter picks, Esc cancels. Items are (key, label,
//! detail): the key goes to the continuation, the label is what is typed against, the detail is
//! shown muted after it (state, image).

use crossterm::event::{Event, KeyCode, KeyEvent};
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;
use tui_input::backend::crossterm::EventHandler;
use tui_input::Input;

use super::prompt::draw_input;
use super::{frame, hint, Dialog, Outcome};
use crate::dashboard::views::{Cmd, Cx, DrawCx};
use crate::dashboard::widgets::{centered, ellipsize};

#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    pub key: String,
    pub label: String,
    pub detail: String,
}

type Pick = Box<dyn FnMut(&Item) -> Vec<Cmd>>;

pub struct Picker {
    title: String,
    items: Vec<Item>,
    input: Input,
    selected: usize,
    pick: Pick,
}

impl Picker {
    pub fn new(
        title: impl Into<String>,
        items: Vec<Item>,
        pick: impl FnMut(&Item) -> Vec<Cmd> + 'static,
    ) -> Self {
        Picker {
            title: title.into(),
            items,
            input: Input::default(),
            selected: 0,
            pick: Box::new(pick),
        }
    }

    /// Items whose label or detail contains every typed word (case-insensitive).
    pub fn matches(&self) -> Vec<&Item> {
        let q = self.input.value().to_lowercase();
        self.items
            .iter()
            .filter(|it| {
                let hay = format!("{} {}", it.label, it.detail).to_lowercase();
                q.split_whitespace().all(|w| hay.contains(w))
            })
            .collect()
    }
}

impl Dialog for Picker {
    fn draw(&mut self, f: &mut Frame, area: Rect, cx: &DrawCx) {
        let theme = &cx.config.theme;
        let matches = self.matches();
        // Borders, the input line, up to 10 rows and the help line.
        let rows = matches.len().clamp(1, 10) as u16;
        let rect = centered(area, 60, rows + 4);
        let inner = frame(f, rect, &self.title, theme);
        if inner.height == 0 || inner.width == 0 {
            return;
        }
        let input_area = Rect { height: 1, ..inner };
        f.render_widget(
            Paragraph::new(Span::styled("> ", theme.muted())),
            input_area,
        );
        draw_input(
            f,
            Rect {
                x: inner.x + 2.min(inner.width),
                width: inner.width.saturating_sub(2),
                ..input_area
            },
            &self.input,
            ratatui::style::Style::default(),
            true,
        );
        let list_h = inner.height.saturating_sub(2) as usize;
        let selected = self.selected.min(matches.len().saturating_sub(1));
        let start = selected.saturating_sub(list_h.saturating_sub(1));
        let mut lines = Vec::new();
        if matches.is_empty() {
            lines.push(Line::styled("nothing matches", theme.muted()));
        }
        for (i, it) in matches.iter().enumerate().skip(start).take(list_h) {
            let w = inner.width as usize;
            let label = ellipsize(&it.label, w.saturating_sub(2).min(40));
            let detail = ellipsize(&it.detail, w.saturating_sub(label.chars().count() + 3));
            let mut line = Line::from(vec![
                Span::raw(format!(" {label} ")),
                Span::styled(detail, theme.muted()),
            ]);
            if i == selected {
                line = line.style(theme.selected());
            }
            lines.push(line);
        }
        f.render_widget(
            Paragraph::new(lines),
            Rect {
                y: inner.y + 1,
                height: inner.height.saturating_sub(1),
                ..inner
            },
        );
        if inner.height > 2 {
            f.render_widget(
                Paragraph::new(Line::styled(
                    "type to narrow   enter: pick   esc: cancel",
                    theme.muted(),
                )),
                Rect {
                    y: inner.bottom() - 1,
                    height: 1,
                    ..inner
                },
            );
        }
    }

    fn on_key(&mut self, key: KeyEvent, cx: &mut Cx) -> Outcome {
        let n = self.matches().len();
        match key.code {
            KeyCode::Esc => Outcome::Close,
            KeyCode::Up => {
                self.selected = self.selected.min(n.saturating_sub(1)).saturating_sub(1);
                Outcome::Keep
            }
            KeyCode::Down => {
                if self.selected + 1 < n {
                    self.selected += 1;
                }
                Outcome::Keep
            }
            KeyCode::Enter => {
                let item = self
                    .matches()
                    .get(self.selected.min(n.saturating_sub(1)))
                    .map(|it| (*it).clone());
                match item {
                    Some(item) => {
                        for c in (self.pick)(&item) {
                            cx.push(c);
                        }
                        Outcome::Close
                    }
                    // Nothing matches: keep the dialog so the text can be corrected.
                    None => Outcome::Keep,
                }
            }
            _ => {
                self.input.handle_event(&Event::Key(key));
                self.selected = 0;
                Outcome::Keep
            }
        }
    }

    fn on_paste(&mut self, text: &str) {
        for c in text.chars().filter(|c| !c.is_control()) {
            self.input.handle(tui_input::InputRequest::InsertChar(c));
        }
        self.selected = 0;
    }

    fn hints(&self) -> Vec<(String, String)> {
        vec![
            hint("↑↓", "choose"),
            hint("enter", "pick"),
            hint("esc", "cancel"),
        ]
    }
}
