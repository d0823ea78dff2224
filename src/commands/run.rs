//! `run`, `create` and `start`: docker's flag → create-body mapping and the attached run flow
//! (create → attach → wait → start → resize; stdin pump; signal proxy; exit with the
//! container's status).

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result};
use clap::Args;
use http_body_util::BodyExt;
use serde_json::{json, Map, Value};

use super::{out, Ctx};
use crate::client::api::containers::AttachOptions;
use crate::client::demux::copy_output;
use crate::client::stdin::{detached, parse_keys, spawn_pump};
use crate::client::{Client, DaemonError};
use crate::exit::{flag_error, ExitError};
use crate::format::units;

/// Flags shared by `run` and `create` (docker's container options). Numeric and size flags are
/// kept as text and parsed later so errors read exactly like docker's.
#[derive(Args, Debug, Default, Clone)]
pub struct ContainerOpts {
    #[arg(short = 'i', long)]
    pub interactive: bool,
    #[arg(short = 't', long)]
    pub tty: bool,
    #[arg(short = 'e', long = "env")]
    pub env: Vec<String>,
    #[arg(long)]
    pub env_file: Vec<PathBuf>,
    #[arg(long)]
    pub name: Option<String>,
    #[arg(short = 'w', long)]
    pub workdir: Option<String>,
    #[arg(short = 'u', long)]
    pub user: Option<String>,
    #[arg(long)]
    pub entrypoint: Option<String>,
    #[arg(short = 'm', long)]
    pub memory: Option<String>,
    #[arg(long)]
    pub memory_swap: Option<String>,
    #[arg(long)]
    pub cpus: Option<String>,
    #[arg(short = 'c', long)]
    pub cpu_shares: Option<String>,
    #[arg(long)]
    pub cpu_quota: Option<String>,
    #[arg(long)]
    pub cpu_period: Option<String>,
    #[arg(long)]
    pub pids_limit: Option<String>,
    #[arg(long)]
    pub read_only: bool,
    #[arg(long, visible_alias = "net")]
    pub network: Option<String>,
    #[arg(short = 'h', long)]
    pub hostname: Option<String>,
    /// Publish a container's port(s) to the host ([ip:][hostPort:]containerPort[/proto]).
    #[arg(short = 'p', long = "publish")]
    pub publish: Vec<String>,
    /// Publish all exposed ports to random ports.
    #[arg(short = 'P', long = "publish-all")]
    pub publish_all: bool,
    /// Expose a port or a range of ports.
    #[arg(long)]
    pub expose: Vec<String>,
    /// Add a custom host-to-IP mapping (host:ip).
    #[arg(long = "add-host")]
    pub add_host: Vec<String>,
    /// Set custom DNS servers.
    #[arg(long)]
    pub dns: Vec<String>,
    /// Set custom DNS search domains.
    #[arg(long = "dns-search")]
    pub dns_search: Vec<String>,
    /// Set DNS options.
    #[arg(long = "dns-option")]
    pub dns_option: Vec<String>,
    /// Add a network-scoped alias for the container.
    #[arg(long = "network-alias")]
    pub network_alias: Vec<String>,
    /// IPv4 address on the container's user-defined network.
    #[arg(long)]
    pub ip: Option<String>,
    #[arg(long)]
    pub stop_signal: Option<String>,
    #[arg(long)]
    pub stop_timeout: Option<String>,
    #[arg(short = 'l', long = "label")]
    pub labels: Vec<String>,
    #[arg(long)]
    pub init: bool,
    #[arg(long)]
    pub restart: Option<String>,
    /// Command to run to check health.
    #[arg(long)]
    pub health_cmd: Option<String>,
    /// Time between running the check (ms|s|m|h) (default 0s).
    #[arg(long, allow_hyphen_values = true)]
    pub health_interval: Option<String>,
    /// Maximum time to allow one check to run (ms|s|m|h) (default 0s).
    #[arg(long, allow_hyphen_values = true)]
    pub health_timeout: Option<String>,
    /// Consecutive failures needed to report unhealthy.
    #[arg(long, allow_hyphen_values = true)]
    pub health_retries: Option<String>,
    /// Start period for the container to initialize before starting health-retries countdown.
    #[arg(long, allow_hyphen_values = true)]
    pub health_start_period: Option<String>,
    /// Time between running the check during the start period.
    #[arg(long, allow_hyphen_values = true)]
    pub health_start_interval: Option<String>,
    /// Disable any container-specified HEALTHCHECK.
    #[arg(long)]
    pub no_healthcheck: bool,
    /// Attach to STDIN, STDOUT or STDERR.
    #[arg(short = 'a', long)]
    pub attach: Vec<String>,
    /// Automatically remove the container when it exits.
    #[arg(long)]
    pub rm: bool,
    /// Bind mount a volume (NAME:/path, /host:/path[:ro], or /path for an anonymous volume).
    #[arg(short = 'v', long = "volume")]
    pub volumes: Vec<String>,
    /// Attach a filesystem mount to the container (type=volume|bind|tmpfs,...).
    #[arg(long = "mount")]
    pub mounts: Vec<String>,
    /// Mount a tmpfs directory (/path[:options]).
    #[arg(long)]
    pub tmpfs: Vec<String>,
    /// Pull image before running ("always", "missing", "never").
    #[arg(long, default_value = "missing")]
    pub pull: String,
    /// Set platform if server is multi-platform capable.
    #[arg(long)]
    pub platform: Option<String>,
    /// Print help.
    #[arg(long, action = clap::ArgAction::Help)]
    pub help: Option<bool>,
    pub image: String,
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    pub command: Vec<String>,
}

