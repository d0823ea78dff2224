//! The images view: one row per tag (dangling images as <none>), with the number of containers
//! using each image. `names` checks and splits the names users type (pull, tag); `prune` is the
//! prune dialog; `empty` what the view offers when there are no images at all. Importing from a
//! file is `dialogs::import`.

mod empty;
mod names;
mod prune;

pub use names::{pull_task, split_new_name};
use prune::prune_summary;
pub use prune::{prune_call, PruneDialog};

use crossterm::event::MouseEvent;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::Span;
use ratatui::widgets::Cell;
use ratatui::Frame;

use super::list::ListState;
use super::table::{self, DataToCell, ListView, TableColumn};
use super::{Cmd, Cx, DrawCx, View, ViewId};
use crate::client::api::{containers, images};
use crate::dashboard::dialogs::build_form;
use crate::dashboard::dialogs::confirm::Confirm;
use crate::dashboard::dialogs::history::HistoryDialog;
use crate::dashboard::dialogs::import::ImportDialog;
use crate::dashboard::dialogs::prompt::Prompt;
use crate::dashboard::dialogs::run_form::{field_of_engine_error, RunForm};
use crate::dashboard::dialogs::text::TextViewer;
use crate::dashboard::keymap::Action;
use crate::dashboard::msg::{Effect, Purpose};
use crate::dashboard::store::model::Image;
use crate::dashboard::store::tasks::TaskState;
use crate::dashboard::store::Store;
use crate::dashboard::widgets::bytes;
use crate::dashboard::widgets::table::{col, Column};

const SORT_FIELDS: [&str; 4] = ["repository", "created", "size", "in use"];

/// One row: an image under one of its names.
#[derive(Debug, Clone, PartialEq)]
pub struct ImageRow {
    pub index: usize,
    pub repo: String,
    pub tag: String,
}

impl ImageRow {
    /// The name to act on: `repo:tag`, or the id for a dangling image.
    pub fn reference(&self, image: &Image) -> String {
        if self.repo == "<none>" {
            image.id.clone()
        } else {
            format!("{}:{}", self.repo, self.tag)
        }
    }
}

/// The table's columns (which ones show depends on the width).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Col {
    Mark,
    Repo,
    Tag,
    Id,
    Created,
    Size,
    InUse,
}

impl TableColumn for Col {
    fn column(self) -> Column {
        match self {
            Col::Mark => col("", Constraint::Length(1)),
            Col::Repo => col("REPOSITORY", Constraint::Fill(3)),
            Col::Tag => col("TAG", Constraint::Fill(1)),
            Col::Id => col("IMAGE ID", Constraint::Length(12)),
            Col::Created => col("CREATED", Constraint::Length(14)),
            Col::Size => col("SIZE", Constraint::Length(9)),
            Col::InUse => col("IN USE", Constraint::Length(6)),
        }
    }

    fn sort_field(self) -> Option<usize> {
        match self {
            Col::Repo | Col::Tag => Some(0),
            Col::Created => Some(1),
            Col::Size => Some(2),
            Col::InUse => Some(3),
            _ => None,
        }
    }

    fn is_mark(self) -> bool {
        self == Col::Mark
    }
}

pub struct ImagesView {
    pub list: ListState,
    pub rows: Vec<ImageRow>,
    pub dangling_only: bool,
}

impl Default for ImagesView {
    fn default() -> Self {
        ImagesView {
            list: ListState::with_sort(1, false, SORT_FIELDS.len()),
            rows: Vec::new(),
            dangling_only: false,
        }
    }
}

