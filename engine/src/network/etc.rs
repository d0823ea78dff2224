//! The /etc/hosts and /etc/resolv.conf a container sees, as docker writes them.

use std::net::{IpAddr, Ipv4Addr};

use serde_json::Value;

use crate::error::{EngineError, Result};

const HOSTS_BASE: &str = "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\nfe00::0\tip6-localnet\nff00::0\tip6-mcastprefix\nff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n";

/// DNS-related options of a container (HostConfig.Dns, DnsSearch, DnsOptions, ExtraHosts).
#[derive(Debug, Clone, Default)]
pub struct DnsConfig {
    pub servers: Vec<String>,
    pub search: Vec<String>,
    pub options: Vec<String>,
    /// "name:ip" (docker also accepts "name=ip"); ip may be "host-gateway".
    pub extra_hosts: Vec<String>,
}

fn strings(extra: &serde_json::Map<String, Value>, key: &str) -> Vec<String> {
    extra
        .get(key)
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

impl DnsConfig {
    pub fn from_host_config(extra: &serde_json::Map<String, Value>) -> Self {
        DnsConfig {
            servers: strings(extra, "Dns"),
            search: strings(extra, "DnsSearch"),
            options: strings(extra, "DnsOptions"),
            extra_hosts: strings(extra, "ExtraHosts"),
        }
    }

    /// 400 on a malformed --dns or --add-host, as docker's create does.
    pub fn validate(&self) -> Result<()> {
        for s in &self.servers {
            if s.parse::<std::net::IpAddr>().is_err() {
                return Err(EngineError::invalid(format!(
                    "invalid DNS server address {s:?}: an IP address is expected"
                )));
            }
        }
        for h in &self.extra_hosts {
            let (name, ip) = split_host(h).ok_or_else(|| {
                EngineError::invalid(format!("invalid extra host {h:?}: expected HOST:IP"))
            })?;
            if name.is_empty() || (ip != "host-gateway" && ip.parse::<std::net::IpAddr>().is_err())
            {
                return Err(EngineError::invalid(format!(
                    "invalid IP address in add-host: {ip:?}"
                )));
            }
        }
        Ok(())
    }
}

fn split_host(h: &str) -> Option<(&str, &str)> {
    h.split_once('=').or_else(|| h.split_once(':'))
}

/// /etc/hosts: docker's fixed lines, the extra hosts, the legacy links (address, "alias hostname
/// name"), then the container's own address(es), each IPv4 one followed by its IPv6 one.
pub fn hosts(
    hostname: &str,
    own_ips: &[IpAddr],
    extra: &[String],
    links: &[(Ipv4Addr, String)],
    gateway: Option<Ipv4Addr>,
) -> String {
    let mut s = HOSTS_BASE.to_owned();
    for h in extra {
        if let Some((name, ip)) = split_host(h) {
            let ip = if ip == "host-gateway" {
                gateway.map(|g| g.to_string()).unwrap_or_default()
            } else {
                ip.to_owned()
            };
            if !ip.is_empty() {
                s.push_str(&format!("{ip}\t{name}\n"));
            }
        }
    }
    for (ip, names) in links {
        s.push_str(&format!("{ip}\t{names}\n"));
    }
    for ip in own_ips {
        s.push_str(&format!("{ip}\t{hostname}\n"));
    }
    s
}

/// resolv.conf. On user-defined networks the embedded resolver answers at 127.0.0.11 (docker's
/// address) and forwards to the host's or --dns servers; elsewhere the host's file is copied
/// without loopback resolvers (unreachable from another namespace), falling back to Google's
/// public resolvers as docker does, with --dns/--dns-search/--dns-option replacing the
/// respective lines.
pub fn resolv_conf(host_resolv: &str, cfg: &DnsConfig, embedded: bool) -> String {
    let mut servers = Vec::new();
    let mut search = Vec::new();
    let mut options = Vec::new();
    let mut other = Vec::new();
    for line in host_resolv.lines() {
        let mut words = line.split_whitespace();
        match words.next() {
            Some("nameserver") => {
                if let Some(ns) = words.next() {
                    if !(ns.starts_with("127.") || ns == "::1") {
                        servers.push(ns.to_owned());
                    }
                }
            }
            Some("search") | Some("domain") => search = words.map(str::to_owned).collect(),
            Some("options") => options.extend(words.map(str::to_owned)),
            Some(w) if !w.starts_with('#') && !w.starts_with(';') => other.push(line.to_owned()),
            _ => {}
        }
    }
    if !cfg.servers.is_empty() {
        servers = cfg.servers.clone();
    }
    if servers.is_empty() {
        servers = vec!["8.8.8.8".into(), "8.8.4.4".into()];
    }
    if !cfg.search.is_empty() {
        search = cfg.search.iter().filter(|s| *s != ".").cloned().collect();
    }
    if !cfg.options.is_empty() {
        options = cfg.options.clone();
    }
    let mut s = String::new();
    if embedded {
        s.push_str("# Generated by berth: the embedded DNS server answers at 127.0.0.11.\n");
        s.push_str(&format!("# ExtServers: [{}]\n", servers.join(" ")));
        s.push_str("nameserver 127.0.0.11\n");
        if !options.iter().any(|o| o.starts_with("ndots:")) {
            options.insert(0, "ndots:0".into());
        }
    } else {
        for ns in &servers {
            s.push_str(&format!("nameserver {ns}\n"));
        }
    }
    if !search.is_empty() {
        s.push_str(&format!("search {}\n", search.join(" ")));
    }
    if !options.is_empty() {
        s.push_str(&format!("options {}\n", options.join(" ")));
    }
    for l in other {
        s.push_str(&l);
        s.push('\n');
    }
    s
}

/// The upstream servers the embedded resolver forwards to for this container.
pub fn upstream_servers(host_resolv: &str, cfg: &DnsConfig) -> Vec<String> {
    if !cfg.servers.is_empty() {
        return cfg.servers.clone();
    }
    let v: Vec<String> = host_resolv
        .lines()
        .filter_map(|l| l.trim().strip_prefix("nameserver"))
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .collect();
    if v.is_empty() {
        vec!["8.8.8.8".into(), "8.8.4.4".into()]
    } else {
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_bridge_copies_host_without_loopback() {
        let host = "nameserver 127.0.0.53\nsearch corp.example\noptions edns0\n";
        let r = resolv_conf(host, &DnsConfig::default(), false);
        assert_eq!(
            r,
            "nameserver 8.8.8.8\nnameserver 8.8.4.4\nsearch corp.example\noptions edns0\n"
        );
        let cfg = DnsConfig {
            servers: vec!["1.1.1.1".into()],
            search: vec!["a.b".into()],
            options: vec!["ndots:2".into()],
            extra_hosts: vec![],
        };
        let r = resolv_conf("nameserver 10.0.0.1\n", &cfg, false);
        assert_eq!(r, "nameserver 1.1.1.1\nsearch a.b\noptions ndots:2\n");
    }

    #[test]
    fn user_networks_use_the_embedded_resolver() {
        let r = resolv_conf(
            "nameserver 10.0.0.1\nsearch x\n",
            &DnsConfig::default(),
            true,
        );
        assert!(r.contains("nameserver 127.0.0.11\n"));
        assert!(!r.contains("nameserver 10.0.0.1"));
        assert!(r.contains("search x\n"));
        assert!(r.contains("options ndots:0\n"));
    }

    #[test]
    fn hosts_file_and_validation() {
        let h = hosts(
            "web",
            &[Ipv4Addr::new(10, 201, 0, 2).into()],
            &["db:10.0.0.5".into(), "gw:host-gateway".into()],
            &[(Ipv4Addr::new(10, 201, 0, 3), "al 0123456789ab up".into())],
            Some(Ipv4Addr::new(10, 201, 0, 1)),
        );
        assert!(h.starts_with("127.0.0.1\tlocalhost\n"));
        assert!(h.contains("10.0.0.5\tdb\n"));
        assert!(h.contains("10.201.0.1\tgw\n"));
        assert!(h.ends_with("10.201.0.3\tal 0123456789ab up\n10.201.0.2\tweb\n"));
        let bad = DnsConfig {
            extra_hosts: vec!["nohost".into()],
            ..Default::default()
        };
        assert!(bad.validate().is_err());
        let bad = DnsConfig {
            servers: vec!["x.y".into()],
            ..Default::default()
        };
        assert!(bad.validate().is_err());
    }
}
