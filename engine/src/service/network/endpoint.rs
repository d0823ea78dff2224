//! One endpoint: an address from the network's IPAM (`ipam`) and a veth into the container's namespace;
//! and the `EndpointsConfig` (aliases, fixed address, MAC address, links, driver options,
//! link-local addresses) that shapes it.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::Path;

use serde_json::Value;

use super::ipam::{allocate_address, allocate_address6};
use super::{NetworkService, State};
use crate::error::{EngineError, Result};
use crate::network::link::EndpointLink;
use crate::network::mac_for;
use crate::network::store::{ActiveEndpoint, Attachment, NetworkRecord};

fn strings(cfg: &Value, pointer: &str) -> Vec<String> {
    cfg.pointer(pointer)
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// A MAC address as docker's clients write it ("02:42:ac:11:00:99"); 400 otherwise.
pub(super) fn parse_mac(s: &str) -> Result<[u8; 6]> {
    let bad = || EngineError::invalid(format!("invalid MAC address: {s}"));
    let parts: Vec<&str> = s.split([':', '-']).collect();
    if parts.len() != 6 {
        return Err(bad());
    }
    let mut mac = [0u8; 6];
    for (b, p) in mac.iter_mut().zip(&parts) {
        if p.len() != 2 {
            return Err(bad());
        }
        *b = u8::from_str_radix(p, 16).map_err(|_| bad())?;
    }
    Ok(mac)
}

/// Apply one `EndpointsConfig` entry (Aliases, IPAMConfig.IPv4Address and LinkLocalIPs, Links,
/// MacAddress, DriverOpts) to an attachment.
pub(super) fn fill_endpoint_config(
    att: &mut Attachment,
    n: &NetworkRecord,
    cfg: &Value,
) -> Result<()> {
    let aliases = strings(cfg, "/Aliases");
    att.links = strings(cfg, "/Links");
    att.link_local_ips = strings(cfg, "/IPAMConfig/LinkLocalIPs");
    for ip in &att.link_local_ips {
        if ip.parse::<std::net::IpAddr>().is_err() {
            return Err(EngineError::invalid(format!(
                "invalid link-local IP address: {ip}"
            )));
        }
    }
    if let Some(opts) = cfg.get("DriverOpts").and_then(Value::as_object) {
        att.driver_opts = opts
            .iter()
            .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
            .collect();
    }
    if let Some(mac) = cfg
        .get("MacAddress")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
    {
        att.mac_address = Some(parse_mac(mac)?);
    }
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
        .pointer("/IPAMConfig/IPv6Address")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
    {
        if n.name == "bridge" {
            return Err(EngineError::invalid(
                "user specified IP address is supported on user defined networks only",
            ));
        }
        // Checked against the subnet when the endpoint is made, as dockerd does (and ignored on a
        // network without IPv6).
        att.requested_ip6 = Some(
            ip.parse::<Ipv6Addr>()
                .map_err(|_| EngineError::invalid(format!("invalid IPv6 address: {ip}")))?,
        );
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

impl NetworkService {
    #[allow(clippy::too_many_arguments)]
    pub(super) fn wire_one(
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
        let ip = allocate_address(state, container_id, n, &subnet, a.requested_ip)?;
        let ipv6 = match n.ipv6_pool() {
            Some(pool) => Some(allocate_address6(
                state,
                container_id,
                n,
                pool,
                a.requested_ip6,
            )?),
            None => None,
        };
        let host_ifname = format!("veth{}", &crate::util::new_id()[..7]);
        let mac = a.mac_address.unwrap_or_else(|| mac_for(ip));
        self.host.setup_endpoint(
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
                ipv6: ipv6.map(|v| (v.ip, v.prefix)),
                default_gateway6: ipv6.filter(|_| default_route).map(|v| v.gateway),
                link_local: link_local_addresses(&a.link_local_ips),
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
            ipv6,
        })
    }
}

/// IPAMConfig.LinkLocalIPs as docker configures them: IPv4 ones in 169.254/16, IPv6 ones in
/// fe80::/64 (validated when the endpoint config was taken).
fn link_local_addresses(ips: &[String]) -> Vec<(IpAddr, u8)> {
    ips.iter()
        .filter_map(|s| s.parse::<IpAddr>().ok())
        .map(|ip| (ip, if ip.is_ipv4() { 16 } else { 64 }))
        .collect()
}