#[derive(Args, Debug, Clone)]
pub struct RunArgs {
    /// Run the container in the background and print its ID.
    #[arg(short = 'd', long)]
    pub detach: bool,
    /// Proxy received signals to the process (non-TTY mode only).
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set)]
    pub sig_proxy: bool,
    /// Override the key sequence for detaching a container (default ctrl-p,ctrl-q).
    #[arg(long)]
    pub detach_keys: Option<String>,
    #[command(flatten)]
    pub opts: ContainerOpts,
}

#[derive(Args, Debug, Clone)]
pub struct CreateArgs {
    #[command(flatten)]
    pub opts: ContainerOpts,
}

#[derive(Args, Debug)]
pub struct StartArgs {
    #[arg(short = 'a', long)]
    pub attach: bool,
    #[arg(short = 'i', long)]
    pub interactive: bool,
    /// Override the key sequence for detaching a container (default ctrl-p,ctrl-q).
    #[arg(long)]
    pub detach_keys: Option<String>,
    #[arg(required = true)]
    pub containers: Vec<String>,
}

/// Parse an integer flag with docker's error wording.
fn int_flag(cmd: &str, flag: &str, v: &Option<String>) -> Result<Option<i64>> {
    match v {
        None => Ok(None),
        Some(s) => s.trim().parse::<i64>().map(Some).map_err(|_| {
            flag_error(
                cmd,
                flag,
                s,
                &format!("strconv.ParseInt: parsing \"{s}\": invalid syntax"),
            )
        }),
    }
}

fn size_flag(
    cmd: &str,
    flag: &str,
    v: &Option<String>,
    parse: fn(&str) -> Result<i64, String>,
) -> Result<Option<i64>> {
    match v {
        None => Ok(None),
        Some(s) => parse(s).map(Some).map_err(|e| flag_error(cmd, flag, s, &e)),
    }
}

