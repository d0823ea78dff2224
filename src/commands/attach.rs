//! `attach`: connect local stdin/stdout/stderr to a running container's main process, as
//! `docker attach` does: detach keys (TTY), signal proxy (no TTY), window size, and the
//! container's exit status once it ends.

use std::io::IsTerminal;

use anyhow::{Context, Result};
use clap::Args;
use http_body_util::BodyExt;
use serde_json::Value;

use super::run::spawn_signal_proxy;
use super::Ctx;
use crate::client::api::containers::{self, AttachOptions};
use crate::client::demux::copy_output;
use crate::client::stdin::{detached, parse_keys, spawn_pump};
use crate::client::terminal::{follow_window_size, RawMode};
use crate::exit::ExitError;

#[derive(Args, Debug)]
pub struct AttachArgs {
    /// Do not attach STDIN.
    #[arg(long)]
    pub no_stdin: bool,
    /// Proxy all received signals to the process (non-TTY mode only).
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set)]
    pub sig_proxy: bool,
    /// Override the key sequence for detaching a container (default ctrl-p,ctrl-q).
    #[arg(long)]
    pub detach_keys: Option<String>,
    pub container: String,
}

pub async fn attach(ctx: &Ctx, a: AttachArgs) -> Result<i32> {
    let keys = parse_keys(a.detach_keys.as_deref(), 1)?;
    let client = ctx.client().await?;
    let info = client.container_inspect(&a.container).await?;
    let state = &info["State"];
    if state["Paused"].as_bool() == Some(true) {
        return Err(ExitError::with(
            1,
            "You cannot attach to a paused container, unpause it first",
        ));
    }
    if state["Running"].as_bool() != Some(true) {
        return Err(ExitError::with(
            1,
            "You cannot attach to a stopped container, start it first",
        ));
    }
    let id = info["Id"].as_str().unwrap_or(&a.container).to_string();
    let tty = info["Config"]["Tty"].as_bool().unwrap_or(false);
    let open_stdin = info["Config"]["OpenStdin"].as_bool().unwrap_or(false);
    let stdin = !a.no_stdin && open_stdin;
    if stdin && tty && !std::io::stdin().is_terminal() {
        return Err(ExitError::with(1, "the input device is not a TTY"));
    }

    let streams = AttachOptions {
        stdin,
        stdout: true,
        stderr: true,
        detach_keys: a.detach_keys.clone(),
    };
    // Registered before the stream so an exit right after attaching is not missed.
    let wait_client = client.clone();
    let wait_id = id.clone();
    let wait_task = tokio::spawn(async move {
        let resp = wait_client.container_wait_response(&wait_id, None).await?;
        let body = resp.into_body().collect().await?.to_bytes();
        let v: Value = serde_json::from_slice(&body).context("decoding the wait answer")?;
        anyhow::Ok(v)
    });
    let io = client.container_attach(&id, &streams).await?;
    let (reader, writer) = tokio::io::split(io);

    let raw = RawMode::enable(tty && stdin);
    // Follows window size changes for as long as this session lasts, and no longer.
    let _winch = if tty && std::io::stdout().is_terminal() {
        Some(follow_window_size(&client, &id, containers::resize).await)
    } else {
        None
    };
    // docker forwards signals only without a TTY (with one, ^C travels as a byte).
    if a.sig_proxy && !tty {
        spawn_signal_proxy(client.clone(), id.clone());
    }
    let mut pump = stdin.then(|| spawn_pump(writer, tty.then_some(keys)));
    tokio::select! {
        r = copy_output(reader, tty) => r?,
        _ = detached(pump.as_mut()) => {
            drop(raw);
            wait_task.abort();
            return Ok(0);
        }
    }
    drop(raw);
    let status = wait_task.await.context("wait task")??;
    Ok(status["StatusCode"].as_i64().unwrap_or(0) as i32)
}
