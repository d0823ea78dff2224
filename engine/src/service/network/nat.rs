//! The engine's nft table (masquerade, isolation, published ports), rebuilt from the state.

use super::{NetworkService, State};
use crate::error::Result;
use crate::network::nat::{NatNetwork, PortRule};

impl NetworkService {
    /// Rebuild the engine's nft table from the state.
    pub(super) fn apply_nat(&self, state: &State) -> Result<()> {
        let (nets, rules) = Self::nat_state(state);
        self.host.apply_nat(&self.opts.nft_table, &nets, &rules)
    }

    pub(super) fn nat_state(state: &State) -> (Vec<NatNetwork>, Vec<PortRule>) {
        let nets: Vec<NatNetwork> = state
            .networks
            .values()
            .filter(|n| n.is_bridge())
            .filter_map(|n| {
                Some(NatNetwork {
                    bridge: n.bridge.clone(),
                    subnet: n.subnet()?,
                    subnet6: n.ipv6_pool().and_then(|v6| v6.net()),
                    internal: n.internal,
                })
            })
            .collect();
        let mut rules = Vec::new();
        for c in state.containers.values() {
            // Published ports reach the container's first network (docker's behaviour).
            let Some((ip, ip6)) = c
                .attachments
                .iter()
                .find_map(|a| a.active.as_ref().map(|e| (e.ip, e.ipv6.map(|v| v.ip))))
            else {
                continue;
            };
            for p in &c.published {
                rules.push(PortRule {
                    proto: p.container.proto().into(),
                    host_ip: p.host_ip,
                    host_port: p.host_port,
                    container_ip: ip,
                    container_ip6: ip6,
                    container_port: p.container.port,
                });
            }
        }
        (nets, rules)
    }

    /// Linux names of every bridge network's bridge (the foreign FORWARD policy opens them).
    pub(super) fn bridge_names(state: &State) -> Vec<String> {
        state
            .networks
            .values()
            .filter(|n| n.is_bridge())
            .map(|n| n.bridge.clone())
            .collect()
    }
}
