//! NAT and filtering with nftables: one table per engine, always rebuilt whole from the engine's
//! state in a single `nft -f -` transaction (create-if-missing, delete, re-add), so a change is
//! atomic and a restarted engine converges to exactly its state, whatever was there before.

use std::io::Write;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::process::{Command, Stdio};

use super::ipam::Ipv4Net;
use super::ipam6::Ipv6Net;
use crate::error::{EngineError, Result};

/// One bridge network as the firewall sees it.
#[derive(Debug, Clone)]
pub struct NatNetwork {
    pub bridge: String,
    pub subnet: Ipv4Net,
    /// The IPv6 subnet of an IPv6-enabled network.
    pub subnet6: Option<Ipv6Net>,
    pub internal: bool,
}

/// One published port: host (ip, port) → container (ip, port).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortRule {
    pub proto: String,
    /// None = every local address (0.0.0.0).
    pub host_ip: Option<Ipv4Addr>,
    pub host_port: u16,
    pub container_ip: Ipv4Addr,
    /// The container's IPv6 address when its network has IPv6: the port is then published on
    /// the host's IPv6 addresses too (only for bindings to every address).
    pub container_ip6: Option<Ipv6Addr>,
    pub container_port: u16,
}

fn quote(s: &str) -> String {
    format!("\"{}\"", s.replace(['"', '\\'], ""))
}

/// Packets to a local address go through `ports` (DNAT), in both families.
const NAT_HOOKS: &str = "  chain prerouting {\n    type nat hook prerouting priority dstnat; policy accept;\n    fib daddr type local jump ports\n  }\n  chain output {\n    type nat hook output priority -100; policy accept;\n    fib daddr type local jump ports\n  }\n";

/// The whole table as nft script. Chains:
/// - prerouting/output (nat): packets to a local address go through `ports` (DNAT), so published
///   ports work from other hosts and from the host itself, 127.0.0.1 included.
/// - postrouting (nat): masquerade each non-internal subnet leaving its bridge, and 127.0.0.0/8
///   sources leaving through a bridge (DNAT'd loopback connections; needs route_localnet).
/// - forward (filter): traffic within a bridge passes; between two of our bridges it is dropped
///   (networks are isolated, as in docker); internal networks never forward in or out.
pub fn render(table: &str, nets: &[NatNetwork], ports: &[PortRule]) -> String {
    let mut s = render_v4(table, nets, ports);
    s.push_str(&render_v6(table, nets, ports));
    s
}

fn render_v4(table: &str, nets: &[NatNetwork], ports: &[PortRule]) -> String {
    let mut s = String::new();
    s.push_str(&format!("table ip {table} {{}}\ndelete table ip {table}\n"));
    s.push_str(&format!("table ip {table} {{\n"));
    s.push_str(NAT_HOOKS);
    s.push_str("  chain ports {\n");
    for p in ports {
        let daddr = p
            .host_ip
            .map(|ip| format!("ip daddr {ip} "))
            .unwrap_or_default();
        s.push_str(&format!(
            "    {daddr}{proto} dport {hp} dnat to {cip}:{cp}\n",
            proto = p.proto,
            hp = p.host_port,
            cip = p.container_ip,
            cp = p.container_port
        ));
    }
    s.push_str("  }\n");
    s.push_str(
        "  chain postrouting {\n    type nat hook postrouting priority srcnat; policy accept;\n",
    );
    for n in nets {
        s.push_str(&format!(
            "    oifname {} ip saddr 127.0.0.0/8 masquerade\n",
            quote(&n.bridge)
        ));
        if !n.internal {
            s.push_str(&format!(
                "    ip saddr {} oifname != {} masquerade\n",
                n.subnet,
                quote(&n.bridge)
            ));
        }
    }
    s.push_str("  }\n");
    s.push_str(&forward_chain(nets));
    s.push_str("}\n");
    s
}

