//! Container commands other than run/create/start, ps and inspect: stop/restart, kill, pause,
//! top, rm, logs, wait, rename, prune.

use anyhow::Result;
use chrono::Utc;
use http_body_util::BodyExt;
use hyper::Method;
use serde_json::Value;
use tokio::io::AsyncWriteExt;

use super::{for_each, out, Ctx};
use crate::cli::{KillArgs, LogsArgs, PruneArgs, RenameArgs, RmArgs, StopArgs, TopArgs};
use crate::client::demux::{Demuxer, StreamKind};
use crate::client::{empty, query, seg, DaemonError};
use crate::exit::{flag_error, ExitError};
use crate::format::units;

/// `-t/--time` of stop and restart as the query value, or docker's error for a non-number.
fn stop_timeout(cmd: &str, t: &Option<String>) -> Result<Option<String>> {
    match t {
        None => Ok(None),
        Some(s) => s.parse::<i64>().map(|v| Some(v.to_string())).map_err(|_| {
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
    let mut q = Vec::new();
    if let Some(t) = stop_timeout(verb, &a.time)? {
        q.push(("t", t));
    }
    if let Some(s) = &a.signal {
        q.push(("signal", s.clone()));
    }
    post_each(ctx, &a.containers, verb, query(&q)).await
}

pub async fn kill(ctx: &Ctx, a: KillArgs) -> Result<i32> {
    let q = query(&[("signal", a.signal.clone())]);
    post_each(ctx, &a.containers, "kill", q).await
}

/// `pause` / `unpause` (`verb`) of each named container.
pub async fn pause(ctx: &Ctx, containers: Vec<String>, verb: &str) -> Result<i32> {
    post_each(ctx, &containers, verb, String::new()).await
}

/// `top CONTAINER [ps OPTIONS]`: the container's processes as a table.
pub async fn top(ctx: &Ctx, a: TopArgs) -> Result<i32> {
    let client = ctx.client().await?;
    let mut q = Vec::new();
    if !a.ps_args.is_empty() {
        q.push(("ps_args", a.ps_args.join(" ")));
    }
    let v: Value = client
        .get(&format!(
            "/containers/{}/top{}",
            seg(&a.container),
            query(&q)
        ))
        .await?;
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

/// `POST /containers/NAME/VERB?QUERY` for each named container, printing each name that
/// succeeded, as docker's stop/restart/kill do.
async fn post_each(ctx: &Ctx, containers: &[String], verb: &str, q: String) -> Result<i32> {
    let client = ctx.client().await?;
    for_each(containers, |name| {
        let (client, q) = (client.clone(), q.clone());
        async move {
            client
                .post(&format!("/containers/{}/{verb}{q}", seg(&name)), None)
                .await?;
            out(&format!("{name}\n"));
            Ok(())
        }
    })
    .await
}

pub async fn remove(ctx: &Ctx, a: RmArgs) -> Result<i32> {
    let mut q = Vec::new();
    if a.force {
        q.push(("force", "1".to_string()));
    }
    if a.volumes {
        q.push(("v", "1".to_string()));
    }
    let q = query(&q);
    let client = ctx.client().await?;
    for_each(&a.containers, |name| {
        let (client, q) = (client.clone(), q.clone());
        async move {
            client
                .delete(&format!("/containers/{}{q}", seg(&name)))
                .await?;
            out(&format!("{name}\n"));
            Ok(())
        }
    })
    .await
}

pub async fn logs(ctx: &Ctx, a: LogsArgs) -> Result<i32> {
    let now = Utc::now();
    let mut q: Vec<(&str, String)> = vec![("stdout", "1".into()), ("stderr", "1".into())];
    if a.follow {
        q.push(("follow", "1".into()));
    }
    if a.timestamps {
        q.push(("timestamps", "1".into()));
    }
    q.push(("tail", a.tail.clone()));
    for (flag, key, v) in [
        ("--since", "since", &a.since),
        ("--until", "until", &a.until),
    ] {
        if let Some(v) = v {
            let ts = units::parse_timestamp(v, now).map_err(|e| flag_error("logs", flag, v, &e))?;
            q.push((key, ts));
        }
    }
    let client = ctx.client().await?;
    let info: Value = client
        .get(&format!("/containers/{}/json", seg(&a.container)))
        .await?;
    let tty = info["Config"]["Tty"].as_bool().unwrap_or(false);
    let resp = client
        .request(
            Method::GET,
            &format!("/containers/{}/logs{}", seg(&a.container), query(&q)),
            empty(),
            &[],
        )
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
            let v = client
                .post(&format!("/containers/{}/wait", seg(&name)), None)
                .await?
                .unwrap_or(Value::Null);
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
    let renamed = client
        .post(
            &format!(
                "/containers/{}/rename{}",
                seg(&a.container),
                query(&[("name", a.new_name.clone())])
            ),
            None,
        )
        .await;
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
        path: "/containers/prune",
        deleted_key: "ContainersDeleted",
        heading: "Deleted Containers",
        reports_space: true,
    }
    .run(ctx, a.force, &a.filters)
    .await
}
