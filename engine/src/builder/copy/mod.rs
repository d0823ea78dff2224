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

mod archive;
mod chown;
mod digest;
mod matcher;
mod remote;
mod resolve;
mod sink;
mod source;

#[cfg(test)]
mod tests;

use std::ffi::OsStr;
use std::fs::File;
use std::io;
use std::os::fd::{AsFd, BorrowedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use crate::error::{EngineError, Result};

pub use chown::{parse_chmod, resolve_chown};
pub use remote::{fetch_remote, is_url, parse_checksum, RemoteFile};

use sink::{ensure_dirs, is_existing_dir, Attrs, LinkMap, Node, Sink};
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
}

/// Resolve the sources of `req` (nothing is written).
pub fn select(req: &CopyRequest<'_>) -> Result<Selection> {
    let cmd = req.cmd();
    let chmod = req.chmod.map(parse_chmod).transpose()?;
    check_checksum(req)?;
    let sources: Vec<&String> = req
        .sources
        .iter()
        .filter(|s| {
            !s.strip_prefix("<<").is_some_and(|name| {
                let name = name
                    .trim_start_matches('-')
                    .trim_matches(|c| c == '"' || c == '\'');
                req.heredocs.iter().any(|(n, _)| n == name)
            })
        })
        .collect();
    let mut root = None;
    let mut items = Vec::new();
    for orig in sources {
        if is_url(orig) {
            if !req.is_add {
                return Err(EngineError::invalid(format!(
                    "{cmd} failed: source can't be a URL for COPY"
                )));
            }
            items.push(remote_item(req, orig)?);
            continue;
        }
        if root.is_none() {
            root = Some(
                SourceRoot::open(req.source_root).map_err(|e| EngineError::Io {
                    context: format!("opening {}", req.source_root.display()),
                    source: e,
                })?,
            );
        }
        let Some(tree) = root.as_ref() else {
            continue;
        };
        let p = orig.strip_prefix('/').unwrap_or(orig);
        let p = p.strip_prefix("./").unwrap_or(p);
        if matcher::contains_wildcards(p) {
            // Every path of the root is matched; deeper paths than the pattern can reach are
            // not walked (`*`, `?` never match '/', a class matches at most one byte).
            let depth = p.bytes().filter(|b| *b == b'/' || *b == b'[').count() + 1;
            let all = tree
                .walk(Path::new("/"), Some(depth))
                .map_err(|e| io_err(cmd, e))?;
            for e in all {
                let rel = e.rel_bytes();
                if matcher::matches(p, &rel) == Ok(true) {
                    items.push(item_for_path(req, tree, &rel)?);
                }
            }
        } else {
            items.push(item_for_path(req, tree, p.as_bytes())?);
        }
    }
    for (name, content) in req.heredocs {
        items.push(Item {
            origin: Origin::Inline(content.as_bytes().to_vec()),
            name: name.as_bytes().to_vec(),
            entries: vec![inline_entry(content.len() as u64)],
            is_dir: false,
            archive: false,
        });
    }
    if items.is_empty() {
        return Err(EngineError::invalid(format!(
            "{cmd} failed: no source files were specified"
        )));
    }
    if items.len() > 1 && !req.dest.ends_with('/') {
        return Err(EngineError::invalid(format!(
            "When using {cmd} with more than one source file, the destination must be a directory and end with a /"
        )));
    }
    Ok(Selection {
        cmd,
        root,
        items,
        dest: req.dest.to_string(),
        dest_path: normalize_dest(req.workdir, req.dest),
        chown: req.chown.map(str::to_string),
        chmod,
        preserve_ownership: req.from_stage && req.chown.is_none(),
        hashes: OnceLock::new(),
    })
}

/// BuildKit's rules for `--checksum`.
fn check_checksum(req: &CopyRequest<'_>) -> Result<()> {
    let Some(c) = req.checksum else {
        return Ok(());
    };
    if !req.is_add {
        return Err(EngineError::invalid("checksum can't be specified for COPY"));
    }
    if req.sources.len() != 1 {
        return Err(EngineError::invalid(
            "checksum can't be specified for multiple sources",
        ));
    }
    if !is_url(&req.sources[0]) {
        return Err(EngineError::invalid(
            "checksum requires HTTP(S) or Git sources",
        ));
    }
    parse_checksum(c).map(|_| ())
}

fn remote_item(req: &CopyRequest<'_>, url: &str) -> Result<Item> {
    let file = req
        .remote
        .iter()
        .find(|r| r.url == url)
        .cloned()
        .ok_or_else(|| EngineError::internal(format!("ADD: {url} was not downloaded")))?;
    let name = match &file.filename {
        Some(n) => n.clone(),
        None if req.dest.ends_with('/') => {
            return Err(EngineError::invalid(format!(
                "ADD failed: cannot determine filename for source {url}"
            )))
        }
        None => "__unnamed__".to_string(),
    };
    let size = std::fs::metadata(file.path()).map(|m| m.len()).unwrap_or(0);
    let mut entry = inline_entry(size);
    entry.meta.perm = 0o600;
    entry.meta.mtime = file.mtime;
    Ok(Item {
        origin: Origin::Remote(file),
        name: name.into_bytes(),
        entries: vec![entry],
        is_dir: false,
        archive: false,
    })
}

