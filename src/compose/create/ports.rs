//! Ports (`buildContainerPorts`, `buildContainerPortBindingOptions`): the exposed port set of
//! `Config.ExposedPorts` and the bindings of `HostConfig.PortBindings`, keyed `port/proto`.

use serde_json::{json, Map, Value};

use crate::compose::types::ServiceConfig;

/// `expose` entries as written ("3000" stays without a protocol, as `nat.Port(s)` keeps it),
/// then every `ports` target as `target/protocol`.
pub fn exposed_ports(service: &ServiceConfig) -> Map<String, Value> {
    let mut set = Map::new();
    for e in service.expose.iter() {
        set.insert(e.clone(), json!({}));
    }
    for p in &service.ports {
        set.insert(format!("{}/{}", p.target, p.protocol), json!({}));
    }
    set
}

/// Each published port's host address and port (empty when the engine picks), several per
/// container port when a target is published more than once.
pub fn port_bindings(service: &ServiceConfig) -> Map<String, Value> {
    let mut bindings = Map::new();
    for p in &service.ports {
        let key = format!("{}/{}", p.target, p.protocol);
        let list = bindings.entry(key).or_insert_with(|| json!([]));
        if let Value::Array(a) = list {
            a.push(json!({"HostIp": p.host_ip, "HostPort": p.published}));
        }
    }
    bindings
}
