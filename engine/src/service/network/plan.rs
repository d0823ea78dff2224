//! A container's networking from create to removal, before and after it runs: validate and
//! record the create request's networks, follow renames, forget the container when it goes.

use serde_json::Value;

use super::endpoint::{fill_endpoint_config, parse_mac};
use super::{default_mode, is_bridge_mode, NetworkService};
use crate::error::{EngineError, Result};
use crate::model::container::{ContainerRecord, CreateRequest};
use crate::network::etc::DnsConfig;
use crate::network::ports;
use crate::network::store::{Attachment, ContainerNet};

impl NetworkService {
    /// Validate a create request's networking (unknown network → 404, malformed ports, DNS or
    /// hosts → 400) and return the state to record once the container exists.
    pub fn plan_create(&self, req: &CreateRequest) -> Result<Option<ContainerNet>> {
        let host = req.host_config.clone().unwrap_or_default();
        let mode = host.network_mode.as_str();
        ports::requested(&host.extra, req.config.exposed_ports.as_ref())?;
        for p in req.config.exposed_ports.iter().flat_map(|m| m.keys()) {
            ports::ContainerPort::parse(p)?;
        }
        DnsConfig::from_host_config(&host.extra).validate()?;
        if mode.starts_with("container:") {
            // The container service checks it and joins the target's namespace at start.
            return Ok(None);
        }
        let state = self.lock();
        let net = if default_mode(mode) {
            Self::find(&state, "bridge")?.clone()
        } else {
            Self::find(&state, mode)?.clone()
        };
        if !is_bridge_mode(mode) || !net.is_bridge() {
            return Ok(None);
        }
        // NetworkingConfig.EndpointsConfig: aliases and a fixed address per network.
        let endpoints = req
            .networking_config
            .as_ref()
            .and_then(|v| v.get("EndpointsConfig"))
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        let mut attachments = vec![Attachment {
            network_id: net.id.clone(),
            ..Default::default()
        }];
        for (key, cfg) in &endpoints {
            // The docker CLI keys the endpoint of the container's own mode, "default" included.
            let key = if default_mode(key) {
                "bridge"
            } else {
                key.as_str()
            };
            let n = Self::find(&state, key)?;
            if !n.is_bridge() {
                return Err(EngineError::invalid(format!(
                    "container cannot be connected to network {} (driver {})",
                    n.name, n.driver
                )));
            }
            let att = match attachments.iter_mut().find(|a| a.network_id == n.id) {
                Some(a) => a,
                None => {
                    attachments.push(Attachment {
                        network_id: n.id.clone(),
                        ..Default::default()
                    });
                    attachments.last_mut().expect("just pushed")
                }
            };
            fill_endpoint_config(att, n, cfg)?;
        }
        // Config.MacAddress: the address of the endpoint on the container's own network, unless
        // its EndpointsConfig entry names one.
        if let Some(mac) = req
            .config
            .extra
            .get("MacAddress")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
        {
            let mac = parse_mac(mac)?;
            attachments[0].mac_address.get_or_insert(mac);
        }
        Ok(Some(ContainerNet {
            container_id: String::new(),
            name: String::new(),
            hostname: String::new(),
            attachments,
            ..Default::default()
        }))
    }

    /// Record the planned state of a container that now exists.
    pub fn commit_create(&self, mut plan: ContainerNet, rec: &ContainerRecord) -> Result<()> {
        plan.container_id = rec.id.clone();
        plan.name = rec.name.clone();
        plan.hostname = rec.config.hostname.clone();
        self.store.save_container(&plan)?;
        self.lock().containers.insert(rec.id.clone(), plan);
        Ok(())
    }

    pub fn renamed(&self, id: &str, name: &str) {
        let mut state = self.lock();
        if let Some(c) = state.containers.get_mut(id) {
            c.name = name.to_owned();
            let c = c.clone();
            if let Err(e) = self.store.save_container(&c) {
                tracing::warn!(%id, error = %e, "saving network state after rename");
            }
        }
    }

    /// The container is gone: forget its attachments.
    pub fn forget(&self, id: &str) {
        self.release(id);
        self.lock().containers.remove(id);
        self.store.remove_container(id);
    }
}
