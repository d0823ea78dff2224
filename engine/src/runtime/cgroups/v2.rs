//! cgroup v2: one directory under the unified root. The root is a parameter so tests can run
//! against a cgroup2 mount of their own.

use std::path::{Path, PathBuf};

use super::{read_keyed, rmdir_retry, shares_to_weight, write_knob};
use crate::error::{EngineError, IoContext, Result};
use crate::runtime::spec::CgroupSpec;

/// Controllers enabled for containers when the host offers them.
const WANTED: &[&str] = &["cpu", "memory", "pids", "io"];

#[derive(Debug)]
pub struct V2Cgroup {
    root: PathBuf,
    dir: PathBuf,
}

/// The files and values `spec` asks for, with the controller each needs. Docker semantics:
/// MemorySwap is memory+swap, memory.swap.max is swap alone.
pub(crate) fn limit_files(spec: &CgroupSpec) -> Vec<(&'static str, &'static str, String)> {
    let mut out = Vec::new();
    if let Some(mem) = spec.memory.filter(|m| *m > 0) {
        out.push(("memory", "memory.max", mem.to_string()));
        match spec.memory_swap {
            Some(-1) => out.push(("memory", "memory.swap.max", "max".into())),
            Some(total) if total > 0 => out.push((
                "memory",
                "memory.swap.max",
                (total - mem).max(0).to_string(),
            )),
            _ => {}
        }
    }
    if let Some(shares) = spec.cpu_shares.filter(|s| *s > 0) {
        out.push(("cpu", "cpu.weight", shares_to_weight(shares).to_string()));
    }
    let period = spec.cpu_period.filter(|p| *p > 0);
    match spec.cpu_quota.filter(|q| *q != 0) {
        Some(q) if q > 0 => out.push((
            "cpu",
            "cpu.max",
            format!("{q} {}", period.unwrap_or(100_000)),
        )),
        Some(_) => out.push((
            "cpu",
            "cpu.max",
            format!("max {}", period.unwrap_or(100_000)),
        )),
        None => {
            if let Some(p) = period {
                out.push(("cpu", "cpu.max", format!("max {p}")));
            }
        }
    }
    if let Some(limit) = spec.pids_limit {
        let v = if limit > 0 {
            limit.to_string()
        } else {
            "max".into()
        };
        out.push(("pids", "pids.max", v));
    }
    out
}

fn controllers(dir: &Path) -> Vec<String> {
    std::fs::read_to_string(dir.join("cgroup.controllers"))
        .map(|s| s.split_whitespace().map(String::from).collect())
        .unwrap_or_default()
}

impl V2Cgroup {
    pub fn open(root: &Path, path: &str) -> Self {
        V2Cgroup {
            root: root.to_path_buf(),
            dir: root.join(path),
        }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn create(root: &Path, spec: &CgroupSpec) -> Result<Self> {
        let cg = Self::open(root, &spec.path);
        // Enable the wanted controllers from the root down to the parent of our leaf; each
        // intermediate cgroup holds no processes (the no-internal-processes rule).
        let rel = cg
            .dir
            .strip_prefix(&cg.root)
            .unwrap_or(Path::new(""))
            .to_path_buf();
        let mut cur = cg.root.clone();
        for comp in rel.components() {
            let avail = controllers(&cur);
            let enable: Vec<String> = WANTED
                .iter()
                .filter(|c| avail.iter().any(|a| a == *c))
                .map(|c| format!("+{c}"))
                .collect();
            if !enable.is_empty() {
                write_knob(&cur, "cgroup.subtree_control", &enable.join(" "))?;
            }
            cur.push(comp);
            match std::fs::create_dir(&cur) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
                Err(e) => {
                    return Err(e).io_context(|| format!("creating cgroup {}", cur.display()))
                }
            }
        }
        if let Err(e) = cg.apply(spec) {
            let _ = cg.destroy();
            return Err(e);
        }
        Ok(cg)
    }

    fn apply(&self, spec: &CgroupSpec) -> Result<()> {
        // v2 has no devices controller: Docker's default allowlist is a BPF program on the
        // container's cgroup. Attached on every create (the cgroup is new for each container);
        // a privileged container gets none, so every device is allowed.
        if !spec.all_devices {
            super::devices_bpf::attach_default(&self.dir)?;
        }
        self.update_limits(spec)
    }

    /// The limit files, at create and for `docker update` on a live cgroup (the device program
    /// stays as attached).
    pub fn update_limits(&self, spec: &CgroupSpec) -> Result<()> {
        let avail = controllers(&self.dir);
        for (ctrl, file, value) in limit_files(spec) {
            if !avail.iter().any(|a| a == ctrl) {
                return Err(EngineError::invalid(format!(
                    "cgroup v2 controller {ctrl} is not available for {file}"
                )));
            }
            if file == "memory.swap.max" && !self.dir.join(file).exists() {
                tracing::warn!("swap accounting disabled: memory-swap limit not applied");
                continue;
            }
            write_knob(&self.dir, file, &value)?;
        }
        Ok(())
    }

