//! The events view: the engine's live event stream, newest first (at most `store::MAX_EVENTS`),
//! filterable by text and by object type, with actions coloured by what they mean and the
//! attributes that matter (exit codes, signals, images, the container a network or volume event
//! is about, by name) first.

use chrono::{DateTime, Utc};
use crossterm::event::MouseEvent;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Row};
use ratatui::Frame;
use serde_json::Value;

use super::list::{Click, ListState};
use super::{Cx, DrawCx, View, ViewId};
use crate::dashboard::keymap::Action;
use crate::dashboard::store::Store;
use crate::dashboard::theme::Theme;
use crate::dashboard::widgets::table::{self, col};

/// What the type filter cycles through (`None`: every type).
const TYPES: [Option<&str>; 5] = [
    None,
    Some("container"),
    Some("image"),
    Some("volume"),
    Some("network"),
];

#[derive(Default)]
pub struct EventsView {
    list: ListState,
    /// Indexes into the store's events, newest first.
    rows: Vec<usize>,
    /// Events at or before this time are hidden (the clear key).
    cleared_at: Option<i64>,
    /// Index into `TYPES`.
    kind: usize,
    /// Events arrived since the rows were built. Events come in bursts (the replay on connect,
    /// a compose up), each one a store change: the rows are rebuilt once, when next needed.
    stale: bool,
}

fn time_nano(ev: &Value) -> i64 {
    ev["timeNano"]
        .as_i64()
        .or_else(|| ev["time"].as_i64().map(|t| t * 1_000_000_000))
        .unwrap_or(0)
}

/// HH:MM:SS in the local time zone; in unit tests UTC, so snapshots do not depend on where
/// they run.
fn clock(nanos: i64) -> String {
    let t = DateTime::<Utc>::from_timestamp_nanos(nanos);
    if cfg!(test) {
        t.format("%H:%M:%S").to_string()
    } else {
        t.with_timezone(&chrono::Local)
            .format("%H:%M:%S")
            .to_string()
    }
}

/// A 64-hex id (containers, networks) shortened as docker prints it; other ids (volume names,
/// image references) are names and stay whole.
fn short(id: &str) -> String {
    if id.len() == 64 && id.bytes().all(|b| b.is_ascii_hexdigit()) {
        id[..12].to_string()
    } else {
        id.to_string()
    }
}

fn attr<'a>(ev: &'a Value, key: &str) -> Option<&'a str> {
    ev["Actor"]["Attributes"][key].as_str()
}

/// The actor's name: the `name` attribute (containers, networks, images), else its id (a
/// volume's id is its name).
fn actor_name(ev: &Value) -> String {
    attr(ev, "name")
        .map(str::to_string)
        .unwrap_or_else(|| short(ev["Actor"]["ID"].as_str().unwrap_or("")))
}

/// A container id from an attribute, as its name when the store knows it.
fn container_name(store: &Store, id: &str) -> String {
    store
        .container(id)
        .map(|c| c.name().to_string())
        .unwrap_or_else(|| short(id))
}

/// The attributes worth reading, most useful first, as `key=value` spans. Labels (dotted keys,
/// which docker copies into every container event), the name (its own column) and empty values
/// are left out.
fn attributes(ev: &Value, store: &Store, theme: &Theme) -> Vec<Span<'static>> {
    let mut spans = Vec::new();
    // "health_status: unhealthy" and "exec_start: sh -c date" carry a detail after the colon:
    // the ACTION column shows the action, the detail leads the attributes.
    let action = ev["Action"].as_str().unwrap_or("");
    if let Some((base, detail)) = action.split_once(':') {
        let detail = detail.trim();
        let (text, style) = match base {
            "health_status" => (detail.to_string(), action_style(action, theme)),
            b if b.starts_with("exec_") => (format!("cmd={detail}"), Style::default()),
            _ => (detail.to_string(), Style::default()),
        };
        if !detail.is_empty() {
            spans.push(Span::styled(text, style));
        }
    }
    let Some(attrs) = ev["Actor"]["Attributes"].as_object() else {
        return spans;
    };
    const FIRST: [&str; 6] = [
        "exitCode",
        "signal",
        "image",
        "container",
        "destination",
        "type",
    ];
    let mut keys: Vec<&str> = FIRST
        .iter()
        .copied()
        .filter(|k| attrs.contains_key(*k))
        .collect();
    let mut rest: Vec<&str> = attrs
        .keys()
        .map(String::as_str)
        .filter(|k| !FIRST.contains(k) && *k != "name" && !k.contains('.'))
        .collect();
    rest.sort_unstable();
    keys.extend(rest);
    for k in keys {
        let v = attrs[k].as_str().unwrap_or("");
        if v.is_empty() {
            continue;
        }
        if !spans.is_empty() {
            spans.push(Span::raw(" "));
        }
        let (text, style) = match k {
            "exitCode" => (
                format!("exit={v}"),
                if v == "0" {
                    theme.muted()
                } else {
                    theme.fg(theme.error)
                },
            ),
            "container" => (
                format!("container={}", container_name(store, v)),
                Style::default(),
            ),
            "image" | "signal" => (format!("{k}={v}"), Style::default()),
            // docker's execDuration is whole seconds.
            "execDuration" => (format!("ran={v}s"), theme.muted()),
            _ => (format!("{k}={v}"), theme.muted()),
        };
        spans.push(Span::styled(text, style));
    }
    spans
}

