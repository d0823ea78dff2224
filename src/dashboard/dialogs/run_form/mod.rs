//! The run form (images view, `r`): image, name, ports, env, volumes, network, command and the
//! `--rm` / detach checkboxes, each text field a tui-input line. Submitting checks every field
//! (saying which one is wrong and why, the form stays open), then sends the typed create spec
//! `spec` builds from them: the same spec `berth run` sends for the same flags (a test holds the
//! two together), so the dashboard and the command line cannot drift apart.

mod spec;

pub use spec::{field_of_engine_error, RunRequest, RunValues};

use crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};
use ratatui::Frame;
use tui_input::backend::crossterm::EventHandler;
use tui_input::Input;

use super::prompt::draw_input;
use super::{frame, hint, Dialog, Outcome};
use crate::dashboard::msg::{Effect, Purpose};
use crate::dashboard::views::{Cmd, Cx, DrawCx};
use crate::dashboard::widgets::{centered, ellipsize};

/// The form's fields, in focus order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Image,
    Name,
    Ports,
    Env,
    Volumes,
    Network,
    Command,
    Rm,
    Detach,
}

impl Field {
    pub const ALL: [Field; 9] = [
        Field::Image,
        Field::Name,
        Field::Ports,
        Field::Env,
        Field::Volumes,
        Field::Network,
        Field::Command,
        Field::Rm,
        Field::Detach,
    ];
    /// The text fields (the first seven).
    const TEXT: usize = 7;

    pub fn label(self) -> &'static str {
        match self {
            Field::Image => "image",
            Field::Name => "name",
            Field::Ports => "ports",
            Field::Env => "env",
            Field::Volumes => "volumes",
            Field::Network => "network",
            Field::Command => "command",
            Field::Rm => "--rm",
            Field::Detach => "detach",
        }
    }

    /// What an empty field means (shown greyed out).
    fn placeholder(self) -> &'static str {
        match self {
            Field::Image => "e.g. busybox:latest",
            Field::Name => "(a random name)",
            Field::Ports => "e.g. 8080:80, 8443:443/tcp",
            Field::Env => "e.g. A=1, B=2",
            Field::Volumes => "e.g. name:/data, /host/dir:/c:ro",
            Field::Network => "bridge",
            Field::Command => "(the image's command), e.g. sh -c 'echo hi'",
            _ => "",
        }
    }

    fn index(self) -> usize {
        Field::ALL.iter().position(|&f| f == self).unwrap_or(0)
    }
}

pub struct RunForm {
    inputs: Vec<Input>,
    rm: bool,
    detach: bool,
    focus: usize,
    /// The bad field (if known) and why.
    error: Option<(Option<Field>, String)>,
}

impl RunForm {
    /// A fresh form for `image`: default network, detached.
    pub fn new(image: &str) -> Self {
        RunForm::with(
            RunValues {
                image: image.to_string(),
                network: "bridge".into(),
                detach: true,
                ..Default::default()
            },
            None,
        )
    }

    /// The form as it was, with an error to show (a create the engine refused).
    pub fn with(v: RunValues, error: Option<(Option<Field>, String)>) -> Self {
        let focus = match &error {
            Some((Some(f), _)) => f.index(),
            // A fresh form starts on the name: the image is usually right already.
            _ if !v.image.is_empty() => Field::Name.index(),
            _ => 0,
        };
        RunForm {
            inputs: [
                &v.image, &v.name, &v.ports, &v.env, &v.volumes, &v.network, &v.command,
            ]
            .iter()
            .map(|s| Input::new(s.to_string()))
            .collect(),
            rm: v.rm,
            detach: v.detach,
            focus,
            error,
        }
    }

    pub fn values(&self) -> RunValues {
        let t = |i: usize| self.inputs[i].value().to_string();
        RunValues {
            image: t(0),
            name: t(1),
            ports: t(2),
            env: t(3),
            volumes: t(4),
            network: t(5),
            command: t(6),
            rm: self.rm,
            detach: self.detach,
        }
    }

    fn field(&self) -> Field {
        Field::ALL[self.focus]
    }

    fn submit(&mut self, cx: &mut Cx) -> Outcome {
        let v = self.values();
        match v.build() {
            Ok(req) => {
                cx.push(Cmd::Effect(Effect::api(
                    req.endpoint(),
                    Purpose::RunCreate {
                        form: Box::new(v.clone()),
                    },
                )));
                cx.info(format!("creating a container from {}…", v.image.trim()));
                Outcome::Close
            }
            Err((field, why)) => {
                self.focus = field.index();
                self.error = Some((Some(field), why));
                Outcome::Keep
            }
        }
    }

    fn toggle(&mut self) {
        match self.field() {
            Field::Rm => self.rm = !self.rm,
            Field::Detach => self.detach = !self.detach,
            _ => {}
        }
    }
}

