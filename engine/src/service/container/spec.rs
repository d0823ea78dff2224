//! A container record becomes the shim's `RuntimeSpec` at start: capabilities, seccomp, cgroup
//! limits, log rotation, rootfs and mounts.

use std::path::Path;
use std::str::FromStr;

use super::log_driver;
use crate::error::{EngineError, Result};
use crate::model::container::{ContainerRecord, HostConfig};
use crate::runtime::defaults::{DEFAULT_CAPABILITIES, MASKED_PATHS, READONLY_PATHS};
use crate::runtime::spec::{
    files, CgroupSpec, NetworkNamespace, ProcessSpec, RootfsSpec, RuntimeSpec,
};

/// Every capability the engine can hand on: the kernel's, less those missing from the engine's
/// own bounding set (an engine started under `capsh --drop=...`, in a restricted container).
/// `--privileged` and `--cap-add ALL` mean these, as with runc under docker; asking for more
/// would make the container's capset fail.
fn held_capabilities() -> Vec<String> {
    let bounding = caps::read(None, caps::CapSet::Bounding).unwrap_or_else(|_| caps::all());
    let mut held: Vec<String> = caps::all()
        .intersection(&bounding)
        .map(|c| c.to_string())
        .collect();
    held.sort();
    held
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
    let all = held_capabilities();
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
        } else if caps::Capability::from_str(&a).is_err() {
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
            group_add: group_add(h),
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
        masked_paths: path_list(h, "MaskedPaths", MASKED_PATHS).unwrap_or_default(),
        readonly_paths: path_list(h, "ReadonlyPaths", READONLY_PATHS).unwrap_or_default(),
        seccomp_bpf,
        cgroup: CgroupSpec {
            path: crate::runtime::spec::cgroup_path(&rec.id),
            memory: (h.memory > 0).then_some(h.memory),
            memory_swap: (h.memory_swap != 0).then_some(h.memory_swap),
            cpu_shares: (h.cpu_shares > 0).then_some(h.cpu_shares as u64),
            cpu_quota,
            cpu_period,
            pids_limit: h.pids_limit.filter(|p| *p > 0),
            all_devices: h.privileged,
        },
        log: log_driver::log_spec(rec, dir.join(files::CONTAINER_LOG))?,
        init: h.init.unwrap_or(false),
        mounts: super::mounts::runtime_mounts(&rec.mounts)?,
        shm_size: h
            .extra
            .get("ShmSize")
            .and_then(|v| v.as_i64())
            .filter(|s| *s > 0)
            .map(|s| s as u64),
        etc_dir: None,
        host_devices: h.privileged,
        namespaces: Default::default(),
    })
}

/// `HostConfig.MaskedPaths` / `ReadonlyPaths` as dockerd applies and shows them: the client's list
/// when it sent one, else the defaults for an unprivileged container and none (null) for a
/// privileged one.
pub fn path_list(h: &HostConfig, key: &str, defaults: &[&str]) -> Option<Vec<String>> {
    if let Some(v) = h.extra.get(key).and_then(|v| v.as_array()) {
        return Some(
            v.iter()
                .filter_map(|p| p.as_str().map(str::to_string))
                .collect(),
        );
    }
    (!h.privileged).then(|| defaults.iter().map(|s| s.to_string()).collect())
}

/// `HostConfig.GroupAdd` (kept as the client sent it): names and numbers, resolved by the
/// container's init against its own /etc/group.
fn group_add(h: &HostConfig) -> Vec<String> {
    h.extra
        .get("GroupAdd")
        .and_then(|v| v.as_array())
        .map(|v| {
            v.iter()
                .filter_map(|g| match g {
                    serde_json::Value::String(s) => Some(s.clone()),
                    serde_json::Value::Number(n) => Some(n.to_string()),
                    _ => None,
                })
                .collect()
        })
        .unwrap_or_default()
}
