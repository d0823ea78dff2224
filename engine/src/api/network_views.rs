//! Docker's JSON for networks (`GET /networks`, `GET /networks/{id}`) and for the networking part
//! of a container's inspect document and `ps` entry, built from the network service's snapshots.

use serde_json::{json, Value};

use crate::model::container::{ContainerRecord, ContainerSummary, EndpointSettings};
use crate::network::mac_text;
use crate::network::ports;
use crate::network::store::{Attachment, NetworkRecord};
use crate::service::network::{ContainerNetworking, NetworkService};

/// `GET /networks/{id}` / one entry of `GET /networks`.
pub fn network_json(nets: &NetworkService, n: &NetworkRecord, with_containers: bool) -> Value {
    let mut containers = serde_json::Map::new();
    if with_containers {
        for m in nets.members(&n.id) {
            let ep = &m.endpoint;
            containers.insert(
                m.container_id,
                json!({
                    "Name": m.name,
                    "EndpointID": ep.endpoint_id,
                    "MacAddress": mac_text(&ep.mac),
                    "IPv4Address": format!("{}/{}", ep.ip, ep.prefix),
                    "IPv6Address": ep.ipv6.map(|v| format!("{}/{}", v.ip, v.prefix)).unwrap_or_default(),
                }),
            );
        }
    }
    let mut config: Vec<Value> = match (&n.subnet, n.gateway) {
        (Some(s), Some(g)) => {
            let mut c = json!({"Subnet": s, "Gateway": g.to_string()});
            if let Some(r) = &n.ip_range {
                c["IPRange"] = json!(r);
            }
            if !n.aux_addresses.is_empty() {
                c["AuxiliaryAddresses"] = json!(n.aux_addresses);
            }
            vec![c]
        }
        _ => vec![],
    };
    // Docker shows the IPv6 pool as it was given (the gateway only when one was), enabled or not.
    if let Some(v6) = &n.ipv6 {
        let mut c = json!({"Subnet": v6.subnet});
        if let Some(r) = &v6.ip_range {
            c["IPRange"] = json!(r);
        }
        if let Some(g) = v6.gateway {
            c["Gateway"] = json!(g.to_string());
        }
        config.push(c);
    }
    json!({
        "Name": n.name,
        "Id": n.id,
        "Created": n.created,
        "Scope": "local",
        "Driver": n.driver,
        "EnableIPv4": true,
        "EnableIPv6": n.enable_ipv6,
        "IPAM": {"Driver": "default", "Options": null, "Config": config},
        "Internal": n.internal,
        "Attachable": n.attachable,
        "Ingress": false,
        "ConfigFrom": {"Network": ""},
        "ConfigOnly": false,
        "Containers": containers,
        "Options": n.options,
        "Labels": n.labels,
    })
}

/// An endpoint's `IPAMConfig` as docker shows it: null when nothing was asked, else only the
/// fields that were.
fn ipam_config(a: &Attachment) -> Value {
    let mut m = serde_json::Map::new();
    if let Some(ip) = a.requested_ip {
        m.insert("IPv4Address".into(), json!(ip.to_string()));
    }
    if let Some(ip) = a.requested_ip6 {
        m.insert("IPv6Address".into(), json!(ip.to_string()));
    }
    if !a.link_local_ips.is_empty() {
        m.insert("LinkLocalIPs".into(), json!(a.link_local_ips));
    }
    if m.is_empty() {
        Value::Null
    } else {
        Value::Object(m)
    }
}

