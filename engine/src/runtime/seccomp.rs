//! Seccomp: compile docker's default profile (assets/seccomp.json) to BPF in the engine, cached
//! per capability set; the shim's init only loads the bytes.
//!
//! STUB: interface only.

use std::path::{Path, PathBuf};

use crate::error::Result;

/// Path of a compiled BPF program for `capabilities` under `<data_root>/seccomp/`, compiling and
/// writing it atomically when missing.
pub fn bpf_for(_data_root: &Path, _capabilities: &[String]) -> Result<Option<PathBuf>> {
    Ok(None)
}
