//! Which repositories of which registry hold which blobs (learnt from pushes): the sources of
//! cross-repository mounts.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use crate::error::Result;
use crate::store::atomic::write_json_atomic;

/// `<data_root>/image/registry-blobs.json`: registry domain → blob digest → repositories known to
/// hold it (learnt from pushes). Cross-repository mounts come from here.
pub struct KnownBlobs {
    path: PathBuf,
    map: Mutex<BTreeMap<String, BTreeMap<String, BTreeSet<String>>>>,
}

/// Repositories remembered per blob (oldest dropped first beyond this).
pub(super) const MAX_REPOS_PER_BLOB: usize = 8;

impl KnownBlobs {
    pub fn open(data_root: &Path) -> Self {
        let path = data_root.join("image").join("registry-blobs.json");
        let map = std::fs::read(&path)
            .ok()
            .and_then(|d| serde_json::from_slice(&d).ok())
            .unwrap_or_default();
        KnownBlobs {
            path,
            map: Mutex::new(map),
        }
    }

    fn lock(
        &self,
    ) -> std::sync::MutexGuard<'_, BTreeMap<String, BTreeMap<String, BTreeSet<String>>>> {
        self.map.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn repositories(&self, domain: &str, digest: &str) -> Vec<String> {
        self.lock()
            .get(domain)
            .and_then(|m| m.get(digest))
            .map(|s| s.iter().cloned().collect())
            .unwrap_or_default()
    }

    pub fn record(&self, domain: &str, digest: &str, repo: &str) -> Result<()> {
        let mut map = self.lock();
        let set = map
            .entry(domain.to_string())
            .or_default()
            .entry(digest.to_string())
            .or_default();
        if !set.insert(repo.to_string()) {
            return Ok(());
        }
        while set.len() > MAX_REPOS_PER_BLOB {
            let first = set.iter().next().cloned();
            if let Some(f) = first.filter(|f| f != repo) {
                set.remove(&f);
            } else {
                break;
            }
        }
        write_json_atomic(&self.path, &*map)
    }
}
