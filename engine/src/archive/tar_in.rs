//! Extracting an uploaded tar into a directory of a container (`PUT /archive`).
//!
//! Everything happens relative to the destination directory's fd, which was resolved inside the
//! container root: entry names are cleaned (a `..` that climbs above the destination rejects the
//! upload, absolute names become relative), parent directories are walked one component at a time
//! with O_NOFOLLOW|O_DIRECTORY (a symlink planted by the tar or present in the container is never
//! followed while writing), final names are created with O_EXCL|O_NOFOLLOW after removing what was
//! there, and hard links may only point at regular files inside the destination.

use std::ffi::{CStr, CString};
use std::fs::File;
use std::io::{self, Read};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

use tar::EntryType;

use super::fstatat_nofollow;
use crate::error::{EngineError, Result};
use crate::image::extract::{clean_components, special_file};

#[derive(Debug, Clone, Default)]
pub struct ExtractOptions {
    /// Refuse to replace a directory with a non-directory or the reverse (docker's
    /// noOverwriteDirNonDir).
    pub no_overwrite_dir_non_dir: bool,
    /// Owner for every entry instead of the tar's (docker's copyUIDGID with a container User).
    pub chown: Option<(u32, u32)>,
}

/// Extract `reader` into the directory `dest` (an fd opened O_RDONLY|O_DIRECTORY).
pub fn extract<R: Read>(reader: R, dest: &OwnedFd, opts: &ExtractOptions) -> Result<u64> {
    let mut archive = tar::Archive::new(reader);
    let mut dirs: Vec<(Vec<Vec<u8>>, i64)> = Vec::new();
    let mut count = 0u64;
    let entries = archive.entries().map_err(bad_tar)?;
    for entry in entries {
        let mut entry = entry.map_err(bad_tar)?;
        let raw = entry.path_bytes().into_owned();
        let kind = entry.header().entry_type();
        if matches!(kind, EntryType::XGlobalHeader | EntryType::XHeader) {
            continue;
        }
        let comps =
            clean_components(&raw).map_err(|_| hostile(&raw, "path escapes the destination"))?;
        let h = entry.header();
        let mode = h.mode().unwrap_or(0o644) & 0o7777;
        let (uid, gid) = opts
            .chown
            .unwrap_or((h.uid().unwrap_or(0) as u32, h.gid().unwrap_or(0) as u32));
        let mtime = h.mtime().unwrap_or(0) as i64;
        let Some((name, parents)) = comps.split_last() else {
            // "." itself: the destination directory's own metadata.
            if kind == EntryType::Directory {
                let _ = fchown_mode(dest.as_raw_fd(), uid, gid, mode);
            }
            continue;
        };
        let parent = open_parent(dest, parents, &raw)?;
        let name_c = CString::new(name.clone()).map_err(|_| hostile(&raw, "NUL byte in name"))?;
        let existing = fstatat_nofollow(parent.as_raw_fd(), &name_c).ok();
        let existing_dir = existing.is_some_and(|st| st.st_mode & libc::S_IFMT == libc::S_IFDIR);
        if let Some(_st) = existing {
            let new_dir = kind == EntryType::Directory;
            if opts.no_overwrite_dir_non_dir && existing_dir != new_dir {
                let shown = String::from_utf8_lossy(&raw);
                return Err(EngineError::invalid(if existing_dir {
                    format!("cannot overwrite directory {shown:?} with non-directory")
                } else {
                    format!("cannot overwrite non-directory {shown:?} with directory")
                }));
            }
            if !(existing_dir && new_dir) {
                remove(&parent, &name_c, existing_dir, &raw)?;
            }
        }
        let p = parent.as_raw_fd();
        match kind {
            EntryType::Directory => {
                if !existing_dir {
                    check(
                        unsafe { libc::mkdirat(p, name_c.as_ptr(), 0o700) },
                        &raw,
                        "mkdir",
                    )?;
                }
                let fd = openat(
                    p,
                    &name_c,
                    libc::O_RDONLY | libc::O_DIRECTORY | libc::O_NOFOLLOW,
                )
                .map_err(|e| io_err(e, &raw, "opening"))?;
                fchown_mode(fd.as_raw_fd(), uid, gid, mode)
                    .map_err(|e| io_err(e, &raw, "chown"))?;
                dirs.push((comps.clone(), mtime));
            }
            EntryType::Regular | EntryType::Continuous | EntryType::GNUSparse => {
                let fd = openat(
                    p,
                    &name_c,
                    libc::O_WRONLY | libc::O_CREAT | libc::O_EXCL | libc::O_NOFOLLOW,
                )
                .map_err(|e| io_err(e, &raw, "creating"))?;
                let mut f = File::from(fd);
                io::copy(&mut entry, &mut f).map_err(|e| match e.raw_os_error() {
                    Some(_) => io_err(e, &raw, "writing"),
                    None => bad_tar(e),
                })?;
                fchown_mode(f.as_raw_fd(), uid, gid, mode).map_err(|e| io_err(e, &raw, "chown"))?;
                set_times(p, &name_c, mtime);
            }
            EntryType::Symlink => {
                let target = entry
                    .link_name_bytes()
                    .map(|t| t.into_owned())
                    .unwrap_or_default();
                if target.is_empty() {
                    return Err(hostile(&raw, "symlink without a target"));
                }
                let t = CString::new(target).map_err(|_| hostile(&raw, "NUL byte in link"))?;
                // Stored as data; nothing here ever resolves it.
                check(
                    unsafe { libc::symlinkat(t.as_ptr(), p, name_c.as_ptr()) },
                    &raw,
                    "symlink",
                )?;
                lchown(p, &name_c, uid, gid, &raw)?;
                set_times(p, &name_c, mtime);
            }
            EntryType::Link => {
                let target = entry
                    .link_name_bytes()
                    .map(|t| t.into_owned())
                    .unwrap_or_default();
                let tcomps = clean_components(&target)
                    .map_err(|_| hostile(&raw, "hard link target escapes the destination"))?;
                let Some((tname, tparents)) = tcomps.split_last() else {
                    return Err(hostile(&raw, "hard link to the destination itself"));
                };
                let tparent = walk(dest, tparents, false)
                    .map_err(|_| hostile(&raw, "hard link target is not inside the destination"))?;
                let tname_c = CString::new(tname.clone()).map_err(|_| hostile(&raw, "NUL byte"))?;
                let tst = fstatat_nofollow(tparent.as_raw_fd(), &tname_c)
                    .map_err(|_| hostile(&raw, "hard link target does not exist"))?;
                if tst.st_mode & libc::S_IFMT != libc::S_IFREG {
                    return Err(hostile(&raw, "hard link target is not a regular file"));
                }
                // flags 0: never follows a symlink at the target.
                check(
                    unsafe {
                        libc::linkat(tparent.as_raw_fd(), tname_c.as_ptr(), p, name_c.as_ptr(), 0)
                    },
                    &raw,
                    "hard link",
                )?;
            }
            EntryType::Char | EntryType::Block | EntryType::Fifo => {
                let (fmt, dev) = special_file(entry.header(), kind);
                check(
                    unsafe { libc::mknodat(p, name_c.as_ptr(), fmt | mode, dev) },
                    &raw,
                    "mknod",
                )?;
                lchown(p, &name_c, uid, gid, &raw)?;
                check(
                    unsafe { libc::fchmodat(p, name_c.as_ptr(), mode, 0) },
                    &raw,
                    "chmod",
                )?;
                set_times(p, &name_c, mtime);
            }
            other => {
                tracing::debug!(path = %String::from_utf8_lossy(&raw), kind = ?other, "skipping tar entry");
                continue;
            }
        }
        count += 1;
    }
    // Directory mtimes last (creating children changes them), deepest first.
    for (comps, mtime) in dirs.iter().rev() {
        if let Some((name, parents)) = comps.split_last() {
            if let (Ok(parent), Ok(c)) = (walk(dest, parents, false), CString::new(name.clone())) {
                set_times(parent.as_raw_fd(), &c, *mtime);
            }
        }
    }
    Ok(count)
}

