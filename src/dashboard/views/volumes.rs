//! The volumes view: name, driver, size (from `GET /system/df`, asked when the view opens and
//! again after create, remove and prune) and the containers that mount each volume. Create and
//! prune go through a small form; remove and prune confirm first.

use crossterm::event::MouseEvent;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::Span;
use ratatui::widgets::Cell;
use ratatui::Frame;
use serde_json::Value;

use super::list::ListState;
use super::table::{self, DataToCell, ListView, TableColumn};
use super::{Cmd, Cx, DrawCx, View, ViewId};
use crate::client::api::volumes::{self, VolumeCreate};
use crate::client::api::{system, Filters};
use crate::dashboard::dialogs::confirm::Confirm;
use crate::dashboard::dialogs::network_form::{parse_labels, Field, Form, Values};
use crate::dashboard::dialogs::text::TextViewer;
use crate::dashboard::keymap::Action;
use crate::dashboard::msg::{Effect, Purpose};
use crate::dashboard::store::{Gone, Store};
use crate::dashboard::widgets::bytes;
use crate::dashboard::widgets::table::{col, Column};
use crate::format::units::ago;

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

/// The columns the volumes table can show; which ones depends on the width.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Col {
    Mark,
    Name,
    Driver,
    Size,
    Created,
    Users,
}

/// Columns for a body `width` wide: narrow screens drop the driver (nearly always "local"),
/// then who uses the volume; wide ones add when it was created.
fn columns_for(width: u16) -> Vec<Col> {
    match width {
        0..50 => vec![Col::Mark, Col::Name, Col::Size],
        50..70 => vec![Col::Mark, Col::Name, Col::Size, Col::Users],
        70..120 => vec![Col::Mark, Col::Name, Col::Driver, Col::Size, Col::Users],
        _ => vec![
            Col::Mark,
            Col::Name,
            Col::Driver,
            Col::Size,
            Col::Created,
            Col::Users,
        ],
    }
}

/// "3 volumes" / "1 volume".
fn volumes_word(n: usize) -> String {
    format!("{n} volume{}", if n == 1 { "" } else { "s" })
}

/// The `/system/df` call, after anything that changes sizes.
fn disk_usage() -> Cmd {
    Cmd::Effect(Effect::api(system::disk_usage(), Purpose::DiskUsage))
}

impl VolumesView {
    pub fn rebuild(&mut self, store: &Store) {
        let sizes = &self.sizes;
        self.rows = self.list.fill(
            0..store.volumes.len(),
            |&i| {
                let v = &store.volumes[i];
                format!(
                    "{} {} {}",
                    v.name,
                    v.driver,
                    store.containers_using_volume(&v.name).join(" ")
                )
            },
            |&a, &b, field| {
                let (va, vb) = (&store.volumes[a], &store.volumes[b]);
                match field {
                    1 => sizes.get(&vb.name).cmp(&sizes.get(&va.name)),
                    _ => std::cmp::Ordering::Equal,
                }
                .then_with(|| va.name.cmp(&vb.name))
            },
            |&i| store.volumes[i].name.clone(),
        );
    }

    pub fn selected_name(&self) -> Option<String> {
        self.list.selected_key().map(str::to_string)
    }

    fn act(&mut self, action: Action, cx: &mut Cx) -> bool {
        match action {
            Action::CreateVolume => cx.dialog(create_form()),
            Action::RemoveVolume => {
                let targets = self.list.targets();
                if targets.is_empty() {
                    cx.error("no volume selected");
                    return true;
                }
                let cmds = targets
                    .iter()
                    .map(|n| {
                        Cmd::Effect(Effect::api(
                            volumes::remove(n, false),
                            Purpose::VolumeChange {
                                label: format!("remove volume {n}"),
                            },
                        ))
                    })
                    .collect();
                let used: Vec<&str> = targets
                    .iter()
                    .flat_map(|n| cx.store.containers_using_volume(n))
                    .collect();
                let mut message = format!("Remove volume {} and its data?", targets.join(", "));
                if !used.is_empty() {
                    // The engine refuses these; saying so first saves a surprise.
                    message.push_str(&format!(" (in use by {})", used.join(", ")));
                }
                cx.dialog(Confirm::new("Remove", message, cmds));
            }
            Action::PruneVolumes => cx.dialog(prune_form()),
            Action::Inspect | Action::Open => {
                let Some(name) = self.selected_name() else {
                    return false;
                };
                let title = format!("inspect volume {name}");
                let purpose = Purpose::Inspect {
                    title: title.clone(),
                };
                cx.effect(Effect::api(volumes::inspect(&name), purpose.clone()));
                cx.dialog(TextViewer::loading(title, purpose));
            }
            Action::Back if !self.list.marks.is_empty() => self.list.marks.clear(),
            _ => return false,
        }
        true
    }
}

/// `c`: name (empty: the engine makes one up), driver, labels → `POST /volumes/create`.
fn create_form() -> Form {
    Form::new(
        "Create volume",
        vec![
            Field::text("Name", "", "empty: a generated name"),
            Field::text("Driver", "local", ""),
            Field::text("Labels", "", "key=value, key2=value2 (optional)"),
        ],
        |v: &Values| {
            let name = v.text(0);
            if name.contains('/') {
                return Err("a volume name cannot contain \"/\"".into());
            }
            let driver = if v.text(1).is_empty() {
                "local"
            } else {
                v.text(1)
            };
            let labels = parse_labels(v.text(2))?;
            let label = if name.is_empty() {
                "create volume".to_string()
            } else {
                format!("create volume {name}")
            };
            let spec = VolumeCreate {
                name: name.to_string(),
                driver: driver.to_string(),
                driver_opts: None,
                labels: labels
                    .into_iter()
                    .map(|(k, v)| (k, v.as_str().unwrap_or_default().to_string()))
                    .collect(),
            };
            Ok(vec![Cmd::Effect(Effect::api(
                volumes::create(&spec),
                Purpose::VolumeChange { label },
            ))])
        },
    )
}

