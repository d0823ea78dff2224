//! The /etc/hosts and /etc/resolv.conf a container sees, written at start and rewritten when it
//! joins or leaves a network.

use std::net::{IpAddr, Ipv4Addr};
use std::path::Path;

use super::NetworkService;
use crate::error::{EngineError, Result};
use crate::model::container::ContainerRecord;
use crate::network::etc::{self, DnsConfig};
use crate::network::store::ContainerNet;
use crate::runtime::spec::files;

impl NetworkService {
    pub(super) fn write_etc(
        &self,
        c: &ContainerNet,
        rec: &ContainerRecord,
        dir: &Path,
        own_ips: &[IpAddr],
        gateway: Option<Ipv4Addr>,
        embedded_dns: bool,
    ) -> Result<()> {
        let dns = DnsConfig::from_host_config(&rec.host_config.extra);
        let hosts = etc::hosts(
            &c.hostname,
            own_ips,
            &dns.extra_hosts,
            &c.link_hosts,
            gateway,
        );
        let host_resolv = self.host.host_resolv_conf();
        let resolv = etc::resolv_conf(&host_resolv, &dns, embedded_dns);
        // Written in place (not renamed): the files are bind-mounted into a running container.
        for (f, content) in [(files::HOSTS, hosts), (files::RESOLV_CONF, resolv)] {
            std::fs::write(dir.join(f), content).map_err(|e| {
                EngineError::internal(format!("writing {f} for container {}: {e}", rec.id))
            })?;
        }
        Ok(())
    }

    /// A legacy link was removed: drop its hosts line and rewrite the running container's file.
    pub fn drop_link_host(&self, id: &str, alias: &str, rec: &ContainerRecord, dir: &Path) {
        {
            let mut state = self.lock();
            let Some(c) = state.containers.get_mut(id) else {
                return;
            };
            c.link_hosts
                .retain(|(_, names)| names.split(' ').next() != Some(alias));
            if c.netns.is_none() {
                return;
            }
        }
        self.rewrite_hosts(id, rec, dir);
    }

    /// Rewrite a container's /etc/hosts from the state (after connect, disconnect, link removal).
    pub fn rewrite_hosts(&self, id: &str, rec: &ContainerRecord, dir: &Path) {
        let state = self.lock();
        let Some(c) = state.containers.get(id) else {
            return;
        };
        let ips: Vec<IpAddr> = c
            .attachments
            .iter()
            .filter_map(|a| a.active.as_ref())
            .flat_map(|e| e.addresses())
            .collect();
        let gw = c
            .attachments
            .iter()
            .find_map(|a| a.active.as_ref().map(|e| e.gateway));
        let dns = DnsConfig::from_host_config(&rec.host_config.extra);
        let hosts = etc::hosts(&c.hostname, &ips, &dns.extra_hosts, &c.link_hosts, gw);
        if let Err(e) = std::fs::write(dir.join(files::HOSTS), hosts) {
            tracing::warn!(%id, error = %e, "rewriting /etc/hosts");
        }
    }
}
