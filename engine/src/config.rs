//! Engine options (command-line flags of `berth engine`).

use std::path::PathBuf;

pub const DEFAULT_SOCKET: &str = "/run/berth/berth.sock";
pub const DEFAULT_DATA_ROOT: &str = "/var/lib/berth";
/// Highest API version served; clients negotiate down from it.
pub const API_VERSION: &str = "1.44";
/// Lowest API version accepted in a `/vX.Y/` prefix.
pub const MIN_API_VERSION: &str = "1.24";

#[derive(Debug, Clone)]
pub struct EngineOptions {
    pub socket: PathBuf,
    pub data_root: PathBuf,
    pub log_level: String,
    /// Bridge names, subnets and the nft table of this engine.
    pub network: crate::network::NetworkOptions,
    /// Insecure registries and docker.io mirrors.
    pub registry: crate::registry::RegistryOptions,
}

impl Default for EngineOptions {
    fn default() -> Self {
        EngineOptions {
            socket: PathBuf::from(DEFAULT_SOCKET),
            data_root: PathBuf::from(DEFAULT_DATA_ROOT),
            log_level: "info".into(),
            network: Default::default(),
            registry: Default::default(),
        }
    }
}
