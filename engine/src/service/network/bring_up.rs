//! The host side of networking: IP forwarding and each network's bridge at engine start, the error
//! `docker info` reports when that failed, and the teardown of every bridge and the nft table.

use std::path::Path;

use super::host::{LinuxHost, NetworkHost};
use super::NetworkService;
use crate::error::{EngineError, Result};
use crate::network::store::{NetworkRecord, NetworkStore};
use crate::network::NetworkOptions;

impl NetworkService {
    /// The host side of networking: IP forwarding and every network's bridge (after a reboot none
    /// exists). Runs in the engine's background start, before containers are reconciled; API
    /// requests that need it wait for that (the router's readiness gate).
    pub fn bring_up_host(&self) -> Result<()> {
        // Endpoint records are read here, not at open: 200 containers' files would delay the
        // engine's first answer.
        let containers = self.store.load_containers();
        self.lock().containers = containers;
        let result = (|| {
            self.host.sysctl("net/ipv4/ip_forward", "1")?;
            let nets: Vec<NetworkRecord> = self.lock().networks.values().cloned().collect();
            for n in nets.iter().filter(|n| n.is_bridge()) {
                self.bring_up(n, self.mtu_of(n))?;
            }
            Ok(())
        })();
        *self.host_error.lock().unwrap_or_else(|p| p.into_inner()) =
            result.as_ref().err().map(|e: &EngineError| e.to_string());
        result
    }

    /// Why bridge networking could not be set up on this host, if it could not (`docker info`).
    pub fn host_error(&self) -> Option<String> {
        self.host_error
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    pub(super) fn bring_up(&self, n: &NetworkRecord, mtu: u32) -> Result<()> {
        let (Some(subnet), Some(gw)) = (n.subnet(), n.gateway) else {
            return Err(EngineError::internal(format!(
                "network {} has no subnet",
                n.name
            )));
        };
        self.host
            .ensure_bridge(&n.bridge, gw, subnet.prefix(), mtu)?;
        if let Some(v6) = n.ipv6_pool() {
            let (Some(net), Some(gw6)) = (v6.net(), v6.gateway_addr()) else {
                return Err(EngineError::internal(format!(
                    "network {} has an unusable IPv6 subnet {}",
                    n.name, v6.subnet
                )));
            };
            self.host.bridge_ipv6(&n.bridge, gw6, net.prefix())?;
        }
        Ok(())
    }

    /// Remove every bridge and the nft table of this engine (test harness teardown, uninstall).
    pub fn teardown_host_networking(data_root: &Path, opts: &NetworkOptions) -> Result<()> {
        let host = LinuxHost;
        let store = NetworkStore::open(data_root)?;
        for c in store.load_containers().values() {
            if let Some(ns) = &c.netns {
                host.remove_netns(ns);
            }
            for a in &c.attachments {
                if let Some(ep) = &a.active {
                    let _ = host.delete_link(&ep.host_ifname);
                }
            }
        }
        let mut bridges = vec![opts.bridge_name.clone()];
        for n in store.load_networks() {
            if n.is_bridge() && !n.bridge.is_empty() {
                bridges.push(n.bridge);
            }
        }
        bridges.sort();
        bridges.dedup();
        for b in bridges {
            host.delete_link(&b)?;
        }
        host.close_foreign_forward(&opts.nft_table);
        host.delete_nat_table(&opts.nft_table)
    }
}
