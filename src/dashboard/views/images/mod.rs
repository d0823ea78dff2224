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
use ratatui::widgets::{Cell, Row};
use ratatui::Frame;

use super::list::{list_action, list_filter, list_mouse, ListState, ListView};
use super::{Cmd, Cx, DrawCx, View, ViewId};
use crate::client::api::{containers, images};
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
use crate::dashboard::widgets::table::{self, col};

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
enum Col {
    Mark,
    Repo,
    Tag,
    Id,
    Created,
    Size,
    InUse,
}

impl Col {
    fn column(self) -> table::Column {
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

    /// The sort field a click on this column's header picks.
    fn sort_field(self) -> Option<usize> {
        match self {
            Col::Repo | Col::Tag => Some(0),
            Col::Created => Some(1),
            Col::Size => Some(2),
            Col::InUse => Some(3),
            _ => None,
        }
    }
}

pub struct ImagesView {
    pub list: ListState,
    pub rows: Vec<ImageRow>,
    pub dangling_only: bool,
    /// The columns of the last draw (header clicks map through them).
    kinds: Vec<Col>,
}

impl Default for ImagesView {
    fn default() -> Self {
        ImagesView {
            list: ListState::with_sort(1, false, SORT_FIELDS.len()),
            rows: Vec::new(),
            dangling_only: false,
            kinds: Vec::new(),
        }
    }
}

impl ImagesView {
    pub fn rebuild(&mut self, store: &Store) {
        let mut rows: Vec<ImageRow> = Vec::new();
        for (index, img) in store.images.iter().enumerate() {
            if self.dangling_only && !img.is_dangling() {
                continue;
            }
            for (repo, tag) in img.tags() {
                if self
                    .list
                    .matches(&format!("{repo}:{tag} {}", img.short_id()))
                {
                    rows.push(ImageRow { index, repo, tag });
                }
            }
        }
        let (field, desc) = self.list.sort;
        rows.sort_by(|a, b| {
            let (ia, ib) = (&store.images[a.index], &store.images[b.index]);
            let ord = match field {
                1 => ib.created.cmp(&ia.created),
                2 => ib.size.cmp(&ia.size),
                3 => store
                    .containers_using_image(&ib.id)
                    .cmp(&store.containers_using_image(&ia.id)),
                _ => std::cmp::Ordering::Equal,
            }
            .then_with(|| (&a.repo, &a.tag).cmp(&(&b.repo, &b.tag)));
            if desc {
                ord.reverse()
            } else {
                ord
            }
        });
        let keys = rows
            .iter()
            .map(|r| format!("{}|{}:{}", store.images[r.index].id, r.repo, r.tag))
            .collect();
        self.rows = rows;
        self.list.set_keys(keys);
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

impl ListView for ImagesView {
    fn list(&mut self) -> &mut ListState {
        &mut self.list
    }

    fn rebuild(&mut self, store: &Store) {
        ImagesView::rebuild(self, store);
    }

    fn act(&mut self, action: Action, cx: &mut Cx) -> bool {
        ImagesView::act(self, action, cx)
    }

    fn header_sort(&self, c: usize) -> Option<usize> {
        self.kinds.get(c).and_then(|k| k.sort_field())
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
        let store = cx.store;
        let theme = &cx.config.theme;
        // Narrow terminals drop IMAGE ID and IN USE so names keep their room.
        let wide = area.width >= 100;
        let mut kinds = vec![Col::Mark, Col::Repo, Col::Tag];
        if wide {
            kinds.push(Col::Id);
        }
        kinds.extend([Col::Created, Col::Size]);
        if wide {
            kinds.push(Col::InUse);
        }
        let columns: Vec<_> = kinds.iter().map(|k| k.column()).collect();
        let sorted_kind = match self.list.sort.0 {
            0 => Col::Repo,
            1 => Col::Created,
            2 => Col::Size,
            _ => Col::InUse,
        };
        let sort_col = kinds
            .iter()
            .position(|&k| k == sorted_kind)
            // Every field but the name sorts newest, largest or most used first.
            .map(|i| (i, self.list.arrow_descending(sorted_kind != Col::Repo)));
        let first_run = store.loaded.images && store.images.is_empty();
        let empty = if !store.loaded.images {
            "loading…".to_string()
        } else if first_run {
            // The first-run offer is drawn below the header instead.
            String::new()
        } else if self.dangling_only {
            "no dangling images".into()
        } else {
            format!("no image matches \"{}\"", self.list.filter)
        };
        let now = cx.now;
        let rows = &self.rows;
        let list = &self.list;
        let mut cursor = self.list.cursor;
        self.kinds = kinds.clone();
        self.list.geometry = table::draw(
            f,
            area,
            &columns,
            &mut cursor,
            sort_col,
            theme,
            &empty,
            |i, _| {
                let r = &rows[i];
                let img = &store.images[r.index];
                Row::new(kinds.iter().map(|k| match k {
                    Col::Mark => Cell::from(Span::styled(
                        if list.is_marked(&list.keys[i]) {
                            "●"
                        } else {
                            " "
                        },
                        theme.fg(theme.marked),
                    )),
                    Col::Repo => Cell::from(r.repo.clone()),
                    Col::Tag => Cell::from(r.tag.clone()),
                    Col::Id => Cell::from(Span::styled(img.short_id().to_string(), theme.muted())),
                    Col::Created => Cell::from(crate::format::units::ago(img.created, now)),
                    Col::Size => Cell::from(bytes(img.size as f64)),
                    Col::InUse => {
                        let used = store.containers_using_image(&img.id);
                        Cell::from(if used > 0 {
                            used.to_string()
                        } else {
                            "-".into()
                        })
                    }
                }))
            },
        );
        self.list.cursor = cursor;
        if first_run && area.height > 1 {
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
        list_action(self, action, cx)
    }

    fn on_mouse(&mut self, ev: MouseEvent, cx: &mut Cx) -> bool {
        list_mouse(self, ev, cx)
    }

    fn set_filter(&mut self, text: &str, store: &Store) {
        list_filter(self, text, store);
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
