//! Writing a tar of an object inside a container root (`GET /archive`, `export`).
//!
//! The walk goes by directory fd and name only, every open with O_NOFOLLOW: symlinks are archived
//! as symlinks, never followed; fifos, devices and sockets never get opened (headers only, sockets
//! skipped as Go's archiver does), so a hostile container cannot make the engine block or read a
//! host file. A regular file gets exactly the size its header announced (zero-padded if it shrank
//! meanwhile, cut if it grew) so the stream stays a valid tar.

use std::collections::HashMap;
use std::ffi::{CStr, CString};
use std::fs::File;
use std::io::{self, Read, Write};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};

use nix::errno::Errno;
use tar::{EntryType, Header};

use super::Resolved;
use crate::fs_at::{fstatat_nofollow, list_dir, openat, readlinkat};

/// Which mounts below the archived object are descended into.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mounts {
    /// Only the filesystem of the root itself (`export`: the container's rootfs, as docker exports
    /// it, without /proc, /sys, volumes or the bind-mounted /etc files).
    SameMount,
    /// Every mount but the kernel's pseudo filesystems (`cp` sees volumes as docker's does).
    SkipPseudo,
}

/// statfs magic numbers of filesystems never archived by content.
const PSEUDO_FS: &[i64] = &[
    0x9fa0,      // proc
    0x6265_6572, // sysfs
    0x1cd1,      // devpts
    0x1980_0202, // mqueue
    0x27e0eb,    // cgroup
    0x6367_7270, // cgroup2
    0x7363_6673, // securityfs
    0x6462_6720, // debugfs
    0xcafe_4a11, // bpf
    0x7472_6163, // tracefs
];

/// Write a tar of the object `res` names, its entries rooted at `base`.
pub fn write_tar<W: Write>(out: W, res: &Resolved, base: &str, mounts: Mounts) -> io::Result<W> {
    let parent = res
        .parent
        .as_ref()
        .ok_or_else(|| io::Error::other("no parent fd"))?;
    let mut w = Walker {
        b: tar::Builder::new(out),
        links: HashMap::new(),
        mounts,
        root_mnt: None,
    };
    w.b.follow_symlinks(false);
    let root_name: CString = res.name.clone();
    let mnt = mount_id(parent.as_fd(), &root_name);
    w.root_mnt = mnt;
    w.entry(parent.as_fd(), &root_name, &res.stat, base)?;
    w.b.into_inner()
}

struct Walker<W: Write> {
    b: tar::Builder<W>,
    /// (dev, ino) → archive name of the first link, for hard links.
    links: HashMap<(u64, u64), String>,
    mounts: Mounts,
    root_mnt: Option<u64>,
}

fn header_for(st: &libc::stat, kind: EntryType) -> Header {
    let mut h = Header::new_gnu();
    h.set_entry_type(kind);
    h.set_mode(st.st_mode & 0o7777);
    h.set_uid(st.st_uid as u64);
    h.set_gid(st.st_gid as u64);
    h.set_mtime(st.st_mtime.max(0) as u64);
    h.set_size(0);
    h
}

/// The directory an entry's name is relative to.
type At<'a> = BorrowedFd<'a>;

impl<W: Write> Walker<W> {
    fn entry(&mut self, dir: At<'_>, name: &CStr, st: &libc::stat, arch: &str) -> io::Result<()> {
        match st.st_mode & libc::S_IFMT {
            libc::S_IFDIR => self.dir(dir, name, st, arch),
            libc::S_IFREG => self.file(dir, name, st, arch),
            libc::S_IFLNK => {
                let target = readlinkat(dir, name).map_err(io::Error::from)?;
                let h = header_for(st, EntryType::Symlink);
                append_raw(&mut self.b, h, arch, Some(&target), io::empty())
            }
            libc::S_IFCHR | libc::S_IFBLK | libc::S_IFIFO => {
                let kind = match st.st_mode & libc::S_IFMT {
                    libc::S_IFCHR => EntryType::Char,
                    libc::S_IFBLK => EntryType::Block,
                    _ => EntryType::Fifo,
                };
                let mut h = header_for(st, kind);
                if kind != EntryType::Fifo {
                    h.set_device_major(libc::major(st.st_rdev))?;
                    h.set_device_minor(libc::minor(st.st_rdev))?;
                }
                append_raw(&mut self.b, h, arch, None, io::empty())
            }
            // Sockets have no archive form (Go's archiver skips them too).
            _ => Ok(()),
        }
    }

    fn file(&mut self, dir: At<'_>, name: &CStr, st: &libc::stat, arch: &str) -> io::Result<()> {
        if st.st_nlink > 1 {
            let key = (st.st_dev, st.st_ino);
            if let Some(first) = self.links.get(&key).cloned() {
                let h = header_for(st, EntryType::Link);
                return append_raw(&mut self.b, h, arch, Some(first.as_bytes()), io::empty());
            }
            self.links.insert(key, arch.to_string());
        }
        let mut h = header_for(st, EntryType::Regular);
        if self.mounts == Mounts::SameMount && self.other_mount(dir, name) {
            // A file bind-mounted over the rootfs (/etc/hosts): its content is not the rootfs's.
            return append_raw(&mut self.b, h, arch, None, io::empty());
        }
        // O_NONBLOCK: if the name was swapped for a fifo since the stat, open must not hang.
        let fd = openat(
            dir,
            name,
            libc::O_RDONLY | libc::O_NOFOLLOW | libc::O_NONBLOCK,
        )?;
        let now = nix::sys::stat::fstat(&fd).map_err(io::Error::from)?;
        if now.st_mode & libc::S_IFMT != libc::S_IFREG {
            return append_raw(&mut self.b, h, arch, None, io::empty());
        }
        h.set_size(st.st_size.max(0) as u64);
        let reader = Exact {
            inner: File::from(fd),
            left: st.st_size.max(0) as u64,
        };
        append_raw(&mut self.b, h, arch, None, reader)
    }

