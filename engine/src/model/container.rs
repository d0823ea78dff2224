//! Container wire types: the create request (docker's `Config` + `HostConfig`), and the record the
//! engine persists per container. Fields we do not act on are kept in `extra` so inspect returns
//! what the client sent.

use std::collections::HashMap;

use serde::{Deserialize, Deserializer, Serialize};

use super::go_json::{
    fields_without_nulls, null_as_default, null_or_key_set, null_values_as_default, Zero,
};

/// docker's StrSlice (`Cmd`, `Entrypoint`, `Healthcheck.Test`): an array or (older clients) a
/// single string; null is None, a null element is "" (Go's zero value).
pub(crate) fn str_or_vec<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<String>>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum StrOrVec {
        Str(String),
        Vec(Vec<Zero<String>>),
    }
    Ok(match Option::<StrOrVec>::deserialize(d)? {
        None => None,
        Some(StrOrVec::Str(s)) => Some(vec![s]),
        Some(StrOrVec::Vec(v)) => Some(v.into_iter().map(|Zero(s)| s).collect()),
    })
}

/// docker's container `Config`. Request fields follow Go's `null` rule (see `go_json`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ContainerConfig {
    #[serde(deserialize_with = "null_as_default")]
    pub hostname: String,
    #[serde(deserialize_with = "null_as_default")]
    pub domainname: String,
    #[serde(deserialize_with = "null_as_default")]
    pub user: String,
    #[serde(deserialize_with = "null_as_default")]
    pub attach_stdin: bool,
    #[serde(deserialize_with = "null_as_default")]
    pub attach_stdout: bool,
    #[serde(deserialize_with = "null_as_default")]
    pub attach_stderr: bool,
    /// None (absent or null): the image's.
    #[serde(
        skip_serializing_if = "Option::is_none",
        deserialize_with = "null_or_key_set"
    )]
    pub exposed_ports: Option<HashMap<String, serde_json::Value>>,
    #[serde(deserialize_with = "null_as_default")]
    pub tty: bool,
    #[serde(deserialize_with = "null_as_default")]
    pub open_stdin: bool,
    #[serde(deserialize_with = "null_as_default")]
    pub stdin_once: bool,
    #[serde(deserialize_with = "null_as_default")]
    pub env: Vec<String>,
    #[serde(deserialize_with = "str_or_vec")]
    pub cmd: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub healthcheck: Option<serde_json::Value>,
    #[serde(deserialize_with = "null_as_default")]
    pub image: String,
    /// None (absent or null): the image's.
    #[serde(
        skip_serializing_if = "Option::is_none",
        deserialize_with = "null_or_key_set"
    )]
    pub volumes: Option<HashMap<String, serde_json::Value>>,
    #[serde(deserialize_with = "null_as_default")]
    pub working_dir: String,
    #[serde(deserialize_with = "str_or_vec")]
    pub entrypoint: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub network_disabled: Option<bool>,
    #[serde(deserialize_with = "null_values_as_default")]
    pub labels: HashMap<String, String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stop_signal: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stop_timeout: Option<i64>,
    #[serde(flatten, deserialize_with = "fields_without_nulls")]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct RestartPolicy {
    #[serde(deserialize_with = "null_as_default")]
    pub name: String,
    #[serde(deserialize_with = "null_as_default")]
    pub maximum_retry_count: i64,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct LogConfig {
    #[serde(rename = "Type", deserialize_with = "null_as_default")]
    pub kind: String,
    #[serde(deserialize_with = "null_values_as_default")]
    pub config: HashMap<String, String>,
}

/// docker's `HostConfig`: the fields the engine acts on, the rest kept in `extra`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct HostConfig {
    #[serde(deserialize_with = "null_as_default")]
    pub network_mode: String,
    #[serde(deserialize_with = "null_as_default")]
    pub auto_remove: bool,
    #[serde(deserialize_with = "null_as_default")]
    pub memory: i64,
    #[serde(deserialize_with = "null_as_default")]
    pub memory_swap: i64,
    #[serde(deserialize_with = "null_as_default")]
    pub nano_cpus: i64,
    #[serde(deserialize_with = "null_as_default")]
    pub cpu_shares: i64,
    #[serde(deserialize_with = "null_as_default")]
    pub cpu_quota: i64,
    #[serde(deserialize_with = "null_as_default")]
    pub cpu_period: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pids_limit: Option<i64>,
    #[serde(deserialize_with = "null_as_default")]
    pub readonly_rootfs: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub init: Option<bool>,
    #[serde(deserialize_with = "null_as_default")]
    pub privileged: bool,
    #[serde(deserialize_with = "null_as_default")]
    pub restart_policy: RestartPolicy,
    #[serde(deserialize_with = "null_as_default")]
    pub log_config: LogConfig,
    #[serde(deserialize_with = "null_as_default")]
    pub cap_add: Vec<String>,
    #[serde(deserialize_with = "null_as_default")]
    pub cap_drop: Vec<String>,
    #[serde(deserialize_with = "null_as_default")]
    pub security_opt: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub console_size: Option<Vec<u16>>,
    #[serde(flatten, deserialize_with = "fields_without_nulls")]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

