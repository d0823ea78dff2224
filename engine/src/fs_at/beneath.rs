//! Reaching directories below a root fd one component at a time, never following a symlink.
//!
//! Names come from untrusted input (tar entries, overlay paths): [`clean_components`] turns them
//! into plain names below the root before any syscall (a `..` that would climb above the root is
//! refused, absolute names become relative), and [`walk_dirs`] opens each component with
//! O_NOFOLLOW|O_DIRECTORY relative to the previous one, so a symlink planted in the tree (or
//! swapped in for a directory) fails the walk (ENOTDIR or ELOOP) instead of redirecting it.

use std::ffi::CString;
use std::io;
use std::os::fd::{AsFd, OwnedFd};

use super::at::{mkdirat, open_dir_at};

/// Clean a slash-separated name into components below the root: leading '/' stripped, "."
/// dropped, ".." pops; None when a ".." climbs above the root.
pub fn clean_components(raw: &[u8]) -> Option<Vec<Vec<u8>>> {
    let mut out: Vec<Vec<u8>> = Vec::new();
    for c in raw.split(|b| *b == b'/') {
        match c {
            b"" | b"." => {}
            b".." => {
                out.pop()?;
            }
            c => out.push(c.to_vec()),
        }
    }
    Some(out)
}

/// A failed walk: the error and whether it came from creating a missing directory.
#[derive(Debug)]
pub struct WalkError {
    pub creating: bool,
    pub source: io::Error,
}

impl From<WalkError> for io::Error {
    fn from(e: WalkError) -> Self {
        e.source
    }
}

/// The directory `comps` names below `root`, each component opened with O_NOFOLLOW|O_DIRECTORY
/// relative to the one before. With `create`, missing directories are made (mode 0755) on the fd
/// of their already-opened parent, so nothing is ever created outside the root. A component with
/// a NUL byte fails with InvalidInput.
pub fn walk_dirs<C: AsRef<[u8]>>(
    root: impl AsFd,
    comps: &[C],
    create: bool,
) -> Result<OwnedFd, WalkError> {
    let opening = |source| WalkError {
        creating: false,
        source,
    };
    let mut cur = root.as_fd().try_clone_to_owned().map_err(opening)?;
    for comp in comps {
        let c =
            CString::new(comp.as_ref()).map_err(|_| opening(io::ErrorKind::InvalidInput.into()))?;
        cur = match open_dir_at(&cur, &c) {
            Ok(fd) => fd,
            Err(e) if create && e.raw_os_error() == Some(libc::ENOENT) => {
                match mkdirat(&cur, &c, 0o755) {
                    Ok(()) => {}
                    Err(e) if e.raw_os_error() == Some(libc::EEXIST) => {}
                    Err(source) => {
                        return Err(WalkError {
                            creating: true,
                            source,
                        })
                    }
                }
                open_dir_at(&cur, &c).map_err(opening)?
            }
            Err(e) => return Err(opening(e)),
        };
    }
    Ok(cur)
}
