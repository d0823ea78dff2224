//! docker's run/create flags → the `POST /containers/create` body (Config + HostConfig): numbers,
//! sizes and durations with docker's error wording, env files, restart policies, healthchecks.

use std::collections::{BTreeMap, BTreeSet};

use anyhow::Result;
use berth_engine::model::container::{ContainerConfig, CreateRequest, HostConfig, RestartPolicy};
use serde::Serialize;
use serde_json::Value;

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
pub(crate) fn restart_policy(cmd: &str, v: &str) -> Result<RestartPolicy> {
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
    Ok(RestartPolicy {
        name: if name.is_empty() { "no" } else { name }.to_string(),
        maximum_retry_count: count,
    })
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
pub(super) fn healthcheck(opts: &ContainerOpts, cmd: &str) -> Result<Option<Healthcheck>> {
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
        return Ok(Some(Healthcheck {
            test: vec!["NONE".into()],
            timings: None,
        }));
    }
    if !any {
        return Ok(None);
    }
    let test = if health_cmd.is_empty() {
        Vec::new()
    } else {
        vec!["CMD-SHELL".into(), health_cmd.to_string()]
    };
    Ok(Some(Healthcheck {
        test,
        timings: Some(HealthTimings {
            interval,
            timeout,
            start_period,
            start_interval,
            retries,
        }),
    }))
}

/// docker's HealthConfig as `--health-*` sends it: the test alone for `--no-healthcheck`, with
/// every timing (zero: the image's) otherwise.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct Healthcheck {
    test: Vec<String>,
    #[serde(flatten)]
    timings: Option<HealthTimings>,
}

/// The timings of a healthcheck, in nanoseconds, and its retries.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct HealthTimings {
    interval: i64,
    timeout: i64,
    start_period: i64,
    start_interval: i64,
    retries: i64,
}

/// Map run/create flags to docker's `POST /containers/create` body: the engine's typed
/// `CreateRequest` (Config + HostConfig). What the typed model leaves to `extra` (ports, DNS,
/// mounts) is set there only when given, as docker's CLI leaves it out otherwise; the typed
/// defaults it always carries (`Memory: 0`, `"Cmd": null`, an empty restart policy) are what
/// both engines read as absent.
pub fn create_body(
    opts: &ContainerOpts,
    cmd: &str,
    detach: bool,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<CreateRequest> {
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

    let mut attach: BTreeSet<&str> = BTreeSet::new();
    for a in &opts.attach {
        let a = a.to_lowercase();
        match a.as_str() {
            "stdin" => attach.insert("stdin"),
            "stdout" => attach.insert("stdout"),
            "stderr" => attach.insert("stderr"),
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
        attach.contains("stdin") || opts.interactive,
        attach.contains("stdout"),
        attach.contains("stderr"),
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
    if opts.rm && restart.as_ref().is_some_and(|r| r.name != "no") {
        return Err(ExitError::with(
            125,
            "Conflicting options: --restart and --rm",
        ));
    }

    let labels = opts
        .labels
        .iter()
        .map(|l| {
            let (k, v) = l.split_once('=').unwrap_or((l.as_str(), ""));
            (k.to_string(), v.to_string())
        })
        .collect();
    let (exposed, port_bindings) =
        crate::commands::networks::publish_options(&opts.publish, &opts.expose)
            .map_err(|m| ExitError::with(125, m))?;
    let mut config = ContainerConfig {
        image: opts.image.clone(),
        hostname: opts.hostname.clone().unwrap_or_default(),
        exposed_ports: (!exposed.is_empty()).then(|| exposed.into_iter().collect()),
        user: opts.user.clone().unwrap_or_default(),
        attach_stdin: a_in,
        attach_stdout: a_out,
        attach_stderr: a_err,
        tty: opts.tty,
        open_stdin: opts.interactive,
        stdin_once: opts.interactive && a_in,
        env: resolve_env(opts, lookup)?,
        cmd: (!opts.command.is_empty()).then(|| opts.command.clone()),
        // `--entrypoint ""` sends [""], which tells the engine to clear the image's entrypoint.
        entrypoint: opts.entrypoint.as_ref().map(|ep| vec![ep.clone()]),
        working_dir: opts.workdir.clone().unwrap_or_default(),
        labels,
        stop_signal: opts.stop_signal.clone(),
        stop_timeout,
        healthcheck: healthcheck(opts, cmd)?
            .map(serde_json::to_value)
            .transpose()?,
        ..Default::default()
    };

    let mut host = HostConfig {
        memory: memory.unwrap_or_default(),
        memory_swap: swap.unwrap_or_default(),
        nano_cpus: nano_cpus.unwrap_or_default(),
        cpu_shares: cpu_shares.unwrap_or_default(),
        cpu_quota: cpu_quota.unwrap_or_default(),
        cpu_period: cpu_period.unwrap_or_default(),
        pids_limit: pids,
        readonly_rootfs: opts.read_only,
        network_mode: opts.network.as_deref().unwrap_or("default").to_string(),
        init: opts.init.then_some(true),
        auto_remove: opts.rm,
        restart_policy: restart.unwrap_or_default(),
        ..Default::default()
    };
    if !port_bindings.is_empty() {
        host.extra
            .insert("PortBindings".into(), Value::Object(port_bindings));
    }
    if opts.publish_all {
        host.extra
            .insert("PublishAllPorts".into(), Value::Bool(true));
    }
    for (key, v) in [
        ("Dns", &opts.dns),
        ("DnsSearch", &opts.dns_search),
        ("DnsOptions", &opts.dns_option),
        ("ExtraHosts", &opts.add_host),
    ] {
        if !v.is_empty() {
            host.extra.insert(key.into(), Value::from(v.clone()));
        }
    }
    let networking_config = if !opts.network_alias.is_empty() || opts.ip.is_some() {
        let net = opts.network.as_deref().unwrap_or("default");
        let endpoint = EndpointConfig {
            aliases: (!opts.network_alias.is_empty()).then(|| opts.network_alias.clone()),
            ipam_config: opts.ip.clone().map(|ip| IpamConfig { ipv4_address: ip }),
        };
        Some(serde_json::to_value(NetworkingConfig {
            endpoints_config: BTreeMap::from([(net.to_string(), endpoint)]),
        })?)
    } else {
        None
    };
    let mounts =
        crate::commands::volumes::mount_flags(cmd, &opts.volumes, &opts.mounts, &opts.tmpfs)?;
    crate::commands::volumes::apply(mounts, &mut config, &mut host);
    Ok(CreateRequest {
        config,
        host_config: Some(host),
        networking_config,
    })
}

/// `NetworkingConfig` of a create body: the one network's endpoint settings.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct NetworkingConfig {
    endpoints_config: BTreeMap<String, EndpointConfig>,
}

/// `--network-alias` and `--ip` for the container's network.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct EndpointConfig {
    #[serde(skip_serializing_if = "Option::is_none")]
    aliases: Option<Vec<String>>,
    #[serde(rename = "IPAMConfig", skip_serializing_if = "Option::is_none")]
    ipam_config: Option<IpamConfig>,
}

#[derive(Serialize)]
struct IpamConfig {
    #[serde(rename = "IPv4Address")]
    ipv4_address: String,
}
