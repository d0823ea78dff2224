//! Persistent network namespaces for containers: a bind mount of a namespace file onto
//! `<data-root>/netns/<id>`, created before the shim starts so the engine can configure the
//! container's interfaces first, and joined by the container's init with setns(2).
//!
//! Namespaces are per thread for networking, so every operation runs on a short-lived dedicated
//! thread: a pooled thread that had setns()ed would leak the namespace to whatever task runs
//! on it next.

use std::fs::File;
use std::os::fd::AsFd;
use std::path::{Path, PathBuf};

use nix::mount::{mount, umount2, MntFlags, MsFlags};
use nix::sched::{setns, unshare, CloneFlags};

use crate::error::{EngineError, Result};

/// Run `f` on a new thread that first joins the network namespace at `path` (or stays in the
/// engine's namespace when `None`). Whatever sockets `f` opens live in that namespace.
pub fn run_in<T, F>(path: Option<&Path>, f: F) -> Result<T>
where
    T: Send + 'static,
    F: FnOnce() -> Result<T> + Send + 'static,
{
    let ns = match path {
        Some(p) => Some(File::open(p).map_err(|e| {
            EngineError::internal(format!("opening network namespace {}: {e}", p.display()))
        })?),
        None => None,
    };
    std::thread::Builder::new()
        .name("berth-netns".into())
        .spawn(move || {
            if let Some(ns) = ns {
                setns(ns.as_fd(), CloneFlags::CLONE_NEWNET)
                    .map_err(|e| EngineError::internal(format!("setns: {e}")))?;
            }
            f()
        })
        .map_err(|e| EngineError::internal(format!("spawning a netns thread: {e}")))?
        .join()
        .map_err(|_| EngineError::internal("a network namespace thread panicked"))?
}

/// Create a new network namespace and pin it at `path` (a bind mount of the namespace file), so
/// it outlives the thread that made it and, later, the engine itself.
pub fn create(path: &Path) -> Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)
            .map_err(|e| EngineError::internal(format!("creating {}: {e}", dir.display())))?;
    }
    File::create(path)
        .map_err(|e| EngineError::internal(format!("creating {}: {e}", path.display())))?;
    let target: PathBuf = path.to_owned();
    let made = run_in(None, move || {
        unshare(CloneFlags::CLONE_NEWNET)
            .map_err(|e| EngineError::internal(format!("unshare(CLONE_NEWNET): {e}")))?;
        mount(
            Some("/proc/thread-self/ns/net"),
            &target,
            None::<&str>,
            MsFlags::MS_BIND,
            None::<&str>,
        )
        .map_err(|e| EngineError::internal(format!("pinning network namespace: {e}")))
    });
    if made.is_err() {
        let _ = std::fs::remove_file(path);
    }
    made
}

/// Unpin and delete a namespace file; the namespace (and the veth ends inside it) disappears
/// once no process uses it. Missing files are fine: teardown must be idempotent.
pub fn remove(path: &Path) {
    match umount2(path, MntFlags::MNT_DETACH) {
        Ok(()) | Err(nix::errno::Errno::EINVAL) | Err(nix::errno::Errno::ENOENT) => {}
        Err(e) => tracing::warn!(path = %path.display(), error = %e, "unmounting netns"),
    }
    let _ = std::fs::remove_file(path);
}

/// Is `path` a pinned namespace (not just a leftover empty file)?
pub fn is_pinned(path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    // A bind-mounted nsfs file lives on another device than its directory.
    match (
        std::fs::metadata(path),
        path.parent().map(std::fs::metadata),
    ) {
        (Ok(f), Some(Ok(d))) => f.dev() != d.dev(),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn create_join_and_remove() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ns1");
        create(&path).unwrap();
        assert!(is_pinned(&path));
        let host = std::fs::read_link("/proc/thread-self/ns/net").unwrap();
        let inside = run_in(Some(&path), || {
            Ok(std::fs::read_link("/proc/thread-self/ns/net").unwrap())
        })
        .unwrap();
        assert_ne!(host, inside);
        remove(&path);
        assert!(!path.exists());
        remove(&path); // idempotent
    }
}
