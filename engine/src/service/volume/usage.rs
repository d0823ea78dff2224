//! Each volume's size and number of containers using it (`system df`, prune).

use std::collections::HashMap;

use super::VolumeService;
use crate::model::volume::{MountType, VolumeRecord};

/// A volume with its usage, for `system df` and prune.
pub struct VolumeUsage {
    pub record: VolumeRecord,
    pub size: u64,
    pub ref_count: usize,
}

impl VolumeService {
    /// Every volume with its size and number of containers using it.
    pub fn usage(&self) -> Vec<VolumeUsage> {
        let mut refs: HashMap<String, usize> = HashMap::new();
        if let Some(containers) = self.containers.upgrade() {
            for c in containers.list() {
                for m in c.record().mounts {
                    if m.kind == MountType::Volume {
                        *refs.entry(m.name).or_default() += 1;
                    }
                }
            }
        }
        self.list()
            .into_iter()
            .map(|record| VolumeUsage {
                size: crate::util::du::tree_size(&self.store.data_dir(&record.name)),
                ref_count: refs.get(&record.name).copied().unwrap_or(0),
                record,
            })
            .collect()
    }
}
