//! Container cgroups on v1 and v2.
//!
//! The knobs are written directly (as runc's fs drivers do) rather than through cgroups-rs: its
//! v2 swap handling is wrong and v1-only knobs fail quietly on v2, and the few files we need are
//! simple. Each container gets `<hierarchy root>/<spec.path>` (e.g. "berth/<id>").

use std::path::{Component, Path, PathBuf};
use std::time::{Duration, Instant};

use crate::error::{EngineError, IoContext, Result};
use crate::runtime::spec::CgroupSpec;

pub mod devices_bpf;
pub mod stats;
mod v1;
mod v2;

/// Where cgroup hierarchies are mounted.
const CGROUP_ROOT: &str = "/sys/fs/cgroup";

/// Device type of a device-cgroup rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceKind {
    Char,
    Block,
}

/// Access bits of a device rule. The values are the kernel's BPF_DEVCG_ACC_* so the BPF
/// generator can use them as immediates; v1 spells them "m", "r", "w".
pub const DEV_ACC_MKNOD: u32 = 1;
pub const DEV_ACC_READ: u32 = 2;
pub const DEV_ACC_WRITE: u32 = 4;
pub const DEV_ACC_ALL: u32 = DEV_ACC_MKNOD | DEV_ACC_READ | DEV_ACC_WRITE;

/// One allow rule of the device cgroup: `None` major/minor is the wildcard `*`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeviceRule {
    pub kind: DeviceKind,
    pub major: Option<u32>,
    pub minor: Option<u32>,
    pub access: u32,
}

impl DeviceRule {
    const fn new(kind: DeviceKind, major: Option<u32>, minor: Option<u32>, access: u32) -> Self {
        DeviceRule {
            kind,
            major,
            minor,
            access,
        }
    }

    /// The cgroup v1 `devices.allow` line, e.g. "c 1:3 rwm".
    pub fn v1_line(&self) -> String {
        let kind = match self.kind {
            DeviceKind::Char => 'c',
            DeviceKind::Block => 'b',
        };
        let num = |n: Option<u32>| n.map_or_else(|| "*".to_string(), |n| n.to_string());
        let mut acc = String::new();
        for (bit, c) in [
            (DEV_ACC_READ, 'r'),
            (DEV_ACC_WRITE, 'w'),
            (DEV_ACC_MKNOD, 'm'),
        ] {
            if self.access & bit != 0 {
                acc.push(c);
            }
        }
        format!("{kind} {}:{} {acc}", num(self.major), num(self.minor))
    }
}

