//! Device nodes and links in the container's /dev tmpfs: docker's default set, and for a
//! privileged container every device node of the host's /dev (runc's `HostDevices`).

use std::ffi::CString;
use std::os::fd::{AsRawFd, RawFd};
use std::path::Path;

use nix::errno::Errno;

use super::{ErrnoCtx, InitResult};
use crate::fs_at::in_root::{mkdir_all_in_root, open_in_root};

/// (name, major, minor) of docker's default character devices, all mode 0666.
const DEVICES: &[(&str, u32, u32)] = &[
    ("null", 1, 3),
    ("zero", 1, 5),
    ("full", 1, 7),
    ("random", 1, 8),
    ("urandom", 1, 9),
    ("tty", 5, 0),
];

const LINKS: &[(&str, &str)] = &[
    ("fd", "/proc/self/fd"),
    ("stdin", "/proc/self/fd/0"),
    ("stdout", "/proc/self/fd/1"),
    ("stderr", "/proc/self/fd/2"),
    ("ptmx", "pts/ptmx"),
];

/// Fill the freshly mounted /dev tmpfs of the root `root`.
pub fn populate_dev(root: RawFd) -> InitResult<()> {
    // Reopen after the tmpfs mount so the fd names the tmpfs, not the directory beneath it.
    let dev = open_in_root(
        root,
        Path::new("/dev"),
        libc::O_DIRECTORY | libc::O_RDONLY,
        0,
    )
    .ctx("open /dev")?;
    let d = dev.as_raw_fd();
    for (name, major, minor) in DEVICES {
        let c = CString::new(*name).expect("static name");
        // SAFETY: valid fd and NUL-terminated name.
        let r = unsafe {
            libc::mknodat(
                d,
                c.as_ptr(),
                libc::S_IFCHR | 0o666,
                libc::makedev(*major, *minor),
            )
        };
        if r < 0 {
            return Err(Errno::last()).ctx(format!("mknod /dev/{name}"));
        }
    }
    for (name, target) in LINKS {
        let c = CString::new(*name).expect("static name");
        let t = CString::new(*target).expect("static target");
        // SAFETY: valid fd and NUL-terminated strings.
        if unsafe { libc::symlinkat(t.as_ptr(), d, c.as_ptr()) } < 0 {
            return Err(Errno::last()).ctx(format!("symlink /dev/{name}"));
        }
    }
    Ok(())
}

/// Host /dev entries runc leaves out of a privileged container's /dev: its own mounts and the
/// terminal the container gets from its own devpts.
const HOST_DEV_SKIP: &[&str] = &["pts", "shm", "mqueue", "fd", "console", "ptmx"];

/// Make every character and block device of the host's /dev (read before pivot_root) in the
/// container's /dev, with the host's type, numbers, mode and owner. Entries that already exist
/// (docker's default set) are kept.
pub fn copy_host_devices(root: RawFd) -> InitResult<()> {
    copy_dir(root, Path::new("/dev"), 0)
}

fn copy_dir(root: RawFd, dir: &Path, depth: usize) -> InitResult<()> {
    use std::os::unix::fs::{FileTypeExt, MetadataExt};
    let entries = std::fs::read_dir(dir).ctx(format!("read {}", dir.display()))?;
    for entry in entries.flatten() {
        let name = entry.file_name();
        if depth == 0 && HOST_DEV_SKIP.iter().any(|s| name == *s) {
            continue;
        }
        let path = entry.path();
        let Ok(meta) = std::fs::symlink_metadata(&path) else {
            continue;
        };
        let kind = meta.file_type();
        if kind.is_dir() && depth < 4 {
            copy_dir(root, &path, depth + 1)?;
            continue;
        }
        if !kind.is_char_device() && !kind.is_block_device() {
            continue;
        }
        let parent = mkdir_all_in_root(root, dir).ctx(format!("create {}", dir.display()))?;
        let c = CString::new(name.as_encoded_bytes()).expect("no NUL in a file name");
        let mode = meta.mode() & (libc::S_IFMT | 0o7777);
        // SAFETY: valid fds and a NUL-terminated name.
        let made = unsafe {
            libc::mknodat(
                parent.as_raw_fd(),
                c.as_ptr(),
                mode,
                meta.rdev() as libc::dev_t,
            )
        };
        if made < 0 {
            match Errno::last() {
                Errno::EEXIST => continue,
                e => return Err(e).ctx(format!("mknod {}", path.display())),
            }
        }
        // SAFETY: as above; the node was just made by us.
        unsafe {
            libc::fchownat(
                parent.as_raw_fd(),
                c.as_ptr(),
                meta.uid(),
                meta.gid(),
                libc::AT_SYMLINK_NOFOLLOW,
            )
        };
    }
    Ok(())
}
