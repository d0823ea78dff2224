//! Network operations: the `/networks` API (list, inspect, create, remove, connect, disconnect,
//! prune), and the container hooks that give a bridge-mode container its namespace, addresses
//! and published ports at start and take them back when it stops.
//!
//! One mutex serialises every change: network changes are rare and short (a few netlink round
//! trips, at most one nft transaction), and a single order of changes keeps IPAM, the nft table
//! and the records consistent.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::net::Ipv4Addr;
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use serde_json::{json, Value};

use crate::error::{EngineError, Result};
use crate::model::container::{ContainerRecord, ContainerSummary, CreateRequest, EndpointSettings};
use crate::network::etc::{self, DnsConfig};
use crate::network::ipam::{self, Ipv4Net};
use crate::network::link::{self, EndpointLink};
use crate::network::nat::{self, NatNetwork, PortRule};
use crate::network::ports::{self, Published};
use crate::network::store::{
    ActiveEndpoint, Attachment, ContainerNet, NetworkRecord, NetworkStore,
};
use crate::network::{mac_for, mac_text, netns, NetworkOptions};
use crate::runtime::spec::files;
use crate::service::events::{kind, EventBus};
use crate::util::now_rfc3339;

/// What the embedded DNS resolver needs to answer for one container on one network.
#[derive(Debug, Clone)]
pub struct NetworkScope {
    pub network_id: String,
    pub network_name: String,
    /// Internal networks must not forward queries upstream (CVE-2024-29018).
    pub internal: bool,
    /// The asking container's address on this network.
    pub container_ip: Ipv4Addr,
    pub gateway: Ipv4Addr,
    /// Every running container on the network (the asking one included).
    pub members: Vec<ScopeMember>,
    /// Where to forward other names (empty on internal networks).
    pub upstream_servers: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct ScopeMember {
    pub container_id: String,
    /// Container name without '/'.
    pub name: String,
    pub hostname: String,
    /// `--network-alias` values on this network.
    pub aliases: Vec<String>,
    pub ip: Ipv4Addr,
}

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
}

/// Docker's bridge-mode test: the container gets endpoints on bridge networks.
fn is_bridge_mode(mode: &str) -> bool {
    !matches!(mode, "host" | "none") && !mode.starts_with("container:")
}

fn default_mode(mode: &str) -> bool {
    matches!(mode, "" | "default" | "bridge")
}

impl NetworkService {
    /// Load the records, create the predefined networks on first use and make sure every bridge
    /// exists (after a reboot none does). The engine itself uses `open_offline` + `bring_up_host`
    /// so that the host work happens after its socket answers.
    pub fn open(data_root: &Path, opts: NetworkOptions, events: EventBus) -> Result<Arc<Self>> {
        let svc = Self::open_offline(data_root, opts, events)?;
        svc.bring_up_host()?;
        Ok(svc)
    }

    /// The host side of networking: IP forwarding and every network's bridge (after a reboot none
    /// exists). Runs in the engine's background start, before containers are reconciled; API
    /// requests that need it wait for that (the router's readiness gate).
    pub fn bring_up_host(&self) -> Result<()> {
        // Endpoint records are read here, not at open: 200 containers' files would delay the
        // engine's first answer.
        let containers = self.store.load_containers();
        self.lock().containers = containers;
        let result = (|| {
            link::sysctl("net/ipv4/ip_forward", "1")?;
            let nets: Vec<NetworkRecord> = self.lock().networks.values().cloned().collect();
            for n in nets.iter().filter(|n| n.is_bridge()) {
                Self::bring_up(n, self.mtu_of(n))?;
            }
            Ok(())
        })();
        *self.host_error.lock().unwrap_or_else(|p| p.into_inner()) =
            result.as_ref().err().map(|e: &EngineError| e.to_string());
        result
    }