/// The colour of an action: green for things appearing or starting, amber for stopping and
/// pausing, red for dying and removal, health by its result.
fn action_style(action: &str, theme: &Theme) -> Style {
    let base = action.split(':').next().unwrap_or(action).trim();
    match base {
        "die" | "kill" | "oom" | "destroy" | "delete" | "remove" | "untag" => {
            theme.fg(theme.stopped)
        }
        "start" | "create" | "pull" | "connect" | "unpause" | "restart" | "import" | "load"
        | "tag" | "mount" | "push" | "save" => theme.fg(theme.running),
        "stop" | "pause" | "disconnect" | "unmount" | "prune" => theme.fg(theme.paused),
        "health_status" if action.contains("unhealthy") => theme.fg(theme.unhealthy),
        "health_status" => theme.fg(theme.healthy),
        a if a.starts_with("exec_") => theme.fg(theme.accent),
        _ => Style::default(),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Col {
    Time,
    Ago,
    Type,
    Action,
    Name,
    Attributes,
}

/// Narrow screens drop the type (the filter says it), then the attributes; wide ones add how
/// long ago it happened.
fn columns_for(width: u16) -> Vec<Col> {
    use Col::*;
    match width {
        0..45 => vec![Time, Action, Name],
        45..70 => vec![Time, Action, Name, Attributes],
        70..120 => vec![Time, Type, Action, Name, Attributes],
        _ => vec![Time, Ago, Type, Action, Name, Attributes],
    }
}

impl EventsView {
    fn kind(&self) -> Option<&'static str> {
        TYPES[self.kind % TYPES.len()]
    }

    fn refresh(&mut self, store: &Store) {
        if self.stale {
            self.rebuild(store);
        }
    }

    fn rebuild(&mut self, store: &Store) {
        self.stale = false;
        let kind = self.kind();
        let rows: Vec<usize> = (0..store.events.len())
            .rev()
            .filter(|&i| {
                let ev = &store.events[i];
                if self.cleared_at.is_some_and(|t| time_nano(ev) <= t) {
                    return false;
                }
                if kind.is_some_and(|k| ev["Type"].as_str() != Some(k)) {
                    return false;
                }
                // Every event rebuilds this list: skip building the text when nothing filters.
                if self.list.filter.is_empty() {
                    return true;
                }
                let attrs = ev["Actor"]["Attributes"]
                    .as_object()
                    .map(|a| {
                        a.iter()
                            .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or("")))
                            .collect::<Vec<_>>()
                            .join(" ")
                    })
                    .unwrap_or_default();
                self.list.matches(&format!(
                    "{} {} {} {attrs}",
                    ev["Type"].as_str().unwrap_or(""),
                    ev["Action"].as_str().unwrap_or(""),
                    actor_name(ev),
                ))
            })
            .collect();
        let keys = rows
            .iter()
            .map(|&i| {
                let ev = &store.events[i];
                format!("{}|{}|{}", time_nano(ev), ev["Action"], ev["Actor"]["ID"])
            })
            .collect();
        // Newest first: keep the cursor at the top while it is there, so new events show.
        let at_top = self.list.cursor.selected == 0;
        self.rows = rows;
        self.list.set_keys(keys);
        if at_top {
            self.list.cursor.top();
        }
    }
}

impl View for EventsView {
    fn id(&self) -> ViewId {
        ViewId::Events
    }

