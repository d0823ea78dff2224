//! One directory per object, holding its record file (containers, volumes), with crash-safe
//! listing: a directory becomes visible under its key only once complete (built as `.tmp-<key>`,
//! then renamed), and removal unlists first (renamed to `.removing-<key>`) before deleting. Keys
//! never start with '.', so neither can collide with a real object; leftovers of an interrupted
//! create or remove (a `kill -9` at any moment) are swept at start and never listed.

use std::fs;
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;

use crate::error::{IoContext, Result};
use crate::store::atomic::sync_dir;

pub struct RecordDirs {
    root: PathBuf,
    /// The record's file name inside each directory.
    record: &'static str,
    /// What the directories hold, for logs ("container", "volume").
    kind: &'static str,
}

impl RecordDirs {
    /// `<data_root>/<sub>`, created 0700 when missing.
    pub fn open(
        data_root: &Path,
        sub: &str,
        record: &'static str,
        kind: &'static str,
    ) -> Result<Self> {
        let root = data_root.join(sub);
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&root)
            .io_context(|| format!("creating {}", root.display()))?;
        Ok(RecordDirs { root, record, kind })
    }

    pub fn dir(&self, key: &str) -> PathBuf {
        self.root.join(key)
    }

    /// The directory holding every object's directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn record_path(&self, key: &str) -> PathBuf {
        self.dir(key).join(self.record)
    }

    /// The directories of interrupted creates and removes (`.tmp-<key>`, `.removing-<key>`).
    pub fn leftovers(&self) -> Vec<PathBuf> {
        let Ok(entries) = fs::read_dir(&self.root) else {
            return Vec::new();
        };
        entries
            .flatten()
            .filter(|e| {
                let name = e.file_name();
                let name = name.to_string_lossy();
                name.starts_with(".tmp-") || name.starts_with(".removing-")
            })
            .map(|e| e.path())
            .collect()
    }

    /// Remove what an interrupted create or remove left behind.
    pub fn sweep_leftovers(&self) {
        let Ok(entries) = fs::read_dir(&self.root) else {
            return;
        };
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with(".tmp-") || name.starts_with(".removing-") {
                tracing::info!(dir = %name, kind = self.kind, "removing leftover of an interrupted operation");
                let _ = fs::remove_dir_all(entry.path());
            }
        }
    }

    /// Every complete record. Unreadable ones are reported and skipped, never fatal.
    pub fn load_all<T: DeserializeOwned>(&self) -> Vec<T> {
        let mut out = Vec::new();
        let Ok(entries) = fs::read_dir(&self.root) else {
            return out;
        };
        for entry in entries.flatten() {
            if entry.file_name().to_string_lossy().starts_with('.') {
                continue;
            }
            let path = entry.path().join(self.record);
            match fs::read(&path)
                .map_err(|e| e.to_string())
                .and_then(|d| serde_json::from_slice(&d).map_err(|e| e.to_string()))
            {
                Ok(rec) => out.push(rec),
                Err(e) => {
                    tracing::warn!(path = %path.display(), error = %e, kind = self.kind, "skipping unreadable record")
                }
            }
        }
        out
    }

    /// A fresh, empty, private staging directory for `key` (an older one is discarded).
    pub fn stage(&self, key: &str) -> Result<PathBuf> {
        let tmp = self.root.join(format!(".tmp-{key}"));
        let _ = fs::remove_dir_all(&tmp);
        fs::DirBuilder::new()
            .mode(0o700)
            .create(&tmp)
            .io_context(|| format!("creating {}", tmp.display()))?;
        Ok(tmp)
    }

    /// Make the staged directory visible as `key` with one rename (and discard it on failure).
    pub fn publish(&self, key: &str, staged: &Path) -> Result<PathBuf> {
        let dir = self.dir(key);
        if let Err(e) = fs::rename(staged, &dir) {
            let _ = fs::remove_dir_all(staged);
            return Err(e).io_context(|| format!("publishing {}", dir.display()));
        }
        sync_dir(&self.root)?;
        Ok(dir)
    }

    /// Unlist first (rename), then delete the files. Never follows symlinks (remove_dir_all
    /// unlinks them); the caller unmounts anything mounted inside first.
    pub fn remove(&self, key: &str) -> Result<()> {
        let dir = self.dir(key);
        let doomed = self.root.join(format!(".removing-{key}"));
        fs::rename(&dir, &doomed).io_context(|| format!("removing {}", dir.display()))?;
        sync_dir(&self.root)?;
        fs::remove_dir_all(&doomed).io_context(|| format!("removing {}", doomed.display()))
    }
}
