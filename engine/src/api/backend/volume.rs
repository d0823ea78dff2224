//! What the volume router (`api::volumes`) and `system df` ask of the engine, and `Engine`'s
//! answers (moby's `router/volume/backend.go`). Creation, removal and usage touch the disk: the
//! routers call them on the blocking pool.

use std::collections::HashSet;

use serde_json::Value;

use crate::api::volumes::volume_json;
use crate::error::Result;
use crate::model::volume::{VolumeCreateRequest, VolumeRecord};
use crate::service::volume::VolumeUsage;
use crate::service::Engine;

pub trait VolumeBackend: Send + Sync + 'static {
    fn volume(&self, name: &str) -> Result<VolumeRecord>;
    fn volumes(&self) -> Vec<VolumeRecord>;
    /// Names of the volumes some container (running or not) mounts.
    fn volumes_in_use(&self) -> HashSet<String>;
    /// docker's `Volume` object (shaped by `api::volumes::volume_json`).
    fn volume_to_api(&self, rec: &VolumeRecord) -> Value;
    fn volume_create(&self, req: VolumeCreateRequest) -> Result<VolumeRecord>;
    fn volume_remove(&self, name: &str, force: bool) -> Result<()>;
    /// Remove the unused volumes `keep` keeps (anonymous ones only unless `all`): the names
    /// removed and the bytes reclaimed.
    fn volume_prune(
        &self,
        all: bool,
        keep: &dyn Fn(&VolumeRecord) -> bool,
    ) -> Result<(Vec<String>, u64)>;
    /// Every volume with its size and how many containers use it.
    fn volume_usage(&self) -> Vec<VolumeUsage>;
}

impl VolumeBackend for Engine {
    fn volume(&self, name: &str) -> Result<VolumeRecord> {
        self.volumes.get(name)
    }

    fn volumes(&self) -> Vec<VolumeRecord> {
        self.volumes.list()
    }

    fn volumes_in_use(&self) -> HashSet<String> {
        self.containers
            .list()
            .iter()
            .flat_map(|c| c.record().mounts)
            .filter(|m| !m.name.is_empty())
            .map(|m| m.name)
            .collect()
    }

    fn volume_to_api(&self, rec: &VolumeRecord) -> Value {
        volume_json(&self.volumes, rec)
    }

    fn volume_create(&self, req: VolumeCreateRequest) -> Result<VolumeRecord> {
        self.volumes.create(req)
    }

    fn volume_remove(&self, name: &str, force: bool) -> Result<()> {
        self.volumes.remove(name, force)
    }

    fn volume_prune(
        &self,
        all: bool,
        keep: &dyn Fn(&VolumeRecord) -> bool,
    ) -> Result<(Vec<String>, u64)> {
        self.volumes.prune(all, keep)
    }

    fn volume_usage(&self) -> Vec<VolumeUsage> {
        self.volumes.usage()
    }
}
