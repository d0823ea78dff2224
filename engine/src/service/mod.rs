//! Engine operations. The API layer calls these; they use `store` for durable state and `runtime`
//! for processes.

pub mod containers;
pub mod images;

use std::path::PathBuf;

use crate::config::EngineOptions;

/// Everything a request handler can reach.
pub struct Engine {
    pub options: EngineOptions,
    pub data_root: PathBuf,
    pub images: images::ImageService,
    pub containers: containers::ContainerService,
}
