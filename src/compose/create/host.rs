//! The `HostConfig` of the create body: what `getCreateConfigs` sets on docker's
//! `container.HostConfig` (restart policy, security options, tmpfs, logging, namespaces…), the
//! resources ([`super::resources`]) and volumes ([`super::mounts`]) beside, and what docker's Go
//! client changes before sending (capabilities normalised).

use serde_json::{json, Map, Value};

use super::mounts::ContainerVolumes;
use super::{ports, resources, str_list, str_map, CreateError, CreateOptions, Resolved};
use crate::compose::types::{Project, ServiceConfig};
use berth_engine::util::go::quote;

/// `HostConfig`, every field docker's client writes.
pub fn host_config(
    project: &Project,
    service: &ServiceConfig,
    opts: &CreateOptions,
    r: &Resolved,
    network_mode: String,
    volumes: ContainerVolumes,
) -> Result<Map<String, Value>, CreateError> {
    let (security_opts, unconfined) = parse_security_opts(project, &service.security_opt)?;
    let (log_type, log_config) = match &service.logging {
        Some(l) => (l.driver.clone(), str_map(l.options.iter())),
        None => (String::new(), Value::Null),
    };
    let mut h = Map::new();
    h.insert("Binds".into(), str_list(&volumes.binds));
    h.insert("ContainerIDFile".into(), json!(""));
    h.insert(
        "LogConfig".into(),
        json!({"Type": log_type, "Config": log_config}),
    );
    h.insert("NetworkMode".into(), json!(network_mode));
    h.insert(
        "PortBindings".into(),
        Value::Object(ports::port_bindings(service)),
    );
    h.insert("RestartPolicy".into(), restart_policy(service));
    h.insert("AutoRemove".into(), json!(opts.auto_remove));
    h.insert("VolumeDriver".into(), json!(service.volume_driver));
    h.insert("VolumesFrom".into(), str_list(&service.volumes_from));
    h.insert("ConsoleSize".into(), json!([0, 0]));
    if !service.annotations.is_empty() {
        h.insert("Annotations".into(), str_map(service.annotations.iter()));
    }
    h.insert(
        "CapAdd".into(),
        str_list(&normalize_capabilities(&service.cap_add)),
    );
    h.insert(
        "CapDrop".into(),
        str_list(&normalize_capabilities(&service.cap_drop)),
    );
    h.insert("CgroupnsMode".into(), json!(service.cgroup));
    h.insert("Dns".into(), str_list(&service.dns));
    h.insert("DnsOptions".into(), str_list(&service.dns_opts));
    h.insert("DnsSearch".into(), str_list(&service.dns_search));
    // `HostsList.AsList` always makes a list, so this one is `[]`, never `null`.
    h.insert("ExtraHosts".into(), json!(service.extra_hosts.as_list(":")));
    h.insert("GroupAdd".into(), str_list(&service.group_add));
    h.insert("IpcMode".into(), json!(service.ipc));
    h.insert("Cgroup".into(), json!(""));
    h.insert("Links".into(), str_list(&r.links));
    h.insert("OomScoreAdj".into(), json!(service.oom_score_adj));
    h.insert("PidMode".into(), json!(service.pid));
    h.insert("Privileged".into(), json!(service.privileged));
    h.insert("PublishAllPorts".into(), json!(false));
    h.insert("ReadonlyRootfs".into(), json!(service.read_only));
    h.insert("SecurityOpt".into(), str_list(&security_opts));
    if !service.storage_opt.is_empty() {
        h.insert("StorageOpt".into(), str_map(service.storage_opt.iter()));
    }
    let tmpfs: Map<String, Value> = service
        .tmpfs
        .iter()
        .map(|t| match t.split_once(':') {
            Some((path, options)) => (path.to_string(), json!(options)),
            None => (t.clone(), json!("")),
        })
        .collect();
    if !tmpfs.is_empty() {
        h.insert("Tmpfs".into(), Value::Object(tmpfs));
    }
    h.insert("UTSMode".into(), json!(service.uts));
    h.insert("UsernsMode".into(), json!(service.user_ns_mode));
    h.insert("ShmSize".into(), json!(service.shm_size.0));
    if !service.sysctls.is_empty() {
        h.insert("Sysctls".into(), str_map(service.sysctls.iter()));
    }
    if !service.runtime.is_empty() {
        h.insert("Runtime".into(), json!(service.runtime));
    }
    h.insert("Isolation".into(), json!(service.isolation));
    h.extend(resources::resources(service));
    if !volumes.mounts.is_empty() {
        let mounts: Vec<Value> = volumes.mounts.iter().map(|m| m.to_json()).collect();
        h.insert("Mounts".into(), Value::Array(mounts));
    }
    // `systempaths=unconfined` asks for nothing masked or read-only: empty lists, not null.
    let paths = if unconfined { json!([]) } else { Value::Null };
    h.insert("MaskedPaths".into(), paths.clone());
    h.insert("ReadonlyPaths".into(), paths);
    if let Some(init) = service.init {
        h.insert("Init".into(), json!(init));
    }
    Ok(h)
}

