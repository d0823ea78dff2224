//! The networks view: name, driver, subnet, gateway and attached containers (from the
//! containers list). Create through a form, connect and disconnect through a picker of the
//! containers that are (not) attached, remove and prune after a confirmation.

use crossterm::event::MouseEvent;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::Cell;
use ratatui::Frame;
use serde_json::Value;

use super::list::ListState;
use super::table::{self, DataToCell, ListView, TableColumn};
use super::{Cmd, Cx, DrawCx, View, ViewId};
use crate::client::api::networks::{
    self, Ipam, IpamConfig, NetworkConnect, NetworkCreate, NetworkDisconnect,
};
use crate::client::api::Filters;
use crate::dashboard::dialogs::confirm::Confirm;
use crate::dashboard::dialogs::container_picker::{Item, Picker};
use crate::dashboard::dialogs::network_form::{Field, Form, Values};
use crate::dashboard::dialogs::text::TextViewer;
use crate::dashboard::keymap::Action;
use crate::dashboard::msg::{Effect, Purpose};
use crate::dashboard::store::model::{Container, Network};
use crate::dashboard::store::{Gone, Store};
use crate::dashboard::widgets::table::{col, Column};

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

/// The columns the networks table can show; which ones depends on the width.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Col {
    Mark,
    Name,
    Id,
    Driver,
    Subnet,
    Gateway,
    Internal,
    Containers,
}

/// Narrow screens drop the gateway (it follows from the subnet), then the driver and the
/// subnet; wide ones add the short id and the internal flag.
fn columns_for(width: u16) -> Vec<Col> {
    use Col::*;
    match width {
        0..50 => vec![Mark, Name, Containers],
        50..76 => vec![Mark, Name, Subnet, Containers],
        76..120 => vec![Mark, Name, Driver, Subnet, Gateway, Containers],
        _ => vec![
            Mark, Name, Id, Driver, Subnet, Gateway, Internal, Containers,
        ],
    }
}

/// The containers attached to a network (by name or id), in list order.
fn attached<'a>(store: &'a Store, net: &Network) -> Vec<&'a Container> {
    store
        .containers
        .iter()
        .filter(|c| {
            c.network_settings.as_ref().is_some_and(|ns| {
                ns.networks
                    .iter()
                    .any(|(name, ep)| name == &net.name || ep.network_id == net.id)
            })
        })
        .collect()
}

fn item(c: &Container) -> Item {
    Item {
        key: c.id.clone(),
        label: c.name().to_string(),
        detail: format!("{} · {}", c.state, c.image),
    }
}

impl NetworksView {
    pub fn rebuild(&mut self, store: &Store) {
        self.rows = self.list.fill(
            0..store.networks.len(),
            |&i| {
                let n = &store.networks[i];
                format!(
                    "{} {} {} {}",
                    n.name,
                    n.driver,
                    n.subnets().0,
                    store.containers_on_network(n).join(" ")
                )
            },
            |&a, &b, field| {
                let (na, nb) = (&store.networks[a], &store.networks[b]);
                match field {
                    1 => na.driver.cmp(&nb.driver),
                    _ => std::cmp::Ordering::Equal,
                }
                .then_with(|| na.name.cmp(&nb.name))
            },
            |&i| store.networks[i].name.clone(),
        );
    }

