//! User mounts (volumes, binds, tmpfs), performed after the standard mounts and before
//! pivot_root.
//!
//! Every destination is resolved inside the rootfs: symlinks are expanded one component at a
//! time against the rootfs (absolute links and ".." clamped to it, as RESOLVE_IN_ROOT does), so
//! even a dangling link such as `/target -> ../../../../host/dir` ends up creating
//! `<rootfs>/host/dir`, never the host's. Missing directories (or an empty file, for a file
//! bind) are created from already-resolved parent fds, and mount(2) targets the final O_PATH fd
//! through /proc/self/fd/N, so a symlink swapped in after the check cannot redirect it
//! (CVE-2021-30465 class). A destination that still resolves into /proc is refused.
//!
//! Volumes get docker's copy-up first: when the volume directory is empty, the image's content
//! at the destination is copied into it, keeping owners, modes and symlinks, without following
//! any link.

use std::ffi::{CString, OsStr, OsString};
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Component, Path, PathBuf};

use nix::errno::Errno;
use nix::mount::MsFlags;

use super::mounts::{mount_on_fd, remount_readonly};
use super::{ErrnoCtx, InitError, InitResult};
use crate::fs_at::in_root::{create_file_in_root, fd_path, mkdir_all_in_root, open_in_root};
use crate::fs_at::{
    fchmodat, fchown_mode, fstatat_nofollow, lchownat, mkdirat, mknodat, openat, readlinkat,
    symlinkat,
};
use crate::runtime::spec::{MountKind, MountSpec};

/// Links expanded while resolving one destination before giving up (the kernel's MAXSYMLINKS).
const MAX_SYMLINKS: usize = 40;

pub fn mount_all(rootfs: &Path, mounts: &[MountSpec]) -> InitResult<()> {
    if mounts.is_empty() {
        return Ok(());
    }
    // Canonical, so the containment check compares like with like.
    let rootfs =
        std::fs::canonicalize(rootfs).ctx(format!("resolve rootfs {}", rootfs.display()))?;
    let root: OwnedFd = std::fs::File::open(&rootfs)
        .ctx(format!("open rootfs {}", rootfs.display()))?
        .into();
    for m in mounts {
        mount_one(root.as_raw_fd(), &rootfs, m)?;
    }
    Ok(())
}

fn mount_one(root: RawFd, rootfs: &Path, m: &MountSpec) -> InitResult<()> {
    let dest = resolve_in_root(root, Path::new(&m.destination))
        .ctx(format!("resolve mount destination {}", m.destination))?;
    match m.kind {
        MountKind::Tmpfs => {
            let fd = mkdir_all_in_root(root, &dest)
                .ctx(format!("create mount point {}", m.destination))?;
            check_target(&fd, rootfs, &m.destination)?;
            let mut flags = tmpfs_flags(&m.flags);
            if m.readonly {
                flags |= MsFlags::MS_RDONLY;
            }
            let data = (!m.data.is_empty()).then_some(m.data.as_str());
            mount_on_fd(Some("tmpfs"), &fd, Some("tmpfs"), flags, data)
                .ctx(format!("mount tmpfs on {}", m.destination))
        }
        MountKind::Bind => {
            let meta =
                std::fs::metadata(&m.source).ctx(format!("bind source {}", m.source.display()))?;
            if m.copy_up && meta.is_dir() {
                copy_up(root, &dest, &m.source).map_err(|e| {
                    InitError::setup(format!(
                        "copy image content at {} into the volume: {e}",
                        m.destination
                    ))
                })?;
            }
            let fd = if meta.is_dir() {
                mkdir_all_in_root(root, &dest)
            } else {
                create_file_in_root(root, &dest)
            }
            .ctx(format!("create mount point {}", m.destination))?;
            check_target(&fd, rootfs, &m.destination)?;
            let src = m.source.to_string_lossy().into_owned();
            mount_on_fd(
                Some(src.as_str()),
                &fd,
                None,
                MsFlags::MS_BIND | MsFlags::MS_REC,
                None,
            )
            .ctx(format!("bind {} on {}", m.source.display(), m.destination))?;
            // The old fd names the directory underneath; reopen to reach the new mount.
            let fd = open_in_root(root, &dest, libc::O_PATH, 0)
                .ctx(format!("reopen {}", m.destination))?;
            // A bind of a shared host mount joins its peer group: it stays private unless the
            // user asked for shared or slave propagation.
            mount_on_fd(None, &fd, None, propagation_flags(&m.propagation), None)
                .ctx(format!("make {} {}", m.destination, m.propagation))?;
            if m.readonly {
                remount_readonly(&fd).ctx(format!("remount {} read-only", m.destination))?;
            }
            Ok(())
        }
    }
}

