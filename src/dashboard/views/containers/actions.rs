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

    pub(super) fn act(&mut self, action: Action, cx: &mut Cx) -> bool {
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
            Action::Restart => {
                self.each(cx, &targets, "restart", Method::POST, |c| {
                    containers::stop(&c.id, true, None, None).path
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
                        containers::pause(&c.id, false).path
                    });
                } else if !running.is_empty() {
                    self.each(cx, &running, "pause", Method::POST, |c| {
                        containers::pause(&c.id, true).path
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
            Action::Remove | Action::ForceRemove => {
                let force = action == Action::ForceRemove;
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
                        Ok(vec![Cmd::Effect(Effect::api(
                            containers::rename(&id, name),
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
                                    Cmd::Status(Level::Info, format!("opening {url}")),
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
                cx.effect(Effect::api(containers::inspect(&c.id), purpose.clone()));
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
                    vec![Cmd::Effect(Effect::api(
                        containers::prune(&Filters::none()),
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
}
