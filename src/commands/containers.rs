//! Container commands other than run/create/start, ps and inspect: stop/restart, kill, pause,
//! top, rm, logs, wait, rename, prune.

use anyhow::Result;
use chrono::Utc;
use clap::Args;
use http_body_util::BodyExt;
use serde_json::Value;
use tokio::io::AsyncWriteExt;

use super::{for_each, out, Ctx};
use crate::client::api::containers::{self, LogsOptions};
use crate::client::demux::{Demuxer, StreamKind};
use crate::client::DaemonError;
use crate::exit::{flag_error, ExitError};
use crate::format::units;

#[derive(Args, Debug)]
pub struct StopArgs {
    /// Seconds to wait before killing the container.
    #[arg(short = 't', long, visible_alias = "timeout")]
    pub time: Option<String>,
    #[arg(short = 's', long)]
    pub signal: Option<String>,
    #[arg(required = true)]
    pub containers: Vec<String>,
}

#[derive(Args, Debug)]
pub struct TopArgs {
    pub container: String,
    /// ps options (only the default `-ef` listing is supported by the engine).
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    pub ps_args: Vec<String>,
}

#[derive(Args, Debug)]
pub struct KillArgs {
    #[arg(short = 's', long, default_value = "KILL")]
    pub signal: String,
    #[arg(required = true)]
    pub containers: Vec<String>,
}

#[derive(Args, Debug)]
pub struct RmArgs {
    #[arg(short = 'f', long)]
    pub force: bool,
    #[arg(short = 'v', long)]
    pub volumes: bool,
    #[arg(required = true)]
    pub containers: Vec<String>,
}

#[derive(Args, Debug)]
pub struct LogsArgs {
    #[arg(short = 'f', long)]
    pub follow: bool,
    #[arg(short = 'n', long, default_value = "all")]
    pub tail: String,
    #[arg(short = 't', long)]
    pub timestamps: bool,
    #[arg(long)]
    pub since: Option<String>,
    #[arg(long)]
    pub until: Option<String>,
    pub container: String,
}

#[derive(Args, Debug)]
pub struct RenameArgs {
    pub container: String,
    pub new_name: String,
}

#[derive(Args, Debug)]
pub struct PruneArgs {
    #[arg(short = 'f', long)]
    pub force: bool,
    #[arg(long = "filter")]
    pub filters: Vec<String>,
}

#[derive(Args, Debug)]
pub struct ContainersArg {
    #[arg(required = true)]
    pub containers: Vec<String>,
}

#[derive(Args, Debug)]
pub struct ContainerArg {
    pub container: String,
}

/// `-t/--time` of stop and restart, or docker's error for a non-number.
fn stop_timeout(cmd: &str, t: &Option<String>) -> Result<Option<i64>> {
    match t {
        None => Ok(None),
        Some(s) => s.parse::<i64>().map(Some).map_err(|_| {
            flag_error(
                cmd,
                "-t, --time",
                s,
                &format!("strconv.ParseInt: parsing \"{s}\": invalid syntax"),
            )
        }),
    }
}

pub async fn stop(ctx: &Ctx, a: StopArgs, restart: bool) -> Result<i32> {
    let verb = if restart { "restart" } else { "stop" };
    let t = stop_timeout(verb, &a.time)?;
    let signal = a.signal.as_deref();
    post_each(ctx, &a.containers, |name| {
        containers::stop(name, restart, t, signal)
    })
    .await
}

pub async fn kill(ctx: &Ctx, a: KillArgs) -> Result<i32> {
    post_each(ctx, &a.containers, |name| {
        containers::kill(name, Some(&a.signal))
    })
    .await
}

/// `pause` / `unpause` (`verb`) of each named container.
pub async fn pause(ctx: &Ctx, names: Vec<String>, verb: &str) -> Result<i32> {
    post_each(ctx, &names, |name| containers::pause(name, verb == "pause")).await
}

/// `top CONTAINER [ps OPTIONS]`: the container's processes as a table.
pub async fn top(ctx: &Ctx, a: TopArgs) -> Result<i32> {
    let client = ctx.client().await?;
    let ps_args = (!a.ps_args.is_empty()).then(|| a.ps_args.join(" "));
    let v = client.container_top(&a.container, ps_args).await?;
    let cells = |v: &Value| -> Vec<String> {
        v.as_array()
            .map(|a| {
                a.iter()
                    .map(|c| c.as_str().unwrap_or_default().to_string())
                    .collect()
            })
            .unwrap_or_default()
    };
    let mut rows = vec![cells(&v["Titles"])];
    if let Some(ps) = v["Processes"].as_array() {
        rows.extend(ps.iter().map(cells));
    }
    out(&top_table(&rows));
    Ok(0)
}

