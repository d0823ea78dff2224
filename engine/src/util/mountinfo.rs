//! /proc/self/mountinfo: which mount holds a path and how it propagates. The engine checks bind
//! propagation against it, the container init finds the mount its rootfs sits on, the builder
//! finds its scratch mounts.

use std::path::{Path, PathBuf};

/// The mount point holding `path` (the longest mount point that is a parent of it; the last
/// one mounted there wins) and its optional fields ("shared:1 master:2").
pub fn mount_of(mountinfo: &str, path: &Path) -> Option<(PathBuf, String)> {
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
pub fn unescape(field: &str) -> String {
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
        let (mp, opt) = mount_of(INFO, Path::new("/tmp/x")).unwrap();
        assert_eq!(mp, Path::new("/tmp"));
        assert_eq!(opt, "");
        let (mp, opt) = mount_of(INFO, Path::new("/srv/x")).unwrap();
        assert_eq!(mp, Path::new("/"));
        assert_eq!(opt, "shared:1");
        let (mp, opt) = mount_of(INFO, Path::new("/mnt/a b/c")).unwrap();
        assert_eq!(mp, Path::new("/mnt/a b"));
        assert_eq!(opt, "shared:7 master:3");
        // A prefix that is not a parent directory does not count.
        let (mp, _) = mount_of(INFO, Path::new("/tmpfoo")).unwrap();
        assert_eq!(mp, Path::new("/"));
    }
}
