//! Safe extraction of an untrusted layer tar into a layer directory.
//!
//! Never `Archive::unpack`: every entry is written by hand relative to the layer directory opened as
//! a dirfd. Parents are walked one component at a time with `O_NOFOLLOW|O_DIRECTORY`, so a symlink
//! (planted earlier in the same tar) is never followed while creating parents or writing a file;
//! final components are created with `O_EXCL|O_NOFOLLOW` after removing whatever was there. `..` that
//! would climb above the layer root rejects the layer; absolute names become relative (as docker
//! does); hard links may only point at earlier non-directory entries of this layer. Whiteouts become
//! overlayfs whiteouts (char device 0/0) and opaque markers (`trusted.overlay.opaque=y`).
//!
//! The layer's diff_id (sha256 of the uncompressed tar) is computed while extracting, and the tar
//! bytes can be teed into a writer (the blob) in the same pass.

use std::cell::Cell;
use std::collections::HashSet;
use std::ffi::{CStr, CString};
use std::fs::File;
use std::io::{self, Read, Write};
use std::os::fd::OwnedFd;
use std::path::Path;
use std::rc::Rc;

use tar::EntryType;

mod reader;

use reader::{BudgetReader, HeaderBudget};
pub use reader::{HashingReader, MAX_ENTRY_HEADER_BYTES};

use crate::error::{EngineError, IoContext, Result};
use crate::fs_at::beneath::{clean_components, walk_dirs};
use crate::fs_at::remove::remove_at;
use crate::fs_at::{
    fchmodat, fchown_mode, fstatat_nofollow, is_dir_stat, lchownat, linkat, mkdirat, mknodat,
    open_dir_at, open_dir_path, openat, set_times_at, set_times_fd, set_xattr, symlinkat,
};

const WHITEOUT_PREFIX: &[u8] = b".wh.";
const WHITEOUT_META_PREFIX: &[u8] = b".wh..wh.";
const WHITEOUT_OPAQUE: &[u8] = b".wh..wh..opq";
const OPAQUE_XATTR: &CStr = c"trusted.overlay.opaque";

/// What extracting a layer measured.
#[derive(Debug, Clone)]
pub struct LayerStats {
    /// "sha256:<hex>" of the uncompressed tar stream.
    pub diff_id: String,
    /// Bytes of the uncompressed tar stream.
    pub tar_size: u64,
    /// Sum of regular file sizes (what `docker images` reports as size).
    pub content_size: u64,
}

/// Extract the tar in `reader` into the existing, empty directory `dest`, teeing the raw tar bytes
/// into `tee`. Hostile entries fail the whole layer with InvalidArgument.
pub fn extract_layer<R: Read>(
    reader: R,
    tee: Option<&mut dyn Write>,
    dest: &Path,
) -> Result<LayerStats> {
    let root = open_dir_path(dest).io_context(|| format!("opening {}", dest.display()))?;
    let mut hashing = HashingReader::new(reader, tee);
    let content_size;
    {
        let budget = Rc::new(Cell::new(HeaderBudget::Headers(0)));
        let bounded = BudgetReader {
            inner: &mut hashing,
            budget: budget.clone(),
        };
        let mut archive = tar::Archive::new(bounded);
        let mut ex = Extractor {
            root: &root,
            seen: HashSet::new(),
            dirs: Vec::new(),
            content_size: 0,
        };
        let entries = archive.entries().map_err(tar_err)?;
        for entry in entries {
            let mut entry = entry.map_err(tar_err)?;
            // Entry data is unbounded by nature; only header bytes count against the budget.
            budget.set(HeaderBudget::Data);
            let res = ex.entry(&mut entry).and_then(|()| {
                // Drain what the entry did not read (skipped types, link data) while still in
                // data mode, so the next header starts with a fresh budget.
                io::copy(&mut entry, &mut io::sink())
                    .map(drop)
                    .map_err(tar_err)
            });
            budget.set(HeaderBudget::Headers(0));
            res?;
        }
        ex.finish_dirs();
        content_size = ex.content_size;
    }
    // The tar reader stops at the end-of-archive marker; the diff_id covers the whole stream,
    // padding included, so read (and hash, and tee) the rest.
    io::copy(&mut hashing, &mut io::sink()).map_err(tar_err)?;
    let (diff_id, tar_size) = hashing.finish();
    Ok(LayerStats {
        diff_id,
        tar_size,
        content_size,
    })
}

