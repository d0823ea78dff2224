//! Turning a create request into a container record (image defaults merged, limits validated),
//! and a record into the shim's `RuntimeSpec` at start.

use std::path::Path;

use crate::error::{EngineError, Result};
use crate::model::container::{ContainerRecord, ContainerState, CreateRequest, Status};
use crate::model::image::ResolvedImage;
use crate::runtime::defaults::{DEFAULT_CAPABILITIES, DEFAULT_PATH, MASKED_PATHS, READONLY_PATHS};
use crate::runtime::spec::{
    files, CgroupSpec, LogSpec, NetworkNamespace, ProcessSpec, RootfsSpec, RuntimeSpec,
};
use crate::store::containers::EtcFiles;
use crate::util::{now_rfc3339, ZERO_TIME};

const MIN_MEMORY: i64 = 6 * 1024 * 1024;
const DEFAULT_LOG_MAX_SIZE: u64 = 10 * 1024 * 1024;
const DEFAULT_LOG_MAX_FILES: u32 = 3;

pub fn build_record(
    id: String,
    name: String,
    image: &ResolvedImage,
    req: CreateRequest,
) -> Result<(ContainerRecord, EtcFiles, Vec<String>)> {
    let mut config = req.config;
    let mut host = req.host_config.unwrap_or_default();
    let warnings = Vec::new();
    validate_limits(&host)?;
    crate::service::restart::validate(&host)?;
    crate::service::health::validate(config.healthcheck.as_ref())?;

    let network = match host.network_mode.as_str() {
        "" | "default" | "bridge" => {
            host.network_mode = if host.network_mode.is_empty() {
                "bridge".into()
            } else {
                host.network_mode.clone()
            };
            NetworkNamespace::Isolated
        }
        "none" => NetworkNamespace::Isolated,
        "host" => NetworkNamespace::Host,
        // A user-defined network: the network service validated the name and wires it at start.
        _ => NetworkNamespace::Isolated,
    };
    if !host.log_config.kind.is_empty() && host.log_config.kind != "json-file" {
        return Err(EngineError::invalid(format!(
            "logging driver {:?} is not supported; use json-file",
            host.log_config.kind
        )));
    }

    // Image defaults, docker's rules: a request Entrypoint discards the image's Cmd.
    let img = &image.config;
    if config.entrypoint.is_none() {
        config.entrypoint = img.entrypoint.clone();
        if config.cmd.is_none() {
            config.cmd = img.cmd.clone();
        }
    } else if config
        .entrypoint
        .as_ref()
        .is_some_and(|e| e.len() == 1 && e[0].is_empty())
    {
        // `--entrypoint ""` clears the image's entrypoint.
        config.entrypoint = None;
        if config.cmd.is_none() {
            config.cmd = img.cmd.clone();
        }
    }
    let mut argv: Vec<String> = config.entrypoint.clone().unwrap_or_default();
    argv.extend(config.cmd.clone().unwrap_or_default());
    if argv.is_empty() {
        return Err(EngineError::invalid("no command specified"));
    }

    let mut env = img.env.clone().unwrap_or_default();
    for kv in std::mem::take(&mut config.env) {
        let key = kv.split('=').next().unwrap_or("").to_owned();
        env.retain(|e| e.split('=').next() != Some(key.as_str()));
        env.push(kv);
    }
    if config.hostname.is_empty() {
        config.hostname = if matches!(network, NetworkNamespace::Host) {
            host_hostname()
        } else {
            id[..12].to_owned()
        };
    }
    if !env.iter().any(|e| e.starts_with("PATH=")) {
        env.insert(0, format!("PATH={DEFAULT_PATH}"));
    }
    if !env.iter().any(|e| e.starts_with("HOSTNAME=")) {
        env.insert(1.min(env.len()), format!("HOSTNAME={}", config.hostname));
    }
    if config.tty && !env.iter().any(|e| e.starts_with("TERM=")) {
        env.push("TERM=xterm".into());
    }
    config.env = env;
    if config.working_dir.is_empty() {
        config.working_dir = img.working_dir.clone().unwrap_or_default();
    }
    if !config.working_dir.is_empty() && !config.working_dir.starts_with('/') {
        return Err(EngineError::invalid(format!(
            "the working directory '{}' is invalid, it needs to be an absolute path",
            config.working_dir
        )));
    }
    if config.user.is_empty() {
        config.user = img.user.clone().unwrap_or_default();
    }
    let mut labels = img.labels.clone().unwrap_or_default();
    labels.extend(std::mem::take(&mut config.labels));
    config.labels = labels;
    if config.stop_signal.is_none() {
        config.stop_signal = img.stop_signal.clone().filter(|s| !s.is_empty());
    }
    if let Some(sig) = &config.stop_signal {
        crate::util::signals::parse(sig)?;
    }
    if config.exposed_ports.is_none() {
        config.exposed_ports = img.exposed_ports.clone();
    }
    if config.volumes.is_none() {
        config.volumes = img.volumes.clone();
    }
    config.healthcheck =
        crate::service::health::merge(config.healthcheck.take(), img.healthcheck.as_ref())?;
    config.image = config.image.trim().to_owned();

    let etc = etc_files(&config.hostname, network.clone(), &host.extra);
    let path = argv.remove(0);
    let record = ContainerRecord {
        id,
        name,
        created: now_rfc3339(),
        image: config.image.clone(),
        image_id: image.id.clone(),
        layer_dirs: image.layer_dirs.clone(),
        path,
        args: argv,
        config,
        host_config: host,
        state: ContainerState {
            status: Status::Created,
            pid: 0,
            exit_code: 0,
            oom_killed: false,
            error: String::new(),
            started_at: ZERO_TIME.into(),
            finished_at: ZERO_TIME.into(),
            health: None,
        },
        restart_count: 0,
        has_been_manually_stopped: false,
        mounts: Vec::new(),
    };
    Ok((record, etc, warnings))
}