/// Resolve `-e`/`--env-file` entries: `VAR` without `=` takes the local value (dropped when
/// unset), as docker does.
fn resolve_env(
    opts: &ContainerOpts,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<Vec<String>> {
    let mut raw: Vec<String> = Vec::new();
    for file in &opts.env_file {
        let text = std::fs::read_to_string(file)
            .map_err(|e| ExitError::with(125, format!("open {}: {e}", file.display())))?;
        for line in text.lines() {
            let line = line.trim_start();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            raw.push(line.to_string());
        }
    }
    raw.extend(opts.env.iter().cloned());
    let mut env = Vec::new();
    for e in raw {
        if e.starts_with('=') {
            return Err(ExitError::with(
                125,
                format!("invalid environment variable: {e}"),
            ));
        }
        if e.contains('=') {
            env.push(e);
        } else if let Some(v) = lookup(&e) {
            env.push(format!("{e}={v}"));
        }
    }
    Ok(env)
}

/// `--restart no|always|unless-stopped|on-failure[:N]` → RestartPolicy. Unknown names are left
/// to the engine (a 400 naming the valid ones), as docker's CLI does.
pub(crate) fn restart_policy(cmd: &str, v: &str) -> Result<Value> {
    let (name, count) = match v.split_once(':') {
        Some(("", _)) => {
            return Err(flag_error(
                cmd,
                "--restart",
                v,
                "invalid restart policy format: no policy provided before colon",
            ))
        }
        Some((n, c)) => (
            n,
            c.parse::<i64>().map_err(|_| {
                flag_error(
                    cmd,
                    "--restart",
                    v,
                    "maximum retry count must be an integer",
                )
            })?,
        ),
        None => (v, 0),
    };
    if count != 0 && name != "on-failure" {
        return Err(flag_error(
            cmd,
            "--restart",
            v,
            &format!("maximum retry count cannot be used with restart policy '{name}'"),
        ));
    }
    Ok(json!({"Name": if name.is_empty() { "no" } else { name }, "MaximumRetryCount": count}))
}

/// A Go-style duration flag ("30s", "1m30s", "200ms") in nanoseconds; negative values are
/// refused as docker's CLI does.
fn duration_flag(cmd: &str, flag: &str, v: &Option<String>) -> Result<i64> {
    let Some(s) = v else {
        return Ok(0);
    };
    let ns = berth_engine::util::parse_go_duration(s.trim())
        .ok_or_else(|| flag_error(cmd, flag, s, &format!("time: invalid duration \"{s}\"")))?;
    if ns < 0 {
        return Err(ExitError::with(125, format!("{flag} cannot be negative")));
    }
    Ok(ns)
}

/// `--health-*` / `--no-healthcheck` → Config.Healthcheck (None = the image's).
fn healthcheck(opts: &ContainerOpts, cmd: &str) -> Result<Option<Value>> {
    let interval = duration_flag(cmd, "--health-interval", &opts.health_interval)?;
    let timeout = duration_flag(cmd, "--health-timeout", &opts.health_timeout)?;
    let start_period = duration_flag(cmd, "--health-start-period", &opts.health_start_period)?;
    let start_interval =
        duration_flag(cmd, "--health-start-interval", &opts.health_start_interval)?;
    let retries = int_flag(cmd, "--health-retries", &opts.health_retries)?.unwrap_or(0);
    if retries < 0 {
        return Err(ExitError::with(125, "--health-retries cannot be negative"));
    }
    let health_cmd = opts.health_cmd.as_deref().unwrap_or("");
    let any = !health_cmd.is_empty()
        || interval != 0
        || timeout != 0
        || start_period != 0
        || start_interval != 0
        || retries != 0;
    if opts.no_healthcheck {
        if any {
            return Err(ExitError::with(
                125,
                "--no-healthcheck conflicts with --health-* options",
            ));
        }
        return Ok(Some(json!({ "Test": ["NONE"] })));
    }
    if !any {
        return Ok(None);
    }
    let test: Vec<&str> = if health_cmd.is_empty() {
        Vec::new()
    } else {
        vec!["CMD-SHELL", health_cmd]
    };
    Ok(Some(json!({
        "Test": test,
        "Interval": interval,
        "Timeout": timeout,
        "StartPeriod": start_period,
        "StartInterval": start_interval,
        "Retries": retries,
    })))
}

/// Map run/create flags to docker's `POST /containers/create` body (Config + HostConfig).
pub fn create_body(
    opts: &ContainerOpts,
    cmd: &str,
    detach: bool,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<Value> {
    let memory = size_flag(cmd, "-m, --memory", &opts.memory, units::parse_ram_size)?;
    let swap = size_flag(
        cmd,
        "--memory-swap",
        &opts.memory_swap,
        units::parse_mem_swap,
    )?;
    let nano_cpus = size_flag(cmd, "--cpus", &opts.cpus, units::parse_cpus)?;
    let cpu_shares = int_flag(cmd, "-c, --cpu-shares", &opts.cpu_shares)?;
    let cpu_quota = int_flag(cmd, "--cpu-quota", &opts.cpu_quota)?;
    let cpu_period = int_flag(cmd, "--cpu-period", &opts.cpu_period)?;
    let pids = int_flag(cmd, "--pids-limit", &opts.pids_limit)?;
    let stop_timeout = int_flag(cmd, "--stop-timeout", &opts.stop_timeout)?;
    if nano_cpus.is_some() && (cpu_quota.is_some() || cpu_period.is_some()) {
        return Err(ExitError::with(
            125,
            "Conflicting options: Nano CPUs and CPU Period/Quota cannot both be set",
        ));
    }

    let mut attach: BTreeMap<&str, bool> = BTreeMap::new();
    for a in &opts.attach {
        let a = a.to_lowercase();
        match a.as_str() {
            "stdin" => attach.insert("stdin", true),
            "stdout" => attach.insert("stdout", true),
            "stderr" => attach.insert("stderr", true),
            _ => {
                return Err(flag_error(
                    cmd,
                    "-a, --attach",
                    &a,
                    "valid streams are STDIN, STDOUT and STDERR",
                ))
            }
        };
    }
    if detach && !opts.attach.is_empty() {
        return Err(ExitError::with(125, "Conflicting options: -a and -d"));
    }
    let (mut a_in, mut a_out, mut a_err) = (
        attach.contains_key("stdin") || opts.interactive,
        attach.contains_key("stdout"),
        attach.contains_key("stderr"),
    );
    if opts.attach.is_empty() {
        a_out = true;
        a_err = true;
    }
    if detach {
        (a_in, a_out, a_err) = (false, false, false);
    }

    let restart = match &opts.restart {
        Some(r) => Some(restart_policy(cmd, r)?),
        None => None,
    };
    if opts.rm && restart.as_ref().is_some_and(|r| r["Name"] != "no") {
        return Err(ExitError::with(
            125,
            "Conflicting options: --restart and --rm",
        ));
    }

    let mut labels = Map::new();
    for l in &opts.labels {
        let (k, v) = l.split_once('=').unwrap_or((l.as_str(), ""));
        labels.insert(k.to_string(), Value::String(v.to_string()));
    }

    let mut config = Map::new();
    let set = |m: &mut Map<String, Value>, k: &str, v: Value| {
        m.insert(k.to_string(), v);
    };
    set(&mut config, "Image", json!(opts.image));
    if let Some(h) = &opts.hostname {
        set(&mut config, "Hostname", json!(h));
    }
    let (exposed, port_bindings) = super::networks::publish_options(&opts.publish, &opts.expose)
        .map_err(|m| ExitError::with(125, m))?;
    if !exposed.is_empty() {
        set(&mut config, "ExposedPorts", Value::Object(exposed));
    }
    if let Some(u) = &opts.user {
        set(&mut config, "User", json!(u));
    }
    set(&mut config, "AttachStdin", json!(a_in));
    set(&mut config, "AttachStdout", json!(a_out));
    set(&mut config, "AttachStderr", json!(a_err));
    set(&mut config, "Tty", json!(opts.tty));
    set(&mut config, "OpenStdin", json!(opts.interactive));
    set(&mut config, "StdinOnce", json!(opts.interactive && a_in));
    set(&mut config, "Env", json!(resolve_env(opts, lookup)?));
    if !opts.command.is_empty() {
        set(&mut config, "Cmd", json!(opts.command));
    }
    if let Some(ep) = &opts.entrypoint {
        // `--entrypoint ""` sends [""], which tells the engine to clear the image's entrypoint.
        set(&mut config, "Entrypoint", json!([ep]));
    }
    if let Some(w) = &opts.workdir {
        set(&mut config, "WorkingDir", json!(w));
    }
    set(&mut config, "Labels", Value::Object(labels));
    if let Some(s) = &opts.stop_signal {
        set(&mut config, "StopSignal", json!(s));
    }
    if let Some(t) = stop_timeout {
        set(&mut config, "StopTimeout", json!(t));
    }
    if let Some(h) = healthcheck(opts, cmd)? {
        set(&mut config, "Healthcheck", h);
    }

    let mut host = Map::new();
    let opt = |m: &mut Map<String, Value>, k: &str, v: Option<i64>| {
        if let Some(v) = v {
            m.insert(k.to_string(), json!(v));
        }
    };
    opt(&mut host, "Memory", memory);
    opt(&mut host, "MemorySwap", swap);
    opt(&mut host, "NanoCpus", nano_cpus);
    opt(&mut host, "CpuShares", cpu_shares);
    opt(&mut host, "CpuQuota", cpu_quota);
    opt(&mut host, "CpuPeriod", cpu_period);
    opt(&mut host, "PidsLimit", pids);
    host.insert("ReadonlyRootfs".into(), json!(opts.read_only));
    host.insert(
        "NetworkMode".into(),
        json!(opts.network.as_deref().unwrap_or("default")),
    );
    if opts.init {
        host.insert("Init".into(), json!(true));
    }
    if !port_bindings.is_empty() {
        host.insert("PortBindings".into(), Value::Object(port_bindings));
    }
    if opts.publish_all {
        host.insert("PublishAllPorts".into(), json!(true));
    }
    for (key, v) in [
        ("Dns", &opts.dns),
        ("DnsSearch", &opts.dns_search),
        ("DnsOptions", &opts.dns_option),
        ("ExtraHosts", &opts.add_host),
    ] {
        if !v.is_empty() {
            host.insert(key.into(), json!(v));
        }
    }
    if !opts.network_alias.is_empty() || opts.ip.is_some() {
        let net = opts.network.as_deref().unwrap_or("default");
        let mut ep = json!({});
        if !opts.network_alias.is_empty() {
            ep["Aliases"] = json!(opts.network_alias);
        }
        if let Some(ip) = &opts.ip {
            ep["IPAMConfig"] = json!({"IPv4Address": ip});
        }
        config.insert(
            "NetworkingConfig".into(),
            json!({"EndpointsConfig": {net: ep}}),
        );
    }
    host.insert("AutoRemove".into(), json!(opts.rm));
    if let Some(r) = restart {
        host.insert("RestartPolicy".into(), r);
    }
    let mounts = super::volumes::mount_flags(cmd, &opts.volumes, &opts.mounts, &opts.tmpfs)?;
    super::volumes::apply(mounts, &mut config, &mut host);
    config.insert("HostConfig".into(), Value::Object(host));
    Ok(Value::Object(config))
}

/// `img` → `img:latest` for the "Unable to find image" line, as docker prints it.
fn display_ref(image: &str) -> String {
    let last = image.rsplit('/').next().unwrap_or(image);
    if last.contains(':') || image.contains('@') {
        image.to_string()
    } else {
        format!("{image}:latest")
    }
}

async fn create_container(client: &Client, opts: &ContainerOpts, body: &Value) -> Result<String> {
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
        super::pull::Display::Terminal
    } else {
        super::pull::Display::Lines
    };
    super::pull::pull_image(
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

fn start_error(e: anyhow::Error) -> anyhow::Error {
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
        if let Ok((w, h)) = crossterm::terminal::size() {
            body["HostConfig"]["ConsoleSize"] = json!([h, w]);
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

struct Attached {
    stdin: bool,
    stdout: bool,
    stderr: bool,
    tty: bool,
    sig_proxy: bool,
    condition: &'static str,
    /// docker's `--detach-keys` (ctrl-p,ctrl-q when None).
    detach_keys: Option<String>,
}

/// Puts the local terminal in raw mode for a TTY session and restores it when dropped.
pub(crate) struct RawMode(bool);

impl RawMode {
    pub(crate) fn enable(want: bool) -> RawMode {
        RawMode(
            want && std::io::stdin().is_terminal()
                && crossterm::terminal::enable_raw_mode().is_ok(),
        )
    }
}

impl Drop for RawMode {
    fn drop(&mut self) {
        if self.0 {
            let _ = crossterm::terminal::disable_raw_mode();
        }
    }
}

pub(crate) async fn resize(client: &Client, id: &str) {
    if let Ok((w, h)) = crossterm::terminal::size() {
        // A resize racing with the container's exit fails harmlessly.
        let _ = client.container_resize(id, h, w).await;
    }
}

/// The attached part of `run`/`start -a`: attach, wait, start, stream; returns the exit status.
async fn attached(client: &Client, id: &str, a: Attached) -> Result<i32> {
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
    if a.tty {
        resize(client, id).await;
        let c = client.clone();
        let rid = id.to_string();
        tokio::spawn(async move {
            use tokio::signal::unix::{signal, SignalKind};
            if let Ok(mut winch) = signal(SignalKind::window_change()) {
                while winch.recv().await.is_some() {
                    resize(&c, &rid).await;
                }
            }
        });
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::{Cli, Cmd};
    use clap::Parser;

    fn opts(args: &[&str]) -> (ContainerOpts, bool) {
        let mut v = vec!["berth", "run"];
        v.extend_from_slice(args);
        match Cli::try_parse_from(v).unwrap().command {
            Some(Cmd::Run(r)) => (r.opts, r.detach),
            _ => panic!("not run"),
        }
    }

    fn body(args: &[&str]) -> Result<Value> {
        let (o, d) = opts(args);
        create_body(&o, "run", d, &|k| {
            (k == "HOME").then(|| "/root".to_string())
        })
    }

    #[test]
    fn detached_run_maps_to_docker_body() {
        let b = body(&[
            "-d",
            "--rm",
            "-e",
            "A=1",
            "-e",
            "HOME",
            "-e",
            "UNSET",
            "--name",
            "web",
            "-w",
            "/app",
            "-u",
            "1000:1000",
            "-m",
            "512m",
            "--memory-swap",
            "1g",
            "--cpus",
            "1.5",
            "--cpu-shares",
            "512",
            "--pids-limit",
            "100",
            "--read-only",
            "--network",
            "none",
            "-h",
            "box",
            "--stop-signal",
            "SIGINT",
            "--stop-timeout",
            "5",
            "-l",
            "a=b",
            "-l",
            "c",
            "--init",
            "img",
            "cmd",
            "-x",
        ])
        .unwrap();
        assert_eq!(b["Image"], "img");
        assert_eq!(b["Cmd"], json!(["cmd", "-x"]));
        assert_eq!(b["Env"], json!(["A=1", "HOME=/root"]));
        assert_eq!(b["WorkingDir"], "/app");
        assert_eq!(b["User"], "1000:1000");
        assert_eq!(b["Hostname"], "box");
        assert_eq!(b["StopSignal"], "SIGINT");
        assert_eq!(b["StopTimeout"], 5);
        assert_eq!(b["Labels"], json!({"a": "b", "c": ""}));
        assert_eq!(b["AttachStdout"], false);
        assert_eq!(b["Tty"], false);
        assert!(b.get("Entrypoint").is_none());
        let h = &b["HostConfig"];
        assert_eq!(h["Memory"], 512 * 1024 * 1024);
        assert_eq!(h["MemorySwap"], 1024 * 1024 * 1024);
        assert_eq!(h["NanoCpus"], 1_500_000_000i64);
        assert_eq!(h["CpuShares"], 512);
        assert_eq!(h["PidsLimit"], 100);
        assert_eq!(h["ReadonlyRootfs"], true);
        assert_eq!(h["NetworkMode"], "none");
        assert_eq!(h["Init"], true);
        assert_eq!(h["AutoRemove"], true);
    }

    #[test]
    fn attached_interactive_run() {
        let b = body(&["-it", "--entrypoint", "", "img"]).unwrap();
        assert_eq!(b["AttachStdin"], true);
        assert_eq!(b["AttachStdout"], true);
        assert_eq!(b["AttachStderr"], true);
        assert_eq!(b["OpenStdin"], true);
        assert_eq!(b["StdinOnce"], true);
        assert_eq!(b["Tty"], true);
        assert_eq!(b["Entrypoint"], json!([""]));
        assert!(b.get("Cmd").is_none());
        assert_eq!(b["HostConfig"]["NetworkMode"], "default");
        let b = body(&["-a", "stderr", "img"]).unwrap();
        assert_eq!(b["AttachStdout"], false);
        assert_eq!(b["AttachStderr"], true);
    }

    #[test]
    fn restart_policies() {
        let b = body(&["--restart", "on-failure:3", "img"]).unwrap();
        assert_eq!(
            b["HostConfig"]["RestartPolicy"],
            json!({"Name": "on-failure", "MaximumRetryCount": 3})
        );
        assert!(body(&["--rm", "--restart", "always", "img"]).is_err());
        assert!(body(&["--rm", "--restart", "no", "img"]).is_ok());
    }

    fn exit_error(r: Result<Value>) -> (i32, String) {
        let e = r.unwrap_err();
        let x = e.downcast_ref::<ExitError>().expect("ExitError");
        (x.code, x.message.clone().unwrap_or_default())
    }

    #[test]
    fn health_flags() {
        let b = body(&[
            "--health-cmd",
            "true",
            "--health-interval",
            "200ms",
            "--health-timeout",
            "1m30s",
            "--health-retries",
            "2",
            "img",
        ])
        .unwrap();
        let h = &b["Healthcheck"];
        assert_eq!(h["Test"], json!(["CMD-SHELL", "true"]));
        assert_eq!(h["Interval"], 200_000_000);
        assert_eq!(h["Timeout"], 90_000_000_000i64);
        assert_eq!(h["Retries"], 2);
        assert!(body(&["img"]).unwrap().get("Healthcheck").is_none());
        let b = body(&["--no-healthcheck", "img"]).unwrap();
        assert_eq!(b["Healthcheck"]["Test"], json!(["NONE"]));
        // Timings alone keep the image's test (empty Test).
        let b = body(&["--health-interval", "5s", "img"]).unwrap();
        assert_eq!(b["Healthcheck"]["Test"], json!([]));
        for bad in [
            &["--no-healthcheck", "--health-cmd", "true", "img"][..],
            &["--health-interval", "soon", "img"],
            &["--health-interval", "-1s", "img"],
            &["--health-retries", "-1", "img"],
            &["--health-retries", "x", "img"],
        ] {
            assert_eq!(exit_error(body(bad)).0, 125, "{bad:?}");
        }
        assert_eq!(exit_error(body(&["--restart", ":3", "img"])).0, 125);
    }

    #[test]
    fn bad_values_are_docker_errors() {
        assert_eq!(
            exit_error(body(&["-m", "12x", "img"])),
            (
                125,
                "berth run: invalid argument \"12x\" for \"-m, --memory\" flag: invalid size: '12x'"
                    .to_string()
            )
        );
        assert_eq!(exit_error(body(&["--cpus", "lots", "img"])).0, 125);
        assert_eq!(exit_error(body(&["--pids-limit", "x", "img"])).0, 125);
        assert_eq!(exit_error(body(&["-d", "-a", "stdout", "img"])).0, 125);
        assert_eq!(
            exit_error(body(&["--cpus", "1", "--cpu-quota", "1000", "img"])).0,
            125
        );
    }

    #[test]
    fn env_file_entries_come_first() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("env");
        std::fs::write(&f, "# comment\n\nX=1\nHOME\n").unwrap();
        let b = body(&["--env-file", f.to_str().unwrap(), "-e", "Y=2", "img"]).unwrap();
        assert_eq!(b["Env"], json!(["X=1", "HOME=/root", "Y=2"]));
        assert_eq!(
            exit_error(body(&["--env-file", "/nonexistent/env", "img"])).0,
            125
        );
    }

    #[test]
    fn start_error_codes() {
        assert_eq!(
            start_error_code("exec: \"nope\": executable file not found in $PATH"),
            127
        );
        assert_eq!(start_error_code("exec /bin/x: permission denied"), 126);
        assert_eq!(start_error_code("cgroup setup failed"), 125);
        assert_eq!(display_ref("alpine"), "alpine:latest");
        assert_eq!(display_ref("localhost:5000/a"), "localhost:5000/a:latest");
        assert_eq!(display_ref("a:1"), "a:1");
    }
}
