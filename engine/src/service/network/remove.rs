//! `DELETE /networks/{id}`: refused for predefined networks and networks with active endpoints.

use super::{NetworkService, State};
use crate::error::{EngineError, Result};

impl NetworkService {
    /// Containers (ids) attached to a network, running or not.
    pub(super) fn users(state: &State, network_id: &str) -> Vec<String> {
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
        // The bridge first: a kill in between leaves a listed network whose bridge the next
        // engine start recreates, never a bridge no record names.
        if let Err(e) = self.host.delete_link(&n.bridge) {
            tracing::warn!(bridge = %n.bridge, error = %e, "deleting bridge");
        }
        self.store.remove_network(&n.id)?;
        state.networks.remove(&n.id);
        if let Err(e) = self.apply_nat(&state) {
            tracing::error!(error = %e, "rebuilding nft table");
        }
        drop(state);
        self.emit("destroy", &n, None);
        Ok(())
    }
}
