//! Extracting an uploaded tar into a directory of a container (`PUT /archive`).
//!
//! Everything happens relative to the destination directory's fd, which was resolved inside the
//! container root: entry names are cleaned (a `..` that climbs above the destination rejects the
//! upload, absolute names become relative), parent directories are walked one component at a time
//! with O_NOFOLLOW|O_DIRECTORY (a symlink planted by the tar or present in the container is never
//! followed while writing), final names are created with O_EXCL|O_NOFOLLOW after removing what was
//! there, and hard links may only point at regular files inside the destination.

use std::collections::HashMap;
use std::ffi::{CStr, CString};
use std::fs::File;
use std::io::{self, Read, Write};
use std::os::fd::{AsFd, OwnedFd};

use tar::EntryType;

use crate::error::{EngineError, Result};
use crate::fs_at::beneath::{clean_components, walk_dirs};
use crate::fs_at::remove::remove_at;
use crate::fs_at::{
    fchmodat, fchown_mode, fstatat_nofollow, is_dir_stat, lchownat, linkat, mkdirat, mknodat,
    open_dir_at, openat_mode, set_times_at, symlinkat,
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
    let dest = dest.try_clone().map_err(|e| io_err(e, b".", "opening"))?;
    extract_spilling(reader, dest, opts, None, None)
}

/// Moves what was extracted so far to a roomier place and returns that directory.
pub type Spill<'a> = &'a mut dyn FnMut() -> Result<OwnedFd>;

/// As [`extract`]; and when the destination's filesystem is full (a size-limited tmpfs answers
/// ENOSPC), `spill` is called once: the entry that hit the limit is finished in the directory it
/// returns (a file's bytes already written travel with the tree, the rest follow) and the
/// extraction goes on there. `digests` collects each regular file's content hash.
pub fn extract_spilling<R: Read>(
    reader: R,
    mut dest: OwnedFd,
    opts: &ExtractOptions,
    mut spill: Option<Spill<'_>>,
    mut digests: Option<&mut FileDigests>,
) -> Result<u64> {
    let mut archive = tar::Archive::new(reader);
    let mut dirs: Vec<(Vec<Vec<u8>>, i64)> = Vec::new();
    let mut count = 0u64;
    // The directory the previous entry went into: tars list a directory's files together, and
    // walking down to it again for each one is most of the syscalls of a tree of small files.
    let mut last_parent: Option<ParentDir> = None;
    // One copy buffer for every file (a fresh one each would be fresh pages each).
    let mut chunk = vec![0u8; 64 * 1024];
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
        let mut resume = None;
        let placed = loop {
            let step = Step {
                opts,
                resume: resume.take(),
                digests: digests.as_deref_mut(),
                chunk: &mut chunk,
            };
            match place(&dest, &mut entry, &comps, &raw, step, &mut last_parent) {
                Ok(placed) => break placed,
                Err(Stop::Full(leftover, e)) => match spill.take() {
                    Some(f) => {
                        dest = f()?;
                        last_parent = None;
                        if let Some(d) = digests.as_deref_mut() {
                            d.turn_off();
                        }
                        resume = leftover;
                    }
                    None => return Err(e),
                },
                Err(Stop::Failed(e)) => return Err(e),
            }
        };
        match placed {
            Placed::Skipped => continue,
            Placed::Dir(mtime) => dirs.push((comps.clone(), mtime)),
            Placed::Other => {}
        }
        count += 1;
    }
    // Directory mtimes last (creating children changes them), deepest first.
    for (comps, mtime) in dirs.iter().rev() {
        if let Some((name, parents)) = comps.split_last() {
            if let (Ok(parent), Ok(c)) =
                (walk_dirs(&dest, parents, false), CString::new(name.clone()))
            {
                set_times(&parent, &c, *mtime);
            }
        }
    }
    Ok(count)
}

/// The BLAKE3 hash of each regular file's content, computed while extracting it (the bytes are in
/// hand then), by (device, inode): COPY's cache key then needs no second read of the files.
/// An inode that was replaced since has another number; a spill to another filesystem makes
/// every number stale, so the index empties and stays off.
#[derive(Debug, Default)]
pub struct FileDigests {
    by_inode: HashMap<(u64, u64), (u64, [u8; 32])>,
    off: bool,
}

impl FileDigests {
    /// The content hash of the file (dev, ino) if it is still the `size` bytes extracted.
    pub fn get(&self, dev: u64, ino: u64, size: u64) -> Option<[u8; 32]> {
        match self.by_inode.get(&(dev, ino)) {
            Some((n, sha)) if *n == size => Some(*sha),
            _ => None,
        }
    }

    fn record(&mut self, st: &libc::stat, size: u64, sha: [u8; 32]) {
        if !self.off {
            self.by_inode.insert((st.st_dev, st.st_ino), (size, sha));
        }
    }

    fn turn_off(&mut self) {
        self.by_inode.clear();
        self.off = true;
    }
}

/// The engine's effective uid and gid.
fn own_ids() -> (u32, u32) {
    static IDS: std::sync::OnceLock<(u32, u32)> = std::sync::OnceLock::new();
    *IDS.get_or_init(|| {
        (
            nix::unistd::geteuid().as_raw(),
            nix::unistd::getegid().as_raw(),
        )
    })
}

/// An open directory below the destination and the components that lead to it.
struct ParentDir {
    comps: Vec<Vec<u8>>,
    fd: OwnedFd,
}

/// What placing one entry did.
enum Placed {
    /// Nothing to place (the root's own entry, an unsupported type).
    Skipped,
    /// A directory, whose mtime is set at the end.
    Dir(i64),
    Other,
}

/// Why placing an entry stopped.
enum Stop {
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
struct Step<'a> {
    opts: &'a ExtractOptions,
    /// The unwritten bytes of a regular file whose first part is already in place (after a
    /// spill): it is appended to, not replaced.
    resume: Option<Vec<u8>>,
    digests: Option<&'a mut FileDigests>,
    chunk: &'a mut [u8],
}

/// Place one entry below `dest`.
fn place<R: Read>(
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
fn write_data<R: Read>(
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
fn write_all(f: &mut File, data: &[u8], raw: &[u8]) -> std::result::Result<(), Stop> {
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
