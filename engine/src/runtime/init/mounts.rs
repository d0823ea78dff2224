//! Mount helpers that target fds resolved inside the root, plus docker's masked and read-only
//! paths applied after pivot_root.

use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::path::Path;

use nix::errno::Errno;
use nix::mount::{mount, MsFlags};

use super::{ErrnoCtx, InitResult};
use crate::fs_at::in_root::{fd_path, is_dir, open_in_root};

/// mount(2) onto the object behind `target` (via /proc/self/fd/N, never by path).
pub fn mount_on_fd(
    source: Option<&str>,
    target: &OwnedFd,
    fstype: Option<&str>,
    flags: MsFlags,
    data: Option<&str>,
) -> Result<(), Errno> {
    mount(source, fd_path(target).as_str(), fstype, flags, data)
}

/// Bind `path` (resolved in the root) onto itself and remount it read-only, keeping the
/// nosuid/nodev/noexec flags it already had (clearing them would weaken /proc).
pub fn readonly_bind(root: RawFd, path: &Path) -> Result<(), Errno> {
    let fd = open_in_root(root, path, libc::O_PATH, 0)?;
    let src = fd_path(&fd);
    mount(
        Some(src.as_str()),
        src.as_str(),
        None::<&str>,
        MsFlags::MS_BIND | MsFlags::MS_REC,
        None::<&str>,
    )?;
    // The old fd still names the mount underneath; reopen to reach the new bind mount.
    let fd = open_in_root(root, path, libc::O_PATH, 0)?;
    remount_readonly(&fd)
}

/// MS_REMOUNT|MS_BIND|MS_RDONLY on the mount behind `fd`, preserving its lock-down flags.
pub fn remount_readonly(fd: &OwnedFd) -> Result<(), Errno> {
    let vfs = nix::sys::statvfs::fstatvfs(fd)?;
    // ST_* and MS_* share values for these flags.
    let keep = vfs.flags().bits() as libc::c_ulong
        & (libc::MS_NOSUID
            | libc::MS_NODEV
            | libc::MS_NOEXEC
            | libc::MS_NOATIME
            | libc::MS_NODIRATIME
            | libc::MS_RELATIME);
    let flags = MsFlags::from_bits_truncate(keep)
        | MsFlags::MS_BIND
        | MsFlags::MS_REMOUNT
        | MsFlags::MS_RDONLY;
    mount(
        None::<&str>,
        fd_path(fd).as_str(),
        None::<&str>,
        flags,
        None::<&str>,
    )
}

/// Docker's masked paths (files: /dev/null over them; dirs: an empty read-only tmpfs) and
/// read-only paths. Missing paths are skipped, as docker does. Runs after pivot_root.
pub fn mask_and_readonly(masked: &[String], readonly: &[String]) -> InitResult<()> {
    let root = std::fs::File::open("/").ctx("open /")?;
    let root = root.as_raw_fd();
    for p in masked {
        let fd = match open_in_root(root, Path::new(p), libc::O_PATH, 0) {
            Ok(fd) => fd,
            Err(Errno::ENOENT) | Err(Errno::ENOTDIR) => continue,
            Err(e) => return Err(e).ctx(format!("open masked path {p}")),
        };
        let res = if is_dir(&fd).ctx(format!("stat {p}"))? {
            mount_on_fd(
                Some("tmpfs"),
                &fd,
                Some("tmpfs"),
                MsFlags::MS_RDONLY | MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC,
                Some("size=0,mode=755"),
            )
        } else {
            mount_on_fd(Some("/dev/null"), &fd, None, MsFlags::MS_BIND, None)
        };
        res.ctx(format!("mask {p}"))?;
    }
    for p in readonly {
        match readonly_bind(root, Path::new(p)) {
            Ok(()) | Err(Errno::ENOENT) | Err(Errno::ENOTDIR) => {}
            Err(e) => return Err(e).ctx(format!("make {p} read-only")),
        }
    }
    Ok(())
}

/// `--read-only`: the container's "/" becomes read-only (its submounts keep their own flags).
pub fn remount_root_readonly() -> InitResult<()> {
    mount(
        None::<&str>,
        "/",
        None::<&str>,
        MsFlags::MS_BIND | MsFlags::MS_REMOUNT | MsFlags::MS_RDONLY,
        None::<&str>,
    )
    .ctx("remount / read-only")
}