pub(crate) fn validate_limits(h: &crate::model::container::HostConfig) -> Result<()> {
    if h.memory != 0 && h.memory < MIN_MEMORY {
        return Err(EngineError::invalid("Minimum memory limit allowed is 6MB"));
    }
    if h.memory_swap > 0 && h.memory == 0 {
        return Err(EngineError::invalid(
            "You should always set the Memory limit when using Memoryswap limit",
        ));
    }
    if h.memory_swap > 0 && h.memory_swap < h.memory {
        return Err(EngineError::invalid(
            "Minimum memoryswap limit should be larger than memory limit, see usage",
        ));
    }
    if h.memory < 0 || h.nano_cpus < 0 || h.cpu_shares < 0 || h.cpu_quota < -1 || h.cpu_period < 0 {
        return Err(EngineError::invalid("resource limits must not be negative"));
    }
    if h.nano_cpus > 0 && (h.cpu_period > 0 || h.cpu_quota > 0) {
        return Err(EngineError::invalid(
            "Conflicting options: Nano CPUs and CPU Period cannot both be set",
        ));
    }
    let ncpu = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1) as i64;
    if h.nano_cpus > ncpu * 1_000_000_000 {
        return Err(EngineError::invalid(format!(
            "Range of CPUs is from 0.01 to {ncpu}.00, as there are only {ncpu} CPUs available"
        )));
    }
    if h.cpu_period != 0 && !(1000..=1_000_000).contains(&h.cpu_period) {
        return Err(EngineError::invalid(
            "CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)",
        ));
    }
    if h.cpu_quota > 0 && h.cpu_quota < 1000 {
        return Err(EngineError::invalid(
            "CPU cfs quota can not be less than 1ms (i.e. 1000)",
        ));
    }
    Ok(())
}

fn host_hostname() -> String {
    nix::unistd::gethostname()
        .map(|h| h.to_string_lossy().into_owned())
        .unwrap_or_else(|_| "localhost".into())
}

fn etc_files(
    hostname: &str,
    network: NetworkNamespace,
    host_extra: &serde_json::Map<String, serde_json::Value>,
) -> EtcFiles {
    let host_resolv = std::fs::read_to_string("/etc/resolv.conf").unwrap_or_default();
    let dns = crate::network::etc::DnsConfig::from_host_config(host_extra);
    match network {
        NetworkNamespace::Host => EtcFiles {
            hostname: format!("{hostname}\n"),
            hosts: std::fs::read_to_string("/etc/hosts")
                .unwrap_or_else(|_| "127.0.0.1\tlocalhost\n".into()),
            resolv_conf: host_resolv,
        },
        // Bridge-mode containers get their files rewritten at start, once their addresses are
        // known; these are what `none` keeps.
        _ => EtcFiles {
            hostname: format!("{hostname}\n"),
            hosts: crate::network::etc::hosts(hostname, &[], &dns.extra_hosts, None),
            resolv_conf: crate::network::etc::resolv_conf(&host_resolv, &dns, false),
        },
    }
}