fn tar_err(e: io::Error) -> EngineError {
    EngineError::invalid(format!("invalid tar archive: {e}"))
}

fn hostile(path: &[u8], why: &str) -> EngineError {
    EngineError::invalid(format!(
        "invalid layer entry {:?}: {why}",
        String::from_utf8_lossy(path)
    ))
}

struct Extractor<'r> {
    root: &'r OwnedFd,
    /// Cleaned paths of non-directory entries extracted so far (valid hard link targets).
    seen: HashSet<Vec<Vec<u8>>>,
    /// Directories and their mtimes, applied at the end (creating children changes them).
    dirs: Vec<(Vec<Vec<u8>>, i64)>,
    content_size: u64,
}

struct Meta {
    mode: u32,
    uid: u32,
    gid: u32,
    mtime: i64,
    xattrs: Vec<(CString, Vec<u8>)>,
}

impl Extractor<'_> {
    fn entry<R: Read>(&mut self, entry: &mut tar::Entry<'_, R>) -> Result<()> {
        let raw_path = entry.path_bytes().into_owned();
        let kind = entry.header().entry_type();
        if matches!(kind, EntryType::XGlobalHeader) {
            return Ok(());
        }
        let comps = clean_components(&raw_path)
            .ok_or_else(|| hostile(&raw_path, "path escapes the layer root"))?;
        let meta = self.meta(entry, &raw_path)?;

        let Some((name, parents)) = comps.split_last() else {
            // The layer root itself ("./"): only directory metadata applies.
            if kind.is_dir() {
                let fd = self
                    .root
                    .try_clone()
                    .io_context(|| "dup root".to_string())?;
                apply_fd_meta(&fd, &meta, &raw_path)?;
            }
            return Ok(());
        };
        let name_c = cstring(name, &raw_path)?;
        let parent = self.open_parent(parents, &raw_path)?;

        // Whiteouts.
        if name.starts_with(WHITEOUT_PREFIX) {
            if name.as_slice() == WHITEOUT_OPAQUE {
                set_xattr(&parent, OPAQUE_XATTR, b"y")
                    .io_context(|| format!("marking {:?} opaque", lossy(&raw_path)))?;
            } else if !name.starts_with(WHITEOUT_META_PREFIX) {
                let target = &name[WHITEOUT_PREFIX.len()..];
                // ".wh.." and ".wh..." would whiteout the directory itself or its parent:
                // removing "dir/.." reaches above the layer root.
                if matches!(target, b"" | b"." | b"..") {
                    return Err(hostile(&raw_path, "whiteout of '.' or '..'"));
                }
                let target = cstring(target, &raw_path)?;
                remove_existing(&parent, &target, false, &raw_path)?;
                mknodat(&parent, &target, libc::S_IFCHR, 0)
                    .io_context(|| format!("creating whiteout for {:?}", lossy(&raw_path)))?;
            }
            return Ok(());
        }

        match kind {
            EntryType::Directory => {
                let existing_dir = remove_existing(&parent, &name_c, true, &raw_path)?;
                if !existing_dir {
                    mkdirat(&parent, &name_c, 0o700).io_context(|| ctx("mkdir", &raw_path))?;
                }
                let fd = open_dir_at(&parent, &name_c).map_err(|e| io_or_hostile(e, &raw_path))?;
                apply_fd_meta(&fd, &meta, &raw_path)?;
                self.dirs.push((comps.clone(), meta.mtime));
                return Ok(());
            }
            EntryType::Regular | EntryType::Continuous | EntryType::GNUSparse => {
                remove_existing(&parent, &name_c, false, &raw_path)?;
                let fd = openat(
                    &parent,
                    &name_c,
                    libc::O_WRONLY | libc::O_CREAT | libc::O_EXCL | libc::O_NOFOLLOW,
                )
                .io_context(|| ctx("creating", &raw_path))?;
                let mut file = File::from(fd);
                let n = io::copy(entry, &mut file).map_err(tar_err)?;
                self.content_size += n;
                apply_fd_meta(&OwnedFd::from(file), &meta, &raw_path)?;
            }
            EntryType::Symlink => {
                let target = entry
                    .link_name_bytes()
                    .map(|t| t.into_owned())
                    .unwrap_or_default();
                if target.is_empty() {
                    return Err(hostile(&raw_path, "symlink without a target"));
                }
                let target_c = cstring(&target, &raw_path)?;
                remove_existing(&parent, &name_c, false, &raw_path)?;
                // The target is stored as data; nothing here ever resolves it.
                symlinkat(&target_c, &parent, &name_c).io_context(|| ctx("symlink", &raw_path))?;
                apply_path_meta(&parent, &name_c, &meta, false, &raw_path)?;
            }
            EntryType::Link => {
                let target = entry
                    .link_name_bytes()
                    .map(|t| t.into_owned())
                    .unwrap_or_default();
                let tcomps = clean_components(&target)
                    .ok_or_else(|| hostile(&target, "path escapes the layer root"))?;
                if !self.seen.contains(&tcomps) {
                    return Err(hostile(
                        &raw_path,
                        "hard link target is not an earlier entry of this layer",
                    ));
                }
                let (tname, tparents) = tcomps.split_last().expect("seen paths are non-empty");
                let tparent = self.open_parent(tparents, &target)?;
                let tname_c = cstring(tname, &target)?;
                if tcomps != comps {
                    remove_existing(&parent, &name_c, false, &raw_path)?;
                    // A symlink target is linked itself, never followed.
                    linkat(&tparent, &tname_c, &parent, &name_c)
                        .io_context(|| ctx("hard link", &raw_path))?;
                }
            }
            EntryType::Char | EntryType::Block | EntryType::Fifo => {
                let (fmt, dev) = special_file(entry.header(), kind);
                remove_existing(&parent, &name_c, false, &raw_path)?;
                mknodat(&parent, &name_c, fmt, dev).io_context(|| ctx("mknod", &raw_path))?;
                apply_path_meta(&parent, &name_c, &meta, true, &raw_path)?;
            }
            other => {
                tracing::debug!(path = %lossy(&raw_path), kind = ?other, "skipping unsupported tar entry type");
                return Ok(());
            }
        }
        self.seen.insert(comps);
        Ok(())
    }

    fn meta<R: Read>(&self, entry: &mut tar::Entry<'_, R>, raw: &[u8]) -> Result<Meta> {
        let h = entry.header();
        let bad = |e: io::Error| hostile(raw, &format!("bad header: {e}"));
        let mut m = Meta {
            mode: h.mode().map_err(bad)? & 0o7777,
            // Some writers leave these fields blank; that means 0, not a broken layer.
            uid: h.uid().unwrap_or(0) as u32,
            gid: h.gid().unwrap_or(0) as u32,
            mtime: h.mtime().unwrap_or(0) as i64,
            xattrs: Vec::new(),
        };
        if let Some(exts) = entry.pax_extensions().map_err(tar_err)? {
            for ext in exts {
                let ext = ext.map_err(tar_err)?;
                let key = ext.key_bytes();
                if let Some(xname) = key.strip_prefix(b"SCHILY.xattr.") {
                    // overlayfs reads trusted.overlay.* (redirect, origin, metacopy, opaque) from
                    // the layer dirs: a layer must not plant them; whiteouts are the only way in.
                    if xname.starts_with(b"trusted.overlay.") {
                        tracing::warn!(path = %lossy(raw), xattr = %lossy(xname), "dropping overlay xattr from layer");
                        continue;
                    }
                    if let Ok(n) = CString::new(xname) {
                        m.xattrs.push((n, ext.value_bytes().to_vec()));
                    }
                    continue;
                }
                let num = || {
                    std::str::from_utf8(ext.value_bytes())
                        .ok()
                        .and_then(|v| v.split('.').next()?.parse::<i64>().ok())
                };
                match key {
                    b"uid" => m.uid = num().ok_or_else(|| hostile(raw, "bad pax uid"))? as u32,
                    b"gid" => m.gid = num().ok_or_else(|| hostile(raw, "bad pax gid"))? as u32,
                    b"mtime" => m.mtime = num().unwrap_or(m.mtime),
                    _ => {}
                }
            }
        }
        Ok(m)
    }

    /// Walk (creating as needed) the parent directories without following any symlink.
    fn open_parent(&self, parents: &[Vec<u8>], raw: &[u8]) -> Result<OwnedFd> {
        for comp in parents {
            cstring(comp, raw)?;
        }
        walk_dirs(self.root, parents, true).map_err(|e| {
            if e.creating {
                EngineError::Io {
                    context: ctx("mkdir parent of", raw),
                    source: e.source,
                }
            } else {
                io_or_hostile(e.source, raw)
            }
        })
    }

    /// Directory mtimes last, deepest first, re-walking without following symlinks.
    fn finish_dirs(&mut self) {
        for (comps, mtime) in self.dirs.iter().rev() {
            let Some((name, parents)) = comps.split_last() else {
                continue;
            };
            let Ok(parent) = walk_dirs(self.root, parents, false) else {
                continue;
            };
            let Ok(c) = CString::new(name.clone()) else {
                continue;
            };
            if let Ok(fd) = open_dir_at(&parent, &c) {
                let _ = set_times_fd(&fd, *mtime);
            }
        }
    }
}

