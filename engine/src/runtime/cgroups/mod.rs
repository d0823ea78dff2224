//! Container cgroups on v1 and v2.
//!
//! The knobs are written directly (as runc's fs drivers do) rather than through cgroups-rs: its
//! v2 swap handling is wrong and v1-only knobs fail quietly on v2, and the few files we need are
//! simple. Each container gets `<hierarchy root>/<spec.path>` (e.g. "berth/<id>").

use std::path::{Component, Path, PathBuf};
use std::time::{Duration, Instant};

use crate::error::{EngineError, IoContext, Result};
use crate::runtime::spec::CgroupSpec;

mod v1;
mod v2;

/// Where cgroup hierarchies are mounted.
const CGROUP_ROOT: &str = "/sys/fs/cgroup";

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
    fn detects_v1_on_this_host_shape() {
        // On this hybrid host the unified mount has no controllers; detect must say V1 unless
        // /sys/fs/cgroup itself is a cgroup2 with controllers.
        let v2 = std::fs::read_to_string("/sys/fs/cgroup/cgroup.controllers")
            .map(|s| !s.trim().is_empty())
            .unwrap_or(false);
        assert_eq!(detect() == CgroupVersion::V2, v2);
    }
}
