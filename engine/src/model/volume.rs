//! Volume and mount wire types: docker's `Volume` object, and the resolved mount points a container
//! record keeps (what inspect shows as `Mounts` and what the runtime spec is built from).

use std::collections::HashMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::go_json::{null_as_default, null_values_as_default};

/// What the engine persists per volume (`<data-root>/volumes/<name>/meta.json`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct VolumeRecord {
    pub name: String,
    /// Always "local".
    pub driver: String,
    /// RFC 3339.
    pub created_at: String,
    #[serde(default)]
    pub labels: HashMap<String, String>,
    /// The local driver's options (`type`, `device`, `o`), as given.
    #[serde(default)]
    pub options: HashMap<String, String>,
    /// Created for a container (`-v /path`, image VOLUME), not by name: `rm -v` and a plain
    /// `volume prune` remove it. Docker marks these with the `com.docker.volume.anonymous` label.
    #[serde(default)]
    pub anonymous: bool,
}

/// `POST /volumes/create` body (docker's VolumeCreateOptions). `null` is the zero value, as in Go
/// (`go_json`): `"DriverOpts": {"type": null}` is the option `type=""`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct VolumeCreateRequest {
    #[serde(deserialize_with = "null_as_default")]
    pub name: String,
    #[serde(deserialize_with = "null_as_default")]
    pub driver: String,
    #[serde(deserialize_with = "null_values_as_default")]
    pub driver_opts: HashMap<String, String>,
    #[serde(deserialize_with = "null_values_as_default")]
    pub labels: HashMap<String, String>,
}

/// Kind of a container mount, docker's `Type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MountType {
    Bind,
    Volume,
    Tmpfs,
}

impl MountType {
    pub fn as_str(self) -> &'static str {
        match self {
            MountType::Bind => "bind",
            MountType::Volume => "volume",
            MountType::Tmpfs => "tmpfs",
        }
    }
}

/// One resolved mount of a container, fixed at create time.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct MountPoint {
    #[serde(rename = "type")]
    pub kind: MountType,
    /// Volume name (volumes only).
    #[serde(default)]
    pub name: String,
    /// Host path: the bind source, or the volume's `_data` directory; empty for tmpfs.
    #[serde(default)]
    pub source: PathBuf,
    /// Absolute, cleaned path inside the container.
    pub destination: String,
    /// Docker's `Mode` column ("z", "ro", "" ...), informational.
    #[serde(default)]
    pub mode: String,
    pub rw: bool,
    /// "rprivate" for binds, "" otherwise (docker's defaults).
    #[serde(default)]
    pub propagation: String,
    /// Copy the image's content at the destination into an empty volume on mount.
    #[serde(default)]
    pub copy_data: bool,
    /// A volume created for this container (removed by `rm -v`).
    #[serde(default)]
    pub anonymous: bool,
    /// tmpfs mount data ("size=...,mode=..."), and mount flags (nosuid, nodev, noexec...).
    #[serde(default)]
    pub tmpfs_data: String,
    #[serde(default)]
    pub tmpfs_flags: Vec<String>,
    /// `VolumeOptions.Subpath`: the directory of the volume mounted instead of all of it.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub subpath: String,
}

impl MountPoint {
    /// Docker's `MountPoint` shape in container inspect and `ps` summaries.
    pub fn to_api(&self) -> serde_json::Value {
        let mut v = serde_json::json!({
            "Type": self.kind.as_str(),
            "Source": self.source,
            "Destination": self.destination,
            "Mode": self.mode,
            "RW": self.rw,
            "Propagation": self.propagation,
        });
        if self.kind == MountType::Volume {
            v["Name"] = serde_json::json!(self.name);
            v["Driver"] = serde_json::json!("local");
        }
        v
    }
}
