//! Placing one tar entry below the destination: its parent walked (or the last one reused),
//! what was there replaced, the entry created with its owner, mode and time, a regular file's
//! data written (and hashed), a full filesystem reported with the bytes not yet written.

use std::ffi::CString;
use std::fs::File;
use std::io::{self, Read, Write};
use std::os::fd::{AsFd, OwnedFd};

use tar::EntryType;

use super::digests::FileDigests;
use super::{bad_tar, hostile, io_err, open_parent, remove, set_times, ExtractOptions};
use crate::error::EngineError;
use crate::fs_at::beneath::{clean_components, walk_dirs};
use crate::fs_at::{
    fchmodat, fchown_mode, fstatat_nofollow, is_dir_stat, lchownat, linkat, mkdirat, mknodat,
    open_dir_at, openat_mode, symlinkat,
};
use crate::image::extract::special_file;

/// The engine's effective uid and gid.
pub(super) fn own_ids() -> (u32, u32) {
    static IDS: std::sync::OnceLock<(u32, u32)> = std::sync::OnceLock::new();
    *IDS.get_or_init(|| {
        (
            nix::unistd::geteuid().as_raw(),
            nix::unistd::getegid().as_raw(),
        )
    })
}

/// An open directory below the destination and the components that lead to it.
pub(super) struct ParentDir {
    pub(super) comps: Vec<Vec<u8>>,
    pub(super) fd: OwnedFd,
}

/// What placing one entry did.
pub(super) enum Placed {
    /// Nothing to place (the root's own entry, an unsupported type).
    Skipped,
    /// A directory, whose mtime is set at the end.
    Dir(i64),
    Other,
}

/// Why placing an entry stopped.
pub(super) enum Stop {
    /// The filesystem is full; for a regular file, the bytes read from the tar but not written.
    Full(Option<Vec<u8>>, EngineError),
    Failed(EngineError),
}

impl From<EngineError> for Stop {
    fn from(e: EngineError) -> Self {
        let full = matches!(&e, EngineError::Io { source, .. }
            if matches!(source.raw_os_error(), Some(libc::ENOSPC) | Some(libc::EDQUOT)));
        if full {
            Stop::Full(None, e)
        } else {
            Stop::Failed(e)
        }
    }
}

/// How to place one entry.
pub(super) struct Step<'a> {
    pub(super) opts: &'a ExtractOptions,
    /// The unwritten bytes of a regular file whose first part is already in place (after a
    /// spill): it is appended to, not replaced.
    pub(super) resume: Option<Vec<u8>>,
    pub(super) digests: Option<&'a mut FileDigests>,
    pub(super) chunk: &'a mut [u8],
}

