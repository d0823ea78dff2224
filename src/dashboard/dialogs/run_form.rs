//! The run form (images view, `r`): image, name, ports, env, volumes, network, command and the
//! `--rm` / detach checkboxes, each text field a tui-input line. Submitting checks every field
//! (saying which one is wrong and why, the form stays open), then builds exactly the body
//! `berth run` sends: the fields become run flags that go through the CLI's own parser and
//! `create_body`, so the dashboard and the command line cannot drift apart.

use clap::Parser;
use crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
use hyper::Method;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};
use ratatui::Frame;
use serde_json::Value;
use tui_input::backend::crossterm::EventHandler;
use tui_input::Input;

use super::prompt::draw_input;
use super::{frame, hint, Dialog, Outcome};
use crate::client::query;
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

/// What the user typed: kept with the create call so a refused create brings the form back
/// as it was.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RunValues {
    pub image: String,
    pub name: String,
    pub ports: String,
    pub env: String,
    pub volumes: String,
    pub network: String,
    pub command: String,
    pub rm: bool,
    pub detach: bool,
}

/// A checked form: the create call's path and body.
#[derive(Debug, Clone, PartialEq)]
pub struct RunRequest {
    pub path: String,
    pub body: Value,
}

/// Comma-separated items, trimmed, empty ones dropped.
fn items(s: &str) -> Vec<String> {
    s.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

/// `A=1, B=x,y`: a comma starts a new variable only when `NAME=` follows it, so values may hold
/// commas.
fn env_items(s: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for part in s.split(',') {
        let starts_var = part.trim_start().split_once('=').is_some_and(|(k, _)| {
            !k.is_empty()
                && k.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.' || c == '-')
        });
        match out.last_mut() {
            Some(last) if !starts_var => {
                last.push(',');
                last.push_str(part);
            }
            _ => out.push(part.to_string()),
        }
    }
    out.into_iter()
        .map(|e| e.trim().to_string())
        .filter(|e| !e.is_empty())
        .collect()
}

/// docker's container name rule (`[a-zA-Z0-9][a-zA-Z0-9_.-]+`).
fn valid_name(n: &str) -> bool {
    let mut chars = n.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphanumeric())
        && n.len() >= 2
        && chars.all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c))
}

/// The part of a CLI flag error after `flag: ` (the field label already says which flag).
fn flag_reason(e: &dyn std::fmt::Display) -> String {
    let s = e.to_string();
    match s.split_once(" flag: ") {
        Some((_, why)) => why.to_string(),
        None => s,
    }
}

impl RunValues {
    /// Checks every field and builds the create request, or names the first bad field.
    pub fn build(&self) -> Result<RunRequest, (Field, String)> {
        let image = self.image.trim();
        if image.is_empty() {
            return Err((Field::Image, "which image to run?".into()));
        }
        if image.contains(char::is_whitespace) {
            return Err((Field::Image, "an image reference has no spaces".into()));
        }
        let name = self.name.trim();
        if !name.is_empty() && !valid_name(name) {
            return Err((
                Field::Name,
                "letters, digits and _ . - only, at least 2, starting with a letter or digit"
                    .into(),
            ));
        }
        let ports = items(&self.ports);
        for p in &ports {
            crate::commands::networks::publish_options(std::slice::from_ref(p), &[])
                .map_err(|e| (Field::Ports, format!("{p}: {}", flag_reason(&e))))?;
        }
        let env = env_items(&self.env);
        for e in &env {
            match e.split_once('=') {
                Some((k, _)) if !k.trim().is_empty() && !k.contains(char::is_whitespace) => {}
                _ => return Err((Field::Env, format!("\"{e}\" is not NAME=value"))),
            }
        }
        let volumes = items(&self.volumes);
        for v in &volumes {
            crate::commands::volumes::mount_flags("run", std::slice::from_ref(v), &[], &[])
                .map_err(|e| (Field::Volumes, format!("{v}: {}", flag_reason(&e))))?;
        }
        let network = match self.network.trim() {
            "" => "bridge",
            n => n,
        };
        if network.contains(char::is_whitespace) {
            return Err((Field::Network, "a network name has no spaces".into()));
        }
        let command = shlex::split(self.command.trim()).ok_or((
            Field::Command,
            "unbalanced quotes (or a trailing backslash)".to_string(),
        ))?;

        // The same flags `berth run` would get, through the same parser and body builder.
        // `--flag=value` keeps values that start with '-' from being read as flags.
        let mut argv: Vec<String> = vec!["berth".into(), "run".into()];
        if !name.is_empty() {
            argv.push(format!("--name={name}"));
        }
        argv.extend(ports.iter().map(|p| format!("--publish={p}")));
        argv.extend(env.iter().map(|e| format!("--env={e}")));
        argv.extend(volumes.iter().map(|v| format!("--volume={v}")));
        argv.push(format!("--network={network}"));
        if self.rm {
            argv.push("--rm".into());
        }
        if self.detach {
            argv.push("--detach".into());
        } else {
            // Attached from the dashboard means a terminal session, like `docker run -it`.
            argv.extend(["--interactive".into(), "--tty".into()]);
        }
        argv.push("--".into());
        argv.push(image.to_string());
        argv.extend(command);
        let args = match crate::cli::Cli::try_parse_from(&argv) {
            Ok(crate::cli::Cli {
                command: Some(crate::cli::Cmd::Run(r)),
                ..
            }) => r,
            Ok(_) => return Err((Field::Image, "could not read the form".into())),
            Err(e) => return Err((Field::Image, e.to_string())),
        };
        // Variables without a value would take the dashboard's own; the form has none.
        let body = crate::commands::run::create_body(&args.opts, "run", args.detach, &|_| None)
            .map_err(|e| (Field::Image, flag_reason(&e)))?;
        let q: Vec<(&str, String)> = if name.is_empty() {
            Vec::new()
        } else {
            vec![("name", name.to_string())]
        };
        Ok(RunRequest {
            path: format!("/containers/create{}", query(&q)),
            body,
        })
    }
}

