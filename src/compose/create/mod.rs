//! Creating a service's container and what it needs on the engine, ported from docker/compose
//! v2.40.3's pkg/compose/create.go (`getCreateConfigs` and everything it calls), the pieces of
//! convergence.go it relies on (`getLinks`, `resolveServiceReferences`, container names) and
//! secrets.go. The body of `POST /containers/create` is built exactly as docker compose builds
//! it (then as docker's Go client v28.5 adjusts and encodes it: Go's `null` for nil slices and
//! maps, its `omitempty` fields left out, capabilities normalised), so an engine cannot tell
//! berth compose from docker compose, and each tool recognises the other's containers.
//!
//! The convergence (src/compose/converge) decides what to create and calls:
//! - [`create_body`] (pure): the create request for container `number` of a service, or
//!   [`create_container`] to send it as docker compose does ([`container`]);
//! - [`ensure_networks`], [`ensure_volumes`]: the project's networks and volumes, created or
//!   found, with docker compose's labels and config hashes ([`networks`], [`volumes`]);
//! - [`inject_secrets_and_configs`]: environment and inline secrets/configs copied in after
//!   create ([`secrets`]);
//! - [`resolve_service_references`], [`links`]: what a create needs from containers that
//!   already exist ([`references`]).
//!
//! Layout, one concern a file: [`config`] (the container `Config`: labels, environment,
//! healthcheck), [`host`] (`HostConfig`), [`resources`] (cgroup limits, devices, ulimits),
//! [`ports`], [`mounts`] and [`file_mounts`] (binds, mounts, secret and config files),
//! [`network`] (network mode and endpoints), [`events`] (progress, as docker compose reports it).

pub mod config;
pub mod container;
mod diverged;
pub mod events;
pub mod file_mounts;
pub mod host;
pub mod mounts;
pub mod network;
pub mod networks;
pub mod ports;
pub mod references;
pub mod resources;
pub mod secrets;
pub mod volumes;

#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::fmt;

use serde_json::{Map, Value};

use super::types::{Project, ServiceConfig};

pub use container::{create_container, create_moby_container};
pub use diverged::has_status;
pub use events::{Event, Progress, Status};
pub use networks::ensure_networks;
pub use references::{links, resolve_service_references};
pub use secrets::inject_secrets_and_configs;
pub use volumes::{ensure_volumes, VolumeDiverged};

/// docker compose's `createOptions`: how one container is created.
#[derive(Debug, Clone, Default)]
pub struct CreateOptions {
    pub auto_remove: bool,
    pub attach_stdin: bool,
    /// The service name and the network's `aliases` as DNS aliases (every container but
    /// `run --no-deps`-style one-offs).
    pub use_network_aliases: bool,
    /// `service.labels` + `service.custom_labels` (+ `com.docker.compose.replace` when
    /// recreating), merged by the caller as docker compose's `mergeLabels` does.
    pub labels: BTreeMap<String, String>,
}

/// What a create needs from the engine, looked up by the caller beforehand so that
/// [`create_body`] stays a pure function of its inputs.
#[derive(Debug, Clone, Default)]
pub struct Resolved {
    /// What [`ensure_networks`] returned (network key → engine id). Not read by
    /// [`create_body`]: docker compose names endpoints by `project.networks[key].name`; kept for
    /// the caller's divergence checks (docker compose's `checkExpectedNetworks`).
    pub networks: BTreeMap<String, String>,
    /// The container being replaced (its inspect or list entry: `Mounts` is read), whose
    /// anonymous volumes the new one takes over (docker compose's `inherit`).
    pub inherit: Option<Value>,
    /// The image's declared volumes (`Config.Volumes` keys of the service image), needed with
    /// `inherit`: an image volume of the old container is kept too.
    pub image_volumes: Vec<String>,
    /// `HostConfig.Links` and each endpoint's `Links`: [`links`] (docker compose's `getLinks`).
    pub links: Vec<String>,
    /// `com.docker.compose.image`: the image id docker compose finds or builds.
    pub image_digest: Option<String>,
    /// The negotiated Engine API version ("1.44"): what docker compose asks `RuntimeVersion`.
    pub api_version: String,
    /// docker's `ParseProxyConfig` for this engine (`HTTP_PROXY`, `http_proxy`, …), which the
    /// service's environment overrides; empty when the docker config file has no proxies.
    pub proxy_env: BTreeMap<String, String>,
}

/// A create refused before anything was sent, in docker compose's words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreateError(pub String);

