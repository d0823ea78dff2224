//! `POST /networks/{id}/disconnect`: take a network from a container, live when it runs.

use std::path::Path;

use super::NetworkService;
use crate::error::{EngineError, Result};
use crate::model::container::ContainerRecord;

impl NetworkService {
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
            self.host.remove_endpoint(ns, &ep.ifname)?;
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
}
