//! `GET /containers/{id}/changes`: what the container changed, from its overlay upper dir.
//!
//! Docker's rules: an upper entry absent from every lower layer is Added (1), present is Modified
//! (0), an overlay whiteout (char device 0/0) is Deleted (2); the parent directory of an added or
//! deleted entry is reported Modified; a directory merely copied up (same mode, nothing changed
//! beneath it) is not reported. An opaque directory (trusted.overlay.opaque=y) hides everything
//! the lower layers had below it: those entries are reported Deleted. The engine's own mount
//! targets (empty /proc, /sys, /dev and /etc/hosts-style files it creates for a start) are left
//! out, as docker keeps them in a separate init layer.

use std::ffi::{CStr, CString};
use std::io;
use std::os::fd::{AsRawFd, OwnedFd};
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::fs_at::beneath::walk_dirs;
use crate::fs_at::{fstatat_nofollow, is_whiteout_stat, list_dir, open_dir_at, open_dir_path};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Change {
    #[serde(rename = "Path")]
    pub path: String,
    #[serde(rename = "Kind")]
    pub kind: u8,
}

pub const MODIFIED: u8 = 0;
pub const ADDED: u8 = 1;
pub const DELETED: u8 = 2;

/// Mount targets the engine creates itself (docker's init layer has them): reported only when
/// the container put content there, and then as modified, since they exist below it in docker.
const ENGINE_DIRS: &[&str] = &[
    "/etc",
    "/proc",
    "/sys",
    "/dev",
    "/dev/pts",
    "/dev/shm",
    "/dev/mqueue",
];
const ENGINE_FILES: &[&str] = &["/etc/hosts", "/etc/hostname", "/etc/resolv.conf"];

/// The changes of `upper` over `lowers` (top first), sorted by path.
pub fn changes(upper: &Path, lowers: &[PathBuf]) -> io::Result<Vec<Change>> {
    let root = open_dir_path(upper)?;
    let lower_fds: Vec<OwnedFd> = lowers
        .iter()
        .filter_map(|l| open_dir_path(l).ok())
        .collect();
    let mut out = Vec::new();
    walk(&root, "", &lower_fds, &mut out)?;
    out.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(out)
}

/// Walk the upper directory `dir` (container path `path`, "" for the root); returns whether
/// anything beneath it was reported.
fn walk(dir: &OwnedFd, path: &str, lowers: &[OwnedFd], out: &mut Vec<Change>) -> io::Result<bool> {
    let mut reported = false;
    for name in list_dir(dir)? {
        let st = match fstatat_nofollow(dir, &name) {
            Ok(st) => st,
            Err(_) => continue,
        };
        let child = format!("{path}/{}", String::from_utf8_lossy(name.to_bytes()));
        let fmt = st.st_mode & libc::S_IFMT;
        if is_whiteout_stat(&st) {
            out.push(Change {
                path: child,
                kind: DELETED,
            });
            reported = true;
            continue;
        }
        let lower = lower_stat(lowers, &child);
        if fmt == libc::S_IFDIR {
            let sub = open_dir_at(dir, &name)?;
            let opaque = is_opaque(&sub);
            let mut below = walk(&sub, &child, lowers, out)?;
            if opaque {
                // Whatever the lowers had below an opaque directory is gone.
                if let Some(lower_dir) = lower.filter(|l| l.st_mode & libc::S_IFMT == libc::S_IFDIR)
                {
                    let _ = lower_dir;
                    for gone in lower_children(lowers, &child) {
                        let p = format!("{child}/{gone}");
                        if fstatat_nofollow(&sub, &cstr(&gone)).is_err() {
                            out.push(Change {
                                path: p,
                                kind: DELETED,
                            });
                            below = true;
                        }
                    }
                }
            }
            match lower {
                None => {
                    let engine_dir = ENGINE_DIRS.contains(&child.as_str());
                    if engine_dir && !below {
                        continue;
                    }
                    out.push(Change {
                        path: child,
                        kind: if engine_dir { MODIFIED } else { ADDED },
                    });
                    reported = true;
                }
                Some(l) => {
                    let same = l.st_mode & libc::S_IFMT == libc::S_IFDIR
                        && l.st_mode == st.st_mode
                        && l.st_uid == st.st_uid
                        && l.st_gid == st.st_gid;
                    if below || !same {
                        out.push(Change {
                            path: child,
                            kind: MODIFIED,
                        });
                        reported = true;
                    }
                }
            }
            reported |= below;
            continue;
        }
        if lower.is_none()
            && fmt == libc::S_IFREG
            && st.st_size == 0
            && ENGINE_FILES.contains(&child.as_str())
        {
            continue;
        }
        out.push(Change {
            path: child,
            kind: if lower.is_some() { MODIFIED } else { ADDED },
        });
        reported = true;
    }
    Ok(reported)
}

fn cstr(s: &str) -> CString {
    CString::new(s).unwrap_or_default()
}

