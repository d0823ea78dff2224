//! Published ports: docker's `PortBindings` / `PublishAllPorts` / `ExposedPorts` parsed and
//! validated, and host ports reserved by binding real sockets. The engine keeps those sockets
//! for as long as the container runs: the kernel then refuses the port to anyone else (and
//! reports a port already in use by someone else), while traffic itself goes through DNAT.

use std::collections::BTreeMap;
use std::net::{Ipv4Addr, SocketAddrV4};
use std::os::fd::OwnedFd;

use nix::sys::socket::{bind, getsockname, socket, AddressFamily, SockFlag, SockType, SockaddrIn};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{EngineError, Result};

/// A container port: "80/tcp".
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ContainerPort {
    pub port: u16,
    pub udp: bool,
}

impl ContainerPort {
    pub fn proto(&self) -> &'static str {
        if self.udp {
            "udp"
        } else {
            "tcp"
        }
    }

    pub fn key(&self) -> String {
        format!("{}/{}", self.port, self.proto())
    }

    /// "80", "80/tcp", "53/udp".
    pub fn parse(s: &str) -> Result<Self> {
        let (port, proto) = s.split_once('/').unwrap_or((s, "tcp"));
        let udp = match proto.to_ascii_lowercase().as_str() {
            "tcp" | "" => false,
            "udp" => true,
            other => {
                return Err(EngineError::invalid(format!(
                    "invalid proto: {other} (berth publishes tcp and udp ports)"
                )))
            }
        };
        let port = parse_port(port)?;
        if port == 0 {
            return Err(EngineError::invalid(format!("invalid port: {s}")));
        }
        Ok(ContainerPort { port, udp })
    }
}

fn parse_port(s: &str) -> Result<u16> {
    s.trim()
        .parse::<u16>()
        .map_err(|_| EngineError::invalid(format!("invalid port: {s:?}")))
}

/// What the user asked for one binding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Requested {
    pub container: ContainerPort,
    pub host_ip: Option<Ipv4Addr>,
    /// Inclusive range of acceptable host ports; (0, 0) = any free port.
    pub host_ports: (u16, u16),
}

/// A reserved host port (what inspect's `Ports` and `docker port` show).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Published {
    pub container: ContainerPort,
    pub host_ip: Option<Ipv4Addr>,
    pub host_port: u16,
}

impl Published {
    pub fn host_ip_text(&self) -> String {
        self.host_ip.unwrap_or(Ipv4Addr::UNSPECIFIED).to_string()
    }
}

/// Parse HostConfig.PortBindings (+ PublishAllPorts over the exposed ports). Every problem is a
/// 400 with a message naming the bad value.
pub fn requested(
    host_extra: &serde_json::Map<String, Value>,
    exposed: Option<&std::collections::HashMap<String, Value>>,
) -> Result<Vec<Requested>> {
    let mut out = Vec::new();
    if let Some(bindings) = host_extra.get("PortBindings").filter(|v| !v.is_null()) {
        let map = bindings
            .as_object()
            .ok_or_else(|| EngineError::invalid("PortBindings must be an object"))?;
        for (key, list) in map {
            let container = ContainerPort::parse(key)?;
            let list = match list {
                Value::Null => continue,
                Value::Array(a) => a,
                _ => {
                    return Err(EngineError::invalid(format!(
                        "PortBindings[{key}] must be a list"
                    )))
                }
            };
            for b in list {
                let ip = b.get("HostIp").and_then(Value::as_str).unwrap_or("");
                let port = b.get("HostPort").and_then(Value::as_str).unwrap_or("");
                out.push(Requested {
                    container,
                    host_ip: parse_host_ip(ip)?,
                    host_ports: parse_host_ports(port)?,
                });
            }
        }
    }
    let all = host_extra
        .get("PublishAllPorts")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    if all {
        for key in exposed.into_iter().flat_map(|m| m.keys()) {
            let container = ContainerPort::parse(key)?;
            if !out.iter().any(|r| r.container == container) {
                out.push(Requested {
                    container,
                    host_ip: None,
                    host_ports: (0, 0),
                });
            }
        }
    }
    Ok(out)
}