/// The resolved target must be inside the rootfs and outside its /proc.
/// docker's bind propagation names as mount(2) flags; empty is docker's default, rprivate.
pub(crate) fn propagation_flags(name: &str) -> MsFlags {
    match name {
        "private" => MsFlags::MS_PRIVATE,
        "shared" => MsFlags::MS_SHARED,
        "rshared" => MsFlags::MS_REC | MsFlags::MS_SHARED,
        "slave" => MsFlags::MS_SLAVE,
        "rslave" => MsFlags::MS_REC | MsFlags::MS_SLAVE,
        _ => MsFlags::MS_REC | MsFlags::MS_PRIVATE,
    }
}

fn check_target(fd: &OwnedFd, rootfs: &Path, dest: &str) -> InitResult<()> {
    let real = std::fs::read_link(fd_path(fd)).ctx(format!("readlink {dest}"))?;
    let inside = real.strip_prefix(rootfs).map_err(|_| {
        InitError::setup(format!(
            "mount destination {dest} resolves outside the container ({})",
            real.display()
        ))
    })?;
    if inside.starts_with("proc") {
        return Err(InitError::setup(format!(
            "mount destination {dest} resolves into /proc, which is not allowed"
        )));
    }
    Ok(())
}

fn tmpfs_flags(names: &[String]) -> MsFlags {
    let mut f = MsFlags::empty();
    for n in names {
        f |= match n.as_str() {
            "nosuid" => MsFlags::MS_NOSUID,
            "nodev" => MsFlags::MS_NODEV,
            "noexec" => MsFlags::MS_NOEXEC,
            "noatime" => MsFlags::MS_NOATIME,
            "nodiratime" => MsFlags::MS_NODIRATIME,
            "relatime" => MsFlags::MS_RELATIME,
            "strictatime" => MsFlags::MS_STRICTATIME,
            "sync" => MsFlags::MS_SYNCHRONOUS,
            "dirsync" => MsFlags::MS_DIRSYNC,
            _ => MsFlags::empty(),
        };
    }
    f
}

fn cstr(name: &OsStr) -> Result<CString, Errno> {
    CString::new(name.as_bytes()).map_err(|_| Errno::EINVAL)
}

/// Expand symlinks of `path` against `root` component by component, like RESOLVE_IN_ROOT but
/// also through links whose target does not exist yet. Returns a path without symlinks or ".."
/// (relative to the root, starting with "/"); components past the first missing one are kept
/// as given (cleaned), since what does not exist cannot be a link.
pub fn resolve_in_root(root: RawFd, path: &Path) -> Result<PathBuf, Errno> {
    let mut resolved = PathBuf::from("/");
    let mut pending: Vec<OsString> = components(path);
    pending.reverse();
    let mut links = 0;
    let mut missing = false;
    while let Some(comp) = pending.pop() {
        if comp == ".." {
            resolved.pop();
            continue;
        }
        let candidate = resolved.join(&comp);
        if missing {
            resolved = candidate;
            continue;
        }
        let parent = open_in_root(root, &resolved, libc::O_PATH | libc::O_DIRECTORY, 0)?;
        let name = cstr(&comp)?;
        let st = match fstatat_nofollow(&parent, &name) {
            Ok(st) => st,
            Err(Errno::ENOENT) => {
                missing = true;
                resolved = candidate;
                continue;
            }
            Err(e) => return Err(e),
        };
        if st.st_mode & libc::S_IFMT != libc::S_IFLNK {
            resolved = candidate;
            continue;
        }
        links += 1;
        if links > MAX_SYMLINKS {
            return Err(Errno::ELOOP);
        }
        let target = OsString::from_vec(readlinkat(&parent, &name)?);
        let target = Path::new(&target);
        if target.is_absolute() {
            resolved = PathBuf::from("/");
        }
        let mut more = components(target);
        more.reverse();
        pending.extend(more);
    }
    Ok(resolved)
}

fn components(p: &Path) -> Vec<OsString> {
    p.components()
        .filter_map(|c| match c {
            Component::Normal(n) => Some(n.to_owned()),
            Component::ParentDir => Some(OsString::from("..")),
            _ => None,
        })
        .collect()
}

