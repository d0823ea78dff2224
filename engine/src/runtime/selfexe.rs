//! The binary the engine execs shims from.
//!
//! STUB: interface only.

use std::path::PathBuf;

use crate::error::Result;

/// A sealed, read-only memfd copy of our own binary (CVE-2019-5736): a process inside a container
/// that reaches the shim's /proc/PID/exe finds an immutable copy, never the host file.
#[derive(Debug)]
pub struct ShimExecutable {
    path: PathBuf,
}

impl ShimExecutable {
    /// Make the sealed copy of /proc/self/exe once at engine start.
    pub fn create() -> Result<Self> {
        Ok(ShimExecutable {
            path: PathBuf::from("/proc/self/exe"),
        })
    }

    /// Path to exec (e.g. "/proc/self/fd/N" of the memfd).
    pub fn path(&self) -> &std::path::Path {
        &self.path
    }
}

/// argv[1] that selects the hidden shim mode of the berth binary; argv[2] is the container dir.
pub const SHIM_ARG: &str = "__berth-shim";
