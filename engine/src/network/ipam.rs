//! IPv4 address management: subnets, overlap checks, picking a free subnet from the pool and a
//! free address inside a subnet. Pure functions over the engine's in-memory state; allocations
//! are derived from the endpoint records, so nothing here needs its own persistence.

use std::collections::BTreeSet;
use std::fmt;
use std::net::Ipv4Addr;
use std::str::FromStr;

use crate::error::{EngineError, Result};

/// An IPv4 network in CIDR form, always normalised (host bits cleared).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Ipv4Net {
    base: u32,
    prefix: u8,
}

impl Ipv4Net {
    pub fn new(addr: Ipv4Addr, prefix: u8) -> Result<Self> {
        if prefix > 32 {
            return Err(EngineError::invalid(format!(
                "invalid prefix length /{prefix}"
            )));
        }
        Ok(Ipv4Net {
            base: u32::from(addr) & mask(prefix),
            prefix,
        })
    }

    pub fn addr(&self) -> Ipv4Addr {
        Ipv4Addr::from(self.base)
    }

    pub fn prefix(&self) -> u8 {
        self.prefix
    }

    pub fn size(&self) -> u64 {
        1u64 << (32 - self.prefix as u32)
    }

    pub fn contains(&self, ip: Ipv4Addr) -> bool {
        u32::from(ip) & mask(self.prefix) == self.base
    }

    pub fn overlaps(&self, other: &Ipv4Net) -> bool {
        let p = self.prefix.min(other.prefix);
        self.base & mask(p) == other.base & mask(p)
    }

    /// The n-th address of the subnet (0 = network address).
    pub fn nth(&self, n: u64) -> Option<Ipv4Addr> {
        (n < self.size()).then(|| Ipv4Addr::from(self.base.wrapping_add(n as u32)))
    }

    /// Docker's default gateway: the first usable address.
    pub fn first_host(&self) -> Option<Ipv4Addr> {
        if self.prefix >= 31 {
            return None;
        }
        self.nth(1)
    }

    pub fn broadcast(&self) -> Ipv4Addr {
        Ipv4Addr::from(self.base | !mask(self.prefix))
    }
}

fn mask(prefix: u8) -> u32 {
    if prefix == 0 {
        0
    } else {
        u32::MAX << (32 - prefix as u32)
    }
}

impl fmt::Display for Ipv4Net {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr(), self.prefix)
    }
}

impl FromStr for Ipv4Net {
    type Err = EngineError;

    /// "10.1.2.0/24"; host bits are rejected as docker does ("invalid subnet 10.1.2.3/24").
    fn from_str(s: &str) -> Result<Self> {
        let bad = || {
            EngineError::invalid(format!(
                "invalid subnet {s}: expected an IPv4 CIDR such as 10.1.0.0/24"
            ))
        };
        let (ip, prefix) = s.trim().split_once('/').ok_or_else(bad)?;
        let ip: Ipv4Addr = ip.parse().map_err(|_| bad())?;
        let prefix: u8 = prefix.parse().map_err(|_| bad())?;
        let net = Ipv4Net::new(ip, prefix).map_err(|_| bad())?;
        if net.addr() != ip {
            return Err(EngineError::invalid(format!(
                "invalid subnet {s}: it has host bits set (did you mean {net}?)"
            )));
        }
        if prefix > 30 {
            return Err(EngineError::invalid(format!(
                "invalid subnet {s}: too small for a gateway and containers"
            )));
        }
        Ok(net)
    }
}

/// The first `/size` subnet of `pool` that overlaps none of `taken`.
pub fn pick_subnet(pool: &Ipv4Net, size: u8, taken: &[Ipv4Net]) -> Option<Ipv4Net> {
    if size < pool.prefix() || size > 30 {
        return None;
    }
    let step = 1u64 << (32 - size as u32);
    let count = pool.size() / step;
    (0..count).find_map(|i| {
        let candidate = Ipv4Net::new(pool.nth(i * step)?, size).ok()?;
        (!taken.iter().any(|t| t.overlaps(&candidate))).then_some(candidate)
    })
}

/// The lowest free host address of `subnet` (skipping network, broadcast and `used`).
pub fn pick_address(subnet: &Ipv4Net, used: &BTreeSet<Ipv4Addr>) -> Option<Ipv4Addr> {
    let last = subnet.size().saturating_sub(1);
    (1..last).find_map(|n| {
        let ip = subnet.nth(n)?;
        (!used.contains(&ip)).then_some(ip)
    })
}

