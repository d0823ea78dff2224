//! Writing a selection into the step's rootfs (dockerd's `performCopyForInfo`, `copyDirectory`,
//! `copyFile`, `UntarPath`): the destination resolved inside the rootfs per source, a directory's
//! contents merged into it, a file into it or as it, an archive extracted into it.

use std::fs::File;
use std::io;
use std::os::fd::{AsFd, BorrowedFd};

use crate::error::{EngineError, Result};

use super::sink::{ensure_dirs, is_existing_dir, LinkMap, Node, Sink};
use super::source::{Kind, SourceRoot};
use super::{archive, resolve, Item, Origin, Selection};

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
        r.map_err(|e| EngineError::internal(format!("failed to copy files: {}", go_err(&e))))?;
    }
    Ok(())
}

/// An io error worded as Go prints it (dockerd's messages carry Go's lowercase errno strings).
pub(crate) fn go_err(e: &io::Error) -> String {
    match e.raw_os_error() {
        Some(n) => nix::errno::Errno::from_raw(n).desc().to_lowercase(),
        None => e.to_string(),
    }
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
    let base = ensure_dirs(root, &dest, None).map_err(|e| {
        io::Error::new(
            e.kind(),
            format!(
                "failed to copy directory: mkdir {}: {}",
                sel.dest_path.trim_end_matches('/'),
                go_err(&e)
            ),
        )
    })?;
    if let (false, Some((uid, gid))) = (existed, identity) {
        crate::fs_at::fchown_mode(&base, uid, gid, 0o755)?;
    }
    let Origin::Tree(p) = &item.origin else {
        return Ok(());
    };
    let mut reader = sel.tree()?.item_reader(p)?;
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
                let mut f = reader.open(&e.rel)?;
                attrs.capability = capability(&f, identity);
                sink.put(&e.rel, Node::HostFile(&mut f), &attrs)?;
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
        Kind::File => match &item.origin {
            Origin::Tree(p) => {
                let mut f = sel.tree()?.open_file(p, &[])?;
                attrs.capability = capability(&f, identity);
                sink.put(&comps, Node::HostFile(&mut f), &attrs)?
            }
            Origin::Remote(r) => {
                sink.put(&comps, Node::HostFile(&mut File::open(r.path())?), &attrs)?
            }
            Origin::Inline(b) => sink.put(&comps, Node::File(&mut b.as_slice()), &attrs)?,
        },
        Kind::Fifo => sink.put(&comps, Node::Fifo, &attrs)?,
        Kind::Char(d) => sink.put(&comps, Node::Char(*d), &attrs)?,
        Kind::Block(d) => sink.put(&comps, Node::Block(*d), &attrs)?,
        // A followed source is never a symlink, and directories take `copy_dir`.
        Kind::Symlink(_) | Kind::Dir => {}
    }
    sink.finish()
}

/// The file capability kept on a copy: only without the post-copy chown, which (in the kernel)
/// removes `security.capability`, so dockerd's COPY keeps it only for `COPY --from` untouched.
fn capability(f: &File, identity: Option<(u32, u32)>) -> Option<Vec<u8>> {
    identity
        .is_none()
        .then(|| SourceRoot::capability(f))
        .flatten()
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
