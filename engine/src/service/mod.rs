//! Engine operations. The API layer calls these; they use `store` for durable state and `runtime`
//! for processes.

pub mod containers;
pub mod create;
pub mod events;
pub mod exec;
pub mod humanize;
pub mod images;
pub mod logs;
pub mod names;
pub mod networks;
pub mod signals;
pub mod stats;

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
    /// Bridge networks, IPAM, published ports.
    pub networks: Arc<networks::NetworkService>,
}

impl Engine {
    /// The engine's event bus (shared by the container and image services).
    pub fn events(&self) -> &events::EventBus {
        self.containers.events()
    }
}
