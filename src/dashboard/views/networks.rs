//! The networks view: name, driver, subnet, gateway and attached containers.

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
use crate::dashboard::store::Store;
use crate::dashboard::widgets::table::{self, col};

/// Networks every engine has; removing them is refused, so the view does not offer it.
pub const BUILTIN: [&str; 3] = ["bridge", "host", "none"];

pub struct NetworksView {
    pub list: ListState,
    pub rows: Vec<usize>,
}

impl Default for NetworksView {
    fn default() -> Self {
        NetworksView {
            list: ListState::with_sort(0, false, 2),
            rows: Vec::new(),
        }
    }
}

impl NetworksView {
    pub fn rebuild(&mut self, store: &Store) {
        let mut rows: Vec<usize> = (0..store.networks.len())
            .filter(|&i| {
                let n = &store.networks[i];
                self.list.matches(&format!(
                    "{} {} {} {}",
                    n.name,
                    n.driver,
                    n.subnets().0,
                    store.containers_on_network(n).join(" ")
                ))
            })
            .collect();
        let (field, desc) = self.list.sort;
        rows.sort_by(|&a, &b| {
            let (na, nb) = (&store.networks[a], &store.networks[b]);
            let ord = match field {
                1 => na.driver.cmp(&nb.driver),
                _ => std::cmp::Ordering::Equal,
            }
            .then_with(|| na.name.cmp(&nb.name));
            if desc {
                ord.reverse()
            } else {
                ord
            }
        });
        let keys = rows
            .iter()
            .map(|&i| store.networks[i].name.clone())
            .collect();
        self.rows = rows;
        self.list.set_keys(keys);
    }

    fn act(&mut self, action: Action, cx: &mut Cx) -> bool {
        match action {
            Action::RemoveNetwork => {
                let targets: Vec<String> = self
                    .list
                    .targets()
                    .into_iter()
                    .filter(|n| !BUILTIN.contains(&n.as_str()))
                    .collect();
                if targets.is_empty() {
                    cx.error("the bridge, host and none networks cannot be removed");
                    return true;
                }
                let cmds = targets
                    .iter()
                    .map(|n| {
                        Cmd::Effect(Effect::call(
                            Method::DELETE,
                            format!("/networks/{}", seg(n)),
                            Purpose::Action {
                                label: format!("remove network {n}"),
                            },
                        ))
                    })
                    .collect();
                cx.dialog(Confirm::new(
                    "Remove",
                    format!("Remove network {}?", targets.join(", ")),
                    cmds,
                ));
            }
            Action::Inspect | Action::Open => {
                let Some(name) = self.list.selected_key().map(str::to_string) else {
                    return false;
                };
                let title = format!("inspect network {name}");
                let purpose = Purpose::Inspect {
                    title: title.clone(),
                };
                cx.effect(Effect::call(
                    Method::GET,
                    format!("/networks/{}", seg(&name)),
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

impl View for NetworksView {
    fn id(&self) -> ViewId {
        ViewId::Networks
    }

    fn tab_title(&self, store: &Store) -> String {
        format!("Networks {}", store.networks.len())
    }

    fn draw(&mut self, f: &mut Frame, area: Rect, cx: &DrawCx) {
        let store = cx.store;
        let theme = &cx.config.theme;
        let columns = [
            col("", Constraint::Length(1)),
            col("NAME", Constraint::Fill(2)),
            col("DRIVER", Constraint::Length(8)),
            col("SUBNET", Constraint::Length(18)),
            col("GATEWAY", Constraint::Length(15)),
            col("CONTAINERS", Constraint::Fill(2)),
        ];
        let sort_col = Some((if self.list.sort.0 == 1 { 2 } else { 1 }, self.list.sort.1));
        let empty = if !store.loaded.networks {
            "loading…".to_string()
        } else {
            format!("no network matches \"{}\"", self.list.filter)
        };
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
                let n = &store.networks[rows[i]];
                let (subnet, gateway) = n.subnets();
                let users = store.containers_on_network(n);
                let mark = if list.is_marked(&n.name) { "●" } else { " " };
                Row::new(vec![
                    Cell::from(Span::styled(mark, theme.fg(theme.marked))),
                    Cell::from(n.name.clone()),
                    Cell::from(n.driver.clone()),
                    Cell::from(subnet),
                    Cell::from(gateway),
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
            Action::CreateNetwork,
            Action::RemoveNetwork,
            Action::Connect,
            Action::Disconnect,
            Action::PruneNetworks,
            Action::Inspect,
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
                    2 => self.list.sort_by(1),
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
}
