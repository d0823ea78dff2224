//! Removing by directory fd and name, never following a symlink: a symlink is unlinked itself,
//! a directory is emptied through fds opened with O_NOFOLLOW and then removed.

use std::ffi::CStr;
use std::io;
use std::os::fd::{AsFd, OwnedFd};

use super::at::{fstatat_nofollow, is_dir_stat, list_dir, open_dir_at, unlinkat};

/// Remove `name` in `dir`: a directory recursively (by fd, never following symlinks), else unlink.
/// `is_dir` is what the caller's lstat saw; if a symlink was swapped in for the directory since,
/// opening it fails (ENOTDIR or ELOOP) and nothing is removed.
pub fn remove_at(dir: impl AsFd, name: &CStr, is_dir: bool) -> io::Result<()> {
    let dir = dir.as_fd();
    if is_dir {
        let fd = open_dir_at(dir, name)?;
        remove_contents(&fd)?;
        unlinkat(dir, name, libc::AT_REMOVEDIR)
    } else {
        unlinkat(dir, name, 0)
    }
}

/// Remove everything inside the directory `fd`, leaving it empty.
pub fn remove_contents(fd: &OwnedFd) -> io::Result<()> {
    for child in list_dir(fd)? {
        let st = fstatat_nofollow(fd, &child).map_err(io::Error::from)?;
        if is_dir_stat(&st) {
            let sub = open_dir_at(fd, &child)?;
            remove_contents(&sub)?;
            unlinkat(fd, &child, libc::AT_REMOVEDIR)?;
        } else {
            unlinkat(fd, &child, 0)?;
        }
    }
    Ok(())
}
