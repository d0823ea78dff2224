//! Container operations and the container state machine:
//! created → running → exited (→ running again on start/restart) → removed.
//!
//! Each container has a record (persisted on every state change), an operation lock that
//! serialises lifecycle operations, the handle of its shim while it runs, a `watch` channel of its
//! lifecycle (what `wait` listens to) and a broadcast of its output (what `attach` listens to).
//!
//! One verb per file, each an `impl ContainerService` block (as moby's daemon/start.go,
//! daemon/kill.go and youki's container_kill.rs): the per-container state is in `state`, the
//! policies that drive it in `restart` and `health`.

pub mod archive;
mod attach;
pub mod create;
pub mod exec;
mod exit;
pub mod health;
pub mod host;
mod kill;
pub mod links;
mod list;
mod load;
pub mod log_driver;
pub mod logs;
pub mod mounts;
pub mod names;
pub mod namespace_modes;
mod pause;
mod recover;
mod remove;
mod rename;
pub mod restart;
pub mod shared_net;
pub mod spec;
mod start;
mod state;
pub mod stats;
mod stop;
#[cfg(test)]
mod tests;
mod top;
pub mod update;
mod wait;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use tokio::sync::watch;

use crate::error::Result;
use crate::runtime::selfexe::ShimExecutable;
use crate::runtime::spec::files;
use crate::service::events::{container_attributes, kind, EventBus};
use crate::store::containers::ContainerStore;

use host::{ContainerHost, RuntimeHost};

pub use list::Counts;
pub use state::{Container, Life, Output};

#[derive(Default)]
struct Index {
    by_id: HashMap<String, Arc<Container>>,
    /// name (without '/') → id
    names: HashMap<String, String>,
}

pub struct ContainerService {
    data_root: PathBuf,
    store: ContainerStore,
    shim_exe: ShimExecutable,
    index: RwLock<Index>,
    loaded: watch::Sender<bool>,
    events: EventBus,
    /// Volumes and mounts (set once at engine start; see `mounts::MountHooks`).
    mount_hooks: std::sync::OnceLock<Arc<dyn mounts::MountHooks>>,
    /// Bridge networking; set once at engine start (absent in unit tests of this service).
    networks: std::sync::OnceLock<Arc<crate::service::network::NetworkService>>,
    /// Shims, cgroups and probes (`RuntimeHost`; a recording fake in unit tests).
    host: Arc<dyn ContainerHost>,
    /// Removals a kill interrupted, found by `load`, finished by `reconcile`.
    interrupted: std::sync::Mutex<Vec<crate::store::containers::InterruptedRemoval>>,
}

impl ContainerService {
    /// Open the store without reading it: `load` fills the index, in the background at engine
    /// start, so the engine answers `/_ping` at once however many containers it has.
    pub fn open(data_root: &Path, shim_exe: ShimExecutable) -> Result<Arc<Self>> {
        Self::open_with_events(data_root, shim_exe, EventBus::new())
    }

    /// `open`, publishing container events on `events` (the engine shares one bus).
    pub fn open_with_events(
        data_root: &Path,
        shim_exe: ShimExecutable,
        events: EventBus,
    ) -> Result<Arc<Self>> {
        Self::open_with_host(data_root, shim_exe, events, Arc::new(RuntimeHost))
    }

    /// `open_with_events` on another host (unit tests pass a fake).
    pub(crate) fn open_with_host(
        data_root: &Path,
        shim_exe: ShimExecutable,
        events: EventBus,
        host: Arc<dyn ContainerHost>,
    ) -> Result<Arc<Self>> {
        let store = ContainerStore::open(data_root)?;
        Ok(Arc::new(ContainerService {
            data_root: data_root.to_owned(),
            store,
            shim_exe,
            index: RwLock::new(Index::default()),
            loaded: watch::channel(false).0,
            events,
            mount_hooks: std::sync::OnceLock::new(),
            networks: std::sync::OnceLock::new(),
            host,
            interrupted: std::sync::Mutex::new(Vec::new()),
        }))
    }

    /// Install the volume service's hooks (once, at engine start).
    pub fn set_mount_hooks(&self, hooks: Arc<dyn mounts::MountHooks>) {
        let _ = self.mount_hooks.set(hooks);
    }

    pub(super) fn mount_hooks(&self) -> Option<&Arc<dyn mounts::MountHooks>> {
        self.mount_hooks.get()
    }

    /// Hand the network service to the container lifecycle (engine start).
    pub fn set_networks(&self, networks: Arc<crate::service::network::NetworkService>) {
        let _ = self.networks.set(networks);
    }

    pub(super) fn networks(&self) -> Option<&Arc<crate::service::network::NetworkService>> {
        self.networks.get()
    }

    pub fn events(&self) -> &EventBus {
        &self.events
    }

    /// Publish a container event (docker's LogContainerEventWithAttributes): the container's
    /// labels, image and name, plus `extra`.
    pub fn emit(&self, c: &Container, action: &str, extra: &[(&str, String)]) {
        let rec = c.record.lock().expect("record lock");
        let image = if rec.config.image.is_empty() {
            &rec.image
        } else {
            &rec.config.image
        };
        let attrs = container_attributes(&rec.config.labels, image, &rec.name, extra);
        drop(rec);
        self.events.publish(kind::CONTAINER, action, &c.id, attrs);
    }

    /// The sealed copy of our binary that shims and exec helpers are started from.
    pub fn shim_executable(&self) -> &ShimExecutable {
        &self.shim_exe
    }

    pub fn data_root(&self) -> &Path {
        &self.data_root
    }

    pub fn dir(&self, id: &str) -> PathBuf {
        self.store.dir(id)
    }

    pub fn log_path(&self, id: &str) -> PathBuf {
        self.dir(id).join(files::CONTAINER_LOG)
    }
}
