//! Crash-safe file writes: write a temporary sibling, fsync it, rename over the target, fsync the
//! directory. A `kill -9` at any point leaves either the old or the new content, never a torn file.

use std::fs::{self, File};
use std::io::Write;
use std::path::Path;

use crate::error::{IoContext, Result};

pub fn write_atomic(path: &Path, data: &[u8]) -> Result<()> {
    let dir = path.parent().unwrap_or_else(|| Path::new("."));
    let tmp = temporary_for(path);
    let ctx = || format!("writing {}", path.display());
    {
        let mut f = File::create(&tmp).io_context(ctx)?;
        f.write_all(data).io_context(ctx)?;
        f.sync_all().io_context(ctx)?;
    }
    fs::rename(&tmp, path).io_context(ctx)?;
    sync_dir(dir)
}

/// Replace a file through a renamed temporary, without fsync: for files whose loss in a crash
/// is harmless and whose readers skip a torn one (a build's step-by-step progress, a cache
/// hit's last-used time). Concurrent readers still see the old or the new content, never a mix.
pub fn write_replace(path: &Path, data: &[u8]) -> Result<()> {
    let tmp = temporary_for(path);
    let ctx = || format!("writing {}", path.display());
    fs::write(&tmp, data).io_context(ctx)?;
    fs::rename(&tmp, path).io_context(ctx)
}

pub fn write_json_replace<T: serde::Serialize>(path: &Path, value: &T) -> Result<()> {
    let data = serde_json::to_vec_pretty(value)?;
    write_replace(path, &data)
}

pub fn write_json_atomic<T: serde::Serialize>(path: &Path, value: &T) -> Result<()> {
    let data = serde_json::to_vec_pretty(value)?;
    write_atomic(path, &data)
}

/// A hidden sibling of `path`, unique per call: concurrent writers of the same file (e.g. two
/// container starts caching the same seccomp program) must not share a temporary.
fn temporary_for(path: &Path) -> std::path::PathBuf {
    let dir = path.parent().unwrap_or_else(|| Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    static SEQ: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let seq = SEQ.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    dir.join(format!(".{name}.tmp-{}-{seq}", std::process::id()))
}

/// fsync a directory so a rename or create inside it is durable.
pub fn sync_dir(dir: &Path) -> Result<()> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .io_context(|| format!("syncing {}", dir.display()))
}

#[cfg(test)]
mod tests {
    use super::write_atomic;

    #[test]
    fn concurrent_writers_of_one_file_all_succeed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("shared.bin");
        let writers: Vec<_> = (0..16)
            .map(|i| {
                let path = path.clone();
                std::thread::spawn(move || {
                    for _ in 0..20 {
                        write_atomic(&path, format!("writer {i}").as_bytes()).unwrap();
                    }
                })
            })
            .collect();
        for w in writers {
            w.join().unwrap();
        }
        let content = std::fs::read_to_string(&path).unwrap();
        assert!(content.starts_with("writer "), "{content}");
        // No temporaries left behind.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