    /// Why bridge networking could not be set up on this host, if it could not (`docker info`).
    pub fn host_error(&self) -> Option<String> {
        self.host_error
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Load and create the records without touching the host (no bridge, no sysctl): for
    /// in-process API tests that never start a bridge-mode container. A start would fail with
    /// "bridge ... missing".
    pub fn open_offline(
        data_root: &Path,
        opts: NetworkOptions,
        events: EventBus,
    ) -> Result<Arc<Self>> {
        let store = NetworkStore::open(data_root)?;
        let mut state = State::default();
        for n in store.load_networks() {
            state.networks.insert(n.id.clone(), n);
        }
        for name in crate::network::PREDEFINED {
            let existing = state.networks.values().find(|n| n.name == name).cloned();
            let before = existing.as_ref().map(serde_json::to_value);
            let mut rec = existing.unwrap_or_else(|| NetworkRecord {
                id: crate::util::new_id(),
                name: name.into(),
                created: now_rfc3339(),
                driver: match name {
                    "bridge" => "bridge",
                    "host" => "host",
                    _ => "null",
                }
                .into(),
                subnet: None,
                gateway: None,
                bridge: String::new(),
                internal: false,
                attachable: false,
                labels: HashMap::new(),
                options: HashMap::new(),
                predefined: true,
            });
            if name == "bridge" {
                // The default bridge follows the engine's options at every start.
                rec.subnet = Some(opts.bridge_subnet.to_string());
                rec.gateway = opts.bridge_subnet.first_host();
                rec.bridge = opts.bridge_name.clone();
                rec.options = HashMap::from([
                    (
                        "com.docker.network.bridge.default_bridge".into(),
                        "true".into(),
                    ),
                    (
                        "com.docker.network.bridge.name".into(),
                        opts.bridge_name.clone(),
                    ),
                    (
                        "com.docker.network.bridge.enable_ip_masquerade".into(),
                        "true".into(),
                    ),
                    (crate::network::MTU_OPTION.into(), opts.mtu.to_string()),
                ]);
            }
            // Only a new or changed record is written (an fsync at every start delays the first
            // answer).
            if before.and_then(|b| b.ok()) != serde_json::to_value(&rec).ok() {
                store.save_network(&rec)?;
            }
            state.networks.insert(rec.id.clone(), rec);
        }
        Ok(Arc::new(NetworkService {
            opts,
            store,
            events,
            state: Mutex::new(state),
            observer: OnceLock::new(),
            host_error: Mutex::new(None),
        }))
    }

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

    fn bring_up(n: &NetworkRecord, mtu: u32) -> Result<()> {
        let (Some(subnet), Some(gw)) = (n.subnet(), n.gateway) else {
            return Err(EngineError::internal(format!(
                "network {} has no subnet",
                n.name
            )));
        };
        link::ensure_bridge(&n.bridge, gw, subnet.prefix(), mtu)
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

    // ---- docker's JSON -----------------------------------------------------------------------

    /// `GET /networks/{id}` / one entry of `GET /networks`.
    pub fn inspect_json(&self, n: &NetworkRecord, with_containers: bool) -> Value {
        let state = self.lock();
        let mut containers = serde_json::Map::new();
        if with_containers {
            for c in state.containers.values() {
                for a in c.attachments.iter().filter(|a| a.network_id == n.id) {
                    if let Some(ep) = &a.active {
                        containers.insert(
                            c.container_id.clone(),
                            json!({
                                "Name": c.name,
                                "EndpointID": ep.endpoint_id,
                                "MacAddress": mac_text(&ep.mac),
                                "IPv4Address": format!("{}/{}", ep.ip, ep.prefix),
                                "IPv6Address": "",
                            }),
                        );
                    }
                }
            }
        }
        let config: Vec<Value> = match (&n.subnet, n.gateway) {
            (Some(s), Some(g)) => vec![json!({"Subnet": s, "Gateway": g.to_string()})],
            _ => vec![],
        };
        json!({
            "Name": n.name,
            "Id": n.id,
            "Created": n.created,
            "Scope": "local",
            "Driver": n.driver,
            "EnableIPv4": true,
            "EnableIPv6": false,
            "IPAM": {"Driver": "default", "Options": null, "Config": config},
            "Internal": n.internal,
            "Attachable": n.attachable,
            "Ingress": false,
            "ConfigFrom": {"Network": ""},
            "ConfigOnly": false,
            "Containers": containers,
            "Options": n.options,
            "Labels": n.labels,
        })
    }

    /// `NetworkSettings` of a container's inspect (and what ps needs): (networks, ports, summary
    /// ports). `None` when networking knows nothing of the container (host, none).
    pub fn container_view(&self, rec: &ContainerRecord) -> Option<(Value, Value, Vec<Value>)> {
        let state = self.lock();
        let c = state.containers.get(&rec.id)?;
        let mut networks = serde_json::Map::new();
        for a in &c.attachments {
            let Some(n) = state.networks.get(&a.network_id) else {
                continue;
            };
            let ep = a.active.as_ref();
            networks.insert(
                n.name.clone(),
                json!({
                    "IPAMConfig": a.requested_ip.map(|ip| json!({"IPv4Address": ip.to_string()})),
                    "Links": null,
                    "Aliases": if a.aliases.is_empty() { Value::Null } else { json!(a.aliases) },
                    "MacAddress": ep.map(|e| mac_text(&e.mac)).unwrap_or_default(),
                    "DriverOpts": null,
                    "NetworkID": n.id,
                    "EndpointID": ep.map(|e| e.endpoint_id.clone()).unwrap_or_default(),
                    "Gateway": ep.map(|e| e.gateway.to_string()).unwrap_or_default(),
                    "IPAddress": ep.map(|e| e.ip.to_string()).unwrap_or_default(),
                    "IPPrefixLen": ep.map(|e| e.prefix).unwrap_or(0),
                    "IPv6Gateway": "",
                    "GlobalIPv6Address": "",
                    "GlobalIPv6PrefixLen": 0,
                    "DNSNames": if n.name == "bridge" { Value::Null } else {
                        let mut names = vec![rec.name.clone()];
                        names.extend(a.aliases.iter().cloned());
                        names.push(rec.id[..12].to_owned());
                        json!(names)
                    },
                }),
            );
        }
        let exposed = ports::exposed_keys(rec.config.exposed_ports.as_ref());
        Some((
            Value::Object(networks),
            ports::inspect_ports(&exposed, &c.published),
            ports::summary_ports(&exposed, &c.published),
        ))
    }

    /// Fill `NetworkSettings` of a container inspect document.
    pub fn decorate_inspect(&self, rec: &ContainerRecord, doc: &mut Value) {
        let Some((networks, ports, _)) = self.container_view(rec) else {
            return;
        };
        let Some(ns) = doc
            .get_mut("NetworkSettings")
            .and_then(Value::as_object_mut)
        else {
            return;
        };
        // The top-level fields describe the default bridge endpoint, as in docker.
        if let Some(b) = networks.get("bridge") {
            for (top, key) in [
                ("IPAddress", "IPAddress"),
                ("Gateway", "Gateway"),
                ("MacAddress", "MacAddress"),
                ("EndpointID", "EndpointID"),
                ("IPPrefixLen", "IPPrefixLen"),
            ] {
                if let Some(v) = b.get(key) {
                    ns.insert(top.into(), v.clone());
                }
            }
        }
        let sandbox = self
            .lock()
            .containers
            .get(&rec.id)
            .and_then(|c| c.netns.clone())
            .map(|p| p.to_string_lossy().into_owned())
            .unwrap_or_default();
        ns.insert("SandboxKey".into(), json!(sandbox));
        ns.insert("Ports".into(), ports);
        ns.insert("Networks".into(), networks);
    }

    /// Fill `Ports` and `NetworkSettings.Networks` of a `ps` entry.
    pub fn decorate_summary(&self, rec: &ContainerRecord, s: &mut ContainerSummary) {
        // Built directly (no JSON round trip): `ps` asks this for every container.
        let state = self.lock();
        let Some(c) = state.containers.get(&rec.id) else {
            return;
        };
        let exposed = ports::exposed_keys(rec.config.exposed_ports.as_ref());
        s.ports = ports::summary_ports(&exposed, &c.published);
        s.network_settings.networks = c
            .attachments
            .iter()
            .filter_map(|a| {
                let n = state.networks.get(&a.network_id)?;
                let ep = a.active.as_ref();
                Some((
                    n.name.clone(),
                    EndpointSettings {
                        mac_address: ep.map(|e| mac_text(&e.mac)).unwrap_or_default(),
                        network_id: n.id.clone(),
                        endpoint_id: ep.map(|e| e.endpoint_id.clone()).unwrap_or_default(),
                        gateway: ep.map(|e| e.gateway.to_string()).unwrap_or_default(),
                        ip_address: ep.map(|e| e.ip.to_string()).unwrap_or_default(),
                        ip_prefix_len: ep.map_or(0, |e| u32::from(e.prefix)),
                        aliases: (!a.aliases.is_empty()).then(|| a.aliases.clone()),
                        ..Default::default()
                    },
                ))
            })
            .collect();
    }

    /// Published ports of a container (`docker port`): (container port "80/tcp", host ip, port).
    pub fn published(&self, container_id: &str) -> Vec<Published> {
        self.lock()
            .containers
            .get(container_id)
            .map(|c| c.published.clone())
            .unwrap_or_default()
    }

    // ---- container hooks ---------------------------------------------------------------------

    /// Validate a create request's networking (unknown network → 404, malformed ports, DNS or
    /// hosts → 400) and return the state to record once the container exists.
    pub fn plan_create(&self, req: &CreateRequest) -> Result<Option<ContainerNet>> {
        let host = req.host_config.clone().unwrap_or_default();
        let mode = host.network_mode.as_str();
        ports::requested(&host.extra, req.config.exposed_ports.as_ref())?;
        for p in req.config.exposed_ports.iter().flat_map(|m| m.keys()) {
            ports::ContainerPort::parse(p)?;
        }
        DnsConfig::from_host_config(&host.extra).validate()?;
        if let Some(mode) = mode.strip_prefix("container:") {
            return Err(EngineError::invalid(format!(
                "network mode container:{mode} is not supported by berth"
            )));
        }
        let state = self.lock();
        let net = if default_mode(mode) {
            Self::find(&state, "bridge")?.clone()
        } else {
            Self::find(&state, mode)?.clone()
        };
        if !is_bridge_mode(mode) || !net.is_bridge() {
            return Ok(None);
        }
        // NetworkingConfig.EndpointsConfig: aliases and a fixed address per network.
        let endpoints = req
            .networking_config
            .as_ref()
            .and_then(|v| v.get("EndpointsConfig"))
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        let mut attachments = vec![Attachment {
            network_id: net.id.clone(),
            ..Default::default()
        }];
        for (key, cfg) in &endpoints {
            // The docker CLI keys the endpoint of the container's own mode, "default" included.
            let key = if default_mode(key) {
                "bridge"
            } else {
                key.as_str()
            };
            let n = Self::find(&state, key)?;
            if !n.is_bridge() {
                return Err(EngineError::invalid(format!(
                    "container cannot be connected to network {} (driver {})",
                    n.name, n.driver
                )));
            }
            let att = match attachments.iter_mut().find(|a| a.network_id == n.id) {
                Some(a) => a,
                None => {
                    attachments.push(Attachment {
                        network_id: n.id.clone(),
                        ..Default::default()
                    });
                    attachments.last_mut().expect("just pushed")
                }
            };
            fill_endpoint_config(att, n, cfg)?;
        }
        Ok(Some(ContainerNet {
            container_id: String::new(),
            name: String::new(),
            hostname: String::new(),
            attachments,
            ..Default::default()
        }))
    }

    /// Record the planned state of a container that now exists.
    pub fn commit_create(&self, mut plan: ContainerNet, rec: &ContainerRecord) -> Result<()> {
        plan.container_id = rec.id.clone();
        plan.name = rec.name.clone();
        plan.hostname = rec.config.hostname.clone();
        self.store.save_container(&plan)?;
        self.lock().containers.insert(rec.id.clone(), plan);
        Ok(())
    }

    pub fn renamed(&self, id: &str, name: &str) {
        let mut state = self.lock();
        if let Some(c) = state.containers.get_mut(id) {
            c.name = name.to_owned();
            let c = c.clone();
            if let Err(e) = self.store.save_container(&c) {
                tracing::warn!(%id, error = %e, "saving network state after rename");
            }
        }
    }

    /// The container is gone: forget its attachments.
    pub fn forget(&self, id: &str) {
        self.release(id);
        self.lock().containers.remove(id);
        self.store.remove_container(id);
    }

    /// Give a starting bridge-mode container its namespace: create and pin it, reserve published
    /// ports, allocate an address on each network, wire a veth per network, write DNAT rules,
    /// /etc/hosts and resolv.conf. Returns the namespace path for the runtime spec, or None when
    /// the container does not use bridge networking. On error nothing is left behind.
    pub fn attach(&self, rec: &ContainerRecord, dir: &Path) -> Result<Option<PathBuf>> {
        let mode = rec.host_config.network_mode.as_str();
        if !is_bridge_mode(mode) {
            return Ok(None);
        }
        // A leftover from a crash between start and exit bookkeeping.
        self.release(&rec.id);
        let mut state = self.lock();
        if !state.containers.contains_key(&rec.id) {
            // Created before networking existed, or its state file was lost: use its mode.
            let net = if default_mode(mode) {
                Self::find(&state, "bridge")?
            } else {
                Self::find(&state, mode)?
            };
            if !net.is_bridge() {
                return Ok(None);
            }
            let cn = ContainerNet {
                container_id: rec.id.clone(),
                attachments: vec![Attachment {
                    network_id: net.id.clone(),
                    ..Default::default()
                }],
                ..Default::default()
            };
            state.containers.insert(rec.id.clone(), cn);
        }
        let t0 = std::time::Instant::now();
        let reqs = ports::requested(&rec.host_config.extra, rec.config.exposed_ports.as_ref())?;
        let (published, fds) = ports::reserve(&reqs)?;
        let ns_path = self.store.netns_dir().join(&rec.id);
        netns::create(&ns_path)?;
        let t1 = t0.elapsed();
        match self.wire_all(&mut state, rec, &ns_path, published, dir) {
            Ok(()) => {
                tracing::debug!(id = %rec.id, netns_us = t1.as_micros() as u64, total_us = t0.elapsed().as_micros() as u64, "container networking configured");
                state.port_fds.insert(rec.id.clone(), fds);
                let nets: Vec<NetworkRecord> = {
                    let c = &state.containers[&rec.id];
                    c.attachments
                        .iter()
                        .filter_map(|a| state.networks.get(&a.network_id).cloned())
                        .collect()
                };
                drop(state);
                for n in &nets {
                    self.emit("connect", n, Some(&rec.id));
                }
                self.on_netns_configured(&rec.id, &ns_path);
                Ok(Some(ns_path))
            }
            Err(e) => {
                // Undo: the host veth ends first (deterministic), then the namespace.
                if let Some(c) = state.containers.get_mut(&rec.id) {
                    for a in &mut c.attachments {
                        if let Some(ep) = a.active.take() {
                            let _ = link::delete_link(&ep.host_ifname);
                        }
                    }
                    c.netns = None;
                    c.published.clear();
                }
                netns::remove(&ns_path);
                drop(fds);
                Err(e)
            }
        }
    }

    fn wire_all(
        &self,
        state: &mut State,
        rec: &ContainerRecord,
        ns_path: &Path,
        published: Vec<Published>,
        dir: &Path,
    ) -> Result<()> {
        let mut c = state.containers[&rec.id].clone();
        c.name = rec.name.clone();
        c.hostname = rec.config.hostname.clone();
        c.dns_servers = DnsConfig::from_host_config(&rec.host_config.extra).servers;
        let mut default_route_set = false;
        let mut own_ips = Vec::new();
        let mut first_gateway = None;
        let mut embedded_dns = false;
        for i in 0..c.attachments.len() {
            let a = c.attachments[i].clone();
            let n = state.networks.get(&a.network_id).cloned().ok_or_else(|| {
                EngineError::not_found(format!("network {} not found", a.network_id))
            })?;
            let with_route = !n.internal && !default_route_set;
            let ep = self.wire_one(
                state,
                &rec.id,
                &n,
                &a,
                ns_path,
                &format!("eth{i}"),
                with_route,
                i == 0,
            )?;
            default_route_set |= with_route;
            own_ips.push(ep.ip);
            first_gateway.get_or_insert(ep.gateway);
            embedded_dns |= n.name != "bridge";
            c.attachments[i].active = Some(ep);
            // Visible to the next attachment's IPAM.
            state.containers.insert(rec.id.clone(), c.clone());
        }
        c.netns = Some(ns_path.to_owned());
        c.published = published;
        state.containers.insert(rec.id.clone(), c.clone());
        if !c.published.is_empty() {
            self.apply_nat(state)?;
        }
        self.write_etc(&c, rec, dir, &own_ips, first_gateway, embedded_dns)?;
        self.store.save_container_runtime(&c)
    }

    #[allow(clippy::too_many_arguments)]
    fn wire_one(
        &self,
        state: &State,
        container_id: &str,
        n: &NetworkRecord,
        a: &Attachment,
        ns_path: &Path,
        ifname: &str,
        default_route: bool,
        loopback: bool,
    ) -> Result<ActiveEndpoint> {
        let subnet = n
            .subnet()
            .ok_or_else(|| EngineError::internal(format!("network {} has no subnet", n.name)))?;
        let gateway = n.gateway.unwrap_or(Ipv4Addr::UNSPECIFIED);
        let mut used: BTreeSet<Ipv4Addr> = state
            .containers
            .values()
            .filter(|c| c.container_id != container_id)
            .flat_map(|c| c.attachments.iter())
            .filter(|x| x.network_id == n.id)
            .filter_map(|x| x.active.as_ref().map(|e| e.ip))
            .collect();
        used.insert(gateway);
        let ip = match a.requested_ip {
            Some(ip) if used.contains(&ip) => {
                return Err(EngineError::conflict(format!(
                    "Address already in use: {ip} on network {}",
                    n.name
                )))
            }
            Some(ip) => ip,
            None => ipam::pick_address(&subnet, &used).ok_or_else(|| {
                EngineError::conflict(format!("no available IPv4 addresses on network {}", n.name))
            })?,
        };
        let host_ifname = format!("veth{}", &crate::util::new_id()[..7]);
        let mac = mac_for(ip);
        link::setup_endpoint(
            ns_path,
            &EndpointLink {
                host_ifname: host_ifname.clone(),
                ifname: ifname.to_owned(),
                mac,
                ip,
                prefix: subnet.prefix(),
                default_gateway: default_route.then_some(gateway),
                bridge: n.bridge.clone(),
                mtu: self.mtu_of(n),
            },
            loopback,
        )?;
        Ok(ActiveEndpoint {
            endpoint_id: crate::util::new_id(),
            ip,
            prefix: subnet.prefix(),
            gateway,
            mac,
            ifname: ifname.to_owned(),
            host_ifname,
        })
    }

    fn write_etc(
        &self,
        c: &ContainerNet,
        rec: &ContainerRecord,
        dir: &Path,
        own_ips: &[Ipv4Addr],
        gateway: Option<Ipv4Addr>,
        embedded_dns: bool,
    ) -> Result<()> {
        let dns = DnsConfig::from_host_config(&rec.host_config.extra);
        let hosts = etc::hosts(&c.hostname, own_ips, &dns.extra_hosts, gateway);
        let host_resolv = std::fs::read_to_string("/etc/resolv.conf").unwrap_or_default();
        let resolv = etc::resolv_conf(&host_resolv, &dns, embedded_dns);
        // Written in place (not renamed): the files are bind-mounted into a running container.
        for (f, content) in [(files::HOSTS, hosts), (files::RESOLV_CONF, resolv)] {
            std::fs::write(dir.join(f), content).map_err(|e| {
                EngineError::internal(format!("writing {f} for container {}: {e}", rec.id))
            })?;
        }
        Ok(())
    }

    /// Rebuild the engine's nft table from the state.
    fn apply_nat(&self, state: &State) -> Result<()> {
        let (nets, rules) = Self::nat_state(state);
        nat::apply(&self.opts.nft_table, &nets, &rules)
    }

    fn nat_state(state: &State) -> (Vec<NatNetwork>, Vec<PortRule>) {
        let nets: Vec<NatNetwork> = state
            .networks
            .values()
            .filter(|n| n.is_bridge())
            .filter_map(|n| {
                Some(NatNetwork {
                    bridge: n.bridge.clone(),
                    subnet: n.subnet()?,
                    internal: n.internal,
                })
            })
            .collect();
        let mut rules = Vec::new();
        for c in state.containers.values() {
            // Published ports reach the container's first network (docker's behaviour).
            let Some(ip) = c
                .attachments
                .iter()
                .find_map(|a| a.active.as_ref().map(|e| e.ip))
            else {
                continue;
            };
            for p in &c.published {
                rules.push(PortRule {
                    proto: p.container.proto().into(),
                    host_ip: p.host_ip,
                    host_port: p.host_port,
                    container_ip: ip,
                    container_port: p.container.port,
                });
            }
        }
        (nets, rules)
    }

    /// The container stopped: drop its namespace, addresses, port reservations and DNAT rules.
    /// Idempotent.
    pub fn release(&self, id: &str) {
        let state = self.lock();
        let Some(c) = state.containers.get(id).cloned() else {
            return;
        };
        let Some(ns_path) = c.netns.clone() else {
            return;
        };
        drop(state);
        let t0 = std::time::Instant::now();
        self.on_netns_teardown(id, &ns_path);
        let mut state = self.lock();
        let mut c = c;
        let mut nets = Vec::new();
        for a in &mut c.attachments {
            if a.active.take().is_some() {
                // The veth pair goes with the namespace: the kernel destroys it in the
                // background once the last reference is dropped. Deleting it here would cost
                // an RCU grace period on every container exit.
                if let Some(n) = state.networks.get(&a.network_id) {
                    nets.push(n.clone());
                }
            }
        }
        netns::remove(&ns_path);
        tracing::debug!(%id, total_us = t0.elapsed().as_micros() as u64, "container networking released");
        let had_ports = !c.published.is_empty();
        c.published.clear();
        c.netns = None;
        state.port_fds.remove(id);
        state.containers.insert(id.to_owned(), c.clone());
        if had_ports {
            if let Err(e) = self.apply_nat(&state) {
                tracing::error!(%id, error = %e, "removing published ports");
            }
        }
        drop(state);
        if let Err(e) = self.store.save_container_runtime(&c) {
            tracing::warn!(%id, error = %e, "saving network state");
        }
        for n in &nets {
            self.emit("disconnect", n, Some(id));
        }
    }

    /// After the container service has settled which containers still run: re-reserve their
    /// ports, drop the networking of those that do not run any more, remove stray namespaces
    /// and veths, and rebuild the nft table, so nothing leaks across crashes and reboots.
    pub fn reconcile(&self, running: &BTreeSet<String>, existing: &BTreeSet<String>) {
        let ids: Vec<String> = self.lock().containers.keys().cloned().collect();
        for id in ids {
            if !existing.contains(&id) {
                self.forget(&id);
            } else if !running.contains(&id) {
                self.release(&id);
            }
        }
        let mut state = self.lock();
        let mut keep = BTreeSet::new();
        let mut live = Vec::new();
        let list: Vec<ContainerNet> = state.containers.values().cloned().collect();
        for c in list {
            let Some(ns) = &c.netns else { continue };
            if !netns::is_pinned(ns) {
                // A reboot took the namespace away although the record says running; the
                // container service will find the container dead.
                continue;
            }
            keep.insert(ns.clone());
            live.push((c.container_id.clone(), ns.clone()));
            let reqs: Vec<ports::Requested> = c
                .published
                .iter()
                .map(|p| ports::Requested {
                    container: p.container,
                    host_ip: p.host_ip,
                    host_ports: (p.host_port, p.host_port),
                })
                .collect();
            match ports::reserve(&reqs) {
                Ok((_, fds)) => {
                    state.port_fds.insert(c.container_id.clone(), fds);
                }
                Err(e) => {
                    tracing::warn!(id = %c.container_id, error = %e, "re-reserving published ports")
                }
            }
        }
        if let Ok(entries) = std::fs::read_dir(self.store.netns_dir()) {
            for e in entries.flatten() {
                if !keep.contains(&e.path()) {
                    tracing::info!(path = %e.path().display(), "removing stray network namespace");
                    netns::remove(&e.path());
                }
            }
        }
        if let Err(e) = self.apply_nat(&state) {
            tracing::error!(error = %e, "rebuilding the nft table");
        }
        let bridges: Vec<String> = state
            .networks
            .values()
            .filter(|n| n.is_bridge())
            .map(|n| n.bridge.clone())
            .collect();
        drop(state);
        // Listeners that lived in the previous engine (the embedded DNS) come back.
        for (id, ns) in &live {
            self.on_netns_configured(id, ns);
        }
        if let Err(e) = nat::open_foreign_forward(&self.opts.nft_table, &bridges) {
            tracing::warn!(error = %e, "could not open a foreign FORWARD drop policy for our bridges");
        }
    }

    /// For the embedded DNS resolver: the container's networks (user-defined bridges only; the
    /// default bridge has no name resolution, as in docker) with every running member.
    pub fn dns_scope(&self, container_id: &str) -> Vec<NetworkScope> {
        let state = self.lock();
        let Some(c) = state.containers.get(container_id) else {
            return vec![];
        };
        let host_resolv = std::fs::read_to_string("/etc/resolv.conf").unwrap_or_default();
        let mut out = Vec::new();
        for a in &c.attachments {
            let (Some(ep), Some(n)) = (a.active.as_ref(), state.networks.get(&a.network_id)) else {
                continue;
            };
            if n.name == "bridge" {
                continue;
            }
            let members = state
                .containers
                .values()
                .flat_map(|m| {
                    m.attachments
                        .iter()
                        .filter(|x| x.network_id == n.id)
                        .filter_map(move |x| {
                            x.active.as_ref().map(|e| ScopeMember {
                                container_id: m.container_id.clone(),
                                name: m.name.clone(),
                                hostname: m.hostname.clone(),
                                aliases: x.aliases.clone(),
                                ip: e.ip,
                            })
                        })
                })
                .collect();
            let upstream = if n.internal {
                vec![]
            } else {
                let cfg = DnsConfig {
                    servers: c.dns_servers.clone(),
                    ..Default::default()
                };
                etc::upstream_servers(&host_resolv, &cfg)
            };
            out.push(NetworkScope {
                network_id: n.id.clone(),
                network_name: n.name.clone(),
                internal: n.internal,
                container_ip: ep.ip,
                gateway: ep.gateway,
                members,
                upstream_servers: upstream,
            });
        }
        out
    }

    // ---- /networks API -----------------------------------------------------------------------

    /// `POST /networks/create`.
    pub fn create(&self, body: &Value) -> Result<NetworkRecord> {
        let name = body
            .get("Name")
            .and_then(Value::as_str)
            .unwrap_or("")
            .trim()
            .to_owned();
        if name.is_empty() {
            return Err(EngineError::invalid("network name must not be empty"));
        }
        if !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c))
            || !name
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphanumeric())
        {
            return Err(EngineError::invalid(format!(
                "invalid network name {name:?}: only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed"
            )));
        }
        let driver = body.get("Driver").and_then(Value::as_str).unwrap_or("");
        if !driver.is_empty() && driver != "bridge" {
            return Err(EngineError::not_found(format!(
                "plugin \"{driver}\" not found: berth supports the bridge driver"
            )));
        }
        if body.get("EnableIPv6").and_then(Value::as_bool) == Some(true) {
            return Err(EngineError::invalid(
                "IPv6 networks are not supported by berth",
            ));
        }
        let strmap = |key: &str| -> HashMap<String, String> {
            body.get(key)
                .and_then(Value::as_object)
                .map(|m| {
                    m.iter()
                        .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
                        .collect()
                })
                .unwrap_or_default()
        };
        let labels = strmap("Labels");
        let options = strmap("Options");
        if let Some(mtu) = options.get(crate::network::MTU_OPTION) {
            if crate::network::parse_mtu(mtu).is_none() {
                return Err(EngineError::invalid(format!(
                    "invalid MTU {mtu:?} in {}: a number from 68 to 65535",
                    crate::network::MTU_OPTION
                )));
            }
        }
        let ipam_configs: Vec<Value> = body
            .pointer("/IPAM/Config")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        if ipam_configs.len() > 1 {
            return Err(EngineError::invalid(
                "berth bridge networks take one IPAM config (one IPv4 subnet)",
            ));
        }
        let requested_subnet = ipam_configs
            .first()
            .and_then(|c| c.get("Subnet"))
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::parse::<Ipv4Net>)
            .transpose()?;
        let requested_gw = ipam_configs
            .first()
            .and_then(|c| c.get("Gateway"))
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(|g| {
                g.parse::<Ipv4Addr>()
                    .map_err(|_| EngineError::invalid(format!("invalid gateway address {g:?}")))
            })
            .transpose()?;
        if requested_gw.is_some() && requested_subnet.is_none() {
            return Err(EngineError::invalid("a gateway needs a subnet"));
        }

        let mut state = self.lock();
        if state.networks.values().any(|n| n.name == name) {
            return Err(EngineError::conflict(format!(
                "network with name {name} already exists"
            )));
        }
        let taken: Vec<Ipv4Net> = state.networks.values().filter_map(|n| n.subnet()).collect();
        let subnet = match requested_subnet {
            Some(s) => {
                if let Some(other) = state
                    .networks
                    .values()
                    .find(|n| n.subnet().is_some_and(|t| t.overlaps(&s)))
                {
                    return Err(EngineError::invalid(format!(
                        "invalid pool request: Pool overlaps with other one on this address space (subnet {s} overlaps network {} {})",
                        other.name,
                        other.subnet.clone().unwrap_or_default()
                    )));
                }
                s
            }
            None => {
                let mut all = taken.clone();
                all.extend(ipam::host_networks());
                ipam::pick_subnet(&self.opts.pool, self.opts.pool_size, &all).ok_or_else(|| {
                    EngineError::invalid(
                        "could not find an available, non-overlapping IPv4 address pool among the defaults to assign to the network",
                    )
                })?
            }
        };
        let gateway = match requested_gw {
            Some(g) if !subnet.contains(g) || g == subnet.addr() || g == subnet.broadcast() => {
                return Err(EngineError::invalid(format!(
                    "invalid gateway {g}: not a host address of subnet {subnet}"
                )))
            }
            Some(g) => g,
            None => subnet
                .first_host()
                .ok_or_else(|| EngineError::invalid(format!("subnet {subnet} is too small")))?,
        };
        let id = crate::util::new_id();
        let rec = NetworkRecord {
            bridge: options
                .get("com.docker.network.bridge.name")
                .filter(|b| !b.is_empty() && b.len() <= 15)
                .cloned()
                .unwrap_or_else(|| format!("br-{}", &id[..12])),
            id,
            name,
            created: now_rfc3339(),
            driver: "bridge".into(),
            subnet: Some(subnet.to_string()),
            gateway: Some(gateway),
            internal: body
                .get("Internal")
                .and_then(Value::as_bool)
                .unwrap_or(false),
            attachable: body
                .get("Attachable")
                .and_then(Value::as_bool)
                .unwrap_or(false),
            labels,
            options,
            predefined: false,
        };
        if state.networks.values().any(|n| n.bridge == rec.bridge) {
            return Err(EngineError::conflict(format!(
                "bridge name {} is used by another network",
                rec.bridge
            )));
        }
        Self::bring_up(&rec, self.mtu_of(&rec))?;
        state.networks.insert(rec.id.clone(), rec.clone());
        let done = self
            .store
            .save_network(&rec)
            .and_then(|_| self.apply_nat(&state));
        if let Err(e) = done {
            state.networks.remove(&rec.id);
            let _ = self.store.remove_network(&rec.id);
            let _ = link::delete_link(&rec.bridge);
            let _ = self.apply_nat(&state);
            return Err(e);
        }
        let bridges: Vec<String> = state
            .networks
            .values()
            .filter(|n| n.is_bridge())
            .map(|n| n.bridge.clone())
            .collect();
        drop(state);
        if let Err(e) = nat::open_foreign_forward(&self.opts.nft_table, &bridges) {
            tracing::warn!(error = %e, "opening foreign FORWARD policy");
        }
        self.emit("create", &rec, None);
        Ok(rec)
    }

    /// Containers (ids) attached to a network, running or not.
    fn users(state: &State, network_id: &str) -> Vec<String> {
        state
            .containers
            .values()
            .filter(|c| c.attachments.iter().any(|a| a.network_id == network_id))
            .map(|c| c.container_id.clone())
            .collect()
    }

    /// `DELETE /networks/{id}`.
    pub fn remove(&self, key: &str) -> Result<()> {
        let mut state = self.lock();
        let n = Self::find(&state, key)?.clone();
        if n.predefined {
            return Err(EngineError::conflict(format!(
                "{} is a pre-defined network and cannot be removed",
                n.name
            )));
        }
        let active: Vec<String> = state
            .containers
            .values()
            .filter(|c| {
                c.attachments
                    .iter()
                    .any(|a| a.network_id == n.id && a.active.is_some())
            })
            .map(|c| c.container_id.clone())
            .collect();
        if !active.is_empty() {
            return Err(EngineError::conflict(format!(
                "error while removing network: network {} id {} has active endpoints",
                n.name, n.id
            )));
        }
        // Stopped containers keep their attachment in docker too, and fail to start later; we
        // detach them so they fall back to no network of that name.
        for id in Self::users(&state, &n.id) {
            if let Some(c) = state.containers.get_mut(&id) {
                c.attachments.retain(|a| a.network_id != n.id);
                let c = c.clone();
                let _ = self.store.save_container(&c);
            }
        }
        self.store.remove_network(&n.id)?;
        state.networks.remove(&n.id);
        if let Err(e) = link::delete_link(&n.bridge) {
            tracing::warn!(bridge = %n.bridge, error = %e, "deleting bridge");
        }
        if let Err(e) = self.apply_nat(&state) {
            tracing::error!(error = %e, "rebuilding nft table");
        }
        drop(state);
        self.emit("destroy", &n, None);
        Ok(())
    }

    /// `POST /networks/prune`: user networks no container uses. Returns the names removed.
    pub fn prune(&self, keep: impl Fn(&NetworkRecord) -> bool) -> Vec<String> {
        let candidates: Vec<NetworkRecord> = {
            let state = self.lock();
            state
                .networks
                .values()
                .filter(|n| !n.predefined && Self::users(&state, &n.id).is_empty())
                .filter(|n| !keep(n))
                .cloned()
                .collect()
        };
        candidates
            .into_iter()
            .filter(|n| self.remove(&n.id).is_ok())
            .map(|n| n.name)
            .collect()
    }

    /// `POST /networks/{id}/connect` for a container (running or not).
    pub fn connect(
        &self,
        key: &str,
        rec: &ContainerRecord,
        running: bool,
        dir: &Path,
        endpoint_config: &Value,
    ) -> Result<()> {
        let mode = rec.host_config.network_mode.as_str();
        if !is_bridge_mode(mode) {
            return Err(EngineError::invalid(format!(
                "container sharing network namespace with another container or host cannot be connected to any other network (network mode {mode})"
            )));
        }
        let mut state = self.lock();
        let n = Self::find(&state, key)?.clone();
        if !n.is_bridge() {
            return Err(EngineError::invalid(format!(
                "container cannot be disconnected from host network or connected to host network (network {})",
                n.name
            )));
        }
        let mut c = state
            .containers
            .get(&rec.id)
            .cloned()
            .unwrap_or_else(|| ContainerNet {
                container_id: rec.id.clone(),
                name: rec.name.clone(),
                hostname: rec.config.hostname.clone(),
                ..Default::default()
            });
        if c.attachments.iter().any(|a| a.network_id == n.id) {
            return Err(EngineError::conflict(format!(
                "endpoint with name {} already exists in network {}",
                rec.name, n.name
            )));
        }
        let mut att = Attachment {
            network_id: n.id.clone(),
            ..Default::default()
        };
        fill_endpoint_config(&mut att, &n, endpoint_config)?;
        let live_ns = c.netns.clone().filter(|_| running);
        if let Some(ns) = &live_ns {
            let used: BTreeSet<&str> = c
                .attachments
                .iter()
                .filter_map(|a| a.active.as_ref().map(|e| e.ifname.as_str()))
                .collect();
            let ifname = (0..)
                .map(|i| format!("eth{i}"))
                .find(|n| !used.contains(n.as_str()))
                .expect("an unused interface name");
            let has_route = c.attachments.iter().any(|a| {
                a.active.is_some()
                    && state
                        .networks
                        .get(&a.network_id)
                        .is_some_and(|n| !n.internal)
            });
            let ep = self.wire_one(
                &state,
                &rec.id,
                &n,
                &att,
                ns,
                &ifname,
                !has_route && !n.internal,
                false,
            )?;
            att.active = Some(ep);
        }
        c.attachments.push(att);
        state.containers.insert(rec.id.clone(), c.clone());
        if let Err(e) = self.store.save_container(&c) {
            // Roll back the live interface too.
            if let (Some(ns), Some(ep)) = (
                &live_ns,
                c.attachments.last().and_then(|a| a.active.clone()),
            ) {
                let _ = link::remove_endpoint(ns, &ep.ifname);
            }
            c.attachments.pop();
            state.containers.insert(rec.id.clone(), c);
            return Err(e);
        }
        drop(state);
        if let Some(ns) = &live_ns {
            self.rewrite_hosts(&rec.id, rec, dir);
            self.emit("connect", &n, Some(&rec.id));
            self.on_netns_configured(&rec.id, ns);
        }
        Ok(())
    }

    /// `POST /networks/{id}/disconnect`.
    pub fn disconnect(&self, key: &str, rec: &ContainerRecord, dir: &Path) -> Result<()> {
        let mut state = self.lock();
        let n = Self::find(&state, key)?.clone();
        let mut c = state
            .containers
            .get(&rec.id)
            .cloned()
            .filter(|c| c.attachments.iter().any(|a| a.network_id == n.id))
            .ok_or_else(|| {
                EngineError::invalid(format!(
                    "container {} is not connected to network {}",
                    rec.id, n.name
                ))
            })?;
        let pos = c
            .attachments
            .iter()
            .position(|a| a.network_id == n.id)
            .expect("checked above");
        let att = c.attachments.remove(pos);
        if let (Some(ep), Some(ns)) = (&att.active, &c.netns) {
            link::remove_endpoint(ns, &ep.ifname)?;
        }
        state.containers.insert(rec.id.clone(), c.clone());
        self.store.save_container(&c)?;
        if att.active.is_some() && !c.published.is_empty() {
            if let Err(e) = self.apply_nat(&state) {
                tracing::error!(error = %e, "rebuilding nft table");
            }
        }
        drop(state);
        if att.active.is_some() {
            self.rewrite_hosts(&rec.id, rec, dir);
            self.emit("disconnect", &n, Some(&rec.id));
            if let Some(ns) = &c.netns {
                // The remaining networks changed: let the resolver refresh its view.
                self.on_netns_configured(&rec.id, ns);
            }
        }
        Ok(())
    }

    fn rewrite_hosts(&self, id: &str, rec: &ContainerRecord, dir: &Path) {
        let state = self.lock();
        let Some(c) = state.containers.get(id) else {
            return;
        };
        let ips: Vec<Ipv4Addr> = c
            .attachments
            .iter()
            .filter_map(|a| a.active.as_ref().map(|e| e.ip))
            .collect();
        let gw = c
            .attachments
            .iter()
            .find_map(|a| a.active.as_ref().map(|e| e.gateway));
        let dns = DnsConfig::from_host_config(&rec.host_config.extra);
        let hosts = etc::hosts(&c.hostname, &ips, &dns.extra_hosts, gw);
        if let Err(e) = std::fs::write(dir.join(files::HOSTS), hosts) {
            tracing::warn!(%id, error = %e, "rewriting /etc/hosts");
        }
    }

    /// Remove every bridge and the nft table of this engine (test harness teardown, uninstall).
    pub fn teardown_host_networking(data_root: &Path, opts: &NetworkOptions) -> Result<()> {
        let store = NetworkStore::open(data_root)?;
        for c in store.load_containers().values() {
            if let Some(ns) = &c.netns {
                netns::remove(ns);
            }
            for a in &c.attachments {
                if let Some(ep) = &a.active {
                    let _ = link::delete_link(&ep.host_ifname);
                }
            }
        }
        let mut bridges = vec![opts.bridge_name.clone()];
        for n in store.load_networks() {
            if n.is_bridge() && !n.bridge.is_empty() {
                bridges.push(n.bridge);
            }
        }
        bridges.sort();
        bridges.dedup();
        for b in bridges {
            link::delete_link(&b)?;
        }
        nat::close_foreign_forward(&opts.nft_table);
        nat::delete_table(&opts.nft_table)
    }
}

