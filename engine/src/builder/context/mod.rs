//! A build's context: the body of `POST /build` received into a private directory, the
//! Dockerfile read from it, and `.dockerignore` applied as dockerd's legacy builder does.
//!
//! The body is sniffed like docker's DecompressStream (gzip, bzip2, xz, zstd, or plain) and then
//! like its archive check: a tar is extracted with [`crate::archive::tar_in`] (fd-relative,
//! no entry can land outside the directory, owners and modes kept as the tar says, since COPY
//! copies them); anything else is the Dockerfile itself (`curl --data-binary @Dockerfile`), and the
//! context is a directory holding only that file. The directory lives in a 0700 directory under
//! the engine's scratch dir and is removed when the [`BuildContext`] is dropped.
//!
//! That private directory is a tmpfs of its own (a quarter of RAM at most): a context is read
//! whole by every build (COPY's cache key hashes what it selects) and thrown away at the end, so
//! it never needs a disk, and creating a thousand small files on one costs more than the rest of
//! an unchanged rebuild. A context too big for the tmpfs spills: what was extracted is copied to
//! a directory on the data root's disk, which takes the tmpfs's place, and the extraction goes on
//! there. Where no tmpfs can be mounted the context goes to the disk from the start.
//!
//! Paths a request names (the Dockerfile, its ignore file) resolve inside the context with
//! openat2(RESOLVE_IN_ROOT): symlinks are followed but clamped to the context, as docker's
//! FollowSymlinkInScope, so `-f link-to-/etc/passwd` finds nothing rather than a host file.

mod sniff;

#[cfg(test)]
mod tests;

use std::ffi::CString;
use std::fs::File;
use std::io::{self, Read};
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use nix::errno::Errno;
use nix::mount::{mount, umount2, MntFlags, MsFlags};

use crate::archive::tar_in::{extract_spilling, ExtractOptions, FileDigests};
use crate::builder::dockerignore::{go_clean, Patterns};
use crate::error::{EngineError, IoContext, Result};
use crate::fs_at::in_root::open_in_root;
use crate::fs_at::remove::remove_at;
use crate::fs_at::{fstatat_nofollow, is_dir_stat, open_dir_path, openat};

pub use sniff::Compression;

/// The Dockerfile's name when the query gives none.
pub const DEFAULT_DOCKERFILE: &str = "Dockerfile";
const DOCKERIGNORE: &str = ".dockerignore";

/// Removes a directory (and everything in it) when dropped.
#[derive(Debug)]
struct TempDir {
    parent: PathBuf,
    name: String,
}

impl Drop for TempDir {
    fn drop(&mut self) {
        // A tmpfs goes away whole (and at once) when detached; what is left is its mountpoint.
        let _ = umount2(&self.parent.join(&self.name), MntFlags::MNT_DETACH);
        let Ok(parent) = open_dir_path(&self.parent) else {
            return;
        };
        let Ok(name) = CString::new(self.name.as_str()) else {
            return;
        };
        // By fd and name, never following a symlink the context planted.
        if let Err(e) = remove_at(&parent, &name, true) {
            tracing::warn!(dir = %self.parent.join(&self.name).display(), error = %e, "removing build context");
        }
    }
}

/// A received build context.
#[derive(Debug)]
pub struct BuildContext {
    /// The context's root directory (inside a 0700 directory of its own).
    pub root: PathBuf,
    /// How the body came: compressed or not, and whether it was a tar at all.
    pub compression: Compression,
    /// The body was not a tar: it is the Dockerfile, whatever name the request gives it.
    pub dockerfile_only: bool,
    /// Each received file's content sha256, for COPY's cache key.
    pub digests: Arc<FileDigests>,
    _guard: TempDir,
}

/// Receive a request body into a new private directory under `scratch` (created if missing).
pub fn receive(body: impl Read + Send, scratch: &Path) -> Result<BuildContext> {
    receive_within(body, scratch, TMPFS_SIZE)
}

