//! Paths inside a root, resolved the way dockerd resolves COPY/ADD paths, but through fds.
//!
//! dockerd turns a destination into a host path with `FollowSymlinkInScope` (every symlink
//! followed, absolute targets and `..` clamped to the root, missing components kept as named) and
//! then writes below it. [`follow_in_scope`] computes the same component list by reading links
//! relative to the root fd, never through a host path, so an image's `/usr/local -> /opt` symlink
//! redirects inside the image and a link to `/etc` can never reach the host's `/etc`.

use std::collections::VecDeque;
use std::ffi::CString;
use std::io;
use std::os::fd::BorrowedFd;

use crate::fs_at::beneath::walk_dirs;
use crate::fs_at::{fstatat_nofollow, readlinkat};

/// Symlinks followed before giving up, as moby/sys/symlink.
const MAX_LINKS: usize = 255;

/// `path` split on '/', without empty and "." components (".." kept: the caller decides).
pub fn split(path: &[u8]) -> Vec<Vec<u8>> {
    path.split(|b| *b == b'/')
        .filter(|c| !c.is_empty() && *c != b".")
        .map(<[u8]>::to_vec)
        .collect()
}

/// The components of `path` below `root` with every symlink followed inside the root.
pub fn follow_in_scope(root: BorrowedFd<'_>, path: &[u8]) -> io::Result<Vec<Vec<u8>>> {
    let mut pending: VecDeque<Vec<u8>> = split(path).into();
    let mut resolved: Vec<Vec<u8>> = Vec::new();
    let mut links = 0;
    while let Some(comp) = pending.pop_front() {
        if comp == b".." {
            resolved.pop();
            continue;
        }
        // Once a component is missing (or not a directory) the rest cannot be links.
        let dir = match walk_dirs(root, &resolved, false) {
            Ok(fd) => fd,
            Err(e) if is_missing(&e.source) => {
                resolved.push(comp);
                continue;
            }
            Err(e) => return Err(e.source),
        };
        let name = CString::new(comp.clone()).map_err(|_| invalid_name())?;
        match fstatat_nofollow(&dir, &name) {
            Ok(st) if st.st_mode & libc::S_IFMT == libc::S_IFLNK => {
                links += 1;
                if links > MAX_LINKS {
                    return Err(io::Error::from_raw_os_error(libc::ELOOP));
                }
                let target = readlinkat(&dir, &name)?;
                if target.first() == Some(&b'/') {
                    resolved.clear();
                }
                for c in split(&target).into_iter().rev() {
                    pending.push_front(c);
                }
            }
            Ok(_) => resolved.push(comp),
            Err(nix::errno::Errno::ENOENT | nix::errno::Errno::ENOTDIR) => resolved.push(comp),
            Err(e) => return Err(e.into()),
        }
    }
    Ok(resolved)
}

fn is_missing(e: &io::Error) -> bool {
    matches!(e.raw_os_error(), Some(libc::ENOENT) | Some(libc::ENOTDIR))
}

pub fn invalid_name() -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, "path with a NUL byte")
}
