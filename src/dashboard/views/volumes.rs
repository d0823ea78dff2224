//! The volumes view: name, driver, size (from `GET /system/df`, asked when the view opens) and
//! the containers that mount each volume.

use crossterm::event::MouseEvent;
use hyper::Method;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::Span;
use ratatui::widgets::{Cell, Row};
use ratatui::Frame;
use serde_json::Value;

use super::list::{Click, ListState};
use super::{Cmd, Cx, DrawCx, View, ViewId};
use crate::client::seg;
use crate::dashboard::dialogs::confirm::Confirm;
use crate::dashboard::dialogs::text::TextViewer;
use crate::dashboard::keymap::Action;
use crate::dashboard::msg::{Effect, Purpose};
use crate::dashboard::store::Store;
use crate::dashboard::widgets::bytes;
use crate::dashboard::widgets::table::{self, col};

pub struct VolumesView {
    pub list: ListState,
    /// Indexes into the store's volumes, in display order.
    pub rows: Vec<usize>,
    /// Sizes by name from the last `/system/df`.
    pub sizes: std::collections::HashMap<String, i64>,
}

impl Default for VolumesView {
    fn default() -> Self {
        VolumesView {
            list: ListState::with_sort(0, false, 2),
            rows: Vec::new(),
            sizes: Default::default(),
        }
    }
}

impl VolumesView {
    pub fn rebuild(&mut self, store: &Store) {
        let mut rows: Vec<usize> = (0..store.volumes.len())
            .filter(|&i| {
                let v = &store.volumes[i];
                self.list.matches(&format!(
                    "{} {} {}",
                    v.name,
                    v.driver,
                    store.containers_using_volume(&v.name).join(" ")
                ))
            })
            .collect();
        let (field, desc) = self.list.sort;
        rows.sort_by(|&a, &b| {
            let (va, vb) = (&store.volumes[a], &store.volumes[b]);
            let ord = match field {
                1 => self.sizes.get(&vb.name).cmp(&self.sizes.get(&va.name)),
                _ => std::cmp::Ordering::Equal,
            }
            .then_with(|| va.name.cmp(&vb.name));
            if desc {
                ord.reverse()
            } else {
                ord
            }
        });
        let keys = rows
            .iter()
            .map(|&i| store.volumes[i].name.clone())
            .collect();
        self.rows = rows;
        self.list.set_keys(keys);
    }

    pub fn selected_name(&self) -> Option<String> {
        self.list.selected_key().map(str::to_string)
    }

    fn act(&mut self, action: Action, cx: &mut Cx) -> bool {
        match action {
            Action::RemoveVolume => {
                let targets = self.list.targets();
                if targets.is_empty() {
                    cx.error("no volume selected");
                    return true;
                }
                let cmds = targets
                    .iter()
                    .map(|n| {
                        Cmd::Effect(Effect::call(
                            Method::DELETE,
                            format!("/volumes/{}", seg(n)),
                            Purpose::Action {
                                label: format!("remove volume {n}"),
                            },
                        ))
                    })
                    .collect();
                cx.dialog(Confirm::new(
                    "Remove",
                    format!("Remove volume {} and its data?", targets.join(", ")),
                    cmds,
                ));
            }
            Action::Inspect | Action::Open => {
                let Some(name) = self.selected_name() else {
                    return false;
                };
                let title = format!("inspect volume {name}");
                let purpose = Purpose::Inspect {
                    title: title.clone(),
                };
                cx.effect(Effect::call(
                    Method::GET,
                    format!("/volumes/{}", seg(&name)),
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

impl View for VolumesView {
    fn id(&self) -> ViewId {
        ViewId::Volumes
    }

    fn tab_title(&self, store: &Store) -> String {
        format!("Volumes {}", store.volumes.len())
    }

    fn draw(&mut self, f: &mut Frame, area: Rect, cx: &DrawCx) {
        let store = cx.store;
        let theme = &cx.config.theme;
        let columns = [
            col("", Constraint::Length(1)),
            col("NAME", Constraint::Fill(2)),
            col("DRIVER", Constraint::Length(8)),
            col("SIZE", Constraint::Length(9)),
            col("IN USE BY", Constraint::Fill(2)),
        ];
        let sort_col = Some((if self.list.sort.0 == 1 { 3 } else { 1 }, self.list.sort.1));
        let empty = if !store.loaded.volumes {
            "loading…".to_string()
        } else if store.volumes.is_empty() {
            "no volumes: create one (c) or run a container with -v name:/path".into()
        } else {
            format!("no volume matches \"{}\"", self.list.filter)
        };
        let rows = &self.rows;
        let list = &self.list;
        let sizes = &self.sizes;
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
                let v = &store.volumes[rows[i]];
                let users = store.containers_using_volume(&v.name);
                let mark = if list.is_marked(&v.name) { "●" } else { " " };
                let size = match sizes.get(&v.name) {
                    Some(s) if *s >= 0 => bytes(*s as f64),
                    _ => "-".into(),
                };
                Row::new(vec![
                    Cell::from(Span::styled(mark, theme.fg(theme.marked))),
                    Cell::from(v.name.clone()),
                    Cell::from(v.driver.clone()),
                    Cell::from(size),
                    Cell::from(if users.is_empty() {
                        Span::styled("-", theme.muted())
                    } else {
                        Span::raw(users.join(", "))
                    }),
                ])
            },
        );
        self.list.cursor = cursor;
    }

    fn commands(&self, _store: &Store) -> Vec<Action> {
        vec![
            Action::CreateVolume,
            Action::RemoveVolume,
            Action::PruneVolumes,
            Action::Inspect,
            Action::Mark,
            Action::Filter,
        ]
    }

    fn on_action(&mut self, action: Action, cx: &mut Cx) -> bool {
        if self.list.on_action(action, cx.page) {
            if matches!(action, Action::Sort | Action::SortReverse) {
                self.rebuild(cx.store);
            }
            return true;
        }
        self.act(action, cx)
    }

    fn on_mouse(&mut self, ev: MouseEvent, cx: &mut Cx) -> bool {
        match self.list.on_mouse(&ev) {
            Click::None => false,
            Click::Header(c) => {
                match c {
                    1 => self.list.sort_by(0),
                    3 => self.list.sort_by(1),
                    _ => {}
                }
                self.rebuild(cx.store);
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

    fn on_answer(
        &mut self,
        purpose: &Purpose,
        result: &Result<Option<Value>, String>,
        _cx: &mut Cx,
    ) -> bool {
        if *purpose != Purpose::DiskUsage {
            return false;
        }
        if let Ok(Some(df)) = result {
            self.sizes = df["Volumes"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|v| {
                    Some((
                        v["Name"].as_str()?.to_string(),
                        v["UsageData"]["Size"].as_i64().unwrap_or(-1),
                    ))
                })
                .collect();
        }
        true
    }
}
