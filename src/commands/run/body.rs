//! docker's run/create flags → the `POST /containers/create` body (Config + HostConfig): numbers,
//! sizes and durations with docker's error wording, env files, restart policies, healthchecks.

use std::collections::BTreeMap;

use anyhow::Result;
use serde_json::{json, Map, Value};

use super::ContainerOpts;
use crate::exit::{flag_error, ExitError};
use crate::format::units;

/// Parse an integer flag with docker's error wording.
pub(super) fn int_flag(cmd: &str, flag: &str, v: &Option<String>) -> Result<Option<i64>> {
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

pub(super) fn size_flag(
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
pub(super) fn resolve_env(
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
pub(super) fn duration_flag(cmd: &str, flag: &str, v: &Option<String>) -> Result<i64> {
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
pub(super) fn healthcheck(opts: &ContainerOpts, cmd: &str) -> Result<Option<Value>> {
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
    let (exposed, port_bindings) =
        crate::commands::networks::publish_options(&opts.publish, &opts.expose)
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
    let mounts =
        crate::commands::volumes::mount_flags(cmd, &opts.volumes, &opts.mounts, &opts.tmpfs)?;
    crate::commands::volumes::apply(mounts, &mut config, &mut host);
    config.insert("HostConfig".into(), Value::Object(host));
    Ok(Value::Object(config))
}
