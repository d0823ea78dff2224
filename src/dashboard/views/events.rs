//! The events view: the engine's live event stream, newest first, filterable.

use chrono::{DateTime, Utc};
use crossterm::event::MouseEvent;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::Span;
use ratatui::widgets::{Cell, Row};
use ratatui::Frame;
use serde_json::Value;

use super::list::{Click, ListState};
use super::{Cx, DrawCx, View, ViewId};
use crate::dashboard::keymap::Action;
use crate::dashboard::store::Store;
use crate::dashboard::widgets::table::{self, col};

#[derive(Default)]
pub struct EventsView {
    list: ListState,
    /// Indexes into the store's events, newest first.
    rows: Vec<usize>,
    /// Events at or before this time are hidden (the clear key).
    cleared_at: Option<i64>,
}

fn time_nano(ev: &Value) -> i64 {
    ev["timeNano"]
        .as_i64()
        .or_else(|| ev["time"].as_i64().map(|t| t * 1_000_000_000))
        .unwrap_or(0)
}

/// The actor's name (or short id) and its other attributes as `k=v`.
fn actor(ev: &Value) -> (String, String) {
    let attrs = ev["Actor"]["Attributes"].as_object();
    let id = ev["Actor"]["ID"].as_str().unwrap_or("");
    let name = attrs
        .and_then(|a| a.get("name"))
        .and_then(Value::as_str)
        .map(str::to_string)
        .unwrap_or_else(|| id.chars().take(12).collect());
    let rest = attrs
        .map(|a| {
            a.iter()
                .filter(|(k, _)| k.as_str() != "name")
                .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or("")))
                .collect::<Vec<_>>()
                .join(" ")
        })
        .unwrap_or_default();
    (name, rest)
}

impl EventsView {
    fn rebuild(&mut self, store: &Store) {
        let rows: Vec<usize> = (0..store.events.len())
            .rev()
            .filter(|&i| {
                let ev = &store.events[i];
                if self.cleared_at.is_some_and(|t| time_nano(ev) <= t) {
                    return false;
                }
                let (name, rest) = actor(ev);
                self.list.matches(&format!(
                    "{} {} {name} {rest}",
                    ev["Type"].as_str().unwrap_or(""),
                    ev["Action"].as_str().unwrap_or("")
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
        "Events".into()
    }

    fn draw(&mut self, f: &mut Frame, area: Rect, cx: &DrawCx) {
        let store = cx.store;
        let theme = &cx.config.theme;
        let columns = [
            col("TIME", Constraint::Length(8)),
            col("TYPE", Constraint::Length(9)),
            col("ACTION", Constraint::Length(16)),
            col("NAME", Constraint::Fill(1)),
            col("ATTRIBUTES", Constraint::Fill(3)),
        ];
        let empty = if self.list.filter.is_empty() {
            "waiting for events: start, stop or create something".to_string()
        } else {
            format!("no event matches \"{}\"", self.list.filter)
        };
        let rows = &self.rows;
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
                let t = DateTime::<Utc>::from_timestamp_nanos(time_nano(ev))
                    .with_timezone(&chrono::Local)
                    .format("%H:%M:%S")
                    .to_string();
                let action = ev["Action"].as_str().unwrap_or("").to_string();
                let style = match action.as_str() {
                    "die" | "kill" | "oom" | "destroy" | "delete" | "remove" => {
                        theme.fg(theme.stopped)
                    }
                    "start" | "create" | "pull" | "connect" => theme.fg(theme.running),
                    _ => ratatui::style::Style::default(),
                };
                let (name, rest) = actor(ev);
                Row::new(vec![
                    Cell::from(Span::styled(t, theme.muted())),
                    Cell::from(ev["Type"].as_str().unwrap_or("").to_string()),
                    Cell::from(Span::styled(action, style)),
                    Cell::from(name),
                    Cell::from(Span::styled(rest, theme.muted())),
                ])
            },
        );
        self.list.cursor = cursor;
    }

    fn commands(&self, _store: &Store) -> Vec<Action> {
        vec![Action::ClearEvents, Action::Filter, Action::Inspect]
    }

    fn on_action(&mut self, action: Action, cx: &mut Cx) -> bool {
        if self.list.on_action(action, cx.page) {
            return true;
        }
        match action {
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

    fn on_store(&mut self, store: &Store) {
        self.rebuild(store);
    }
}
