//! cgroup v1: one directory per hierarchy (memory, cpu+cpuacct, pids, devices, freezer, blkio).

use std::path::PathBuf;

use super::{read_keyed, rmdir_retry, write_knob, DEFAULT_DEVICE_RULES};
use crate::error::{IoContext, Result};
use crate::runtime::spec::CgroupSpec;

/// The controllers a container joins.
const CONTROLLERS: &[&str] = &[
    "memory", "cpu", "cpuacct", "pids", "devices", "freezer", "blkio",
];

#[derive(Debug)]
pub struct V1Cgroup {
    /// (controllers mounted together, container dir in that hierarchy), one per hierarchy.
    dirs: Vec<(Vec<String>, PathBuf)>,
}

/// v1 hierarchies from /proc/self/mountinfo: (mount point, controllers).
fn hierarchies() -> Vec<(PathBuf, Vec<String>)> {
    let info = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    let mut out: Vec<(PathBuf, Vec<String>)> = Vec::new();
    for line in info.lines() {
        let Some((pre, post)) = line.split_once(" - ") else {
            continue;
        };
        let mut post = post.split_whitespace();
        if post.next() != Some("cgroup") {
            continue;
        }
        let super_opts = post.nth(1).unwrap_or("");
        let Some(mount_point) = pre.split_whitespace().nth(4) else {
            continue;
        };
        let ctrls: Vec<String> = super_opts
            .split(',')
            .filter(|o| CONTROLLERS.contains(o))
            .map(String::from)
            .collect();
        if ctrls.is_empty() || out.iter().any(|(_, c)| c == &ctrls) {
            continue;
        }
        out.push((PathBuf::from(mount_point.replace("\\040", " ")), ctrls));
    }
    out
}

impl V1Cgroup {
    pub fn open(path: &str) -> Self {
        V1Cgroup {
            dirs: hierarchies()
                .into_iter()
                .map(|(mp, c)| (c, mp.join(path)))
                .collect(),
        }
    }

    pub fn create(spec: &CgroupSpec) -> Result<Self> {
        let cg = Self::open(&spec.path);
        for (_, dir) in &cg.dirs {
            std::fs::create_dir_all(dir)
                .io_context(|| format!("creating cgroup {}", dir.display()))?;
        }
        if let Err(e) = cg.apply(spec) {
            let _ = cg.destroy();
            return Err(e);
        }
        Ok(cg)
    }

    /// The container's directory in each hierarchy.
    pub fn dirs(&self) -> impl Iterator<Item = &PathBuf> {
        self.dirs.iter().map(|(_, d)| d)
    }

    pub fn dir_for(&self, controller: &str) -> Option<PathBuf> {
        self.dirs
            .iter()
            .find(|(c, _)| c.iter().any(|x| x == controller))
            .map(|(_, d)| d.clone())
    }

    fn apply(&self, spec: &CgroupSpec) -> Result<()> {
        if let Some(mem) = self.dir_for("memory") {
            if let Some(limit) = spec.memory.filter(|m| *m > 0) {
                write_knob(&mem, "memory.limit_in_bytes", &limit.to_string())?;
            }
            if let Some(swap) = spec.memory_swap.filter(|s| *s != 0) {
                // memsw exists only with swap accounting; docker warns and goes on without it.
                if mem.join("memory.memsw.limit_in_bytes").exists() {
                    write_knob(
                        &mem,
                        "memory.memsw.limit_in_bytes",
                        &swap.max(-1).to_string(),
                    )?;
                } else {
                    tracing::warn!("swap accounting disabled: memory-swap limit not applied");
                }
            }
        }
        self.write_cpu_and_pids(spec)?;
        if let Some(dev) = self.dir_for("devices") {
            if spec.all_devices {
                write_knob(&dev, "devices.allow", "a")?;
            } else {
                write_knob(&dev, "devices.deny", "a")?;
                for rule in DEFAULT_DEVICE_RULES {
                    write_knob(&dev, "devices.allow", &rule.v1_line())?;
                }
            }
        }
        Ok(())
    }

    /// `docker update` on a live cgroup. The memory limit may not exceed memsw: when it would
    /// (raising both), memsw goes first, as runc orders it.
    pub fn update_limits(&self, spec: &CgroupSpec) -> Result<()> {
        if let Some(mem) = self.dir_for("memory") {
            let memsw = mem.join("memory.memsw.limit_in_bytes");
            let swap = spec.memory_swap.filter(|s| *s != 0);
            let limit = spec.memory.filter(|m| *m > 0);
            let write_swap = |v: i64| -> Result<()> {
                if memsw.exists() {
                    write_knob(&mem, "memory.memsw.limit_in_bytes", &v.max(-1).to_string())
                } else {
                    tracing::warn!("swap accounting disabled: memory-swap limit not applied");
                    Ok(())
                }
            };
            match (limit, swap) {
                (Some(l), Some(s)) => {
                    if write_knob(&mem, "memory.limit_in_bytes", &l.to_string()).is_err() {
                        write_swap(s)?;
                        write_knob(&mem, "memory.limit_in_bytes", &l.to_string())?;
                    } else {
                        write_swap(s)?;
                    }
                }
                (Some(l), None) => write_knob(&mem, "memory.limit_in_bytes", &l.to_string())?,
                (None, Some(s)) => write_swap(s)?,
                (None, None) => {}
            }
        }
        self.write_cpu_and_pids(spec)?;
        Ok(())
    }