impl fmt::Display for CreateError {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for CreateError {}

impl CreateError {
    pub(crate) fn new(msg: impl Into<String>) -> CreateError {
        CreateError(msg.into())
    }
}

/// The create request and what docker compose would log while building it.
#[derive(Debug, Clone)]
pub struct CreateSpec {
    /// The JSON body of `POST /containers/create`.
    pub body: Value,
    /// docker compose's `logrus.Warn` lines (unsupported secret options, missing secret
    /// files, mount options that do not fit the mount type, …).
    pub warnings: Vec<String>,
}

/// The body of `POST /containers/create` for container `number` of `service`, as docker
/// compose's `getCreateConfigs` builds it and docker's client sends it. `service` is taken as
/// given: its `service:` references must already be resolved ([`resolve_service_references`]),
/// as docker compose resolves them before hashing and creating.
pub fn create_body(
    project: &Project,
    service: &ServiceConfig,
    number: u32,
    opts: &CreateOptions,
    r: &Resolved,
) -> Result<Value, CreateError> {
    create_spec(project, service, number, opts, r).map(|s| s.body)
}

/// [`create_body`] with the warnings docker compose logs on the way.
pub fn create_spec(
    project: &Project,
    service: &ServiceConfig,
    number: u32,
    opts: &CreateOptions,
    r: &Resolved,
) -> Result<CreateSpec, CreateError> {
    let mut warnings = Vec::new();
    let mut service = service.clone();
    let labels = config::prepare_labels(opts, &service, number, r);
    // prepareContainerMACAddress may move the service-wide address onto the main endpoint,
    // so it runs before the endpoints are built (and after the hash, as in docker compose).
    let mac_address = network::prepare_mac_address(&mut service, &r.api_version)?;
    let mut body = config::container_config(project, &service, opts, r, labels, mac_address)?;
    let volumes = mounts::build_container_volumes(project, &service, r, &mut warnings)?;
    let (network_mode, networking) =
        network::default_network_settings(project, &service, number, opts, r, &mut warnings)?;
    let host = host::host_config(project, &service, opts, r, network_mode, volumes)?;
    body.insert("HostConfig".into(), Value::Object(host));
    if let Some(n) = networking {
        body.insert("NetworkingConfig".into(), n);
    }
    Ok(CreateSpec {
        body: Value::Object(body),
        warnings,
    })
}

/// `getContainerName`: `container_name`, else `<project>-<service>-<number>`.
pub fn container_name(project: &str, service: &ServiceConfig, number: u32) -> String {
    if !service.container_name.is_empty() {
        return service.container_name.clone();
    }
    default_container_name(project, &service.name, number)
}

/// `getDefaultContainerName`.
pub fn default_container_name(project: &str, service: &str, number: u32) -> String {
    format!("{project}-{service}-{number}")
}

/// `api.GetImageNameOrDefault`: the service's image, else `<project>-<service>` (what a build
/// tags).
pub fn image_name(project: &str, service: &ServiceConfig) -> String {
    if service.image.is_empty() {
        format!("{project}-{}", service.name)
    } else {
        service.image.clone()
    }
}

/// docker's `versions.GreaterThanOrEqualTo`: dotted versions compared number by number.
pub(crate) fn version_at_least(v: &str, min: &str) -> bool {
    let parse = |s: &str| -> Vec<u64> { s.split('.').map(|p| p.parse().unwrap_or(0)).collect() };
    let (a, b) = (parse(v), parse(min));
    for i in 0..a.len().max(b.len()) {
        let (x, y) = (
            a.get(i).copied().unwrap_or(0),
            b.get(i).copied().unwrap_or(0),
        );
        if x != y {
            return x > y;
        }
    }
    true
}

/// Go's encoding of a `[]string`: `null` when nil. The compose model does not keep nil and
/// empty apart, so an empty list is taken as nil, as it is when the key is absent.
pub(crate) fn str_list(v: &[String]) -> Value {
    if v.is_empty() {
        Value::Null
    } else {
        Value::Array(v.iter().cloned().map(Value::String).collect())
    }
}

/// Go's encoding of a `map[string]string`: `null` when nil (empty taken as nil, as above).
pub(crate) fn str_map<'a>(m: impl IntoIterator<Item = (&'a String, &'a String)>) -> Value {
    let obj: Map<String, Value> = m
        .into_iter()
        .map(|(k, v)| (k.clone(), Value::String(v.clone())))
        .collect();
    if obj.is_empty() {
        Value::Null
    } else {
        Value::Object(obj)
    }
}
