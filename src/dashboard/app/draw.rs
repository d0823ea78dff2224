//! Drawing the whole screen (header, tabs, banner, the current view, dialogs, footer), and the
//! stats streams that follow what is on screen.

use std::collections::BTreeSet;

use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::Line;
use ratatui::widgets::Paragraph;
use ratatui::Frame;

use super::{App, STATS_RETRY};
use crate::dashboard::dialogs;
use crate::dashboard::keymap::Action;
use crate::dashboard::msg::{Effect, Framing, StreamKey, StreamRequest};
use crate::dashboard::store::Connection;
use crate::dashboard::views::{DrawCx, Level, View, ViewId};
use crate::dashboard::widgets::chrome;

impl App {
    pub fn draw(&mut self, f: &mut Frame) {
        self.dirty = false;
        let area = f.area();
        let lost = match &self.store.connection {
            Connection::Lost(r) => Some(r.clone()),
            _ => None,
        };
        let [header, tabs, banner, body, footer] = Layout::vertical([
            Constraint::Length(1),
            Constraint::Length(1),
            Constraint::Length(u16::from(lost.is_some())),
            Constraint::Min(1),
            Constraint::Length(1),
        ])
        .areas(area);
        self.body_height = body.height;
        let theme = &self.config.theme;
        let tasks = self.store.running_tasks();
        let mut extra = String::new();
        if tasks > 0 {
            extra.push_str(&format!(
                "⟳ {tasks} task{}",
                if tasks == 1 { "" } else { "s" }
            ));
        }
        if !self.mouse {
            if !extra.is_empty() {
                extra.push(' ');
            }
            extra.push_str("[mouse off]");
        }
        chrome::header(f, header, &self.store, theme, &extra);
        let titles: Vec<(String, bool)> = ViewId::TABS
            .iter()
            .map(|&v| {
                (
                    self.views.get_ref(v).tab_title(&self.store),
                    v == self.current,
                )
            })
            .collect();
        let mut titles = titles;
        if self.current == ViewId::Logs {
            titles.push((self.views.logs.tab_title(&self.store), true));
        }
        let ranges = chrome::tabs(f, tabs, &titles, theme);
        self.tabs = (tabs.y, ranges);
        if let Some(reason) = &lost {
            chrome::banner(f, banner, reason, theme);
        }
        let now = self.clock.unwrap_or_else(chrono::Utc::now);
        {
            let cx = DrawCx {
                store: &self.store,
                config: &self.config,
                now,
            };
            self.views.get(self.current).draw(f, body, &cx);
            for d in &mut self.dialogs {
                d.draw(f, body, &cx);
            }
        }
        self.draw_footer(f, footer);
        self.reconcile_stats();
    }

    pub(super) fn draw_footer(&mut self, f: &mut Frame, area: Rect) {
        let theme = &self.config.theme;
        if let Some(input) = &self.filter {
            let label = self.views.get_ref(self.current).filter_label();
            let w = label.len() as u16;
            f.render_widget(
                Paragraph::new(Line::styled(label, theme.fg(theme.accent))),
                Rect {
                    width: w.min(area.width),
                    ..area
                },
            );
            let input_area = Rect {
                x: area.x + w,
                width: area.width.saturating_sub(w),
                ..area
            };
            dialogs::prompt::draw_input(
                f,
                input_area,
                input,
                ratatui::style::Style::default(),
                true,
            );
            return;
        }
        if let Some((level, text, _)) = &self.status {
            chrome::status(f, area, text, *level == Level::Error, theme);
            return;
        }
        let keymap = &self.config.keymap;
        let hints: Vec<(String, String)> = match self.dialogs.last() {
            Some(d) => d.hints(),
            None => self
                .views
                .get_ref(self.current)
                .commands(&self.store)
                .into_iter()
                .map(|a| (keymap.label(a), short(a).to_string()))
                .collect(),
        };
        let help = (keymap.label(Action::Help), "help".to_string());
        chrome::footer(f, area, &hints, &help, theme);
    }

    /// Opens stats streams for the running containers the containers view shows, and closes
    /// the ones no longer shown.
    pub(super) fn reconcile_stats(&mut self) {
        if !matches!(self.store.connection, Connection::Connected) {
            return;
        }
        let wanted: BTreeSet<String> = self
            .views
            .containers
            .wanted_stats(&self.store)
            .into_iter()
            .collect();
        let to_open: Vec<String> = wanted
            .iter()
            .filter(|id| !self.stats_open.contains(*id))
            .filter(|id| {
                self.stats_ended
                    .get(*id)
                    .is_none_or(|at| at.elapsed() >= STATS_RETRY)
            })
            .cloned()
            .collect();
        for id in to_open {
            let stats = crate::client::api::containers::stats(&id, true);
            self.effects.push(Effect::open(StreamRequest {
                key: StreamKey::Stats(id.clone()),
                method: stats.method,
                path: stats.path,
                body: stats.body,
                framing: Framing::JsonLines,
                reopen: true,
                auth_for: None,
                upload: None,
            }));
            self.stats_open.insert(id);
        }
        let to_close: Vec<String> = self.stats_open.difference(&wanted).cloned().collect();
        for id in to_close {
            self.stats_open.remove(&id);
            self.effects.push(Effect::close(StreamKey::Stats(id)));
        }
    }
}

/// The footer's word for an action (the help screen has the full description).
pub fn short(a: Action) -> &'static str {
    match a {
        Action::StartStop => "start/stop",
        Action::Restart => "restart",
        Action::PauseToggle => "pause",
        Action::Kill => "kill",
        Action::Remove
        | Action::RemoveImage
        | Action::RemoveVolume
        | Action::RemoveNetwork
        | Action::RemoveBuild => "rm",
        Action::ForceRemove | Action::ForceRemoveImage => "force rm",
        Action::Exec => "shell",
        Action::Attach => "attach",
        Action::Logs => "logs",
        Action::Open => "details",
        Action::Inspect => "inspect",
        Action::ToggleAll => "all/running",
        Action::Fold => "fold",
        Action::Mark => "mark",
        Action::Filter => "filter",
        Action::Pull => "pull",
        Action::RunImage => "run",
        Action::Tag => "tag",
        Action::Push => "push",
        Action::History => "history",
        Action::Dangling => "dangling",
        Action::PruneContainers
        | Action::PruneImages
        | Action::PruneVolumes
        | Action::PruneNetworks => "prune",
        Action::CreateVolume | Action::CreateNetwork => "create",
        Action::Connect => "connect",
        Action::Disconnect => "disconnect",
        Action::ClearEvents => "clear",
        Action::Follow => "follow",
        Action::NextMatch => "next",
        Action::PrevMatch => "prev",
        Action::OnlyMatching => "only matching",
        Action::Regex => "regex",
        Action::Timestamps => "timestamps",
        Action::Wrap => "wrap",
        Action::Since => "since",
        Action::SaveLogs => "save",
        Action::Back => "back",
        Action::Rename => "rename",
        Action::OpenPort => "open port",
        Action::CopyId => "copy id",
        Action::CopyName => "copy name",
        Action::NextTab => "tab",
        Action::PrevTab => "prev tab",
        Action::DetailScrollDown => "scroll",
        Action::DetailScrollUp => "scroll up",
        Action::BuildLogDown => "log down",
        Action::BuildLogUp => "log up",
        Action::BuildImage | Action::NewBuild => "build",
        Action::DetailNextMatch => "next",
        Action::DetailPrevMatch => "prev",
        Action::Sort => "sort",
        Action::Palette => "commands",
        a => a.name(),
    }
}
