//! Resolving paths inside a root without ever leaving it (CVE-2021-30465 class).
//!
//! Every lookup goes through openat2(2) with RESOLVE_IN_ROOT (".." and absolute symlinks are
//! clamped to the root) and RESOLVE_NO_MAGICLINKS (no /proc/self/fd tricks). Mounts then target
//! the resulting fd through /proc/self/fd/N, so a symlink swapped in after the check cannot
//! redirect the mount onto the host.
//!
//! The container init calls this between the shim's fork and execve (before pivot_root, with the
//! rootfs fd as root, and after it). The shim is single-threaded, so the forked child may allocate
//! and nothing here needs to be async-signal-safe; the engine uses the same functions to resolve
//! `docker cp` paths inside a container root.

use std::ffi::CString;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::path::{Component, Path};

use nix::errno::Errno;

/// openat2 relative to `root`, resolving `path` as if `root` were "/".
pub fn open_in_root(root: RawFd, path: &Path, flags: i32, mode: u32) -> Result<OwnedFd, Errno> {
    openat2(
        root,
        path,
        flags,
        mode,
        libc::RESOLVE_IN_ROOT | libc::RESOLVE_NO_MAGICLINKS,
    )
}

/// openat2 of `path` below `root` that fails (EXDEV) instead of clamping when `..` or a symlink
/// would leave it: for paths a user names inside a volume (`VolumeOptions.Subpath`), where
/// docker refuses an escape rather than reinterpreting it.
pub fn open_beneath(root: RawFd, path: &Path, flags: i32) -> Result<OwnedFd, Errno> {
    openat2(
        root,
        path,
        flags,
        0,
        libc::RESOLVE_BENEATH | libc::RESOLVE_NO_MAGICLINKS,
    )
}

fn openat2(
    root: RawFd,
    path: &Path,
    flags: i32,
    mode: u32,
    resolve: u64,
) -> Result<OwnedFd, Errno> {
    let rel = relative(path);
    let c = CString::new(rel.as_os_str().as_encoded_bytes()).map_err(|_| Errno::EINVAL)?;
    // libc's open_how is non-exhaustive; the kernel's layout is three u64s.
    #[repr(C)]
    struct OpenHow {
        flags: u64,
        mode: u64,
        resolve: u64,
    }
    let how = OpenHow {
        flags: (flags | libc::O_CLOEXEC) as u64,
        mode: if flags & (libc::O_CREAT | libc::O_TMPFILE) != 0 {
            mode as u64
        } else {
            0
        },
        resolve,
    };
    loop {
        // SAFETY: valid pointers to a NUL-terminated path and an open_how of the size passed.
        let fd = unsafe {
            libc::syscall(
                libc::SYS_openat2,
                root,
                c.as_ptr(),
                &how as *const OpenHow,
                std::mem::size_of::<OpenHow>(),
            )
        };
        if fd >= 0 {
            // SAFETY: the kernel just returned this fd to us.
            return Ok(unsafe { OwnedFd::from_raw_fd(fd as RawFd) });
        }
        match Errno::last() {
            // openat2 returns EAGAIN when a concurrent rename raced the lookup.
            Errno::EAGAIN | Errno::EINTR => continue,
            e => return Err(e),
        }
    }
}

/// `path` with its root and "." components removed (".." is kept: RESOLVE_IN_ROOT clamps it).
fn relative(path: &Path) -> std::path::PathBuf {
    let mut out = std::path::PathBuf::new();
    for c in path.components() {
        match c {
            Component::RootDir | Component::CurDir | Component::Prefix(_) => {}
            Component::ParentDir => out.push(".."),
            Component::Normal(n) => out.push(n),
        }
    }
    if out.as_os_str().is_empty() {
        out.push(".");
    }
    out
}

/// O_PATH fd of the directory `path` inside `root`, creating missing components (mode 0755).
/// Each new component is created with mkdirat on the fd of its already-resolved parent, so
/// nothing is ever created outside the root.
pub fn mkdir_all_in_root(root: RawFd, path: &Path) -> Result<OwnedFd, Errno> {
    let flags = libc::O_PATH | libc::O_DIRECTORY;
    match open_in_root(root, path, flags, 0) {
        Ok(fd) => return Ok(fd),
        Err(Errno::ENOENT) => {}
        Err(e) => return Err(e),
    }
    let mut cur = open_in_root(root, Path::new("/"), flags, 0)?;
    let mut so_far = std::path::PathBuf::from("/");
    for comp in relative(path).components() {
        let name = comp.as_os_str();
        so_far.push(name);
        match open_in_root(root, &so_far, flags, 0) {
            Ok(fd) => cur = fd,
            Err(Errno::ENOENT) => {
                let c = CString::new(name.as_encoded_bytes()).map_err(|_| Errno::EINVAL)?;
                // SAFETY: valid fd and NUL-terminated name.
                let r = unsafe { libc::mkdirat(cur.as_raw_fd(), c.as_ptr(), 0o755) };
                if r < 0 && Errno::last() != Errno::EEXIST {
                    return Err(Errno::last());
                }
                cur = open_in_root(root, &so_far, flags, 0)?;
            }
            Err(e) => return Err(e),
        }
    }
    Ok(cur)
}