    fn tab_title(&self, _store: &Store) -> String {
        match self.kind() {
            // The header's abbreviations: the tab bar has little room at 80 columns.
            Some(k) => format!(
                "Events {}",
                match k {
                    "container" => "ctr",
                    "image" => "img",
                    "volume" => "vol",
                    _ => "net",
                }
            ),
            None => "Events".into(),
        }
    }

    fn draw(&mut self, f: &mut Frame, area: Rect, cx: &DrawCx) {
        let store = cx.store;
        self.refresh(store);
        let theme = &cx.config.theme;
        let shown = columns_for(area.width);
        let columns: Vec<table::Column> = shown
            .iter()
            .map(|c| match c {
                Col::Time => col("TIME", Constraint::Length(8)),
                Col::Ago => col("AGO", Constraint::Length(18)),
                Col::Type => col("TYPE", Constraint::Length(9)),
                Col::Action => col("ACTION", Constraint::Length(14)),
                Col::Name => col("NAME", Constraint::Fill(1)),
                // Wide screens give long names room; attributes rarely need more than half.
                Col::Attributes => col(
                    "ATTRIBUTES",
                    Constraint::Fill(if area.width >= 120 { 1 } else { 2 }),
                ),
            })
            .collect();
        let empty = if !self.list.filter.is_empty() {
            format!("no event matches \"{}\"", self.list.filter)
        } else if let Some(k) = self.kind() {
            format!(
                "no {k} events yet ({}: next type)",
                cx.config.keymap.label(Action::EventType)
            )
        } else {
            "waiting for events: start, stop or create something".to_string()
        };
        let rows = &self.rows;
        let now = cx.now;
        let mut cursor = self.list.cursor;
        self.list.geometry = table::draw(
            f,
            area,
            &columns,
            &mut cursor,
            None,
            theme,
            &empty,
            |i, _| {
                let ev = &store.events[rows[i]];
                let nanos = time_nano(ev);
                let action = ev["Action"].as_str().unwrap_or("").to_string();
                let cells = shown.iter().map(|c| match c {
                    Col::Time => Cell::from(Span::styled(clock(nanos), theme.muted())),
                    Col::Ago => Cell::from(Span::styled(
                        crate::format::units::ago(nanos / 1_000_000_000, now),
                        theme.muted(),
                    )),
                    Col::Type => Cell::from(ev["Type"].as_str().unwrap_or("").to_string()),
                    Col::Action => {
                        let base = action.split(':').next().unwrap_or("").to_string();
                        Cell::from(Span::styled(base, action_style(&action, theme)))
                    }
                    Col::Name => Cell::from(actor_name(ev)),
                    Col::Attributes => Cell::from(Line::from(attributes(ev, store, theme))),
                });
                Row::new(cells.collect::<Vec<_>>())
            },
        );
        self.list.cursor = cursor;
    }

    fn commands(&self, _store: &Store) -> Vec<Action> {
        vec![
            Action::EventType,
            Action::ClearEvents,
            Action::Filter,
            Action::Inspect,
        ]
    }

    fn on_action(&mut self, action: Action, cx: &mut Cx) -> bool {
        self.refresh(cx.store);
        if self.list.on_action(action, cx.page) {
            return true;
        }
        match action {
            Action::EventType => {
                self.kind = (self.kind + 1) % TYPES.len();
                self.list.cursor.top();
                self.rebuild(cx.store);
                cx.info(match self.kind() {
                    Some(k) => format!("showing {k} events"),
                    None => "showing every event".into(),
                });
            }
            Action::ClearEvents => {
                self.cleared_at = cx.store.events.back().map(time_nano);
                self.rebuild(cx.store);
            }
            Action::Inspect | Action::Open => {
                let Some(&i) = self.rows.get(self.list.cursor.selected) else {
                    return false;
                };
                let ev = &cx.store.events[i];
                let text = serde_json::to_string_pretty(ev).unwrap_or_default();
                cx.dialog(crate::dashboard::dialogs::text::TextViewer::new(
                    "event", &text,
                ));
            }
            _ => return false,
        }
        true
    }

    fn on_mouse(&mut self, ev: MouseEvent, cx: &mut Cx) -> bool {
        self.refresh(cx.store);
        match self.list.on_mouse(&ev) {
            Click::None => false,
            Click::Activate => self.on_action(Action::Open, cx),
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

    fn on_store(&mut self, _store: &Store) {
        self.stale = true;
    }
}