/// [`receive`] with the tmpfs's `size=` option given.
fn receive_within(
    body: impl Read + Send,
    scratch: &Path,
    tmpfs_size: &str,
) -> Result<BuildContext> {
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(scratch)
        .io_context(|| format!("creating {}", scratch.display()))?;
    let name = format!("build-{}", hex::encode(rand::random::<[u8; 8]>()));
    let private = scratch.join(&name);
    std::fs::DirBuilder::new()
        .mode(0o700)
        .create(&private)
        .io_context(|| format!("creating {}", private.display()))?;
    let guard = TempDir {
        parent: scratch.to_path_buf(),
        name: name.clone(),
    };
    let in_memory = mount_tmpfs(&private, tmpfs_size);
    let root = private.join("context");
    std::fs::DirBuilder::new()
        .mode(0o755)
        .create(&root)
        .io_context(|| format!("creating {}", root.display()))?;
    let dest = open_dir_path(&root).io_context(|| format!("opening {}", root.display()))?;

    let mut body: Box<dyn Read + Send + '_> = Box::new(body);
    let head = sniff::read_head(&mut body, 6).map_err(read_err)?;
    let compression = Compression::detect(&head);
    let raw: Box<dyn Read + Send + '_> = Box::new(io::Cursor::new(head).chain(body));
    let mut plain = sniff::decompress(compression, raw).map_err(read_err)?;
    let head = sniff::read_head(&mut plain, 512).map_err(read_err)?;
    let is_tar = sniff::is_tar(&head);
    let mut digests = FileDigests::default();
    let mut stream = io::Cursor::new(head).chain(plain);
    if is_tar {
        let opts = ExtractOptions {
            lenient_end: true,
            ..ExtractOptions::default()
        };
        let mut spill = || spill_to_disk(scratch, &name, &private, tmpfs_size);
        let spill: Option<crate::archive::tar_in::Spill<'_>> =
            if in_memory { Some(&mut spill) } else { None };
        extract_spilling(&mut stream, dest, &opts, spill, Some(&mut digests)).map_err(
            |e| match e {
                EngineError::InvalidArgument(m) => {
                    EngineError::invalid(format!("failed to extract the build context: {m}"))
                }
                other => other,
            },
        )?;
    } else {
        let fd = openat(
            &dest,
            c"Dockerfile",
            libc::O_WRONLY | libc::O_CREAT | libc::O_EXCL | libc::O_NOFOLLOW,
        )
        .io_context(|| "creating the Dockerfile".to_string())?;
        let mut f = File::from(fd);
        io::copy(&mut stream, &mut f).map_err(read_err)?;
        f.set_permissions(std::os::unix::fs::PermissionsExt::from_mode(0o644))
            .io_context(|| "chmod Dockerfile".to_string())?;
    }
    Ok(BuildContext {
        root,
        compression,
        dockerfile_only: !is_tar,
        digests: Arc::new(digests),
        _guard: guard,
    })
}

/// The largest share of RAM one build context may take in memory before it spills to disk.
const TMPFS_SIZE: &str = "size=25%";

/// Mount a private tmpfs on `dir`; false (the context then goes to disk) where that fails.
fn mount_tmpfs(dir: &Path, size: &str) -> bool {
    let opts = format!("mode=0700,{size}");
    match mount(
        Some("berth-build-context"),
        dir,
        Some("tmpfs"),
        MsFlags::MS_NOSUID | MsFlags::MS_NODEV,
        Some(opts.as_str()),
    ) {
        Ok(()) => true,
        Err(e) => {
            tracing::debug!(error = %e, "no tmpfs for the build context; using the disk");
            false
        }
    }
}

/// The tmpfs at `private` is full: copy its `context` to a directory on the disk, detach the
/// tmpfs, and move the copy into its place (so the context's path never changes). Returns the
/// context directory to go on extracting into.
fn spill_to_disk(scratch: &Path, name: &str, private: &Path, size: &str) -> Result<OwnedFd> {
    let disk = scratch.join(format!("{name}.spill"));
    std::fs::DirBuilder::new()
        .mode(0o700)
        .create(&disk)
        .io_context(|| format!("creating {}", disk.display()))?;
    tracing::info!(
        "the build context is larger than its in-memory limit ({size}); going on on disk"
    );
    let result = (|| {
        crate::builder::rootfs::copy_tree(&private.join("context"), &disk.join("context"))?;
        umount2(private, MntFlags::MNT_DETACH)
            .map_err(|e| EngineError::internal(format!("detaching the context tmpfs: {e}")))?;
        std::fs::rename(disk.join("context"), private.join("context"))
            .io_context(|| "moving the build context to disk".to_string())?;
        open_dir_path(&private.join("context")).io_context(|| "opening the build context".into())
    })();
    let _ = std::fs::remove_dir_all(&disk);
    result
}

