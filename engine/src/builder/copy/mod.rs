//! COPY and ADD, with the semantics of dockerd 20.10's legacy builder (`builder/dockerfile/copy.go`,
//! `internals.go`) and BuildKit's additions (`--chmod`, `--checksum`, `COPY <<EOF` heredocs).
//!
//! A step is two calls. [`select`] resolves the sources inside the source root (the build
//! context, or another stage's or image's rootfs for `--from`): wildcards with Go's
//! `filepath.Match`, a symlink given as a source followed but only inside the root, directories
//! walked without following the symlinks in them, and docker's errors for a missing file, an
//! empty match or several sources into a non-directory. The [`Selection`] then gives the step's
//! cache key ([`Selection::digest`]: content, mode, ownership and link targets, never mtime) and
//! history text, and [`apply`] writes it into the step's writable rootfs, given as a directory fd:
//! every write is fd-relative with O_NOFOLLOW below a destination resolved inside that rootfs, so
//! neither the source nor the image can make a COPY touch anything outside the rootfs.
//!
//! ADD adds local archives (plain, gzip, bzip2, xz; detected by content, extracted keeping their
//! owners) and http(s) URLs, downloaded beforehand with [`fetch_remote`].

mod apply;
mod archive;
mod chown;
mod digest;
mod remote;
mod resolve;
mod select;
mod sink;
mod source;

#[cfg(test)]
mod tests;

use std::fs::File;
use std::io;
use std::os::fd::BorrowedFd;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use crate::archive::tar_in::FileDigests;
use crate::error::Result;

pub use apply::apply;
pub use chown::{parse_chmod, resolve_chown};
pub use remote::{fetch_remote, fetch_remotes, is_url, parse_checksum, RemoteFile};
pub use select::{normalize_dest, select};

use sink::Attrs;
use source::{Entry, Kind, Meta, SourceRoot};

/// One COPY or ADD, its words already expanded.
#[derive(Debug, Clone, Copy)]
pub struct CopyRequest<'a> {
    /// The context dir, or a stage's or image's rootfs (a mounted overlay path).
    pub source_root: &'a Path,
    /// The sources as written (wildcards allowed; URLs for ADD). Heredoc markers (`<<EOF`) may
    /// be included or not: they are taken from `heredocs`.
    pub sources: &'a [String],
    /// The destination as written; relative ones are joined to `workdir`.
    pub dest: &'a str,
    pub workdir: &'a str,
    /// `--chown`: "user[:group]", names or ids.
    pub chown: Option<&'a str>,
    /// `--chmod`: octal.
    pub chmod: Option<&'a str>,
    /// ADD: extract local archives, accept URLs.
    pub is_add: bool,
    /// ADD `--checksum=sha256:...` (checked by [`fetch_remote`]; validated here).
    pub checksum: Option<&'a str>,
    /// `COPY <<EOF /path`: (name, content) of each heredoc source.
    pub heredocs: &'a [(String, String)],
    /// The source root is a stage or image (`COPY --from`): without `--chown` the files keep
    /// their owners, and a missing source is reported without the build-context wording.
    pub from_stage: bool,
    /// The URL sources of an ADD, downloaded by [`fetch_remote`] (matched by URL).
    pub remote: &'a [RemoteFile],
    /// Content digests of the source root's files known already (the context's, taken while
    /// receiving it): files found there are not read again for the cache key.
    pub known_digests: Option<&'a Arc<FileDigests>>,
}

impl CopyRequest<'_> {
    fn cmd(&self) -> &'static str {
        if self.is_add {
            "ADD"
        } else {
            "COPY"
        }
    }
}

/// Where a selected item's bytes come from.
#[derive(Debug)]
enum Origin {
    /// A path inside the source root (symlinks in it followed inside the root).
    Tree(PathBuf),
    Remote(RemoteFile),
    Inline(Vec<u8>),
}

/// One selected source: a file, or a directory whose contents are copied.
#[derive(Debug)]
struct Item {
    origin: Origin,
    /// The name a file gets inside a directory destination (the source's base name).
    name: Vec<u8>,
    /// A directory: its entries below it; a file: one entry with an empty `rel`.
    entries: Vec<Entry>,
    is_dir: bool,
    /// ADD of a local archive: extracted instead of copied.
    archive: bool,
}

/// The files a COPY/ADD will write, chosen before anything is written.
#[derive(Debug)]
pub struct Selection {
    cmd: &'static str,
    root: Option<SourceRoot>,
    items: Vec<Item>,
    /// The destination as written.
    dest: String,
    /// The destination joined to the workdir (trailing '/' kept), as dockerd's `normalizeDest`.
    dest_path: String,
    chown: Option<String>,
    chmod: Option<u32>,
    preserve_ownership: bool,
    hashes: OnceLock<Vec<String>>,
    known_digests: Option<Arc<FileDigests>>,
}

impl Selection {
    /// The source root, opened at select time whenever a source lives in it.
    fn tree(&self) -> io::Result<&SourceRoot> {
        self.root
            .as_ref()
            .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, "no source root"))
    }

    /// Open a file entry of an item for reading.
    fn open<'s>(&'s self, item: &'s Item, entry: &Entry) -> io::Result<Box<dyn io::Read + 's>> {
        Ok(match &item.origin {
            Origin::Tree(p) => Box::new(self.tree()?.open_file(p, &entry.rel)?),
            Origin::Remote(r) => Box::new(File::open(r.path())?),
            Origin::Inline(b) => Box::new(io::Cursor::new(b.as_slice())),
        })
    }

    /// The metadata an entry is written with: `--chmod` (not on symlinks), the owner given by
    /// `identity` (None: the source's own, for `COPY --from` without `--chown`), the source mtime.
    fn attrs(&self, meta: &Meta, identity: Option<(u32, u32)>) -> Attrs {
        let perm = match (&meta.kind, self.chmod) {
            (Kind::Symlink(_), _) => meta.perm,
            (_, Some(m)) => m,
            // dockerd chowns every copied entry after writing it (`fixPermissions`), and the
            // kernel's chown drops setuid, and setgid with group-exec, from non-directories.
            (Kind::Dir, None) => meta.perm,
            (_, None) if identity.is_some() => {
                let mut p = meta.perm & !libc::S_ISUID;
                if p & libc::S_IXGRP != 0 {
                    p &= !libc::S_ISGID;
                }
                p
            }
            (_, None) => meta.perm,
        };
        let (uid, gid) = identity.unwrap_or((meta.uid, meta.gid));
        Attrs {
            perm,
            uid,
            gid,
            mtime: meta.mtime,
            capability: None,
        }
    }

    /// The owner entries are written with: the `--chown` ids, else root, else (COPY --from) None.
    fn identity(&self, root: BorrowedFd<'_>) -> Result<Option<(u32, u32)>> {
        match &self.chown {
            Some(c) => resolve_chown(root, c).map(Some),
            None if self.preserve_ownership => Ok(None),
            None => Ok(Some((0, 0))),
        }
    }
}
