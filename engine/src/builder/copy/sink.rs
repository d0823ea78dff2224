//! Writing a tree below a destination directory fd, with the rules of docker's untar
//! (`pkg/archive.Unpack`), which is how the legacy builder lands COPY/ADD content:
//! an existing entry is removed and replaced unless both are directories (then the directory is
//! kept and only its metadata is set); modes, owners and mtimes come from the source; directory
//! times are set last, deepest first, so writing children does not disturb them.
//!
//! Every call is relative to an fd with O_NOFOLLOW: a symlink in the target (an image may hold
//! any) is replaced like any other entry, never followed, so nothing lands outside the base.

use std::collections::HashMap;
use std::ffi::CString;
use std::fs::File;
use std::io::{self, Read};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

use crate::fs_at::beneath::walk_dirs;
use crate::fs_at::remove::remove_at;
use crate::fs_at::{
    fchmodat, fchown_mode, fstatat_nofollow, is_dir_stat, lchownat, linkat, mkdirat, mknodat,
    open_dir_at, openat, set_times_at, set_times_fd, set_xattr, symlinkat,
};

use super::source::cname;

/// What to create.
pub enum Node<'r> {
    Dir,
    File(&'r mut dyn Read),
    /// A regular file from the host: copied in the kernel (copy_file_range) where it can be.
    HostFile(&'r mut File),
    Symlink(&'r [u8]),
    Fifo,
    Char(u64),
    Block(u64),
    /// A hard link to an entry written earlier, named by its components below the base.
    HardLink(&'r [Vec<u8>]),
}

/// The metadata an entry is written with.
#[derive(Debug, Clone)]
pub struct Attrs {
    pub perm: u32,
    pub uid: u32,
    pub gid: u32,
    pub mtime: i64,
    pub capability: Option<Vec<u8>>,
}

/// Directories below `root` named by `comps`, each opened with O_NOFOLLOW; missing ones are made
/// with mode 0755 and, when `owner` is given, chowned to it (docker's `MkdirAllAndChownNew`).
pub fn ensure_dirs(
    root: BorrowedFd<'_>,
    comps: &[Vec<u8>],
    owner: Option<(u32, u32)>,
) -> io::Result<OwnedFd> {
    let mut cur = root.try_clone_to_owned()?;
    for comp in comps {
        let c = cname(comp)?;
        cur = match open_dir_at(&cur, &c) {
            Ok(fd) => fd,
            Err(e) if e.raw_os_error() == Some(libc::ENOENT) => {
                mkdirat(&cur, &c, 0o700)?;
                let fd = open_dir_at(&cur, &c)?;
                let (uid, gid) = owner.unwrap_or((0, 0));
                fchown_mode(&fd, uid, gid, 0o755)?;
                fd
            }
            Err(e) => return Err(e),
        };
    }
    Ok(cur)
}

/// Whether `comps` below `root` is an existing directory (no symlink followed).
pub fn is_existing_dir(root: BorrowedFd<'_>, comps: &[Vec<u8>]) -> bool {
    walk_dirs(root, comps, false).is_ok()
}

/// A tree being written below `base`.
pub struct Sink {
    base: OwnedFd,
    dir_times: Vec<(Vec<Vec<u8>>, i64)>,
    /// The parent directory of the last entry: siblings come in a row, so most entries reuse it.
    /// Dropped whenever anything is removed, so it never names a replaced directory.
    last_parent: Option<(Vec<Vec<u8>>, OwnedFd)>,
}

impl Sink {
    pub fn new(base: OwnedFd) -> Sink {
        Sink {
            base,
            dir_times: Vec::new(),
            last_parent: None,
        }
    }

    /// Write `node` at `comps` below the base. An empty `comps` (a tar's "./") is skipped, as
    /// docker skips it when the destination exists.
    pub fn put(&mut self, comps: &[Vec<u8>], node: Node<'_>, attrs: &Attrs) -> io::Result<()> {
        let Some((_, parents)) = comps.split_last() else {
            return Ok(());
        };
        // Parents not written before (an archive may omit them) are made root-owned, 0755.
        let parent = match self.last_parent.take() {
            Some((comps, fd)) if comps == parents => fd,
            _ => ensure_dirs(self.base.as_fd(), parents, None)?,
        };
        let r = self.put_in(&parent, comps, node, attrs);
        self.last_parent = Some((parents.to_vec(), parent));
        r
    }

    fn put_in(
        &mut self,
        parent: &OwnedFd,
        comps: &[Vec<u8>],
        node: Node<'_>,
        attrs: &Attrs,
    ) -> io::Result<()> {
        let Some(name) = comps.last() else {
            return Ok(());
        };
        let name = cname(name)?;
        let want_dir = matches!(node, Node::Dir);
        let mut keep = false;
        if let Ok(st) = fstatat_nofollow(parent, &name) {
            if is_dir_stat(&st) && want_dir {
                keep = true;
            } else {
                self.last_parent = None;
                remove_at(parent, &name, is_dir_stat(&st))?;
            }
        }
        match node {
            Node::Dir => {
                if !keep {
                    mkdirat(parent, &name, 0o700)?;
                }
                let fd = open_dir_at(parent, &name)?;
                fchown_mode(&fd, attrs.uid, attrs.gid, attrs.perm)?;
                self.dir_times.push((comps.to_vec(), attrs.mtime));
            }
            Node::File(_) | Node::HostFile(_) => {
                let fd = openat(
                    parent,
                    &name,
                    libc::O_CREAT | libc::O_EXCL | libc::O_WRONLY | libc::O_NOFOLLOW,
                )?;
                let mut f = File::from(fd);
                match node {
                    // File to File: std's io::copy uses copy_file_range/sendfile.
                    Node::HostFile(src) => io::copy(src, &mut f)?,
                    Node::File(reader) => io::copy(reader, &mut f)?,
                    _ => 0,
                };
                fchown_mode(&f, attrs.uid, attrs.gid, attrs.perm)?;
                if let Some(cap) = &attrs.capability {
                    // Best effort, as docker: a filesystem without xattrs still gets the file.
                    let _ = set_xattr(&f, c"security.capability", cap);
                }
                set_times_fd(&f, attrs.mtime)?;
            }
            Node::Symlink(target) => {
                let t = CString::new(target).map_err(|_| super::resolve::invalid_name())?;
                symlinkat(&t, parent, &name)?;
                lchownat(parent, &name, attrs.uid, attrs.gid)?;
                set_times_at(parent, &name, attrs.mtime)?;
            }
            Node::Fifo | Node::Char(_) | Node::Block(_) => {
                let (fmt, dev) = match node {
                    Node::Char(d) => (libc::S_IFCHR, d),
                    Node::Block(d) => (libc::S_IFBLK, d),
                    _ => (libc::S_IFIFO, 0),
                };
                mknodat(parent, &name, fmt, dev as libc::dev_t)?;
                lchownat(parent, &name, attrs.uid, attrs.gid)?;
                fchmodat(parent, &name, attrs.perm)?;
                set_times_at(parent, &name, attrs.mtime)?;
            }
            Node::HardLink(target) => {
                let Some((tname, tparents)) = target.split_last() else {
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidInput,
                        "hard link to the destination itself",
                    ));
                };
                let tdir = walk_dirs(self.base.as_fd(), tparents, false)?;
                linkat(&tdir, &cname(tname)?, parent, &name)?;
            }
        }
        Ok(())
    }

    /// Set the directories' mtimes, deepest first (writing their children changed them).
    pub fn finish(mut self) -> io::Result<()> {
        self.dir_times.sort_by_key(|d| std::cmp::Reverse(d.0.len()));
        for (comps, mtime) in &self.dir_times {
            let Some((name, parents)) = comps.split_last() else {
                continue;
            };
            // A later entry may have replaced the directory; then there is nothing to set.
            if let Ok(parent) = walk_dirs(self.base.as_fd(), parents, false) {
                let _ = set_times_at(&parent, &cname(name)?, *mtime);
            }
        }
        Ok(())
    }
}

/// First-seen destination of each multiply-linked source inode, so a copied tree keeps its hard
/// links (docker's tar writes the second name as a link to the first).
#[derive(Default)]
pub struct LinkMap(HashMap<(u64, u64), Vec<Vec<u8>>>);

impl LinkMap {
    /// The earlier destination of this inode, or None after recording `comps` as its first.
    pub fn seen(&mut self, dev: u64, ino: u64, comps: &[Vec<u8>]) -> Option<Vec<Vec<u8>>> {
        match self.0.get(&(dev, ino)) {
            Some(first) => Some(first.clone()),
            None => {
                self.0.insert((dev, ino), comps.to_vec());
                None
            }
        }
    }
}