    fn selected<'a>(&self, store: &'a Store) -> Option<&'a Network> {
        let name = self.list.selected_key()?;
        store.networks.iter().find(|n| n.name == name)
    }

    fn act(&mut self, action: Action, cx: &mut Cx) -> bool {
        match action {
            Action::CreateNetwork => cx.dialog(create_form()),
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
                        Cmd::Effect(Effect::api(
                            networks::remove(n),
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
            Action::Connect => {
                let Some(net) = self.selected(cx.store) else {
                    cx.error("no network selected");
                    return true;
                };
                let on: Vec<&str> = attached(cx.store, net)
                    .iter()
                    .map(|c| c.id.as_str())
                    .collect();
                let items: Vec<Item> = cx
                    .store
                    .containers
                    .iter()
                    .filter(|c| !on.contains(&c.id.as_str()))
                    .map(item)
                    .collect();
                if items.is_empty() {
                    cx.error(format!(
                        "every container is already on network {}",
                        net.name
                    ));
                    return true;
                }
                let name = net.name.clone();
                cx.dialog(Picker::new(
                    format!("Connect to {name}"),
                    items,
                    move |it: &Item| {
                        let body = NetworkConnect {
                            container: it.key.clone(),
                            endpoint_config: None,
                        };
                        vec![Cmd::Effect(Effect::api(
                            networks::connect(&name, &body),
                            Purpose::Action {
                                label: format!("connect {} to {name}", it.label),
                            },
                        ))]
                    },
                ));
            }
            Action::Disconnect => {
                let Some(net) = self.selected(cx.store) else {
                    cx.error("no network selected");
                    return true;
                };
                let items: Vec<Item> = attached(cx.store, net).into_iter().map(item).collect();
                if items.is_empty() {
                    cx.error(format!("no container is on network {}", net.name));
                    return true;
                }
                let name = net.name.clone();
                cx.dialog(Picker::new(
                    format!("Disconnect from {name}"),
                    items,
                    move |it: &Item| {
                        let body = NetworkDisconnect {
                            container: it.key.clone(),
                            force: None,
                        };
                        vec![Cmd::Effect(Effect::api(
                            networks::disconnect(&name, &body),
                            Purpose::Action {
                                label: format!("disconnect {} from {name}", it.label),
                            },
                        ))]
                    },
                ));
            }
            Action::PruneNetworks => {
                cx.dialog(Confirm::new(
                    "Prune networks",
                    "Remove every network no container uses (not bridge, host, none)?",
                    vec![Cmd::Effect(Effect::api(
                        networks::prune(&Filters::none()),
                        Purpose::NetworkPrune,
                    ))],
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
                cx.effect(Effect::api(networks::inspect(&name), purpose.clone()));
                cx.dialog(TextViewer::loading(title, purpose));
            }
            Action::Back if !self.list.marks.is_empty() => self.list.marks.clear(),
            _ => return false,
        }
        true
    }
}

/// `c`: name, driver, subnet, gateway, internal → `POST /networks/create`. What can be checked
/// here is (so a typo keeps the form open); the rest is the engine's to refuse.
fn create_form() -> Form {
    Form::new(
        "Create network",
        vec![
            Field::text("Name", "", "required"),
            Field::text("Driver", "bridge", ""),
            Field::text("Subnet", "", "e.g. 10.10.0.0/24 (empty: picked)"),
            Field::text("Gateway", "", "e.g. 10.10.0.1 (empty: first address)"),
            Field::check("Internal", false, "no access to the outside"),
        ],
        |v: &Values| {
            let name = v.text(0);
            if name.is_empty() {
                return Err("a network needs a name".into());
            }
            if !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c))
                || !name.starts_with(|c: char| c.is_ascii_alphanumeric())
            {
                return Err(format!(
                    "invalid name \"{name}\": letters, digits and _ . - only"
                ));
            }
            let driver = if v.text(1).is_empty() {
                "bridge"
            } else {
                v.text(1)
            };
            let (subnet, gateway) = (v.text(2), v.text(3));
            if !subnet.is_empty() && !is_cidr(subnet) {
                return Err(format!("subnet \"{subnet}\" is not an address/prefix"));
            }
            if !gateway.is_empty() && gateway.parse::<std::net::IpAddr>().is_err() {
                return Err(format!("gateway \"{gateway}\" is not an IP address"));
            }
            if !gateway.is_empty() && subnet.is_empty() {
                return Err("a gateway needs a subnet".into());
            }
            let spec = NetworkCreate {
                name: name.to_string(),
                driver: driver.to_string(),
                internal: v.check(4),
                check_duplicate: Some(true),
                ipam: (!subnet.is_empty()).then(|| Ipam {
                    driver: "default".into(),
                    config: vec![IpamConfig {
                        subnet: subnet.to_string(),
                        gateway: (!gateway.is_empty()).then(|| gateway.to_string()),
                    }],
                }),
                ..Default::default()
            };
            Ok(vec![Cmd::Effect(Effect::api(
                networks::create(&spec),
                Purpose::Action {
                    label: format!("create network {name}"),
                },
            ))])
        },
    )
}

/// `10.1.0.0/16` or `fd00::/64`.
fn is_cidr(s: &str) -> bool {
    let Some((addr, prefix)) = s.split_once('/') else {
        return false;
    };
    match (addr.parse::<std::net::IpAddr>(), prefix.parse::<u8>()) {
        (Ok(std::net::IpAddr::V4(_)), Ok(p)) => p <= 32,
        (Ok(std::net::IpAddr::V6(_)), Ok(p)) => p <= 128,
        _ => false,
    }
}

impl TableColumn for Col {
    fn column(self) -> Column {
        match self {
            Col::Mark => col("", Constraint::Length(1)),
            Col::Name => col("NAME", Constraint::Fill(2)),
            Col::Id => col("NETWORK ID", Constraint::Length(12)),
            Col::Driver => col("DRIVER", Constraint::Length(8)),
            Col::Subnet => col("SUBNET", Constraint::Length(18)),
            Col::Gateway => col("GATEWAY", Constraint::Length(15)),
            Col::Internal => col("INTERNAL", Constraint::Length(8)),
            Col::Containers => col("CONTAINERS", Constraint::Fill(2)),
        }
    }

    fn sort_field(self) -> Option<usize> {
        match self {
            Col::Name => Some(0),
            Col::Driver => Some(1),
            _ => None,
        }
    }

    fn is_mark(self) -> bool {
        self == Col::Mark
    }
}

impl DataToCell<Col> for NetworksView {
    fn to_cell(&self, row: usize, column: Col, cx: &DrawCx) -> Cell<'static> {
        let (store, theme) = (cx.store, &cx.config.theme);
        let n = &store.networks[self.rows[row]];
        match column {
            // The table draws the marks.
            Col::Mark => Cell::default(),
            Col::Name => Cell::from(if BUILTIN.contains(&n.name.as_str()) {
                // Built-ins cannot be removed: muted so it shows before trying.
                Line::from(vec![
                    Span::raw(n.name.clone()),
                    Span::styled(" (built-in)", theme.muted()),
                ])
            } else {
                Line::raw(n.name.clone())
            }),
            Col::Id => Cell::from(Span::styled(n.short_id().to_string(), theme.muted())),
            Col::Driver => Cell::from(n.driver.clone()),
            Col::Subnet => Cell::from(dash(n.subnets().0, theme)),
            Col::Gateway => Cell::from(dash(n.subnets().1, theme)),
            Col::Internal => Cell::from(if n.internal {
                Span::styled("yes", theme.fg(theme.warning))
            } else {
                Span::styled("no", theme.muted())
            }),
            Col::Containers => {
                let users = store.containers_on_network(n);
                Cell::from(dash(users.join(", "), theme))
            }
        }
    }
}

