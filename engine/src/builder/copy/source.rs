//! Reading the source side of a COPY/ADD: the build context or another stage's rootfs.
//!
//! A source path is resolved inside the source root with openat2(RESOLVE_IN_ROOT), so a symlink
//! given as the source is followed but can only land inside the root (dockerd's
//! `FollowSymlinkInScope`); a directory is then walked one fd at a time with O_NOFOLLOW, so the
//! symlinks inside it are recorded as symlinks and never followed.

use std::ffi::CString;
use std::fs::File;
use std::io;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::path::Path;

use crate::fs_at::beneath::walk_dirs;
use crate::fs_at::in_root::open_in_root;
use crate::fs_at::{fstatat_nofollow, list_dir, open_dir_at, open_dir_path, openat, readlinkat};

/// What a source entry is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    Dir,
    File,
    Symlink(Vec<u8>),
    Fifo,
    Char(u64),
    Block(u64),
}

/// The metadata of one source entry, as lstat (or, for a followed source path, stat) saw it.
#[derive(Debug, Clone)]
pub struct Meta {
    pub kind: Kind,
    /// Permission bits with setuid/setgid/sticky.
    pub perm: u32,
    pub uid: u32,
    pub gid: u32,
    pub size: u64,
    pub mtime: i64,
    pub dev: u64,
    pub ino: u64,
    pub nlink: u64,
}

/// One entry of a copied tree: its components below the copied item ([] = the item itself).
#[derive(Debug, Clone)]
pub struct Entry {
    pub rel: Vec<Vec<u8>>,
    pub meta: Meta,
}

impl Entry {
    /// The entry's path below the item, slash-joined (for hashing and messages).
    pub fn rel_bytes(&self) -> Vec<u8> {
        self.rel.join(&b'/')
    }
}

/// The source root, held open by fd for the whole step.
#[derive(Debug)]
pub struct SourceRoot {
    fd: OwnedFd,
}

impl SourceRoot {
    pub fn open(path: &Path) -> io::Result<SourceRoot> {
        Ok(SourceRoot {
            fd: open_dir_path(path)?,
        })
    }

    /// stat of `path` inside the root, symlinks followed inside it.
    pub fn stat(&self, path: &Path) -> io::Result<Meta> {
        let fd = open_in_root(self.fd.as_raw_fd(), path, libc::O_PATH, 0)?;
        let st = fstatat_nofollow(&fd, c"").map_err(io::Error::from)?;
        Ok(meta_of(&st, None))
    }

    /// Every entry below the directory `path` (symlinks in the root followed to reach it), in
    /// lexical pre-order as Go's `filepath.Walk`. With `max_depth`, directories deeper than that
    /// are not entered. Sockets are skipped, as docker's tar skips them.
    pub fn walk(&self, path: &Path, max_depth: Option<usize>) -> io::Result<Vec<Entry>> {
        let dir = open_in_root(
            self.fd.as_raw_fd(),
            path,
            libc::O_RDONLY | libc::O_DIRECTORY,
            0,
        )?;
        let mut out = Vec::new();
        let mut prefix = Vec::new();
        walk_into(&dir, &mut prefix, max_depth, &mut out)?;
        Ok(out)
    }

    /// The regular file `rel` below the item `path` (an empty `rel`: the item itself, followed
    /// inside the root), opened for reading. Components of `rel` are never followed.
    pub fn open_file(&self, path: &Path, rel: &[Vec<u8>]) -> io::Result<File> {
        let fd = match rel.split_last() {
            // O_NONBLOCK: a fifo swapped in after the stat must not hang the build.
            None => open_in_root(
                self.fd.as_raw_fd(),
                path,
                libc::O_RDONLY | libc::O_NONBLOCK,
                0,
            )?,
            Some((name, parents)) => {
                let item = open_in_root(
                    self.fd.as_raw_fd(),
                    path,
                    libc::O_RDONLY | libc::O_DIRECTORY,
                    0,
                )?;
                let dir = walk_dirs(&item, parents, false)?;
                let c = CString::new(name.clone()).map_err(|_| super::resolve::invalid_name())?;
                openat(
                    &dir,
                    &c,
                    libc::O_RDONLY | libc::O_NOFOLLOW | libc::O_NONBLOCK,
                )?
            }
        };
        Ok(File::from(fd))
    }

