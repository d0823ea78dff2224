//! The container stopped: take back its namespace, addresses, port reservations and DNAT rules.

use super::NetworkService;

impl NetworkService {
    /// The container stopped: drop its namespace, addresses, port reservations and DNAT rules.
    /// Idempotent.
    pub fn release(&self, id: &str) {
        let state = self.lock();
        let Some(c) = state.containers.get(id).cloned() else {
            return;
        };
        let Some(ns_path) = c.netns.clone() else {
            return;
        };
        drop(state);
        let t0 = std::time::Instant::now();
        self.on_netns_teardown(id, &ns_path);
        let mut state = self.lock();
        let mut c = c;
        let mut nets = Vec::new();
        for a in &mut c.attachments {
            if a.active.take().is_some() {
                // The veth pair goes with the namespace: the kernel destroys it in the
                // background once the last reference is dropped. Deleting it here would cost
                // an RCU grace period on every container exit.
                if let Some(n) = state.networks.get(&a.network_id) {
                    nets.push(n.clone());
                }
            }
        }
        self.host.remove_netns(&ns_path);
        tracing::debug!(%id, total_us = t0.elapsed().as_micros() as u64, "container networking released");
        let had_ports = !c.published.is_empty();
        c.published.clear();
        c.netns = None;
        state.port_fds.remove(id);
        state.containers.insert(id.to_owned(), c.clone());
        if had_ports {
            if let Err(e) = self.apply_nat(&state) {
                tracing::error!(%id, error = %e, "removing published ports");
            }
        }
        drop(state);
        if let Err(e) = self.store.save_container_runtime(&c) {
            tracing::warn!(%id, error = %e, "saving network state");
        }
        for n in &nets {
            self.emit("disconnect", n, Some(id));
        }
    }
}
