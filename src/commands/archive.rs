//! diff, export and update: container filesystem and resource commands, and the streamed
//! downloads `export`, `cp` and `save` share.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args;
use http_body_util::BodyExt;

use super::{for_each, out, Ctx};
use crate::client::api::containers::{self, UpdateConfig};
use crate::exit::{flag_error, ExitError};
use crate::format::units;

#[derive(Args, Debug)]
pub struct ExportArgs {
    /// Write to a file instead of STDOUT.
    #[arg(short = 'o', long)]
    pub output: Option<PathBuf>,
    pub container: String,
}

#[derive(Args, Debug)]
pub struct UpdateArgs {
    /// Number of CPUs.
    #[arg(long)]
    pub cpus: Option<String>,
    /// CPU shares (relative weight).
    #[arg(short = 'c', long)]
    pub cpu_shares: Option<i64>,
    /// Limit CPU CFS period.
    #[arg(long)]
    pub cpu_period: Option<i64>,
    /// Limit CPU CFS quota.
    #[arg(long, allow_hyphen_values = true)]
    pub cpu_quota: Option<i64>,
    /// Memory limit.
    #[arg(short = 'm', long)]
    pub memory: Option<String>,
    /// Swap limit equal to memory plus swap: -1 to enable unlimited swap.
    #[arg(long, allow_hyphen_values = true)]
    pub memory_swap: Option<String>,
    /// Tune container pids limit (set -1 for unlimited).
    #[arg(long, allow_hyphen_values = true)]
    pub pids_limit: Option<i64>,
    /// Restart policy to apply when a container exits.
    #[arg(long)]
    pub restart: Option<String>,
    #[arg(required = true)]
    pub containers: Vec<String>,
}

/// `berth diff NAME`: docker's "C /path" lines.
pub async fn diff(ctx: &Ctx, container: String) -> Result<i32> {
    let client = ctx.client().await?;
    let v = client.container_changes(&container).await?;
    let mut text = String::new();
    for c in v.as_array().into_iter().flatten() {
        let k = match c["Kind"].as_i64() {
            Some(1) => 'A',
            Some(2) => 'D',
            _ => 'C',
        };
        text.push_str(&format!("{k} {}\n", c["Path"].as_str().unwrap_or_default()));
    }
    out(&text);
    Ok(0)
}

/// Copy a streaming response body into `w`.
pub(super) async fn body_to<W: Write>(
    resp: hyper::Response<hyper::body::Incoming>,
    w: &mut W,
) -> Result<()> {
    let mut body = resp.into_body();
    while let Some(frame) = body.frame().await {
        if let Ok(data) = frame.context("reading the engine's stream")?.into_data() {
            w.write_all(&data)?;
        }
    }
    w.flush()?;
    Ok(())
}

/// A tar download (export, save) must go to a file or a pipe, never into a terminal.
pub(super) fn refuse_terminal_stdout(output: Option<&std::path::Path>) -> Result<()> {
    if output.is_none() && std::io::stdout().is_terminal() {
        return Err(ExitError::with(
            1,
            "cowardly refusing to save to a terminal. Use the -o flag or redirect",
        ));
    }
    Ok(())
}

/// Write a downloaded archive to `output` (under a temporary name renamed when complete, so a
/// failed download leaves no truncated file) or to stdout. `failed` prefixes errors, as docker's
/// "failed to save image".
pub(super) async fn write_download(
    resp: hyper::Response<hyper::body::Incoming>,
    output: Option<&std::path::Path>,
    failed: &str,
) -> Result<()> {
    let Some(p) = output else {
        return body_to(resp, &mut std::io::stdout().lock()).await;
    };
    let mut tmp_name = p.as_os_str().to_owned();
    tmp_name.push(".berth-partial");
    let tmp = std::path::PathBuf::from(tmp_name);
    let mut f = std::fs::File::create(&tmp)
        .with_context(|| format!("{failed}: creating {}", p.display()))?;
    if let Err(e) = body_to(resp, &mut f).await {
        let _ = std::fs::remove_file(&tmp);
        return Err(e.context(failed.to_string()));
    }
    std::fs::rename(&tmp, p).with_context(|| format!("{failed}: writing {}", p.display()))
}

/// `berth export [-o FILE] NAME`.
pub async fn export(ctx: &Ctx, a: ExportArgs) -> Result<i32> {
    refuse_terminal_stdout(a.output.as_deref())?;
    let client = ctx.client().await?;
    let resp = client.open(containers::export(&a.container), &[]).await?;
    write_download(resp, a.output.as_deref(), "failed to export container").await?;
    Ok(0)
}

/// `berth update [flags] NAME...`.
pub async fn update(ctx: &Ctx, a: UpdateArgs) -> Result<i32> {
    let cmd = "update";
    let config = UpdateConfig {
        nano_cpus: a
            .cpus
            .as_ref()
            .map(|v| units::parse_cpus(v).map_err(|e| flag_error(cmd, "--cpus", v, &e)))
            .transpose()?,
        cpu_shares: a.cpu_shares,
        cpu_period: a.cpu_period,
        cpu_quota: a.cpu_quota,
        memory: a
            .memory
            .as_ref()
            .map(|v| units::parse_ram_size(v).map_err(|e| flag_error(cmd, "--memory", v, &e)))
            .transpose()?,
        memory_swap: a
            .memory_swap
            .as_ref()
            .map(|v| units::parse_mem_swap(v).map_err(|e| flag_error(cmd, "--memory-swap", v, &e)))
            .transpose()?,
        pids_limit: a.pids_limit,
        restart_policy: a
            .restart
            .as_ref()
            .map(|v| super::run::restart_policy(cmd, v))
            .transpose()?,
    };
    if config == UpdateConfig::default() {
        return Err(ExitError::with(
            1,
            "berth update: you must provide one or more flags when using this command",
        ));
    }
    let client = ctx.client().await?;
    for_each(&a.containers, |name| {
        let (client, config) = (client.clone(), &config);
        async move {
            client.container_update(&name, config).await?;
            out(&format!("{name}\n"));
            Ok(())
        }
    })
    .await
}
