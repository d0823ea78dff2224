//! `POST /networks/{id}/connect`: add a network to a container, wired live when it runs.

use std::collections::BTreeSet;
use std::path::Path;

use serde_json::Value;

use super::endpoint::fill_endpoint_config;
use super::{is_bridge_mode, NetworkService};
use crate::error::{EngineError, Result};
use crate::model::container::ContainerRecord;
use crate::network::store::{Attachment, ContainerNet};

impl NetworkService {
    /// `POST /networks/{id}/connect` for a container (running or not).
    pub fn connect(
        &self,
        key: &str,
        rec: &ContainerRecord,
        running: bool,
        dir: &Path,
        endpoint_config: &Value,
    ) -> Result<()> {
        let mode = rec.host_config.network_mode.as_str();
        if !is_bridge_mode(mode) {
            return Err(EngineError::invalid(
                "container sharing network namespace with another container or host cannot be connected to any other network",
            ));
        }
        let mut state = self.lock();
        let n = Self::find(&state, key)?.clone();
        if !n.is_bridge() {
            return Err(EngineError::invalid(format!(
                "container cannot be disconnected from host network or connected to host network (network {})",
                n.name
            )));
        }
        let mut c = state
            .containers
            .get(&rec.id)
            .cloned()
            .unwrap_or_else(|| ContainerNet {
                container_id: rec.id.clone(),
                name: rec.name.clone(),
                hostname: rec.config.hostname.clone(),
                ..Default::default()
            });
        // Already on it: dockerd refuses a running container (403, libnetwork's endpoint name
        // clash) and, for a stopped one, just replaces the endpoint settings it will start with.
        let existing = c.attachments.iter().position(|a| a.network_id == n.id);
        if existing.is_some() && running {
            return Err(EngineError::Forbidden(format!(
                "endpoint with name {} already exists in network {}",
                rec.name, n.name
            )));
        }
        if let Some(i) = existing {
            let mut att = Attachment {
                network_id: n.id.clone(),
                ..Default::default()
            };
            fill_endpoint_config(&mut att, &n, endpoint_config)?;
            let previous = std::mem::replace(&mut c.attachments[i], att);
            self.store.save_container(&c).inspect_err(|_| {
                c.attachments[i] = previous;
            })?;
            state.containers.insert(rec.id.clone(), c);
            return Ok(());
        }
        let mut att = Attachment {
            network_id: n.id.clone(),
            ..Default::default()
        };
        fill_endpoint_config(&mut att, &n, endpoint_config)?;
        let live_ns = c.netns.clone().filter(|_| running);
        if let Some(ns) = &live_ns {
            let used: BTreeSet<&str> = c
                .attachments
                .iter()
                .filter_map(|a| a.active.as_ref().map(|e| e.ifname.as_str()))
                .collect();
            let ifname = (0..)
                .map(|i| format!("eth{i}"))
                .find(|n| !used.contains(n.as_str()))
                .expect("an unused interface name");
            let has_route = c.attachments.iter().any(|a| {
                a.active.is_some()
                    && state
                        .networks
                        .get(&a.network_id)
                        .is_some_and(|n| !n.internal)
            });
            let ep = self
                .wire_one(
                    &state,
                    &rec.id,
                    &n,
                    &att,
                    ns,
                    &ifname,
                    !has_route && !n.internal,
                    false,
                )
                .inspect_err(|_| {
                    // A veth made before a later step failed would stay in the running
                    // container (and take the interface name of the next try).
                    let _ = self.host.remove_endpoint(ns, &ifname);
                })?;
            att.active = Some(ep);
        }
        c.attachments.push(att);
        state.containers.insert(rec.id.clone(), c.clone());
        if let Err(e) = self.store.save_container(&c) {
            // Roll back the live interface too.
            if let (Some(ns), Some(ep)) = (
                &live_ns,
                c.attachments.last().and_then(|a| a.active.clone()),
            ) {
                let _ = self.host.remove_endpoint(ns, &ep.ifname);
            }
            c.attachments.pop();
            state.containers.insert(rec.id.clone(), c);
            return Err(e);
        }
        drop(state);
        if let Some(ns) = &live_ns {
            self.rewrite_hosts(&rec.id, rec, dir);
            self.emit("connect", &n, Some(&rec.id));
            self.on_netns_configured(&rec.id, ns);
        }
        Ok(())
    }
}