/// O_PATH fd of the file `path` inside `root`, creating an empty regular file (and its parent
/// dirs) when missing. Used for bind-mount targets such as /etc/hosts.
pub fn create_file_in_root(root: RawFd, path: &Path) -> Result<OwnedFd, Errno> {
    match open_in_root(root, path, libc::O_PATH, 0) {
        Ok(fd) => return Ok(fd),
        Err(Errno::ENOENT) => {}
        Err(e) => return Err(e),
    }
    let parent = path.parent().unwrap_or(Path::new("/"));
    let name = path.file_name().ok_or(Errno::EINVAL)?;
    let dir = mkdir_all_in_root(root, parent)?;
    // O_PATH fds cannot be used with openat(O_CREAT); reopen the parent as a real directory.
    let dir = open_in_root(
        dir.as_raw_fd(),
        Path::new("."),
        libc::O_DIRECTORY | libc::O_RDONLY,
        0,
    )?;
    let c = CString::new(name.as_encoded_bytes()).map_err(|_| Errno::EINVAL)?;
    // O_NOFOLLOW|O_EXCL: never create through a (dangling) symlink.
    // SAFETY: valid fd and NUL-terminated name.
    let fd = unsafe {
        libc::openat(
            dir.as_raw_fd(),
            c.as_ptr(),
            libc::O_CREAT | libc::O_EXCL | libc::O_NOFOLLOW | libc::O_WRONLY | libc::O_CLOEXEC,
            0o644,
        )
    };
    if fd < 0 && Errno::last() != Errno::EEXIST {
        return Err(Errno::last());
    }
    if fd >= 0 {
        // SAFETY: closing the fd we just opened.
        unsafe { libc::close(fd) };
    }
    open_in_root(root, path, libc::O_PATH, 0)
}

/// "/proc/self/fd/N": the path through which mount(2) reaches exactly the resolved object.
pub fn fd_path(fd: &OwnedFd) -> String {
    format!("/proc/self/fd/{}", fd.as_raw_fd())
}

/// Whether the object behind `fd` is a directory.
pub fn is_dir(fd: &OwnedFd) -> Result<bool, Errno> {
    let st = nix::sys::stat::fstat(fd)?;
    Ok(st.st_mode & libc::S_IFMT == libc::S_IFDIR)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    fn root_fd(dir: &Path) -> OwnedFd {
        let f = std::fs::File::open(dir).unwrap();
        OwnedFd::from(f)
    }

    fn real_path(fd: &OwnedFd) -> std::path::PathBuf {
        std::fs::read_link(fd_path(fd)).unwrap()
    }

    #[test]
    fn absolute_symlink_stays_inside_root() {
        let outside = tempfile::tempdir().unwrap();
        let root = tempfile::tempdir().unwrap();
        std::fs::create_dir(root.path().join("etc")).unwrap();
        std::fs::write(root.path().join("etc/passwd"), "inside").unwrap();
        // A symlink that, followed on the host, would point outside the root.
        symlink(outside.path(), root.path().join("escape")).unwrap();
        symlink("/etc", root.path().join("abs")).unwrap();
        symlink("../../../../../etc", root.path().join("dotdot")).unwrap();
        let r = root_fd(root.path());

        let fd = open_in_root(r.as_raw_fd(), Path::new("/abs/passwd"), libc::O_RDONLY, 0).unwrap();
        assert_eq!(real_path(&fd), root.path().join("etc/passwd"));
        let fd =
            open_in_root(r.as_raw_fd(), Path::new("dotdot/passwd"), libc::O_RDONLY, 0).unwrap();
        assert_eq!(real_path(&fd), root.path().join("etc/passwd"));
        let fd = open_in_root(r.as_raw_fd(), Path::new("/../../etc"), libc::O_PATH, 0).unwrap();
        assert_eq!(real_path(&fd), root.path().join("etc"));

        // A symlink to an absolute host path is resolved inside the root: creating through it
        // either creates inside the root or fails, but never touches the host.
        let res = mkdir_all_in_root(r.as_raw_fd(), Path::new("/escape/sub/dir"));
        if let Ok(fd) = res {
            assert!(real_path(&fd).starts_with(root.path()));
        }
        assert_eq!(std::fs::read_dir(outside.path()).unwrap().count(), 0);
        // Through a symlink to an existing dir inside, creation works and lands inside.
        let fd = mkdir_all_in_root(r.as_raw_fd(), Path::new("/abs/new/dir")).unwrap();
        assert_eq!(real_path(&fd), root.path().join("etc/new/dir"));
    }

    #[test]
    fn create_file_creates_parents_and_refuses_magic_links() {
        let root = tempfile::tempdir().unwrap();
        let r = root_fd(root.path());
        let fd = create_file_in_root(r.as_raw_fd(), Path::new("/etc/deep/hosts")).unwrap();
        assert!(!is_dir(&fd).unwrap());
        assert!(root.path().join("etc/deep/hosts").is_file());
        // Existing files are reused, not truncated.
        std::fs::write(root.path().join("etc/deep/hosts"), "x").unwrap();
        create_file_in_root(r.as_raw_fd(), Path::new("/etc/deep/hosts")).unwrap();
        assert_eq!(
            std::fs::read(root.path().join("etc/deep/hosts")).unwrap(),
            b"x"
        );
        // A dangling symlink pointing outside must not create anything on the host.
        let outside = tempfile::tempdir().unwrap();
        let victim = outside.path().join("victim");
        symlink(&victim, root.path().join("etc/link")).unwrap();
        let _ = create_file_in_root(r.as_raw_fd(), Path::new("/etc/link"));
        assert!(!victim.exists());
        // Magic links are refused.
        symlink("/proc/self/root", root.path().join("magic")).unwrap();
        let e = open_in_root(r.as_raw_fd(), Path::new("/magic/etc"), libc::O_PATH, 0);
        assert!(e.is_err() || real_path(&e.unwrap()).starts_with(root.path()));
    }
}
