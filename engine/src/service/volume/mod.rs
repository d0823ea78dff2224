//! Volumes (local driver): named and anonymous volumes under `<data-root>/volumes`, their
//! lifecycle alongside containers (created on first use, `rm -v`, in-use checks), events, prune
//! and usage for `system df`.
//!
//! "In use" is computed from the container records (each keeps its resolved mounts), so there is
//! no reference count on disk to drift after a crash.

mod backing;
mod create;
mod mount_hooks;
mod prune;
mod remove;
mod usage;

pub use usage::VolumeUsage;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard, Weak};

use crate::error::{EngineError, Result};
use crate::model::volume::VolumeRecord;
use crate::service::container::ContainerService;
use crate::service::events::{kind, EventBus};
use crate::store::volumes::VolumeStore;

/// Docker's label on volumes created for a single container.
pub const ANONYMOUS_LABEL: &str = "com.docker.volume.anonymous";

pub struct VolumeService {
    store: VolumeStore,
    index: Mutex<BTreeMap<String, VolumeRecord>>,
    events: EventBus,
    containers: Weak<ContainerService>,
}

impl VolumeService {
    /// Open the store (sweeping leftovers of interrupted operations) and load every volume.
    pub fn open(
        data_root: &std::path::Path,
        events: EventBus,
        containers: &Arc<ContainerService>,
    ) -> Result<Arc<Self>> {
        let store = VolumeStore::open(data_root)?;
        store.sweep_leftovers();
        let index = store
            .load_all()
            .into_iter()
            .map(|r| (r.name.clone(), r))
            .collect();
        Ok(Arc::new(VolumeService {
            store,
            index: Mutex::new(index),
            events,
            containers: Arc::downgrade(containers),
        }))
    }

    fn index(&self) -> MutexGuard<'_, BTreeMap<String, VolumeRecord>> {
        self.index.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn mountpoint(&self, name: &str) -> PathBuf {
        self.store.data_dir(name)
    }

    fn emit(&self, action: &str, name: &str, extra: &[(&str, String)]) {
        let mut attrs = BTreeMap::from([("driver".to_string(), "local".to_string())]);
        for (k, v) in extra {
            attrs.insert((*k).to_string(), v.clone());
        }
        self.events.publish(kind::VOLUME, action, name, attrs);
    }

    pub fn list(&self) -> Vec<VolumeRecord> {
        self.index().values().cloned().collect()
    }

    pub fn get(&self, name: &str) -> Result<VolumeRecord> {
        self.index()
            .get(name)
            .cloned()
            .ok_or_else(|| EngineError::not_found(format!("get {name}: no such volume")))
    }
}