    fn dir(&mut self, dir: At<'_>, name: &CStr, st: &libc::stat, arch: &str) -> io::Result<()> {
        let h = header_for(st, EntryType::Directory);
        let dname = if arch.ends_with('/') {
            arch.to_string()
        } else {
            format!("{arch}/")
        };
        append_raw(&mut self.b, h, &dname, None, io::empty())?;
        let fd = match openat(
            dir,
            name,
            libc::O_RDONLY | libc::O_DIRECTORY | libc::O_NOFOLLOW,
        ) {
            Ok(fd) => fd,
            // Replaced since the stat: the header stands, there is nothing to descend into.
            Err(e)
                if matches!(
                    e.raw_os_error(),
                    Some(libc::ELOOP | libc::ENOTDIR | libc::ENOENT)
                ) =>
            {
                return Ok(())
            }
            Err(e) => return Err(e),
        };
        if !self.descend(&fd) {
            return Ok(());
        }
        for child in list_dir(&fd)? {
            let st = match fstatat_nofollow(&fd, &child) {
                Ok(st) => st,
                Err(Errno::ENOENT) => continue,
                Err(e) => return Err(e.into()),
            };
            let cname = String::from_utf8_lossy(child.to_bytes());
            let carch = format!("{}{}", dname, cname);
            self.entry(fd.as_fd(), &child, &st, &carch)?;
        }
        Ok(())
    }

    fn other_mount(&self, dir: BorrowedFd<'_>, name: &CStr) -> bool {
        match (self.root_mnt, mount_id(dir, name)) {
            (Some(a), Some(b)) => a != b,
            _ => false,
        }
    }

    fn descend(&self, fd: &OwnedFd) -> bool {
        match self.mounts {
            Mounts::SameMount => !self.other_mount(fd.as_fd(), c""),
            Mounts::SkipPseudo => {
                // SAFETY: zeroed statfs is a valid out-buffer.
                let mut sfs: libc::statfs = unsafe { std::mem::zeroed() };
                // SAFETY: valid fd and out-pointer.
                if unsafe { libc::fstatfs(fd.as_raw_fd(), &mut sfs) } != 0 {
                    return true;
                }
                !PSEUDO_FS.contains(&(sfs.f_type as i64))
            }
        }
    }
}

/// Append an entry named exactly `name` (the tar crate's own path setters drop "./", which
/// docker's client needs to rebase "dir/." archives), with GNU long-name and long-link records
/// when a name does not fit the 100-byte fields.
fn append_raw<W: Write, R: Read>(
    b: &mut tar::Builder<W>,
    mut h: Header,
    name: &str,
    link: Option<&[u8]>,
    data: R,
) -> io::Result<()> {
    let long = |b: &mut tar::Builder<W>, kind: EntryType, value: &[u8]| -> io::Result<()> {
        let mut l = Header::new_gnu();
        l.set_entry_type(kind);
        let ll = b"././@LongLink";
        l.as_old_mut().name[..ll.len()].copy_from_slice(ll);
        l.set_mode(0o644);
        let mut v = value.to_vec();
        v.push(0);
        l.set_size(v.len() as u64);
        l.set_cksum();
        b.append(&l, &v[..])
    };
    let nb = name.as_bytes();
    if nb.len() > 100 {
        long(b, EntryType::GNULongName, nb)?;
    }
    let n = nb.len().min(100);
    h.as_old_mut().name[..n].copy_from_slice(&nb[..n]);
    if let Some(t) = link {
        if t.len() > 100 {
            long(b, EntryType::GNULongLink, t)?;
        }
        let m = t.len().min(100);
        h.as_old_mut().linkname[..m].copy_from_slice(&t[..m]);
    }
    h.set_cksum();
    b.append(&h, data)
}

/// Reads exactly `left` bytes: the file's, then zeros if it ended early.
struct Exact {
    inner: File,
    left: u64,
}

impl Read for Exact {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.left == 0 {
            return Ok(0);
        }
        let want = buf.len().min(self.left as usize);
        let n = match self.inner.read(&mut buf[..want]) {
            Ok(0) => {
                buf[..want].fill(0);
                want
            }
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => return Ok(0),
            Err(e) => return Err(e),
        };
        self.left -= n as u64;
        Ok(n)
    }
}

/// The mount id of `name` in `dir` (statx STATX_MNT_ID); "" names `dir` itself.
fn mount_id(dir: BorrowedFd<'_>, name: &CStr) -> Option<u64> {
    // SAFETY: zeroed statx is a valid out-buffer.
    let mut stx: libc::statx = unsafe { std::mem::zeroed() };
    let flags = libc::AT_SYMLINK_NOFOLLOW
        | if name.is_empty() {
            libc::AT_EMPTY_PATH
        } else {
            0
        };
    // SAFETY: valid fd, NUL-terminated name and out-pointer.
    let r = unsafe {
        libc::statx(
            dir.as_raw_fd(),
            name.as_ptr(),
            flags,
            libc::STATX_MNT_ID,
            &mut stx,
        )
    };
    (r == 0 && stx.stx_mask & libc::STATX_MNT_ID != 0).then_some(stx.stx_mnt_id)
}