/// Docker's copy-up: when the volume directory `volume` is empty and the image has a directory
/// at `dest`, copy that directory's content into the volume (owners, modes, symlinks, device
/// nodes), and give the volume root the directory's owner and mode.
pub fn copy_up(root: RawFd, dest: &Path, volume: &Path) -> Result<(), Errno> {
    let src = match open_in_root(root, dest, libc::O_DIRECTORY | libc::O_RDONLY, 0) {
        Ok(fd) => fd,
        // Nothing (or no directory) in the image at that path: nothing to copy.
        Err(Errno::ENOENT) | Err(Errno::ENOTDIR) => return Ok(()),
        Err(e) => return Err(e),
    };
    let dst: OwnedFd = std::fs::File::open(volume)
        .map_err(|e| Errno::from_raw(e.raw_os_error().unwrap_or(libc::EIO)))?
        .into();
    if !dir_is_empty(&dst)? {
        return Ok(());
    }
    copy_tree(&src, &dst)?;
    let st = nix::sys::stat::fstat(&src)?;
    // SAFETY: plain syscalls on fds we own.
    unsafe {
        if libc::fchown(dst.as_raw_fd(), st.st_uid, st.st_gid) < 0 {
            return Err(Errno::last());
        }
        if libc::fchmod(dst.as_raw_fd(), st.st_mode & 0o7777) < 0 {
            return Err(Errno::last());
        }
    }
    Ok(())
}

fn dir_is_empty(dir: &OwnedFd) -> Result<bool, Errno> {
    let d = nix::dir::Dir::openat(
        dir,
        ".",
        nix::fcntl::OFlag::O_RDONLY | nix::fcntl::OFlag::O_DIRECTORY,
        nix::sys::stat::Mode::empty(),
    )?;
    let mut d = d;
    for e in d.iter() {
        let e = e?;
        let n = e.file_name().to_bytes();
        if n != b"." && n != b".." {
            return Ok(false);
        }
    }
    Ok(true)
}

/// Copy the tree under `src_root` into `dst_root` without recursion: directories to visit are
/// kept as paths relative to both roots and reopened with RESOLVE_IN_ROOT, so at most a few fds
/// are open however wide or deep the tree is, and nothing can be reached outside either root.
fn copy_tree(src_root: &OwnedFd, dst_root: &OwnedFd) -> Result<(), Errno> {
    let mut todo: Vec<PathBuf> = vec![PathBuf::from(".")];
    while let Some(rel) = todo.pop() {
        let flags = libc::O_DIRECTORY | libc::O_RDONLY | libc::O_NOFOLLOW;
        let s = open_in_root(src_root.as_raw_fd(), &rel, flags, 0)?;
        let d = open_in_root(dst_root.as_raw_fd(), &rel, flags, 0)?;
        let mut dir = nix::dir::Dir::openat(
            &s,
            ".",
            nix::fcntl::OFlag::O_RDONLY | nix::fcntl::OFlag::O_DIRECTORY,
            nix::sys::stat::Mode::empty(),
        )?;
        let names: Vec<CString> = dir
            .iter()
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_owned())
            .filter(|n| n.to_bytes() != b"." && n.to_bytes() != b"..")
            .collect();
        for name in names {
            if copy_entry(&s, &d, &name)? {
                todo.push(rel.join(OsStr::from_bytes(name.to_bytes())));
            }
        }
    }
    Ok(())
}

