//! Keys and mouse: the filter line first, then the top dialog, then the current view, then the
//! global meaning of an action (quit, help, palette, view switching, mouse capture).

use crossterm::event::{
    Event, KeyCode, KeyEvent, KeyEventKind, KeyModifiers, MouseButton, MouseEvent, MouseEventKind,
};
use tui_input::backend::crossterm::EventHandler;
use tui_input::Input;

use super::App;
use crate::dashboard::dialogs::{self, Outcome};
use crate::dashboard::keymap::Action;
use crate::dashboard::msg::{Effect, FeedRequest, Purpose};
use crate::dashboard::views::{Level, ViewId};

impl App {
    pub(super) fn on_input(&mut self, ev: Event) {
        self.dirty = true;
        match ev {
            Event::Key(key) if key.kind != KeyEventKind::Release => self.on_key(key),
            Event::Mouse(m) => self.on_mouse(m),
            Event::Paste(text) => {
                if let Some(d) = self.dialogs.last_mut() {
                    d.on_paste(&text);
                } else if let Some(input) = &mut self.filter {
                    for c in text.chars().filter(|c| !c.is_control()) {
                        input.handle(tui_input::InputRequest::InsertChar(c));
                    }
                    let v = input.value().to_string();
                    self.views.get(self.current).set_filter(&v, &self.store);
                }
            }
            _ => {}
        }
    }

    pub(super) fn on_key(&mut self, key: KeyEvent) {
        if key.code == KeyCode::Char('c') && key.modifiers.contains(KeyModifiers::CONTROL) {
            self.quit();
            return;
        }
        if let Some(input) = &mut self.filter {
            match key.code {
                KeyCode::Enter => self.filter = None,
                KeyCode::Esc => {
                    self.filter = None;
                    self.views.get(self.current).set_filter("", &self.store);
                }
                _ => {
                    input.handle_event(&Event::Key(key));
                    let v = input.value().to_string();
                    self.views.get(self.current).set_filter(&v, &self.store);
                }
            }
            return;
        }
        if let Some(mut d) = self.dialogs.pop() {
            let (outcome, queue) = self.handle(|_, cx| d.on_key(key, cx));
            // Back on the stack before its commands run, so a dialog it opens lands on top.
            if outcome == Outcome::Keep {
                self.dialogs.push(d);
            }
            self.apply(queue);
            return;
        }
        let Some(action) = self.config.keymap.resolve(self.current.context(), &key) else {
            return;
        };
        self.on_action(action);
    }

    pub(super) fn on_action(&mut self, action: Action) {
        let current = self.current;
        let handled = self.with_views(|views, cx| views.get(current).on_action(action, cx));
        if handled {
            return;
        }
        match action {
            Action::Quit => self.quit(),
            Action::Help => self
                .dialogs
                .push(Box::new(dialogs::help::Help::new(self.current.context()))),
            Action::Palette => self.dialogs.push(Box::new(dialogs::palette::Palette::new(
                self.current.context(),
            ))),
            Action::Filter => {
                let current = self.views.get_ref(self.current).filter().to_string();
                self.filter = Some(Input::new(current));
            }
            Action::Back => {
                if self.current == ViewId::Logs {
                    self.close_logs();
                } else if !self.views.get_ref(self.current).filter().is_empty() {
                    self.views.get(self.current).set_filter("", &self.store);
                }
            }
            Action::NextView | Action::PrevView => {
                let tabs = ViewId::TABS;
                let at = tabs.iter().position(|&v| v == self.current).unwrap_or(0);
                let n = tabs.len();
                let next = if action == Action::NextView {
                    (at + 1) % n
                } else {
                    (at + n - 1) % n
                };
                self.switch(tabs[next]);
            }
            Action::ViewContainers => self.switch(ViewId::Containers),
            Action::ViewImages => self.switch(ViewId::Images),
            Action::ViewVolumes => self.switch(ViewId::Volumes),
            Action::ViewNetworks => self.switch(ViewId::Networks),
            Action::ViewEvents => self.switch(ViewId::Events),
            Action::ViewBuilds => self.switch(ViewId::Builds),
            Action::ViewStacks => self.switch(ViewId::Stacks),
            Action::ToggleMouse => {
                self.mouse = !self.mouse;
                self.effects.push(Effect::SetMouse(self.mouse));
                let text = if self.mouse {
                    "mouse on: click rows, tabs and headers; wheel scrolls"
                } else {
                    "mouse off: the terminal selects text (press m again to turn it on)"
                };
                self.set_status(Level::Info, text.into());
            }
            Action::Tasks => self
                .dialogs
                .push(Box::new(dialogs::tasks::TaskDialog::all())),
            _ => {}
        }
    }

    pub(super) fn quit(&mut self) {
        self.quit = true;
        self.effects.push(Effect::Quit);
    }

    pub(super) fn switch(&mut self, to: ViewId) {
        if self.current == ViewId::Logs && to != ViewId::Logs {
            self.close_logs_streams();
        }
        if to != ViewId::Logs {
            self.previous = to;
        }
        self.current = to;
        if to == ViewId::Volumes {
            // Sizes are costly to compute (a walk of every volume); ask when the view opens.
            self.effects.push(Effect::api(
                crate::client::api::system::disk_usage(),
                Purpose::DiskUsage,
            ));
        }
        if to == ViewId::Builds {
            // Builds happen without events of their own; the list is read when it is looked at
            // (and polled by the feed while one runs).
            self.effects.push(Effect::feed(FeedRequest::RefreshBuilds));
        }
    }

    pub(super) fn close_logs_streams(&mut self) {
        self.with_views(|views, cx| views.logs.close(cx));
    }

    pub(super) fn close_logs(&mut self) {
        self.close_logs_streams();
        self.current = self.previous;
    }

    pub(super) fn on_mouse(&mut self, m: MouseEvent) {
        if let Some(mut d) = self.dialogs.pop() {
            let (outcome, queue) = self.handle(|_, cx| d.on_mouse(m, cx));
            if outcome == Outcome::Keep {
                self.dialogs.push(d);
            }
            self.apply(queue);
            return;
        }
        if m.kind == MouseEventKind::Down(MouseButton::Left) && m.row == self.tabs.0 {
            if let Some(i) = self
                .tabs
                .1
                .iter()
                .position(|&(a, b)| m.column >= a && m.column < b)
            {
                self.switch(ViewId::TABS[i]);
                return;
            }
        }
        let current = self.current;
        self.with_views(|views, cx| views.get(current).on_mouse(m, cx));
    }
}
