//! Container cgroups on v1 and v2.
//!
//! STUB: interface only.

use crate::error::Result;
use crate::runtime::spec::CgroupSpec;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CgroupVersion {
    V1,
    V2,
}

/// Which hierarchy this host uses for resource control (v2 only when the unified hierarchy holds
/// the controllers).
pub fn detect() -> CgroupVersion {
    CgroupVersion::V1
}

#[derive(Debug)]
pub struct ContainerCgroup {
    path: String,
}

impl ContainerCgroup {
    /// Create the cgroup at `spec.path` and apply its limits.
    pub fn create(spec: &CgroupSpec) -> Result<Self> {
        Ok(ContainerCgroup {
            path: spec.path.clone(),
        })
    }

    /// Open an existing container cgroup (stats, update, cleanup after a crash).
    pub fn open(path: &str) -> Result<Self> {
        Ok(ContainerCgroup { path: path.into() })
    }

    pub fn path(&self) -> &str {
        &self.path
    }

    pub fn add_process(&self, _pid: i32) -> Result<()> {
        Ok(())
    }

    /// Whether the kernel OOM-killed a process of this cgroup.
    pub fn oom_killed(&self) -> bool {
        false
    }

    /// Remove the cgroup (every process must be gone; retries while the kernel reports EBUSY).
    pub fn destroy(self) -> Result<()> {
        Ok(())
    }
}
