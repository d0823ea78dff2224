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
use crate::store::atomic::write_json_atomic;
use crate::store::record_dirs::RecordDirs;

const RECORD: &str = "container.json";

pub struct ContainerStore {
    dirs: RecordDirs,
}

impl ContainerStore {
    pub fn open(data_root: &Path) -> Result<Self> {
        Ok(ContainerStore {
            dirs: RecordDirs::open(data_root, "containers", RECORD, "container")?,
        })
    }

    pub fn dir(&self, id: &str) -> PathBuf {
        self.dirs.dir(id)
    }

    /// Remove what an interrupted create or remove left behind.
    pub fn sweep_leftovers(&self) {
        self.dirs.sweep_leftovers()
    }

    /// Every complete container record. Unreadable records are reported and skipped, never fatal.
    pub fn load_all(&self) -> Vec<ContainerRecord> {
        self.dirs.load_all()
    }

    /// Create the container's directory with its record, upper/work dirs and /etc files, then
    /// publish it with one rename.
    pub fn create(&self, rec: &ContainerRecord, etc: &EtcFiles) -> Result<PathBuf> {
        let tmp = self.dirs.stage(&rec.id)?;
        let ctx = || format!("creating container directory {}", tmp.display());
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
        self.dirs.publish(&rec.id, &tmp)
    }

    pub fn save(&self, rec: &ContainerRecord) -> Result<()> {
        write_json_atomic(&self.dirs.record_path(&rec.id), rec)
    }

    /// Unlist first (rename), then delete the files.
    pub fn remove(&self, id: &str) -> Result<()> {
        self.dirs.remove(id)
    }
}

/// Contents of the container's /etc/hostname, /etc/hosts and /etc/resolv.conf.
pub struct EtcFiles {
    pub hostname: String,
    pub hosts: String,
    pub resolv_conf: String,
}