impl ImagesView {
    pub fn rebuild(&mut self, store: &Store) {
        let dangling_only = self.dangling_only;
        let rows = store
            .images
            .iter()
            .enumerate()
            .filter(|(_, img)| !dangling_only || img.is_dangling())
            .flat_map(|(index, img)| {
                img.tags()
                    .into_iter()
                    .map(move |(repo, tag)| ImageRow { index, repo, tag })
            });
        self.rows = self.list.fill(
            rows,
            |r| format!("{}:{} {}", r.repo, r.tag, store.images[r.index].short_id()),
            |a, b, field| {
                let (ia, ib) = (&store.images[a.index], &store.images[b.index]);
                match field {
                    1 => ib.created.cmp(&ia.created),
                    2 => ib.size.cmp(&ia.size),
                    3 => store
                        .containers_using_image(&ib.id)
                        .cmp(&store.containers_using_image(&ia.id)),
                    _ => std::cmp::Ordering::Equal,
                }
                .then_with(|| (&a.repo, &a.tag).cmp(&(&b.repo, &b.tag)))
            },
            |r| format!("{}|{}:{}", store.images[r.index].id, r.repo, r.tag),
        );
    }

    pub fn selected<'s>(&self, store: &'s Store) -> Option<(&ImageRow, &'s Image)> {
        let row = self.rows.get(self.list.cursor.selected)?;
        Some((row, store.images.get(row.index)?))
    }

    /// (reference, image) for the marked rows, else the selected one.
    pub fn targets<'s>(&self, store: &'s Store) -> Vec<(String, &'s Image)> {
        let marked: Vec<usize> = (0..self.rows.len())
            .filter(|&i| self.list.is_marked(&self.list.keys[i]))
            .collect();
        let picks = if marked.is_empty() {
            vec![self.list.cursor.selected]
        } else {
            marked
        };
        picks
            .into_iter()
            .filter_map(|i| {
                let r = self.rows.get(i)?;
                let img = store.images.get(r.index)?;
                Some((r.reference(img), img))
            })
            .collect()
    }

    fn act(&mut self, action: Action, cx: &mut Cx) -> bool {
        let store = cx.store;
        match action {
            Action::RemoveImage | Action::ForceRemoveImage => {
                let targets = self.targets(store);
                if targets.is_empty() {
                    cx.error("no image selected");
                    return true;
                }
                let force = action == Action::ForceRemoveImage;
                let names: Vec<String> = targets.iter().map(|(r, _)| r.clone()).collect();
                let cmds = names
                    .iter()
                    .map(|r| {
                        Cmd::Effect(Effect::api(
                            images::remove(r, force, false),
                            Purpose::Action {
                                label: format!("remove {r}"),
                            },
                        ))
                    })
                    .collect();
                cx.dialog(Confirm::new(
                    if force { "Force remove" } else { "Remove" },
                    format!("Remove {}?", names.join(", ")),
                    cmds,
                ));
            }
            Action::Pull => {
                cx.dialog(Prompt::new(
                    "Pull an image",
                    "Image (name[:tag] or name@sha256:…; latest when no tag):",
                    "",
                    |text| pull_task(text).map(|c| vec![c]),
                ));
            }
            Action::Import => {
                // The file of a failed import or load comes back: nothing typed is lost to an
                // engine error.
                let retry = store
                    .tasks
                    .iter()
                    .rev()
                    .find(|t| t.upload.is_some())
                    .filter(|t| matches!(t.state, TaskState::Failed(_)))
                    .and_then(|t| t.upload.as_ref())
                    .map(|p| p.display().to_string())
                    .unwrap_or_default();
                cx.dialog(ImportDialog::new(&retry));
            }
            Action::RunImage => {
                let Some((row, img)) = self.selected(store) else {
                    cx.error("no image selected: pull one first");
                    return true;
                };
                cx.dialog(RunForm::new(&row.reference(img)));
            }
            Action::Tag => {
                let Some((row, img)) = self.selected(store) else {
                    cx.error("no image selected");
                    return true;
                };
                let current = row.reference(img);
                let initial = if row.repo == "<none>" {
                    String::new()
                } else {
                    current.clone()
                };
                let id = img.id.clone();
                cx.dialog(Prompt::new(
                    "Tag",
                    format!("New name for {current} (repository[:tag]):"),
                    &initial,
                    move |text| {
                        let (repo, tag) = split_new_name(text)?;
                        Ok(vec![Cmd::Effect(Effect::api(
                            images::tag(&id, &repo, Some(&tag)),
                            Purpose::Action {
                                label: format!("tag {current} as {repo}:{tag}"),
                            },
                        ))])
                    },
                ));
            }
            Action::Push => {
                let Some((row, _)) = self.selected(store) else {
                    cx.error("no image selected");
                    return true;
                };
                if row.repo == "<none>" {
                    cx.error("an untagged image cannot be pushed: tag it first");
                    return true;
                }
                let push = images::push(&row.repo, &row.tag, None);
                cx.push(Cmd::StartTask {
                    title: format!("push {}:{}", row.repo, row.tag),
                    method: push.method,
                    path: push.path,
                    body: push.body,
                    show: true,
                    auth_for: Some(row.repo.clone()),
                    upload: None,
                });
            }
            Action::PruneImages => cx.dialog(PruneDialog),
            Action::BuildImage => cx.dialog(build_form::open(store)),
            Action::History => {
                let Some((row, img)) = self.selected(store) else {
                    return false;
                };
                cx.effect(Effect::api(
                    images::history(&img.id),
                    Purpose::History { id: img.id.clone() },
                ));
                cx.dialog(HistoryDialog::loading(
                    format!("history of {}", row.reference(img)),
                    img.id.clone(),
                ));
            }
            Action::Dangling => {
                self.dangling_only = !self.dangling_only;
                self.rebuild(store);
                cx.info(if self.dangling_only {
                    "showing dangling images only"
                } else {
                    "showing all images"
                });
            }
            Action::Inspect | Action::Open => {
                let Some((row, img)) = self.selected(store) else {
                    return false;
                };
                let title = format!("inspect {}", row.reference(img));
                let purpose = Purpose::Inspect {
                    title: title.clone(),
                };
                cx.effect(Effect::api(images::inspect(&img.id), purpose.clone()));
                cx.dialog(TextViewer::loading(title, purpose));
            }
            Action::Back if !self.list.marks.is_empty() => self.list.marks.clear(),
            _ => return false,
        }
        true
    }
}

