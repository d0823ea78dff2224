//! The table's rows: filter, sort, group by compose project and fold (`rebuild`), the row
//! keys the list state marks and selects by, and what the selection points at.

use super::{ContainersView, SORT_CPU, SORT_CREATED, SORT_IMAGE, SORT_MEM, SORT_STATE};
use crate::dashboard::store::model::Container;
use crate::dashboard::store::Store;

#[derive(Debug, Clone, PartialEq)]
pub(super) enum RowKind {
    Group {
        project: String,
        total: usize,
        running: usize,
    },
    /// Index into the store's container list.
    Container { index: usize, grouped: bool },
}

pub(super) fn group_key(project: &str) -> String {
    format!("project:{project}")
}

fn cpu_of(store: &Store, id: &str) -> f64 {
    store
        .stats
        .get(id)
        .and_then(|h| h.latest())
        .map_or(-1.0, |p| p.cpu_percent)
}

fn mem_of(store: &Store, id: &str) -> f64 {
    store
        .stats
        .get(id)
        .and_then(|h| h.latest())
        .map_or(-1.0, |p| p.mem_used)
}

impl ContainersView {
    /// Rebuilds the rows from the store: filter, group, sort, fold.
    pub(super) fn rebuild(&mut self, store: &Store) {
        let visible: Vec<usize> = store
            .containers
            .iter()
            .enumerate()
            .filter(|(_, c)| self.show_all || c.is_running() || c.is_paused())
            .filter(|(_, c)| {
                self.list.matches(&format!(
                    "{} {} {} {} {} {}",
                    c.name(),
                    c.image,
                    c.state,
                    c.status,
                    c.project().unwrap_or(""),
                    c.ports_text()
                ))
            })
            .map(|(i, _)| i)
            .collect();
        let (field, desc) = self.list.sort;
        let mut sorted = visible;
        sorted.sort_by(|&a, &b| {
            let (ca, cb) = (&store.containers[a], &store.containers[b]);
            let ord = match field {
                SORT_IMAGE => ca.image.cmp(&cb.image),
                SORT_STATE => ca.state.cmp(&cb.state),
                SORT_CREATED => cb.created.cmp(&ca.created),
                SORT_CPU => cpu_of(store, &cb.id).total_cmp(&cpu_of(store, &ca.id)),
                SORT_MEM => mem_of(store, &cb.id).total_cmp(&mem_of(store, &ca.id)),
                _ => std::cmp::Ordering::Equal,
            }
            .then_with(|| ca.name().cmp(cb.name()));
            if desc {
                ord.reverse()
            } else {
                ord
            }
        });
        let mut projects: Vec<&str> = sorted
            .iter()
            .filter_map(|&i| store.containers[i].project())
            .collect();
        projects.sort_unstable();
        projects.dedup();
        let mut rows = Vec::new();
        for p in projects {
            let members: Vec<usize> = sorted
                .iter()
                .copied()
                .filter(|&i| store.containers[i].project() == Some(p))
                .collect();
            rows.push(RowKind::Group {
                project: p.to_string(),
                total: members.len(),
                running: members
                    .iter()
                    .filter(|&&i| store.containers[i].is_running())
                    .count(),
            });
            if !self.folded.contains(p) {
                rows.extend(members.into_iter().map(|index| RowKind::Container {
                    index,
                    grouped: true,
                }));
            }
        }
        rows.extend(
            sorted
                .iter()
                .copied()
                .filter(|&i| store.containers[i].project().is_none())
                .map(|index| RowKind::Container {
                    index,
                    grouped: false,
                }),
        );
        let keys = rows
            .iter()
            .map(|r| match r {
                RowKind::Group { project, .. } => group_key(project),
                RowKind::Container { index, .. } => store.containers[*index].id.clone(),
            })
            .collect();
        self.rows = rows;
        self.list.set_keys(keys);
        if let Some(id) = &self.pending_select {
            if let Some(i) = self.list.keys.iter().position(|k| k == id) {
                self.list.cursor.select(i);
                self.pending_select = None;
            }
        }
    }

    /// Selects the container `id` now, or as soon as a list with it arrives.
    pub fn select(&mut self, id: &str, store: &Store) {
        self.pending_select = Some(id.to_string());
        self.rebuild(store);
    }

    pub(super) fn selected_row(&self) -> Option<&RowKind> {
        self.rows.get(self.list.cursor.selected)
    }

    /// The containers an action applies to: marked ones, else every container of a selected
    /// group, else the selected container.
    pub(super) fn targets<'s>(&self, store: &'s Store) -> Vec<&'s Container> {
        if !self.list.marks.is_empty() {
            return self
                .list
                .targets()
                .iter()
                .filter_map(|id| store.container(id))
                .collect();
        }
        match self.selected_row() {
            Some(RowKind::Group { project, .. }) => store
                .containers
                .iter()
                .filter(|c| c.project() == Some(project))
                .collect(),
            Some(RowKind::Container { index, .. }) => {
                store.containers.get(*index).into_iter().collect()
            }
            None => Vec::new(),
        }
    }

    pub(super) fn selected_container<'s>(&self, store: &'s Store) -> Option<&'s Container> {
        match self.selected_row() {
            Some(RowKind::Container { index, .. }) => store.containers.get(*index),
            _ => None,
        }
    }

    pub(super) fn toggle_fold(&mut self, store: &Store) {
        let project = match self.selected_row() {
            Some(RowKind::Group { project, .. }) => Some(project.clone()),
            Some(RowKind::Container { index, .. }) => store
                .containers
                .get(*index)
                .and_then(|c| c.project().map(str::to_string)),
            None => None,
        };
        if let Some(p) = project {
            if !self.folded.remove(&p) {
                self.folded.insert(p.clone());
            }
            self.rebuild(store);
            // Keep the cursor on the group row it folded from.
            if let Some(i) = self.list.keys.iter().position(|k| *k == group_key(&p)) {
                self.list.cursor.select(i);
            }
        }
    }
}