/// Copy one entry; returns true for a directory whose content still has to be copied.
fn copy_entry(s: &OwnedFd, d: &OwnedFd, name: &CString) -> Result<bool, Errno> {
    let errno = |e: std::io::Error| Errno::from_raw(e.raw_os_error().unwrap_or(libc::EIO));
    let st = fstatat_nofollow(s, name)?;
    let mode = st.st_mode & 0o7777;
    let chown_nofollow = || lchownat(d, name, st.st_uid, st.st_gid).map_err(errno);
    match st.st_mode & libc::S_IFMT {
        libc::S_IFDIR => {
            match mkdirat(d, name, 0o700) {
                Ok(()) => {}
                Err(e) if e.raw_os_error() == Some(libc::EEXIST) => {}
                Err(e) => return Err(errno(e)),
            }
            chown_nofollow()?;
            fchmodat(d, name, mode).map_err(errno)?;
            Ok(true)
        }
        libc::S_IFREG => {
            let mut from = std::fs::File::from(
                openat(s, name, libc::O_RDONLY | libc::O_NOFOLLOW).map_err(errno)?,
            );
            let flags = libc::O_WRONLY | libc::O_CREAT | libc::O_EXCL | libc::O_NOFOLLOW;
            let mut to = std::fs::File::from(openat(d, name, flags).map_err(errno)?);
            std::io::copy(&mut from, &mut to).map_err(errno)?;
            // chown clears setuid/setgid, so the mode goes last.
            fchown_mode(&to, st.st_uid, st.st_gid, mode).map_err(errno)?;
            Ok(false)
        }
        libc::S_IFLNK => {
            let target = CString::new(readlinkat(s, name)?).map_err(|_| Errno::EINVAL)?;
            symlinkat(&target, d, name).map_err(errno)?;
            chown_nofollow()?;
            Ok(false)
        }
        libc::S_IFIFO | libc::S_IFCHR | libc::S_IFBLK => {
            mknodat(d, name, st.st_mode, st.st_rdev).map_err(errno)?;
            chown_nofollow()?;
            fchmodat(d, name, mode).map_err(errno)?;
            Ok(false)
        }
        // Sockets cannot be copied meaningfully; docker skips them too.
        _ => Ok(false),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::{symlink, MetadataExt, PermissionsExt};

    fn root_fd(dir: &Path) -> OwnedFd {
        std::fs::File::open(dir).unwrap().into()
    }

    #[test]
    fn dangling_links_resolve_inside_the_root() {
        let root = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        std::fs::create_dir(root.path().join("etc")).unwrap();
        symlink("/etc", root.path().join("abs")).unwrap();
        symlink("../../../../../../nowhere/deep", root.path().join("up")).unwrap();
        symlink(outside.path(), root.path().join("host")).unwrap();
        symlink("loop", root.path().join("loop")).unwrap();
        let r = root_fd(root.path());
        let got = |p: &str| resolve_in_root(r.as_raw_fd(), Path::new(p));
        assert_eq!(got("/abs/x").unwrap(), PathBuf::from("/etc/x"));
        assert_eq!(got("/up").unwrap(), PathBuf::from("/nowhere/deep"));
        assert_eq!(got("/up/../z").unwrap(), PathBuf::from("/nowhere/z"));
        assert_eq!(got("/host/sub").unwrap(), outside.path().join("sub"));
        assert_eq!(got("/loop"), Err(Errno::ELOOP));
        // Creating through the result lands inside the root, never in `outside`.
        let p = got("/host/sub").unwrap();
        let fd = mkdir_all_in_root(r.as_raw_fd(), &p).unwrap();
        assert!(std::fs::read_link(fd_path(&fd))
            .unwrap()
            .starts_with(root.path()));
        assert_eq!(std::fs::read_dir(outside.path()).unwrap().count(), 0);
    }

    #[test]
    fn copy_up_keeps_modes_owners_and_links_and_skips_full_volumes() {
        let root = tempfile::tempdir().unwrap();
        let vol = tempfile::tempdir().unwrap();
        let data = root.path().join("data");
        std::fs::create_dir_all(data.join("sub/deeper")).unwrap();
        std::fs::write(data.join("sub/deeper/f"), "content").unwrap();
        std::fs::set_permissions(
            data.join("sub/deeper/f"),
            std::fs::Permissions::from_mode(0o640),
        )
        .unwrap();
        std::os::unix::fs::chown(data.join("sub/deeper/f"), Some(1234), Some(5678)).unwrap();
        std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o1777)).unwrap();
        symlink("/etc/passwd", data.join("link")).unwrap();
        let r = root_fd(root.path());
        copy_up(r.as_raw_fd(), Path::new("/data"), vol.path()).unwrap();
        let f = vol.path().join("sub/deeper/f");
        assert_eq!(std::fs::read_to_string(&f).unwrap(), "content");
        let m = std::fs::metadata(&f).unwrap();
        assert_eq!((m.mode() & 0o7777, m.uid(), m.gid()), (0o640, 1234, 5678));
        assert_eq!(
            std::fs::read_link(vol.path().join("link")).unwrap(),
            PathBuf::from("/etc/passwd")
        );
        assert_eq!(
            std::fs::metadata(vol.path()).unwrap().mode() & 0o7777,
            0o1777
        );
        // A volume with content is left alone.
        std::fs::write(data.join("new"), "x").unwrap();
        copy_up(r.as_raw_fd(), Path::new("/data"), vol.path()).unwrap();
        assert!(!vol.path().join("new").exists());
        // No directory in the image: nothing happens.
        let empty = tempfile::tempdir().unwrap();
        copy_up(r.as_raw_fd(), Path::new("/missing"), empty.path()).unwrap();
        assert_eq!(std::fs::read_dir(empty.path()).unwrap().count(), 0);
    }
}
