//! Bridge networking: IPAM (`ipam`, IPv6 in `ipam6`), links over rtnetlink (`link`), per-container network
//! namespaces (`netns`), NAT and published ports in nftables (`nat`, `ports`), network records on
//! disk (`store`), the /etc files containers see (`etc`) and the embedded resolver of user networks
//! (`dns`). The operations live in `service::network`.

pub mod dns;
pub mod etc;
pub mod ipam;
pub mod ipam6;
pub mod link;
pub mod nat;
pub mod netns;
pub mod ports;
pub mod store;

use ipam::Ipv4Net;

/// Networking options of one engine. Tests run several engines side by side, so every name the
/// host sees (bridge, table) and every range is configurable.
#[derive(Debug, Clone)]
pub struct NetworkOptions {
    /// Linux name of the default bridge (≤ 15 characters).
    pub bridge_name: String,
    /// Subnet of the default bridge; avoids docker's 172.17/16 and podman's 10.88/16, 10.89/16.
    pub bridge_subnet: Ipv4Net,
    /// Pool that user networks without an explicit subnet are carved from.
    pub pool: Ipv4Net,
    /// Prefix length of each subnet taken from the pool.
    pub pool_size: u8,
    /// Name of the engine's nftables table (family ip).
    pub nft_table: String,
    /// MTU of bridges and veths unless a network sets `com.docker.network.driver.mtu`.
    pub mtu: u32,
}

/// The default MTU. Docker uses 1500; berth uses podman's 65520 because traffic between the host
/// and its containers (published ports, container to container) then moves in 64 KiB frames like
/// loopback, about 20% faster here. Traffic to other hosts is unaffected: TCP takes the peer's
/// MSS and the host's own interface keeps its MTU.
pub const DEFAULT_MTU: u32 = 65520;
/// The option that sets a network's MTU (docker's name).
pub const MTU_OPTION: &str = "com.docker.network.driver.mtu";

/// A valid MTU from the option's text (IPv4 needs at least 68; a link carries at most 65535).
pub fn parse_mtu(text: &str) -> Option<u32> {
    text.trim()
        .parse::<u32>()
        .ok()
        .filter(|m| (68..=65535).contains(m))
}

impl Default for NetworkOptions {
    fn default() -> Self {
        NetworkOptions {
            bridge_name: "berth0".into(),
            bridge_subnet: Ipv4Net::new(std::net::Ipv4Addr::new(10, 201, 0, 0), 16)
                .expect("valid default subnet"),
            pool: Ipv4Net::new(std::net::Ipv4Addr::new(10, 202, 0, 0), 16)
                .expect("valid default pool"),
            pool_size: 24,
            nft_table: "berth".into(),
            mtu: DEFAULT_MTU,
        }
    }
}

/// Names of the predefined networks (docker's).
pub const PREDEFINED: [&str; 3] = ["bridge", "host", "none"];

/// Docker's locally administered MAC for an IPv4 address: 02:42:a.b.c.d.
pub fn mac_for(ip: std::net::Ipv4Addr) -> [u8; 6] {
    let o = ip.octets();
    [0x02, 0x42, o[0], o[1], o[2], o[3]]
}

pub fn mac_text(mac: &[u8; 6]) -> String {
    mac.iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}
