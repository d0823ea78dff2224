//! The build cache index: a step's cache key → the intermediate image it produced, one small JSON
//! file per key under `<data>/builder/cache/` (written atomically, so it survives `kill -9` and
//! restarts). Keys are computed like BuildKit's (see `key`): a RUN by its parent image, command,
//! environment, user, workdir and mounts; COPY/ADD by the content, mode and ownership of the
//! files it selects. An entry whose image was removed is a miss and is dropped.

use std::fs;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{IoContext, Result};
use crate::store::atomic::{write_json_atomic, write_json_replace};

/// One cache entry.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CacheEntry {
    /// The key (64 hex).
    #[serde(default)]
    pub key: String,
    /// The image the step committed.
    pub image: String,
    /// The image it was built on.
    #[serde(default)]
    pub parent: Option<String>,
    /// The history text of the step (what `system df -v` shows as the description).
    pub description: String,
    /// Bytes of the layer the step added (0 for config-only steps).
    pub size: u64,
    /// RFC 3339.
    pub created: String,
    pub last_used: String,
    #[serde(default)]
    pub usage_count: u64,
}

pub struct CacheIndex {
    dir: PathBuf,
}

/// A cache key from its parts, each length-prefixed so no two part lists collide.
pub fn key(parts: &[&[u8]]) -> String {
    let mut h = Sha256::new();
    h.update(b"berth-build-cache-v1");
    for p in parts {
        h.update((p.len() as u64).to_le_bytes());
        h.update(p);
    }
    hex::encode(h.finalize())
}

impl CacheIndex {
    pub fn open(builder_root: &Path) -> Result<CacheIndex> {
        let dir = builder_root.join("cache");
        crate::store::blobs::ensure_private_dir(&dir)?;
        Ok(CacheIndex { dir })
    }

    fn path(&self, key: &str) -> PathBuf {
        self.dir.join(format!("{key}.json"))
    }

    /// The entry for `key`, if any; `exists` says whether its image is still in the store.
    pub fn get(&self, key: &str, exists: impl Fn(&str) -> bool) -> Option<CacheEntry> {
        let p = self.path(key);
        let data = fs::read(&p).ok()?;
        let entry: CacheEntry = serde_json::from_slice(&data).ok()?;
        if !exists(&entry.image) {
            let _ = fs::remove_file(&p);
            return None;
        }
        Some(entry)
    }

    /// Record a hit: last use and count (best effort; a lost update only ages the entry).
    pub fn touch(&self, mut entry: CacheEntry) {
        entry.last_used = crate::util::now_rfc3339();
        entry.usage_count += 1;
        let _ = write_json_replace(&self.path(&entry.key), &entry);
    }

    pub fn put(&self, entry: &CacheEntry) -> Result<()> {
        write_json_atomic(&self.path(&entry.key), entry)
    }

    /// Every entry (for prune and `system df`).
    pub fn all(&self) -> Result<Vec<CacheEntry>> {
        let mut out = Vec::new();
        for e in fs::read_dir(&self.dir).io_context(|| format!("reading {}", self.dir.display()))? {
            let Ok(e) = e else { continue };
            let name = e.file_name().to_string_lossy().into_owned();
            let Some(key) = name.strip_suffix(".json") else {
                continue;
            };
            if key.starts_with('.') {
                // An atomic write's leftover.
                let _ = fs::remove_file(e.path());
                continue;
            }
            if let Ok(data) = fs::read(e.path()) {
                if let Ok(mut entry) = serde_json::from_slice::<CacheEntry>(&data) {
                    entry.key = key.to_string();
                    out.push(entry);
                }
            }
        }
        Ok(out)
    }

    pub fn remove(&self, key: &str) -> Result<()> {
        match fs::remove_file(self.path(key)) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                Err(e).io_context(|| format!("removing cache entry {key}"))
            }
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_separate_their_parts() {
        assert_ne!(key(&[b"ab", b"c"]), key(&[b"a", b"bc"]));
        assert_eq!(key(&[b"x"]), key(&[b"x"]));
    }

    #[test]
    fn entries_survive_reopen_and_vanish_with_their_image() {
        let dir = tempfile::tempdir().unwrap();
        let idx = CacheIndex::open(dir.path()).unwrap();
        let e = CacheEntry {
            key: key(&[b"k"]),
            image: "sha256:aa".into(),
            parent: None,
            description: "RUN x".into(),
            size: 3,
            created: "t".into(),
            last_used: "t".into(),
            usage_count: 0,
        };
        idx.put(&e).unwrap();
        let idx = CacheIndex::open(dir.path()).unwrap();
        assert_eq!(idx.get(&e.key, |_| true).unwrap().image, "sha256:aa");
        assert_eq!(idx.all().unwrap().len(), 1);
        assert!(idx.get(&e.key, |_| false).is_none());
        assert!(idx.all().unwrap().is_empty());
    }
}
