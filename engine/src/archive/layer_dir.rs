//! An overlay upper directory made into a layer directory of the store, in place: how a build
//! step's change becomes a layer without archiving it and unpacking the archive again (creating
//! every file twice more costs most of a big COPY on a slow disk).
//!
//! The result is what unpacking the step's layer tar (`layer_tar`, then `image::extract`) would
//! have made: the same names, types, owners, modes and contents; overlay whiteouts (0/0 character
//! devices) kept as they are, an opaque directory marked with `trusted.overlay.opaque=y` (also
//! when the mount used `user.overlay.opaque`); only the xattrs a layer tar records
//! (`security.capability`, `user.*` but overlay's) left on entries; modification times cut to
//! whole seconds, as the tar holds them; sockets (which have no tar form) removed; the root
//! directory root-owned 0755 like a freshly made layer dir. An upper written with overlay's
//! redirect_dir or metacopy features does not hold the full content of what it shows: refused,
//! as `layer_tar` refuses it.
//!
//! Everything happens by directory fd and name without following symlinks; xattrs of entries are
//! reached through `/proc/self/fd/<dir>/<name>` with the l* calls, which never follow the last
//! component either.

use std::collections::HashSet;
use std::ffi::{CStr, CString};
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::path::Path;

use crate::fs_at::{
    fstatat_nofollow, lget_xattr, list_dir, llist_xattrs, open_dir_at, open_dir_path,
};

const OPAQUE: &CStr = c"trusted.overlay.opaque";

/// Normalise the upper dir at `dir` into a layer dir; returns the sum of its regular files'
/// sizes (the layer's content size).
pub fn adopt_upper(dir: &Path) -> io::Result<u64> {
    let root = open_dir_path(dir)?;
    let mut size = Size::default();
    normalise_dir(&root, &mut size)?;
    // SAFETY: valid fd.
    check(unsafe { libc::fchown(root.as_raw_fd(), 0, 0) })?;
    // SAFETY: valid fd.
    check(unsafe { libc::fchmod(root.as_raw_fd(), 0o755) })?;
    fix_xattrs(&entry_path(&root, c"."), true)?;
    Ok(size.bytes)
}

/// Content size as unpacking counts it: a hard-linked file's bytes once.
#[derive(Default)]
struct Size {
    bytes: u64,
    linked: HashSet<(u64, u64)>,
}

fn normalise_dir(dir: &OwnedFd, size: &mut Size) -> io::Result<()> {
    for name in list_dir(dir)? {
        let st = fstatat_nofollow(dir, &name).map_err(io::Error::from)?;
        let fmt = st.st_mode & libc::S_IFMT;
        if fmt == libc::S_IFSOCK {
            // SAFETY: valid fd and NUL-terminated name.
            check(unsafe { libc::unlinkat(dir.as_raw_fd(), name.as_ptr(), 0) })?;
            continue;
        }
        let path = entry_path(dir, &name);
        if fmt == libc::S_IFDIR {
            let sub = open_dir_at(dir, &name)?;
            normalise_dir(&sub, size)?;
        } else if fmt == libc::S_IFREG
            && (st.st_nlink < 2 || size.linked.insert((st.st_dev, st.st_ino)))
        {
            size.bytes += st.st_size as u64;
        }
        fix_xattrs(&path, fmt == libc::S_IFDIR)?;
        // Last, since removing a socket below a directory changes its mtime.
        truncate_mtime(dir.as_fd(), &name, st.st_mtime)?;
    }
    Ok(())
}

/// `/proc/self/fd/<dir>/<name>`: the entry, reachable by path without resolving anything but the
/// directory's fd.
fn entry_path(dir: &OwnedFd, name: &CStr) -> CString {
    let mut p = format!("/proc/self/fd/{}/", dir.as_raw_fd()).into_bytes();
    p.extend_from_slice(name.to_bytes());
    CString::new(p).expect("no NUL in a directory entry name")
}

/// Keep the xattrs a layer records; refuse overlay's redirect and metacopy markers; make an
/// opaque directory's marker the trusted one.
fn fix_xattrs(path: &CStr, is_dir: bool) -> io::Result<()> {
    let mut opaque = false;
    for name in llist_xattrs(path)? {
        let n = name.to_bytes();
        if n == b"trusted.overlay.redirect" || n == b"trusted.overlay.metacopy" {
            return Err(io::Error::other(format!(
                "{}: overlay redirect_dir or metacopy is in use; the upper dir does not hold the layer",
                String::from_utf8_lossy(path.to_bytes())
            )));
        }
        if is_dir && (n == b"trusted.overlay.opaque" || n == b"user.overlay.opaque") {
            opaque |= lget_xattr(path, &name)?.as_deref() == Some(b"y");
        }
        let keep = n == b"security.capability"
            || (n.starts_with(b"user.") && !n.starts_with(b"user.overlay."));
        if !keep {
            // SAFETY: NUL-terminated path and name.
            check(unsafe { libc::lremovexattr(path.as_ptr(), name.as_ptr()) })?;
        }
    }
    if opaque {
        // SAFETY: NUL-terminated path and name, a 1-byte value.
        check(unsafe {
            libc::lsetxattr(path.as_ptr(), OPAQUE.as_ptr(), b"y".as_ptr().cast(), 1, 0)
        })?;
    }
    Ok(())
}