/// Docker's default device allowlist (everything else is denied). The one definition used by
/// both the v1 `devices.allow` writer and the v2 BPF program generator.
pub const DEFAULT_DEVICE_RULES: &[DeviceRule] = {
    use DeviceKind::{Block, Char};
    const fn dev(major: u32, minor: u32) -> DeviceRule {
        DeviceRule::new(Char, Some(major), Some(minor), DEV_ACC_ALL)
    }
    &[
        // mknod of any node is allowed; opening it is what the rules below restrict.
        DeviceRule::new(Char, None, None, DEV_ACC_MKNOD),
        DeviceRule::new(Block, None, None, DEV_ACC_MKNOD),
        dev(1, 3),                                           // null
        dev(1, 5),                                           // zero
        dev(1, 7),                                           // full
        dev(1, 8),                                           // random
        dev(1, 9),                                           // urandom
        dev(5, 0),                                           // tty
        dev(5, 1),                                           // console
        dev(5, 2),                                           // ptmx
        DeviceRule::new(Char, Some(136), None, DEV_ACC_ALL), // pts/*
        dev(10, 200),                                        // net/tun
    ]
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CgroupVersion {
    V1,
    V2,
}

/// Which hierarchy this host uses for resource control (v2 only when the unified hierarchy holds
/// the controllers).
pub fn detect() -> CgroupVersion {
    match std::fs::read_to_string(Path::new(CGROUP_ROOT).join("cgroup.controllers")) {
        Ok(s) if !s.trim().is_empty() => CgroupVersion::V2,
        _ => CgroupVersion::V1,
    }
}

#[derive(Debug)]
enum Inner {
    V1(v1::V1Cgroup),
    V2(v2::V2Cgroup),
}

#[derive(Debug)]
pub struct ContainerCgroup {
    path: String,
    inner: Inner,
}

/// A cgroup path must stay below the hierarchy roots: relative, no "..", not empty.
fn validate_path(path: &str) -> Result<()> {
    let p = Path::new(path);
    let ok = !path.is_empty()
        && p.components().all(|c| matches!(c, Component::Normal(_)))
        && p.components().count() > 0;
    if ok {
        Ok(())
    } else {
        Err(EngineError::invalid(format!(
            "invalid cgroup path {path:?}"
        )))
    }
}

impl ContainerCgroup {
    /// Create the cgroup at `spec.path` and apply its limits.
    pub fn create(spec: &CgroupSpec) -> Result<Self> {
        validate_path(&spec.path)?;
        let inner = match detect() {
            CgroupVersion::V1 => Inner::V1(v1::V1Cgroup::create(spec)?),
            CgroupVersion::V2 => Inner::V2(v2::V2Cgroup::create(Path::new(CGROUP_ROOT), spec)?),
        };
        Ok(ContainerCgroup {
            path: spec.path.clone(),
            inner,
        })
    }

    /// Open an existing container cgroup (stats, update, cleanup after a crash). Does not check
    /// that it still exists: `destroy` of a vanished cgroup succeeds.
    pub fn open(path: &str) -> Result<Self> {
        validate_path(path)?;
        let inner = match detect() {
            CgroupVersion::V1 => Inner::V1(v1::V1Cgroup::open(path)),
            CgroupVersion::V2 => Inner::V2(v2::V2Cgroup::open(Path::new(CGROUP_ROOT), path)),
        };
        Ok(ContainerCgroup {
            path: path.into(),
            inner,
        })
    }

    pub fn path(&self) -> &str {
        &self.path
    }

    pub fn version(&self) -> CgroupVersion {
        match self.inner {
            Inner::V1(_) => CgroupVersion::V1,
            Inner::V2(_) => CgroupVersion::V2,
        }
    }

    /// Directory holding `controller`'s files for this cgroup ("memory", "cpu", "pids", ...); on
    /// v2 every controller lives in the one directory.
    pub fn controller_dir(&self, controller: &str) -> Option<PathBuf> {
        match &self.inner {
            Inner::V1(c) => c.dir_for(controller),
            Inner::V2(c) => Some(c.dir().to_path_buf()),
        }
    }

    /// Every `cgroup.procs` file a process must be written to in order to join this cgroup (one
    /// per v1 hierarchy, the one file on v2). `docker exec` opens them before it enters the
    /// container's mount namespace, where the host's cgroup mounts are out of reach.
    pub fn procs_files(&self) -> Vec<PathBuf> {
        match &self.inner {
            Inner::V1(c) => c.dirs().map(|d| d.join("cgroup.procs")).collect(),
            Inner::V2(c) => vec![c.dir().join("cgroup.procs")],
        }
    }

    pub fn add_process(&self, pid: i32) -> Result<()> {
        match &self.inner {
            Inner::V1(c) => c.add_process(pid),
            Inner::V2(c) => c.add_process(pid),
        }
    }

    /// Whether the kernel OOM-killed a process of this cgroup.
    pub fn oom_killed(&self) -> bool {
        match &self.inner {
            Inner::V1(c) => c.oom_killed(),
            Inner::V2(c) => c.oom_killed(),
        }
    }

    /// Freeze every process of the cgroup (`docker pause`); returns once the kernel reports the
    /// cgroup frozen, so a caller never sees a half-frozen container.
    pub fn freeze(&self) -> Result<()> {
        match &self.inner {
            Inner::V1(c) => c.set_frozen(true),
            Inner::V2(c) => c.set_frozen(true),
        }
    }

    /// Thaw the cgroup (`docker unpause`); returns once the kernel reports it thawed.
    pub fn thaw(&self) -> Result<()> {
        match &self.inner {
            Inner::V1(c) => c.set_frozen(false),
            Inner::V2(c) => c.set_frozen(false),
        }
    }

    /// Pids of the cgroup's processes (`docker top`), in the order the kernel lists them.
    pub fn pids(&self) -> Result<Vec<i32>> {
        let file = match &self.inner {
            // Every process joins every hierarchy; pids (or memory) is always mounted with us.
            Inner::V1(c) => c
                .dir_for("pids")
                .or_else(|| c.dir_for("memory"))
                .or_else(|| c.dirs().next().cloned())
                .ok_or_else(|| EngineError::internal("no cgroup v1 hierarchy is mounted"))?
                .join("cgroup.procs"),
            Inner::V2(c) => c.dir().join("cgroup.procs"),
        };
        let s =
            std::fs::read_to_string(&file).io_context(|| format!("reading {}", file.display()))?;
        Ok(s.lines().filter_map(|l| l.trim().parse().ok()).collect())
    }

    /// Change the resource limits of a live cgroup (`docker update`): only the knobs `spec`
    /// sets are written; devices and membership are left alone.
    pub fn update_limits(&self, spec: &CgroupSpec) -> Result<()> {
        match &self.inner {
            Inner::V1(c) => c.update_limits(spec),
            Inner::V2(c) => c.update_limits(spec),
        }
    }

    /// Remove the cgroup (every process must be gone; retries while the kernel reports EBUSY).
    pub fn destroy(self) -> Result<()> {
        match &self.inner {
            Inner::V1(c) => c.destroy(),
            Inner::V2(c) => c.destroy(),
        }
    }
}

/// Write one cgroup control file (no O_CREAT: a missing knob is an error, not a new file).
pub(crate) fn write_knob(dir: &Path, file: &str, value: &str) -> Result<()> {
    use std::io::Write;
    let p = dir.join(file);
    std::fs::OpenOptions::new()
        .write(true)
        .open(&p)
        .and_then(|mut f| f.write_all(value.as_bytes()))
        .io_context(|| format!("writing {value:?} to {}", p.display()))
}

/// "key value" lines (memory.events, memory.oom_control): the value of `key`.
pub(crate) fn read_keyed(path: &Path, key: &str) -> Option<u64> {
    let s = std::fs::read_to_string(path).ok()?;
    s.lines().find_map(|l| {
        let mut it = l.split_whitespace();
        (it.next()? == key).then(|| it.next()?.parse().ok())?
    })
}

/// How long a freeze or thaw may take before it is reported as failed; the kernel normally
/// settles in microseconds, longer only when a task sits in an uninterruptible sleep.
const FREEZE_TIMEOUT: Duration = Duration::from_secs(10);

/// Poll `settled` until it is true, re-running `request` now and then (a v1 freeze can stall in
/// FREEZING when a task forks while being frozen; writing FROZEN again retries it, as runc does).
pub(crate) fn wait_settled(
    what: &str,
    mut request: impl FnMut() -> Result<()>,
    mut settled: impl FnMut() -> bool,
) -> Result<()> {
    request()?;
    let deadline = Instant::now() + FREEZE_TIMEOUT;
    let mut tries = 0u32;
    loop {
        if settled() {
            return Ok(());
        }
        if Instant::now() >= deadline {
            return Err(EngineError::internal(format!(
                "timed out waiting to {what}"
            )));
        }
        tries += 1;
        if tries.is_multiple_of(50) {
            request()?;
        }
        std::thread::sleep(Duration::from_millis(if tries < 20 { 1 } else { 10 }));
    }
}

/// rmdir, retrying on EBUSY (tasks still exiting) for up to two seconds. Missing is success.
pub(crate) fn rmdir_retry(dir: &Path) -> Result<()> {
    let deadline = Instant::now() + Duration::from_secs(2);
    loop {
        match std::fs::remove_dir(dir) {
            Ok(()) => return Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) if e.raw_os_error() == Some(libc::EBUSY) && Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(20));
            }
            Err(e) => {
                return Err(e).io_context(|| format!("removing cgroup {}", dir.display()));
            }
        }
    }
}

