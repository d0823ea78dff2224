//! The containers view: compose projects as foldable groups, then loose containers; live CPU
//! (bar and sparkline), memory, network and block I/O rates from the stats streams; and the
//! container actions, on the marked rows, else a selected group, else the selected container.
//! Enter on a container opens the detail pane below the table (`super::detail`); the pane
//! follows the selection.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use crossterm::event::MouseEvent;
use hyper::Method;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Row};
use ratatui::Frame;

use super::detail::Detail;
use super::list::{Click, ListState};
use super::{Cmd, Cx, DrawCx, LogTarget, View, ViewId};
use crate::client::seg;
use crate::dashboard::dialogs::confirm::Confirm;
use crate::dashboard::dialogs::prompt::Prompt;
use crate::dashboard::dialogs::text::TextViewer;
use crate::dashboard::keymap::Action;
use crate::dashboard::msg::{Effect, Purpose, StreamItem, StreamKey};
use crate::dashboard::store::model::Container;
use crate::dashboard::store::Store;
use crate::dashboard::widgets::table::{self, col, Column};
use crate::dashboard::widgets::{bars, bytes, ellipsize, rate};

/// Widths from which the table shows more columns.
const MEDIUM: u16 = 110;
const WIDE: u16 = 180;

/// Sort fields, in the order `o` cycles through them.
const SORT_FIELDS: [&str; 6] = ["name", "image", "state", "created", "cpu", "memory"];
const SORT_NAME: usize = 0;
const SORT_IMAGE: usize = 1;
const SORT_STATE: usize = 2;
const SORT_CREATED: usize = 3;
const SORT_CPU: usize = 4;
const SORT_MEM: usize = 5;

/// The shell started by the exec key: bash when the image has it, else sh.
pub const SHELL: [&str; 3] = [
    "/bin/sh",
    "-c",
    "if command -v bash >/dev/null 2>&1; then exec bash; else exec sh; fi",
];

#[derive(Debug, Clone, PartialEq)]
enum RowKind {
    Group {
        project: String,
        total: usize,
        running: usize,
    },
    /// Index into the store's container list.
    Container { index: usize, grouped: bool },
}

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

