//! Volume directories under `<data-root>/volumes/<name>/`: `_data` (what containers mount) and
//! `meta.json` (the record), published and removed crash-safely by `record_dirs`.

use std::fs;
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};

use crate::error::{EngineError, IoContext, Result};
use crate::model::volume::VolumeRecord;
use crate::store::atomic::write_json_atomic;
use crate::store::record_dirs::RecordDirs;

const META: &str = "meta.json";
pub const DATA: &str = "_data";

pub struct VolumeStore {
    dirs: RecordDirs,
}

impl VolumeStore {
    pub fn open(data_root: &Path) -> Result<Self> {
        Ok(VolumeStore {
            dirs: RecordDirs::open(data_root, "volumes", META, "volume")?,
        })
    }

    pub fn dir(&self, name: &str) -> PathBuf {
        self.dirs.dir(name)
    }

    /// The directory containers mount (docker's `Mountpoint`).
    pub fn data_dir(&self, name: &str) -> PathBuf {
        self.dir(name).join(DATA)
    }

    /// Remove what an interrupted create or remove left behind.
    pub fn sweep_leftovers(&self) {
        self.dirs.sweep_leftovers()
    }

    /// Every complete volume record; unreadable ones are reported and skipped.
    pub fn load_all(&self) -> Vec<VolumeRecord> {
        self.dirs.load_all()
    }

    /// Create the volume's directory with an empty `_data` and its record, published with one
    /// rename. Fails with Conflict when the name exists.
    pub fn create(&self, rec: &VolumeRecord) -> Result<()> {
        if self.dir(&rec.name).exists() {
            return Err(EngineError::conflict(format!(
                "volume {} already exists",
                rec.name
            )));
        }
        let tmp = self.dirs.stage(&rec.name)?;
        // Containers running as any user must be able to use an empty volume's root.
        fs::DirBuilder::new()
            .mode(0o755)
            .create(tmp.join(DATA))
            .io_context(|| format!("creating volume directory {}", tmp.display()))?;
        write_json_atomic(&tmp.join(META), rec)?;
        self.dirs.publish(&rec.name, &tmp).map(|_| ())
    }

    /// Unlist first (rename), then delete the files. Never follows symlinks (remove_dir_all
    /// unlinks them); the caller unmounts anything mounted on `_data` first.
    pub fn remove(&self, name: &str) -> Result<()> {
        self.dirs.remove(name)
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
