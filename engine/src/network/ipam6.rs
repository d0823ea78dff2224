//! IPv6 address management for dual-stack bridge networks: subnets as docker's IPAM accepts them
//! (host bits allowed, as dockerd 20.10 does), overlap checks and the lowest free address of a
//! subnet or of its IPRange. Pure functions; allocations are derived from the endpoint records,
//! like the IPv4 side (`ipam`).

use std::collections::BTreeSet;
use std::fmt;
use std::net::Ipv6Addr;

use crate::error::{EngineError, Result};

/// An IPv6 network in CIDR form, normalised (host bits cleared).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Ipv6Net {
    base: u128,
    prefix: u8,
}

fn mask(prefix: u8) -> u128 {
    if prefix == 0 {
        0
    } else {
        u128::MAX << (128 - u32::from(prefix))
    }
}

impl Ipv6Net {
    pub fn new(addr: Ipv6Addr, prefix: u8) -> Option<Self> {
        (prefix <= 128).then(|| Ipv6Net {
            base: u128::from(addr) & mask(prefix),
            prefix,
        })
    }

    /// A subnet as docker's IPAM takes it: "2001:db8::/64"; an address with host bits set names
    /// its network (dockerd 20.10 accepts "2001:db8::1/64"). Docker's message and its 500.
    pub fn parse_subnet(s: &str) -> Result<Self> {
        let bad =
            || EngineError::internal(format!("Invalid subnet {s} : invalid CIDR address: {s}"));
        let (ip, prefix) = s.trim().split_once('/').ok_or_else(bad)?;
        let ip: Ipv6Addr = ip.parse().map_err(|_| bad())?;
        let prefix: u8 = prefix.parse().map_err(|_| bad())?;
        Ipv6Net::new(ip, prefix).ok_or_else(bad)
    }

    /// An IPRange: a CIDR inside the subnet (docker: "invalid pool request" otherwise).
    pub fn parse_range(s: &str, subnet: &Ipv6Net) -> Result<Self> {
        let r = Ipv6Net::parse_subnet(s)?;
        if r.prefix < subnet.prefix || !subnet.contains(r.addr()) {
            return Err(EngineError::invalid(format!(
                "invalid pool request: IP range {s} is not inside subnet {subnet}"
            )));
        }
        Ok(r)
    }

    pub fn addr(&self) -> Ipv6Addr {
        Ipv6Addr::from(self.base)
    }

    pub fn prefix(&self) -> u8 {
        self.prefix
    }

    pub fn contains(&self, ip: Ipv6Addr) -> bool {
        u128::from(ip) & mask(self.prefix) == self.base
    }

    pub fn overlaps(&self, other: &Ipv6Net) -> bool {
        let p = self.prefix.min(other.prefix);
        self.base & mask(p) == other.base & mask(p)
    }

    /// The n-th address of the subnet (0 = the subnet-router anycast address).
    pub fn nth(&self, n: u128) -> Option<Ipv6Addr> {
        let size_bits = 128 - u32::from(self.prefix);
        let fits = size_bits >= 128 || n < (1u128 << size_bits);
        fits.then(|| Ipv6Addr::from(self.base.wrapping_add(n)))
    }

    /// Docker's default gateway: the first address after the subnet's own.
    pub fn first_host(&self) -> Option<Ipv6Addr> {
        (self.prefix < 127).then(|| self.nth(1)).flatten()
    }
}

impl fmt::Display for Ipv6Net {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr(), self.prefix)
    }
}

/// Docker looks at most this far for a free address: a /64 is never exhausted in practice, and
/// scanning it whole would not end.
const SCAN_LIMIT: u128 = 1 << 20;

/// The lowest free address of `within` (the subnet, or its IPRange) that is not the subnet's own
/// address nor in `used`.
pub fn pick_address(
    subnet: &Ipv6Net,
    within: &Ipv6Net,
    used: &BTreeSet<Ipv6Addr>,
) -> Option<Ipv6Addr> {
    (0..SCAN_LIMIT).find_map(|n| {
        let ip = within.nth(n)?;
        (subnet.contains(ip) && ip != subnet.addr() && !used.contains(&ip)).then_some(ip)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn net(s: &str) -> Ipv6Net {
        Ipv6Net::parse_subnet(s).unwrap()
    }

    #[test]
    fn parses_like_docker() {
        assert_eq!(net("2001:db8:1::/64").to_string(), "2001:db8:1::/64");
        assert_eq!(net("2001:db8:9::1/64").to_string(), "2001:db8:9::/64");
        let e = Ipv6Net::parse_subnet("zzz::/64").unwrap_err();
        assert_eq!(
            e.to_string(),
            "Invalid subnet zzz::/64 : invalid CIDR address: zzz::/64"
        );
        assert!(Ipv6Net::parse_subnet("2001:db8::/129").is_err());
        assert!(Ipv6Net::parse_range("2001:389::/96", &net("2001:389::/64")).is_ok());
        assert!(Ipv6Net::parse_range("2001:388::/96", &net("2001:389::/64")).is_err());
    }

    #[test]
    fn overlaps_and_picks() {
        assert!(net("2001:db8::/48").overlaps(&net("2001:db8:0:1::/64")));
        assert!(!net("2001:db8:1::/64").overlaps(&net("2001:db8:2::/64")));
        let s = net("2001:db8:1::/64");
        let mut used = BTreeSet::new();
        used.insert(s.first_host().unwrap());
        assert_eq!(
            pick_address(&s, &s, &used),
            Some("2001:db8:1::2".parse().unwrap())
        );
        let range = net("2001:db8:1::ff00/120");
        assert_eq!(
            pick_address(&s, &range, &used),
            Some("2001:db8:1::ff00".parse().unwrap())
        );
    }
}
