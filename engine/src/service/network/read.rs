//! Read-only snapshots of the state for the API's JSON (`api::network_views`): who is attached
//! where, with which endpoint. Each is taken under one lock, so it is consistent.

use std::net::Ipv4Addr;

use super::NetworkService;
use crate::network::store::{ActiveEndpoint, Attachment, ContainerNet, NetworkRecord};

/// A container's networking: its record (namespace, published ports) and each attachment with its
/// network, in attachment order (attachments to networks that no longer exist are left out).
pub struct ContainerNetworking {
    pub net: ContainerNet,
    pub attachments: Vec<(Attachment, NetworkRecord)>,
}

/// A running container's endpoint on one network.
pub struct NetworkMember {
    pub container_id: String,
    /// Container name without '/'.
    pub name: String,
    pub endpoint: ActiveEndpoint,
}

impl NetworkService {
    /// What networking knows of a container; `None` when nothing (host, none).
    pub fn container_networking(&self, container_id: &str) -> Option<ContainerNetworking> {
        let state = self.lock();
        let c = state.containers.get(container_id)?;
        let attachments = c
            .attachments
            .iter()
            .filter_map(|a| Some((a.clone(), state.networks.get(&a.network_id)?.clone())))
            .collect();
        Some(ContainerNetworking {
            net: c.clone(),
            attachments,
        })
    }

    /// The container's address on the default bridge while it runs (what a legacy link names).
    pub fn default_bridge_ip(&self, container_id: &str) -> Option<Ipv4Addr> {
        let state = self.lock();
        let c = state.containers.get(container_id)?;
        c.attachments
            .iter()
            .filter(|a| {
                state
                    .networks
                    .get(&a.network_id)
                    .is_some_and(|n| n.name == "bridge")
            })
            .find_map(|a| a.active.as_ref().map(|e| e.ip))
    }

    /// The active endpoints on a network, by container id.
    pub fn members(&self, network_id: &str) -> Vec<NetworkMember> {
        let state = self.lock();
        let mut out = Vec::new();
        for c in state.containers.values() {
            for a in c.attachments.iter().filter(|a| a.network_id == network_id) {
                if let Some(ep) = &a.active {
                    out.push(NetworkMember {
                        container_id: c.container_id.clone(),
                        name: c.name.clone(),
                        endpoint: ep.clone(),
                    });
                }
            }
        }
        out
    }
}
