//! The containers view: compose projects as foldable groups, then loose containers; live CPU
//! (bar and sparkline), memory, network and block I/O rates from the stats streams; and the
//! container actions, on the marked rows, else a selected group, else the selected container.
//! Enter on a container opens the detail pane below the table (`super::detail`); the pane
//! follows the selection.
//!
//! One file per job: `rows` (filter, sort, group, fold), `actions` (the container actions),
//! `columns` (the columns per width and the row cells), `status` (the STATUS text) and `pane`
//! (the detail pane's place and keys).

mod actions;
mod columns;
mod pane;
mod rows;
mod status;

use std::collections::BTreeSet;

use crossterm::event::MouseEvent;
use ratatui::layout::Rect;
use ratatui::Frame;

use super::detail::Detail;
use super::list::ListState;
use super::table::{self, ListView};
use super::{Cx, DrawCx, View, ViewId};
use crate::dashboard::keymap::Action;
use crate::dashboard::msg::{Purpose, StreamItem, StreamKey};
use crate::dashboard::store::model::Container;
use crate::dashboard::store::Store;
use columns::Col;
use pane::split;
use rows::RowKind;

pub use actions::SHELL;
pub use status::status_text;

/// Sort fields, in the order `o` cycles through them.
const SORT_FIELDS: [&str; 6] = ["name", "image", "state", "created", "cpu", "memory"];
const SORT_NAME: usize = 0;
const SORT_IMAGE: usize = 1;
const SORT_STATE: usize = 2;
const SORT_CREATED: usize = 3;
const SORT_CPU: usize = 4;
const SORT_MEM: usize = 5;

pub struct ContainersView {
    list: ListState,
    rows: Vec<RowKind>,
    /// Show stopped containers too (the default, as Docker Desktop does).
    show_all: bool,
    folded: BTreeSet<String>,
    /// Container ids on screen at the last draw (their stats streams stay open).
    visible: Vec<String>,
    /// The detail pane (kept while closed, so it reopens on the same tab).
    detail: Detail,
    detail_open: bool,
    /// Table rows that fit at the last draw (page keys move by this while the pane is open).
    table_rows: usize,
    /// A container to select once it is in the list (`Cmd::SelectContainer`).
    pending_select: Option<String>,
}

impl Default for ContainersView {
    fn default() -> Self {
        ContainersView {
            list: ListState::with_sort(SORT_NAME, false, SORT_FIELDS.len()),
            rows: Vec::new(),
            show_all: true,
            folded: BTreeSet::new(),
            visible: Vec::new(),
            detail: Detail::default(),
            detail_open: false,
            table_rows: 0,
            pending_select: None,
        }
    }
}

impl ContainersView {
    /// Running containers whose rows are on screen, plus the selected one.
    pub fn wanted_stats(&self, store: &Store) -> Vec<String> {
        let mut ids: Vec<String> = self
            .visible
            .iter()
            .filter(|id| store.container(id).is_some_and(Container::is_running))
            .cloned()
            .collect();
        let pane = self
            .detail_open
            .then(|| self.detail.id.as_deref().and_then(|id| store.container(id)))
            .flatten();
        for c in self.selected_container(store).into_iter().chain(pane) {
            if c.is_running() && !ids.contains(&c.id) {
                ids.push(c.id.clone());
            }
        }
        ids
    }
}

impl View for ContainersView {
    fn id(&self) -> ViewId {
        ViewId::Containers
    }

    fn tab_title(&self, store: &Store) -> String {
        let running = store.containers.iter().filter(|c| c.is_running()).count();
        format!("Containers {running}/{}", store.containers.len())
    }

    fn draw(&mut self, f: &mut Frame, area: Rect, cx: &DrawCx) {
        let store = cx.store;
        if matches!(self.list.sort.0, SORT_CPU | SORT_MEM) {
            // Stats move every second; so does this order.
            self.rebuild(store);
        }
        let (table_area, pane_area) = if self.detail_open {
            split(area, self.rows.len())
        } else {
            (area, Rect::default())
        };
        self.table_rows = table_area.height.saturating_sub(1) as usize;
        table::draw(self, f, table_area, cx);
        // The containers on screen keep their stats streams open.
        let window = self.list.cursor.window(self.table_rows);
        self.visible = self.rows[window]
            .iter()
            .filter_map(|r| match r {
                RowKind::Container { index, .. } => Some(store.containers[*index].id.clone()),
                RowKind::Group { .. } => None,
            })
            .collect();
        if self.detail_open {
            self.detail.draw(f, pane_area, cx);
        }
    }