fn bad_tar(e: io::Error) -> EngineError {
    EngineError::invalid(format!("invalid tar archive: {e}"))
}

fn hostile(raw: &[u8], why: &str) -> EngineError {
    EngineError::invalid(format!(
        "refusing tar entry {:?}: {why}",
        String::from_utf8_lossy(raw)
    ))
}

fn io_err(e: io::Error, raw: &[u8], what: &str) -> EngineError {
    let shown = String::from_utf8_lossy(raw);
    match e.raw_os_error() {
        Some(libc::EROFS) => {
            EngineError::invalid("container rootfs is marked read-only".to_string())
        }
        Some(libc::ELOOP) | Some(libc::ENOTDIR) => hostile(
            raw,
            "a parent path component is a symlink or not a directory",
        ),
        Some(libc::ENOSPC) => EngineError::Io {
            context: format!("{what} {shown:?}"),
            source: e,
        },
        _ => EngineError::Io {
            context: format!("{what} {shown:?}"),
            source: e,
        },
    }
}

fn check(rc: libc::c_int, raw: &[u8], what: &str) -> Result<()> {
    if rc != 0 {
        return Err(io_err(io::Error::last_os_error(), raw, what));
    }
    Ok(())
}

fn openat(dir: RawFd, name: &CStr, flags: i32) -> io::Result<OwnedFd> {
    // SAFETY: valid fd and NUL-terminated name.
    let fd = unsafe { libc::openat(dir, name.as_ptr(), flags | libc::O_CLOEXEC, 0o600) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: the kernel returned a new fd.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Walk `comps` below `root` without following symlinks, creating missing directories (0755).
fn walk(root: &OwnedFd, comps: &[Vec<u8>], create: bool) -> io::Result<OwnedFd> {
    let mut cur = root.try_clone()?;
    for comp in comps {
        let c = CString::new(comp.clone()).map_err(|_| io::ErrorKind::InvalidInput)?;
        let flags = libc::O_RDONLY | libc::O_DIRECTORY | libc::O_NOFOLLOW;
        cur = match openat(cur.as_raw_fd(), &c, flags) {
            Ok(fd) => fd,
            Err(e) if create && e.raw_os_error() == Some(libc::ENOENT) => {
                // SAFETY: valid fd and name.
                if unsafe { libc::mkdirat(cur.as_raw_fd(), c.as_ptr(), 0o755) } != 0 {
                    let e = io::Error::last_os_error();
                    if e.raw_os_error() != Some(libc::EEXIST) {
                        return Err(e);
                    }
                }
                openat(cur.as_raw_fd(), &c, flags)?
            }
            Err(e) => return Err(e),
        };
    }
    Ok(cur)
}

fn open_parent(dest: &OwnedFd, parents: &[Vec<u8>], raw: &[u8]) -> Result<OwnedFd> {
    walk(dest, parents, true).map_err(|e| io_err(e, raw, "opening parent of"))
}

/// Remove `name`: a directory recursively (by fd, never following symlinks), else unlink.
fn remove(dir: &OwnedFd, name: &CStr, is_dir: bool, raw: &[u8]) -> Result<()> {
    if is_dir {
        let fd = openat(
            dir.as_raw_fd(),
            name,
            libc::O_RDONLY | libc::O_DIRECTORY | libc::O_NOFOLLOW,
        )
        .map_err(|e| io_err(e, raw, "opening"))?;
        remove_contents(&fd).map_err(|e| io_err(e, raw, "replacing directory"))?;
        check(
            unsafe { libc::unlinkat(dir.as_raw_fd(), name.as_ptr(), libc::AT_REMOVEDIR) },
            raw,
            "replacing directory",
        )
    } else {
        check(
            unsafe { libc::unlinkat(dir.as_raw_fd(), name.as_ptr(), 0) },
            raw,
            "replacing",
        )
    }
}

fn remove_contents(fd: &OwnedFd) -> io::Result<()> {
    for child in super::tar_out::list_dir(fd)? {
        let st = fstatat_nofollow(fd.as_raw_fd(), &child).map_err(io::Error::from)?;
        if st.st_mode & libc::S_IFMT == libc::S_IFDIR {
            let sub = openat(
                fd.as_raw_fd(),
                &child,
                libc::O_RDONLY | libc::O_DIRECTORY | libc::O_NOFOLLOW,
            )?;
            remove_contents(&sub)?;
            // SAFETY: valid fd and name.
            if unsafe { libc::unlinkat(fd.as_raw_fd(), child.as_ptr(), libc::AT_REMOVEDIR) } != 0 {
                return Err(io::Error::last_os_error());
            }
        } else if unsafe { libc::unlinkat(fd.as_raw_fd(), child.as_ptr(), 0) } != 0 {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(())
}

/// Ownership first, then mode (chown clears setuid bits).
fn fchown_mode(fd: RawFd, uid: u32, gid: u32, mode: u32) -> io::Result<()> {
    // SAFETY: valid fd.
    if unsafe { libc::fchown(fd, uid, gid) } != 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: valid fd.
    if unsafe { libc::fchmod(fd, mode) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

fn lchown(dir: RawFd, name: &CStr, uid: u32, gid: u32, raw: &[u8]) -> Result<()> {
    check(
        unsafe { libc::fchownat(dir, name.as_ptr(), uid, gid, libc::AT_SYMLINK_NOFOLLOW) },
        raw,
        "lchown",
    )
}

fn set_times(dir: RawFd, name: &CStr, mtime: i64) {
    let ts = libc::timespec {
        tv_sec: mtime as libc::time_t,
        tv_nsec: 0,
    };
    let times = [ts, ts];
    // SAFETY: valid fd, name and two timespecs. Best effort, as docker's untar.
    unsafe {
        libc::utimensat(
            dir,
            name.as_ptr(),
            times.as_ptr(),
            libc::AT_SYMLINK_NOFOLLOW,
        )
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tar_of(entries: &[(&str, EntryType, &str)]) -> Vec<u8> {
        let mut b = tar::Builder::new(Vec::new());
        for (name, kind, data) in entries {
            let mut h = tar::Header::new_gnu();
            h.set_entry_type(*kind);
            h.set_mode(0o640);
            h.set_uid(1234);
            h.set_gid(5678);
            match kind {
                EntryType::Symlink | EntryType::Link => {
                    h.set_size(0);
                    b.append_link(&mut h, name, data).unwrap();
                }
                _ => {
                    h.set_size(data.len() as u64);
                    // Raw names: append_data would refuse "..".
                    let bytes = name.as_bytes();
                    h.as_old_mut().name[..bytes.len()].copy_from_slice(bytes);
                    h.set_cksum();
                    b.append(&h, data.as_bytes()).unwrap();
                }
            }
        }
        b.into_inner().unwrap()
    }

    fn dest(dir: &std::path::Path) -> OwnedFd {
        OwnedFd::from(File::open(dir).unwrap())
    }

    #[test]
    fn extracts_with_owner_and_mode() {
        use std::os::unix::fs::MetadataExt;
        let d = tempfile::tempdir().unwrap();
        let t = tar_of(&[
            ("a/", EntryType::Directory, ""),
            ("a/f", EntryType::Regular, "hello"),
            ("a/l", EntryType::Link, "a/f"),
        ]);
        extract(&t[..], &dest(d.path()), &ExtractOptions::default()).unwrap();
        let m = std::fs::metadata(d.path().join("a/f")).unwrap();
        assert_eq!((m.uid(), m.gid(), m.mode() & 0o7777), (1234, 5678, 0o640));
        assert_eq!(std::fs::read(d.path().join("a/l")).unwrap(), b"hello");
        let opts = ExtractOptions {
            chown: Some((7, 8)),
            ..Default::default()
        };
        extract(&t[..], &dest(d.path()), &opts).unwrap();
        let m = std::fs::metadata(d.path().join("a/f")).unwrap();
        assert_eq!((m.uid(), m.gid()), (7, 8));
    }

    #[test]
    fn refuses_escapes() {
        let d = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        let o = outside.path().display().to_string();
        // ".." above the destination.
        let t = tar_of(&[("../evil", EntryType::Regular, "x")]);
        assert!(extract(&t[..], &dest(d.path()), &ExtractOptions::default()).is_err());
        // A symlink to the outside, then a write through it.
        let t = tar_of(&[
            ("s", EntryType::Symlink, o.as_str()),
            ("s/pwned", EntryType::Regular, "x"),
        ]);
        assert!(extract(&t[..], &dest(d.path()), &ExtractOptions::default()).is_err());
        // A hard link to a host file.
        let host = format!("{o}/hostfile");
        std::fs::write(&host, "secret").unwrap();
        let t = tar_of(&[("h", EntryType::Link, host.as_str())]);
        assert!(extract(&t[..], &dest(d.path()), &ExtractOptions::default()).is_err());
        assert_eq!(std::fs::read_dir(outside.path()).unwrap().count(), 1);
        // noOverwriteDirNonDir.
        std::fs::create_dir(d.path().join("dir")).unwrap();
        let t = tar_of(&[("dir", EntryType::Regular, "x")]);
        let opts = ExtractOptions {
            no_overwrite_dir_non_dir: true,
            chown: None,
        };
        let e = extract(&t[..], &dest(d.path()), &opts).unwrap_err();
        assert!(e.to_string().contains("cannot overwrite directory"), "{e}");
        extract(&t[..], &dest(d.path()), &ExtractOptions::default()).unwrap();
        assert!(d.path().join("dir").is_file());
    }
}