/// Apply one `EndpointsConfig` entry (Aliases, IPAMConfig.IPv4Address) to an attachment.
fn fill_endpoint_config(att: &mut Attachment, n: &NetworkRecord, cfg: &Value) -> Result<()> {
    let aliases: Vec<String> = cfg
        .get("Aliases")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    if !aliases.is_empty() && n.name == "bridge" {
        return Err(EngineError::invalid(
            "network-scoped alias is supported only for containers in user defined networks",
        ));
    }
    for a in aliases {
        if !att.aliases.contains(&a) {
            att.aliases.push(a);
        }
    }
    if let Some(ip) = cfg
        .pointer("/IPAMConfig/IPv4Address")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
    {
        let ip: Ipv4Addr = ip
            .parse()
            .map_err(|_| EngineError::invalid(format!("invalid IPv4 address {ip:?}")))?;
        if n.name == "bridge" {
            return Err(EngineError::invalid(
                "user specified IP address is supported on user defined networks only",
            ));
        }
        let subnet = n
            .subnet()
            .ok_or_else(|| EngineError::invalid("network has no subnet"))?;
        if !subnet.contains(ip)
            || Some(ip) == n.gateway
            || ip == subnet.addr()
            || ip == subnet.broadcast()
        {
            return Err(EngineError::invalid(format!(
                "invalid address {ip}: it is not a free host address of subnet {subnet}"
            )));
        }
        att.requested_ip = Some(ip);
    }
    Ok(())
}