/// The same table in the ip6 family (nftables' ip family sees no IPv6): masquerade of each
/// IPv6-enabled subnet, DNAT of published ports to containers' IPv6 addresses when the host
/// port is bound on every address, and the same isolation between bridges. [::1] is left out of
/// DNAT: IPv6 has no route_localnet, a packet from ::1 cannot leave through a bridge, and a
/// refused connection beats one that hangs (dockerd reaches it with its userland proxy).
fn render_v6(table: &str, nets: &[NatNetwork], ports: &[PortRule]) -> String {
    let mut s = String::new();
    s.push_str(&format!(
        "table ip6 {table} {{}}\ndelete table ip6 {table}\n"
    ));
    s.push_str(&format!("table ip6 {table} {{\n"));
    s.push_str(NAT_HOOKS);
    s.push_str("  chain ports {\n");
    for p in ports.iter().filter(|p| p.host_ip.is_none()) {
        if let Some(cip) = p.container_ip6 {
            s.push_str(&format!(
                "    ip6 daddr != ::1 {proto} dport {hp} dnat to [{cip}]:{cp}\n",
                proto = p.proto,
                hp = p.host_port,
                cp = p.container_port
            ));
        }
    }
    s.push_str("  }\n");
    s.push_str(
        "  chain postrouting {\n    type nat hook postrouting priority srcnat; policy accept;\n",
    );
    for n in nets.iter().filter(|n| !n.internal) {
        if let Some(sub) = n.subnet6 {
            s.push_str(&format!(
                "    ip6 saddr {sub} oifname != {} masquerade\n",
                quote(&n.bridge)
            ));
        }
    }
    s.push_str("  }\n");
    s.push_str(&forward_chain(nets));
    s.push_str("}\n");
    s
}

/// Traffic within a bridge passes, between two of our bridges it is dropped, internal networks
/// never forward in or out; the same in both families.
fn forward_chain(nets: &[NatNetwork]) -> String {
    let mut s = String::new();
    s.push_str("  chain forward {\n    type filter hook forward priority filter; policy accept;\n");
    for n in nets {
        let b = quote(&n.bridge);
        s.push_str(&format!("    iifname {b} oifname {b} accept\n"));
    }
    if !nets.is_empty() {
        let all: Vec<String> = nets.iter().map(|n| quote(&n.bridge)).collect();
        let set = format!("{{ {} }}", all.join(", "));
        s.push_str(&format!("    iifname {set} oifname {set} drop\n"));
    }
    for n in nets.iter().filter(|n| n.internal) {
        let b = quote(&n.bridge);
        s.push_str(&format!("    iifname {b} drop\n    oifname {b} drop\n"));
    }
    s.push_str("  }\n");
    s
}

