//! IPAM of one network: which address a container's endpoint gets. Pure over the state, so the
//! rules (the gateway, the auxiliary addresses and every other running member's address are taken;
//! a requested address must be free; the lowest free host address otherwise, from the IPRange when
//! the network has one) are tested without a host.

use std::collections::BTreeSet;
use std::net::Ipv4Addr;

use super::State;
use crate::error::{EngineError, Result};
use crate::network::ipam::{self, Ipv4Net};
use crate::network::store::NetworkRecord;

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