/// Docker's cpu shares (2..262144) to cgroup v2 cpu.weight (1..10000).
pub(crate) fn shares_to_weight(shares: u64) -> u64 {
    if shares == 0 {
        return 100;
    }
    let s = shares.clamp(2, 262144);
    1 + ((s - 2) * 9999) / 262142
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weight_formula_matches_docker() {
        assert_eq!(shares_to_weight(2), 1);
        assert_eq!(shares_to_weight(1024), 39);
        assert_eq!(shares_to_weight(262144), 10000);
    }

    #[test]
    fn rejects_escaping_paths() {
        assert!(validate_path("berth/abc").is_ok());
        for bad in ["", "/abs", "../x", "berth/../../x", "./x"] {
            assert!(validate_path(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn default_device_rules_in_v1_syntax() {
        let lines: Vec<String> = DEFAULT_DEVICE_RULES.iter().map(|r| r.v1_line()).collect();
        assert_eq!(
            lines,
            [
                "c *:* m",
                "b *:* m",
                "c 1:3 rwm",
                "c 1:5 rwm",
                "c 1:7 rwm",
                "c 1:8 rwm",
                "c 1:9 rwm",
                "c 5:0 rwm",
                "c 5:1 rwm",
                "c 5:2 rwm",
                "c 136:* rwm",
                "c 10:200 rwm",
            ]
        );
    }

    #[test]
    fn detects_v1_on_this_host_shape() {
        // On this hybrid host the unified mount has no controllers; detect must say V1 unless
        // /sys/fs/cgroup itself is a cgroup2 with controllers.
        let v2 = std::fs::read_to_string("/sys/fs/cgroup/cgroup.controllers")
            .map(|s| !s.trim().is_empty())
            .unwrap_or(false);
        assert_eq!(detect() == CgroupVersion::V2, v2);
    }
}