fn read_err(e: io::Error) -> EngineError {
    match e.raw_os_error() {
        Some(_) => EngineError::Io {
            context: "receiving the build context".into(),
            source: e,
        },
        // Decoder errors: a corrupt or truncated body.
        None => EngineError::invalid(format!("failed to read the build context: {e}")),
    }
}

impl BuildContext {
    /// An O_PATH fd of the context root, for callers that resolve inside it (COPY).
    pub fn root_fd(&self) -> Result<OwnedFd> {
        crate::fs_at::open_path(&self.root, libc::O_PATH | libc::O_DIRECTORY)
            .map_err(|e| EngineError::internal(format!("opening the build context: {e}")))
    }

    /// The Dockerfile's name as docker settles it: "" is "Dockerfile", and a missing
    /// "Dockerfile" falls back to "dockerfile".
    pub fn dockerfile_name(&self, name: &str) -> Result<String> {
        let name = if name.is_empty() {
            DEFAULT_DOCKERFILE
        } else {
            name
        };
        if self.dockerfile_only {
            return Ok(DEFAULT_DOCKERFILE.into());
        }
        scoped(name)?;
        if name == DEFAULT_DOCKERFILE && self.open(name).is_err() {
            let lower = name.to_lowercase();
            if self.open(&lower).is_ok() {
                return Ok(lower);
            }
        }
        Ok(name.to_string())
    }

    /// The Dockerfile's text (`name` "" → "Dockerfile"), found inside the context with symlinks
    /// resolved in it; docker's errors when it is missing or empty.
    pub fn read_dockerfile(&self, name: &str) -> Result<String> {
        let resolved = self.dockerfile_name(name)?;
        let fd = self.open(&resolved).map_err(|e| match e {
            Errno::ENOENT | Errno::ENOTDIR | Errno::ELOOP => {
                EngineError::internal(format!("Cannot locate specified Dockerfile: {resolved}"))
            }
            e => EngineError::internal(format!("unexpected error reading Dockerfile: {e}")),
        })?;
        let mut text = Vec::new();
        File::from(fd).read_to_end(&mut text).map_err(|e| {
            EngineError::internal(format!(
                "unexpected error reading Dockerfile: read {resolved}: {}",
                errno_text(&e)
            ))
        })?;
        if text.is_empty() {
            return Err(EngineError::invalid(format!(
                "the Dockerfile ({resolved}) cannot be empty"
            )));
        }
        Ok(String::from_utf8_lossy(&text).into_owned())
    }

    /// The ignore patterns for a build of `dockerfile`: `<dockerfile>.dockerignore` beside it
    /// (BuildKit's rule, which berth's CLI follows) first, then `.dockerignore` at the root.
    pub fn ignore_patterns(&self, dockerfile: &str) -> Result<Option<Patterns>> {
        Ok(match self.ignore_file(dockerfile)? {
            Some((_, text)) => Some(Patterns::parse(&text)?),
            None => None,
        })
    }

    /// dockerd's removeDockerfile: after the Dockerfile was read, the ignore file itself and the
    /// Dockerfile are removed from the context when the patterns exclude them, so COPY never sees
    /// them. Everything else is as the client sent it (the client filtered before sending).
    pub fn apply_ignore(&self, dockerfile: &str) -> Result<()> {
        let Some((ignore_name, text)) = self.ignore_file(dockerfile)? else {
            return Ok(());
        };
        let patterns = Patterns::parse(&text)?;
        let dockerfile = self.dockerfile_name(dockerfile)?;
        let mut remove = vec![DOCKERIGNORE.to_string()];
        if ignore_name != DOCKERIGNORE {
            remove.push(ignore_name);
        }
        remove.push(dockerfile);
        for name in remove {
            if patterns.matches(&name) {
                self.remove(&name)?;
            }
        }
        Ok(())
    }

    /// Every path below the root that `patterns` exclude is removed: the whole-context filter for
    /// bodies that did not come through a filtering client. Excluded directories are removed
    /// whole unless an exception may re-include something below them.
    pub fn remove_excluded(&self, patterns: &Patterns) -> Result<()> {
        let root = open_dir_path(&self.root).io_context(|| "opening the build context".into())?;
        remove_excluded_in(&root, "", patterns)
    }

