//! Disk usage of a directory tree for `system df` and prune answers: an iterative walk (no
//! recursion, so a deep tree cannot overflow the stack) that never follows symlinks, never
//! crosses into another filesystem, and counts each hard-linked inode once.

use std::collections::HashSet;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// Apparent size in bytes (sum of st_size, as docker's `directory.Size`) of everything under
/// `root`; 0 when it does not exist. Unreadable entries are skipped.
pub fn tree_size(root: &Path) -> u64 {
    let Ok(meta) = std::fs::symlink_metadata(root) else {
        return 0;
    };
    if !meta.is_dir() {
        return meta.len();
    }
    let dev = meta.dev();
    let mut seen: HashSet<(u64, u64)> = HashSet::new();
    let mut total = 0u64;
    let mut stack: Vec<PathBuf> = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            // DirEntry::metadata is lstat: symlinks are counted as links, not followed.
            let Ok(m) = entry.metadata() else { continue };
            if m.dev() != dev {
                continue;
            }
            if m.is_dir() {
                stack.push(entry.path());
                continue;
            }
            if m.nlink() > 1 && !seen.insert((m.dev(), m.ino())) {
                continue;
            }
            total = total.saturating_add(m.len());
        }
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_files_once_and_ignores_symlink_targets() {
        let d = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("big"), vec![0u8; 10_000]).unwrap();
        std::fs::create_dir_all(d.path().join("a/b/c")).unwrap();
        std::fs::write(d.path().join("a/b/c/f"), vec![1u8; 100]).unwrap();
        std::fs::hard_link(d.path().join("a/b/c/f"), d.path().join("a/h")).unwrap();
        std::fs::write(d.path().join("g"), vec![1u8; 23]).unwrap();
        std::os::unix::fs::symlink(outside.path(), d.path().join("link")).unwrap();
        let link_len = std::fs::symlink_metadata(d.path().join("link"))
            .unwrap()
            .len();
        assert_eq!(tree_size(d.path()), 123 + link_len);
        assert_eq!(tree_size(&d.path().join("missing")), 0);
    }

    #[test]
    fn deep_trees_do_not_recurse() {
        let d = tempfile::tempdir().unwrap();
        let mut p = d.path().to_path_buf();
        for _ in 0..300 {
            p.push("d");
        }
        std::fs::create_dir_all(&p).unwrap();
        std::fs::write(p.join("f"), b"xyz").unwrap();
        assert_eq!(tree_size(d.path()), 3);
    }
}
