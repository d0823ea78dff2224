//! `run`, `create` and `start`: docker's flag → create-body mapping and the attached run flow
//! (create → attach → wait → start → resize; stdin pump; signal proxy; exit with the
//! container's status).

mod args;
pub(crate) mod attached;
mod body;
#[cfg(test)]
mod tests;

use std::io::IsTerminal;

use anyhow::{Context, Result};
use berth_engine::model::container::CreateRequest;

use super::{out, Ctx};
use crate::client::stdin::parse_keys;
use crate::client::{Client, DaemonError};
use crate::exit::ExitError;
use attached::{attached, Attached};

pub use args::{ContainerOpts, CreateArgs, RunArgs, StartArgs};
pub(crate) use attached::spawn_signal_proxy;
pub use body::create_body;
pub(crate) use body::restart_policy;

/// `img` → `img:latest` for the "Unable to find image" line, as docker prints it.
fn display_ref(image: &str) -> String {
    let last = image.rsplit('/').next().unwrap_or(image);
    if last.contains(':') || image.contains('@') {
        image.to_string()
    } else {
        format!("{image}:latest")
    }
}

async fn create_container(
    client: &Client,
    opts: &ContainerOpts,
    body: &CreateRequest,
) -> Result<String> {
    let policy = opts.pull.as_str();
    if !matches!(policy, "missing" | "always" | "never") {
        return Err(ExitError::with(
            125,
            format!("invalid pull option: '{policy}': must be one of \"always\", \"missing\" or \"never\""),
        ));
    }
    if policy == "always" {
        pull_for_run(client, opts).await?;
    }
    let name = opts.name.as_deref();
    let mut resp = client.container_create(name, body).await;
    // Like docker: a missing image is pulled (unless --pull=never) and create retried once.
    if let Err(e) = &resp {
        if let Some(d) = e.downcast_ref::<DaemonError>() {
            if d.status == 404 && d.message.contains("No such image") {
                eprintln!(
                    "Unable to find image '{}' locally",
                    display_ref(&opts.image)
                );
                if policy != "never" {
                    pull_for_run(client, opts).await?;
                    resp = client.container_create(name, body).await;
                }
            }
        }
    }
    let resp = resp?;
    for w in resp["Warnings"].as_array().into_iter().flatten() {
        if let Some(w) = w.as_str() {
            eprintln!("WARNING: {w}");
        }
    }
    resp["Id"]
        .as_str()
        .map(str::to_string)
        .context("the engine's create answer has no Id")
}

/// The pull of `run`/`create`: progress on stderr (stdout carries the container id or output).
async fn pull_for_run(client: &Client, opts: &ContainerOpts) -> Result<()> {
    let mode = if std::io::stderr().is_terminal() {
        crate::commands::pull::Display::Terminal
    } else {
        crate::commands::pull::Display::Lines
    };
    crate::commands::pull::pull_image(
        client,
        &opts.image,
        false,
        opts.platform.as_deref(),
        mode,
        std::io::stderr().lock(),
    )
    .await
}

/// docker's status for a failed start: 127 for a missing command, 126 for one that cannot be
/// executed, 125 otherwise.
pub fn start_error_code(message: &str) -> i32 {
    let m = message.to_lowercase();
    if m.contains("executable file not found")
        || m.contains("no such file or directory")
        || m.contains("command not found")
        || m.contains("not found in $path")
    {
        127
    } else if m.contains("permission denied") || m.contains("is a directory") {
        126
    } else {
        125
    }
}

pub(super) fn start_error(e: anyhow::Error) -> anyhow::Error {
    match e.downcast_ref::<DaemonError>() {
        Some(d) => ExitError::with(start_error_code(&d.message), d.to_string()),
        None => e,
    }
}

pub async fn create(ctx: &Ctx, a: CreateArgs) -> Result<i32> {
    let body = create_body(&a.opts, "create", true, &|k| std::env::var(k).ok())?;
    let client = ctx.client().await?;
    let id = create_container(&client, &a.opts, &body).await?;
    out(&format!("{id}\n"));
    Ok(0)
}

pub async fn run(ctx: &Ctx, a: RunArgs) -> Result<i32> {
    let opts = &a.opts;
    let mut body = create_body(opts, "run", a.detach, &|k| std::env::var(k).ok())?;
    // Bad detach keys must fail before anything is created.
    parse_keys(a.detach_keys.as_deref(), 125)?;
    if opts.tty && std::io::stdout().is_terminal() {
        // The initial size travels with create (HostConfig.ConsoleSize), as docker's CLI does, so
        // a command that asks for it at once (`stty size`) does not race the first resize.
        if let (Ok((w, h)), Some(host)) = (crossterm::terminal::size(), &mut body.host_config) {
            host.console_size = Some(vec![h, w]);
        }
    }
    if !a.detach && opts.interactive && opts.tty && !std::io::stdin().is_terminal() {
        return Err(ExitError::with(1, "the input device is not a TTY"));
    }
    let client = ctx.client().await?;
    let id = create_container(&client, opts, &body).await?;
    if a.detach {
        client.container_start(&id).await.map_err(start_error)?;
        out(&format!("{id}\n"));
        return Ok(0);
    }
    let streams = if opts.attach.is_empty() {
        (opts.interactive, true, true)
    } else {
        let has = |s: &str| opts.attach.iter().any(|a| a.eq_ignore_ascii_case(s));
        (
            has("stdin") || opts.interactive,
            has("stdout"),
            has("stderr"),
        )
    };
    attached(
        &client,
        &id,
        Attached {
            stdin: streams.0,
            stdout: streams.1,
            stderr: streams.2,
            tty: opts.tty,
            sig_proxy: a.sig_proxy && !opts.tty,
            condition: if opts.rm { "removed" } else { "next-exit" },
            detach_keys: a.detach_keys.clone(),
        },
    )
    .await
}

pub async fn start(ctx: &Ctx, a: StartArgs) -> Result<i32> {
    let client = ctx.client().await?;
    if !a.attach && !a.interactive {
        let failed = super::for_each_failed(&a.containers, |name| {
            let client = client.clone();
            async move {
                client.container_start(&name).await?;
                out(&format!("{name}\n"));
                Ok(())
            }
        })
        .await;
        if failed.is_empty() {
            return Ok(0);
        }
        return Err(ExitError::with(
            1,
            format!("Error: failed to start containers: {}", failed.join(", ")),
        ));
    }
    if a.containers.len() > 1 {
        return Err(ExitError::with(
            1,
            "you cannot start and attach multiple containers at once",
        ));
    }
    let name = &a.containers[0];
    let info = client.container_inspect(name).await?;
    let tty = info["Config"]["Tty"].as_bool().unwrap_or(false);
    let open_stdin = info["Config"]["OpenStdin"].as_bool().unwrap_or(false);
    let id = info["Id"].as_str().unwrap_or(name).to_string();
    let auto_remove = info["HostConfig"]["AutoRemove"].as_bool().unwrap_or(false);
    attached(
        &client,
        &id,
        Attached {
            stdin: a.interactive && open_stdin,
            stdout: true,
            stderr: true,
            tty,
            sig_proxy: !tty,
            condition: if auto_remove { "removed" } else { "next-exit" },
            detach_keys: a.detach_keys.clone(),
        },
    )
    .await
}