    /// CPU shares/quota/period and the pids limit: the same files at start and on `update`.
    fn write_cpu_and_pids(&self, spec: &CgroupSpec) -> Result<()> {
        if let Some(cpu) = self.dir_for("cpu") {
            if let Some(shares) = spec.cpu_shares.filter(|s| *s > 0) {
                write_knob(&cpu, "cpu.shares", &shares.max(2).to_string())?;
            }
            if let Some(period) = spec.cpu_period.filter(|p| *p > 0) {
                write_knob(&cpu, "cpu.cfs_period_us", &period.to_string())?;
            }
            if let Some(quota) = spec.cpu_quota.filter(|q| *q != 0) {
                write_knob(&cpu, "cpu.cfs_quota_us", &quota.to_string())?;
            }
        }
        if let (Some(pids), Some(limit)) = (self.dir_for("pids"), spec.pids_limit) {
            let v = if limit > 0 {
                limit.to_string()
            } else {
                "max".into()
            };
            write_knob(&pids, "pids.max", &v)?;
        }
        Ok(())
    }

    pub fn add_process(&self, pid: i32) -> Result<()> {
        for (_, dir) in &self.dirs {
            write_knob(dir, "cgroup.procs", &pid.to_string())?;
        }
        Ok(())
    }

    pub fn oom_killed(&self) -> bool {
        self.dir_for("memory")
            .and_then(|d| read_keyed(&d.join("memory.oom_control"), "oom_kill"))
            .is_some_and(|n| n > 0)
    }

    /// Write FROZEN/THAWED to the freezer hierarchy and wait until `freezer.state` reads it back
    /// (FREEZING is the in-between state).
    pub fn set_frozen(&self, frozen: bool) -> Result<()> {
        let dir = self.dir_for("freezer").ok_or_else(|| {
            crate::error::EngineError::internal("the cgroup v1 freezer hierarchy is not mounted")
        })?;
        let want = if frozen { "FROZEN" } else { "THAWED" };
        super::wait_settled(
            if frozen {
                "freeze the container"
            } else {
                "thaw the container"
            },
            || write_knob(&dir, "freezer.state", want),
            || std::fs::read_to_string(dir.join("freezer.state")).is_ok_and(|s| s.trim() == want),
        )
    }

    pub fn destroy(&self) -> Result<()> {
        let mut first_err = None;
        for (_, dir) in &self.dirs {
            if let Err(e) = rmdir_retry(dir) {
                first_err.get_or_insert(e);
            }
        }
        first_err.map_or(Ok(()), Err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn read(dir: &Path, f: &str) -> String {
        std::fs::read_to_string(dir.join(f))
            .unwrap()
            .trim()
            .to_string()
    }

    #[test]
    fn v1_create_limits_join_destroy() {
        if hierarchies().is_empty() {
            eprintln!("skipping: no cgroup v1 hierarchies on this host");
            return;
        }
        let name = format!("berth-test-{}/c1", std::process::id());
        let spec = CgroupSpec {
            path: name.clone(),
            memory: Some(64 << 20),
            memory_swap: Some(128 << 20),
            cpu_shares: Some(512),
            cpu_quota: Some(50_000),
            cpu_period: Some(100_000),
            pids_limit: Some(42),
            all_devices: false,
        };
        let cg = V1Cgroup::create(&spec).unwrap();
        let mem = cg.dir_for("memory").unwrap();
        assert_eq!(
            read(&mem, "memory.limit_in_bytes"),
            (64u64 << 20).to_string()
        );
        if mem.join("memory.memsw.limit_in_bytes").exists() {
            assert_eq!(
                read(&mem, "memory.memsw.limit_in_bytes"),
                (128u64 << 20).to_string()
            );
        }
        let cpu = cg.dir_for("cpu").unwrap();
        assert_eq!(read(&cpu, "cpu.shares"), "512");
        assert_eq!(read(&cpu, "cpu.cfs_quota_us"), "50000");
        assert_eq!(read(&cpu, "cpu.cfs_period_us"), "100000");
        assert_eq!(read(&cg.dir_for("pids").unwrap(), "pids.max"), "42");
        let devs = read(&cg.dir_for("devices").unwrap(), "devices.list");
        assert!(
            devs.contains("c 1:3 rwm") && devs.contains("c 136:* rwm"),
            "{devs}"
        );
        assert!(!devs.contains("a *:* rwm"));
        assert!(!cg.oom_killed());

        // A real process joins and leaves.
        let mut child = std::process::Command::new("sleep")
            .arg("30")
            .spawn()
            .unwrap();
        cg.add_process(child.id() as i32).unwrap();
        let procs = read(&mem, "cgroup.procs");
        assert_eq!(procs, child.id().to_string());
        let freezer = cg.dir_for("freezer").unwrap();
        cg.set_frozen(true).unwrap();
        assert_eq!(read(&freezer, "freezer.state"), "FROZEN");
        cg.set_frozen(true).unwrap();
        cg.set_frozen(false).unwrap();
        assert_eq!(read(&freezer, "freezer.state"), "THAWED");
        child.kill().unwrap();
        child.wait().unwrap();

        cg.destroy().unwrap();
        assert!(!mem.exists());
        // Parent test dirs.
        for (_, d) in &cg.dirs {
            std::fs::remove_dir(d.parent().unwrap()).unwrap();
        }
        // Opening and destroying a vanished cgroup is fine.
        V1Cgroup::open(&name).destroy().unwrap();
    }
}
