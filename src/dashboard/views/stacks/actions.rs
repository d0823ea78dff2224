//! The Stacks view's keys. Each verb becomes a `Cmd::StackTask` (the feed runs it with
//! `compose::converge` as a background task); `o` and `P` ask for a file to be read (again);
//! `L` opens the merged logs view, `c` the effective config. What cannot be done says why on
//! the status line instead of doing nothing.

use super::StacksView;
use crate::dashboard::dialogs::network_form::{Field, Form, Values};
use crate::dashboard::dialogs::prompt::Prompt;
use crate::dashboard::dialogs::text::TextViewer;
use crate::dashboard::keymap::Action;
use crate::dashboard::store::stacks::derive::Stack;
use crate::dashboard::store::stacks::{StackLoad, StackOp};
use crate::dashboard::views::{Cmd, Cx, Level, LogTarget};

impl StacksView {
    pub(super) fn act(&mut self, action: Action, cx: &mut Cx) -> bool {
        if action == Action::OpenCompose {
            cx.dialog(open_prompt(&cx.store.compose_default));
            return true;
        }
        if action == Action::Open {
            self.toggle(cx.store);
            return true;
        }
        let Some((stack, service)) = self.selected() else {
            return false;
        };
        let stack = stack.clone();
        let service = service.map(str::to_string);
        let op = match action {
            Action::StackUp => StackOp::Up,
            Action::StackRestart => StackOp::Restart,
            Action::StackPull => StackOp::Pull,
            Action::StackStartStop if stack.running(cx.store) > 0 => StackOp::Stop,
            Action::StackStartStop => StackOp::Start,
            Action::StackDown => {
                cx.dialog(down_form(&stack, cx));
                return true;
            }
            Action::StackLogs => return logs(&stack, cx),
            Action::StackConfig => return config(&stack, cx),
            Action::Profiles => return profiles(&stack, cx),
            Action::StackBuild | Action::StackRecreate | Action::ScaleUp | Action::ScaleDown => {
                let Some(service) = service else {
                    cx.error("select a service first (enter unfolds the project)");
                    return true;
                };
                match service_op(action, &stack, &service) {
                    Some(op) => op,
                    None => return true,
                }
            }
            _ => return false,
        };
        start(&stack, op, cx);
        true
    }
}

/// Queues the verb, or says why it needs a file the project does not have.
fn start(stack: &Stack, op: StackOp, cx: &mut Cx) {
    let target = stack.target(cx.store);
    if op.needs_file() {
        match stack.file.map(|i| &cx.store.stack_files[i]) {
            None => {
                cx.error(format!(
                    "no compose file known for {}: open it with {}",
                    stack.name,
                    cx.config.keymap.label(Action::OpenCompose)
                ));
                return;
            }
            Some(f) if f.error().is_some() => {
                cx.error(format!("{}: {}", stack.name, f.error().unwrap_or_default()));
                return;
            }
            Some(_) => {}
        }
    }
    cx.push(Cmd::StackTask {
        target,
        op,
        show: false,
    });
}

/// `b`, `R`, `+`, `-` on a service row.
fn service_op(action: Action, stack: &Stack, service: &str) -> Option<StackOp> {
    let service_row = stack.service(service)?;
    // What it runs now: its containers, or what the file asks for before the first up.
    let current = if service_row.containers.is_empty() {
        service_row.scale.unwrap_or(1)
    } else {
        service_row.containers.len() as i64
    };
    let service = service.to_string();
    Some(match action {
        Action::StackBuild => StackOp::Build { service },
        Action::StackRecreate => StackOp::Recreate { service },
        Action::ScaleUp => StackOp::Scale {
            service,
            replicas: current + 1,
        },
        _ => StackOp::Scale {
            service,
            replicas: (current - 1).max(0),
        },
    })
}

/// `o`: the path of a compose file, the one found in berth's directory offered first.
fn open_prompt(default: &str) -> Prompt {
    Prompt::new("Open compose file", "File", default, |text| {
        let path = text.trim();
        if path.is_empty() {
            return Err("the path of a compose file".into());
        }
        Ok(vec![
            Cmd::LoadStack {
                load: StackLoad {
                    files: vec![path.to_string()],
                    working_dir: None,
                    name: None,
                    profiles: Vec::new(),
                },
                opened: true,
            },
            Cmd::Status(Level::Info, format!("reading {path}")),
        ])
    })
}

/// `D`: down asks first, with docker compose's `-v` as a checkbox (off: volumes hold data).
fn down_form(stack: &Stack, cx: &Cx) -> Form {
    let target = stack.target(cx.store);
    let name = stack.name.clone();
    Form::new(
        format!("Down {name}"),
        vec![Field::check(
            "Volumes",
            false,
            "also remove the project's named and anonymous volumes (down -v)",
        )],
        move |v: &Values| {
            Ok(vec![Cmd::StackTask {
                target: target.clone(),
                op: StackOp::Down {
                    volumes: v.check(0),
                },
                show: false,
            }])
        },
    )
    .with_note(format!(
        "Stop and remove the containers and networks of {name}?"
    ))
}

/// `L`: the merged logs of every container of the project.
fn logs(stack: &Stack, cx: &mut Cx) -> bool {
    if stack.containers.is_empty() {
        cx.error(format!("{} has no containers (u brings it up)", stack.name));
        return true;
    }
    let containers = stack
        .containers
        .iter()
        .map(|&i| {
            let c = &cx.store.containers[i];
            (c.id.clone(), c.name().to_string())
        })
        .collect();
    cx.push(Cmd::OpenLogs(LogTarget {
        title: format!("project {}", stack.name),
        containers,
    }));
    true
}

/// `c`: the project as `berth compose config` prints it.
fn config(stack: &Stack, cx: &mut Cx) -> bool {
    let file = stack.file.map(|i| &cx.store.stack_files[i]);
    match file.map(|f| (f.info(), f.error(), f.loading)) {
        Some((Some(info), _, _)) => cx.dialog(TextViewer::new(
            format!("config {}", stack.name),
            &info.yaml,
        )),
        Some((None, Some(e), _)) => cx.error(format!("{}: {e}", stack.name)),
        Some((None, None, _)) => cx.info(format!("reading the compose file of {}…", stack.name)),
        None => cx.error(format!("no compose file known for {}", stack.name)),
    }
    true
}

/// `P`: one checkbox per profile of the file; the choice is loaded (the services it enables
/// show) and used by `u`.
fn profiles(stack: &Stack, cx: &mut Cx) -> bool {
    let Some(file) = stack.file.map(|i| &cx.store.stack_files[i]) else {
        cx.error(format!("no compose file known for {}", stack.name));
        return true;
    };
    let Some(info) = file.info() else {
        cx.error(format!(
            "the compose file of {} is not read yet",
            stack.name
        ));
        return true;
    };
    if info.profiles.is_empty() {
        cx.info(format!("{} has no profiles", stack.name));
        return true;
    }
    let all = info.profiles.clone();
    let fields = all
        .iter()
        .map(|p| Field::check(p, file.profiles.contains(p), ""))
        .collect();
    let load = file.load_request();
    let opened = file.opened;
    cx.dialog(
        Form::new(format!("Profiles of {}", stack.name), fields, move |v| {
            let chosen: Vec<String> = all
                .iter()
                .enumerate()
                .filter(|(i, _)| v.check(*i))
                .map(|(_, p)| p.clone())
                .collect();
            let mut load = load.clone();
            load.profiles = chosen;
            Ok(vec![Cmd::LoadStack { load, opened }])
        })
        .with_note("The profiles up uses (services without a profile always run)."),
    );
    true
}
