//! Network records and per-container network state under `<data-root>/networks/`, each written
//! atomically (a crash leaves the old or the new file, never half of one).

use std::collections::{BTreeMap, HashMap};
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::ipam::Ipv4Net;
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
}

impl NetworkRecord {
    pub fn subnet(&self) -> Option<Ipv4Net> {
        self.subnet.as_deref().and_then(|s| s.parse().ok())
    }

    pub fn is_bridge(&self) -> bool {
        self.driver == "bridge"
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
