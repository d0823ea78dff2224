//! Networking of the create body (`defaultNetworkSettings`, `createEndpointSettings`,
//! `getAliases`, `prepareContainerMACAddress`): the network mode (an explicit `network_mode`,
//! `none` when the project has no network, else the highest-priority network's name) and one
//! endpoint per network. From API 1.44 the engine takes every endpoint at create; below it
//! only the primary one, the others being connected after create ([`extra_networks`]).

use serde_json::{json, Map, Value};

use super::Resolved;
use super::{container_name, str_list, str_map, version_at_least, CreateError, CreateOptions};
use crate::compose::types::{Project, ServiceConfig};

const IFNAME: &str = "com.docker.network.endpoint.ifname";

/// `prepareContainerMACAddress`: the service-wide `mac_address` must agree with the main
/// network's; from API 1.44 it moves onto the main endpoint and the container-wide one is
/// empty; below, only one network may carry an address and it becomes the container's.
pub fn prepare_mac_address(
    service: &mut ServiceConfig,
    api_version: &str,
) -> Result<String, CreateError> {
    let main = service.networks_by_priority().into_iter().next();
    let mut mac = service.mac_address.clone();
    let main_mac = main
        .as_ref()
        .and_then(|n| service.networks.get(n))
        .and_then(|c| c.as_ref())
        .map(|c| c.mac_address.clone());
    if let (Some(main_name), Some(main_mac)) = (&main, &main_mac) {
        if !mac.is_empty() && !main_mac.is_empty() && *main_mac != mac {
            return Err(CreateError::new(format!(
                "the service-level mac_address should have the same value as network {main_name}"
            )));
        }
    }
    if version_at_least(api_version, "1.44") {
        if let Some(Some(cfg)) = main.as_ref().and_then(|n| service.networks.get_mut(n)) {
            if cfg.mac_address.is_empty() {
                cfg.mac_address = mac.clone();
            }
        }
        mac.clear();
    } else if !service.networks.is_empty() {
        let with_mac: Vec<&String> = service
            .networks
            .iter()
            .filter(|(_, c)| c.as_ref().is_some_and(|c| !c.mac_address.is_empty()))
            .map(|(k, _)| k)
            .collect();
        if with_mac.len() > 1 {
            let names: Vec<&str> = with_mac.iter().map(|s| s.as_str()).collect();
            return Err(CreateError::new(format!(
                "a MAC address is specified for multiple networks ({}), but this feature requires Docker Engine v25 or later",
                names.join(", ")
            )));
        }
        if let Some(m) = main_mac.filter(|m| !m.is_empty()) {
            mac = m;
        }
    }
    Ok(mac)
}

/// `getAliases`: the container name, then (with network aliases) the service name and the
/// network's `aliases`.
pub fn aliases(
    project: &Project,
    service: &ServiceConfig,
    number: u32,
    network_key: &str,
    use_network_aliases: bool,
) -> Vec<String> {
    let mut a = vec![container_name(&project.name, service, number)];
    if use_network_aliases {
        a.push(service.name.clone());
        if let Some(Some(cfg)) = service.networks.get(network_key) {
            a.extend(cfg.aliases.iter().cloned());
        }
    }
    a
}

