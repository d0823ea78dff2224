//! Bind propagation (`-v src:dst:rshared`, `BindOptions.Propagation`). A shared or slave bind
//! only means something when the host mount holding its source propagates that way; dockerd
//! checks that at start (`ensureShared`, `ensureSharedOrSlave` in daemon/oci_linux.go) and
//! refuses with a 500 naming the mount, rather than starting a container whose bind silently
//! propagates nothing. berth does the same check with the same words.

use std::path::{Path, PathBuf};

use crate::error::{EngineError, Result};

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
    let Some((mount_point, optional)) = source_mount(&mountinfo, &resolved) else {
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

/// The mount point holding `path` (the longest mount point that is a parent of it; the last
/// one mounted there wins) and its optional fields ("shared:1 master:2").
fn source_mount(mountinfo: &str, path: &Path) -> Option<(PathBuf, String)> {
    let mut best: Option<(PathBuf, String)> = None;
    for line in mountinfo.lines() {
        let fields: Vec<&str> = line.split(' ').collect();
        let Some(sep) = fields.iter().position(|f| *f == "-") else {
            continue;
        };
        if sep < 6 {
            continue;
        }
        let mount_point = PathBuf::from(unescape(fields[4]));
        if !path.starts_with(&mount_point) {
            continue;
        }
        let longer = best
            .as_ref()
            .is_none_or(|(b, _)| mount_point.as_os_str().len() >= b.as_os_str().len());
        if longer {
            best = Some((mount_point, fields[6..sep].join(" ")));
        }
    }
    best
}

/// mountinfo's octal escapes (`\040` for a space).
fn unescape(field: &str) -> String {
    let bytes = field.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\\' && i + 4 <= bytes.len() {
            if let Some(v) = std::str::from_utf8(&bytes[i + 1..i + 4])
                .ok()
                .and_then(|o| u8::from_str_radix(o, 8).ok())
            {
                out.push(v);
                i += 4;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    const INFO: &str = "\
22 1 0:21 / / rw,relatime shared:1 - ext4 /dev/sda1 rw
30 22 0:25 / /tmp rw - tmpfs tmpfs rw
31 22 0:26 / /mnt/a\\040b rw shared:7 master:3 - tmpfs tmpfs rw
";

    #[test]
    fn the_longest_parent_mount_holds_the_path() {
        let (mp, opt) = source_mount(INFO, Path::new("/tmp/x")).unwrap();
        assert_eq!(mp, Path::new("/tmp"));
        assert_eq!(opt, "");
        let (mp, opt) = source_mount(INFO, Path::new("/srv/x")).unwrap();
        assert_eq!(mp, Path::new("/"));
        assert_eq!(opt, "shared:1");
        let (mp, opt) = source_mount(INFO, Path::new("/mnt/a b/c")).unwrap();
        assert_eq!(mp, Path::new("/mnt/a b"));
        assert_eq!(opt, "shared:7 master:3");
        // A prefix that is not a parent directory does not count.
        let (mp, _) = source_mount(INFO, Path::new("/tmpfoo")).unwrap();
        assert_eq!(mp, Path::new("/"));
    }
}
