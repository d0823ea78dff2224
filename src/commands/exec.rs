//! `exec`: run a command in a running container (create the exec instance, start it hijacked,
//! pump stdin and output, exit with the command's status), as `docker exec` does.

use std::io::IsTerminal;

use anyhow::{Context, Result};
use clap::Args;

use super::Ctx;
use crate::client::api::exec::{self, ExecCreate, ExecStart};
use crate::client::demux::copy_output;
use crate::client::stdin::{detached, parse_keys, spawn_pump};
use crate::client::terminal::{follow_window_size, RawMode};

#[derive(Args, Debug, Clone)]
pub struct ExecArgs {
    /// Detached mode: run command in the background.
    #[arg(short = 'd', long)]
    pub detach: bool,
    /// Keep STDIN open even if not attached.
    #[arg(short = 'i', long)]
    pub interactive: bool,
    /// Allocate a pseudo-TTY.
    #[arg(short = 't', long)]
    pub tty: bool,
    /// Set environment variables.
    #[arg(short = 'e', long = "env")]
    pub env: Vec<String>,
    /// Username or UID (format: "<name|uid>[:<group|gid>]").
    #[arg(short = 'u', long)]
    pub user: Option<String>,
    /// Working directory inside the container.
    #[arg(short = 'w', long)]
    pub workdir: Option<String>,
    /// Give extended privileges to the command.
    #[arg(long)]
    pub privileged: bool,
    /// Override the key sequence for detaching a container.
    #[arg(long)]
    pub detach_keys: Option<String>,
    pub container: String,
    #[arg(required = true, trailing_var_arg = true, allow_hyphen_values = true)]
    pub command: Vec<String>,
}

/// `-e VAR` without `=` takes the local value (dropped when unset), as docker does.
fn resolve_env(env: &[String], lookup: &dyn Fn(&str) -> Option<String>) -> Vec<String> {
    env.iter()
        .filter_map(|e| {
            if e.contains('=') {
                Some(e.clone())
            } else {
                lookup(e).map(|v| format!("{e}={v}"))
            }
        })
        .collect()
}

/// The body of `POST /containers/{id}/exec`.
pub fn create_body(a: &ExecArgs, env: Vec<String>, size: Option<(u16, u16)>) -> ExecCreate {
    let attach = !a.detach;
    ExecCreate {
        user: a.user.clone().unwrap_or_default(),
        privileged: a.privileged,
        tty: a.tty,
        attach_stdin: attach && a.interactive,
        attach_stdout: attach,
        attach_stderr: attach,
        detach_keys: a.detach_keys.clone().unwrap_or_default(),
        env,
        working_dir: a.workdir.clone().unwrap_or_default(),
        cmd: a.command.clone(),
        console_size: size.map(|(h, w)| [h, w]),
    }
}

pub async fn exec(ctx: &Ctx, a: ExecArgs) -> Result<i32> {
    let keys = parse_keys(a.detach_keys.as_deref(), 1)?;
    let client = ctx.client().await?;
    let env = resolve_env(&a.env, &|k| std::env::var(k).ok());
    let size = if a.tty && std::io::stdout().is_terminal() {
        crossterm::terminal::size().ok().map(|(w, h)| (h, w))
    } else {
        None
    };
    let body = create_body(&a, env, size);
    let created = client.exec_create(&a.container, &body).await?;
    let id = created["Id"]
        .as_str()
        .context("the engine did not return an exec id")?
        .to_string();

    if a.detach {
        client.exec_start_detached(&id, a.tty).await?;
        return Ok(0);
    }

    let start = ExecStart {
        detach: false,
        tty: a.tty,
        console_size: size.map(|(h, w)| [h, w]),
    };
    let io = client.exec_start_attached(&id, &start).await?;
    let (reader, writer) = tokio::io::split(io);

    let _raw = RawMode::enable(a.tty && a.interactive);
    // Follows window size changes for as long as this session lasts, and no longer.
    let _winch = if a.tty {
        Some(follow_window_size(&client, &id, exec::resize).await)
    } else {
        None
    };
    let mut pump = a
        .interactive
        .then(|| spawn_pump(writer, a.tty.then_some(keys)));
    tokio::select! {
        r = copy_output(reader, a.tty) => r?,
        _ = detached(pump.as_mut()) => {
            // The process keeps running in the container.
            drop(_raw);
            return Ok(0);
        }
    }
    drop(_raw);

    let info = client.exec_inspect(&id).await?;
    Ok(info["ExitCode"].as_i64().unwrap_or(0) as i32)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::{Cli, Cmd};
    use clap::Parser;
    use serde_json::json;

    fn args(argv: &[&str]) -> ExecArgs {
        let mut full = vec!["berth", "--headless", "exec"];
        full.extend_from_slice(argv);
        match Cli::try_parse_from(full).unwrap().command {
            Some(Cmd::Exec(a)) => a,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn flags_map_to_docker_body() {
        let a = args(&[
            "-i",
            "-e",
            "A=1",
            "-u",
            "app",
            "-w",
            "/tmp",
            "c1",
            "sh",
            "-c",
            "echo -n x",
        ]);
        let b =
            serde_json::to_value(create_body(&a, resolve_env(&a.env, &|_| None), None)).unwrap();
        assert_eq!(b["Cmd"], json!(["sh", "-c", "echo -n x"]));
        assert_eq!(b["AttachStdin"], true);
        assert_eq!(b["AttachStdout"], true);
        assert_eq!(b["Tty"], false);
        assert_eq!(b["User"], "app");
        assert_eq!(b["WorkingDir"], "/tmp");
        assert_eq!(b["Env"], json!(["A=1"]));
        assert!(b.get("ConsoleSize").is_none());

        let a = args(&["-d", "-t", "c1", "top"]);
        let b = serde_json::to_value(create_body(&a, vec![], Some((24, 80)))).unwrap();
        assert_eq!(b["AttachStdout"], false);
        assert_eq!(b["AttachStdin"], false);
        assert_eq!(b["ConsoleSize"], json!([24, 80]));
    }

    #[test]
    fn env_without_value_comes_from_local_env() {
        let env = resolve_env(&["HOME".into(), "UNSET".into(), "K=v".into()], &|k| {
            (k == "HOME").then(|| "/root".to_string())
        });
        assert_eq!(env, vec!["HOME=/root", "K=v"]);
    }

    #[test]
    fn command_is_required() {
        assert!(Cli::try_parse_from(["berth", "--headless", "exec", "c1"]).is_err());
    }
}
