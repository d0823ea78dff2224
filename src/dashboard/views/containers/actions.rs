//! The container actions (`act`): start/stop, restart, pause, kill, remove, rename, exec,
//! attach, open port, copy, logs, inspect, prune, fold and show-all, with their confirmations
//! and prompts, on the marked rows, else a selected group, else the selected container.

use hyper::Method;

use super::rows::RowKind;
use super::ContainersView;
use crate::client::api::{containers, Filters};
use crate::dashboard::dialogs::confirm::Confirm;
use crate::dashboard::dialogs::prompt::Prompt;
use crate::dashboard::dialogs::text::TextViewer;
use crate::dashboard::keymap::Action;
use crate::dashboard::msg::{Effect, Purpose};
use crate::dashboard::store::model::Container;
use crate::dashboard::views::{Cmd, Cx, Level, LogTarget};
use crate::dashboard::widgets::ellipsize;

/// The shell started by the exec key: bash when the image has it, else sh.
pub const SHELL: [&str; 3] = [
    "/bin/sh",
    "-c",
    "if command -v bash >/dev/null 2>&1; then exec bash; else exec sh; fi",
];

impl ContainersView {
    /// One API call per target container, reported in the status line.
    pub(super) fn each(
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

    /// The container actions: a check that there is something to act on, then one method per
    /// action.
    pub(super) fn act(&mut self, action: Action, cx: &mut Cx) -> bool {
        let store = cx.store;
        let targets = self.targets(store);
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
            Action::StartStop => self.start_stop(&targets, cx),
            Action::Restart => self.restart(&targets, cx),
            Action::PauseToggle => self.pause_toggle(&targets, cx),
            Action::Kill => kill(&targets, cx),
            Action::Remove => remove(&targets, false, cx),
            Action::ForceRemove => remove(&targets, true, cx),
            Action::Rename => self.rename(cx),
            Action::Exec => self.exec(cx),
            Action::Attach => self.attach(cx),
            Action::OpenPort => self.open_port(cx),
            Action::CopyId => copy(&targets, |c| c.id.as_str(), cx),
            Action::CopyName => copy(&targets, Container::name, cx),
            Action::Logs => self.logs(&targets, cx),
            Action::Open => {
                if let Some(RowKind::Group { .. }) = self.selected_row() {
                    self.toggle_fold(store);
                } else {
                    self.toggle_detail(cx);
                }
            }
            Action::Inspect => return self.inspect(cx),
            Action::ToggleAll => self.toggle_all(cx),
            Action::Fold => self.toggle_fold(store),
            Action::PruneContainers => prune(cx),
            Action::Back if !self.list.marks.is_empty() => self.list.marks.clear(),
            _ => return false,
        }
        true
    }

    fn start_stop(&self, targets: &[&Container], cx: &mut Cx) {
        let (running, stopped): (Vec<&Container>, Vec<&Container>) = targets
            .iter()
            .partition(|c| c.is_running() || c.is_paused());
        // A mixed selection stops what runs when any runs, as Docker Desktop does.
        if !running.is_empty() {
            self.each(cx, &running, "stop", Method::POST, |c| {
                containers::stop(&c.id, false, None, None).path
            });
            cx.info(format!("stopping {}…", names(&running)));
        } else {
            self.each(cx, &stopped, "start", Method::POST, |c| {
                containers::start(&c.id).path
            });
            cx.info(format!("starting {}…", names(&stopped)));
        }
    }

    fn restart(&self, targets: &[&Container], cx: &mut Cx) {
        self.each(cx, targets, "restart", Method::POST, |c| {
            containers::stop(&c.id, true, None, None).path
        });
        cx.info(format!("restarting {}…", names(targets)));
    }

    fn pause_toggle(&self, targets: &[&Container], cx: &mut Cx) {
        let paused: Vec<&Container> = targets.iter().copied().filter(|c| c.is_paused()).collect();
        let running: Vec<&Container> = targets.iter().copied().filter(|c| c.is_running()).collect();
        if !paused.is_empty() {
            self.each(cx, &paused, "unpause", Method::POST, |c| {
                containers::pause(&c.id, false).path
            });
        } else if !running.is_empty() {
            self.each(cx, &running, "pause", Method::POST, |c| {
                containers::pause(&c.id, true).path
            });
        } else {
            cx.error(format!("{} is not running", names(targets)));
        }
    }