/// Which field an engine refusal is about, from its message (the form shows it there).
pub fn field_of_engine_error(message: &str) -> Option<Field> {
    let m = message.to_lowercase();
    if m.contains("container name") || m.contains("is already in use") {
        Some(Field::Name)
    } else if m.contains("no such image") || m.contains("pull access") {
        Some(Field::Image)
    } else if m.contains("port") {
        Some(Field::Ports)
    } else if m.contains("network") {
        Some(Field::Network)
    } else if m.contains("volume") || m.contains("mount") || m.contains("bind") {
        Some(Field::Volumes)
    } else {
        None
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
                cx.push(Cmd::Effect(Effect::call_with(
                    Method::POST,
                    req.path,
                    req.body,
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
mod tests {
    use super::*;
    use serde_json::json;

    fn form(f: impl FnOnce(&mut RunValues)) -> Result<RunRequest, (Field, String)> {
        let mut v = RunValues {
            image: "busybox".into(),
            network: "bridge".into(),
            detach: true,
            ..Default::default()
        };
        f(&mut v);
        v.build()
    }

    #[test]
    fn fields_map_to_the_run_body() {
        let r = form(|v| {
            v.name = "web".into();
            v.ports = "8080:80, 8443:443/tcp".into();
            v.env = "A=1, B=x,y".into();
            v.volumes = "data:/data, /srv:/c:ro".into();
            v.command = "sh -c 'echo hi; sleep 9'".into();
            v.rm = true;
        })
        .unwrap();
        assert_eq!(r.path, "/containers/create?name=web");
        let b = &r.body;
        assert_eq!(b["Image"], "busybox");
        assert_eq!(b["Cmd"], json!(["sh", "-c", "echo hi; sleep 9"]));
        assert_eq!(b["Env"], json!(["A=1", "B=x,y"]));
        assert_eq!(b["Tty"], false);
        assert_eq!(b["HostConfig"]["AutoRemove"], true);
        assert_eq!(b["HostConfig"]["NetworkMode"], "bridge");
        assert_eq!(
            b["HostConfig"]["Binds"],
            json!(["data:/data", "/srv:/c:ro"])
        );
        assert_eq!(
            b["HostConfig"]["PortBindings"]["80/tcp"],
            json!([{"HostIp": "", "HostPort": "8080"}])
        );
        assert!(b["ExposedPorts"]["443/tcp"].is_object());
    }

    #[test]
    fn attached_runs_get_a_terminal() {
        let r = form(|v| v.detach = false).unwrap();
        assert_eq!(r.path, "/containers/create");
        assert_eq!(r.body["Tty"], true);
        assert_eq!(r.body["OpenStdin"], true);
        assert_eq!(r.body["AttachStdin"], true);
        assert!(r.body.get("Cmd").is_none());
    }

    #[test]
    fn bad_fields_say_which_and_why() {
        let e = |f: fn(&mut RunValues)| form(f).unwrap_err();
        assert_eq!(e(|v| v.image = " ".into()).0, Field::Image);
        assert_eq!(e(|v| v.name = "-x".into()).0, Field::Name);
        let (f, why) = e(|v| v.ports = "8080:80, 99999:80".into());
        assert_eq!(f, Field::Ports);
        assert!(why.starts_with("99999:80"), "{why}");
        assert_eq!(e(|v| v.env = "=2, A=1".into()).0, Field::Env);
        assert_eq!(e(|v| v.env = "JUSTNAME".into()).0, Field::Env);
        assert_eq!(e(|v| v.volumes = ":/x".into()).0, Field::Volumes);
        assert_eq!(e(|v| v.network = "a b".into()).0, Field::Network);
        assert_eq!(e(|v| v.command = "echo 'unclosed".into()).0, Field::Command);
    }

    #[test]
    fn values_starting_with_a_dash_are_not_flags() {
        let r = form(|v| v.command = "--help -x".into()).unwrap();
        assert_eq!(r.body["Cmd"], json!(["--help", "-x"]));
        let r = form(|v| v.env = "A=-1".into()).unwrap();
        assert_eq!(r.body["Env"], json!(["A=-1"]));
    }

    #[test]
    fn engine_errors_point_at_a_field() {
        assert_eq!(
            field_of_engine_error("Conflict. The container name \"/web\" is already in use"),
            Some(Field::Name)
        );
        assert_eq!(
            field_of_engine_error("No such image: nope:latest"),
            Some(Field::Image)
        );
        assert_eq!(field_of_engine_error("something else"), None);
    }
}
