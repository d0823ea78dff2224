//! The Ports tab: every exposed or published port, from the inspect document
//! (`NetworkSettings.Ports` while running, `HostConfig.PortBindings` as configured,
//! `Config.ExposedPorts`), or the list row's ports before the document arrives.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::dashboard::store::model::Container;

/// "80/tcp" → (80, "tcp"), sorted by number then protocol.
fn key(spec: &str) -> (u32, String) {
    let (port, proto) = spec.split_once('/').unwrap_or((spec, "tcp"));
    (port.parse().unwrap_or(u32::MAX), proto.to_string())
}

fn host(binding: &Value) -> Option<String> {
    let port = binding["HostPort"].as_str().filter(|p| !p.is_empty())?;
    let ip = binding["HostIp"].as_str().unwrap_or("");
    Some(match ip {
        "" => format!("0.0.0.0:{port}"),
        ip if ip.contains(':') => format!("[{ip}]:{port}"),
        ip => format!("{ip}:{port}"),
    })
}

pub fn rows(detail: Option<&Value>, c: &Container) -> Vec<Vec<String>> {
    let mut ports: BTreeMap<(u32, String), Vec<String>> = BTreeMap::new();
    match detail {
        Some(d) => {
            let sources = [
                &d["NetworkSettings"]["Ports"],
                &d["HostConfig"]["PortBindings"],
                &d["Config"]["ExposedPorts"],
            ];
            for src in sources {
                let Some(map) = src.as_object() else { continue };
                for (spec, bindings) in map {
                    let hosts = ports.entry(key(spec)).or_default();
                    for h in bindings.as_array().into_iter().flatten().filter_map(host) {
                        if !hosts.contains(&h) {
                            hosts.push(h);
                        }
                    }
                }
            }
        }
        None => {
            for p in &c.ports {
                let hosts = ports
                    .entry((u32::from(p.private), p.proto.clone()))
                    .or_default();
                if let Some(public) = p.public {
                    let h = format!("{}:{public}", p.ip.as_deref().unwrap_or("0.0.0.0"));
                    if !hosts.contains(&h) {
                        hosts.push(h);
                    }
                }
            }
        }
    }
    ports
        .into_iter()
        .map(|((port, proto), hosts)| {
            let port = if port == u32::MAX {
                "?".to_string()
            } else {
                port.to_string()
            };
            let host = if hosts.is_empty() {
                "exposed, not published".to_string()
            } else {
                hosts.join(", ")
            };
            vec![port, proto, host]
        })
        .collect()
}

pub fn empty(detail: Option<&Value>) -> &'static str {
    if detail.is_none() {
        "loading…"
    } else {
        "no ports exposed or published"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn merges_published_configured_and_exposed() {
        let d = json!({
            "NetworkSettings": {"Ports": {"80/tcp": [{"HostIp": "0.0.0.0", "HostPort": "8080"},
                                                    {"HostIp": "::", "HostPort": "8080"}],
                                         "53/udp": null}},
            "HostConfig": {"PortBindings": {"80/tcp": [{"HostIp": "", "HostPort": "8080"}]}},
            "Config": {"ExposedPorts": {"443/tcp": {}, "80/tcp": {}}}
        });
        let c = Container::default();
        let r = rows(Some(&d), &c);
        assert_eq!(
            r,
            vec![
                vec!["53", "udp", "exposed, not published"],
                vec!["80", "tcp", "0.0.0.0:8080, [::]:8080"],
                vec!["443", "tcp", "exposed, not published"],
            ]
        );
        assert!(rows(Some(&json!({})), &c).is_empty());
    }
}