/// `NetworkSettings` of a container's inspect (and what ps needs): (networks, ports, summary
/// ports).
fn container_view(rec: &ContainerRecord, c: &ContainerNetworking) -> (Value, Value, Vec<Value>) {
    let mut networks = serde_json::Map::new();
    for (a, n) in &c.attachments {
        let ep = a.active.as_ref();
        let v6 = ep.and_then(|e| e.ipv6);
        networks.insert(
            n.name.clone(),
            json!({
                "IPAMConfig": ipam_config(a),
                "Links": if a.links.is_empty() { Value::Null } else { json!(a.links) },
                "Aliases": if a.aliases.is_empty() { Value::Null } else { json!(a.aliases) },
                "MacAddress": ep.map(|e| mac_text(&e.mac))
                    .or_else(|| a.mac_address.as_ref().map(mac_text))
                    .unwrap_or_default(),
                "DriverOpts": if a.driver_opts.is_empty() { Value::Null } else { json!(a.driver_opts) },
                "NetworkID": n.id,
                "EndpointID": ep.map(|e| e.endpoint_id.clone()).unwrap_or_default(),
                "Gateway": ep.map(|e| e.gateway.to_string()).unwrap_or_default(),
                "IPAddress": ep.map(|e| e.ip.to_string()).unwrap_or_default(),
                "IPPrefixLen": ep.map(|e| e.prefix).unwrap_or(0),
                "IPv6Gateway": v6.map(|v| v.gateway.to_string()).unwrap_or_default(),
                "GlobalIPv6Address": v6.map(|v| v.ip.to_string()).unwrap_or_default(),
                "GlobalIPv6PrefixLen": v6.map_or(0, |v| v.prefix),
                "DNSNames": if n.name == "bridge" { Value::Null } else {
                    let mut names = vec![rec.name.clone()];
                    names.extend(a.aliases.iter().cloned());
                    names.push(rec.id[..12].to_owned());
                    json!(names)
                },
            }),
        );
    }
    let exposed = ports::exposed_keys(rec.config.exposed_ports.as_ref());
    (
        Value::Object(networks),
        ports::inspect_ports(&exposed, &c.net.published),
        ports::summary_ports(&exposed, &c.net.published),
    )
}

/// Fill `NetworkSettings` of a container inspect document (untouched when networking knows
/// nothing of the container: host, none).
pub fn decorate_inspect(nets: &NetworkService, rec: &ContainerRecord, doc: &mut Value) {
    let Some(c) = nets.container_networking(&rec.id) else {
        return;
    };
    let (networks, ports, _) = container_view(rec, &c);
    let Some(ns) = doc
        .get_mut("NetworkSettings")
        .and_then(Value::as_object_mut)
    else {
        return;
    };
    // The top-level fields describe the default bridge endpoint, as in docker.
    if let Some(b) = networks.get("bridge") {
        for (top, key) in [
            ("IPAddress", "IPAddress"),
            ("Gateway", "Gateway"),
            ("MacAddress", "MacAddress"),
            ("EndpointID", "EndpointID"),
            ("IPPrefixLen", "IPPrefixLen"),
        ] {
            if let Some(v) = b.get(key) {
                ns.insert(top.into(), v.clone());
            }
        }
    }
    let sandbox = c
        .net
        .netns
        .as_ref()
        .map(|p| p.to_string_lossy().into_owned())
        .unwrap_or_default();
    ns.insert("SandboxKey".into(), json!(sandbox));
    ns.insert("Ports".into(), ports);
    ns.insert("Networks".into(), networks);
}

/// Fill `Ports` and `NetworkSettings.Networks` of a `ps` entry.
pub fn decorate_summary(nets: &NetworkService, rec: &ContainerRecord, s: &mut ContainerSummary) {
    // Built directly (no JSON round trip): `ps` asks this for every container.
    let Some(c) = nets.container_networking(&rec.id) else {
        return;
    };
    let exposed = ports::exposed_keys(rec.config.exposed_ports.as_ref());
    s.ports = ports::summary_ports(&exposed, &c.net.published);
    s.network_settings.networks = c
        .attachments
        .iter()
        .map(|(a, n)| {
            let ep = a.active.as_ref();
            let v6 = ep.and_then(|e| e.ipv6);
            (
                n.name.clone(),
                EndpointSettings {
                    mac_address: ep.map(|e| mac_text(&e.mac)).unwrap_or_default(),
                    network_id: n.id.clone(),
                    endpoint_id: ep.map(|e| e.endpoint_id.clone()).unwrap_or_default(),
                    gateway: ep.map(|e| e.gateway.to_string()).unwrap_or_default(),
                    ip_address: ep.map(|e| e.ip.to_string()).unwrap_or_default(),
                    ip_prefix_len: ep.map_or(0, |e| u32::from(e.prefix)),
                    ipv6_gateway: v6.map(|v| v.gateway.to_string()).unwrap_or_default(),
                    global_ipv6_address: v6.map(|v| v.ip.to_string()).unwrap_or_default(),
                    global_ipv6_prefix_len: v6.map_or(0, |v| u32::from(v.prefix)),
                    aliases: (!a.aliases.is_empty()).then(|| a.aliases.clone()),
                    links: (!a.links.is_empty()).then(|| a.links.clone()),
                    ..Default::default()
                },
            )
        })
        .collect();
}