/// Capabilities after `CapAdd`/`CapDrop` (names with or without CAP_, "ALL").
fn capabilities(add: &[String], drop: &[String], privileged: bool) -> Result<Vec<String>> {
    let norm = |c: &str| {
        let up = c.to_ascii_uppercase();
        if up == "ALL" || up.starts_with("CAP_") {
            up
        } else {
            format!("CAP_{up}")
        }
    };
    let all: Vec<String> = caps::all().iter().map(|c| c.to_string()).collect();
    let mut set: Vec<String> = if privileged {
        all.clone()
    } else {
        DEFAULT_CAPABILITIES.iter().map(|s| s.to_string()).collect()
    };
    for d in drop.iter().map(|c| norm(c)) {
        if d == "ALL" {
            set.clear();
        } else {
            set.retain(|c| *c != d);
        }
    }
    for a in add.iter().map(|c| norm(c)) {
        if a == "ALL" {
            set = all.clone();
        } else if !all.contains(&a) {
            return Err(EngineError::invalid(format!("unknown capability: {a:?}")));
        } else if !set.contains(&a) {
            set.push(a);
        }
    }
    Ok(set)
}

pub fn runtime_spec(data_root: &Path, dir: &Path, rec: &ContainerRecord) -> Result<RuntimeSpec> {
    let h = &rec.host_config;
    let caps = capabilities(&h.cap_add, &h.cap_drop, h.privileged)?;
    let opts: Vec<String> = h.security_opt.iter().map(|s| s.replace(':', "=")).collect();
    let unconfined = h.privileged || opts.iter().any(|o| o == "seccomp=unconfined");
    let no_new_privileges = opts
        .iter()
        .any(|o| o == "no-new-privileges" || o == "no-new-privileges=true");
    let seccomp_bpf = if unconfined {
        None
    } else {
        crate::runtime::seccomp::bpf_for(data_root, &caps)?
    };
    let (cpu_quota, cpu_period) = if h.nano_cpus > 0 {
        (Some(h.nano_cpus * 100_000 / 1_000_000_000), Some(100_000))
    } else {
        (
            (h.cpu_quota > 0).then_some(h.cpu_quota),
            (h.cpu_period > 0).then_some(h.cpu_period as u64),
        )
    };
    let parse_size = |key: &str| -> Result<Option<u64>> {
        match h.log_config.config.get(key) {
            None => Ok(None),
            Some(v) => crate::util::parse_size(v)
                .map(Some)
                .ok_or_else(|| EngineError::invalid(format!("invalid log option {key}={v}"))),
        }
    };
    let max_size = parse_size("max-size")?.unwrap_or(DEFAULT_LOG_MAX_SIZE);
    let max_files = match h.log_config.config.get("max-file") {
        None => DEFAULT_LOG_MAX_FILES,
        Some(v) => v
            .parse()
            .ok()
            .filter(|n| *n >= 1)
            .ok_or_else(|| EngineError::invalid(format!("invalid log option max-file={v}")))?,
    };
    let mut args = vec![rec.path.clone()];
    args.extend(rec.args.iter().cloned());
    let console_size = h
        .console_size
        .as_ref()
        .filter(|s| s.len() == 2 && s[0] > 0 && s[1] > 0)
        .map(|s| (s[0], s[1]));
    Ok(RuntimeSpec {
        id: rec.id.clone(),
        dir: dir.to_owned(),
        rootfs: RootfsSpec {
            lower_dirs: rec.layer_dirs.clone(),
            upper_dir: dir.join(files::UPPER),
            work_dir: dir.join(files::WORK),
            mount_point: dir.join(files::ROOTFS),
            readonly: h.readonly_rootfs,
        },
        process: ProcessSpec {
            args,
            env: rec.config.env.clone(),
            cwd: if rec.config.working_dir.is_empty() {
                "/".into()
            } else {
                rec.config.working_dir.clone()
            },
            user: rec.config.user.clone(),
            tty: rec.config.tty,
            open_stdin: rec.config.open_stdin,
            capabilities: caps,
            no_new_privileges,
            console_size,
        },
        hostname: rec.config.hostname.clone(),
        network: if h.network_mode == "host" {
            NetworkNamespace::Host
        } else {
            NetworkNamespace::Isolated
        },
        masked_paths: if h.privileged {
            vec![]
        } else {
            MASKED_PATHS.iter().map(|s| s.to_string()).collect()
        },
        readonly_paths: if h.privileged {
            vec![]
        } else {
            READONLY_PATHS.iter().map(|s| s.to_string()).collect()
        },
        seccomp_bpf,
        cgroup: CgroupSpec {
            path: format!("berth/{}", rec.id),
            memory: (h.memory > 0).then_some(h.memory),
            memory_swap: (h.memory_swap != 0).then_some(h.memory_swap),
            cpu_shares: (h.cpu_shares > 0).then_some(h.cpu_shares as u64),
            cpu_quota,
            cpu_period,
            pids_limit: h.pids_limit.filter(|p| *p > 0),
        },
        log: LogSpec {
            path: dir.join(files::CONTAINER_LOG),
            max_size,
            max_files,
        },
        init: h.init.unwrap_or(false),
        mounts: crate::service::mounts::runtime_mounts(&rec.mounts),
    })
}