/// `X`: docker ≥ 23 prunes only anonymous volumes unless asked for all; the form offers both,
/// anonymous only by default (named volumes usually hold data someone chose to keep).
fn prune_form() -> Form {
    Form::new(
        "Prune volumes",
        vec![Field::check(
            "Named too",
            false,
            "also remove unused named volumes",
        )],
        |v: &Values| {
            let filters = if v.check(0) {
                Filters::one("all", "true")
            } else {
                Filters::none()
            };
            Ok(vec![Cmd::Effect(Effect::api(
                volumes::prune(&filters),
                Purpose::VolumePrune,
            ))])
        },
    )
    .with_note("Remove every volume no container uses? Their data is lost.")
}

impl TableColumn for Col {
    fn column(self) -> Column {
        match self {
            Col::Mark => col("", Constraint::Length(1)),
            Col::Name => col("NAME", Constraint::Fill(2)),
            Col::Driver => col("DRIVER", Constraint::Length(8)),
            Col::Size => col("SIZE", Constraint::Length(9)),
            Col::Created => col("CREATED", Constraint::Length(15)),
            Col::Users => col("IN USE BY", Constraint::Fill(2)),
        }
    }

    fn sort_field(self) -> Option<usize> {
        match self {
            Col::Name => Some(0),
            Col::Size => Some(1),
            _ => None,
        }
    }

    fn is_mark(self) -> bool {
        self == Col::Mark
    }
}

impl DataToCell<Col> for VolumesView {
    fn to_cell(&self, row: usize, column: Col, cx: &DrawCx) -> Cell<'static> {
        let (store, theme) = (cx.store, &cx.config.theme);
        let v = &store.volumes[self.rows[row]];
        match column {
            // The table draws the marks.
            Col::Mark => Cell::default(),
            Col::Name => Cell::from(v.name.clone()),
            Col::Driver => Cell::from(v.driver.clone()),
            Col::Size => match self.sizes.get(&v.name) {
                Some(s) if *s >= 0 => Cell::from(bytes(*s as f64)),
                _ => Cell::from(Span::styled("-", theme.muted())),
            },
            Col::Created => match chrono::DateTime::parse_from_rfc3339(&v.created_at) {
                Ok(t) => Cell::from(ago(t.timestamp(), cx.now)),
                Err(_) => Cell::from(Span::styled("-", theme.muted())),
            },
            Col::Users => {
                let users = store.containers_using_volume(&v.name);
                Cell::from(if users.is_empty() {
                    Span::styled("-", theme.muted())
                } else {
                    Span::raw(users.join(", "))
                })
            }
        }
    }
}

impl ListView for VolumesView {
    type Col = Col;

    table::list_view_basics!();

    fn columns(&self, width: u16) -> Vec<Col> {
        columns_for(width)
    }

    fn largest_first(&self) -> bool {
        // Size sorts largest first.
        self.list.sort.0 == 1
    }

    fn empty(&self, cx: &DrawCx) -> String {
        let store = cx.store;
        if !store.loaded.volumes {
            "loading…".to_string()
        } else if store.volumes.is_empty() {
            format!(
                "no volumes: create one ({}) or run a container with -v name:/path",
                cx.config.keymap.label(Action::CreateVolume)
            )
        } else {
            format!("no volume matches \"{}\"", self.list.filter)
        }
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
        table::draw(self, f, area, cx);
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
        match (purpose, result) {
            (Purpose::DiskUsage, Ok(Some(df))) => {
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
                self.rebuild(cx.store);
            }
            // Sizes are a nicety: a failed df keeps the old ones and says nothing.
            (Purpose::DiskUsage, _) => {}
            (Purpose::VolumeChange { label }, Ok(answer)) => {
                // An unnamed create gets its name from the engine's answer.
                match answer.as_ref().and_then(|v| v["Name"].as_str()) {
                    Some(name) if !label.contains(name) => cx.info(format!("{label} {name}: done")),
                    _ => cx.info(format!("{label}: done")),
                }
                cx.push(disk_usage());
            }
            (Purpose::VolumeChange { label }, Err(e)) => cx.error(format!("{label}: {e}")),
            (Purpose::VolumePrune, Ok(answer)) => {
                let answer = answer.clone().unwrap_or_default();
                let deleted: Vec<&str> = answer["VolumesDeleted"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                    .collect();
                let reclaimed = answer["SpaceReclaimed"].as_f64().unwrap_or(0.0);
                if deleted.is_empty() {
                    cx.info("prune volumes: nothing to remove");
                } else {
                    cx.info(format!(
                        "prune volumes: removed {}, reclaimed {}",
                        volumes_word(deleted.len()),
                        bytes(reclaimed)
                    ));
                    // The list says so too, now (not when the removals' events re-read it).
                    cx.push(Cmd::Forget(Gone::Volumes(
                        deleted.iter().map(|n| n.to_string()).collect(),
                    )));
                }
                cx.push(disk_usage());
            }
            (Purpose::VolumePrune, Err(e)) => cx.error(format!("prune volumes: {e}")),
            _ => return false,
        }
        true
    }
}
