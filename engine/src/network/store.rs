//! Network records and per-container network state under `<data-root>/networks/`, each written
//! atomically (a crash leaves the old or the new file, never half of one).

use std::collections::{BTreeMap, HashMap};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::ipam::Ipv4Net;
use super::ipam6::Ipv6Net;
use super::ports::Published;
use crate::error::{IoContext, Result};
use crate::store::atomic::write_json_atomic;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NetworkRecord {
    pub id: String,
    pub name: String,
    pub created: String,
    /// "bridge", "host" or "null".
    pub driver: String,
    /// Bridge networks only.
    pub subnet: Option<String>,
    pub gateway: Option<Ipv4Addr>,
    /// Linux bridge name (bridge networks only).
    pub bridge: String,
    #[serde(default)]
    pub internal: bool,
    #[serde(default)]
    pub attachable: bool,
    #[serde(default)]
    pub labels: HashMap<String, String>,
    #[serde(default)]
    pub options: HashMap<String, String>,
    /// IPAM IPRange: containers' addresses come from it (the subnet's otherwise).
    #[serde(default)]
    pub ip_range: Option<String>,
    /// IPAM AuxiliaryAddresses: reserved, never given to a container.
    #[serde(default)]
    pub aux_addresses: BTreeMap<String, Ipv4Addr>,
    /// bridge, host, none: listed always, never removable.
    #[serde(default)]
    pub predefined: bool,
    /// EnableIPv6: the bridge and the endpoints get addresses of `ipv6`.
    #[serde(default)]
    pub enable_ipv6: bool,
    /// The IPv6 IPAM config as given. Docker keeps (and shows) it even when IPv6 is not enabled;
    /// only an enabled network allocates from it.
    #[serde(default)]
    pub ipv6: Option<Ipv6Config>,
}

/// A network's IPv6 pool: subnet, range and gateway as the request wrote them (inspect shows
/// them so), the gateway docker would pick when none was given.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Ipv6Config {
    pub subnet: String,
    #[serde(default)]
    pub ip_range: Option<String>,
    /// The requested gateway (shown in inspect); None: the subnet's first address, not shown.
    #[serde(default)]
    pub gateway: Option<Ipv6Addr>,
}

impl Ipv6Config {
    pub fn net(&self) -> Option<Ipv6Net> {
        Ipv6Net::parse_subnet(&self.subnet).ok()
    }

    /// The address the bridge gets.
    pub fn gateway_addr(&self) -> Option<Ipv6Addr> {
        self.gateway.or_else(|| self.net()?.first_host())
    }
}

impl NetworkRecord {
    pub fn subnet(&self) -> Option<Ipv4Net> {
        self.subnet.as_deref().and_then(|s| s.parse().ok())
    }

    pub fn is_bridge(&self) -> bool {
        self.driver == "bridge"
    }

    /// The IPv6 pool endpoints allocate from: only when IPv6 is enabled (docker ignores a v6
    /// config and v6 address requests otherwise).
    pub fn ipv6_pool(&self) -> Option<&Ipv6Config> {
        self.ipv6.as_ref().filter(|_| self.enable_ipv6)
    }
}

/// A container's attachment to one network.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Attachment {
    pub network_id: String,
    #[serde(default)]
    pub aliases: Vec<String>,
    /// IPAMConfig.IPv4Address from the request.
    #[serde(default)]
    pub requested_ip: Option<Ipv4Addr>,
    /// IPAMConfig.IPv6Address from the request (used only on IPv6-enabled networks).
    #[serde(default)]
    pub requested_ip6: Option<Ipv6Addr>,
    /// IPAMConfig.LinkLocalIPs, kept and shown as docker does.
    #[serde(default)]
    pub link_local_ips: Vec<String>,
    /// EndpointSettings.Links ("name:alias") of a user network: kept and shown in inspect.
    #[serde(default)]
    pub links: Vec<String>,
    /// A requested MAC address (EndpointSettings.MacAddress, or Config.MacAddress for the
    /// container's own network); otherwise docker's address derived from the IP.
    #[serde(default)]
    pub mac_address: Option<[u8; 6]>,
    /// EndpointSettings.DriverOpts, kept and shown.
    #[serde(default)]
    pub driver_opts: BTreeMap<String, String>,
    /// Set while the container runs.
    #[serde(default)]
    pub active: Option<ActiveEndpoint>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ActiveEndpoint {
    pub endpoint_id: String,
    pub ip: Ipv4Addr,
    pub prefix: u8,
    pub gateway: Ipv4Addr,
    pub mac: [u8; 6],
    pub ifname: String,
    pub host_ifname: String,
    /// The IPv6 address, prefix length and gateway on an IPv6-enabled network.
    #[serde(default)]
    pub ipv6: Option<ActiveIpv6>,
}

