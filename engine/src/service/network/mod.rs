//! Network operations: the `/networks` API (list, inspect, create, remove, connect, disconnect,
//! prune), and the container hooks that give a bridge-mode container its namespace, addresses
//! and published ports at start and take them back when it stops.
//!
//! One mutex serialises every change: network changes are rare and short (a few netlink round
//! trips, at most one nft transaction), and a single order of changes keeps IPAM, the nft table
//! and the records consistent.
//!
//! One job per file, each an `impl NetworkService` block: `open` and `bring_up` (engine start,
//! predefined networks, bridges), `create`, `remove`, `prune`, `connect`, `disconnect` (the API
//! verbs), `plan` (create-time validation, rename, forget), `attach` and `release` (container
//! start and stop), `endpoint` (one veth), `ipam` (its address), `hosts_file`, `nat`,
//! `reconcile`, `dns_scope` and `name_resolution` (the embedded resolver's view), `read`
//! (snapshots for the API's JSON, which lives in `api::network_views`).
//!
//! Every host operation goes through `host::NetworkHost` (netlink, namespaces, nftables, port
//! reservations); the unit tests (`tests`) drive the state machine against `fake_host`.

mod attach;
mod bring_up;
mod connect;
mod create;
mod disconnect;
mod dns_scope;
mod endpoint;
#[cfg(test)]
mod fake_host;
pub mod host;
mod hosts_file;
mod ipam;
pub mod name_resolution;
mod nat;
mod open;
mod plan;
mod prune;
mod read;
mod reconcile;
mod release;
mod remove;

pub use dns_scope::{NetworkScope, ScopeMember};
pub use read::{ContainerNetworking, NetworkMember};

use std::collections::{BTreeMap, HashMap};
use std::os::fd::OwnedFd;
use std::path::Path;
use std::sync::{Arc, Mutex, OnceLock};

use crate::error::{EngineError, Result};
use crate::network::ports::Published;
use crate::network::store::{ContainerNet, NetworkRecord, NetworkStore};
use crate::network::NetworkOptions;
use crate::service::events::{kind, EventBus};
use host::NetworkHost;

/// Notified when a container's namespace has been configured (start, connect) and before it is
/// torn down (stop, disconnect): where the embedded DNS listener is attached and detached.
pub trait NetnsObserver: Send + Sync {
    fn netns_configured(&self, container_id: &str, netns: &Path);
    fn netns_teardown(&self, container_id: &str, netns: &Path);
}

#[derive(Default)]
struct State {
    networks: BTreeMap<String, NetworkRecord>,
    containers: BTreeMap<String, ContainerNet>,
    /// Sockets that reserve each running container's published host ports.
    port_fds: HashMap<String, Vec<OwnedFd>>,
}

pub struct NetworkService {
    opts: NetworkOptions,
    store: NetworkStore,
    events: EventBus,
    state: Mutex<State>,
    observer: OnceLock<Arc<dyn NetnsObserver>>,
    /// Set when the host side (forwarding, bridges) failed at engine start.
    host_error: Mutex<Option<String>>,
    /// Links, namespaces, nft table and port reservations of the host (a fake in unit tests).
    host: Arc<dyn NetworkHost>,
}

/// Docker's bridge-mode test: the container gets endpoints on bridge networks.
fn is_bridge_mode(mode: &str) -> bool {
    !matches!(mode, "host" | "none") && !mode.starts_with("container:")
}

fn default_mode(mode: &str) -> bool {
    matches!(mode, "" | "default" | "bridge")
}

impl NetworkService {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The network's MTU: its own option, else the engine's.
    fn mtu_of(&self, n: &NetworkRecord) -> u32 {
        n.options
            .get(crate::network::MTU_OPTION)
            .and_then(|m| crate::network::parse_mtu(m))
            .unwrap_or(self.opts.mtu)
    }

    pub fn options(&self) -> &NetworkOptions {
        &self.opts
    }

    /// Register the embedded DNS resolver (or anything else that follows container namespaces).
    pub fn set_observer(&self, observer: Arc<dyn NetnsObserver>) {
        let _ = self.observer.set(observer);
    }

    /// Hook: a container's namespace at `netns` has just been configured (start or connect).
    fn on_netns_configured(&self, container_id: &str, netns: &Path) {
        if let Some(o) = self.observer.get() {
            o.netns_configured(container_id, netns);
        }
    }

    /// Hook: a container's namespace at `netns` is about to be torn down.
    fn on_netns_teardown(&self, container_id: &str, netns: &Path) {
        if let Some(o) = self.observer.get() {
            o.netns_teardown(container_id, netns);
        }
    }

    fn emit(&self, action: &str, n: &NetworkRecord, container: Option<&str>) {
        let mut attrs = BTreeMap::from([
            ("name".to_owned(), n.name.clone()),
            ("type".to_owned(), n.driver.clone()),
        ]);
        if let Some(c) = container {
            attrs.insert("container".into(), c.to_owned());
        }
        self.events.publish(kind::NETWORK, action, &n.id, attrs);
    }

    // ---- lookups ----------------------------------------------------------------------------

    fn find<'a>(state: &'a State, key: &str) -> Result<&'a NetworkRecord> {
        if let Some(n) = state.networks.get(key) {
            return Ok(n);
        }
        if let Some(n) = state.networks.values().find(|n| n.name == key) {
            return Ok(n);
        }
        if !key.is_empty() {
            let mut it = state.networks.values().filter(|n| n.id.starts_with(key));
            if let Some(n) = it.next() {
                if it.next().is_none() {
                    return Ok(n);
                }
            }
        }
        Err(EngineError::not_found(format!("network {key} not found")))
    }

    pub fn get(&self, key: &str) -> Result<NetworkRecord> {
        Self::find(&self.lock(), key).cloned()
    }

    pub fn list(&self) -> Vec<NetworkRecord> {
        self.lock().networks.values().cloned().collect()
    }

    /// Published ports of a container (`docker port`): (container port "80/tcp", host ip, port).
    pub fn published(&self, container_id: &str) -> Vec<Published> {
        self.lock()
            .containers
            .get(container_id)
            .map(|c| c.published.clone())
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests;
