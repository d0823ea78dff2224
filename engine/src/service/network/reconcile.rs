//! After an engine restart: settle the networking of containers with what still runs, so nothing
//! leaks across crashes and reboots.

use std::collections::BTreeSet;

use super::NetworkService;
use crate::network::ports;
use crate::network::store::ContainerNet;

impl NetworkService {
    /// After the container service has settled which containers still run: re-reserve their
    /// ports, drop the networking of those that do not run any more, remove stray namespaces
    /// and veths, and rebuild the nft table, so nothing leaks across crashes and reboots.
    pub fn reconcile(&self, running: &BTreeSet<String>, existing: &BTreeSet<String>) {
        let ids: Vec<String> = self.lock().containers.keys().cloned().collect();
        for id in ids {
            if !existing.contains(&id) {
                self.forget(&id);
            } else if !running.contains(&id) {
                self.release(&id);
            }
        }
        let mut state = self.lock();
        let mut keep = BTreeSet::new();
        let mut live = Vec::new();
        let list: Vec<ContainerNet> = state.containers.values().cloned().collect();
        for c in list {
            let Some(ns) = &c.netns else { continue };
            if !self.host.netns_pinned(ns) {
                // A reboot took the namespace away although the record says running; the
                // container service will find the container dead.
                continue;
            }
            keep.insert(ns.clone());
            live.push((c.container_id.clone(), ns.clone()));
            let reqs: Vec<ports::Requested> = c
                .published
                .iter()
                .map(|p| ports::Requested {
                    container: p.container,
                    host_ip: p.host_ip,
                    host_ports: (p.host_port, p.host_port),
                })
                .collect();
            match self.host.reserve_ports(&reqs) {
                Ok((_, fds)) => {
                    state.port_fds.insert(c.container_id.clone(), fds);
                }
                Err(e) => {
                    tracing::warn!(id = %c.container_id, error = %e, "re-reserving published ports")
                }
            }
        }
        if let Ok(entries) = std::fs::read_dir(self.store.netns_dir()) {
            for e in entries.flatten() {
                if !keep.contains(&e.path()) {
                    tracing::info!(path = %e.path().display(), "removing stray network namespace");
                    self.host.remove_netns(&e.path());
                }
            }
        }
        if let Err(e) = self.apply_nat(&state) {
            tracing::error!(error = %e, "rebuilding the nft table");
        }
        let bridges = Self::bridge_names(&state);
        drop(state);
        // Listeners that lived in the previous engine (the embedded DNS) come back.
        for (id, ns) in &live {
            self.on_netns_configured(id, ns);
        }
        if let Err(e) = self
            .host
            .open_foreign_forward(&self.opts.nft_table, &bridges)
        {
            tracing::warn!(error = %e, "could not open a foreign FORWARD drop policy for our bridges");
        }
    }
}
