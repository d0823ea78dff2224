//! Engine operations. The API layer calls these; they use `store` for durable state and `runtime`
//! for processes.

pub mod archive;
pub mod containers;
pub mod create;
pub mod events;
pub mod exec;
pub mod health;
pub mod image_archive;
pub mod image_check;
pub mod image_ingest;
pub mod images;
pub mod logs;
pub mod mounts;
pub mod names;
pub mod network;
pub mod pull;
pub mod pull_progress;
pub mod push;
pub mod restart;
pub mod stats;
pub mod update;
pub mod volume;

/// The old module paths of the network and volume services, for engine/tests/image_api.rs (tests
/// are not edited in this change); drop once it names `service::network` / `service::volume`.
pub mod networks {
    pub use super::network::NetworkService;
}
pub mod volumes {
    pub use super::volume::VolumeService;
}

use std::path::PathBuf;
use std::sync::Arc;

use crate::config::EngineOptions;

/// Everything a request handler can reach.
pub struct Engine {
    /// Stable id of this engine's data root (docker's `ID` in /info).
    pub engine_id: String,
    pub options: EngineOptions,
    pub data_root: PathBuf,
    pub images: images::ImageService,
    pub containers: Arc<containers::ContainerService>,
    /// Previous stats samples per container (CPU % needs two).
    pub stats: Arc<stats::StatsService>,
    /// `docker exec` instances (in memory).
    pub execs: Arc<exec::ExecService>,
    /// Named and anonymous volumes (local driver).
    pub volumes: Arc<volume::VolumeService>,
    /// Bridge networks, IPAM, published ports.
    pub networks: Arc<network::NetworkService>,
    /// Registry client and in-flight layer downloads (pull; push uses `pulls.registry()`).
    pub pulls: Arc<pull::PullService>,
    /// Which repositories of which registry hold which blobs (learnt from pushes; feeds
    /// cross-repository mounts).
    pub known_blobs: Arc<push::KnownBlobs>,
    /// This process: pid, socket, socket activation, systemd unit (`GET /berth/v1/engine`).
    pub launch: crate::supervisor::Launch,
}

impl Engine {
    /// The engine's event bus (shared by the container and image services).
    pub fn events(&self) -> &events::EventBus {
        self.containers.events()
    }
}
