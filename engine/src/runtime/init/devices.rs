//! Device nodes and links in the container's /dev tmpfs (docker's default set).

use std::ffi::CString;
use std::os::fd::{AsRawFd, RawFd};
use std::path::Path;

use nix::errno::Errno;

use super::{ErrnoCtx, InitResult};
use crate::fs_at::in_root::open_in_root;

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