/// The entry of a file the builder makes itself (a heredoc, a download): 0644, root-owned.
fn inline_entry(size: u64) -> Entry {
    Entry {
        rel: Vec::new(),
        meta: Meta {
            kind: Kind::File,
            perm: 0o644,
            uid: 0,
            gid: 0,
            size,
            mtime: now(),
            dev: 0,
            ino: 0,
            nlink: 1,
        },
    }
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// dockerd's `calcCopyInfo` for one path (no wildcards): a file, or a directory and its tree.
fn item_for_path(req: &CopyRequest<'_>, tree: &SourceRoot, p: &[u8]) -> Result<Item> {
    let cmd = req.cmd();
    let shown = String::from_utf8_lossy(p);
    // Cleaned lexically as dockerd's `filepath.Join(root, p)`; `..` may not climb out of the root
    // ("forbidden path outside the build context").
    let mut comps: Vec<&[u8]> = Vec::new();
    for c in p.split(|b| *b == b'/') {
        match c {
            b"" | b"." => {}
            b".." => {
                comps.pop().ok_or_else(|| {
                    EngineError::invalid(format!(
                        "{cmd} failed: forbidden path outside the build context: {shown} ()"
                    ))
                })?;
            }
            c => comps.push(c),
        }
    }
    let path = PathBuf::from(OsStr::from_bytes(&comps.join(&b'/')));
    let meta = match tree.stat(&path) {
        Ok(m) => m,
        Err(e) if matches!(e.raw_os_error(), Some(libc::ENOENT) | Some(libc::ENOTDIR)) => {
            let what = if req.from_stage {
                String::new()
            } else {
                "file not found in build context or excluded by .dockerignore: ".to_string()
            };
            return Err(EngineError::invalid(format!(
                "{cmd} failed: {what}stat {shown}: file does not exist"
            )));
        }
        Err(e) => return Err(io_err(cmd, e)),
    };
    let name = base_name(p);
    if meta.kind == Kind::Dir {
        let entries = tree.walk(&path, None).map_err(|e| io_err(cmd, e))?;
        return Ok(Item {
            origin: Origin::Tree(path),
            name,
            entries,
            is_dir: true,
            archive: false,
        });
    }
    let archive = req.is_add
        && meta.kind == Kind::File
        && tree
            .open_file(&path, &[])
            .map(archive::is_archive)
            .unwrap_or(false);
    Ok(Item {
        origin: Origin::Tree(path),
        name,
        entries: vec![Entry {
            rel: Vec::new(),
            meta,
        }],
        is_dir: false,
        archive,
    })
}

/// Go's `filepath.Base`.
fn base_name(p: &[u8]) -> Vec<u8> {
    let trimmed = {
        let mut end = p.len();
        while end > 0 && p[end - 1] == b'/' {
            end -= 1;
        }
        &p[..end]
    };
    if trimmed.is_empty() {
        return if p.is_empty() {
            b".".to_vec()
        } else {
            b"/".to_vec()
        };
    }
    match trimmed.iter().rposition(|b| *b == b'/') {
        Some(i) => trimmed[i + 1..].to_vec(),
        None => trimmed.to_vec(),
    }
}

fn io_err(cmd: &str, e: io::Error) -> EngineError {
    EngineError::Io {
        context: format!("{cmd} failed"),
        source: e,
    }
}

/// dockerd's `normalizeDest` (Linux): a relative destination is joined to the workdir, cleaned,
/// and keeps its trailing '/'.
pub fn normalize_dest(workdir: &str, dest: &str) -> String {
    if dest.starts_with('/') {
        return dest.to_string();
    }
    let mut out = clean(&format!("/{workdir}/{dest}"));
    if dest.ends_with('/') && !out.ends_with('/') {
        out.push('/');
    }
    out
}

/// Go's `path.Clean` for an absolute path.
fn clean(p: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for c in p.split('/') {
        match c {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            c => parts.push(c),
        }
    }
    format!("/{}", parts.join("/"))
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
        let perm = match meta.kind {
            Kind::Symlink(_) => meta.perm,
            _ => self.chmod.unwrap_or(meta.perm),
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

/// Write the selection into the writable rootfs `target_root` (a directory fd; nothing is written
/// outside it), as dockerd's `performCopy`: `--chown` names are resolved in that rootfs first.
pub fn apply(sel: &Selection, target_root: impl AsFd) -> Result<()> {
    let root = target_root.as_fd();
    let identity = sel.identity(root)?;
    for item in &sel.items {
        let r = if item.is_dir {
            copy_dir(sel, root, item, identity)
        } else if item.archive {
            extract_archive(sel, root, item)
        } else {
            copy_file(sel, root, item, identity)
        };
        r.map_err(|e| EngineError::Io {
            context: "failed to copy files".into(),
            source: e,
        })?;
    }
    Ok(())
}

fn dest_comps(sel: &Selection, root: BorrowedFd<'_>) -> io::Result<Vec<Vec<u8>>> {
    resolve::follow_in_scope(root, sel.dest_path.as_bytes())
}

/// A directory's contents into the destination directory (made 0755 and root-owned when
/// missing, then given the chown identity; an existing one keeps its owner and mode).
fn copy_dir(
    sel: &Selection,
    root: BorrowedFd<'_>,
    item: &Item,
    identity: Option<(u32, u32)>,
) -> io::Result<()> {
    let dest = dest_comps(sel, root)?;
    let existed = is_existing_dir(root, &dest);
    let base = ensure_dirs(root, &dest, None)?;
    if let (false, Some((uid, gid))) = (existed, identity) {
        crate::fs_at::fchown_mode(&base, uid, gid, 0o755)?;
    }
    let mut sink = Sink::new(base);
    let mut links = LinkMap::default();
    for e in &item.entries {
        let mut attrs = sel.attrs(&e.meta, identity);
        match &e.meta.kind {
            Kind::Dir => sink.put(&e.rel, Node::Dir, &attrs)?,
            Kind::File => {
                if e.meta.nlink > 1 {
                    if let Some(first) = links.seen(e.meta.dev, e.meta.ino, &e.rel) {
                        sink.put(&e.rel, Node::HardLink(&first), &attrs)?;
                        continue;
                    }
                }
                let Origin::Tree(p) = &item.origin else {
                    continue;
                };
                let mut f = sel.tree()?.open_file(p, &e.rel)?;
                attrs.capability = SourceRoot::capability(&f);
                sink.put(&e.rel, Node::File(&mut f), &attrs)?;
            }
            Kind::Symlink(t) => sink.put(&e.rel, Node::Symlink(t), &attrs)?,
            Kind::Fifo => sink.put(&e.rel, Node::Fifo, &attrs)?,
            Kind::Char(d) => sink.put(&e.rel, Node::Char(*d), &attrs)?,
            Kind::Block(d) => sink.put(&e.rel, Node::Block(*d), &attrs)?,
        }
    }
    sink.finish()
}

/// One file: into the destination directory when the destination ends in '/' or is an existing
/// directory, else as the destination itself (missing parents made 0755, owned by the identity).
fn copy_file(
    sel: &Selection,
    root: BorrowedFd<'_>,
    item: &Item,
    identity: Option<(u32, u32)>,
) -> io::Result<()> {
    let Some(entry) = item.entries.first() else {
        return Ok(());
    };
    let dest = dest_comps(sel, root)?;
    let into_dir = sel.dest_path.ends_with('/') || is_existing_dir(root, &dest);
    let (parent, name) = match dest.split_last() {
        Some((last, parents)) if !into_dir => (parents.to_vec(), last.clone()),
        _ => (dest, item.name.clone()),
    };
    let parent_fd = ensure_dirs(root, &parent, identity)?;
    let mut sink = Sink::new(parent_fd);
    // Heredocs and downloads are root-owned in their entry, so `None` keeps them root's.
    let mut attrs = sel.attrs(&entry.meta, identity);
    let comps = [name];
    match &entry.meta.kind {
        Kind::File => {
            let mut r = sel.open(item, entry)?;
            if let Origin::Tree(p) = &item.origin {
                attrs.capability = sel
                    .tree()?
                    .open_file(p, &[])
                    .ok()
                    .and_then(|f| SourceRoot::capability(&f));
            }
            sink.put(&comps, Node::File(&mut r), &attrs)?
        }
        Kind::Fifo => sink.put(&comps, Node::Fifo, &attrs)?,
        Kind::Char(d) => sink.put(&comps, Node::Char(*d), &attrs)?,
        Kind::Block(d) => sink.put(&comps, Node::Block(*d), &attrs)?,
        // A followed source is never a symlink, and directories take `copy_dir`.
        Kind::Symlink(_) | Kind::Dir => {}
    }
    sink.finish()
}

/// ADD of a local archive: extracted into the destination (made 0755, root-owned, when missing).
fn extract_archive(sel: &Selection, root: BorrowedFd<'_>, item: &Item) -> io::Result<()> {
    let Origin::Tree(p) = &item.origin else {
        return Ok(());
    };
    let dest = dest_comps(sel, root)?;
    let base = ensure_dirs(root, &dest, None)?;
    let mut sink = Sink::new(base);
    archive::extract(sel.tree()?.open_file(p, &[])?, &mut sink)?;
    sink.finish()
}
