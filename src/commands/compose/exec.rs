//! `berth compose exec SERVICE COMMAND…`: `berth exec` in a service's container (the first
//! replica, or `--index`), as docker compose runs it: stdin always attached, a TTY unless
//! `-T` or stdout is not a terminal, `-e NAME` completed from the project's environment (the
//! shell's and `.env`), and the command's exit status as berth's own.

use std::io::IsTerminal;

use anyhow::Result;

use super::args::ExecArgs;
use super::target::{fail, project_name, specified_container};
use super::Session;
use crate::commands::exec as plain;
use crate::commands::Ctx;
use crate::compose::observed::OneOff;
use crate::compose::options;

/// `-e NAME` takes the project environment's value; unknown names stay bare (the engine then
/// leaves the variable out), as docker compose passes them.
fn environment(entries: &[String], lookup: &dyn Fn(&str) -> Option<String>) -> Vec<String> {
    entries
        .iter()
        .map(|e| match e.split_once('=') {
            Some(_) => e.clone(),
            None => lookup(e).map_or_else(|| e.clone(), |v| format!("{e}={v}")),
        })
        .collect()
}

/// The berth `exec` a compose `exec` amounts to, on container `id`.
fn plain_args(a: &ExecArgs, id: String, env: Vec<String>, tty: bool) -> plain::ExecArgs {
    plain::ExecArgs {
        detach: a.detach,
        interactive: true,
        tty,
        env,
        user: a.user.clone(),
        workdir: a.workdir.clone(),
        privileged: a.privileged,
        detach_keys: None,
        container: id,
        command: a.command.clone(),
    }
}

pub async fn run(ctx: &Ctx, session: &Session, a: ExecArgs) -> Result<i32> {
    let name = project_name(session)?;
    // The project's variables when there is a project to read them from, else the shell's.
    let vars = options::resolve(&session.flags, &session.env, &session.cwd)
        .map(|o| o.load.environment)
        .unwrap_or_else(|_| session.env.clone());
    let env = environment(&a.env, &|k| vars.get(k).cloned());
    let tty = !a.no_tty && std::io::stdout().is_terminal();
    let client = ctx.client().await?;
    let container =
        specified_container(&client, &name, OneOff::Include, false, &a.service, a.index).await?;
    if tty && !a.detach && !std::io::stdin().is_terminal() {
        return Err(fail("the input device is not a TTY"));
    }
    let id = container["Id"].as_str().unwrap_or_default().to_string();
    plain::exec(ctx, plain_args(&a, id, env, tty)).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bare_names_come_from_the_project_environment() {
        let env = environment(&["A".into(), "B=2".into(), "C".into()], &|k| {
            (k == "A").then(|| "1".to_string())
        });
        assert_eq!(env, ["A=1", "B=2", "C"]);
    }

    #[test]
    fn stdin_is_always_attached() {
        let a = ExecArgs {
            service: "web".into(),
            command: vec!["sh".into()],
            user: Some("app".into()),
            ..Default::default()
        };
        let p = plain_args(&a, "abc".into(), vec![], false);
        assert!(p.interactive && !p.tty && !p.detach);
        assert_eq!(p.container, "abc");
        assert_eq!(p.user.as_deref(), Some("app"));
    }
}