impl DataToCell<Col> for ImagesView {
    fn to_cell(&self, row: usize, column: Col, cx: &DrawCx) -> Cell<'static> {
        let (store, theme) = (cx.store, &cx.config.theme);
        let r = &self.rows[row];
        let img = &store.images[r.index];
        match column {
            // The table draws the marks.
            Col::Mark => Cell::default(),
            Col::Repo => Cell::from(r.repo.clone()),
            Col::Tag => Cell::from(r.tag.clone()),
            Col::Id => Cell::from(Span::styled(img.short_id().to_string(), theme.muted())),
            Col::Created => Cell::from(crate::format::units::ago(img.created, cx.now)),
            Col::Size => Cell::from(bytes(img.size as f64)),
            Col::InUse => {
                let used = store.containers_using_image(&img.id);
                Cell::from(if used > 0 {
                    used.to_string()
                } else {
                    "-".into()
                })
            }
        }
    }
}

impl ListView for ImagesView {
    type Col = Col;

    table::list_view_basics!();

    /// Narrow terminals drop IMAGE ID and IN USE so names keep their room.
    fn columns(&self, width: u16) -> Vec<Col> {
        let wide = width >= 100;
        let mut kinds = vec![Col::Mark, Col::Repo, Col::Tag];
        if wide {
            kinds.push(Col::Id);
        }
        kinds.extend([Col::Created, Col::Size]);
        if wide {
            kinds.push(Col::InUse);
        }
        kinds
    }

    fn largest_first(&self) -> bool {
        // Every field but the name sorts newest, largest or most used first.
        self.list.sort.0 != 0
    }

