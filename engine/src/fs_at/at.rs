//! Thin wrappers of the `*at` syscalls, relative to a directory fd and a single name: every open
//! gets O_CLOEXEC, and stat, chown and utimes never follow a final symlink. Callers add
//! O_NOFOLLOW to opens themselves (or use [`open_dir_at`]), so each call site shows what it opens.

use std::ffi::{CStr, CString};
use std::io;
use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd};
use std::path::Path;

use nix::errno::Errno;

/// openat(2) of `name` in `dir` with `flags | O_CLOEXEC`; a file created with O_CREAT gets mode
/// 0600 (callers set the real mode after chown).
pub fn openat(dir: impl AsFd, name: &CStr, flags: i32) -> io::Result<OwnedFd> {
    openat_mode(dir, name, flags, 0o600)
}

/// [`openat`] creating with `mode` (less the umask): for callers that know the file needs no
/// chown, so its final permissions may apply from the start.
pub fn openat_mode(dir: impl AsFd, name: &CStr, flags: i32, mode: u32) -> io::Result<OwnedFd> {
    // SAFETY: valid fd and NUL-terminated name.
    let fd = unsafe {
        libc::openat(
            dir.as_fd().as_raw_fd(),
            name.as_ptr(),
            flags | libc::O_CLOEXEC,
            mode as libc::c_uint,
        )
    };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: the kernel returned a new fd.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// The directory `name` in `dir`, opened O_RDONLY without following a symlink: a symlink or a
/// non-directory there fails the open (ENOTDIR, or ELOOP).
pub fn open_dir_at(dir: impl AsFd, name: &CStr) -> io::Result<OwnedFd> {
    openat(
        dir,
        name,
        libc::O_RDONLY | libc::O_DIRECTORY | libc::O_NOFOLLOW,
    )
}

/// open(2) of a host path with `flags | O_CLOEXEC`.
pub fn open_path(p: &Path, flags: i32) -> Result<OwnedFd, Errno> {
    let c = CString::new(p.as_os_str().as_encoded_bytes()).map_err(|_| Errno::EINVAL)?;
    // SAFETY: valid NUL-terminated path.
    let fd = unsafe { libc::open(c.as_ptr(), flags | libc::O_CLOEXEC) };
    if fd < 0 {
        return Err(Errno::last());
    }
    // SAFETY: the kernel returned a new fd.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Open a directory by path without following a final symlink (O_NOFOLLOW, O_CLOEXEC).
pub fn open_dir_path(p: &Path) -> io::Result<OwnedFd> {
    let c = CString::new(p.as_os_str().as_encoded_bytes())
        .map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
    // SAFETY: valid NUL-terminated path.
    let fd = unsafe {
        libc::open(
            c.as_ptr(),
            libc::O_RDONLY | libc::O_DIRECTORY | libc::O_NOFOLLOW | libc::O_CLOEXEC,
        )
    };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: the kernel returned a new fd.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// lstat of `name` in `dir`; "" names `dir` itself (AT_EMPTY_PATH, which also works on O_PATH fds).
pub fn fstatat_nofollow(dir: impl AsFd, name: &CStr) -> Result<libc::stat, Errno> {
    // SAFETY: zeroed stat is a valid out-buffer.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    let flags = libc::AT_SYMLINK_NOFOLLOW
        | if name.is_empty() {
            libc::AT_EMPTY_PATH
        } else {
            0
        };
    // SAFETY: valid fd, NUL-terminated name and out-pointer.
    let r = unsafe { libc::fstatat(dir.as_fd().as_raw_fd(), name.as_ptr(), &mut st, flags) };
    if r != 0 {
        return Err(Errno::last());
    }
    Ok(st)
}

/// Whether a stat is of a directory.
pub fn is_dir_stat(st: &libc::stat) -> bool {
    st.st_mode & libc::S_IFMT == libc::S_IFDIR
}

/// Whether a stat is of an overlayfs whiteout (a char device 0/0).
pub fn is_whiteout_stat(st: &libc::stat) -> bool {
    st.st_mode & libc::S_IFMT == libc::S_IFCHR && st.st_rdev == 0
}

/// The target of the symlink `name` in `dir`, as stored (never resolved).
pub fn readlinkat(dir: impl AsFd, name: &CStr) -> Result<Vec<u8>, Errno> {
    let mut buf = vec![0u8; libc::PATH_MAX as usize];
    // SAFETY: valid fd, NUL-terminated name, buffer of the given length.
    let n = unsafe {
        libc::readlinkat(
            dir.as_fd().as_raw_fd(),
            name.as_ptr(),
            buf.as_mut_ptr().cast(),
            buf.len(),
        )
    };
    if n < 0 {
        return Err(Errno::last());
    }
    buf.truncate(n as usize);
    Ok(buf)
}

/// Names in a directory (without "." and ".."), sorted for a stable archive.
pub fn list_dir(fd: &OwnedFd) -> io::Result<Vec<CString>> {
    let dup = fd.try_clone()?;
    let mut d = nix::dir::Dir::from_fd(dup).map_err(io::Error::from)?;
    let mut names: Vec<CString> = d
        .iter()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_owned())
        .filter(|n| n.to_bytes() != b"." && n.to_bytes() != b"..")
        .collect();
    names.sort();
    Ok(names)
}

fn check(rc: libc::c_int) -> io::Result<()> {
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// mkdirat(2).
pub fn mkdirat(dir: impl AsFd, name: &CStr, mode: u32) -> io::Result<()> {
    // SAFETY: valid fd and NUL-terminated name.
    check(unsafe { libc::mkdirat(dir.as_fd().as_raw_fd(), name.as_ptr(), mode) })
}

/// mknodat(2): `fmt` is the file type (S_IFCHR, S_IFBLK, S_IFIFO), optionally with mode bits.
pub fn mknodat(dir: impl AsFd, name: &CStr, fmt: u32, dev: libc::dev_t) -> io::Result<()> {
    // SAFETY: valid fd and NUL-terminated name.
    check(unsafe { libc::mknodat(dir.as_fd().as_raw_fd(), name.as_ptr(), fmt, dev) })
}

/// symlinkat(2): `target` is stored as data; nothing here ever resolves it.
pub fn symlinkat(target: &CStr, dir: impl AsFd, name: &CStr) -> io::Result<()> {
    // SAFETY: valid fd and NUL-terminated strings.
    check(unsafe { libc::symlinkat(target.as_ptr(), dir.as_fd().as_raw_fd(), name.as_ptr()) })
}

/// linkat(2) with flags 0: a symlink at the target is linked itself, never followed.
pub fn linkat(odir: impl AsFd, oname: &CStr, ndir: impl AsFd, nname: &CStr) -> io::Result<()> {
    // SAFETY: valid fds and NUL-terminated names.
    check(unsafe {
        libc::linkat(
            odir.as_fd().as_raw_fd(),
            oname.as_ptr(),
            ndir.as_fd().as_raw_fd(),
            nname.as_ptr(),
            0,
        )
    })
}

/// unlinkat(2) (`flags` 0 or AT_REMOVEDIR): removes the name itself, a symlink included.
pub fn unlinkat(dir: impl AsFd, name: &CStr, flags: i32) -> io::Result<()> {
    // SAFETY: valid fd and NUL-terminated name.
    check(unsafe { libc::unlinkat(dir.as_fd().as_raw_fd(), name.as_ptr(), flags) })
}

/// Ownership first, then mode (chown clears setuid bits).
pub fn fchown_mode(fd: impl AsFd, uid: u32, gid: u32, mode: u32) -> io::Result<()> {
    let fd = fd.as_fd().as_raw_fd();
    // SAFETY: valid fd.
    check(unsafe { libc::fchown(fd, uid, gid) })?;
    // SAFETY: valid fd.
    check(unsafe { libc::fchmod(fd, mode) })
}

/// chown of `name` in `dir` itself, a symlink included (AT_SYMLINK_NOFOLLOW).
pub fn lchownat(dir: impl AsFd, name: &CStr, uid: u32, gid: u32) -> io::Result<()> {
    // SAFETY: valid fd and NUL-terminated name.
    check(unsafe {
        libc::fchownat(
            dir.as_fd().as_raw_fd(),
            name.as_ptr(),
            uid,
            gid,
            libc::AT_SYMLINK_NOFOLLOW,
        )
    })
}

/// fchmodat(2) with flags 0. Linux cannot change a symlink's own mode, so this follows a final
/// symlink: call it only on names just created by the caller (device nodes, fifos).
pub fn fchmodat(dir: impl AsFd, name: &CStr, mode: u32) -> io::Result<()> {
    // SAFETY: valid fd and NUL-terminated name.
    check(unsafe { libc::fchmodat(dir.as_fd().as_raw_fd(), name.as_ptr(), mode, 0) })
}

fn timespec(secs: i64) -> libc::timespec {
    libc::timespec {
        tv_sec: secs as libc::time_t,
        tv_nsec: 0,
    }
}

/// Access and modification time of `name` in `dir` itself (a symlink's own times) to `mtime`.
pub fn set_times_at(dir: impl AsFd, name: &CStr, mtime: i64) -> io::Result<()> {
    let ts = [timespec(mtime), timespec(mtime)];
    // SAFETY: valid fd, name and two timespecs.
    check(unsafe {
        libc::utimensat(
            dir.as_fd().as_raw_fd(),
            name.as_ptr(),
            ts.as_ptr(),
            libc::AT_SYMLINK_NOFOLLOW,
        )
    })
}

/// Access and modification time of the open file `fd` to `mtime`.
pub fn set_times_fd(fd: impl AsFd, mtime: i64) -> io::Result<()> {
    let ts = [timespec(mtime), timespec(mtime)];
    // SAFETY: valid fd and two timespecs.
    check(unsafe { libc::futimens(fd.as_fd().as_raw_fd(), ts.as_ptr()) })
}

/// fsetxattr(2) on an open file.
pub fn set_xattr(fd: impl AsFd, name: &CStr, value: &[u8]) -> io::Result<()> {
    // SAFETY: valid fd, NUL-terminated name and a buffer of the given length.
    check(unsafe {
        libc::fsetxattr(
            fd.as_fd().as_raw_fd(),
            name.as_ptr(),
            value.as_ptr().cast(),
            value.len(),
            0,
        )
    })
}

/// The xattr names of `path` (the last component not followed); none where unsupported.
pub fn llist_xattrs(path: &CStr) -> io::Result<Vec<CString>> {
    let mut buf = vec![0u8; 1024];
    loop {
        // SAFETY: NUL-terminated path and a buffer of the given length.
        let n = unsafe { libc::llistxattr(path.as_ptr(), buf.as_mut_ptr().cast(), buf.len()) };
        if n >= 0 {
            buf.truncate(n as usize);
            break;
        }
        match Errno::last() {
            Errno::ERANGE if buf.len() < 1 << 20 => buf.resize(buf.len() * 4, 0),
            Errno::ENOTSUP => return Ok(Vec::new()),
            e => return Err(e.into()),
        }
    }
    Ok(buf
        .split(|b| *b == 0)
        .filter(|s| !s.is_empty())
        .filter_map(|s| CString::new(s).ok())
        .collect())
}

/// The xattr `name` of `path` (the last component not followed), None when it is not set.
pub fn lget_xattr(path: &CStr, name: &CStr) -> io::Result<Option<Vec<u8>>> {
    let mut buf = vec![0u8; 256];
    // SAFETY: NUL-terminated path and name, a buffer of the given length.
    let n = unsafe {
        libc::lgetxattr(
            path.as_ptr(),
            name.as_ptr(),
            buf.as_mut_ptr().cast(),
            buf.len(),
        )
    };
    if n < 0 {
        return match Errno::last() {
            Errno::ENODATA => Ok(None),
            e => Err(e.into()),
        };
    }
    buf.truncate(n as usize);
    Ok(Some(buf))
}
