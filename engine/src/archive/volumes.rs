//! A stopped container's volumes and binds, attached to its detached overlay root, so `docker cp`
//! and the archive API see and write into them as dockerd does (it mounts a stopped container's
//! volumes for the copy). Each source is cloned with open_tree and moved with move_mount onto the
//! mount point's fd, resolved inside the root: nothing is attached to the host's mount table, and
//! a symlinked mount point cannot lead outside the root. Moving a mount onto a detached tree needs
//! Linux 6.15; older kernels keep the copy to the container's own layers.

use std::ffi::CString;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::path::Path;

use nix::errno::Errno;

use super::ContainerRoot;
use crate::fs_at::in_root::{create_file_in_root, mkdir_all_in_root, open_in_root};

const OPEN_TREE_CLONE: libc::c_uint = 1;
const MOVE_MOUNT_F_EMPTY_PATH: libc::c_uint = 0x4;
const MOVE_MOUNT_T_EMPTY_PATH: libc::c_uint = 0x40;
const MOUNT_ATTR_RDONLY: u64 = 1;

/// One host source to attach at a container path.
pub struct VolumeBind<'a> {
    pub source: &'a Path,
    pub destination: &'a str,
    pub readonly: bool,
}

impl ContainerRoot {
    /// Attach `binds` (parents first) to this detached root. With `create`, missing mount points
    /// are made (a writable root: dockerd makes them too); otherwise a bind whose mount point is
    /// missing is left out. Failures are reported per bind and leave the others in place.
    pub fn attach_binds(&self, binds: &[VolumeBind<'_>], create: bool) -> Vec<(String, Errno)> {
        let mut failed = Vec::new();
        for b in binds {
            if let Err(e) = self.attach_one(b, create) {
                failed.push((b.destination.to_string(), e));
            }
        }
        failed
    }

    fn attach_one(&self, b: &VolumeBind<'_>, create: bool) -> Result<(), Errno> {
        let is_dir = std::fs::metadata(b.source)
            .map(|m| m.is_dir())
            .map_err(|e| Errno::from_raw(e.raw_os_error().unwrap_or(libc::ENOENT)))?;
        let dest = Path::new(b.destination);
        let target = match open_in_root(self.fd(), dest, libc::O_PATH, 0) {
            Ok(fd) => fd,
            Err(Errno::ENOENT) if create && is_dir => mkdir_all_in_root(self.fd(), dest)?,
            Err(Errno::ENOENT) if create => create_file_in_root(self.fd(), dest)?,
            Err(e) => return Err(e),
        };
        let tree = open_tree(b.source)?;
        if b.readonly {
            set_readonly(&tree)?;
        }
        move_mount(&tree, &target)
    }
}

/// A detached clone of the mount tree at `source` (open_tree(2), recursive).
pub(crate) fn open_tree(source: &Path) -> Result<OwnedFd, Errno> {
    let c = CString::new(source.as_os_str().as_encoded_bytes()).map_err(|_| Errno::EINVAL)?;
    let flags =
        OPEN_TREE_CLONE | libc::O_CLOEXEC as libc::c_uint | libc::AT_RECURSIVE as libc::c_uint;
    // SAFETY: a NUL-terminated path; the kernel returns a new fd or -1.
    let fd = unsafe { libc::syscall(libc::SYS_open_tree, libc::AT_FDCWD, c.as_ptr(), flags) };
    if fd < 0 {
        return Err(Errno::last());
    }
    // SAFETY: the kernel returned a new fd.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as RawFd) })
}

/// Attach the detached `tree` on the mount point `target` (move_mount(2), both by fd).
pub(crate) fn move_mount(tree: &OwnedFd, target: &OwnedFd) -> Result<(), Errno> {
    // SAFETY: valid fds and empty NUL-terminated paths.
    let r = unsafe {
        libc::syscall(
            libc::SYS_move_mount,
            tree.as_raw_fd(),
            c"".as_ptr(),
            target.as_raw_fd(),
            c"".as_ptr(),
            MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH,
        )
    };
    if r < 0 {
        return Err(Errno::last());
    }
    Ok(())
}

/// `struct mount_attr` of mount_setattr(2).
#[repr(C)]
struct MountAttr {
    attr_set: u64,
    attr_clr: u64,
    propagation: u64,
    userns_fd: u64,
}

fn set_readonly(tree: &OwnedFd) -> Result<(), Errno> {
    let attr = MountAttr {
        attr_set: MOUNT_ATTR_RDONLY,
        attr_clr: 0,
        propagation: 0,
        userns_fd: 0,
    };
    // SAFETY: valid fd, empty path, and a correctly sized mount_attr.
    let r = unsafe {
        libc::syscall(
            libc::SYS_mount_setattr,
            tree.as_raw_fd(),
            c"".as_ptr(),
            (libc::AT_EMPTY_PATH | libc::AT_RECURSIVE) as libc::c_uint,
            &attr as *const MountAttr,
            std::mem::size_of::<MountAttr>(),
        )
    };
    if r < 0 {
        return Err(Errno::last());
    }
    Ok(())
}