/// `getRestartPolicy`: `restart` (`name[:retries]`), overridden by `deploy.restart_policy`.
pub fn restart_policy(service: &ServiceConfig) -> Value {
    let mut name = String::new();
    let mut retries: i64 = 0;
    if !service.restart.is_empty() {
        let mut split = service.restart.split(':');
        name = map_restart_condition(split.next().unwrap_or_default());
        // `strconv.Atoi` failing leaves 0.
        retries = split.next().and_then(|n| n.parse().ok()).unwrap_or(0);
    }
    if let Some(p) = service
        .deploy
        .as_ref()
        .and_then(|d| d.restart_policy.as_ref())
    {
        name = map_restart_condition(&p.condition);
        retries = p.max_attempts.map_or(0, |m| m as i64);
    }
    json!({"Name": name, "MaximumRetryCount": retries})
}

/// `mapRestartPolicyCondition`: deploy's conditions as the engine's policy names.
fn map_restart_condition(c: &str) -> String {
    match c {
        "none" | "no" => "no",
        "on-failure" => "on-failure",
        "unless-stopped" => "unless-stopped",
        "any" | "always" => "always",
        other => other,
    }
    .to_string()
}

/// docker's client `normalizeCapabilities`: upper case, `CAP_` prefixed (but `ALL`), sorted,
/// without duplicates.
pub fn normalize_capabilities(caps: &[String]) -> Vec<String> {
    let mut out: Vec<String> = caps
        .iter()
        .map(|c| {
            let c = c.to_uppercase();
            if c == "ALL" || c.starts_with("CAP_") {
                c
            } else {
                format!("CAP_{c}")
            }
        })
        .collect();
    out.sort();
    out.dedup();
    out
}

/// `parseSecurityOpts` (docker CLI's, with paths relative to the project): `seccomp=<file>`
/// is replaced by the file's compacted JSON; `systempaths=unconfined` is taken out and
/// reported.
pub fn parse_security_opts(
    project: &Project,
    opts: &[String],
) -> Result<(Vec<String>, bool), CreateError> {
    let mut unconfined = false;
    let mut parsed = Vec::new();
    for opt in opts {
        if opt == "systempaths=unconfined" {
            unconfined = true;
            continue;
        }
        let (key, value) = match opt.split_once('=') {
            Some((k, v)) => (k, Some(v)),
            None if opt == "no-new-privileges" => (opt.as_str(), None),
            None => match opt.split_once(':') {
                Some((k, v)) => (k, Some(v)),
                None => {
                    return Err(CreateError::new(format!(
                        "invalid security-opt: {}",
                        quote(opt)
                    )))
                }
            },
        };
        match value {
            Some(profile)
                if key == "seccomp" && profile != "unconfined" && profile != "builtin" =>
            {
                let path = relative_path(project, profile);
                let text = std::fs::read(&path).map_err(|e| {
                    CreateError::new(format!(
                        "opening seccomp profile ({profile}) failed: {}",
                        go_open_error(&path, &e)
                    ))
                })?;
                let compact = compact_json(&text).map_err(|e| {
                    CreateError::new(format!(
                        "compacting json for seccomp profile ({profile}) failed: {e}"
                    ))
                })?;
                parsed.push(format!("seccomp={compact}"));
            }
            _ => parsed.push(opt.clone()),
        }
    }
    Ok((parsed, unconfined))
}

/// compose-go's `Project.RelativePath`: `~` is the home directory, a relative path is under
/// the project directory.
fn relative_path(project: &Project, path: &str) -> String {
    if let Some(rest) = path.strip_prefix('~') {
        let home = std::env::var("HOME").unwrap_or_default();
        return format!("{home}{rest}");
    }
    if path.starts_with('/') {
        return path.to_string();
    }
    format!("{}/{path}", project.working_dir.trim_end_matches('/'))
}

/// Go's `*PathError` text for a failed open: `open <path>: <errno text>`.
fn go_open_error(path: &str, e: &std::io::Error) -> String {
    let text = match e.kind() {
        std::io::ErrorKind::NotFound => "no such file or directory".to_string(),
        std::io::ErrorKind::PermissionDenied => "permission denied".to_string(),
        _ => {
            let s = e.to_string();
            s.split(" (os error").next().unwrap_or(&s).to_lowercase()
        }
    };
    format!("open {path}: {text}")
}

/// Go's `json.Compact`: the same JSON without insignificant whitespace, bytes otherwise kept
/// (key order, number spelling, escapes).
pub fn compact_json(text: &[u8]) -> Result<String, String> {
    serde_json::from_slice::<serde::de::IgnoredAny>(text).map_err(|e| e.to_string())?;
    let s = std::str::from_utf8(text).map_err(|e| e.to_string())?;
    let mut out = String::with_capacity(s.len());
    let (mut in_string, mut escaped) = (false, false);
    for c in s.chars() {
        if in_string {
            out.push(c);
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_string = false;
            }
        } else if c == '"' {
            in_string = true;
            out.push(c);
        } else if !matches!(c, ' ' | '\t' | '\n' | '\r') {
            out.push(c);
        }
    }
    Ok(out)
}