    pub fn add_process(&self, pid: i32) -> Result<()> {
        // cgroup.procs moves the whole thread group (cgroup.threads would move one thread).
        write_knob(&self.dir, "cgroup.procs", &pid.to_string())
    }

    pub fn oom_killed(&self) -> bool {
        read_keyed(&self.dir.join("memory.events"), "oom_kill").is_some_and(|n| n > 0)
    }

    /// Write `cgroup.freeze` and wait until `cgroup.events` reports the matching `frozen` value.
    pub fn set_frozen(&self, frozen: bool) -> Result<()> {
        let want = u64::from(frozen);
        super::wait_settled(
            if frozen {
                "freeze the container"
            } else {
                "thaw the container"
            },
            || write_knob(&self.dir, "cgroup.freeze", &want.to_string()),
            || read_keyed(&self.dir.join("cgroup.events"), "frozen") == Some(want),
        )
    }

    pub fn destroy(&self) -> Result<()> {
        rmdir_retry(&self.dir)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limit_values_follow_docker() {
        let spec = CgroupSpec {
            path: "x".into(),
            memory: Some(100 << 20),
            memory_swap: Some(300 << 20),
            cpu_shares: Some(1024),
            cpu_quota: Some(50_000),
            cpu_period: None,
            pids_limit: Some(0),
            all_devices: false,
        };
        let files = limit_files(&spec);
        let get = |f: &str| {
            files
                .iter()
                .find(|(_, n, _)| *n == f)
                .map(|(_, _, v)| v.clone())
        };
        assert_eq!(get("memory.max").unwrap(), (100u64 << 20).to_string());
        assert_eq!(get("memory.swap.max").unwrap(), (200u64 << 20).to_string());
        assert_eq!(get("cpu.weight").unwrap(), "39");
        assert_eq!(get("cpu.max").unwrap(), "50000 100000");
        assert_eq!(get("pids.max").unwrap(), "max");
        let spec = CgroupSpec {
            memory: Some(1 << 20),
            memory_swap: Some(-1),
            ..Default::default()
        };
        let files = limit_files(&spec);
        assert!(files.contains(&("memory", "memory.swap.max", "max".to_string())));
        assert!(limit_files(&CgroupSpec::default()).is_empty());
    }

    /// Against a real cgroup2 mount made for the test. On this hybrid host the unified
    /// hierarchy holds no controllers, so limit files cannot be exercised here (covered by
    /// `limit_values_follow_docker`); creation, joining, events and removal are real.
    #[test]
    fn v2_against_a_real_cgroup2_mount() {
        let mnt = tempfile::tempdir().unwrap();
        let r = nix::mount::mount(
            Some("none"),
            mnt.path(),
            Some("cgroup2"),
            nix::mount::MsFlags::empty(),
            None::<&str>,
        );
        if let Err(e) = r {
            eprintln!("skipping: cannot mount cgroup2 ({e})");
            return;
        }
        struct Unmount<'a>(&'a Path);
        impl Drop for Unmount<'_> {
            fn drop(&mut self) {
                let _ = nix::mount::umount2(self.0, nix::mount::MntFlags::MNT_DETACH);
            }
        }
        let _guard = Unmount(mnt.path());
        let top = format!("berth-test-{}", std::process::id());
        let spec = CgroupSpec {
            path: format!("{top}/c1"),
            ..Default::default()
        };
        let cg = V2Cgroup::create(mnt.path(), &spec).unwrap();
        assert!(cg.dir().join("cgroup.procs").exists());
        assert_eq!(
            super::super::devices_bpf::attached_count(cg.dir()).unwrap(),
            1,
            "device allowlist program attached"
        );
        let avail = controllers(cg.dir());
        if !avail.iter().any(|c| c == "memory") {
            eprintln!("note: no memory controller on this cgroup2 mount; limits not exercised");
            let with_mem = CgroupSpec {
                path: format!("{top}/c2"),
                memory: Some(1 << 20),
                ..Default::default()
            };
            // Asking for an unavailable controller is a clean error and leaves nothing behind.
            let e = V2Cgroup::create(mnt.path(), &with_mem).unwrap_err();
            assert!(e.to_string().contains("controller memory"), "{e}");
            assert!(!mnt.path().join(&top).join("c2").exists());
        }

        let mut child = std::process::Command::new("sleep")
            .arg("30")
            .spawn()
            .unwrap();
        cg.add_process(child.id() as i32).unwrap();
        let procs = std::fs::read_to_string(cg.dir().join("cgroup.procs")).unwrap();
        assert_eq!(procs.trim(), child.id().to_string());
        assert!(!cg.oom_killed());
        cg.set_frozen(true).unwrap();
        assert_eq!(
            read_keyed(&cg.dir().join("cgroup.events"), "frozen"),
            Some(1)
        );
        cg.set_frozen(false).unwrap();
        assert_eq!(
            read_keyed(&cg.dir().join("cgroup.events"), "frozen"),
            Some(0)
        );
        child.kill().unwrap();
        child.wait().unwrap();
        cg.destroy().unwrap();
        assert!(!cg.dir().exists());
        std::fs::remove_dir(mnt.path().join(&top)).unwrap();
    }
}