    /// A reader of the files below the directory item `path`, for reading many in a row.
    pub fn item_reader(&self, path: &Path) -> io::Result<ItemReader> {
        let item = open_in_root(
            self.fd.as_raw_fd(),
            path,
            libc::O_RDONLY | libc::O_DIRECTORY,
            0,
        )?;
        Ok(ItemReader { item, last: None })
    }

    /// The `security.capability` xattr of a file being copied (the one xattr docker's tar keeps).
    pub fn capability(file: &File) -> Option<Vec<u8>> {
        let mut buf = vec![0u8; 256];
        // SAFETY: valid fd, NUL-terminated name, buffer of the given length.
        let n = unsafe {
            libc::fgetxattr(
                file.as_fd().as_raw_fd(),
                c"security.capability".as_ptr(),
                buf.as_mut_ptr().cast(),
                buf.len(),
            )
        };
        if n <= 0 {
            return None;
        }
        buf.truncate(n as usize);
        Some(buf)
    }
}

/// Opens the files of one directory item, keeping the last parent directory open: a walk lists
/// siblings in a row, so most opens are a single openat.
pub struct ItemReader {
    item: OwnedFd,
    last: Option<(Vec<Vec<u8>>, OwnedFd)>,
}

impl ItemReader {
    /// The regular file `rel` (non-empty) below the item, no component followed.
    pub fn open(&mut self, rel: &[Vec<u8>]) -> io::Result<File> {
        let Some((name, parents)) = rel.split_last() else {
            return Err(io::Error::from_raw_os_error(libc::EISDIR));
        };
        let dir = match self.last.take() {
            Some((comps, fd)) if comps == parents => fd,
            _ => walk_dirs(&self.item, parents, false)?,
        };
        let r = openat(
            &dir,
            &cname(name)?,
            libc::O_RDONLY | libc::O_NOFOLLOW | libc::O_NONBLOCK,
        );
        self.last = Some((parents.to_vec(), dir));
        Ok(File::from(r?))
    }
}

fn walk_into(
    dir: &OwnedFd,
    prefix: &mut Vec<Vec<u8>>,
    max_depth: Option<usize>,
    out: &mut Vec<Entry>,
) -> io::Result<()> {
    for name in list_dir(dir)? {
        let st = fstatat_nofollow(dir, &name).map_err(io::Error::from)?;
        let target = if st.st_mode & libc::S_IFMT == libc::S_IFLNK {
            Some(readlinkat(dir, &name).map_err(io::Error::from)?)
        } else {
            None
        };
        if st.st_mode & libc::S_IFMT == libc::S_IFSOCK {
            continue;
        }
        let meta = meta_of(&st, target);
        prefix.push(name.to_bytes().to_vec());
        let is_dir = meta.kind == Kind::Dir;
        out.push(Entry {
            rel: prefix.clone(),
            meta,
        });
        if is_dir && max_depth.is_none_or(|d| prefix.len() < d) {
            let sub = open_dir_at(dir, &name)?;
            walk_into(&sub, prefix, max_depth, out)?;
        }
        prefix.pop();
    }
    Ok(())
}

/// Metadata from a stat buffer (`target`: the link target when it is a symlink).
pub fn meta_of(st: &libc::stat, target: Option<Vec<u8>>) -> Meta {
    let kind = match st.st_mode & libc::S_IFMT {
        libc::S_IFDIR => Kind::Dir,
        libc::S_IFLNK => Kind::Symlink(target.unwrap_or_default()),
        libc::S_IFIFO => Kind::Fifo,
        libc::S_IFCHR => Kind::Char(st.st_rdev),
        libc::S_IFBLK => Kind::Block(st.st_rdev),
        _ => Kind::File,
    };
    Meta {
        kind,
        perm: st.st_mode & 0o7777,
        uid: st.st_uid,
        gid: st.st_gid,
        size: st.st_size as u64,
        mtime: st.st_mtime,
        dev: st.st_dev,
        ino: st.st_ino,
        nlink: st.st_nlink,
    }
}

/// A C name from bytes (names read from a directory never hold NUL).
pub fn cname(b: &[u8]) -> io::Result<CString> {
    CString::new(b).map_err(|_| super::resolve::invalid_name())
}
