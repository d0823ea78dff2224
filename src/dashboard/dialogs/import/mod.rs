//! Import an image from a file, the way to get images with no registry in reach. First a path
//! prompt: Tab completes file names (the common prefix of the matches, which are listed under
//! the line; `~` is home; directories end with `/`). Enter has the file looked at: an image
//! archive (`docker save`, OCI) is loaded at once; a root file system tarball asks for the
//! image's name (made from the file's name by default) and an optional command first, and Esc
//! there goes back to the path. Every problem (no such file, not a tar, an xz tarball) shows
//! under the line with the path kept. File system work happens off screen: the dialog asks with
//! `Effect::Files` and takes the answer in `on_files`.

pub mod task;

use crossterm::event::{Event, KeyCode, KeyEvent};
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::Paragraph;
use ratatui::Frame;
use tui_input::backend::crossterm::EventHandler;
use tui_input::Input;
use unicode_width::UnicodeWidthStr;

use super::network_form::{Field, Form};
use super::prompt::draw_input;
use super::{frame, hint, Dialog, Outcome};
use crate::dashboard::files::{Archive, ArchiveKind, FileAnswer, FileRequest};
use crate::dashboard::msg::Effect;
use crate::dashboard::views::{Cx, DrawCx};
use crate::dashboard::widgets::{bytes, centered, ellipsize, wrap_words};
use task::{default_name, import_task, load_task};

/// Rows the completion list may take.
const LIST_ROWS: usize = 8;
const WIDTH: u16 = 76;

enum Stage {
    /// Typing the path.
    Path,
    /// A rootfs tarball: its image's name and command.
    Name(Form),
}

pub struct ImportDialog {
    stage: Stage,
    input: Input,
    /// The last completion's matches (when there were several), and how many there were.
    candidates: Vec<String>,
    matched: usize,
    /// The text an answer is awaited for: a completion or a look at the file.
    pending: Option<FileRequest>,
    error: Option<String>,
}

impl ImportDialog {
    /// `initial`: a path to start from (a failed import's, so it can be retried).
    pub fn new(initial: &str) -> Self {
        ImportDialog {
            stage: Stage::Path,
            input: Input::new(initial.to_string()),
            candidates: Vec::new(),
            matched: 0,
            pending: None,
            error: None,
        }
    }

    fn ask(&mut self, req: FileRequest, cx: &mut Cx) {
        self.pending = Some(req.clone());
        cx.effect(Effect::Files(req));
    }

    fn on_path_key(&mut self, key: KeyEvent, cx: &mut Cx) -> Outcome {
        match key.code {
            KeyCode::Esc => return Outcome::Close,
            KeyCode::Tab | KeyCode::BackTab => {
                let typed = self.input.value().to_string();
                self.ask(FileRequest::Complete { typed }, cx);
            }
            KeyCode::Enter => {
                let typed = self.input.value().trim().to_string();
                if typed.is_empty() {
                    self.error = Some("type the path of a tar file (tab completes)".into());
                } else {
                    self.error = None;
                    self.ask(FileRequest::Inspect { typed }, cx);
                }
            }
            _ => {
                self.input.handle_event(&Event::Key(key));
                // What was listed or said was about the text before this key.
                self.candidates.clear();
                self.error = None;
                self.pending = None;
            }
        }
        Outcome::Keep
    }

    /// A rootfs tarball: on to naming its image.
    fn name_stage(&mut self, archive: Archive) {
        let file = archive.path.clone();
        let note = format!(
            "{} is a root file system ({}, {}): it becomes a one-layer image.",
            file.file_name().map_or_else(
                || file.display().to_string(),
                |n| n.to_string_lossy().into()
            ),
            archive.compression.label(),
            bytes(archive.size as f64),
        );
        let form = Form::new(
            "Import a root file system",
            vec![
                Field::text("Name", &default_name(&file), "repository[:tag]"),
                Field::text("Command", "", "optional: the default command, e.g. sh"),
            ],
            move |v| import_task(&archive, v.text(0), v.text(1)).map(|c| vec![c]),
        )
        .with_note(note)
        .with_esc("back");
        self.stage = Stage::Name(form);
    }

