//! Filesystems a build step works on outside a container: overlay mounts of an image's layers
//! (read-only views for `COPY --from` and `RUN --mount=from=`, writable ones whose upper dir
//! becomes a COPY's or WORKDIR's layer), turning an upper dir into a stored layer, and cleaning
//! the mount points a RUN container left in its upper dir (docker keeps those in an init layer
//! below the container, so they never reach an image).
//!
//! Mounts live under the build's scratch dir; `remove_scratch` unmounts whatever a killed
//! engine left there before deleting it.

use std::ffi::CString;
use std::fs;
use std::io::{self, Read};
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Component, Path, PathBuf};

use nix::mount::{umount2, MntFlags};
use sha2::{Digest, Sha256};

use crate::archive::ContainerRoot;
use crate::error::{EngineError, Result};
use crate::service::image::ingest::{IngestLease, IngestedLayer, LayerSource};
use crate::service::image::ImageService;

/// Mount points the engine makes for every container (docker's init layer has them).
const ENGINE_STUBS: &[&str] = &[
    "/etc/hosts",
    "/etc/hostname",
    "/etc/resolv.conf",
    "/dev/pts",
    "/dev/shm",
    "/dev/mqueue",
    "/dev/console",
    "/proc",
    "/sys",
    "/dev",
    "/etc",
];

fn internal(what: &str, e: impl std::fmt::Display) -> EngineError {
    EngineError::internal(format!("{what}: {e}"))
}

/// Attach a detached mount (an fsmount fd) at `path`.
fn attach(root: &ContainerRoot, path: &Path) -> Result<()> {
    let target = CString::new(path.as_os_str().as_encoded_bytes())
        .map_err(|_| EngineError::internal("mount path has a NUL byte"))?;
    let empty = CString::new("").expect("no NUL");
    const MOVE_MOUNT_F_EMPTY_PATH: libc::c_uint = 0x4;
    // SAFETY: plain syscall with valid C strings and an fd we own.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_move_mount,
            root.fd(),
            empty.as_ptr(),
            libc::AT_FDCWD,
            target.as_ptr(),
            MOVE_MOUNT_F_EMPTY_PATH,
        )
    };
    if rc != 0 {
        return Err(internal(
            "attaching the overlay",
            io::Error::last_os_error(),
        ));
    }
    Ok(())
}

fn random_dir(scratch: &Path, prefix: &str) -> Result<PathBuf> {
    let dir = scratch.join(format!(
        "{prefix}-{}",
        hex::encode(rand::random::<[u8; 8]>())
    ));
    fs::create_dir_all(&dir).map_err(|e| internal("creating build scratch", e))?;
    Ok(dir)
}

/// An overlay of image layers mounted at a path under the build's scratch dir; unmounted and
/// removed on drop.
pub struct ImageMount {
    base: PathBuf,
    mountpoint: PathBuf,
    upper: Option<PathBuf>,
}

impl ImageMount {
    /// A read-only view of `lowers` (top first; empty = an empty filesystem).
    pub fn read_only(scratch: &Path, lowers: &[PathBuf]) -> Result<ImageMount> {
        let base = random_dir(scratch, "view")?;
        let mountpoint = base.join("root");
        let empty = base.join("empty");
        fs::create_dir_all(&mountpoint).map_err(|e| internal("creating a mount point", e))?;
        fs::create_dir_all(&empty).map_err(|e| internal("creating a mount point", e))?;
        // A read-only overlay needs two lower layers at least: the empty dir is the bottom one.
        let mut layers = lowers.to_vec();
        layers.push(empty);
        // Without a work dir, ContainerRoot::overlay takes "upper" as the top lower layer.
        let root = ContainerRoot::overlay(&layers[1..], &layers[0], None)?;
        attach(&root, &mountpoint)?;
        Ok(ImageMount {
            base,
            mountpoint,
            upper: None,
        })
    }

    /// A writable overlay on `lowers`; its upper dir collects the changes.
    pub fn writable(scratch: &Path, lowers: &[PathBuf]) -> Result<ImageMount> {
        let base = random_dir(scratch, "rw")?;
        let mountpoint = base.join("root");
        let upper = base.join("upper");
        let work = base.join("work");
        let empty = base.join("empty");
        for d in [&mountpoint, &upper, &work, &empty] {
            fs::create_dir_all(d).map_err(|e| internal("creating an overlay dir", e))?;
        }
        let mut layers = lowers.to_vec();
        if layers.is_empty() {
            layers.push(empty);
        }
        let root = ContainerRoot::overlay(&layers, &upper, Some(&work))?;
        attach(&root, &mountpoint)?;
        Ok(ImageMount {
            base,
            mountpoint,
            upper: Some(upper),
        })
    }

