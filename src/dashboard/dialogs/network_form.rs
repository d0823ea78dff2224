//! A small multi-field form: text fields (tui-input) and checkboxes, with an optional note above
//! them. The volumes and networks views use it for create (name, driver, subnet, ...) and for
//! the volume prune choice. Tab / shift-tab / up / down move between fields, space toggles a
//! checkbox, Enter submits, Esc cancels. The submit continuation gets the values and either
//! returns commands (the form closes) or says what is wrong (the form stays open and shows it
//! under the fields, so nothing typed is lost).

use crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};
use ratatui::Frame;
use tui_input::backend::crossterm::EventHandler;
use tui_input::Input;

use super::prompt::draw_input;
use super::{frame, hint, Dialog, Outcome};
use crate::dashboard::views::{Cmd, Cx, DrawCx};
use crate::dashboard::widgets::{centered, ellipsize};

pub enum FieldKind {
    Text(Input),
    Check(bool),
}

pub struct Field {
    pub label: String,
    /// Shown muted after the label: what an empty value means, the expected format.
    pub help: String,
    pub kind: FieldKind,
}

impl Field {
    pub fn text(label: &str, initial: &str, help: &str) -> Field {
        Field {
            label: label.into(),
            help: help.into(),
            kind: FieldKind::Text(Input::new(initial.to_string())),
        }
    }

    pub fn check(label: &str, on: bool, help: &str) -> Field {
        Field {
            label: label.into(),
            help: help.into(),
            kind: FieldKind::Check(on),
        }
    }
}

/// The values at submit time, in field order.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Text(String),
    Check(bool),
}

/// What the submit continuation reads.
pub struct Values(pub Vec<Value>);

impl Values {
    /// The trimmed text of field `i` ("" for a checkbox or a missing field).
    pub fn text(&self, i: usize) -> &str {
        match self.0.get(i) {
            Some(Value::Text(s)) => s.trim(),
            _ => "",
        }
    }

    pub fn check(&self, i: usize) -> bool {
        matches!(self.0.get(i), Some(Value::Check(true)))
    }
}

type Submit = Box<dyn FnMut(&Values) -> Result<Vec<Cmd>, String>>;

pub struct Form {
    title: String,
    note: Option<String>,
    fields: Vec<Field>,
    focus: usize,
    submit: Submit,
    error: Option<String>,
    /// What Esc does, as the hints say it ("cancel"; "back" when the form is a later step).
    esc: &'static str,
}

/// Width of the label column.
const LABEL_W: u16 = 10;

impl Form {
    pub fn new(
        title: impl Into<String>,
        fields: Vec<Field>,
        submit: impl FnMut(&Values) -> Result<Vec<Cmd>, String> + 'static,
    ) -> Self {
        Form {
            title: title.into(),
            note: None,
            fields,
            focus: 0,
            submit: Box::new(submit),
            error: None,
            esc: "cancel",
        }
    }

    /// How the hints name Esc (the caller decides what it does when it intercepts it).
    pub fn with_esc(mut self, label: &'static str) -> Self {
        self.esc = label;
        self
    }

    /// A line of explanation above the fields.
    pub fn with_note(mut self, note: impl Into<String>) -> Self {
        self.note = Some(note.into());
        self
    }

    pub fn values(&self) -> Values {
        Values(
            self.fields
                .iter()
                .map(|f| match &f.kind {
                    FieldKind::Text(i) => Value::Text(i.value().to_string()),
                    FieldKind::Check(b) => Value::Check(*b),
                })
                .collect(),
        )
    }

    fn move_focus(&mut self, forward: bool) {
        let n = self.fields.len().max(1);
        self.focus = if forward {
            (self.focus + 1) % n
        } else {
            (self.focus + n - 1) % n
        };
    }
}