    fn empty(&self, cx: &DrawCx) -> String {
        let store = cx.store;
        if !store.loaded.images {
            "loading…".to_string()
        } else if store.images.is_empty() {
            // The first-run offer is drawn below the header instead.
            String::new()
        } else if self.dangling_only {
            "no dangling images".into()
        } else {
            format!("no image matches \"{}\"", self.list.filter)
        }
    }

    fn sort_label(&self) -> Option<String> {
        Some(SORT_FIELDS[self.list.sort.0].to_string())
    }
}

impl View for ImagesView {
    fn id(&self) -> ViewId {
        ViewId::Images
    }

    fn tab_title(&self, store: &Store) -> String {
        format!("Images {}", store.images.len())
    }

    fn draw(&mut self, f: &mut Frame, area: Rect, cx: &DrawCx) {
        table::draw(self, f, area, cx);
        let store = cx.store;
        if store.loaded.images && store.images.is_empty() && area.height > 1 {
            empty::draw(
                f,
                Rect {
                    y: area.y + 1,
                    height: area.height - 1,
                    ..area
                },
                cx,
            );
        }
    }

    fn commands(&self, _store: &Store) -> Vec<Action> {
        vec![
            Action::Pull,
            Action::BuildImage,
            Action::Import,
            Action::RunImage,
            Action::Tag,
            Action::Push,
            Action::RemoveImage,
            Action::History,
            Action::Dangling,
            Action::PruneImages,
            Action::Inspect,
            Action::Filter,
        ]
    }

    fn on_action(&mut self, action: Action, cx: &mut Cx) -> bool {
        table::on_action(self, action, cx)
    }

    fn on_mouse(&mut self, ev: MouseEvent, cx: &mut Cx) -> bool {
        table::on_mouse(self, ev, cx)
    }

    fn set_filter(&mut self, text: &str, store: &Store) {
        table::set_filter(self, text, store);
    }

    fn filter(&self) -> &str {
        &self.list.filter
    }

    fn on_store(&mut self, store: &Store) {
        self.rebuild(store);
    }

    /// The run form's chain (create → start → select or attach) and prune's summary.
    fn on_answer(
        &mut self,
        purpose: &Purpose,
        result: &Result<Option<serde_json::Value>, String>,
        cx: &mut Cx,
    ) -> bool {
        match (purpose, result) {
            (Purpose::RunCreate { form }, Ok(v)) => {
                let Some(id) = v.as_ref().and_then(|v| v["Id"].as_str()) else {
                    cx.error("run: the engine's create answer has no Id");
                    return true;
                };
                let name = match form.name.trim() {
                    "" => id.chars().take(12).collect(),
                    n => n.to_string(),
                };
                cx.effect(Effect::api(
                    containers::start(id),
                    Purpose::RunStart {
                        id: id.to_string(),
                        name,
                        detach: form.detach,
                    },
                ));
            }
            (Purpose::RunCreate { form }, Err(e)) => {
                // The form comes back as it was, the engine's message at the field it is about.
                cx.error(format!("run {}: {e}", form.image.trim()));
                cx.dialog(RunForm::with(
                    (**form).clone(),
                    Some((field_of_engine_error(e), e.clone())),
                ));
            }
            (Purpose::RunStart { id, name, detach }, Ok(_)) => {
                if *detach {
                    cx.push(Cmd::SelectContainer(id.clone()));
                    cx.info(format!("started {name}"));
                } else {
                    cx.effect(Effect::Attach {
                        container: id.clone(),
                    });
                }
            }
            (Purpose::RunStart { id, name, .. }, Err(e)) => {
                // Created but not started: show it, so it can be fixed or removed.
                cx.push(Cmd::SelectContainer(id.clone()));
                cx.error(format!("start {name}: {e}"));
            }
            (Purpose::PruneImages, Ok(v)) => cx.info(prune_summary(
                v.as_ref().unwrap_or(&serde_json::Value::Null),
            )),
            (Purpose::PruneImages, Err(e)) => cx.error(format!("prune images: {e}")),
            _ => return false,
        }
        true
    }
}
