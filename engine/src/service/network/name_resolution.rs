//! Wires the embedded DNS resolver (`network::dns`) to the network service: the resolver's view of
//! a container comes from `NetworkService::dns_scope`, and its listeners follow the container's
//! namespace through the `NetnsObserver` hooks (start, connect, disconnect, teardown, and the
//! engine's reconcile after a restart).

use std::net::{IpAddr, SocketAddr};
use std::path::Path;
use std::sync::{Arc, Weak};

use crate::network::dns::{ContainerDnsView, DnsService, DnsViewSource, HostRecord};
use crate::service::network::{NetnsObserver, NetworkScope, NetworkService};

/// Docker's short container id, also resolvable on user networks.
const SHORT_ID: usize = 12;

/// Install the resolver on `networks`. Must run inside the engine's runtime.
pub fn install(networks: &Arc<NetworkService>) -> Arc<DnsService> {
    let dns = DnsService::new(Arc::new(ScopeSource(Arc::downgrade(networks))));
    networks.set_observer(Arc::new(ResolverFollower(dns.clone())));
    dns
}

/// Reads views from the network service. Weak: the service owns the observer that owns the resolver
/// that owns this source.
struct ScopeSource(Weak<NetworkService>);

impl DnsViewSource for ScopeSource {
    fn dns_view(&self, container_id: &str) -> Option<ContainerDnsView> {
        let scopes = self.0.upgrade()?.dns_scope(container_id);
        (!scopes.is_empty()).then(|| view_of(&scopes))
    }
}

/// What a container may resolve: every member of each of its user networks by name, alias, short id
/// and `name.network`; other names go upstream only if one of its networks is not internal.
pub fn view_of(scopes: &[NetworkScope]) -> ContainerDnsView {
    let mut view = ContainerDnsView::default();
    for scope in scopes {
        let network = scope.network_name.to_ascii_lowercase();
        for m in &scope.members {
            let name = m.name.to_ascii_lowercase();
            let mut names = vec![name.clone(), format!("{name}.{network}")];
            names.extend(m.aliases.iter().map(|a| a.to_ascii_lowercase()));
            if let Some(short) = m.container_id.get(..SHORT_ID) {
                names.push(short.to_string());
            }
            names.dedup();
            view.records.push(HostRecord {
                names,
                addr: m.ip,
                addr6: m.ip6,
                ptr_name: format!("{name}.{network}"),
            });
        }
        // Legacy links of the asking container ("name:alias"): the alias names that member, for
        // this container only (docker's per-endpoint link aliases).
        for link in &scope.links {
            let (target, alias) = link.split_once(':').unwrap_or((link, link));
            let target = target.trim_start_matches('/').to_ascii_lowercase();
            let alias = alias.trim_start_matches('/').to_ascii_lowercase();
            if let Some(m) = scope
                .members
                .iter()
                .find(|m| m.name.to_ascii_lowercase() == target)
            {
                view.records.push(HostRecord {
                    names: vec![alias],
                    addr: m.ip,
                    addr6: m.ip6,
                    ptr_name: format!("{target}.{network}"),
                });
            }
        }
        if !scope.internal {
            for server in &scope.upstream_servers {
                // Scoped IPv6 servers (fe80::1%eth0) cannot be reached from the engine as written.
                if let Ok(ip) = server.parse::<IpAddr>() {
                    let addr = SocketAddr::new(ip, 53);
                    if !view.upstream.contains(&addr) {
                        view.upstream.push(addr);
                    }
                }
            }
        }
    }
    view
}

/// Attaches the resolver's sockets when a container's namespace is configured on a user network and
/// detaches them when it leaves its last one or the namespace goes away.
struct ResolverFollower(Arc<DnsService>);

impl NetnsObserver for ResolverFollower {
    fn netns_configured(&self, container_id: &str, netns: &Path) {
        if !self.0.has_view(container_id) {
            // Not (or no longer) on a user-defined network: no resolver, as on docker's bridge.
            self.0.detach(container_id);
            return;
        }
        if let Err(e) = self.0.attach(container_id, netns) {
            // The container still runs; only name resolution is missing. Say so loudly.
            tracing::warn!(container = container_id, error = %e, "embedded DNS not attached");
        }
    }

    fn netns_teardown(&self, container_id: &str, _netns: &Path) {
        self.0.detach(container_id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::service::network::ScopeMember;
    use std::net::Ipv4Addr;

    fn member(id: &str, name: &str, aliases: &[&str], ip: [u8; 4]) -> ScopeMember {
        ScopeMember {
            container_id: id.into(),
            name: name.into(),
            hostname: "h".into(),
            aliases: aliases.iter().map(|s| s.to_string()).collect(),
            ip: Ipv4Addr::from(ip),
            ip6: None,
        }
    }

    fn scope(name: &str, internal: bool, members: Vec<ScopeMember>) -> NetworkScope {
        NetworkScope {
            network_id: "n".repeat(64),
            network_name: name.into(),
            internal,
            container_ip: Ipv4Addr::new(10, 202, 0, 2),
            gateway: Ipv4Addr::new(10, 202, 0, 1),
            members,
            links: vec![],
            upstream_servers: if internal {
                vec![]
            } else {
                vec!["127.0.0.53".into(), "fe80::1%eth0".into()]
            },
        }
    }

    #[test]
    fn names_aliases_short_ids_and_qualified_names() {
        let id = "0123456789abcdef".repeat(4);
        let v = view_of(&[scope(
            "AppNet",
            false,
            vec![member(&id, "Web", &["frontend"], [10, 202, 0, 2])],
        )]);
        assert_eq!(
            v.records[0].names,
            vec!["web", "web.appnet", "frontend", "0123456789ab"]
        );
        assert_eq!(v.records[0].ptr_name, "web.appnet");
        assert_eq!(v.upstream, vec!["127.0.0.53:53".parse().unwrap()]);
    }

    #[test]
    fn link_aliases_resolve_to_the_linked_member() {
        let mut s = scope(
            "net",
            false,
            vec![member("u", "Upstream", &[], [10, 202, 0, 5])],
        );
        s.links = vec!["upstream:bar".into(), "absent:gone".into()];
        let v = view_of(&[s]);
        let bar = v.records.iter().find(|r| r.names == vec!["bar"]).unwrap();
        assert_eq!(bar.addr, Ipv4Addr::new(10, 202, 0, 5));
        assert!(!v.records.iter().any(|r| r.names.contains(&"gone".into())));
    }

    #[test]
    fn internal_only_containers_get_no_upstream_but_one_open_network_is_enough() {
        let internal = scope(
            "secret",
            true,
            vec![member("a", "db", &[], [10, 202, 1, 2])],
        );
        assert!(view_of(std::slice::from_ref(&internal)).upstream.is_empty());
        let open = scope(
            "public",
            false,
            vec![member("a", "db", &[], [10, 202, 0, 2])],
        );
        let v = view_of(&[internal, open]);
        assert_eq!(v.upstream.len(), 1);
        assert_eq!(v.records.len(), 2);
    }
}
