//! The Stacks view: every compose project on the engine (found by its labels, running or
//! stopped) and every compose file opened (`o`, `--compose-file`), one row each; `enter`
//! unfolds a project into its services (state, health, replicas, ports, image). The verbs
//! (`u` up, `D` down, …) run `compose::converge` as background tasks (`actions.rs`); the
//! rows and cells are in `cells.rs`.

mod actions;
mod cells;

use std::collections::BTreeSet;

use crossterm::event::MouseEvent;
use ratatui::layout::Rect;
use ratatui::Frame;

use super::list::ListState;
use super::table::{self, ListView};
use super::{Cx, DrawCx, View, ViewId};
use crate::dashboard::keymap::Action;
use crate::dashboard::store::stacks::derive::{self, Stack};
use crate::dashboard::store::Store;

#[derive(Default)]
pub struct StacksView {
    pub list: ListState,
    /// The stacks, derived from the store at its last change.
    stacks: Vec<Stack>,
    /// The rows in display order.
    rows: Vec<Row>,
    /// Unfolded projects, by name.
    expanded: BTreeSet<String>,
}

/// A project, or one of its services (indexes into `stacks` and its `services`).
#[derive(Debug, Clone, Copy, PartialEq)]
enum Row {
    Stack(usize),
    Service(usize, usize),
}

fn stack_key(name: &str) -> String {
    format!("stack:{name}")
}

fn service_key(stack: &str, service: &str) -> String {
    format!("service:{stack}/{service}")
}

impl StacksView {
    pub fn rebuild(&mut self, store: &Store) {
        self.stacks = derive::stacks(store);
        let mut rows = Vec::new();
        let mut keys = Vec::new();
        for (si, s) in self.stacks.iter().enumerate() {
            let text = format!(
                "{} {} {}",
                s.name,
                s.config_files,
                s.services
                    .iter()
                    .map(|v| v.name.as_str())
                    .collect::<Vec<_>>()
                    .join(" ")
            );
            if !self.list.matches(&text) {
                continue;
            }
            rows.push(Row::Stack(si));
            keys.push(stack_key(&s.name));
            if self.expanded.contains(&s.name) {
                for (vi, v) in s.services.iter().enumerate() {
                    rows.push(Row::Service(si, vi));
                    keys.push(service_key(&s.name, &v.name));
                }
            }
        }
        self.rows = rows;
        self.list.set_keys(keys);
    }

    /// The selected row's stack and, on a service row, the service's name.
    fn selected(&self) -> Option<(&Stack, Option<&str>)> {
        match *self.rows.get(self.list.cursor.selected)? {
            Row::Stack(si) => Some((&self.stacks[si], None)),
            Row::Service(si, vi) => {
                let s = &self.stacks[si];
                Some((s, Some(s.services[vi].name.as_str())))
            }
        }
    }

    /// `enter`: fold or unfold the selected project (on a service row: its project).
    fn toggle(&mut self, store: &Store) {
        let Some((stack, _)) = self.selected() else {
            return;
        };
        let name = stack.name.clone();
        if !self.expanded.remove(&name) {
            self.expanded.insert(name.clone());
        }
        self.rebuild(store);
        // Folding from a service row leaves the selection on its project.
        if let Some(i) = self.list.keys.iter().position(|k| *k == stack_key(&name)) {
            if !self.expanded.contains(&name) {
                self.list.cursor.selected = i;
            }
        }
    }
}

impl ListView for StacksView {
    type Col = cells::Col;

    table::list_view_basics!();

    fn columns(&self, width: u16) -> Vec<cells::Col> {
        cells::columns_for(width)
    }

    fn largest_first(&self) -> bool {
        false
    }

    fn empty(&self, cx: &DrawCx) -> String {
        if !cx.store.loaded.containers {
            "loading…".to_string()
        } else if self.stacks.is_empty() {
            format!(
                "no compose projects: open a compose file ({}) or run berth compose up",
                cx.config.keymap.label(Action::OpenCompose)
            )
        } else {
            format!("no project matches \"{}\"", self.list.filter)
        }
    }
}

impl View for StacksView {
    fn id(&self) -> ViewId {
        ViewId::Stacks
    }

    fn tab_title(&self, _store: &Store) -> String {
        format!("Stacks {}", self.stacks.len())
    }

    fn draw(&mut self, f: &mut Frame, area: Rect, cx: &DrawCx) {
        table::draw(self, f, area, cx);
    }

    fn commands(&self, _store: &Store) -> Vec<Action> {
        let mut out = vec![Action::OpenCompose];
        match self.selected() {
            None => {}
            Some((_, None)) => out.extend([
                Action::Open,
                Action::StackUp,
                Action::StackDown,
                Action::StackStartStop,
                Action::StackRestart,
                Action::StackPull,
                Action::StackLogs,
                Action::StackConfig,
                Action::Profiles,
            ]),
            Some((_, Some(_))) => out.extend([
                Action::StackBuild,
                Action::StackRecreate,
                Action::ScaleUp,
                Action::ScaleDown,
                Action::StackUp,
                Action::StackDown,
                Action::StackLogs,
                Action::Open,
            ]),
        }
        out.push(Action::Filter);
        out
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
}