impl Dialog for RunForm {
    fn draw(&mut self, f: &mut Frame, area: Rect, cx: &DrawCx) {
        let theme = &cx.config.theme;
        // The fields, a blank line, two lines for the message, the border.
        let rect = centered(area, 78, Field::ALL.len() as u16 + 5);
        let inner = frame(f, rect, "Run a container", theme);
        if inner.width == 0 || inner.height == 0 {
            return;
        }
        let label_w = 9u16.min(inner.width);
        let row = |i: usize| Rect {
            x: inner.x,
            y: inner.y + i as u16,
            width: inner.width,
            height: 1,
        };
        let bad = self.error.as_ref().and_then(|(f, _)| *f);
        for (i, field) in Field::ALL.into_iter().enumerate() {
            if i as u16 >= inner.height {
                break;
            }
            let r = row(i);
            let focused = i == self.focus;
            let label_style = if bad == Some(field) {
                theme.error()
            } else if focused {
                theme.fg(theme.accent)
            } else {
                theme.muted()
            };
            if i < Field::TEXT {
                f.render_widget(
                    Paragraph::new(Span::styled(
                        format!("{:<w$}", field.label(), w = label_w as usize),
                        label_style,
                    )),
                    Rect {
                        width: label_w,
                        ..r
                    },
                );
                let input_area = Rect {
                    x: r.x + label_w,
                    width: r.width.saturating_sub(label_w),
                    ..r
                };
                let input = &self.inputs[i];
                if input.value().is_empty() && !focused {
                    f.render_widget(
                        Paragraph::new(Span::styled(field.placeholder(), theme.muted())),
                        input_area,
                    );
                } else {
                    let style = if focused {
                        theme.selected()
                    } else {
                        Style::default()
                    };
                    draw_input(f, input_area, input, style, focused);
                }
            } else {
                let (on, text) = match field {
                    Field::Rm => (self.rm, "remove the container when it exits (--rm)"),
                    _ => (
                        self.detach,
                        "detach: run in the background (off: attach a terminal)",
                    ),
                };
                let text = format!(
                    "{:<w$}[{}] {text}",
                    "",
                    if on { "x" } else { " " },
                    w = label_w as usize
                );
                let style = if focused {
                    theme.selected()
                } else {
                    Style::default()
                };
                f.render_widget(
                    Paragraph::new(Span::styled(
                        ellipsize(&text, r.width as usize),
                        if bad == Some(field) {
                            theme.error()
                        } else {
                            style
                        },
                    )),
                    r,
                );
            }
        }
        let msg_y = Field::ALL.len() as u16 + 1;
        if msg_y < inner.height {
            let line = match &self.error {
                Some((field, why)) => {
                    let what = match field {
                        Some(f) => format!("{}: {why}", f.label()),
                        None => why.clone(),
                    };
                    Line::styled(what, theme.error())
                }
                None => Line::styled(
                    "ctrl-s (or enter on the last field) runs · esc cancels",
                    theme.muted(),
                ),
            };
            // Engine messages are long ("Conflict. The container name …"): two lines, wrapped.
            let area = Rect {
                y: inner.y + msg_y,
                height: (inner.height - msg_y).min(2),
                ..inner
            };
            f.render_widget(Paragraph::new(line).wrap(Wrap { trim: true }), area);
        }
    }

    fn on_key(&mut self, key: KeyEvent, cx: &mut Cx) -> Outcome {
        let n = Field::ALL.len();
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        match key.code {
            KeyCode::Esc => return Outcome::Close,
            KeyCode::Char('s') if ctrl => return self.submit(cx),
            KeyCode::Enter if self.focus == n - 1 => return self.submit(cx),
            KeyCode::Enter | KeyCode::Tab | KeyCode::Down => self.focus = (self.focus + 1) % n,
            KeyCode::BackTab | KeyCode::Up => self.focus = (self.focus + n - 1) % n,
            KeyCode::Char(' ') if self.focus >= Field::TEXT => self.toggle(),
            _ if self.focus < Field::TEXT => {
                self.inputs[self.focus].handle_event(&Event::Key(key));
                if matches!(&self.error, Some((Some(f), _)) if *f == self.field()) {
                    self.error = None;
                }
            }
            _ => {}
        }
        Outcome::Keep
    }

    fn on_paste(&mut self, text: &str) {
        if self.focus < Field::TEXT {
            for c in text.chars().filter(|c| !c.is_control()) {
                self.inputs[self.focus].handle(tui_input::InputRequest::InsertChar(c));
            }
        }
    }

    fn hints(&self) -> Vec<(String, String)> {
        vec![
            hint("tab", "next field"),
            hint("space", "toggle"),
            hint("ctrl-s", "run"),
            hint("esc", "cancel"),
        ]
    }
}

#[cfg(test)]
mod tests;