/// An address range as IPAM's IPRange is written: a CIDR, host bits cleared, any prefix length.
pub fn parse_range(s: &str) -> Result<Ipv4Net> {
    let bad = || EngineError::invalid(format!("invalid ip range {s:?}: expected an IPv4 CIDR"));
    let (ip, prefix) = s.trim().split_once('/').ok_or_else(bad)?;
    let ip: Ipv4Addr = ip.parse().map_err(|_| bad())?;
    let net = Ipv4Net::new(ip, prefix.parse().map_err(|_| bad())?).map_err(|_| bad())?;
    if net.addr() != ip {
        return Err(bad());
    }
    Ok(net)
}

/// The first address of `range` (all of it usable, as docker's IPRange) that is a host address
/// of `subnet` and not in `used`.
pub fn pick_in_range(
    subnet: &Ipv4Net,
    range: &Ipv4Net,
    used: &BTreeSet<Ipv4Addr>,
) -> Option<Ipv4Addr> {
    (0..range.size()).find_map(|n| {
        let ip = range.nth(n)?;
        (subnet.contains(ip)
            && ip != subnet.addr()
            && ip != subnet.broadcast()
            && !used.contains(&ip))
        .then_some(ip)
    })
}

/// Subnets of the host's IPv4 addresses and routes (from /proc), so a new network never shadows
/// a network the host already reaches.
pub fn host_networks() -> Vec<Ipv4Net> {
    let mut out = Vec::new();
    if let Ok(routes) = std::fs::read_to_string("/proc/net/route") {
        for line in routes.lines().skip(1) {
            let cols: Vec<&str> = line.split_whitespace().collect();
            if cols.len() < 8 {
                continue;
            }
            let (Ok(dest), Ok(m)) = (
                u32::from_str_radix(cols[1], 16),
                u32::from_str_radix(cols[7], 16),
            ) else {
                continue;
            };
            // /proc/net/route prints the network-order words in host (little-endian) order.
            let dest = Ipv4Addr::from(dest.to_le_bytes());
            let prefix = m.count_ones() as u8;
            if prefix == 0 {
                continue; // the default route overlaps everything and is not a local network
            }
            if let Ok(net) = Ipv4Net::new(dest, prefix) {
                out.push(net);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn net(s: &str) -> Ipv4Net {
        s.parse().unwrap()
    }

    #[test]
    fn parses_and_rejects() {
        assert_eq!(net("10.201.0.0/16").to_string(), "10.201.0.0/16");
        assert!("10.201.0.1/16".parse::<Ipv4Net>().is_err());
        assert!("10.201.0.0".parse::<Ipv4Net>().is_err());
        assert!("10.201.0.0/33".parse::<Ipv4Net>().is_err());
        assert!("nonsense/8".parse::<Ipv4Net>().is_err());
    }

    #[test]
    fn overlap() {
        assert!(net("10.0.0.0/8").overlaps(&net("10.3.0.0/16")));
        assert!(net("10.3.0.0/16").overlaps(&net("10.0.0.0/8")));
        assert!(!net("10.3.0.0/16").overlaps(&net("10.4.0.0/16")));
    }

    #[test]
    fn picks_subnets_and_addresses() {
        let pool = net("10.202.0.0/16");
        let taken = vec![net("10.202.0.0/24"), net("10.202.1.0/25")];
        assert_eq!(pick_subnet(&pool, 24, &taken), Some(net("10.202.2.0/24")));
        let s = net("10.1.0.0/30");
        let mut used = BTreeSet::new();
        used.insert(Ipv4Addr::new(10, 1, 0, 1));
        assert_eq!(pick_address(&s, &used), Some(Ipv4Addr::new(10, 1, 0, 2)));
        used.insert(Ipv4Addr::new(10, 1, 0, 2));
        assert_eq!(pick_address(&s, &used), None);
        assert_eq!(s.broadcast(), Ipv4Addr::new(10, 1, 0, 3));
    }

    #[test]
    fn host_routes_are_read() {
        // Every host with networking has at least loopback-independent routes on eth0 or none;
        // the call must not panic and every entry must be normalised.
        for n in host_networks() {
            assert_eq!(Ipv4Net::new(n.addr(), n.prefix()).unwrap(), n);
        }
    }
}
