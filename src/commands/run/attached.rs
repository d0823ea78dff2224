//! The attached part of `run` and `start -a`: attach, wait, start, stream, with the local
//! terminal in raw mode, window size changes, and signals forwarded to the container.

use std::time::Duration;

use anyhow::{Context, Result};
use http_body_util::BodyExt;
use serde_json::Value;

use super::start_error;
use crate::client::api::containers::{self, AttachOptions};
use crate::client::demux::copy_output;
use crate::client::stdin::{detached, parse_keys, spawn_pump};
use crate::client::terminal::{follow_window_size, RawMode};
use crate::client::Client;
use crate::exit::ExitError;

pub(crate) struct Attached {
    pub(crate) stdin: bool,
    pub(crate) stdout: bool,
    pub(crate) stderr: bool,
    pub(crate) tty: bool,
    pub(crate) sig_proxy: bool,
    pub(crate) condition: &'static str,
    /// docker's `--detach-keys` (ctrl-p,ctrl-q when None).
    pub(crate) detach_keys: Option<String>,
}

/// The attached part of `run`/`start -a`: attach, wait, start, stream; returns the exit status.
pub(crate) async fn attached(client: &Client, id: &str, a: Attached) -> Result<i32> {
    let keys = parse_keys(a.detach_keys.as_deref(), 125)?;
    let streams = AttachOptions {
        stdin: a.stdin,
        stdout: a.stdout,
        stderr: a.stderr,
        detach_keys: a.detach_keys.clone(),
    };
    let io = client.container_attach(id, &streams).await?;
    let (reader, writer) = tokio::io::split(io);

    // Wait is registered before start so a fast exit is not missed. Like docker, we go on once
    // the engine has answered with headers (bounded, in case it only answers at exit).
    let (headers_tx, headers_rx) = tokio::sync::oneshot::channel::<()>();
    let wait_client = client.clone();
    let (wait_id, condition) = (id.to_string(), a.condition);
    let wait_task = tokio::spawn(async move {
        let resp = wait_client
            .container_wait_response(&wait_id, Some(condition))
            .await;
        let _ = headers_tx.send(());
        let body = resp?.into_body().collect().await?.to_bytes();
        let v: Value = serde_json::from_slice(&body).context("decoding the wait answer")?;
        anyhow::Ok(v)
    });
    let _ = tokio::time::timeout(Duration::from_secs(2), headers_rx).await;

    // Like docker's CLI, signals are forwarded from before the start: a signal that arrives
    // while the start is answered must reach the container, not end this process.
    if a.sig_proxy {
        spawn_signal_proxy(client.clone(), id.to_string());
    }
    if let Err(e) = client.container_start(id).await {
        return Err(start_error(e));
    }

    let _raw = RawMode::enable(a.tty && a.stdin);
    let _winch = if a.tty {
        Some(follow_window_size(client, id, containers::resize).await)
    } else {
        None
    };
    // Only TTY input is scanned for the detach keys, as with docker (piped data passes as is).
    let mut pump = a.stdin.then(|| spawn_pump(writer, a.tty.then_some(keys)));
    tokio::select! {
        r = copy_output(reader, a.tty) => r?,
        _ = detached(pump.as_mut()) => {
            // The container keeps running; so does its --rm, once it exits.
            drop(_raw);
            return Ok(0);
        }
    }
    drop(_raw);

    let status = wait_task.await.context("wait task")??;
    if let Some(msg) = status["Error"]["Message"]
        .as_str()
        .filter(|m| !m.is_empty())
    {
        return Err(ExitError::with(125, msg.to_string()));
    }
    Ok(status["StatusCode"].as_i64().unwrap_or(0) as i32)
}

/// Forward the signals a user sends us to the container (docker's `--sig-proxy`).
pub(crate) fn spawn_signal_proxy(client: Client, id: String) {
    use tokio::signal::unix::{signal, SignalKind};
    let sigs = [
        (SignalKind::interrupt(), "SIGINT"),
        (SignalKind::terminate(), "SIGTERM"),
        (SignalKind::hangup(), "SIGHUP"),
        (SignalKind::quit(), "SIGQUIT"),
        (SignalKind::user_defined1(), "SIGUSR1"),
        (SignalKind::user_defined2(), "SIGUSR2"),
    ];
    for (kind, name) in sigs {
        let Ok(mut s) = signal(kind) else { continue };
        let client = client.clone();
        let id = id.clone();
        tokio::spawn(async move {
            while s.recv().await.is_some() {
                if let Err(e) = client.container_kill(&id, Some(name)).await {
                    tracing::debug!("forwarding {name}: {e:#}");
                }
            }
        });
    }
}