/// lstat of `path` in the top-most lower layer that has it (walked without following symlinks).
fn lower_stat(lowers: &[OwnedFd], path: &str) -> Option<libc::stat> {
    let comps: Vec<&str> = path.split('/').filter(|c| !c.is_empty()).collect();
    let (name, parents) = comps.split_last()?;
    for l in lowers {
        let Ok(parent) = walk_dirs(l, parents, false) else {
            continue;
        };
        if let Ok(st) = fstatat_nofollow(&parent, &cstr(name)) {
            // A whiteout in a lower layer means absent below it.
            if is_whiteout_stat(&st) {
                return None;
            }
            return Some(st);
        }
    }
    None
}

/// Names below `path` in the lower layers (union, without whiteouts).
fn lower_children(lowers: &[OwnedFd], path: &str) -> Vec<String> {
    let comps: Vec<&str> = path.split('/').filter(|c| !c.is_empty()).collect();
    let mut names = std::collections::BTreeSet::new();
    for l in lowers {
        if let Ok(d) = walk_dirs(l, &comps, false) {
            for n in list_dir(&d).unwrap_or_default() {
                if let Ok(st) = fstatat_nofollow(&d, &n) {
                    if !is_whiteout_stat(&st) {
                        names.insert(String::from_utf8_lossy(n.to_bytes()).into_owned());
                    }
                }
            }
            if is_opaque(&d) {
                break;
            }
        }
    }
    names.into_iter().collect()
}

fn is_opaque(fd: &OwnedFd) -> bool {
    let mut buf = [0u8; 4];
    let name: &CStr = c"trusted.overlay.opaque";
    // SAFETY: valid fd, NUL-terminated name and buffer.
    let n = unsafe {
        libc::fgetxattr(
            fd.as_raw_fd(),
            name.as_ptr(),
            buf.as_mut_ptr().cast(),
            buf.len(),
        )
    };
    n == 1 && buf[0] == b'y'
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn added_modified_deleted_and_opaque() {
        let lower = tempfile::tempdir().unwrap();
        let upper = tempfile::tempdir().unwrap();
        let l = lower.path();
        let u = upper.path();
        for d in ["etc", "usr/lib", "var/old", "proc"] {
            std::fs::create_dir_all(l.join(d)).unwrap();
        }
        std::fs::write(l.join("etc/passwd"), "root").unwrap();
        std::fs::write(l.join("var/old/a"), "a").unwrap();
        std::fs::write(l.join("usr/lib/gone"), "g").unwrap();
        // Upper: modify /etc/passwd, add /etc/new, delete /usr/lib/gone, opaque /var/old.
        std::fs::create_dir_all(u.join("etc")).unwrap();
        std::fs::write(u.join("etc/passwd"), "root2").unwrap();
        std::fs::write(u.join("etc/new"), "n").unwrap();
        std::fs::create_dir_all(u.join("usr/lib")).unwrap();
        nix::sys::stat::mknod(
            &u.join("usr/lib/gone"),
            nix::sys::stat::SFlag::S_IFCHR,
            nix::sys::stat::Mode::empty(),
            0,
        )
        .unwrap();
        std::fs::create_dir_all(u.join("var/old")).unwrap();
        std::fs::write(u.join("var/old/b"), "b").unwrap();
        xattr_opaque(&u.join("var/old"));
        // Engine mount targets stay out.
        std::fs::create_dir(u.join("sys")).unwrap();
        std::fs::write(u.join("etc/hosts"), "").unwrap();
        let got = changes(u, &[l.to_path_buf()]).unwrap();
        let shown: Vec<String> = got
            .iter()
            .map(|c| format!("{} {}", c.kind, c.path))
            .collect();
        assert_eq!(
            shown,
            [
                "0 /etc",
                "1 /etc/new",
                "0 /etc/passwd",
                "0 /usr",
                "0 /usr/lib",
                "2 /usr/lib/gone",
                "0 /var",
                "0 /var/old",
                "2 /var/old/a",
                "1 /var/old/b",
            ]
        );
    }

    /// An image without /etc (a bare busybox): the /etc the engine makes for /etc/hosts is
    /// docker's init layer, so it is not an addition of the container's.
    #[test]
    fn etc_made_by_the_engine_is_not_the_containers() {
        let lower = tempfile::tempdir().unwrap();
        let upper = tempfile::tempdir().unwrap();
        std::fs::create_dir(lower.path().join("bin")).unwrap();
        let u = upper.path();
        std::fs::create_dir(u.join("etc")).unwrap();
        for f in ["hosts", "hostname", "resolv.conf"] {
            std::fs::write(u.join("etc").join(f), "").unwrap();
        }
        assert_eq!(changes(u, &[lower.path().to_path_buf()]).unwrap(), vec![]);
        std::fs::write(u.join("etc/app.conf"), "x").unwrap();
        let shown: Vec<String> = changes(u, &[lower.path().to_path_buf()])
            .unwrap()
            .iter()
            .map(|c| format!("{} {}", c.kind, c.path))
            .collect();
        assert_eq!(shown, ["0 /etc", "1 /etc/app.conf"]);
    }

    fn xattr_opaque(p: &Path) {
        let c = CString::new(p.as_os_str().as_encoded_bytes()).unwrap();
        let name = c"trusted.overlay.opaque";
        let r = unsafe { libc::setxattr(c.as_ptr(), name.as_ptr(), b"y".as_ptr().cast(), 1, 0) };
        assert_eq!(r, 0, "setxattr: {}", io::Error::last_os_error());
    }
}