/// Body of `POST /containers/create`: the Config fields at top level plus HostConfig. Clients
/// (the dashboard's run form) build it typed and send it serialized.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct CreateRequest {
    #[serde(flatten)]
    pub config: ContainerConfig,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host_config: Option<HostConfig>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub networking_config: Option<serde_json::Value>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Created,
    Running,
    Paused,
    Restarting,
    Removing,
    Exited,
    Dead,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Created => "created",
            Status::Running => "running",
            Status::Paused => "paused",
            Status::Restarting => "restarting",
            Status::Removing => "removing",
            Status::Exited => "exited",
            Status::Dead => "dead",
        }
    }

    pub fn parse(s: &str) -> Option<Status> {
        Some(match s {
            "created" => Status::Created,
            "running" => Status::Running,
            "paused" => Status::Paused,
            "restarting" => Status::Restarting,
            "removing" => Status::Removing,
            "exited" => Status::Exited,
            "dead" => Status::Dead,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ContainerState {
    pub status: Status,
    pub pid: i32,
    pub exit_code: i32,
    pub oom_killed: bool,
    pub error: String,
    pub started_at: String,
    pub finished_at: String,
    /// Health-check state (docker's `State.Health`); None when the container has no healthcheck
    /// or has never run one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health: Option<Health>,
}

/// docker's `State.Health`: status, consecutive failures and the last results (oldest first).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Health {
    /// "starting", "healthy" or "unhealthy".
    pub status: String,
    pub failing_streak: i64,
    #[serde(default)]
    pub log: Vec<HealthcheckResult>,
}

/// One probe run (docker's HealthcheckResult).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct HealthcheckResult {
    pub start: String,
    pub end: String,
    pub exit_code: i64,
    pub output: String,
}

/// What the engine persists per container (`container.json`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ContainerRecord {
    pub id: String,
    /// Without the leading '/'.
    pub name: String,
    pub created: String,
    /// The image as the user named it.
    pub image: String,
    /// "sha256:..." of the resolved image.
    pub image_id: String,
    /// Unpacked layer directories of the image, top first.
    pub layer_dirs: Vec<std::path::PathBuf>,
    pub path: String,
    pub args: Vec<String>,
    pub config: ContainerConfig,
    pub host_config: HostConfig,
    pub state: ContainerState,
    pub restart_count: i64,
    /// docker's HasBeenManuallyStopped: set by a stop or kill through the API, cleared by a
    /// user's start or restart. `unless-stopped` containers with it set are not restarted.
    #[serde(default)]
    pub has_been_manually_stopped: bool,
    /// Volumes, binds and tmpfs mounts resolved at create time (see `service::container::mounts`).
    #[serde(default)]
    pub mounts: Vec<crate::model::volume::MountPoint>,
}

/// One endpoint of `NetworkSettings.Networks` (docker's EndpointSettings).
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct EndpointSettings {
    #[serde(rename = "IPAMConfig")]
    pub ipam_config: Option<serde_json::Value>,
    pub links: Option<Vec<String>>,
    pub aliases: Option<Vec<String>>,
    pub mac_address: String,
    #[serde(rename = "NetworkID")]
    pub network_id: String,
    #[serde(rename = "EndpointID")]
    pub endpoint_id: String,
    pub gateway: String,
    #[serde(rename = "IPAddress")]
    pub ip_address: String,
    #[serde(rename = "IPPrefixLen")]
    pub ip_prefix_len: u32,
    #[serde(rename = "IPv6Gateway")]
    pub ipv6_gateway: String,
    #[serde(rename = "GlobalIPv6Address")]
    pub global_ipv6_address: String,
    #[serde(rename = "GlobalIPv6PrefixLen")]
    pub global_ipv6_prefix_len: u32,
    pub driver_opts: Option<HashMap<String, String>>,
    #[serde(rename = "DNSNames")]
    pub dns_names: Option<Vec<String>>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct SummaryHostConfig {
    pub network_mode: String,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct SummaryNetworkSettings {
    pub networks: HashMap<String, EndpointSettings>,
}

/// An entry of `GET /containers/json` (docker's ContainerSummary). Typed rather than built as a
/// `serde_json::Value`: `ps` with hundreds of containers is on the hot path.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ContainerSummary {
    pub id: String,
    pub names: Vec<String>,
    pub image: String,
    #[serde(rename = "ImageID")]
    pub image_id: String,
    pub command: String,
    pub created: i64,
    pub ports: Vec<serde_json::Value>,
    pub labels: HashMap<String, String>,
    pub state: &'static str,
    pub status: String,
    pub host_config: SummaryHostConfig,
    pub network_settings: SummaryNetworkSettings,
    pub mounts: Vec<serde_json::Value>,
    /// Health summary (API 1.52+): "none" for containers without a healthcheck.
    pub health: SummaryHealth,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct SummaryHealth {
    pub status: String,
    pub failing_streak: i64,
}
