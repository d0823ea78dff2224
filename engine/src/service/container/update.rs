//! `POST /containers/{id}/update` (`docker update`): new resource limits and restart policy.
//!
//! Zero values mean "unchanged", as in docker. The merged HostConfig is validated with the same
//! rules as create, written to the live cgroup when the container runs (so a bad value the kernel
//! refuses changes nothing in the record), then persisted so the next start uses it. The restart
//! policy is only stored here; enforcing it is the lifecycle code's job.

use std::sync::Arc;

use serde::Deserialize;

use crate::error::{EngineError, Result};
use crate::model::container::{ContainerRecord, HostConfig, RestartPolicy, Status};
use crate::model::go_json::null_as_default;
use crate::runtime::spec::CgroupSpec;
use crate::service::container::{Container, ContainerService};

/// Docker's UpdateConfig: Resources plus RestartPolicy. Unknown fields are ignored; `null` is the
/// zero value ("unchanged"), as in Go (`model::go_json`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct UpdateRequest {
    #[serde(deserialize_with = "null_as_default")]
    pub cpu_shares: i64,
    #[serde(deserialize_with = "null_as_default")]
    pub memory: i64,
    #[serde(deserialize_with = "null_as_default")]
    pub memory_swap: i64,
    #[serde(deserialize_with = "null_as_default")]
    pub nano_cpus: i64,
    #[serde(deserialize_with = "null_as_default")]
    pub cpu_period: i64,
    #[serde(deserialize_with = "null_as_default")]
    pub cpu_quota: i64,
    pub pids_limit: Option<i64>,
    pub restart_policy: Option<RestartPolicy>,
    // Resources this engine cannot apply: refused when set rather than silently dropped.
    pub cpuset_cpus: Option<String>,
    pub cpuset_mems: Option<String>,
    #[serde(deserialize_with = "null_as_default")]
    pub blkio_weight: i64,
    #[serde(deserialize_with = "null_as_default")]
    pub memory_reservation: i64,
    #[serde(deserialize_with = "null_as_default")]
    pub kernel_memory: i64,
    #[serde(deserialize_with = "null_as_default")]
    pub cpu_realtime_period: i64,
    #[serde(deserialize_with = "null_as_default")]
    pub cpu_realtime_runtime: i64,
}

impl UpdateRequest {
    fn unsupported(&self) -> Option<&'static str> {
        if self.cpuset_cpus.as_deref().is_some_and(|s| !s.is_empty()) {
            return Some("CpusetCpus");
        }
        if self.cpuset_mems.as_deref().is_some_and(|s| !s.is_empty()) {
            return Some("CpusetMems");
        }
        for (v, n) in [
            (self.blkio_weight, "BlkioWeight"),
            (self.memory_reservation, "MemoryReservation"),
            (self.kernel_memory, "KernelMemory"),
            (self.cpu_realtime_period, "CPURealtimePeriod"),
            (self.cpu_realtime_runtime, "CPURealtimeRuntime"),
        ] {
            if v != 0 {
                return Some(n);
            }
        }
        None
    }
}

/// The HostConfig after applying `u` to `h`, validated.
pub fn merge(h: &HostConfig, u: &UpdateRequest) -> Result<HostConfig> {
    if let Some(field) = u.unsupported() {
        return Err(EngineError::invalid(format!(
            "updating {field} is not supported by this engine"
        )));
    }
    if u.memory < 0 || u.cpu_shares < 0 || u.nano_cpus < 0 || u.cpu_period < 0 || u.cpu_quota < -1 {
        return Err(EngineError::invalid("resource limits must not be negative"));
    }
    if u.memory_swap < -1 {
        return Err(EngineError::invalid("invalid memory-swap value"));
    }
    let mut m = h.clone();
    if u.cpu_shares != 0 {
        m.cpu_shares = u.cpu_shares;
    }
    if u.memory != 0 {
        if u.memory_swap == 0 && h.memory_swap > 0 && u.memory > h.memory_swap {
            return Err(EngineError::invalid(
                "Memory limit should be smaller than already set memoryswap limit, update the memoryswap at the same time",
            ));
        }
        m.memory = u.memory;
    }
    if u.memory_swap != 0 {
        m.memory_swap = u.memory_swap;
    }
    if u.nano_cpus != 0 {
        if (h.cpu_quota > 0 || h.cpu_period > 0) && u.cpu_quota == 0 && u.cpu_period == 0 {
            return Err(EngineError::invalid(
                "Conflicting options: Nano CPUs cannot be updated as CPU Period or Quota has already been set",
            ));
        }
        m.nano_cpus = u.nano_cpus;
    }
    if u.cpu_period != 0 || u.cpu_quota != 0 {
        if h.nano_cpus > 0 && u.nano_cpus == 0 {
            return Err(EngineError::invalid(
                "Conflicting options: CPU Quota or Period cannot be updated as NanoCPUs has already been set",
            ));
        }
        if u.cpu_period != 0 {
            m.cpu_period = u.cpu_period;
        }
        if u.cpu_quota != 0 {
            m.cpu_quota = u.cpu_quota;
        }
    }
    if let Some(p) = u.pids_limit {
        // Docker: 0 or -1 lifts the limit.
        m.pids_limit = Some(if p <= 0 { -1 } else { p });
    }
    if let Some(rp) = u.restart_policy.as_ref().filter(|rp| !rp.name.is_empty()) {
        // The same rules as at create (one place: container::restart).
        super::restart::Policy::parse(rp)?;
        if h.auto_remove && rp.name != "no" {
            return Err(EngineError::invalid(
                "Restart policy cannot be updated because AutoRemove is enabled for the container",
            ));
        }
        m.restart_policy = rp.clone();
    }
    super::create::validate_limits(&m)?;
    Ok(m)
}