/// docker's top table: tabwriter with min width 20 and padding 3; the last column is not padded.
fn top_table(rows: &[Vec<String>]) -> String {
    let ncols = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..ncols)
        .map(|i| {
            let w = rows
                .iter()
                .filter_map(|r| r.get(i))
                .map(|c| c.chars().count())
                .max()
                .unwrap_or(0);
            (w + 3).max(20)
        })
        .collect();
    let mut s = String::new();
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            if i + 1 == row.len() {
                s.push_str(cell);
            } else {
                s.push_str(&format!("{cell:<w$}", w = widths[i]));
            }
        }
        s.push('\n');
    }
    s
}

/// The call `endpoint(NAME)` for each named container, printing each name that succeeded, as
/// docker's stop/restart/kill do.
async fn post_each(
    ctx: &Ctx,
    names: &[String],
    endpoint: impl Fn(&str) -> crate::client::api::Endpoint,
) -> Result<i32> {
    let client = ctx.client().await?;
    for_each(names, |name| {
        let (client, call) = (client.clone(), endpoint(&name));
        async move {
            client.send(call).await?;
            out(&format!("{name}\n"));
            Ok(())
        }
    })
    .await
}

pub async fn remove(ctx: &Ctx, a: RmArgs) -> Result<i32> {
    let client = ctx.client().await?;
    for_each(&a.containers, |name| {
        let client = client.clone();
        async move {
            client.container_remove(&name, a.force, a.volumes).await?;
            out(&format!("{name}\n"));
            Ok(())
        }
    })
    .await
}

pub async fn logs(ctx: &Ctx, a: LogsArgs) -> Result<i32> {
    let now = Utc::now();
    let time = |flag: &str, v: &Option<String>| -> Result<Option<String>> {
        v.as_ref()
            .map(|v| units::parse_timestamp(v, now).map_err(|e| flag_error("logs", flag, v, &e)))
            .transpose()
    };
    let options = LogsOptions {
        follow: a.follow,
        timestamps: a.timestamps,
        tail: Some(a.tail.clone()),
        since: time("--since", &a.since)?,
        until: time("--until", &a.until)?,
    };
    let client = ctx.client().await?;
    let info = client.container_inspect(&a.container).await?;
    let tty = info["Config"]["Tty"].as_bool().unwrap_or(false);
    let resp = client
        .open(containers::logs(&a.container, &options), &[])
        .await?;
    let mut body = resp.into_body();
    let mut stdout = tokio::io::stdout();
    let mut stderr = tokio::io::stderr();
    let mut demux = Demuxer::new();
    while let Some(frame) = body.frame().await {
        let frame = frame?;
        let Some(data) = frame.data_ref() else {
            continue;
        };
        if tty {
            stdout.write_all(data).await?;
            stdout.flush().await?;
            continue;
        }
        demux.push(data);
        while let Some((kind, payload)) = demux.next_frame().map_err(anyhow::Error::msg)? {
            match kind {
                StreamKind::Stdout => {
                    stdout.write_all(&payload).await?;
                    stdout.flush().await?;
                }
                StreamKind::Stderr => {
                    stderr.write_all(&payload).await?;
                    stderr.flush().await?;
                }
            }
        }
    }
    Ok(0)
}

pub async fn wait(ctx: &Ctx, containers: Vec<String>) -> Result<i32> {
    let client = ctx.client().await?;
    for_each(&containers, |name| {
        let client = client.clone();
        async move {
            let v = client.container_wait(&name, None).await?;
            if let Some(m) = v["Error"]["Message"].as_str().filter(|m| !m.is_empty()) {
                anyhow::bail!("{m}");
            }
            out(&format!("{}\n", v["StatusCode"].as_i64().unwrap_or(0)));
            Ok(())
        }
    })
    .await
}

pub async fn rename(ctx: &Ctx, a: RenameArgs) -> Result<i32> {
    let client = ctx.client().await?;
    let renamed = client.container_rename(&a.container, &a.new_name).await;
    match renamed {
        Ok(_) => Ok(0),
        // docker prints the engine's reason, then its own summary line.
        Err(e) => match e.downcast_ref::<DaemonError>() {
            Some(d) => Err(ExitError::with(
                1,
                format!(
                    "{d}\nError: failed to rename container named {}",
                    a.container
                ),
            )),
            None => Err(e),
        },
    }
}

pub async fn prune(ctx: &Ctx, a: PruneArgs) -> Result<i32> {
    super::prune::Prune {
        warning: "all stopped containers",
        endpoint: containers::prune,
        deleted_key: "ContainersDeleted",
        heading: "Deleted Containers",
        reports_space: true,
    }
    .run(ctx, a.force, &a.filters)
    .await
}