fn parse_host_ip(s: &str) -> Result<Option<Ipv4Addr>> {
    let s = s.trim().trim_start_matches('[').trim_end_matches(']');
    if s.is_empty() || s == "0.0.0.0" || s == "::" {
        return Ok(None);
    }
    s.parse::<Ipv4Addr>().map(Some).map_err(|_| {
        EngineError::invalid(format!(
            "invalid host IP address {s:?} in a port binding (IPv4 expected)"
        ))
    })
}

fn parse_host_ports(s: &str) -> Result<(u16, u16)> {
    let s = s.trim();
    if s.is_empty() {
        return Ok((0, 0));
    }
    let (a, b) = match s.split_once('-') {
        Some((a, b)) => (parse_port(a)?, parse_port(b)?),
        None => {
            let p = parse_port(s)?;
            (p, p)
        }
    };
    if a > b {
        return Err(EngineError::invalid(format!("invalid port range: {s}")));
    }
    Ok((a, b))
}

/// Every container port to show in inspect/ps: exposed ones (unpublished) and published ones.
pub fn exposed_keys(
    exposed: Option<&std::collections::HashMap<String, Value>>,
) -> Vec<ContainerPort> {
    let mut v: Vec<ContainerPort> = exposed
        .into_iter()
        .flat_map(|m| m.keys())
        .filter_map(|k| ContainerPort::parse(k).ok())
        .collect();
    v.sort();
    v.dedup();
    v
}

/// Reserve a host port by binding a socket of the port's protocol.
fn bind_one(
    ip: Option<Ipv4Addr>,
    port: u16,
    udp: bool,
) -> std::result::Result<(OwnedFd, u16), nix::errno::Errno> {
    let ty = if udp {
        SockType::Datagram
    } else {
        SockType::Stream
    };
    let fd = socket(AddressFamily::Inet, ty, SockFlag::SOCK_CLOEXEC, None)?;
    let addr = SockaddrIn::from(SocketAddrV4::new(ip.unwrap_or(Ipv4Addr::UNSPECIFIED), port));
    use std::os::fd::AsRawFd;
    bind(fd.as_raw_fd(), &addr)?;
    let got: SockaddrIn = getsockname(fd.as_raw_fd())?;
    Ok((fd, got.port()))
}

/// Reserve host ports for every request. On any failure, everything reserved so far is released
/// (the sockets are dropped) and docker's message is returned.
pub fn reserve(reqs: &[Requested]) -> Result<(Vec<Published>, Vec<OwnedFd>)> {
    let mut published = Vec::new();
    let mut fds = Vec::new();
    for r in reqs {
        let shown_ip = r.host_ip.unwrap_or(Ipv4Addr::UNSPECIFIED);
        let (lo, hi) = r.host_ports;
        let mut last_err = None;
        let mut got = None;
        for port in lo..=hi {
            match bind_one(r.host_ip, port, r.container.udp) {
                Ok(ok) => {
                    got = Some(ok);
                    break;
                }
                Err(e) => last_err = Some(e),
            }
        }
        let Some((fd, port)) = got else {
            let shown = if lo == hi {
                lo.to_string()
            } else {
                format!("{lo}-{hi}")
            };
            let why = match last_err {
                Some(nix::errno::Errno::EADDRINUSE) | None => {
                    "port is already allocated".to_owned()
                }
                Some(nix::errno::Errno::EADDRNOTAVAIL) => {
                    "cannot assign requested address".to_owned()
                }
                Some(e) => e.desc().to_owned(),
            };
            return Err(EngineError::conflict(format!(
                "driver failed programming external connectivity on endpoint: Bind for {shown_ip}:{shown} failed: {why}"
            )));
        };
        fds.push(fd);
        published.push(Published {
            container: r.container,
            host_ip: r.host_ip,
            host_port: port,
        });
    }
    Ok((published, fds))
}