/// `createEndpointSettings`: docker's `EndpointSettings` for one network, with its operational
/// fields zero as docker's client sends them. (docker compose puts the IPv6 address in
/// `IPv6Gateway`; so does this.)
pub fn endpoint_settings(
    project: &Project,
    service: &ServiceConfig,
    number: u32,
    network_key: &str,
    links: &[String],
    use_network_aliases: bool,
    warnings: &mut Vec<String>,
) -> Map<String, Value> {
    let cfg = service.networks.get(network_key).and_then(|c| c.as_ref());
    let mut e = Map::new();
    let ipam = cfg.map(|c| {
        let mut m = Map::new();
        if !c.ipv4_address.is_empty() {
            m.insert("IPv4Address".into(), json!(c.ipv4_address));
        }
        if !c.ipv6_address.is_empty() {
            m.insert("IPv6Address".into(), json!(c.ipv6_address));
        }
        if !c.link_local_ips.is_empty() {
            m.insert("LinkLocalIPs".into(), json!(c.link_local_ips));
        }
        Value::Object(m)
    });
    let mut driver_opts = cfg.map(|c| c.driver_opts.0.clone()).unwrap_or_default();
    if let Some(c) = cfg.filter(|c| !c.interface_name.is_empty()) {
        if driver_opts
            .get(IFNAME)
            .is_some_and(|n| *n != c.interface_name)
        {
            warnings.push(format!(
                "ignoring services.{}.networks.{network_key}.interface_name as {IFNAME} driver_opts is already declared",
                service.name
            ));
        }
        driver_opts.insert(IFNAME.into(), c.interface_name.clone());
    }
    let s = |f: fn(&crate::compose::types::ServiceNetworkConfig) -> &String| {
        json!(cfg.map(f).cloned().unwrap_or_default())
    };
    e.insert("IPAMConfig".into(), ipam.unwrap_or(Value::Null));
    e.insert("Links".into(), str_list(links));
    e.insert(
        "Aliases".into(),
        json!(aliases(
            project,
            service,
            number,
            network_key,
            use_network_aliases
        )),
    );
    e.insert("DriverOpts".into(), str_map(driver_opts.iter()));
    e.insert(
        "GwPriority".into(),
        json!(cfg.map_or(0, |c| c.gateway_priority)),
    );
    e.insert("NetworkID".into(), json!(""));
    e.insert("EndpointID".into(), json!(""));
    e.insert("Gateway".into(), json!(""));
    e.insert("IPAddress".into(), s(|c| &c.ipv4_address));
    e.insert("IPPrefixLen".into(), json!(0));
    e.insert("IPv6Gateway".into(), s(|c| &c.ipv6_address));
    e.insert("GlobalIPv6Address".into(), json!(""));
    e.insert("GlobalIPv6PrefixLen".into(), json!(0));
    e.insert("MacAddress".into(), s(|c| &c.mac_address));
    e.insert("DNSNames".into(), Value::Null);
    e
}

/// The engine name of a project network (`""` for a key the project lacks, Go's zero value).
fn engine_name(project: &Project, key: &str) -> String {
    project
        .networks
        .get(key)
        .map(|n| n.name.clone())
        .unwrap_or_default()
}

/// `defaultNetworkSettings`: `HostConfig.NetworkMode` and the `NetworkingConfig` (none when
/// the mode is explicit or the project has no network).
pub fn default_network_settings(
    project: &Project,
    service: &ServiceConfig,
    number: u32,
    opts: &CreateOptions,
    r: &Resolved,
    warnings: &mut Vec<String>,
) -> Result<(String, Option<Value>), CreateError> {
    if !service.network_mode.is_empty() {
        return Ok((service.network_mode.clone(), None));
    }
    if project.networks.is_empty() {
        return Ok(("none".into(), None));
    }
    let by_priority = service.networks_by_priority();
    let primary = by_priority
        .first()
        .cloned()
        .unwrap_or_else(|| "default".into());
    let primary_name = engine_name(project, &primary);
    let aliases = opts.use_network_aliases;
    let mut primary_endpoint = endpoint_settings(
        project, service, number, &primary, &r.links, aliases, warnings,
    );
    let mut endpoints = Map::new();
    if version_at_least(&r.api_version, "1.44") {
        for key in by_priority.iter().skip(1) {
            let e = endpoint_settings(project, service, number, key, &r.links, aliases, warnings);
            endpoints.insert(engine_name(project, key), Value::Object(e));
        }
        if primary_endpoint["MacAddress"] == "" {
            primary_endpoint.insert("MacAddress".into(), json!(service.mac_address));
        }
    }
    if !version_at_least(&r.api_version, "1.49")
        && service
            .networks
            .values()
            .any(|c| c.as_ref().is_some_and(|c| !c.interface_name.is_empty()))
    {
        return Err(CreateError::new(
            "interface_name requires Docker Engine v28.1 or later",
        ));
    }
    endpoints.insert(primary_name.clone(), Value::Object(primary_endpoint));
    Ok((primary_name, Some(json!({ "EndpointsConfig": endpoints }))))
}

/// Below API 1.44, the networks besides the primary one, connected one by one after create and
/// before start (as `createMobyContainer` does): engine network name and `EndpointConfig`.
/// Empty from 1.44, where the create body carries them all.
pub fn extra_networks(
    project: &Project,
    service: &ServiceConfig,
    number: u32,
    opts: &CreateOptions,
    r: &Resolved,
    network_mode: &str,
) -> Vec<(String, Value)> {
    if version_at_least(&r.api_version, "1.44") {
        return Vec::new();
    }
    let mut warnings = Vec::new();
    service
        .networks_by_priority()
        .into_iter()
        .filter_map(|key| {
            let name = engine_name(project, &key);
            (name != network_mode).then(|| {
                let e = endpoint_settings(
                    project,
                    service,
                    number,
                    &key,
                    &r.links,
                    opts.use_network_aliases,
                    &mut warnings,
                );
                (name, Value::Object(e))
            })
        })
        .collect()
}
