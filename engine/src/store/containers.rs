//! Container directories under `<data_root>/containers/<id>/` holding `container.json` (the
//! engine's record) next to the shim's files. A directory only becomes visible under its id once it
//! is complete: it is built as `.tmp-<id>` and renamed; removal renames to `.removing-<id>` first.
//! Leftovers of either are swept at start, so a `kill -9` mid-create or mid-remove lists nothing
//! half-made.

use std::fs;
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};

use crate::error::{IoContext, Result};
use crate::model::container::ContainerRecord;
use crate::runtime::spec::files;
use crate::store::atomic::{sync_dir, write_json_atomic};

const RECORD: &str = "container.json";

pub struct ContainerStore {
    root: PathBuf,
}

impl ContainerStore {
    pub fn open(data_root: &Path) -> Result<Self> {
        let root = data_root.join("containers");
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&root)
            .io_context(|| format!("creating {}", root.display()))?;
        Ok(ContainerStore { root })
    }

    pub fn dir(&self, id: &str) -> PathBuf {
        self.root.join(id)
    }

    /// Remove what an interrupted create or remove left behind.
    pub fn sweep_leftovers(&self) {
        let Ok(entries) = fs::read_dir(&self.root) else {
            return;
        };
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with(".tmp-") || name.starts_with(".removing-") {
                tracing::info!(dir = %name, "removing leftover of an interrupted operation");
                let _ = fs::remove_dir_all(entry.path());
            }
        }
    }

    /// Every complete container record. Unreadable records are reported and skipped, never fatal.
    pub fn load_all(&self) -> Vec<ContainerRecord> {
        let mut out = Vec::new();
        let Ok(entries) = fs::read_dir(&self.root) else {
            return out;
        };
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with('.') {
                continue;
            }
            let path = entry.path().join(RECORD);
            match fs::read(&path)
                .map_err(|e| e.to_string())
                .and_then(|d| serde_json::from_slice(&d).map_err(|e| e.to_string()))
            {
                Ok(rec) => out.push(rec),
                Err(e) => {
                    tracing::warn!(path = %path.display(), error = %e, "skipping unreadable container")
                }
            }
        }
        out
    }

    /// Create the container's directory with its record, upper/work dirs and /etc files, then
    /// publish it with one rename.
    pub fn create(&self, rec: &ContainerRecord, etc: &EtcFiles) -> Result<PathBuf> {
        let tmp = self.root.join(format!(".tmp-{}", rec.id));
        let ctx = || format!("creating container directory {}", tmp.display());
        fs::DirBuilder::new()
            .mode(0o700)
            .create(&tmp)
            .io_context(ctx)?;
        for sub in [files::UPPER, files::WORK, files::ROOTFS] {
            fs::DirBuilder::new()
                .mode(0o755)
                .create(tmp.join(sub))
                .io_context(ctx)?;
        }
        fs::write(tmp.join(files::HOSTNAME), &etc.hostname).io_context(ctx)?;
        fs::write(tmp.join(files::HOSTS), &etc.hosts).io_context(ctx)?;
        fs::write(tmp.join(files::RESOLV_CONF), &etc.resolv_conf).io_context(ctx)?;
        write_json_atomic(&tmp.join(RECORD), rec)?;
        let dir = self.dir(&rec.id);
        fs::rename(&tmp, &dir).io_context(ctx)?;
        sync_dir(&self.root)?;
        Ok(dir)
    }

    pub fn save(&self, rec: &ContainerRecord) -> Result<()> {
        write_json_atomic(&self.dir(&rec.id).join(RECORD), rec)
    }

    /// Unlist first (rename), then delete the files.
    pub fn remove(&self, id: &str) -> Result<()> {
        let dir = self.dir(id);
        let doomed = self.root.join(format!(".removing-{id}"));
        fs::rename(&dir, &doomed).io_context(|| format!("removing {}", dir.display()))?;
        sync_dir(&self.root)?;
        fs::remove_dir_all(&doomed).io_context(|| format!("removing {}", doomed.display()))
    }
}

/// Contents of the container's /etc/hostname, /etc/hosts and /etc/resolv.conf.
pub struct EtcFiles {
    pub hostname: String,
    pub hosts: String,
    pub resolv_conf: String,
}