/// The cgroup knobs `u` changes, in the cgroup code's units (None = leave alone).
fn changed_limits(m: &HostConfig, u: &UpdateRequest, path: String) -> CgroupSpec {
    let (quota, period) = if u.nano_cpus > 0 {
        (
            Some(m.nano_cpus * 100_000 / 1_000_000_000),
            Some(100_000u64),
        )
    } else {
        (
            (u.cpu_quota != 0).then_some(m.cpu_quota),
            (u.cpu_period != 0).then_some(m.cpu_period as u64),
        )
    };
    CgroupSpec {
        path,
        memory: (u.memory != 0).then_some(m.memory),
        memory_swap: (u.memory_swap != 0).then_some(m.memory_swap),
        cpu_shares: (u.cpu_shares != 0).then_some(m.cpu_shares as u64),
        cpu_quota: quota,
        cpu_period: period,
        pids_limit: u.pids_limit.map(|_| m.pids_limit.unwrap_or(-1)),
        // Only the limit files are rewritten on update; devices stay as created.
        all_devices: false,
    }
}

/// Apply `u` to the container `key`; returns docker's warnings (none).
pub async fn update(
    svc: &Arc<ContainerService>,
    key: &str,
    u: UpdateRequest,
) -> Result<Vec<String>> {
    let c = svc.get(key)?;
    let _op = c.lock_op().await;
    let rec = c.record();
    if matches!(rec.state.status, Status::Removing | Status::Dead) {
        return Err(EngineError::conflict(format!(
            "Cannot update container {}: container is marked for removal",
            rec.id
        )));
    }
    let merged = merge(&rec.host_config, &u)?;
    if matches!(
        rec.state.status,
        Status::Running | Status::Paused | Status::Restarting
    ) && c.shim().is_some()
    {
        let spec = changed_limits(&merged, &u, crate::runtime::spec::cgroup_path(&rec.id));
        svc.host_blocking("update", move |host| host.update_limits(&spec))
            .await
            .map_err(|e| match e {
                EngineError::Io { context, source } => EngineError::invalid(format!(
                    "Cannot update container {}: {context}: {source}",
                    rec.id
                )),
                e => e,
            })?;
    }
    svc.update_record(&c, |r| r.host_config = merged)?;
    svc.emit(&c, "update", &[]);
    Ok(Vec::new())
}

impl ContainerService {
    /// Change a container's record and persist it (`docker update`).
    pub fn update_record<F: FnOnce(&mut ContainerRecord)>(
        &self,
        c: &Arc<Container>,
        f: F,
    ) -> Result<ContainerRecord> {
        let rec = c.update(f);
        self.store.save(&rec)?;
        Ok(rec)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merge_keeps_zero_fields_and_validates() {
        let h = HostConfig {
            memory: 64 << 20,
            cpu_shares: 512,
            ..Default::default()
        };
        let m = merge(
            &h,
            &UpdateRequest {
                cpu_shares: 256,
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!((m.memory, m.cpu_shares), (64 << 20, 256));
        let e = merge(
            &h,
            &UpdateRequest {
                memory: 1 << 20,
                ..Default::default()
            },
        )
        .unwrap_err();
        assert_eq!(e.to_string(), "Minimum memory limit allowed is 6MB");
        let e = merge(
            &h,
            &UpdateRequest {
                memory: 64 << 20,
                memory_swap: 32 << 20,
                ..Default::default()
            },
        )
        .unwrap_err();
        assert!(e.to_string().contains("memoryswap"), "{e}");
        let m = merge(
            &h,
            &UpdateRequest {
                pids_limit: Some(0),
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(m.pids_limit, Some(-1));
        let rp = RestartPolicy {
            name: "always".into(),
            maximum_retry_count: 3,
        };
        assert!(merge(
            &h,
            &UpdateRequest {
                restart_policy: Some(rp),
                ..Default::default()
            }
        )
        .is_err());
        let rp = RestartPolicy {
            name: "on-failure".into(),
            maximum_retry_count: 3,
        };
        let m = merge(
            &h,
            &UpdateRequest {
                restart_policy: Some(rp),
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(m.restart_policy.maximum_retry_count, 3);
        assert!(merge(
            &h,
            &UpdateRequest {
                blkio_weight: 10,
                ..Default::default()
            }
        )
        .is_err());
    }
}