impl ActiveEndpoint {
    /// The endpoint's addresses, IPv4 first (the order of docker's /etc/hosts lines).
    pub fn addresses(&self) -> Vec<IpAddr> {
        let mut out = vec![IpAddr::V4(self.ip)];
        out.extend(self.ipv6.map(|v| IpAddr::V6(v.ip)));
        out
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActiveIpv6 {
    pub ip: Ipv6Addr,
    pub prefix: u8,
    pub gateway: Ipv6Addr,
}

/// Everything networking knows about one container.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ContainerNet {
    pub container_id: String,
    pub name: String,
    pub hostname: String,
    /// Bridge-mode networks, in interface order (eth0 first).
    pub attachments: Vec<Attachment>,
    /// The pinned namespace while running.
    #[serde(default)]
    pub netns: Option<PathBuf>,
    #[serde(default)]
    pub published: Vec<Published>,
    /// `--dns` servers, forwarded to by the embedded resolver.
    #[serde(default)]
    pub dns_servers: Vec<String>,
    /// /etc/hosts lines of legacy links on the default bridge (address, "alias hostname name"),
    /// set at start and kept so a rewrite after connect or disconnect keeps them.
    #[serde(default)]
    pub link_hosts: Vec<(Ipv4Addr, String)>,
}

pub struct NetworkStore {
    root: PathBuf,
}

impl NetworkStore {
    pub fn open(data_root: &Path) -> Result<Self> {
        let root = data_root.join("networks");
        for d in [root.join("records"), root.join("containers")] {
            std::fs::create_dir_all(&d).io_context(|| format!("creating {}", d.display()))?;
        }
        Ok(NetworkStore { root })
    }

    pub fn netns_dir(&self) -> PathBuf {
        self.root.join("netns")
    }

    pub fn load_networks(&self) -> Vec<NetworkRecord> {
        load_dir(&self.root.join("records"))
    }

    pub fn load_containers(&self) -> BTreeMap<String, ContainerNet> {
        load_dir::<ContainerNet>(&self.root.join("containers"))
            .into_iter()
            .map(|c| (c.container_id.clone(), c))
            .collect()
    }

    pub fn save_network(&self, n: &NetworkRecord) -> Result<()> {
        write_json_atomic(&self.root.join("records").join(format!("{}.json", n.id)), n)
    }

    pub fn remove_network(&self, id: &str) -> Result<()> {
        let p = self.root.join("records").join(format!("{id}.json"));
        match std::fs::remove_file(&p) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                Err(e).io_context(|| format!("removing {}", p.display()))
            }
            _ => Ok(()),
        }
    }

    pub fn save_container(&self, c: &ContainerNet) -> Result<()> {
        write_json_atomic(
            &self
                .root
                .join("containers")
                .join(format!("{}.json", c.container_id)),
            c,
        )
    }

    /// Runtime state (addresses, namespace, ports) of a starting or stopping container: atomic
    /// (temporary file + rename) but not fsynced. It only has to survive the engine being
    /// killed, which keeps the page cache; a machine crash takes the containers with it, and the
    /// next start reconciles from what is really there. Saves two fsyncs on every start.
    pub fn save_container_runtime(&self, c: &ContainerNet) -> Result<()> {
        let path = self
            .root
            .join("containers")
            .join(format!("{}.json", c.container_id));
        let tmp = path.with_extension("json.tmp");
        let data = serde_json::to_vec(c)?;
        std::fs::write(&tmp, data).io_context(|| format!("writing {}", tmp.display()))?;
        std::fs::rename(&tmp, &path).io_context(|| format!("writing {}", path.display()))
    }

    pub fn remove_container(&self, id: &str) {
        let _ = std::fs::remove_file(self.root.join("containers").join(format!("{id}.json")));
    }
}

fn load_dir<T: serde::de::DeserializeOwned>(dir: &Path) -> Vec<T> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.extension().and_then(|x| x.to_str()) != Some("json") {
            continue;
        }
        match std::fs::read(&p)
            .map_err(|e| e.to_string())
            .and_then(|d| serde_json::from_slice(&d).map_err(|e| e.to_string()))
        {
            Ok(v) => out.push(v),
            Err(e) => {
                tracing::warn!(path = %p.display(), error = %e, "skipping unreadable network file")
            }
        }
    }
    out
}