fn lossy(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn ctx(what: &str, raw: &[u8]) -> String {
    format!("{what} {:?}", lossy(raw))
}

fn cstring(b: &[u8], raw: &[u8]) -> Result<CString> {
    CString::new(b).map_err(|_| hostile(raw, "NUL byte in name"))
}

/// A symlink or non-directory where a directory is needed means the tar tries to redirect writes.
fn io_or_hostile(e: io::Error, raw: &[u8]) -> EngineError {
    match e.raw_os_error() {
        Some(libc::ELOOP) | Some(libc::ENOTDIR) => hostile(
            raw,
            "a parent path component is a symlink or not a directory",
        ),
        _ => EngineError::Io {
            context: ctx("opening", raw),
            source: e,
        },
    }
}

/// Remove what is at `name` in `dir` unless it is a directory and `keep_dir`. Returns whether a
/// directory was kept.
fn remove_existing(dir: &OwnedFd, name: &CStr, keep_dir: bool, raw: &[u8]) -> Result<bool> {
    let st = match fstatat_nofollow(dir, name) {
        Ok(st) => st,
        Err(nix::errno::Errno::ENOENT) => return Ok(false),
        Err(e) => return Err(io::Error::from(e)).io_context(|| ctx("stat", raw)),
    };
    let is_dir = is_dir_stat(&st);
    if is_dir && keep_dir {
        return Ok(true);
    }
    // The parent fd was opened without following symlinks, and removal goes by fd and name, never
    // following a symlink inside.
    let what = if is_dir {
        "replacing directory"
    } else {
        "replacing"
    };
    remove_at(dir, name, is_dir).io_context(|| ctx(what, raw))?;
    Ok(false)
}

/// Open a directory by path without following a final symlink (O_NOFOLLOW, O_CLOEXEC).
/// Ownership, then mode (chown clears setuid/setgid), then xattrs (chown clears file
/// capabilities), then times.
fn apply_fd_meta(fd: &OwnedFd, m: &Meta, raw: &[u8]) -> Result<()> {
    fchown_mode(fd, m.uid, m.gid, m.mode).io_context(|| ctx("chown", raw))?;
    for (name, value) in &m.xattrs {
        if let Err(e) = set_xattr(fd, name, value) {
            // Like docker: filesystems without xattr support (or without the right to set a
            // namespace) lose the attribute with a warning instead of failing the layer.
            if matches!(e.raw_os_error(), Some(libc::ENOTSUP) | Some(libc::EPERM)) {
                tracing::warn!(path = %lossy(raw), xattr = ?name, error = %e, "ignoring xattr");
            } else {
                return Err(e).io_context(|| ctx("setting xattr on", raw));
            }
        }
    }
    set_times_fd(fd, m.mtime).io_context(|| ctx("setting times on", raw))
}

/// Metadata for entries that cannot be opened (symlinks, device nodes, fifos).
fn apply_path_meta(dir: &OwnedFd, name: &CStr, m: &Meta, chmod: bool, raw: &[u8]) -> Result<()> {
    lchownat(dir, name, m.uid, m.gid).io_context(|| ctx("lchown", raw))?;
    // fchmodat cannot act on a symlink itself (and need not: its mode is meaningless); for device
    // nodes and fifos the name was created a moment ago by us.
    if chmod {
        fchmodat(dir, name, m.mode).io_context(|| ctx("chmod", raw))?;
    }
    set_times_at(dir, name, m.mtime).io_context(|| ctx("setting times on", raw))
}
/// The file type bits and device number of a char/block device or fifo entry (for mknodat).
pub(crate) fn special_file(h: &tar::Header, kind: EntryType) -> (libc::mode_t, libc::dev_t) {
    let major = h.device_major().ok().flatten().unwrap_or(0);
    let minor = h.device_minor().ok().flatten().unwrap_or(0);
    let fmt = match kind {
        EntryType::Char => libc::S_IFCHR,
        EntryType::Block => libc::S_IFBLK,
        _ => libc::S_IFIFO,
    };
    (fmt, libc::makedev(major, minor))
}

#[cfg(test)]
mod tests;