    fn rename(&self, cx: &mut Cx) {
        let Some(c) = self.selected_container(cx.store) else {
            cx.error("select one container to rename");
            return;
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
                Ok(vec![Cmd::Effect(Effect::api(
                    containers::rename(&id, name),
                    Purpose::Action {
                        label: format!("rename {old} to {name}"),
                    },
                ))])
            },
        ));
    }

    /// The selected container when it runs, else says why not (`what`: the action's words).
    fn running_selected<'s>(&self, cx: &mut Cx<'s>, what: &str) -> Option<&'s Container> {
        let Some(c) = self.selected_container(cx.store) else {
            cx.error(format!("select a container {what}"));
            return None;
        };
        if !c.is_running() {
            cx.error(format!("{} is not running", c.name()));
            return None;
        }
        Some(c)
    }

    fn exec(&self, cx: &mut Cx) {
        if let Some(c) = self.running_selected(cx, "to open a shell in") {
            cx.effect(Effect::Exec {
                container: c.id.clone(),
                command: SHELL.iter().map(|s| s.to_string()).collect(),
            });
        }
    }

    fn attach(&self, cx: &mut Cx) {
        if let Some(c) = self.running_selected(cx, "to attach to") {
            cx.effect(Effect::Attach {
                container: c.id.clone(),
            });
        }
    }

    fn open_port(&self, cx: &mut Cx) {
        let Some(c) = self.selected_container(cx.store) else {
            cx.error("select a container");
            return;
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
                            Cmd::Status(Level::Info, format!("opening {url}")),
                            Cmd::Effect(Effect::OpenUrl(url)),
                        ])
                    },
                ));
            }
        }
    }

    fn logs(&self, targets: &[&Container], cx: &mut Cx) {
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

    /// `false` with no container selected (a group row): the key has no meaning there.
    fn inspect(&self, cx: &mut Cx) -> bool {
        let Some(c) = self.selected_container(cx.store) else {
            return false;
        };
        let title = format!("inspect {}", c.name());
        let purpose = Purpose::Inspect {
            title: title.clone(),
        };
        cx.effect(Effect::api(containers::inspect(&c.id), purpose.clone()));
        cx.dialog(TextViewer::loading(title, purpose));
        true
    }

    fn toggle_all(&mut self, cx: &mut Cx) {
        self.show_all = !self.show_all;
        self.rebuild(cx.store);
        cx.info(if self.show_all {
            "showing all containers"
        } else {
            "showing running containers"
        });
    }
}

/// The names of up to three containers, else how many.
fn names(ts: &[&Container]) -> String {
    let names: Vec<&str> = ts.iter().map(|c| c.name()).collect();
    if names.len() <= 3 {
        names.join(", ")
    } else {
        format!("{} containers", names.len())
    }
}

fn kill(targets: &[&Container], cx: &mut Cx) {
    let running: Vec<&Container> = targets
        .iter()
        .copied()
        .filter(|c| c.is_running() || c.is_paused())
        .collect();
    if running.is_empty() {
        cx.error(format!("{} is not running", names(targets)));
        return;
    }
    let cmds = running
        .iter()
        .map(|c| {
            Cmd::Effect(Effect::api(
                containers::kill(&c.id, None),
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

fn remove(targets: &[&Container], force: bool, cx: &mut Cx) {
    let cmds = targets
        .iter()
        .map(|c| {
            Cmd::Effect(Effect::api(
                containers::remove(&c.id, force, false),
                Purpose::Action {
                    label: format!("remove {}", c.name()),
                },
            ))
        })
        .collect();
    let what = if force {
        format!("Remove {} (running ones are killed)?", names(targets))
    } else {
        format!("Remove {}?", names(targets))
    };
    cx.dialog(Confirm::new(
        if force { "Force remove" } else { "Remove" },
        what,
        cmds,
    ));
}

/// Copies the targets' ids or names (`text` picks which), space-separated.
fn copy(targets: &[&Container], text: impl Fn(&Container) -> &str, cx: &mut Cx) {
    let text: Vec<&str> = targets.iter().map(|c| text(c)).collect();
    let text = text.join(" ");
    cx.info(format!("copied {}", ellipsize(&text, 60)));
    cx.effect(Effect::Clipboard(text));
}

fn prune(cx: &mut Cx) {
    let stopped = cx
        .store
        .containers
        .iter()
        .filter(|c| !c.is_running() && !c.is_paused())
        .count();
    cx.dialog(Confirm::new(
        "Prune",
        format!("Remove all {stopped} stopped containers?"),
        vec![Cmd::Effect(Effect::api(
            containers::prune(&Filters::none()),
            Purpose::Action {
                label: "prune containers".into(),
            },
        ))],
    ));
}
