//! What the embedded DNS resolver may answer for a container: its user networks, their running
//! members and the container's own link aliases there.

use std::net::{Ipv4Addr, Ipv6Addr};

use super::NetworkService;
use crate::network::etc::{self, DnsConfig};

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
    /// The asking container's EndpointSettings.Links on this network ("name:alias"): the alias
    /// resolves to that member for this container only, as in docker.
    pub links: Vec<String>,
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
    /// Its IPv6 address on an IPv6-enabled network.
    pub ip6: Option<Ipv6Addr>,
}

impl NetworkService {
    /// For the embedded DNS resolver: the container's networks (user-defined bridges only; the
    /// default bridge has no name resolution, as in docker) with every running member.
    pub fn dns_scope(&self, container_id: &str) -> Vec<NetworkScope> {
        let state = self.lock();
        let Some(c) = state.containers.get(container_id) else {
            return vec![];
        };
        let host_resolv = self.host.host_resolv_conf();
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
                                ip6: e.ipv6.map(|v| v.ip),
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
                links: a.links.clone(),
                upstream_servers: upstream,
            });
        }
        out
    }
}