impl Dialog for Form {
    fn draw(&mut self, f: &mut Frame, area: Rect, cx: &DrawCx) {
        let theme = &cx.config.theme;
        let note_lines = u16::from(self.note.is_some()) * 2;
        // Borders, the fields, a blank line and the error/help line.
        let height = self.fields.len() as u16 + note_lines + 4;
        let rect = centered(area, 64, height);
        let inner = frame(f, rect, &self.title, theme);
        if inner.width == 0 || inner.height == 0 {
            return;
        }
        let mut y = inner.y;
        let bottom = inner.bottom();
        if let Some(note) = &self.note {
            f.render_widget(
                Paragraph::new(note.as_str()).wrap(Wrap { trim: true }),
                Rect {
                    y,
                    height: 2.min(bottom - y),
                    ..inner
                },
            );
            y += 2.min(bottom - y);
        }
        let label_w = LABEL_W.min(inner.width / 3);
        let value_x = inner.x + label_w + 1;
        let value_w = inner.right().saturating_sub(value_x);
        for (i, field) in self.fields.iter().enumerate() {
            if y >= bottom {
                break;
            }
            let focused = i == self.focus;
            let label_style = if focused {
                theme.fg(theme.accent)
            } else {
                ratatui::style::Style::default()
            };
            f.render_widget(
                Paragraph::new(Span::styled(
                    ellipsize(&field.label, label_w as usize),
                    label_style,
                )),
                Rect {
                    x: inner.x,
                    y,
                    width: label_w,
                    height: 1,
                },
            );
            let value_area = Rect {
                x: value_x,
                y,
                width: value_w,
                height: 1,
            };
            match &field.kind {
                FieldKind::Text(input) => {
                    if input.value().is_empty() && !field.help.is_empty() {
                        // The help text stands in for an empty value (like a placeholder).
                        let style = if focused {
                            theme.selected().patch(theme.muted())
                        } else {
                            theme.muted()
                        };
                        f.render_widget(
                            Paragraph::new(Span::styled(
                                ellipsize(&field.help, value_w as usize),
                                style,
                            )),
                            value_area,
                        );
                        if focused {
                            f.set_cursor_position((value_area.x, y));
                        }
                    } else {
                        let style = if focused {
                            theme.selected()
                        } else {
                            ratatui::style::Style::default()
                        };
                        draw_input(f, value_area, input, style, focused);
                    }
                }
                FieldKind::Check(on) => {
                    let mark = if *on { "[x] " } else { "[ ] " };
                    let style = if focused {
                        theme.selected()
                    } else {
                        ratatui::style::Style::default()
                    };
                    f.render_widget(
                        Paragraph::new(Line::from(vec![
                            Span::styled(mark, style),
                            Span::styled(field.help.clone(), theme.muted()),
                        ])),
                        value_area,
                    );
                }
            }
            y += 1;
        }
        let last = Rect {
            y: bottom.saturating_sub(1),
            height: 1,
            ..inner
        };
        if last.y >= y {
            let line = match &self.error {
                Some(e) => Line::styled(e.clone(), theme.error()),
                None => Line::styled(
                    self.hints()
                        .iter()
                        .map(|(k, what)| format!("{k}: {what}"))
                        .collect::<Vec<_>>()
                        .join("   "),
                    theme.muted(),
                ),
            };
            f.render_widget(Paragraph::new(line), last);
        }
    }

    fn on_key(&mut self, key: KeyEvent, cx: &mut Cx) -> Outcome {
        match key.code {
            KeyCode::Esc => return Outcome::Close,
            KeyCode::Enter => {
                let values = self.values();
                return match (self.submit)(&values) {
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
                };
            }
            KeyCode::Tab if key.modifiers.contains(KeyModifiers::SHIFT) => self.move_focus(false),
            KeyCode::BackTab | KeyCode::Up => self.move_focus(false),
            KeyCode::Tab | KeyCode::Down => self.move_focus(true),
            _ => {
                let Some(field) = self.fields.get_mut(self.focus) else {
                    return Outcome::Keep;
                };
                match &mut field.kind {
                    FieldKind::Text(input) => {
                        input.handle_event(&Event::Key(key));
                    }
                    FieldKind::Check(on) => {
                        if matches!(key.code, KeyCode::Char(' ') | KeyCode::Char('x')) {
                            *on = !*on;
                        }
                    }
                }
                self.error = None;
            }
        }
        Outcome::Keep
    }

    fn on_paste(&mut self, text: &str) {
        if let Some(Field {
            kind: FieldKind::Text(input),
            ..
        }) = self.fields.get_mut(self.focus)
        {
            for c in text.chars().filter(|c| !c.is_control()) {
                input.handle(tui_input::InputRequest::InsertChar(c));
            }
        }
    }

    /// Only the keys that do something in this form.
    fn hints(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        if self.fields.len() > 1 {
            out.push(hint("tab", "next field"));
        }
        if self
            .fields
            .iter()
            .any(|f| matches!(f.kind, FieldKind::Check(_)))
        {
            out.push(hint("space", "toggle"));
        }
        out.push(hint("enter", "ok"));
        out.push(hint("esc", self.esc));
        out
    }
}

/// Parses `k=v` pairs separated by commas or spaces (labels), refusing a pair without `=` or
/// with an empty key.
pub fn parse_labels(s: &str) -> Result<serde_json::Map<String, serde_json::Value>, String> {
    let mut out = serde_json::Map::new();
    for pair in s.split([',', ' ']).filter(|p| !p.trim().is_empty()) {
        let (k, v) = pair
            .split_once('=')
            .ok_or_else(|| format!("label \"{pair}\" needs the form key=value"))?;
        if k.trim().is_empty() {
            return Err(format!("label \"{pair}\" has an empty key"));
        }
        out.insert(k.trim().to_string(), serde_json::Value::from(v.trim()));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_parse_and_refuse_junk() {
        let m = parse_labels("env=prod, team=web  tier=").unwrap();
        assert_eq!(m["env"], "prod");
        assert_eq!(m["team"], "web");
        assert_eq!(m["tier"], "");
        assert!(parse_labels("").unwrap().is_empty());
        assert!(parse_labels("novalue").unwrap_err().contains("key=value"));
        assert!(parse_labels("=x").unwrap_err().contains("empty key"));
    }
}