    pub fn path(&self) -> &Path {
        &self.mountpoint
    }

    /// The upper dir of a writable mount.
    pub fn upper(&self) -> Option<&Path> {
        self.upper.as_deref()
    }

    /// Unmount, keeping the upper dir until drop (so its changes can be stored).
    pub fn unmount(&self) {
        let _ = umount2(&self.mountpoint, MntFlags::MNT_DETACH);
    }
}

impl Drop for ImageMount {
    fn drop(&mut self) {
        self.unmount();
        let _ = fs::remove_dir_all(&self.base);
    }
}

/// Unmount everything mounted under `dir` (deepest first), then remove it.
pub fn remove_scratch(dir: &Path) {
    if let Ok(info) = fs::read_to_string("/proc/self/mountinfo") {
        let prefix = dir.to_string_lossy().into_owned();
        let mut points: Vec<String> = info
            .lines()
            .filter_map(|l| l.split(' ').nth(4))
            .map(crate::util::mountinfo::unescape)
            .filter(|p| p.starts_with(&prefix))
            .collect();
        points.sort_by_key(|p| std::cmp::Reverse(p.len()));
        for p in points {
            let _ = umount2(Path::new(&p), MntFlags::MNT_DETACH);
        }
    }
    let _ = fs::remove_dir_all(dir);
}

fn exists_below(lowers: &[PathBuf], rel: &str) -> bool {
    lowers
        .iter()
        .any(|l| fs::symlink_metadata(l.join(rel)).is_ok())
}

fn is_empty_stub(p: &Path) -> bool {
    match fs::symlink_metadata(p) {
        Ok(m) if m.is_dir() => fs::read_dir(p)
            .map(|mut d| d.next().is_none())
            .unwrap_or(false),
        Ok(m) if m.is_file() => m.len() == 0,
        _ => false,
    }
}

/// Whether the upper dir `p` is only a copy-up of the lower dir `rel` that nothing changed: empty,
/// not opaque, with the lower's mode and owner (creating a mount point inside `/etc` copies
/// `/etc` up; docker's init layer never does, so its layers have no such entry).
fn is_unchanged_copy_up(p: &Path, lowers: &[PathBuf], rel: &str) -> bool {
    let Ok(m) = fs::symlink_metadata(p) else {
        return false;
    };
    if !m.is_dir() || !is_empty_stub(p) {
        return false;
    }
    let Ok(path) = CString::new(p.as_os_str().as_encoded_bytes()) else {
        return false;
    };
    for xattr in [c"trusted.overlay.opaque", c"user.overlay.opaque"] {
        if matches!(crate::fs_at::lget_xattr(&path, xattr), Ok(Some(v)) if !v.is_empty()) {
            return false;
        }
    }
    let below = lowers
        .iter()
        .find_map(|l| fs::symlink_metadata(l.join(rel)).ok());
    matches!(below, Some(b) if b.is_dir()
        && b.mode() == m.mode()
        && b.uid() == m.uid()
        && b.gid() == m.gid())
}

/// Remove from `upper` the mount points the engine and the step's mounts created: a path that
/// no lower layer has and that is an empty file or directory, and its parents while they are
/// empty and new, or empty unchanged copy-ups of a lower directory.
pub fn clean_mount_stubs(upper: &Path, lowers: &[PathBuf], targets: &[String]) -> Result<()> {
    let mut all: Vec<String> = targets.to_vec();
    all.extend(ENGINE_STUBS.iter().map(|s| s.to_string()));
    all.sort_by_key(|t| std::cmp::Reverse(t.matches('/').count()));
    for t in all {
        let mut rel = t.trim_start_matches('/').to_string();
        while !rel.is_empty() {
            let p = upper.join(&rel);
            let removable = if exists_below(lowers, &rel) {
                is_unchanged_copy_up(&p, lowers, &rel)
            } else {
                is_empty_stub(&p)
            };
            if !removable {
                break;
            }
            let removed = if p.is_dir() {
                fs::remove_dir(&p)
            } else {
                fs::remove_file(&p)
            };
            if removed.is_err() {
                break;
            }
            rel = match rel.rsplit_once('/') {
                Some((parent, _)) => parent.to_string(),
                None => String::new(),
            };
        }
    }
    Ok(())
}