    fn commands(&self, store: &Store) -> Vec<Action> {
        let mut out = Vec::new();
        if self.detail_open {
            // The pane's keys first: they are what is new on screen.
            out.extend([Action::NextTab, Action::DetailScrollDown]);
            if self.detail.searching() {
                out.push(Action::Filter);
                if !self.detail.search().is_empty() {
                    out.push(Action::DetailNextMatch);
                }
            }
            out.push(Action::Open);
        }
        if let Some(c) = self.selected_container(store) {
            out.push(Action::StartStop);
            out.push(Action::Restart);
            if c.is_running() || c.is_paused() {
                out.push(Action::PauseToggle);
            }
            if c.is_running() {
                out.push(Action::Exec);
            }
            out.push(Action::Logs);
            out.push(Action::Remove);
            if !self.detail_open {
                out.push(Action::Open);
            }
        } else if let Some(RowKind::Group { .. }) = self.selected_row() {
            out.extend([Action::StartStop, Action::Logs, Action::Fold]);
        }
        out.extend([Action::Mark, Action::ToggleAll]);
        // With the Inspect tab shown, `/` searches it and is listed with the pane's keys.
        if !self.searching_detail() {
            out.push(Action::Filter);
        }
        out.push(Action::Palette);
        out
    }

    fn on_action(&mut self, action: Action, cx: &mut Cx) -> bool {
        if self.detail_action(action, cx) {
            return true;
        }
        let page = if self.detail_open && self.table_rows > 0 {
            self.table_rows
        } else {
            cx.page
        };
        let handled = table::on_action_paged(self, action, page, cx);
        self.sync_detail(cx);
        handled
    }

    fn on_mouse(&mut self, ev: MouseEvent, cx: &mut Cx) -> bool {
        if self.detail_open && self.detail.contains(&ev) {
            self.detail.on_mouse(&ev, cx);
            return true;
        }
        let handled = table::on_mouse(self, ev, cx);
        self.sync_detail(cx);
        handled
    }

    fn set_filter(&mut self, text: &str, store: &Store) {
        if self.searching_detail() {
            self.detail.set_search(text);
            return;
        }
        self.list.filter = text.to_string();
        self.rebuild(store);
    }

    fn filter(&self) -> &str {
        if self.searching_detail() {
            return self.detail.search();
        }
        &self.list.filter
    }

    fn filter_label(&self) -> String {
        if self.searching_detail() {
            return "search inspect: ".into();
        }
        "filter containers: ".into()
    }

    fn on_store(&mut self, store: &Store) {
        self.rebuild(store);
    }

    fn on_tick(&mut self, cx: &mut Cx) {
        if self.detail_open {
            // The store may have moved the selection (a container removed) since the last key.
            self.sync_detail(cx);
            self.detail.on_tick(cx);
        }
    }

    fn on_stream(&mut self, key: &StreamKey, item: Option<&StreamItem>, _cx: &mut Cx) {
        self.detail.on_stream(key, item);
    }

    fn on_answer(
        &mut self,
        purpose: &Purpose,
        result: &Result<Option<serde_json::Value>, String>,
        _cx: &mut Cx,
    ) -> bool {
        self.detail.on_answer(purpose, result)
    }
}

impl ListView for ContainersView {
    type Col = Col;

    table::list_view_basics!();

    fn columns(&self, width: u16) -> Vec<Col> {
        Self::columns_for(width)
    }

    fn largest_first(&self) -> bool {
        matches!(self.list.sort.0, SORT_CREATED | SORT_CPU | SORT_MEM)
    }

    fn empty(&self, cx: &DrawCx) -> String {
        let store = cx.store;
        if !store.loaded.containers {
            "loading…".to_string()
        } else if store.containers.is_empty() {
            "no containers yet: run one from the Images view (2, then r) or with `berth run`".into()
        } else if !self.list.filter.is_empty() {
            format!("no container matches \"{}\"", self.list.filter)
        } else {
            "no running containers (a shows all)".into()
        }
    }

    fn sort_label(&self) -> Option<String> {
        Some(format!(
            "{}{}",
            SORT_FIELDS[self.list.sort.0],
            if self.list.sort.1 { " (reversed)" } else { "" }
        ))
    }
}