/// Place one entry below `dest`.
pub(super) fn place<R: Read>(
    dest: &OwnedFd,
    entry: &mut tar::Entry<'_, R>,
    comps: &[Vec<u8>],
    raw: &[u8],
    step: Step<'_>,
    last_parent: &mut Option<ParentDir>,
) -> std::result::Result<Placed, Stop> {
    let Step {
        opts,
        resume,
        digests,
        chunk,
    } = step;
    let kind = entry.header().entry_type();
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
        return Ok(Placed::Skipped);
    };
    let parent = match last_parent.take() {
        Some(p) if p.comps == parents => p,
        _ => ParentDir {
            comps: parents.to_vec(),
            fd: open_parent(dest, parents, raw)?,
        },
    };
    let parent = &*last_parent.insert(parent);
    let parent = &parent.fd;
    let name_c = CString::new(name.clone()).map_err(|_| hostile(raw, "NUL byte in name"))?;
    let existing = if resume.is_some() {
        None
    } else {
        fstatat_nofollow(parent, &name_c).ok()
    };
    let existing_dir = existing.is_some_and(|st| is_dir_stat(&st));
    if let Some(_st) = existing {
        let new_dir = kind == EntryType::Directory;
        if opts.no_overwrite_dir_non_dir && existing_dir != new_dir {
            let shown = String::from_utf8_lossy(raw);
            return Err(Stop::Failed(EngineError::invalid(if existing_dir {
                format!("cannot overwrite directory {shown:?} with non-directory")
            } else {
                format!("cannot overwrite non-directory {shown:?} with directory")
            })));
        }
        if !(existing_dir && new_dir) {
            // What is removed may be on the remembered path's way (a directory replaced by a
            // symlink): the next entry walks again.
            remove(parent, &name_c, existing_dir, raw)?;
            *last_parent = None;
            let again = Step {
                opts,
                resume: None,
                digests,
                chunk,
            };
            return place(dest, entry, comps, raw, again, last_parent);
        }
    }
    let p = parent.as_fd();
    match kind {
        EntryType::Directory => {
            if !existing_dir {
                mkdirat(p, &name_c, 0o700).map_err(|e| io_err(e, raw, "mkdir"))?;
            }
            let fd = open_dir_at(p, &name_c).map_err(|e| io_err(e, raw, "opening"))?;
            fchown_mode(&fd, uid, gid, mode).map_err(|e| io_err(e, raw, "chown"))?;
            return Ok(Placed::Dir(mtime));
        }
        EntryType::Regular | EntryType::Continuous | EntryType::GNUSparse => {
            let flags = match resume {
                Some(_) => libc::O_WRONLY | libc::O_APPEND | libc::O_NOFOLLOW,
                None => libc::O_WRONLY | libc::O_CREAT | libc::O_EXCL | libc::O_NOFOLLOW,
            };
            // A file the engine's own ids will own (a build context: the CLI sends 0:0) is
            // created with its mode; any other is 0600 until chowned.
            let ours = (uid, gid) == own_ids() && mode & 0o7000 == 0;
            let create_mode = if ours { mode } else { 0o600 };
            let fd = openat_mode(p, &name_c, flags, create_mode)
                .map_err(|e| io_err(e, raw, "creating"))?;
            let mut f = File::from(fd);
            // A file finished after a spill is not hashed (the index is off by then).
            let mut hash = (resume.is_none() && digests.is_some()).then(blake3::Hasher::new);
            let size = write_data(entry, &mut f, resume, raw, hash.as_mut(), chunk)?;
            let st = nix::sys::stat::fstat(f.as_fd()).map_err(|e| io_err(e.into(), raw, "stat"))?;
            if let (Some(h), Some(d)) = (hash, digests) {
                d.record(&st, size, h.finalize().into());
            }
            // The umask, a setgid parent's group or a resumed file may still need fixing.
            if (st.st_uid, st.st_gid) != (uid, gid) || st.st_mode & 0o7777 != mode {
                fchown_mode(&f, uid, gid, mode).map_err(|e| io_err(e, raw, "chown"))?;
            }
            set_times(p, &name_c, mtime);
        }
        EntryType::Symlink => {
            let target = entry
                .link_name_bytes()
                .map(|t| t.into_owned())
                .unwrap_or_default();
            if target.is_empty() {
                return Err(Stop::Failed(hostile(raw, "symlink without a target")));
            }
            let t = CString::new(target).map_err(|_| hostile(raw, "NUL byte in link"))?;
            // Stored as data; nothing here ever resolves it.
            symlinkat(&t, p, &name_c).map_err(|e| io_err(e, raw, "symlink"))?;
            lchownat(p, &name_c, uid, gid).map_err(|e| io_err(e, raw, "lchown"))?;
            set_times(p, &name_c, mtime);
        }
        EntryType::Link => {
            let target = entry
                .link_name_bytes()
                .map(|t| t.into_owned())
                .unwrap_or_default();
            let tcomps = clean_components(&target)
                .ok_or_else(|| hostile(raw, "hard link target escapes the destination"))?;
            let Some((tname, tparents)) = tcomps.split_last() else {
                return Err(Stop::Failed(hostile(
                    raw,
                    "hard link to the destination itself",
                )));
            };
            let tparent = walk_dirs(dest, tparents, false)
                .map_err(|_| hostile(raw, "hard link target is not inside the destination"))?;
            let tname_c = CString::new(tname.clone()).map_err(|_| hostile(raw, "NUL byte"))?;
            let tst = fstatat_nofollow(&tparent, &tname_c)
                .map_err(|_| hostile(raw, "hard link target does not exist"))?;
            if tst.st_mode & libc::S_IFMT != libc::S_IFREG {
                return Err(Stop::Failed(hostile(
                    raw,
                    "hard link target is not a regular file",
                )));
            }
            // Never follows a symlink at the target.
            linkat(&tparent, &tname_c, p, &name_c).map_err(|e| io_err(e, raw, "hard link"))?;
        }
        EntryType::Char | EntryType::Block | EntryType::Fifo => {
            let (fmt, dev) = special_file(entry.header(), kind);
            mknodat(p, &name_c, fmt | mode, dev).map_err(|e| io_err(e, raw, "mknod"))?;
            lchownat(p, &name_c, uid, gid).map_err(|e| io_err(e, raw, "lchown"))?;
            fchmodat(p, &name_c, mode).map_err(|e| io_err(e, raw, "chmod"))?;
            set_times(p, &name_c, mtime);
        }
        other => {
            tracing::debug!(path = %String::from_utf8_lossy(raw), kind = ?other, "skipping tar entry");
            return Ok(Placed::Skipped);
        }
    }
    Ok(Placed::Other)
}

/// Copy an entry's data into `f` (after `pending`, bytes read before a spill), feeding `hash`
/// on the way; returns the bytes read from the entry. A full filesystem stops it with the bytes
/// read but not yet written, so nothing read is lost.
pub(super) fn write_data<R: Read>(
    entry: &mut tar::Entry<'_, R>,
    f: &mut File,
    pending: Option<Vec<u8>>,
    raw: &[u8],
    mut hash: Option<&mut blake3::Hasher>,
    chunk: &mut [u8],
) -> std::result::Result<u64, Stop> {
    if let Some(p) = pending {
        write_all(f, &p, raw)?;
    }
    let mut total = 0u64;
    loop {
        let n = match entry.read(chunk) {
            Ok(0) => return Ok(total),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => {
                return Err(Stop::Failed(match e.raw_os_error() {
                    Some(_) => io_err(e, raw, "writing"),
                    None => bad_tar(e),
                }))
            }
        };
        total += n as u64;
        if let Some(h) = hash.as_deref_mut() {
            h.update(&chunk[..n]);
        }
        write_all(f, &chunk[..n], raw)?;
    }
}

/// Write all of `data`; on a full filesystem, stop with what is left of it.
pub(super) fn write_all(f: &mut File, data: &[u8], raw: &[u8]) -> std::result::Result<(), Stop> {
    let mut off = 0;
    while off < data.len() {
        match f.write(&data[off..]) {
            Ok(0) => {
                return Err(Stop::Failed(io_err(
                    io::ErrorKind::WriteZero.into(),
                    raw,
                    "writing",
                )))
            }
            Ok(n) => off += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => {
                return Err(match Stop::from(io_err(e, raw, "writing")) {
                    Stop::Full(_, err) => Stop::Full(Some(data[off..].to_vec()), err),
                    failed => failed,
                })
            }
        }
    }
    Ok(())
}