/// Store the changes in `upper` as a layer: None when it holds nothing (the step changed no
/// file, docker's empty layer). The lease pins the layer until its image is committed. The
/// upper dir itself becomes the layer's directory when `may_take` (nothing needs it afterwards)
/// and it can be moved there; otherwise (another filesystem) its tar is unpacked into the store.
pub fn ingest_upper(
    images: &ImageService,
    upper: &Path,
    may_take: bool,
) -> Result<Option<(IngestLease, IngestedLayer)>> {
    let empty = fs::read_dir(upper)
        .map_err(|e| internal("reading the step's changes", e))?
        .next()
        .is_none();
    if empty {
        return Ok(None);
    }
    let lease = images.lease();
    if may_take {
        if let Some(layer) = images.adopt_layer(&lease, upper)? {
            return Ok(Some((lease, layer)));
        }
    }
    let (reader, writer) = io::pipe().map_err(|e| internal("pipe", e))?;
    let upper_owned = upper.to_path_buf();
    let producer = std::thread::spawn(move || -> io::Result<()> {
        let w = crate::archive::layer_tar::write_layer_tar(&upper_owned, writer)?;
        drop(w);
        Ok(())
    });
    let mut reader: Box<dyn Read> = Box::new(reader);
    let ingested = images.ingest_layer(&lease, &mut reader, LayerSource::default(), &mut |_| {});
    drop(reader);
    let produced = producer
        .join()
        .map_err(|_| EngineError::internal("the layer writer panicked"))?;
    produced.map_err(|e| internal("writing the layer", e))?;
    Ok(Some((lease, ingested?)))
}

/// `path` inside `root`, symlinks resolved as if `root` were `/` (never leaving it).
pub fn inside(root: &Path, path: &str) -> Result<PathBuf> {
    let mut parts: Vec<std::ffi::OsString> = Vec::new();
    let mut pending: Vec<std::ffi::OsString> = Path::new(path)
        .components()
        .rev()
        .filter_map(|c| match c {
            Component::Normal(n) => Some(n.to_os_string()),
            Component::ParentDir => Some("..".into()),
            _ => None,
        })
        .collect();
    let mut links = 0;
    while let Some(c) = pending.pop() {
        if c == ".." {
            parts.pop();
            continue;
        }
        let mut candidate = root.to_path_buf();
        candidate.extend(&parts);
        candidate.push(&c);
        match fs::symlink_metadata(&candidate) {
            Ok(m) if m.file_type().is_symlink() => {
                links += 1;
                if links > 40 {
                    return Err(EngineError::invalid(format!(
                        "too many levels of symbolic links in {path}"
                    )));
                }
                let target = fs::read_link(&candidate).map_err(|e| internal("readlink", e))?;
                if target.is_absolute() {
                    parts.clear();
                }
                for t in target.components().rev() {
                    match t {
                        Component::Normal(n) => pending.push(n.to_os_string()),
                        Component::ParentDir => pending.push("..".into()),
                        _ => {}
                    }
                }
            }
            _ => parts.push(c),
        }
    }
    let mut out = root.to_path_buf();
    out.extend(&parts);
    Ok(out)
}

/// Copy a tree with owners, modes, times, links and xattrs (`cp -a`).
pub fn copy_tree(src: &Path, dst: &Path) -> Result<()> {
    if let Some(parent) = dst.parent() {
        fs::create_dir_all(parent).map_err(|e| internal("creating a copy", e))?;
    }
    let status = if src.is_dir() {
        fs::create_dir_all(dst).map_err(|e| internal("creating a copy", e))?;
        std::process::Command::new("cp")
            .arg("-a")
            .arg(format!("{}/.", src.display()))
            .arg(dst)
            .status()
    } else {
        std::process::Command::new("cp")
            .arg("-a")
            .arg(src)
            .arg(dst)
            .status()
    };
    match status {
        Ok(s) if s.success() => Ok(()),
        Ok(s) => Err(EngineError::internal(format!(
            "copying {}: cp exited with {s}",
            src.display()
        ))),
        Err(e) => Err(internal("copying", e)),
    }
}