/// Docker's `NetworkSettings.Ports`: every exposed or published port, null when unpublished.
pub fn inspect_ports(exposed: &[ContainerPort], published: &[Published]) -> Value {
    let mut map: BTreeMap<String, Value> = BTreeMap::new();
    for p in exposed {
        map.insert(p.key(), Value::Null);
    }
    for p in published {
        let entry = map.entry(p.container.key()).or_insert(Value::Null);
        if entry.is_null() {
            *entry = Value::Array(Vec::new());
        }
        if let Value::Array(a) = entry {
            a.push(serde_json::json!({"HostIp": p.host_ip_text(), "HostPort": p.host_port.to_string()}));
        }
    }
    Value::Object(map.into_iter().collect())
}

/// Docker's ContainerSummary `Ports`.
pub fn summary_ports(exposed: &[ContainerPort], published: &[Published]) -> Vec<Value> {
    let mut out = Vec::new();
    for p in published {
        out.push(serde_json::json!({
            "IP": p.host_ip_text(), "PrivatePort": p.container.port,
            "PublicPort": p.host_port, "Type": p.container.proto(),
        }));
    }
    for e in exposed {
        if !published.iter().any(|p| p.container == *e) {
            out.push(serde_json::json!({"PrivatePort": e.port, "Type": e.proto()}));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn extra(v: Value) -> serde_json::Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn parses_bindings() {
        let r = requested(
            &extra(
                json!({"PortBindings": {"80/tcp": [{"HostIp": "127.0.0.1", "HostPort": "8080"}],
                "53/udp": [{"HostIp": "", "HostPort": "9000-9001"}]}}),
            ),
            None,
        )
        .unwrap();
        assert_eq!(r.len(), 2);
        assert!(r.contains(&Requested {
            container: ContainerPort {
                port: 80,
                udp: false
            },
            host_ip: Some(Ipv4Addr::LOCALHOST),
            host_ports: (8080, 8080)
        }));
        assert!(r
            .iter()
            .any(|q| q.container.udp && q.host_ports == (9000, 9001)));
    }

    #[test]
    fn rejects_bad_bindings() {
        for bad in [
            json!({"PortBindings": {"x/tcp": []}}),
            json!({"PortBindings": {"80/sctpx": []}}),
            json!({"PortBindings": {"80/tcp": [{"HostPort": "99999"}]}}),
            json!({"PortBindings": {"80/tcp": [{"HostIp": "nope", "HostPort": "1"}]}}),
            json!({"PortBindings": {"80/tcp": [{"HostPort": "9-1"}]}}),
        ] {
            assert!(requested(&extra(bad.clone()), None).is_err(), "{bad}");
        }
    }

    #[test]
    fn publish_all_uses_exposed() {
        let exposed = std::collections::HashMap::from([("80/tcp".to_owned(), json!({}))]);
        let r = requested(&extra(json!({"PublishAllPorts": true})), Some(&exposed)).unwrap();
        assert_eq!(r[0].host_ports, (0, 0));
    }

    #[test]
    fn reserve_detects_ports_in_use_and_releases() {
        let held = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = held.local_addr().unwrap().port();
        let reqs = vec![
            Requested {
                container: ContainerPort {
                    port: 1,
                    udp: false,
                },
                host_ip: Some(Ipv4Addr::LOCALHOST),
                host_ports: (0, 0),
            },
            Requested {
                container: ContainerPort {
                    port: 2,
                    udp: false,
                },
                host_ip: Some(Ipv4Addr::LOCALHOST),
                host_ports: (port, port),
            },
        ];
        let err = reserve(&reqs).unwrap_err().to_string();
        assert!(err.contains("port is already allocated"), "{err}");
        let (p, fds) = reserve(&reqs[..1]).unwrap();
        assert_ne!(p[0].host_port, 0);
        assert_eq!(fds.len(), 1);
        assert_eq!(
            inspect_ports(&[], &p)["1/tcp"][0]["HostIp"],
            json!("127.0.0.1")
        );
    }
}
