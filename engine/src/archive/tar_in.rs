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
use std::os::fd::{AsFd, OwnedFd};

use tar::EntryType;

use crate::error::{EngineError, Result};
use crate::fs_at::beneath::{clean_components, walk_dirs};
use crate::fs_at::remove::remove_at;
use crate::fs_at::{
    fchmodat, fchown_mode, fstatat_nofollow, is_dir_stat, lchownat, linkat, mkdirat, mknodat,
    open_dir_at, openat, set_times_at, symlinkat,
};
use crate::image::extract::special_file;

#[derive(Debug, Clone, Default)]
pub struct ExtractOptions {
    /// Refuse to replace a directory with a non-directory or the reverse (docker's
    /// noOverwriteDirNonDir).
    pub no_overwrite_dir_non_dir: bool,
    /// Owner for every entry instead of the tar's (docker's copyUIDGID with a container User).
    pub chown: Option<(u32, u32)>,
    /// Take a stream that stops right after an entry's data (no padding, no end-of-archive
    /// blocks) as complete, as Go's archive/tar does: the docker CLI sends build contexts like
    /// that when it adds a Dockerfile from stdin (`docker build -f - DIR`).
    pub lenient_end: bool,
}

/// Extract `reader` into the directory `dest` (an fd opened O_RDONLY|O_DIRECTORY).
pub fn extract<R: Read>(reader: R, dest: &OwnedFd, opts: &ExtractOptions) -> Result<u64> {
    let mut archive = tar::Archive::new(reader);
    let mut dirs: Vec<(Vec<Vec<u8>>, i64)> = Vec::new();
    let mut count = 0u64;
    let entries = archive.entries().map_err(bad_tar)?;
    for entry in entries {
        let mut entry = match entry {
            Ok(e) => e,
            // The previous entry was read in full; only its padding is missing.
            Err(e)
                if opts.lenient_end
                    && count > 0
                    && e.to_string().contains("unexpected EOF during skip") =>
            {
                break;
            }
            Err(e) => return Err(bad_tar(e)),
        };
        let raw = entry.path_bytes().into_owned();
        let kind = entry.header().entry_type();
        if matches!(kind, EntryType::XGlobalHeader | EntryType::XHeader) {
            continue;
        }
        let comps =
            clean_components(&raw).ok_or_else(|| hostile(&raw, "path escapes the destination"))?;
        let h = entry.header();
        let mode = h.mode().unwrap_or(0o644) & 0o7777;
        let (uid, gid) = opts
            .chown
            .unwrap_or((h.uid().unwrap_or(0) as u32, h.gid().unwrap_or(0) as u32));
        let mtime = h.mtime().unwrap_or(0) as i64;
        let Some((name, parents)) = comps.split_last() else {
            // "." itself: the destination directory's own metadata.
            if kind == EntryType::Directory {
                let _ = fchown_mode(dest, uid, gid, mode);
            }
            continue;
        };
        let parent = open_parent(dest, parents, &raw)?;
        let name_c = CString::new(name.clone()).map_err(|_| hostile(&raw, "NUL byte in name"))?;
        let existing = fstatat_nofollow(&parent, &name_c).ok();
        let existing_dir = existing.is_some_and(|st| is_dir_stat(&st));
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
        let p = parent.as_fd();
        match kind {
            EntryType::Directory => {
                if !existing_dir {
                    mkdirat(p, &name_c, 0o700).map_err(|e| io_err(e, &raw, "mkdir"))?;
                }
                let fd = open_dir_at(p, &name_c).map_err(|e| io_err(e, &raw, "opening"))?;
                fchown_mode(&fd, uid, gid, mode).map_err(|e| io_err(e, &raw, "chown"))?;
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
                fchown_mode(&f, uid, gid, mode).map_err(|e| io_err(e, &raw, "chown"))?;
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
                symlinkat(&t, p, &name_c).map_err(|e| io_err(e, &raw, "symlink"))?;
                lchownat(p, &name_c, uid, gid).map_err(|e| io_err(e, &raw, "lchown"))?;
                set_times(p, &name_c, mtime);
            }
            EntryType::Link => {
                let target = entry
                    .link_name_bytes()
                    .map(|t| t.into_owned())
                    .unwrap_or_default();
                let tcomps = clean_components(&target)
                    .ok_or_else(|| hostile(&raw, "hard link target escapes the destination"))?;
                let Some((tname, tparents)) = tcomps.split_last() else {
                    return Err(hostile(&raw, "hard link to the destination itself"));
                };
                let tparent = walk_dirs(dest, tparents, false)
                    .map_err(|_| hostile(&raw, "hard link target is not inside the destination"))?;
                let tname_c = CString::new(tname.clone()).map_err(|_| hostile(&raw, "NUL byte"))?;
                let tst = fstatat_nofollow(&tparent, &tname_c)
                    .map_err(|_| hostile(&raw, "hard link target does not exist"))?;
                if tst.st_mode & libc::S_IFMT != libc::S_IFREG {
                    return Err(hostile(&raw, "hard link target is not a regular file"));
                }
                // Never follows a symlink at the target.
                linkat(&tparent, &tname_c, p, &name_c).map_err(|e| io_err(e, &raw, "hard link"))?;
            }
            EntryType::Char | EntryType::Block | EntryType::Fifo => {
                let (fmt, dev) = special_file(entry.header(), kind);
                mknodat(p, &name_c, fmt | mode, dev).map_err(|e| io_err(e, &raw, "mknod"))?;
                lchownat(p, &name_c, uid, gid).map_err(|e| io_err(e, &raw, "lchown"))?;
                fchmodat(p, &name_c, mode).map_err(|e| io_err(e, &raw, "chmod"))?;
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
            if let (Ok(parent), Ok(c)) =
                (walk_dirs(dest, parents, false), CString::new(name.clone()))
            {
                set_times(&parent, &c, *mtime);
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

/// The parent directory of an entry below `dest`, created as needed, walked without following
/// symlinks.
fn open_parent(dest: &OwnedFd, parents: &[Vec<u8>], raw: &[u8]) -> Result<OwnedFd> {
    walk_dirs(dest, parents, true).map_err(|e| io_err(e.into(), raw, "opening parent of"))
}

/// Remove `name`: a directory recursively (by fd, never following symlinks), else unlink.
fn remove(dir: &OwnedFd, name: &CStr, is_dir: bool, raw: &[u8]) -> Result<()> {
    remove_at(dir, name, is_dir).map_err(|e| {
        let what = if is_dir {
            "replacing directory"
        } else {
            "replacing"
        };
        io_err(e, raw, what)
    })
}

/// Best effort, as docker's untar.
fn set_times(dir: impl AsFd, name: &CStr, mtime: i64) {
    let _ = set_times_at(dir, name, mtime);
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
            ..Default::default()
        };
        let e = extract(&t[..], &dest(d.path()), &opts).unwrap_err();
        assert!(e.to_string().contains("cannot overwrite directory"), "{e}");
        // A stream cut right after an entry's data: an error, unless lenient_end (Go's reading).
        let d2 = tempfile::tempdir().unwrap();
        let full = tar_of(&[("f", EntryType::Regular, "abc")]);
        let cut = &full[..512 + 3];
        assert!(extract(cut, &dest(d2.path()), &ExtractOptions::default()).is_err());
        let lenient = ExtractOptions {
            lenient_end: true,
            ..Default::default()
        };
        assert_eq!(extract(cut, &dest(d2.path()), &lenient).unwrap(), 1);
        assert_eq!(std::fs::read(d2.path().join("f")).unwrap(), b"abc");
        extract(&t[..], &dest(d.path()), &ExtractOptions::default()).unwrap();
        assert!(d.path().join("dir").is_file());
    }
}
