//! IPAM of one network: which address a container's endpoint gets. Pure over the state, so the
//! rules (the gateway, the auxiliary addresses and every other running member's address are taken;
//! a requested address must be free; the lowest free host address otherwise, from the IPRange when
//! the network has one) are tested without a host.

use std::collections::BTreeSet;
use std::net::{Ipv4Addr, Ipv6Addr};

use super::State;
use crate::error::{EngineError, Result};
use crate::network::ipam::{self, Ipv4Net};
use crate::network::ipam6::{self, Ipv6Net};
use crate::network::store::{ActiveIpv6, Ipv6Config, NetworkRecord};

/// The address for `container_id` on network `n` (subnet `subnet`): `requested` when free, else
/// the lowest free host address. The container's own earlier endpoint on `n` does not count as
/// taken.
pub(super) fn allocate_address(
    state: &State,
    container_id: &str,
    n: &NetworkRecord,
    subnet: &Ipv4Net,
    requested: Option<Ipv4Addr>,
) -> Result<Ipv4Addr> {
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
    used.extend(n.aux_addresses.values().copied());
    Ok(match requested {
        Some(ip) if used.contains(&ip) => {
            return Err(EngineError::conflict(format!(
                "Address already in use: {ip} on network {}",
                n.name
            )))
        }
        Some(ip) => ip,
        None => match n.ip_range.as_deref().map(ipam::parse_range).transpose()? {
            Some(range) => ipam::pick_in_range(subnet, &range, &used),
            None => ipam::pick_address(subnet, &used),
        }
        .ok_or_else(|| {
            EngineError::conflict(format!("no available IPv4 addresses on network {}", n.name))
        })?,
    })
}

/// The IPv6 address for `container_id` on the IPv6-enabled network `n` whose pool is `pool`:
/// `requested` when inside the subnet and free (dockerd's 500 and 403 otherwise, raised when
/// the endpoint is made as there), else the lowest free address of the IPRange or subnet.
pub(super) fn allocate_address6(
    state: &State,
    container_id: &str,
    n: &NetworkRecord,
    pool: &Ipv6Config,
    requested: Option<Ipv6Addr>,
) -> Result<ActiveIpv6> {
    let (Some(subnet), Some(gateway)) = (pool.net(), pool.gateway_addr()) else {
        return Err(EngineError::internal(format!(
            "network {} has an unusable IPv6 subnet {}",
            n.name, pool.subnet
        )));
    };
    let mut used: BTreeSet<Ipv6Addr> = state
        .containers
        .values()
        .filter(|c| c.container_id != container_id)
        .flat_map(|c| c.attachments.iter())
        .filter(|x| x.network_id == n.id)
        .filter_map(|x| x.active.as_ref()?.ipv6.map(|v| v.ip))
        .collect();
    used.insert(gateway);
    let ip = match requested {
        Some(ip) if !subnet.contains(ip) => {
            return Err(EngineError::internal(format!(
                "Invalid address {ip}: It does not belong to any of this network's subnets"
            )))
        }
        Some(ip) if used.contains(&ip) || ip == subnet.addr() => {
            return Err(EngineError::Forbidden("Address already in use".into()))
        }
        Some(ip) => ip,
        None => {
            let within = match &pool.ip_range {
                Some(r) => Ipv6Net::parse_range(r, &subnet)?,
                None => subnet,
            };
            ipam6::pick_address(&subnet, &within, &used).ok_or_else(|| {
                EngineError::conflict(format!("no available IPv6 addresses on network {}", n.name))
            })?
        }
    };
    Ok(ActiveIpv6 {
        ip,
        prefix: subnet.prefix(),
        gateway,
    })
}
