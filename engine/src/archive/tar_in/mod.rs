//! Extracting an uploaded tar into a directory of a container (`PUT /archive`).
//!
//! Everything happens relative to the destination directory's fd, which was resolved inside the
//! container root: entry names are cleaned (a `..` that climbs above the destination rejects the
//! upload, absolute names become relative), parent directories are walked one component at a time
//! with O_NOFOLLOW|O_DIRECTORY (a symlink planted by the tar or present in the container is never
//! followed while writing), final names are created with O_EXCL|O_NOFOLLOW after removing what was
//! there, and hard links may only point at regular files inside the destination.
//!
//! A build context is received the same way (`builder::context`), into a size-limited tmpfs:
//! [`extract_spilling`] moves on to a roomier directory when that fills, and collects each
//! file's content hash on the way (`digests`). Placing one entry is `place`.

use std::ffi::{CStr, CString};
use std::io::{self, Read};
use std::os::fd::{AsFd, OwnedFd};

use tar::EntryType;

use crate::error::{EngineError, Result};
use crate::fs_at::beneath::{clean_components, walk_dirs};
use crate::fs_at::remove::remove_at;
use crate::fs_at::set_times_at;

mod digests;
mod place;

pub use digests::FileDigests;
use place::{place, ParentDir, Placed, Step, Stop};

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
mod tests;
