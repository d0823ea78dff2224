//! Engine operations. The API layer calls these; they use `store` for durable state and `runtime`
//! for processes.

pub mod build;
pub mod commit;
pub mod container;
pub mod events;
pub mod image;
pub mod network;
pub mod volume;

use std::path::PathBuf;
use std::sync::Arc;

use crate::config::EngineOptions;

/// Everything a request handler can reach.
pub struct Engine {
    /// Stable id of this engine's data root (docker's `ID` in /info).
    pub engine_id: String,
    pub options: EngineOptions,
    pub data_root: PathBuf,
    pub images: image::ImageService,
    pub containers: Arc<container::ContainerService>,
    /// Previous stats samples per container (CPU % needs two).
    pub stats: Arc<container::stats::StatsService>,
    /// `docker exec` instances (in memory).
    pub execs: Arc<container::exec::ExecService>,
    /// Named and anonymous volumes (local driver).
    pub volumes: Arc<volume::VolumeService>,
    /// Bridge networks, IPAM, published ports.
    pub networks: Arc<network::NetworkService>,
    /// Registry client and in-flight layer downloads (pull; push uses `pulls.registry()`).
    pub pulls: Arc<image::pull::PullService>,
    /// Which repositories of which registry hold which blobs (learnt from pushes; feeds
    /// cross-repository mounts).
    pub known_blobs: Arc<image::push::KnownBlobs>,
    /// This process: pid, socket, socket activation, systemd unit (`GET /berth/v1/engine`).
    pub launch: crate::supervisor::Launch,
    /// The image builder's cache index and build records.
    pub builds: build::BuildService,
}

impl Engine {
    /// The engine's event bus (shared by the container and image services).
    pub fn events(&self) -> &events::EventBus {
        self.containers.events()
    }
}
