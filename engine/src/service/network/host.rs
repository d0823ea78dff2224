//! The host operations the network service performs (links over netlink, namespaces, the nft table,
//! host port reservations, the host's resolv.conf), behind one trait so that the service's state
//! machine (IPAM, attach and its rollback, release, connect, disconnect) can be tested without
//! root against a recording fake (`fake_host`). `LinuxHost` delegates to `crate::network`.
//!
//! The embedded DNS resolver is started and stopped per namespace through the other seam,
//! `NetnsObserver`.

use std::net::{Ipv4Addr, Ipv6Addr};
use std::os::fd::OwnedFd;
use std::path::Path;

use crate::error::Result;
use crate::network::link::{self, EndpointLink};
use crate::network::nat::{self, NatNetwork, PortRule};
use crate::network::netns;
use crate::network::ports::{self, Published, Requested};

pub trait NetworkHost: Send + Sync {
    /// Write a sysctl under /proc/sys (`net/ipv4/ip_forward`).
    fn sysctl(&self, key: &str, value: &str) -> Result<()>;
    /// Create the bridge if missing, give it the gateway address and MTU, set it up.
    fn ensure_bridge(&self, name: &str, gateway: Ipv4Addr, prefix: u8, mtu: u32) -> Result<()>;
    /// Give an IPv6-enabled network's bridge its IPv6 gateway (and the host IPv6 forwarding).
    fn bridge_ipv6(&self, name: &str, gateway: Ipv6Addr, prefix: u8) -> Result<()>;
    /// Delete a link (bridge or host veth end); a missing link is not an error.
    fn delete_link(&self, name: &str) -> Result<()>;
    /// A veth pair: the host end on the bridge, the other end configured inside `ns`.
    fn setup_endpoint(&self, ns: &Path, ep: &EndpointLink, loopback: bool) -> Result<()>;
    /// Remove the interface `ifname` inside `ns` (its host end goes with it).
    fn remove_endpoint(&self, ns: &Path, ifname: &str) -> Result<()>;
    /// Create a network namespace pinned at `path`.
    fn create_netns(&self, path: &Path) -> Result<()>;
    /// Unpin and remove the namespace at `path` (best effort).
    fn remove_netns(&self, path: &Path);
    /// Whether a namespace is still pinned at `path` (not after a reboot).
    fn netns_pinned(&self, path: &Path) -> bool;
    /// Replace the engine's nft table: masquerade and isolation per network, DNAT per port.
    fn apply_nat(&self, table: &str, nets: &[NatNetwork], rules: &[PortRule]) -> Result<()>;
    /// Let our bridges through a foreign FORWARD drop policy (docker's, firewalld's).
    fn open_foreign_forward(&self, table: &str, bridges: &[String]) -> Result<()>;
    fn close_foreign_forward(&self, table: &str);
    fn delete_nat_table(&self, table: &str) -> Result<()>;
    /// Reserve host ports (bound sockets, held while the container runs).
    fn reserve_ports(&self, reqs: &[Requested]) -> Result<(Vec<Published>, Vec<OwnedFd>)>;
    /// The host's /etc/resolv.conf (empty when unreadable).
    fn host_resolv_conf(&self) -> String;
}

/// The real host: netlink, nftables, namespaces and sockets of this machine.
pub struct LinuxHost;

impl NetworkHost for LinuxHost {
    fn sysctl(&self, key: &str, value: &str) -> Result<()> {
        link::sysctl(key, value)
    }

    fn ensure_bridge(&self, name: &str, gateway: Ipv4Addr, prefix: u8, mtu: u32) -> Result<()> {
        link::ensure_bridge(name, gateway, prefix, mtu)
    }

    fn bridge_ipv6(&self, name: &str, gateway: Ipv6Addr, prefix: u8) -> Result<()> {
        link::bridge_ipv6(name, gateway, prefix)
    }

    fn delete_link(&self, name: &str) -> Result<()> {
        link::delete_link(name)
    }

    fn setup_endpoint(&self, ns: &Path, ep: &EndpointLink, loopback: bool) -> Result<()> {
        link::setup_endpoint(ns, ep, loopback)
    }

    fn remove_endpoint(&self, ns: &Path, ifname: &str) -> Result<()> {
        link::remove_endpoint(ns, ifname)
    }

    fn create_netns(&self, path: &Path) -> Result<()> {
        netns::create(path)
    }

    fn remove_netns(&self, path: &Path) {
        netns::remove(path)
    }

    fn netns_pinned(&self, path: &Path) -> bool {
        netns::is_pinned(path)
    }

    fn apply_nat(&self, table: &str, nets: &[NatNetwork], rules: &[PortRule]) -> Result<()> {
        nat::apply(table, nets, rules)
    }

    fn open_foreign_forward(&self, table: &str, bridges: &[String]) -> Result<()> {
        nat::open_foreign_forward(table, bridges)
    }

    fn close_foreign_forward(&self, table: &str) {
        nat::close_foreign_forward(table)
    }

    fn delete_nat_table(&self, table: &str) -> Result<()> {
        nat::delete_table(table)
    }

    fn reserve_ports(&self, reqs: &[Requested]) -> Result<(Vec<Published>, Vec<OwnedFd>)> {
        ports::reserve(reqs)
    }

    fn host_resolv_conf(&self) -> String {
        std::fs::read_to_string("/etc/resolv.conf").unwrap_or_default()
    }
}
