//! `POST /volumes/prune`: remove unused volumes.

use super::VolumeService;
use crate::error::{EngineError, Result};
use crate::model::volume::VolumeRecord;

impl VolumeService {
    /// `POST /volumes/prune`: unused volumes matching `keep`; anonymous ones only unless `all`.
    /// Returns the names removed and the bytes reclaimed.
    pub fn prune(
        &self,
        all: bool,
        keep: &dyn Fn(&VolumeRecord) -> bool,
    ) -> Result<(Vec<String>, u64)> {
        let mut deleted = Vec::new();
        let mut reclaimed = 0;
        for u in self.usage() {
            if u.ref_count > 0 || (!all && !u.record.anonymous) || !keep(&u.record) {
                continue;
            }
            match self.remove(&u.record.name, false) {
                Ok(()) => {
                    deleted.push(u.record.name);
                    reclaimed += u.size;
                }
                // Taken into use meanwhile: not an error for prune.
                Err(EngineError::Conflict(_)) | Err(EngineError::NotFound(_)) => {}
                Err(e) => return Err(e),
            }
        }
        Ok((deleted, reclaimed))
    }
}