fn nft(script: &str) -> Result<()> {
    let mut child = Command::new("nft")
        .args(["-f", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| EngineError::internal(format!("running nft (is nftables installed?): {e}")))?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin
            .write_all(script.as_bytes())
            .map_err(|e| EngineError::internal(format!("writing to nft: {e}")))?;
    }
    let out = child
        .wait_with_output()
        .map_err(|e| EngineError::internal(format!("waiting for nft: {e}")))?;
    if !out.status.success() {
        return Err(EngineError::internal(format!(
            "nft failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    Ok(())
}

/// Replace the engine's table with the rendering of this state, atomically.
pub fn apply(table: &str, nets: &[NatNetwork], ports: &[PortRule]) -> Result<()> {
    nft(&render(table, nets, ports))
}

/// Remove the engine's table (a missing table is fine).
pub fn delete_table(table: &str) -> Result<()> {
    nft(&format!(
        "table ip {table} {{}}\ndelete table ip {table}\ntable ip6 {table} {{}}\ndelete table ip6 {table}\n"
    ))
}

/// Hosts that also run docker (or anything iptables-based) often have `ip filter FORWARD` with
/// policy drop: a drop in any base chain wins over our accept, so routed traffic of our bridges
/// would die there. Add accept rules for our bridges to that chain, tagged with our table name so
/// they can be found and removed again. Does nothing when the chain does not exist.
pub fn open_foreign_forward(table: &str, bridges: &[String]) -> Result<()> {
    close_foreign_forward(table);
    let Ok(out) = Command::new("nft")
        .args(["list", "chain", "ip", "filter", "FORWARD"])
        .stderr(Stdio::null())
        .output()
    else {
        return Ok(());
    };
    if !out.status.success() || !String::from_utf8_lossy(&out.stdout).contains("policy drop") {
        return Ok(());
    }
    let tag = quote(&format!("berth:{table}"));
    let mut s = String::new();
    for b in bridges {
        let b = quote(b);
        s.push_str(&format!(
            "insert rule ip filter FORWARD iifname {b} accept comment {tag}\ninsert rule ip filter FORWARD oifname {b} accept comment {tag}\n"
        ));
    }
    if s.is_empty() {
        return Ok(());
    }
    nft(&s)
}

/// Remove the rules `open_foreign_forward` added.
pub fn close_foreign_forward(table: &str) {
    let Ok(out) = Command::new("nft")
        .args(["-a", "list", "chain", "ip", "filter", "FORWARD"])
        .stderr(Stdio::null())
        .output()
    else {
        return;
    };
    if !out.status.success() {
        return;
    }
    let tag = format!("comment \"berth:{table}\"");
    let mut s = String::new();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        if !line.contains(&tag) {
            continue;
        }
        if let Some(h) = line
            .rsplit("# handle ")
            .next()
            .and_then(|h| h.trim().parse::<u64>().ok())
        {
            s.push_str(&format!("delete rule ip filter FORWARD handle {h}\n"));
        }
    }
    if !s.is_empty() {
        if let Err(e) = nft(&s) {
            tracing::warn!(error = %e, "removing our FORWARD accept rules");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_nat_ports_and_isolation() {
        let nets = vec![
            NatNetwork {
                bridge: "berth0".into(),
                subnet: "10.201.0.0/16".parse().unwrap(),
                subnet6: Some(Ipv6Net::parse_subnet("2001:db8:1::/64").unwrap()),
                internal: false,
            },
            NatNetwork {
                bridge: "br-abc".into(),
                subnet: "10.202.0.0/24".parse().unwrap(),
                subnet6: None,
                internal: true,
            },
        ];
        let ports = vec![
            PortRule {
                proto: "tcp".into(),
                host_ip: Some(Ipv4Addr::LOCALHOST),
                host_port: 8080,
                container_ip: Ipv4Addr::new(10, 201, 0, 2),
                container_ip6: None,
                container_port: 80,
            },
            PortRule {
                proto: "tcp".into(),
                host_ip: None,
                host_port: 8081,
                container_ip: Ipv4Addr::new(10, 201, 0, 2),
                container_ip6: Some("2001:db8:1::2".parse().unwrap()),
                container_port: 81,
            },
        ];
        let s = render("t1", &nets, &ports);
        assert!(s.starts_with("table ip t1 {}\ndelete table ip t1\n"));
        assert!(s.contains("ip daddr 127.0.0.1 tcp dport 8080 dnat to 10.201.0.2:80"));
        assert!(s.contains("ip saddr 10.201.0.0/16 oifname != \"berth0\" masquerade"));
        assert!(
            !s.contains("ip saddr 10.202.0.0/24"),
            "internal networks get no masquerade"
        );
        assert!(s.contains("iifname \"br-abc\" drop"));
        let v6 = &s[s.find("table ip6 t1 {\n").expect("an ip6 table")..];
        assert!(v6.contains("ip6 daddr != ::1 tcp dport 8081 dnat to [2001:db8:1::2]:81"));
        assert!(
            !v6.contains("dport 8080"),
            "a binding to 127.0.0.1 is IPv4 only"
        );
        assert!(v6.contains("ip6 saddr 2001:db8:1::/64 oifname != \"berth0\" masquerade"));
        assert!(v6.contains("iifname \"br-abc\" drop"));
    }

    #[test]
    fn applies_and_deletes_a_real_table() {
        let table = format!("berthut{}", std::process::id());
        let nets = vec![NatNetwork {
            bridge: "berthut0".into(),
            subnet: "10.251.0.0/24".parse().unwrap(),
            subnet6: Some(Ipv6Net::parse_subnet("fd00:251::/64").unwrap()),
            internal: false,
        }];
        apply(&table, &nets, &[]).unwrap();
        apply(&table, &nets, &[]).unwrap(); // replacing is idempotent
        let listed = Command::new("nft")
            .args(["list", "table", "ip", &table])
            .output()
            .unwrap();
        assert!(listed.status.success());
        assert!(String::from_utf8_lossy(&listed.stdout).contains("masquerade"));
        delete_table(&table).unwrap();
        let gone = Command::new("nft")
            .args(["list", "table", "ip", &table])
            .output()
            .unwrap();
        assert!(!gone.status.success());
    }
}
