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
/// Present in a container directory being removed with its anonymous volumes (`rm -v`), so a
/// removal interrupted by a kill finishes as it was asked.
const REMOVE_VOLUMES: &str = "remove-volumes";

/// A removal a kill interrupted after the container was unlisted: what is left to do for it
/// (its networking forgotten, its anonymous volumes removed when asked).
pub struct InterruptedRemoval {
    pub record: ContainerRecord,
    pub remove_volumes: bool,
}

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

    /// `<data_root>/containers`: where every container directory (and leftover) lives.
    pub fn root(&self) -> &Path {
        self.dirs.root()
    }

    /// Remove what an interrupted create or remove left behind; the removals it interrupted,
    /// for the rest of their work.
    pub fn sweep_leftovers(&self) -> Vec<InterruptedRemoval> {
        let mut interrupted = Vec::new();
        for dir in self.dirs.leftovers() {
            let name = dir.file_name().map(|n| n.to_string_lossy().into_owned());
            if !name.is_some_and(|n| n.starts_with(".removing-")) {
                continue;
            }
            let record = fs::read(dir.join(RECORD))
                .ok()
                .and_then(|d| serde_json::from_slice::<ContainerRecord>(&d).ok());
            if let Some(record) = record {
                interrupted.push(InterruptedRemoval {
                    record,
                    remove_volumes: dir.join(REMOVE_VOLUMES).exists(),
                });
            }
        }
        self.dirs.sweep_leftovers();
        interrupted
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

    /// Unlist first (rename), then delete the files. `remove_volumes` is recorded in the
    /// directory first, for a restart to finish the removal if a kill interrupts it.
    pub fn remove(&self, id: &str, remove_volumes: bool) -> Result<()> {
        if remove_volumes {
            let marker = self.dirs.dir(id).join(REMOVE_VOLUMES);
            fs::write(&marker, b"").io_context(|| format!("writing {}", marker.display()))?;
        }
        self.dirs.remove(id)
    }
}

/// Contents of the container's /etc/hostname, /etc/hosts and /etc/resolv.conf.
pub struct EtcFiles {
    pub hostname: String,
    pub hosts: String,
    pub resolv_conf: String,
}
