//! Start of a bridge-mode container: its namespace, one endpoint per network, published ports,
//! DNAT rules and /etc files, all undone when any step fails.

use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};

use super::{default_mode, is_bridge_mode, NetworkService, State};
use crate::error::{EngineError, Result};
use crate::model::container::ContainerRecord;
use crate::network::etc::DnsConfig;
use crate::network::ports::{self, Published};
use crate::network::store::{Attachment, ContainerNet, NetworkRecord};

impl NetworkService {
    /// Give a starting bridge-mode container its namespace: create and pin it, reserve published
    /// ports, allocate an address on each network, wire a veth per network, write DNAT rules,
    /// /etc/hosts and resolv.conf. Returns the namespace path for the runtime spec, or None when
    /// the container does not use bridge networking. On error nothing is left behind.
    pub fn attach(&self, rec: &ContainerRecord, dir: &Path) -> Result<Option<PathBuf>> {
        self.attach_linked(rec, dir, Vec::new())
    }

    /// `attach` with the /etc/hosts lines of the container's legacy links (address, names).
    pub fn attach_linked(
        &self,
        rec: &ContainerRecord,
        dir: &Path,
        link_hosts: Vec<(Ipv4Addr, String)>,
    ) -> Result<Option<PathBuf>> {
        let mode = rec.host_config.network_mode.as_str();
        if !is_bridge_mode(mode) {
            return Ok(None);
        }
        // A leftover from a crash between start and exit bookkeeping.
        self.release(&rec.id);
        let mut state = self.lock();
        if !state.containers.contains_key(&rec.id) {
            // Created before networking existed, or its state file was lost: use its mode.
            let net = if default_mode(mode) {
                Self::find(&state, "bridge")?
            } else {
                Self::find(&state, mode)?
            };
            if !net.is_bridge() {
                return Ok(None);
            }
            let cn = ContainerNet {
                container_id: rec.id.clone(),
                attachments: vec![Attachment {
                    network_id: net.id.clone(),
                    ..Default::default()
                }],
                ..Default::default()
            };
            state.containers.insert(rec.id.clone(), cn);
        }
        if let Some(c) = state.containers.get_mut(&rec.id) {
            c.link_hosts = link_hosts;
        }
        let t0 = std::time::Instant::now();
        let reqs = ports::requested(&rec.host_config.extra, rec.config.exposed_ports.as_ref())?;
        let (published, fds) = self.host.reserve_ports(&reqs)?;
        let ns_path = self.store.netns_dir().join(&rec.id);
        self.host.create_netns(&ns_path)?;
        let t1 = t0.elapsed();
        match self.wire_all(&mut state, rec, &ns_path, published, dir) {
            Ok(()) => {
                tracing::debug!(id = %rec.id, netns_us = t1.as_micros() as u64, total_us = t0.elapsed().as_micros() as u64, "container networking configured");
                state.port_fds.insert(rec.id.clone(), fds);
                let nets: Vec<NetworkRecord> = {
                    let c = &state.containers[&rec.id];
                    c.attachments
                        .iter()
                        .filter_map(|a| state.networks.get(&a.network_id).cloned())
                        .collect()
                };
                drop(state);
                for n in &nets {
                    self.emit("connect", n, Some(&rec.id));
                }
                self.on_netns_configured(&rec.id, &ns_path);
                Ok(Some(ns_path))
            }
            Err(e) => {
                // Undo: the host veth ends first (deterministic), then the namespace.
                let mut had_ports = false;
                if let Some(c) = state.containers.get_mut(&rec.id) {
                    for a in &mut c.attachments {
                        if let Some(ep) = a.active.take() {
                            let _ = self.host.delete_link(&ep.host_ifname);
                        }
                    }
                    c.netns = None;
                    had_ports = !c.published.is_empty();
                    c.published.clear();
                }
                self.host.remove_netns(&ns_path);
                // The DNAT rules were written before the failing step: take them back.
                if had_ports {
                    if let Err(e) = self.apply_nat(&state) {
                        tracing::error!(id = %rec.id, error = %e, "removing published ports");
                    }
                }
                drop(fds);
                Err(e)
            }
        }
    }

    pub(super) fn wire_all(
        &self,
        state: &mut State,
        rec: &ContainerRecord,
        ns_path: &Path,
        published: Vec<Published>,
        dir: &Path,
    ) -> Result<()> {
        let mut c = state.containers[&rec.id].clone();
        c.name = rec.name.clone();
        c.hostname = rec.config.hostname.clone();
        c.dns_servers = DnsConfig::from_host_config(&rec.host_config.extra).servers;
        let mut default_route_set = false;
        let mut own_ips = Vec::new();
        let mut first_gateway = None;
        let mut embedded_dns = false;
        for i in 0..c.attachments.len() {
            let a = c.attachments[i].clone();
            let n = state.networks.get(&a.network_id).cloned().ok_or_else(|| {
                EngineError::not_found(format!("network {} not found", a.network_id))
            })?;
            let with_route = !n.internal && !default_route_set;
            let ep = self.wire_one(
                state,
                &rec.id,
                &n,
                &a,
                ns_path,
                &format!("eth{i}"),
                with_route,
                i == 0,
            )?;
            default_route_set |= with_route;
            own_ips.extend(ep.addresses());
            first_gateway.get_or_insert(ep.gateway);
            embedded_dns |= n.name != "bridge";
            c.attachments[i].active = Some(ep);
            // Visible to the next attachment's IPAM.
            state.containers.insert(rec.id.clone(), c.clone());
        }
        c.netns = Some(ns_path.to_owned());
        c.published = published;
        state.containers.insert(rec.id.clone(), c.clone());
        if !c.published.is_empty() {
            self.apply_nat(state)?;
        }
        self.write_etc(&c, rec, dir, &own_ips, first_gateway, embedded_dns)?;
        self.store.save_container_runtime(&c)
    }
}
