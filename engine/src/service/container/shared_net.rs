//! `--network container:<name|id>`: a container that joins another one's network namespace.
//! Checked at create (docker's conflicting options; the name resolved to the target's id when
//! it exists), resolved at start (the target must run) into the namespace to join, the target's
//! hostname and the directory of its /etc files, which both containers then share. The
//! `container:` prefix, the name→id resolution and the wait for a restarting target serve the
//! PID and IPC modes too (`namespace_modes`).

use std::path::PathBuf;
use std::time::Duration;

use crate::error::{EngineError, Result};
use crate::model::container::{ContainerConfig, HostConfig, Status};
use crate::runtime::spec::NetworkNamespace;

use super::{Container, ContainerService};

/// How long a policy start waits for the container it joins to come back from its own restart
/// (restart backoffs are short at first; a target stuck longer fails the start).
const TARGET_RESTART_WAIT: Duration = Duration::from_secs(30);

const PREFIX: &str = "container:";

/// The target of a `container:` network mode, if that is the mode.
pub fn target(network_mode: &str) -> Option<&str> {
    network_mode.strip_prefix(PREFIX)
}

/// What a starting container takes from the container whose network it joins.
pub struct JoinedNetwork {
    pub namespace: NetworkNamespace,
    /// The target's hostname, which docker gives the joining container too.
    pub hostname: String,
    /// The target's directory: its hostname, hosts and resolv.conf are bind-mounted as they are.
    pub etc_dir: PathBuf,
}

/// docker's `validateNetContainerMode`: options that would configure a network the container
/// does not own are refused with docker's words. Checked on the request, before image defaults.
pub fn validate(config: &ContainerConfig, host: &HostConfig) -> Result<()> {
    let Some(target) = target(&host.network_mode) else {
        return Ok(());
    };
    if target.is_empty() {
        return Err(EngineError::invalid(
            "Invalid network mode: invalid container format container:<name|id>",
        ));
    }
    let set = |key: &str| match host.extra.get(key) {
        Some(serde_json::Value::Array(a)) => !a.is_empty(),
        Some(serde_json::Value::Object(o)) => !o.is_empty(),
        Some(serde_json::Value::Bool(b)) => *b,
        _ => false,
    };
    let conflict = if !config.hostname.is_empty() {
        Some("conflicting options: hostname and the network mode")
    } else if set("Links") {
        Some("conflicting options: container type network can't be used with links. This would result in undefined behavior")
    } else if set("Dns") {
        Some("conflicting options: dns and the network mode")
    } else if set("ExtraHosts") {
        Some("conflicting options: custom host-to-IP mapping and the network mode")
    } else if set("PortBindings") || set("PublishAllPorts") {
        Some("conflicting options: port publishing and the container type network mode")
    } else if config.exposed_ports.as_ref().is_some_and(|p| !p.is_empty()) {
        Some("conflicting options: port exposing and the container type network mode")
    } else {
        None
    };
    match conflict {
        Some(msg) => Err(EngineError::invalid(msg)),
        None => Ok(()),
    }
}

impl ContainerService {
    /// `container:<name>` becomes `container:<id>` when the target exists, as docker stores it
    /// (a missing target is only an error at start, as in docker).
    pub(super) fn resolve_network_target(&self, host: &mut HostConfig) {
        if let Some(resolved) = target(&host.network_mode).and_then(|k| self.resolve_target(k)) {
            host.network_mode = resolved;
        }
    }

    /// `container:<id>` for the container `key` names (name, id or id prefix), if it exists.
    /// The one resolution every `container:` mode (network, PID, IPC) is stored with.
    pub(super) fn resolve_target(&self, key: &str) -> Option<String> {
        self.get(key).ok().map(|c| format!("{PREFIX}{}", c.id))
    }

    /// The namespace a starting `container:` mode container joins, or None for any other mode.
    pub(super) fn joined_network(
        &self,
        id: &str,
        network_mode: &str,
    ) -> Result<Option<JoinedNetwork>> {
        let Some(key) = target(network_mode) else {
            return Ok(None);
        };
        let t = self.get(key)?;
        if t.id == id {
            return Err(EngineError::invalid("cannot join own network"));
        }
        let rec = t.record();
        match rec.state.status {
            Status::Running | Status::Paused if rec.state.pid > 0 => {}
            Status::Restarting => {
                return Err(EngineError::conflict(format!(
                    "cannot join network of container: Container {} is restarting, wait until the container is running",
                    rec.id
                )))
            }
            _ => {
                return Err(EngineError::conflict(format!(
                    "cannot join network of a non running container: {}",
                    rec.id
                )))
            }
        }
        let namespace = if rec.host_config.network_mode == "host" {
            NetworkNamespace::Host
        } else {
            // The target's init holds the namespace (pinned or not, joined or its own); a
            // chain of `container:` modes resolves to the first one's namespace.
            NetworkNamespace::Path(PathBuf::from(format!("/proc/{}/ns/net", rec.state.pid)))
        };
        Ok(Some(JoinedNetwork {
            namespace,
            hostname: rec.config.hostname.clone(),
            etc_dir: self.dir(&rec.id),
        }))
    }

    /// Before a restart-policy start: when a container whose network, PID or IPC namespace `c`
    /// joins is itself being restarted by its policy (both died together: a reboot, a crashed
    /// pair), wait for that start to be over instead of failing against it. User starts do not
    /// wait, as in docker.
    pub(super) async fn wait_for_targets(&self, c: &Container) {
        let rec = c.record();
        let h = &rec.host_config;
        let keys = target(&h.network_mode)
            .into_iter()
            .chain(super::namespace_modes::targets(h));
        for t in keys.filter_map(|k| self.get(k).ok()) {
            if t.id == c.id || !super::restart::in_progress(&t) {
                continue;
            }
            let mut life = t.life.subscribe();
            let exits = life.borrow().exits;
            let settled = life.wait_for(|l| l.running || l.removed || l.exits > exits);
            let _ = tokio::time::timeout(TARGET_RESTART_WAIT, settled).await;
        }
    }
}