/// A digest of a tree's names, types, modes, owners, sizes, contents and link targets (never
/// times): what a RUN's bind mount of the context contributes to its cache key.
pub fn tree_digest(path: &Path) -> Result<String> {
    let mut h = Sha256::new();
    digest_into(&mut h, path, Path::new(""))?;
    Ok(hex::encode(h.finalize()))
}

fn digest_into(h: &mut Sha256, base: &Path, rel: &Path) -> Result<()> {
    let p = base.join(rel);
    let m = fs::symlink_metadata(&p).map_err(|e| internal("reading the bind source", e))?;
    h.update(rel.as_os_str().as_encoded_bytes());
    h.update([0]);
    h.update(m.mode().to_le_bytes());
    h.update(m.uid().to_le_bytes());
    h.update(m.gid().to_le_bytes());
    let ft = m.file_type();
    if ft.is_symlink() {
        let t = fs::read_link(&p).map_err(|e| internal("readlink", e))?;
        h.update(t.as_os_str().as_encoded_bytes());
    } else if ft.is_file() {
        h.update(m.len().to_le_bytes());
        let mut f = fs::File::open(&p).map_err(|e| internal("reading the bind source", e))?;
        io::copy(&mut f, h).map_err(|e| internal("reading the bind source", e))?;
    } else if ft.is_dir() {
        let mut names: Vec<_> = fs::read_dir(&p)
            .map_err(|e| internal("reading the bind source", e))?
            .filter_map(|e| e.ok().map(|e| e.file_name()))
            .collect();
        names.sort();
        for n in names {
            digest_into(h, base, &rel.join(n))?;
        }
    } else if ft.is_block_device() || ft.is_char_device() {
        h.update(m.rdev().to_le_bytes());
    }
    h.update([0xff]);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inside_keeps_symlinks_in_the_root() {
        let d = tempfile::tempdir().unwrap();
        let root = d.path();
        fs::create_dir_all(root.join("a/b")).unwrap();
        std::os::unix::fs::symlink("/a", root.join("abs")).unwrap();
        std::os::unix::fs::symlink("../../..", root.join("a/b/up")).unwrap();
        assert_eq!(inside(root, "abs/b").unwrap(), root.join("a/b"));
        assert_eq!(inside(root, "a/b/up/etc").unwrap(), root.join("etc"));
        assert_eq!(
            inside(root, "../../etc/passwd").unwrap(),
            root.join("etc/passwd")
        );
    }

    #[test]
    fn stubs_go_and_real_changes_stay() {
        let d = tempfile::tempdir().unwrap();
        let upper = d.path().join("upper");
        let lower = d.path().join("lower");
        fs::create_dir_all(upper.join("etc")).unwrap();
        fs::create_dir_all(upper.join("proc")).unwrap();
        fs::create_dir_all(upper.join("run/secrets")).unwrap();
        fs::write(upper.join("run/secrets/token"), b"").unwrap();
        fs::write(upper.join("etc/hosts"), b"").unwrap();
        fs::create_dir_all(lower.join("tmp")).unwrap();
        fs::create_dir_all(upper.join("tmp")).unwrap();
        // /etc exists below: its copy-up, emptied of the hosts stub, goes too.
        fs::create_dir_all(lower.join("etc")).unwrap();
        fs::write(upper.join("tmp/kept"), b"x").unwrap();
        clean_mount_stubs(&upper, &[lower], &["/run/secrets/token".into()]).unwrap();
        let left: Vec<_> = fs::read_dir(&upper)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert_eq!(left, vec!["tmp"]);
    }

    #[test]
    fn tree_digest_ignores_times_but_not_content() {
        let d = tempfile::tempdir().unwrap();
        fs::write(d.path().join("f"), b"a").unwrap();
        let one = tree_digest(d.path()).unwrap();
        let f = fs::File::options()
            .write(true)
            .open(d.path().join("f"))
            .unwrap();
        f.set_modified(std::time::SystemTime::UNIX_EPOCH).unwrap();
        assert_eq!(tree_digest(d.path()).unwrap(), one);
        fs::write(d.path().join("f"), b"b").unwrap();
        assert_ne!(tree_digest(d.path()).unwrap(), one);
    }
}