    fn draw_path(&self, f: &mut Frame, area: Rect, cx: &DrawCx) {
        let theme = &cx.config.theme;
        let inner_w = WIDTH.min(area.width).saturating_sub(2) as usize;
        let (list, more) = columns(&self.candidates, self.matched, inner_w);
        // What the last line says: a problem (wrapped, it names paths), the check under way,
        // or the keys.
        let (message, style) = match (&self.error, &self.pending) {
            (Some(e), _) => (wrap_words(e, inner_w), theme.error()),
            (None, Some(FileRequest::Inspect { typed })) => {
                (vec![format!("looking at {typed}…")], theme.muted())
            }
            _ => (
                vec!["tab: complete   enter: import   esc: cancel".to_string()],
                theme.muted(),
            ),
        };
        let message: Vec<String> = message.into_iter().take(4).collect();
        // Borders, label, input, the list (with a blank line before it), the message.
        let list_h = if list.is_empty() { 0 } else { list.len() + 1 };
        let height = 4 + list_h + usize::from(more.is_some()) + message.len();
        let rect = centered(area, WIDTH, height as u16);
        let inner = frame(f, rect, "Import an image from a file", theme);
        if inner.width == 0 || inner.height == 0 {
            return;
        }
        // Label, the input's line (drawn over), the list, then the message at the bottom.
        let mut lines = vec![
            Line::raw("File: an image archive (docker save, OCI) or a rootfs tarball"),
            Line::raw(""),
        ];
        if !list.is_empty() {
            lines.push(Line::raw(""));
            lines.extend(
                list.into_iter()
                    .map(|l| Line::styled(l, theme.fg(theme.accent))),
            );
        }
        if let Some(m) = more {
            lines.push(Line::styled(m, theme.muted()));
        }
        let message_h = (message.len() as u16).min(inner.height.saturating_sub(2));
        f.render_widget(
            Paragraph::new(lines),
            Rect {
                height: inner.height - message_h,
                ..inner
            },
        );
        f.render_widget(
            Paragraph::new(
                message
                    .into_iter()
                    .map(|l| Line::styled(l, style))
                    .collect::<Vec<_>>(),
            ),
            Rect {
                y: inner.bottom() - message_h,
                height: message_h,
                ..inner
            },
        );
        if inner.height > 1 {
            draw_input(
                f,
                Rect {
                    y: inner.y + 1,
                    height: 1,
                    ..inner
                },
                &self.input,
                theme.selected(),
                true,
            );
        }
    }
}

/// Lays names out in columns across `width`, at most `LIST_ROWS` rows; the second value says how
/// many did not fit.
fn columns(names: &[String], matched: usize, width: usize) -> (Vec<String>, Option<String>) {
    if names.is_empty() || width == 0 {
        return (Vec::new(), None);
    }
    let widest = names.iter().map(|n| n.width()).max().unwrap_or(1);
    let col_w = (widest + 2).min(width);
    let per_row = (width / col_w).max(1);
    let shown = (per_row * LIST_ROWS).min(names.len());
    let rows: Vec<String> = names[..shown]
        .chunks(per_row)
        .map(|chunk| {
            chunk
                .iter()
                .map(|n| {
                    let n = ellipsize(n, col_w.saturating_sub(2).max(1));
                    let pad = col_w.saturating_sub(n.width());
                    format!("{n}{}", " ".repeat(pad))
                })
                .collect::<String>()
                .trim_end()
                .to_string()
        })
        .collect();
    let rest = matched.saturating_sub(shown);
    let more = (rest > 0).then(|| format!("… and {rest} more: type more of the name"));
    (rows, more)
}

impl Dialog for ImportDialog {
    fn draw(&mut self, f: &mut Frame, area: Rect, cx: &DrawCx) {
        match &mut self.stage {
            Stage::Path => self.draw_path(f, area, cx),
            Stage::Name(form) => form.draw(f, area, cx),
        }
    }

    fn on_key(&mut self, key: KeyEvent, cx: &mut Cx) -> Outcome {
        match &mut self.stage {
            Stage::Path => self.on_path_key(key, cx),
            Stage::Name(_) if key.code == KeyCode::Esc => {
                // Back to the path, as it was typed.
                self.stage = Stage::Path;
                self.pending = None;
                Outcome::Keep
            }
            Stage::Name(form) => form.on_key(key, cx),
        }
    }

    fn on_paste(&mut self, text: &str) {
        match &mut self.stage {
            Stage::Path => {
                for c in text.chars().filter(|c| !c.is_control()) {
                    self.input.handle(tui_input::InputRequest::InsertChar(c));
                }
                self.candidates.clear();
                self.error = None;
            }
            Stage::Name(form) => form.on_paste(text),
        }
    }

    fn on_files(&mut self, answer: &FileAnswer, cx: &mut Cx) -> Outcome {
        if !matches!(self.stage, Stage::Path) {
            return Outcome::Keep;
        }
        match answer {
            FileAnswer::Completed { typed, result }
                if self.pending
                    == Some(FileRequest::Complete {
                        typed: typed.clone(),
                    }) =>
            {
                self.pending = None;
                match result {
                    Ok(c) => {
                        if c.text != self.input.value() {
                            self.input = Input::new(c.text.clone());
                        }
                        self.candidates = c.candidates.clone();
                        self.matched = c.matched;
                        self.error = None;
                    }
                    Err(e) => {
                        self.candidates.clear();
                        self.error = Some(e.clone());
                    }
                }
            }
            FileAnswer::Inspected { typed, result }
                if self.pending
                    == Some(FileRequest::Inspect {
                        typed: typed.clone(),
                    }) =>
            {
                self.pending = None;
                match result {
                    Ok(a) if a.kind == ArchiveKind::Image => {
                        cx.push(load_task(a));
                        return Outcome::Close;
                    }
                    Ok(a) => self.name_stage(a.clone()),
                    Err(e) => self.error = Some(e.clone()),
                }
            }
            // An answer about text that has changed since.
            _ => {}
        }
        Outcome::Keep
    }

    fn hints(&self) -> Vec<(String, String)> {
        match &self.stage {
            Stage::Path => vec![
                hint("tab", "complete"),
                hint("enter", "import"),
                hint("esc", "cancel"),
            ],
            Stage::Name(form) => form.hints(),
        }
    }
}
