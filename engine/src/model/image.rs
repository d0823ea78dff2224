//! Image wire types.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

/// The `config` section of an image config (docker/OCI image spec): defaults a container inherits.
/// Unknown fields are ignored here; the image's exact config bytes are kept separately in the store.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "PascalCase", default)]
pub struct ImageContainerConfig {
    pub user: Option<String>,
    pub exposed_ports: Option<HashMap<String, serde_json::Value>>,
    pub env: Option<Vec<String>>,
    pub entrypoint: Option<Vec<String>>,
    pub cmd: Option<Vec<String>>,
    pub volumes: Option<HashMap<String, serde_json::Value>>,
    pub working_dir: Option<String>,
    pub labels: Option<HashMap<String, String>>,
    pub stop_signal: Option<String>,
    pub healthcheck: Option<serde_json::Value>,
    pub shell: Option<Vec<String>>,
}

/// An image resolved for running a container.
#[derive(Debug, Clone)]
pub struct ResolvedImage {
    /// "sha256:<64 hex>" (the config digest).
    pub id: String,
    pub config: ImageContainerConfig,
    /// Unpacked layer directories, top-most layer first (overlayfs lowerdir order).
    pub layer_dirs: Vec<std::path::PathBuf>,
}