fn group_key(project: &str) -> String {
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

/// "Up 3 minutes (healthy)" computed now from the container's start time, so uptimes tick
/// without asking the engine; docker's status text when the start time is not known yet.
pub fn status_text(c: &Container, store: &Store, now: DateTime<Utc>) -> String {
    let started = store
        .details
        .get(&c.id)
        .and_then(|d| d["State"]["StartedAt"].as_str())
        .and_then(|t| DateTime::parse_from_rfc3339(t).ok());
    match (c.state.as_str(), started) {
        ("running", Some(t)) => {
            let up = crate::format::units::human_duration(now - t.with_timezone(&Utc));
            match c.health() {
                Some("starting") => format!("Up {up} (health: starting)"),
                Some(h) => format!("Up {up} ({h})"),
                None => format!("Up {up}"),
            }
        }
        _ => c.status.clone(),
    }
}

impl ContainersView {
    /// Rebuilds the rows from the store: filter, group, sort, fold.
    fn rebuild(&mut self, store: &Store) {
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

    fn selected_row(&self) -> Option<&RowKind> {
        self.rows.get(self.list.cursor.selected)
    }

    /// The containers an action applies to: marked ones, else every container of a selected
    /// group, else the selected container.
    fn targets<'s>(&self, store: &'s Store) -> Vec<&'s Container> {
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

    fn selected_container<'s>(&self, store: &'s Store) -> Option<&'s Container> {
        match self.selected_row() {
            Some(RowKind::Container { index, .. }) => store.containers.get(*index),
            _ => None,
        }
    }

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

    fn toggle_fold(&mut self, store: &Store) {
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

    /// Opens or closes the detail pane on the selected container.
    fn toggle_detail(&mut self, cx: &mut Cx) {
        if self.detail_open {
            self.detail_open = false;
            self.detail.close(cx);
            return;
        }
        let Some(id) = self.selected_container(cx.store).map(|c| c.id.clone()) else {
            return;
        };
        self.detail_open = true;
        self.detail.id = None;
        self.detail.follow(&id, cx);
    }

    /// Moves the open pane to the selected container (a group row keeps the last one).
    fn sync_detail(&mut self, cx: &mut Cx) {
        if !self.detail_open {
            return;
        }
        if let Some(id) = self.selected_container(cx.store).map(|c| c.id.clone()) {
            self.detail.follow(&id, cx);
        }
    }

    /// The pane's own actions; `false` when the pane is closed or the action is not its own.
    fn detail_action(&mut self, action: Action, cx: &mut Cx) -> bool {
        if !self.detail_open {
            return false;
        }
        let half = self.detail.half_page();
        match action {
            Action::NextTab => self.detail.next_tab(true, cx),
            Action::PrevTab => self.detail.next_tab(false, cx),
            Action::DetailScrollDown => self.detail.scroll_by(half),
            Action::DetailScrollUp => self.detail.scroll_by(-half),
            Action::DetailNextMatch if self.detail.searching() => self.detail.jump(true),
            Action::DetailPrevMatch if self.detail.searching() => self.detail.jump(false),
            Action::Back if self.list.marks.is_empty() && self.filter().is_empty() => {
                self.detail_open = false;
                self.detail.close(cx);
            }
            _ => return false,
        }
        true
    }

    /// Whether the `/` line searches the pane's Inspect tab instead of filtering the table.
    fn searching_detail(&self) -> bool {
        self.detail_open && self.detail.searching()
    }

    /// One API call per target container, reported in the status line.
    fn each(
        &self,
        cx: &mut Cx,
        targets: &[&Container],
        verb: &str,
        method: Method,
        path: impl Fn(&Container) -> String,
    ) {
        for c in targets {
            cx.effect(Effect::call(
                method.clone(),
                path(c),
                Purpose::Action {
                    label: format!("{verb} {}", c.name()),
                },
            ));
        }
    }

    fn act(&mut self, action: Action, cx: &mut Cx) -> bool {
        let store = cx.store;
        let targets = self.targets(store);
        let names = |ts: &[&Container]| -> String {
            let names: Vec<&str> = ts.iter().map(|c| c.name()).collect();
            if names.len() <= 3 {
                names.join(", ")
            } else {
                format!("{} containers", names.len())
            }
        };
        let needs_target = matches!(
            action,
            Action::StartStop
                | Action::Restart
                | Action::PauseToggle
                | Action::Kill
                | Action::Remove
                | Action::ForceRemove
                | Action::Rename
                | Action::Exec
                | Action::Attach
                | Action::OpenPort
                | Action::CopyId
                | Action::CopyName
                | Action::Logs
                | Action::Inspect
        );
        if needs_target && targets.is_empty() {
            cx.error("no container selected");
            return true;
        }
        match action {
            Action::StartStop => {
                let (running, stopped): (Vec<&Container>, Vec<&Container>) = targets
                    .iter()
                    .partition(|c| c.is_running() || c.is_paused());
                // A mixed selection stops what runs when any runs, as Docker Desktop does.
                if !running.is_empty() {
                    self.each(cx, &running, "stop", Method::POST, |c| {
                        format!("/containers/{}/stop", seg(&c.id))
                    });
                    cx.info(format!("stopping {}…", names(&running)));
                } else {
                    self.each(cx, &stopped, "start", Method::POST, |c| {
                        format!("/containers/{}/start", seg(&c.id))
                    });
                    cx.info(format!("starting {}…", names(&stopped)));
                }
            }
            Action::Restart => {
                self.each(cx, &targets, "restart", Method::POST, |c| {
                    format!("/containers/{}/restart", seg(&c.id))
                });
                cx.info(format!("restarting {}…", names(&targets)));
            }
            Action::PauseToggle => {
                let paused: Vec<&Container> =
                    targets.iter().copied().filter(|c| c.is_paused()).collect();
                let running: Vec<&Container> =
                    targets.iter().copied().filter(|c| c.is_running()).collect();
                if !paused.is_empty() {
                    self.each(cx, &paused, "unpause", Method::POST, |c| {
                        format!("/containers/{}/unpause", seg(&c.id))
                    });
                } else if !running.is_empty() {
                    self.each(cx, &running, "pause", Method::POST, |c| {
                        format!("/containers/{}/pause", seg(&c.id))
                    });
                } else {
                    cx.error(format!("{} is not running", names(&targets)));
                }
            }
            Action::Kill => {
                let running: Vec<&Container> = targets
                    .iter()
                    .copied()
                    .filter(|c| c.is_running() || c.is_paused())
                    .collect();
                if running.is_empty() {
                    cx.error(format!("{} is not running", names(&targets)));
                    return true;
                }
                let cmds = running
                    .iter()
                    .map(|c| {
                        Cmd::Effect(Effect::call(
                            Method::POST,
                            format!("/containers/{}/kill", seg(&c.id)),
                            Purpose::Action {
                                label: format!("kill {}", c.name()),
                            },
                        ))
                    })
                    .collect();
                cx.dialog(Confirm::new(
                    "Kill",
                    format!("Send SIGKILL to {}?", names(&running)),
                    cmds,
                ));
            }
            Action::Remove | Action::ForceRemove => {
                let force = action == Action::ForceRemove;
                let cmds = targets
                    .iter()
                    .map(|c| {
                        Cmd::Effect(Effect::call(
                            Method::DELETE,
                            format!(
                                "/containers/{}{}",
                                seg(&c.id),
                                if force { "?force=1" } else { "" }
                            ),
                            Purpose::Action {
                                label: format!("remove {}", c.name()),
                            },
                        ))
                    })
                    .collect();
                let what = if force {
                    format!("Remove {} (running ones are killed)?", names(&targets))
                } else {
                    format!("Remove {}?", names(&targets))
                };
                cx.dialog(Confirm::new(
                    if force { "Force remove" } else { "Remove" },
                    what,
                    cmds,
                ));
            }
            Action::Rename => {
                let Some(c) = self.selected_container(store) else {
                    cx.error("select one container to rename");
                    return true;
                };
                let id = c.id.clone();
                let old = c.name().to_string();
                let initial = old.clone();
                cx.dialog(Prompt::new(
                    "Rename",
                    format!("New name for {old}:"),
                    &initial,
                    move |name| {
                        let name = name.trim();
                        if name.is_empty() {
                            return Err("the name cannot be empty".into());
                        }
                        Ok(vec![Cmd::Effect(Effect::call(
                            Method::POST,
                            format!(
                                "/containers/{}/rename{}",
                                seg(&id),
                                crate::client::query(&[("name", name.to_string())])
                            ),
                            Purpose::Action {
                                label: format!("rename {old} to {name}"),
                            },
                        ))])
                    },
                ));
            }
            Action::Exec => {
                let Some(c) = self.selected_container(store) else {
                    cx.error("select a container to open a shell in");
                    return true;
                };
                if !c.is_running() {
                    cx.error(format!("{} is not running", c.name()));
                    return true;
                }
                cx.effect(Effect::Exec {
                    container: c.id.clone(),
                    command: SHELL.iter().map(|s| s.to_string()).collect(),
                });
            }
            Action::Attach => {
                let Some(c) = self.selected_container(store) else {
                    cx.error("select a container to attach to");
                    return true;
                };
                if !c.is_running() {
                    cx.error(format!("{} is not running", c.name()));
                    return true;
                }
                cx.effect(Effect::Attach {
                    container: c.id.clone(),
                });
            }
            Action::OpenPort => {
                let Some(c) = self.selected_container(store) else {
                    cx.error("select a container");
                    return true;
                };
                let ports = c.published();
                match ports.as_slice() {
                    [] => cx.error(format!("{} publishes no TCP port", c.name())),
                    [(host, port)] => {
                        let url = format!("http://{host}:{port}");
                        cx.info(format!("opening {url}"));
                        cx.effect(Effect::OpenUrl(url));
                    }
                    many => {
                        let list: Vec<String> = many.iter().map(|(_, p)| p.to_string()).collect();
                        let ports = many.to_vec();
                        cx.dialog(Prompt::new(
                            "Open port",
                            format!("Which port? ({})", list.join(", ")),
                            &list[0],
                            move |answer| {
                                let want: u16 = answer
                                    .trim()
                                    .parse()
                                    .map_err(|_| format!("\"{answer}\" is not a port number"))?;
                                let (host, port) = ports
                                    .iter()
                                    .find(|(_, p)| *p == want)
                                    .ok_or_else(|| format!("port {want} is not published"))?;
                                let url = format!("http://{host}:{port}");
                                Ok(vec![
                                    Cmd::Status(super::Level::Info, format!("opening {url}")),
                                    Cmd::Effect(Effect::OpenUrl(url)),
                                ])
                            },
                        ));
                    }
                }
            }
            Action::CopyId | Action::CopyName => {
                let text: Vec<&str> = targets
                    .iter()
                    .map(|c| {
                        if action == Action::CopyId {
                            c.id.as_str()
                        } else {
                            c.name()
                        }
                    })
                    .collect();
                let text = text.join(" ");
                cx.info(format!("copied {}", ellipsize(&text, 60)));
                cx.effect(Effect::Clipboard(text));
            }
            Action::Logs => {
                let title = if !self.list.marks.is_empty() {
                    format!("{} containers", targets.len())
                } else {
                    match self.selected_row() {
                        Some(RowKind::Group { project, .. }) => format!("project {project}"),
                        _ => targets[0].name().to_string(),
                    }
                };
                cx.push(Cmd::OpenLogs(LogTarget {
                    title,
                    containers: targets
                        .iter()
                        .map(|c| (c.id.clone(), c.name().to_string()))
                        .collect(),
                }));
            }
            Action::Open => {
                if let Some(RowKind::Group { .. }) = self.selected_row() {
                    self.toggle_fold(store);
                } else {
                    self.toggle_detail(cx);
                }
            }
            Action::Inspect => {
                let Some(c) = self.selected_container(store) else {
                    return false;
                };
                let title = format!("inspect {}", c.name());
                let purpose = Purpose::Inspect {
                    title: title.clone(),
                };
                cx.effect(Effect::call(
                    Method::GET,
                    format!("/containers/{}/json", seg(&c.id)),
                    purpose.clone(),
                ));
                cx.dialog(TextViewer::loading(title, purpose));
            }
            Action::ToggleAll => {
                self.show_all = !self.show_all;
                self.rebuild(store);
                cx.info(if self.show_all {
                    "showing all containers"
                } else {
                    "showing running containers"
                });
            }
            Action::Fold => self.toggle_fold(store),
            Action::PruneContainers => {
                let stopped = store
                    .containers
                    .iter()
                    .filter(|c| !c.is_running() && !c.is_paused())
                    .count();
                cx.dialog(Confirm::new(
                    "Prune",
                    format!("Remove all {stopped} stopped containers?"),
                    vec![Cmd::Effect(Effect::call(
                        Method::POST,
                        "/containers/prune",
                        Purpose::Action {
                            label: "prune containers".into(),
                        },
                    ))],
                ));
            }
            Action::Back if !self.list.marks.is_empty() => self.list.marks.clear(),
            _ => return false,
        }
        true
    }

    /// The columns for a width. NAME gets the largest share of what the fixed columns leave;
    /// the medium layout leaves the CPU history and the memory limit to the detail pane.
    fn columns(width: u16) -> (Vec<Column>, Vec<Option<usize>>) {
        let name = col("NAME", Constraint::Fill(3));
        if width >= WIDE {
            (
                vec![
                    col("", Constraint::Length(1)),
                    name,
                    col("IMAGE", Constraint::Fill(2)),
                    col("STATE", Constraint::Length(10)),
                    col("STATUS", Constraint::Length(24)),
                    col("PORTS", Constraint::Fill(2)),
                    col("CPU", Constraint::Length(12)),
                    col("CPU HISTORY", Constraint::Length(12)),
                    col("MEMORY", Constraint::Length(15)),
                    col("NET RX/TX", Constraint::Length(17)),
                    col("BLOCK R/W", Constraint::Length(17)),
                    col("PIDS", Constraint::Length(4)),
                ],
                vec![
                    None,
                    Some(SORT_NAME),
                    Some(SORT_IMAGE),
                    Some(SORT_STATE),
                    Some(SORT_CREATED),
                    None,
                    Some(SORT_CPU),
                    Some(SORT_CPU),
                    Some(SORT_MEM),
                    None,
                    None,
                    None,
                ],
            )
        } else if width >= MEDIUM {
            (
                vec![
                    col("", Constraint::Length(1)),
                    name,
                    col("IMAGE", Constraint::Fill(2)),
                    col("STATE", Constraint::Length(10)),
                    col("STATUS", Constraint::Length(20)),
                    col("CPU", Constraint::Length(12)),
                    col("MEMORY", Constraint::Length(9)),
                    col("PORTS", Constraint::Fill(2)),
                ],
                vec![
                    None,
                    Some(SORT_NAME),
                    Some(SORT_IMAGE),
                    Some(SORT_STATE),
                    Some(SORT_CREATED),
                    Some(SORT_CPU),
                    Some(SORT_MEM),
                    None,
                ],
            )
        } else {
            (
                vec![
                    col("", Constraint::Length(1)),
                    name,
                    col("STATE", Constraint::Length(9)),
                    col("STATUS", Constraint::Length(16)),
                    col("CPU", Constraint::Length(6)),
                    col("MEM", Constraint::Length(8)),
                ],
                vec![
                    None,
                    Some(SORT_NAME),
                    Some(SORT_STATE),
                    Some(SORT_CREATED),
                    Some(SORT_CPU),
                    Some(SORT_MEM),
                ],
            )
        }
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
        let theme = &cx.config.theme;
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
        let (columns, sort_map) = Self::columns(area.width);
        let sort_col = sort_map
            .iter()
            .position(|f| *f == Some(self.list.sort.0))
            .map(|c| (c, self.list.sort.1));
        let empty = if !store.loaded.containers {
            "loading…".to_string()
        } else if store.containers.is_empty() {
            "no containers yet: run one from the Images view (2, then r) or with `berth run`".into()
        } else if !self.list.filter.is_empty() {
            format!("no container matches \"{}\"", self.list.filter)
        } else {
            "no running containers (a shows all)".into()
        };
        let wide = area.width >= WIDE;
        let medium = area.width >= MEDIUM;
        let rows = &self.rows;
        let list = &self.list;
        let mut visible = Vec::new();
        let now = cx.now;
        let mut cursor = self.list.cursor;
        let geometry = table::draw(
            f,
            table_area,
            &columns,
            &mut cursor,
            sort_col,
            theme,
            &empty,
            |i, _selected| match &rows[i] {
                RowKind::Group {
                    project,
                    total,
                    running,
                } => {
                    let arrow = if self.folded.contains(project) {
                        "▸"
                    } else {
                        "▾"
                    };
                    let mark = if list.is_marked(&group_key(project)) {
                        "●"
                    } else {
                        " "
                    };
                    Row::new(vec![
                        Cell::from(Span::styled(mark, theme.fg(theme.marked))),
                        Cell::from(Line::from(vec![
                            Span::styled(format!("{arrow} {project}"), theme.title()),
                            Span::styled(format!("  {running}/{total} running"), theme.muted()),
                        ])),
                    ])
                }
                RowKind::Container { index, grouped } => {
                    let c = &store.containers[*index];
                    visible.push(c.id.clone());
                    let mark = if list.is_marked(&c.id) { "●" } else { " " };
                    let indent = if *grouped { "  " } else { "" };
                    let latest = store
                        .stats
                        .get(&c.id)
                        .and_then(|h| h.latest())
                        .filter(|_| c.is_running());
                    let cpu = latest.map(|p| p.cpu_percent);
                    let cpu_cell = match cpu {
                        Some(v) if medium => Line::from(vec![
                            Span::styled(bars::bar(v / 100.0, 5), theme.fg(theme.cpu)),
                            Span::raw(format!("{v:>6.1}%")),
                        ]),
                        Some(v) => Line::raw(format!("{v:>5.1}%")),
                        None => Line::styled("-", theme.muted()),
                    };
                    let spark = store
                        .stats
                        .get(&c.id)
                        .filter(|_| wide && c.is_running())
                        .map(|h| bars::sparkline(&h.series(12, |p| p.cpu_percent), 12, 100.0))
                        .unwrap_or_default();
                    let mem = match latest {
                        Some(p) if wide && p.mem_limit > 0.0 => {
                            format!("{} / {}", bytes(p.mem_used), bytes(p.mem_limit))
                        }
                        Some(p) => bytes(p.mem_used),
                        None => "-".into(),
                    };
                    let health_style = match c.health() {
                        Some("unhealthy") => theme.fg(theme.unhealthy),
                        Some("healthy") => theme.fg(theme.healthy),
                        _ => Style::default(),
                    };
                    let mut cells = vec![
                        Cell::from(Span::styled(mark, theme.fg(theme.marked))),
                        Cell::from(format!("{indent}{}", c.name())),
                    ];
                    if medium {
                        cells.push(Cell::from(Span::styled(c.image.clone(), theme.muted())));
                    }
                    cells.push(Cell::from(Span::styled(
                        c.state.clone(),
                        theme.state(&c.state),
                    )));
                    cells.push(Cell::from(Span::styled(
                        status_text(c, store, now),
                        health_style,
                    )));
                    if wide {
                        cells.push(Cell::from(c.ports_text()));
                    }
                    cells.push(Cell::from(cpu_cell));
                    if wide {
                        cells.push(Cell::from(Span::styled(spark, theme.fg(theme.cpu))));
                    }
                    cells.push(Cell::from(mem));
                    if wide {
                        let (net, blk, pids) = match latest {
                            Some(p) => (
                                format!("{} {}", rate(p.net_rx), rate(p.net_tx)),
                                format!("{} {}", rate(p.blk_read), rate(p.blk_write)),
                                p.pids.to_string(),
                            ),
                            None => ("-".into(), "-".into(), "-".into()),
                        };
                        cells.push(Cell::from(net));
                        cells.push(Cell::from(blk));
                        cells.push(Cell::from(pids));
                    } else if medium {
                        cells.push(Cell::from(c.ports_text()));
                    }
                    Row::new(cells)
                }
            },
        );
        self.list.cursor = cursor;
        self.list.geometry = geometry;
        self.visible = visible;
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
        let handled = self.list_action(action, page, cx);
        self.sync_detail(cx);
        handled
    }

    fn on_mouse(&mut self, ev: MouseEvent, cx: &mut Cx) -> bool {
        if self.detail_open && self.detail.contains(&ev) {
            self.detail.on_mouse(&ev, cx);
            return true;
        }
        let handled = self.table_mouse(ev, cx);
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

impl ContainersView {
    fn list_action(&mut self, action: Action, page: usize, cx: &mut Cx) -> bool {
        if self.list.on_action(action, page) {
            if matches!(action, Action::Sort | Action::SortReverse) {
                self.rebuild(cx.store);
                cx.info(format!(
                    "sorted by {}{}",
                    SORT_FIELDS[self.list.sort.0],
                    if self.list.sort.1 { " (reversed)" } else { "" }
                ));
            }
            return true;
        }
        self.act(action, cx)
    }

    fn table_mouse(&mut self, ev: MouseEvent, cx: &mut Cx) -> bool {
        match self.list.on_mouse(&ev) {
            Click::None => false,
            Click::Header(c) => {
                let (_, map) = Self::columns(self.list.geometry.area.width);
                if let Some(Some(field)) = map.get(c) {
                    self.list.sort_by(*field);
                    self.rebuild(cx.store);
                }
                true
            }
            Click::Activate => self.act(Action::Open, cx),
            Click::Row | Click::Scrolled => true,
        }
    }
}

/// Splits the body between the table and the detail pane below it: the table gets its rows
/// (plus the header) up to half the height, keeping at least a few rows; the pane the rest.
fn split(area: Rect, rows: usize) -> (Rect, Rect) {
    let h = area.height as usize;
    let half = h / 2;
    let table = (rows + 1).clamp(3.min(half), half.max(1)).min(h);
    let [t, p] =
        Layout::vertical([Constraint::Length(table as u16), Constraint::Min(0)]).areas(area);
    (t, p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pane_gets_at_least_half_and_the_table_its_rows() {
        let area = Rect::new(0, 0, 80, 21);
        // Many rows: the table keeps the upper half.
        let (t, p) = split(area, 30);
        assert_eq!((t.height, p.height), (10, 11));
        // Few rows: the table shrinks to them, the pane takes the rest.
        let (t, p) = split(area, 2);
        assert_eq!((t.height, p.height), (3, 18));
        // Tiny: both still fit, nothing overflows.
        for h in 0..6 {
            let (t, p) = split(Rect::new(0, 0, 20, h), 5);
            assert_eq!(t.height + p.height, h);
        }
    }
}