impl ListView for NetworksView {
    type Col = Col;

    table::list_view_basics!();

    fn columns(&self, width: u16) -> Vec<Col> {
        columns_for(width)
    }

    fn largest_first(&self) -> bool {
        false
    }

    fn empty(&self, cx: &DrawCx) -> String {
        let store = cx.store;
        if !store.loaded.networks {
            "loading…".to_string()
        } else if store.networks.is_empty() {
            format!(
                "no networks: create one ({})",
                cx.config.keymap.label(Action::CreateNetwork)
            )
        } else {
            format!("no network matches \"{}\"", self.list.filter)
        }
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
        table::draw(self, f, area, cx);
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

    fn on_answer(
        &mut self,
        purpose: &Purpose,
        result: &Result<Option<Value>, String>,
        cx: &mut Cx,
    ) -> bool {
        if *purpose != Purpose::NetworkPrune {
            return false;
        }
        match result {
            Ok(answer) => {
                let deleted: Vec<&str> = answer
                    .as_ref()
                    .and_then(|a| a["NetworksDeleted"].as_array())
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                    .collect();
                if deleted.is_empty() {
                    cx.info("prune networks: nothing to remove");
                } else {
                    cx.info(format!("prune networks: removed {}", deleted.join(", ")));
                    // The list says so too, now (not when the removals' events re-read it).
                    cx.push(Cmd::Forget(Gone::Networks(
                        deleted.iter().map(|n| n.to_string()).collect(),
                    )));
                }
            }
            Err(e) => cx.error(format!("prune networks: {e}")),
        }
        true
    }
}

/// The text, or a muted "-" when there is none.
fn dash(s: String, theme: &crate::dashboard::theme::Theme) -> Span<'static> {
    if s.is_empty() {
        Span::styled("-", theme.muted())
    } else {
        Span::raw(s)
    }
}