    /// (name, text) of the ignore file that applies, if any.
    fn ignore_file(&self, dockerfile: &str) -> Result<Option<(String, String)>> {
        let df = if dockerfile.is_empty() {
            DEFAULT_DOCKERFILE
        } else {
            dockerfile
        };
        let specific = format!("{}.dockerignore", go_clean(df).trim_start_matches('/'));
        for name in [specific, DOCKERIGNORE.to_string()] {
            if scoped(&name).is_err() {
                continue;
            }
            match self.open(&name) {
                Ok(fd) => {
                    let mut text = Vec::new();
                    File::from(fd)
                        .read_to_end(&mut text)
                        .io_context(|| format!("reading {name}"))?;
                    return Ok(Some((name, String::from_utf8_lossy(&text).into_owned())));
                }
                Err(Errno::ENOENT) | Err(Errno::ENOTDIR) | Err(Errno::ELOOP) => continue,
                Err(e) => {
                    return Err(EngineError::internal(format!("opening {name}: {e}")));
                }
            }
        }
        Ok(None)
    }

    /// Open a regular file by its context path, symlinks resolved inside the context.
    fn open(&self, name: &str) -> std::result::Result<OwnedFd, Errno> {
        let root = crate::fs_at::open_path(&self.root, libc::O_PATH | libc::O_DIRECTORY)?;
        open_in_root(root.as_raw_fd(), Path::new(name), libc::O_RDONLY, 0)
    }

    /// Remove `name` (its parent resolved inside the context, the name itself not followed).
    fn remove(&self, name: &str) -> Result<()> {
        let clean = go_clean(&format!("/{name}"));
        let Some((parent, last)) = clean.rsplit_once('/') else {
            return Ok(());
        };
        if last.is_empty() {
            return Ok(());
        }
        let root = crate::fs_at::open_path(&self.root, libc::O_PATH | libc::O_DIRECTORY)
            .map_err(|e| EngineError::internal(format!("opening the build context: {e}")))?;
        let pfd = match open_in_root(
            root.as_raw_fd(),
            Path::new(if parent.is_empty() { "/" } else { parent }),
            libc::O_RDONLY | libc::O_DIRECTORY,
            0,
        ) {
            Ok(fd) => fd,
            Err(Errno::ENOENT) | Err(Errno::ENOTDIR) => return Ok(()),
            Err(e) => return Err(EngineError::internal(format!("opening {parent}: {e}"))),
        };
        let c = CString::new(last).map_err(|_| EngineError::invalid("NUL byte in path"))?;
        let st = match fstatat_nofollow(&pfd, &c) {
            Ok(st) => st,
            Err(Errno::ENOENT) => return Ok(()),
            Err(e) => return Err(EngineError::internal(format!("stat {name}: {e}"))),
        };
        remove_at(&pfd, &c, is_dir_stat(&st)).io_context(|| format!("removing {name}"))
    }
}

/// docker's FullPath check: a name that climbs out of the context lexically is refused with its
/// backwards-compatible wording (and, as dockerd, a 500).
fn scoped(name: &str) -> Result<()> {
    let c = go_clean(name);
    if c == ".." || c.starts_with("../") {
        return Err(EngineError::internal(format!(
            "forbidden path outside the build context: {name} ()"
        )));
    }
    Ok(())
}

fn errno_text(e: &io::Error) -> String {
    match e.raw_os_error() {
        Some(libc::EISDIR) => "is a directory".into(),
        _ => e.to_string(),
    }
}

fn remove_excluded_in(dir: &OwnedFd, prefix: &str, patterns: &Patterns) -> Result<()> {
    for child in crate::fs_at::list_dir(dir).io_context(|| format!("listing {prefix:?}"))? {
        let name = String::from_utf8_lossy(child.to_bytes()).into_owned();
        let rel = if prefix.is_empty() {
            name
        } else {
            format!("{prefix}/{name}")
        };
        let st = match fstatat_nofollow(dir, &child) {
            Ok(st) => st,
            Err(Errno::ENOENT) => continue,
            Err(e) => return Err(EngineError::internal(format!("stat {rel}: {e}"))),
        };
        let is_dir = is_dir_stat(&st);
        let excluded = patterns.matches(&rel);
        if excluded && !(is_dir && patterns.dir_may_have_exceptions(&rel)) {
            remove_at(dir, &child, is_dir).io_context(|| format!("removing {rel}"))?;
            continue;
        }
        if is_dir {
            let sub =
                crate::fs_at::open_dir_at(dir, &child).io_context(|| format!("opening {rel}"))?;
            remove_excluded_in(&sub, &rel, patterns)?;
        }
    }
    Ok(())
}
