//! The images view: one row per tag (dangling images as <none>), with the number of containers
//! using each image.

use crossterm::event::MouseEvent;
use hyper::Method;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::Span;
use ratatui::widgets::{Cell, Row};
use ratatui::Frame;

use super::list::{Click, ListState};
use super::{Cmd, Cx, DrawCx, View, ViewId};
use crate::client::seg;
use crate::dashboard::dialogs::confirm::Confirm;
use crate::dashboard::dialogs::text::TextViewer;
use crate::dashboard::keymap::Action;
use crate::dashboard::msg::{Effect, Purpose};
use crate::dashboard::store::model::Image;
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
                        Cmd::Effect(Effect::call(
                            Method::DELETE,
                            format!("/images/{}{}", seg(r), if force { "?force=1" } else { "" }),
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
                cx.effect(Effect::call(
                    Method::GET,
                    format!("/images/{}/json", seg(&img.id)),
                    purpose.clone(),
                ));
                cx.dialog(TextViewer::loading(title, purpose));
            }
            Action::Back if !self.list.marks.is_empty() => self.list.marks.clear(),
            _ => return false,
        }
        true
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
        let columns = [
            col("", Constraint::Length(1)),
            col("REPOSITORY", Constraint::Fill(3)),
            col("TAG", Constraint::Fill(1)),
            col("IMAGE ID", Constraint::Length(12)),
            col("CREATED", Constraint::Length(14)),
            col("SIZE", Constraint::Length(9)),
            col("IN USE", Constraint::Length(6)),
        ];
        let sort_col = Some((
            match self.list.sort.0 {
                0 => 1,
                1 => 4,
                2 => 5,
                _ => 6,
            },
            self.list.sort.1,
        ));
        let empty = if !store.loaded.images {
            "loading…".to_string()
        } else if self.dangling_only {
            "no dangling images".into()
        } else if store.images.is_empty() {
            "no images: pull one (p) or build one with `berth build`".into()
        } else {
            format!("no image matches \"{}\"", self.list.filter)
        };
        let now = cx.now;
        let rows = &self.rows;
        let list = &self.list;
        let mut cursor = self.list.cursor;
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
                let used = store.containers_using_image(&img.id);
                let mark = if list.is_marked(&list.keys[i]) {
                    "●"
                } else {
                    " "
                };
                Row::new(vec![
                    Cell::from(Span::styled(mark, theme.fg(theme.marked))),
                    Cell::from(r.repo.clone()),
                    Cell::from(r.tag.clone()),
                    Cell::from(Span::styled(img.short_id().to_string(), theme.muted())),
                    Cell::from(crate::format::units::ago(img.created, now)),
                    Cell::from(bytes(img.size as f64)),
                    Cell::from(if used > 0 {
                        used.to_string()
                    } else {
                        "-".into()
                    }),
                ])
            },
        );
        self.list.cursor = cursor;
    }

    fn commands(&self, _store: &Store) -> Vec<Action> {
        vec![
            Action::Pull,
            Action::RunImage,
            Action::Tag,
            Action::Push,
            Action::RemoveImage,
            Action::History,
            Action::Dangling,
            Action::Inspect,
            Action::Filter,
        ]
    }

    fn on_action(&mut self, action: Action, cx: &mut Cx) -> bool {
        if self.list.on_action(action, cx.page) {
            if matches!(action, Action::Sort | Action::SortReverse) {
                self.rebuild(cx.store);
                cx.info(format!("sorted by {}", SORT_FIELDS[self.list.sort.0]));
            }
            return true;
        }
        self.act(action, cx)
    }

    fn on_mouse(&mut self, ev: MouseEvent, cx: &mut Cx) -> bool {
        match self.list.on_mouse(&ev) {
            Click::None => false,
            Click::Header(c) => {
                let field = match c {
                    1 | 2 => Some(0),
                    4 => Some(1),
                    5 => Some(2),
                    6 => Some(3),
                    _ => None,
                };
                if let Some(f) = field {
                    self.list.sort_by(f);
                    self.rebuild(cx.store);
                }
                true
            }
            Click::Activate => self.act(Action::Open, cx),
            _ => true,
        }
    }

    fn set_filter(&mut self, text: &str, store: &Store) {
        self.list.filter = text.to_string();
        self.rebuild(store);
    }

    fn filter(&self) -> &str {
        &self.list.filter
    }

    fn on_store(&mut self, store: &Store) {
        self.rebuild(store);
    }
}
