//! Volume directories under `<data-root>/volumes/<name>/`: `_data` (what containers mount) and
//! `meta.json` (the record). A volume becomes visible under its name only once complete: it is
//! built as `.tmp-<name>` and renamed; removal renames to `.removing-<name>` first. Volume names
//! never start with '.', so neither can collide with a real volume; leftovers are swept at start.

use std::fs;
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};

use crate::error::{EngineError, IoContext, Result};
use crate::model::volume::VolumeRecord;
use crate::store::atomic::{sync_dir, write_json_atomic};

const META: &str = "meta.json";
pub const DATA: &str = "_data";

pub struct VolumeStore {
    root: PathBuf,
}

impl VolumeStore {
    pub fn open(data_root: &Path) -> Result<Self> {
        let root = data_root.join("volumes");
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&root)
            .io_context(|| format!("creating {}", root.display()))?;
        Ok(VolumeStore { root })
    }

    pub fn dir(&self, name: &str) -> PathBuf {
        self.root.join(name)
    }

    /// The directory containers mount (docker's `Mountpoint`).
    pub fn data_dir(&self, name: &str) -> PathBuf {
        self.root.join(name).join(DATA)
    }

    /// Remove what an interrupted create or remove left behind.
    pub fn sweep_leftovers(&self) {
        let Ok(entries) = fs::read_dir(&self.root) else {
            return;
        };
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with(".tmp-") || name.starts_with(".removing-") {
                tracing::info!(dir = %name, "removing leftover volume directory");
                let _ = fs::remove_dir_all(entry.path());
            }
        }
    }

    /// Every complete volume record; unreadable ones are reported and skipped.
    pub fn load_all(&self) -> Vec<VolumeRecord> {
        let mut out = Vec::new();
        let Ok(entries) = fs::read_dir(&self.root) else {
            return out;
        };
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with('.') {
                continue;
            }
            let path = entry.path().join(META);
            match fs::read(&path)
                .map_err(|e| e.to_string())
                .and_then(|d| serde_json::from_slice(&d).map_err(|e| e.to_string()))
            {
                Ok(rec) => out.push(rec),
                Err(e) => {
                    tracing::warn!(path = %path.display(), error = %e, "skipping unreadable volume")
                }
            }
        }
        out
    }

    /// Create the volume's directory with an empty `_data` and its record, published with one
    /// rename. Fails with Conflict when the name exists.
    pub fn create(&self, rec: &VolumeRecord) -> Result<()> {
        let dir = self.dir(&rec.name);
        if dir.exists() {
            return Err(EngineError::conflict(format!(
                "volume {} already exists",
                rec.name
            )));
        }
        let tmp = self.root.join(format!(".tmp-{}", rec.name));
        let ctx = || format!("creating volume directory {}", tmp.display());
        let _ = fs::remove_dir_all(&tmp);
        fs::DirBuilder::new()
            .mode(0o700)
            .create(&tmp)
            .io_context(ctx)?;
        // Containers running as any user must be able to use an empty volume's root.
        fs::DirBuilder::new()
            .mode(0o755)
            .create(tmp.join(DATA))
            .io_context(ctx)?;
        write_json_atomic(&tmp.join(META), rec)?;
        if let Err(e) = fs::rename(&tmp, &dir) {
            let _ = fs::remove_dir_all(&tmp);
            return Err(e).io_context(ctx);
        }
        sync_dir(&self.root)
    }

    /// Unlist first (rename), then delete the files. Never follows symlinks (remove_dir_all
    /// unlinks them); the caller unmounts anything mounted on `_data` first.
    pub fn remove(&self, name: &str) -> Result<()> {
        let dir = self.dir(name);
        let doomed = self.root.join(format!(".removing-{name}"));
        fs::rename(&dir, &doomed).io_context(|| format!("removing {}", dir.display()))?;
        sync_dir(&self.root)?;
        fs::remove_dir_all(&doomed).io_context(|| format!("removing {}", doomed.display()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(name: &str) -> VolumeRecord {
        VolumeRecord {
            name: name.into(),
            driver: "local".into(),
            created_at: crate::util::now_rfc3339(),
            labels: Default::default(),
            options: Default::default(),
            anonymous: false,
        }
    }

    #[test]
    fn create_load_remove_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let store = VolumeStore::open(dir.path()).unwrap();
        store.create(&rec("data")).unwrap();
        assert!(store.data_dir("data").is_dir());
        assert!(matches!(
            store.create(&rec("data")),
            Err(EngineError::Conflict(_))
        ));
        std::fs::write(store.data_dir("data").join("f"), "x").unwrap();
        // A leftover of an interrupted create is swept and never listed.
        std::fs::create_dir_all(dir.path().join("volumes/.tmp-half/_data")).unwrap();
        assert_eq!(
            store.load_all(),
            vec![rec("data")]
                .into_iter()
                .map(|mut r| {
                    r.created_at = store.load_all()[0].created_at.clone();
                    r
                })
                .collect::<Vec<_>>()
        );
        store.sweep_leftovers();
        assert!(!dir.path().join("volumes/.tmp-half").exists());
        store.remove("data").unwrap();
        assert!(store.load_all().is_empty());
        assert_eq!(
            std::fs::read_dir(dir.path().join("volumes"))
                .unwrap()
                .count(),
            0
        );
    }
}
