//! Marks on verified content that no image references yet: the blobs and layers of a pull or
//! load that has not committed its image. `<image>/resumable/<hex>` (empty files) exist from the
//! moment a blob or layer is ingested until its image is committed. Garbage collection at engine
//! start spares marked content for a grace period, so a pull interrupted by `kill -9` resumes from
//! what it had verified; content left by an interrupted removal carries no mark and goes at once.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use crate::error::{IoContext, Result};
use crate::store::blobs::digest_hex;

/// How long unreferenced, marked content survives engine restarts.
pub const RESUME_GRACE: Duration = Duration::from_secs(24 * 3600);

pub struct ResumableMarks {
    dir: PathBuf,
}

impl ResumableMarks {
    pub fn open(image_root: &Path) -> Result<Self> {
        let dir = image_root.join("resumable");
        crate::store::blobs::ensure_private_dir(&dir)?;
        Ok(ResumableMarks { dir })
    }

    fn path(&self, digest: &str) -> Result<PathBuf> {
        Ok(self.dir.join(digest_hex(digest)?))
    }

    /// Mark `digest` (a blob digest or a diff_id) as ingested but not yet referenced. The mark
    /// is written before the content is renamed into place, so content never lacks its mark.
    pub fn mark(&self, digest: &str) -> Result<()> {
        let p = self.path(digest)?;
        fs::write(&p, b"").io_context(|| format!("writing {}", p.display()))
    }

    pub fn unmark(&self, digest: &str) {
        if let Ok(p) = self.path(digest) {
            let _ = fs::remove_file(p);
        }
    }

    /// Whether `digest` carries a mark younger than the grace period.
    pub fn is_fresh(&self, digest: &str) -> bool {
        let Ok(p) = self.path(digest) else {
            return false;
        };
        fs::metadata(p)
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| SystemTime::now().duration_since(t).ok())
            .is_some_and(|age| age < RESUME_GRACE)
    }

    /// Drop every mark for which `keep` says no (content gone or referenced).
    pub fn retain(&self, keep: impl Fn(&str) -> bool) -> Result<()> {
        for d in crate::store::blobs::list_digest_names(&self.dir)? {
            if !keep(&d) {
                self.unmark(&d);
            }
        }
        Ok(())
    }
}