fn truncate_mtime(dir: BorrowedFd<'_>, name: &CStr, mtime: i64) -> io::Result<()> {
    let t = libc::timespec {
        tv_sec: mtime,
        tv_nsec: 0,
    };
    let ts = [t, t];
    // SAFETY: valid fd, NUL-terminated name and two timespecs.
    check(unsafe {
        libc::utimensat(
            dir.as_raw_fd(),
            name.as_ptr(),
            ts.as_ptr(),
            libc::AT_SYMLINK_NOFOLLOW,
        )
    })
}

fn check(rc: libc::c_int) -> io::Result<()> {
    if rc < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::fs;
    use std::os::unix::fs::MetadataExt;

    use super::*;
    use crate::archive::layer_tar::write_layer_tar;

    fn setxattr(p: &Path, name: &str, value: &[u8]) {
        let p = CString::new(p.as_os_str().as_encoded_bytes()).unwrap();
        let n = CString::new(name).unwrap();
        // SAFETY: NUL-terminated strings, a buffer of the given length.
        let rc = unsafe {
            libc::lsetxattr(
                p.as_ptr(),
                n.as_ptr(),
                value.as_ptr().cast(),
                value.len(),
                0,
            )
        };
        assert_eq!(rc, 0, "lsetxattr {name}: {}", io::Error::last_os_error());
    }

    fn xattr_names(p: &Path) -> Vec<String> {
        let p = CString::new(p.as_os_str().as_encoded_bytes()).unwrap();
        let mut v: Vec<String> = llist_xattrs(&p)
            .unwrap()
            .iter()
            .map(|n| n.to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    /// An upper dir as a RUN step leaves it: files with sub-second mtimes, overlay's bookkeeping
    /// xattrs, a user xattr, a whiteout, an opaque dir (user.overlay form), a socket.
    fn sample_upper(d: &Path) {
        fs::create_dir_all(d.join("etc/conf.d")).unwrap();
        fs::write(d.join("etc/app.conf"), b"x=1\n").unwrap();
        fs::write(d.join("etc/conf.d/a"), vec![7u8; 5000]).unwrap();
        std::os::unix::fs::symlink("app.conf", d.join("etc/link")).unwrap();
        fs::hard_link(d.join("etc/app.conf"), d.join("etc/hard")).unwrap();
        nix::sys::stat::mknod(
            &d.join("etc/gone"),
            nix::sys::stat::SFlag::S_IFCHR,
            nix::sys::stat::Mode::empty(),
            0,
        )
        .unwrap();
        setxattr(&d.join("etc/app.conf"), "user.note", b"kept");
        setxattr(&d.join("etc/app.conf"), "trusted.overlay.origin", b"\0\x01");
        setxattr(&d.join("etc"), "trusted.overlay.impure", b"y");
        setxattr(&d.join("etc/conf.d"), "user.overlay.opaque", b"y");
        let _sock = std::os::unix::net::UnixListener::bind(d.join("etc/app.sock")).unwrap();
        let t = libc::timespec {
            tv_sec: 1_700_000_000,
            tv_nsec: 123_456_789,
        };
        for p in ["etc/app.conf", "etc/conf.d/a", "etc/conf.d", "etc"] {
            let c = CString::new(d.join(p).as_os_str().as_encoded_bytes()).unwrap();
            // SAFETY: NUL-terminated path and two timespecs.
            unsafe { libc::utimensat(libc::AT_FDCWD, c.as_ptr(), [t, t].as_ptr(), 0) };
        }
    }

    #[test]
    fn an_adopted_upper_archives_exactly_as_the_upper_did() {
        let tmp = tempfile::tempdir().unwrap();
        let upper = tmp.path().join("upper");
        sample_upper(&upper);
        let before = write_layer_tar(&upper, Vec::new()).unwrap();
        let size = adopt_upper(&upper).unwrap();
        assert_eq!(size, 4 + 5000, "regular files, a hard-linked one once");
        let after = write_layer_tar(&upper, Vec::new()).unwrap();
        assert!(before == after, "the layer tar must not change");

        assert!(
            !upper.join("etc/app.sock").exists(),
            "sockets have no tar form"
        );
        assert_eq!(xattr_names(&upper.join("etc/app.conf")), ["user.note"]);
        assert!(xattr_names(&upper.join("etc")).is_empty());
        assert_eq!(
            xattr_names(&upper.join("etc/conf.d")),
            ["trusted.overlay.opaque"]
        );
        let m = fs::metadata(upper.join("etc/app.conf")).unwrap();
        assert_eq!((m.mtime(), m.mtime_nsec()), (1_700_000_000, 0));
        let w = fs::symlink_metadata(upper.join("etc/gone")).unwrap();
        assert_eq!(w.rdev(), 0, "the whiteout stays");
        let root = fs::metadata(&upper).unwrap();
        assert_eq!((root.mode() & 0o7777, root.uid()), (0o755, 0));
    }

    #[test]
    fn redirect_dirs_are_refused() {
        let tmp = tempfile::tempdir().unwrap();
        fs::create_dir_all(tmp.path().join("moved")).unwrap();
        setxattr(
            &tmp.path().join("moved"),
            "trusted.overlay.redirect",
            b"/orig",
        );
        let e = adopt_upper(tmp.path()).unwrap_err();
        assert!(e.to_string().contains("redirect_dir"), "{e}");
    }
}
