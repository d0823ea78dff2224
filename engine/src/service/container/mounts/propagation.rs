//! Bind propagation (`-v src:dst:rshared`, `BindOptions.Propagation`). A shared or slave bind
//! only means something when the host mount holding its source propagates that way; dockerd
//! checks that at start (`ensureShared`, `ensureSharedOrSlave` in daemon/oci_linux.go) and
//! refuses with a 500 naming the mount, rather than starting a container whose bind silently
//! propagates nothing. berth does the same check with the same words.

use std::path::Path;

use crate::error::{EngineError, Result};
use crate::util::mountinfo;

/// Refuse `propagation` on a bind of `source` when `source`'s host mount cannot provide it.
pub(super) fn check(source: &Path, propagation: &str) -> Result<()> {
    let (needs, what) = match propagation {
        "shared" | "rshared" => (&["shared:"][..], "a shared mount"),
        "slave" | "rslave" => (&["shared:", "master:"][..], "a shared or slave mount"),
        _ => return Ok(()),
    };
    let mountinfo = std::fs::read_to_string("/proc/self/mountinfo")
        .map_err(|e| EngineError::internal(format!("reading /proc/self/mountinfo: {e}")))?;
    let resolved = std::fs::canonicalize(source).unwrap_or_else(|_| source.to_path_buf());
    let Some((mount_point, optional)) = mountinfo::mount_of(&mountinfo, &resolved) else {
        return Ok(());
    };
    if optional
        .split_whitespace()
        .any(|f| needs.iter().any(|n| f.starts_with(n)))
    {
        return Ok(());
    }
    Err(EngineError::internal(format!(
        "path {} is mounted on {} but it is not {what}",
        source.display(),
        mount_point.display()
    )))
}
