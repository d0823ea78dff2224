//! The project's networks on the engine (`prepareNetworks`, `ensureNetworks`,
//! `ensureNetwork`, `resolveOrCreateNetwork`, `resolveExternalNetwork`,
//! `removeDivergedNetwork`): an external one must exist; another is found by name and labels
//! or created with docker compose's labels, its config hash among them. A network whose hash
//! no longer matches the file is removed (its services' containers stopped and disconnected
//! first) and created again, those containers reconnected.

use std::collections::BTreeMap;

use anyhow::{anyhow, Result};
use serde_json::{json, Map, Value};

use super::diverged::{has_status, services_using, stop_services};
use super::events::{Event, Progress};
use super::{str_map, CreateError};
use crate::client::api::networks::{NetworkConnect, NetworkDisconnect};
use crate::client::api::Filters;
use crate::client::Client;
use crate::compose::labels;
use crate::compose::observed::Container;
use crate::compose::types::{network_hash, NetworkConfig, Project};

/// `ensureNetworks`: every network of the project, key → engine id (`swarm` for an external
/// network swarm may hold). Go ranges over a map: here in key order.
pub async fn ensure_networks(
    client: &Client,
    project: &Project,
    progress: Progress<'_>,
) -> Result<BTreeMap<String, String>> {
    let mut ids = BTreeMap::new();
    for (key, n) in &project.networks {
        let id = ensure_network(client, project, key, n, progress).await?;
        ids.insert(key.clone(), id);
    }
    Ok(ids)
}

/// `prepareNetworks` + what `resolveOrCreateNetwork` adds: the labels a network is created
/// with (the file's, then compose's own, the config hash last).
pub fn network_labels(project: &Project, key: &str, n: &NetworkConfig) -> BTreeMap<String, String> {
    let mut l = n.labels.0.clone();
    l.extend(n.custom_labels.0.clone());
    l.insert(labels::NETWORK.into(), key.into());
    l.insert(labels::PROJECT.into(), project.name.clone());
    l.insert(labels::VERSION.into(), labels::COMPOSE_VERSION.into());
    l.insert(labels::CONFIG_HASH.into(), network_hash(n));
    l
}

/// The body of `POST /networks/create` as docker's client sends docker compose's
/// `network.CreateOptions` (with `Name`): IPAM only when a driver or pools are given.
pub fn network_create_body(project: &Project, key: &str, n: &NetworkConfig) -> Value {
    let ipam = if !n.ipam.driver.is_empty() || !n.ipam.config.is_empty() {
        let pools: Vec<Value> = n
            .ipam
            .config
            .iter()
            .flatten()
            .map(|p| {
                let mut m = Map::new();
                for (k, v) in [
                    ("Subnet", &p.subnet),
                    ("IPRange", &p.ip_range),
                    ("Gateway", &p.gateway),
                ] {
                    if !v.is_empty() {
                        m.insert(k.into(), json!(v));
                    }
                }
                if !p.auxiliary_addresses.is_empty() {
                    m.insert(
                        "AuxiliaryAddresses".into(),
                        str_map(p.auxiliary_addresses.iter()),
                    );
                }
                Value::Object(m)
            })
            .collect();
        let config = if pools.is_empty() {
            Value::Null
        } else {
            Value::Array(pools)
        };
        json!({"Driver": n.ipam.driver, "Options": null, "Config": config})
    } else {
        Value::Null
    };
    let mut b = Map::new();
    b.insert("Name".into(), json!(n.name));
    b.insert("Driver".into(), json!(n.driver));
    b.insert("Scope".into(), json!(""));
    if let Some(v) = n.enable_ipv4 {
        b.insert("EnableIPv4".into(), json!(v));
    }
    if let Some(v) = n.enable_ipv6 {
        b.insert("EnableIPv6".into(), json!(v));
    }
    b.insert("IPAM".into(), ipam);
    b.insert("Internal".into(), json!(n.internal));
    b.insert("Attachable".into(), json!(n.attachable));
    b.insert("Ingress".into(), json!(false));
    b.insert("ConfigOnly".into(), json!(false));
    b.insert("ConfigFrom".into(), Value::Null);
    b.insert("Options".into(), str_map(n.driver_opts.iter()));
    b.insert("Labels".into(), json!(network_labels(project, key, n)));
    Value::Object(b)
}

/// `ensureNetwork`: external, or found/created (once more on a conflict: another `up` may
/// have just created it).
async fn ensure_network(
    client: &Client,
    project: &Project,
    key: &str,
    n: &NetworkConfig,
    progress: Progress<'_>,
) -> Result<String> {
    if n.external {
        return resolve_external(client, n).await;
    }
    match resolve_or_create(client, project, key, n, progress).await {
        Err(e) if has_status(&e, 409) => resolve_or_create(client, project, key, n, progress).await,
        other => other,
    }
}

fn str_label<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v["Labels"].get(key).and_then(Value::as_str)
}

fn warn_not_ours(project: &Project, name: &str, labels_of: &Value, progress: Progress<'_>) {
    let id = format!("Network {name}");
    match str_label(labels_of, labels::PROJECT) {
        None => progress(Event::warning(
            &id,
            format!("a network with name {name} exists but was not created by compose.\nSet `external: true` to use an existing network"),
        )),
        Some(p) if p != project.name => progress(Event::warning(
            &id,
            format!(
                "a network with name {name} exists but was not created for project {}.\nSet `external: true` to use an existing network",
                berth_engine::util::go::quote(&project.name)
            ),
        )),
        _ => {}
    }
}

/// `resolveOrCreateNetwork`.
async fn resolve_or_create(
    client: &Client,
    project: &Project,
    key: &str,
    n: &NetworkConfig,
    progress: Progress<'_>,
) -> Result<String> {
    // Containers left out of a diverged network removed here, reconnected once it is back.
    let mut dangled: Vec<Container> = Vec::new();
    // Inspect matches an id prefix too (`db` would match `db9086999caf`): the name is checked.
    if let Ok(inspect) = client.network_inspect(&n.name).await {
        let id = inspect["Id"].as_str().unwrap_or_default().to_string();
        if inspect["Name"] == n.name.as_str() || id == n.name {
            warn_not_ours(project, &n.name, &inspect, progress);
            let found = str_label(&inspect, labels::NETWORK).unwrap_or_default();
            if found != key {
                return Err(CreateError::new(format!(
                    "network {} was found but has incorrect label {} set to {} (expected: {})",
                    n.name,
                    labels::NETWORK,
                    berth_engine::util::go::quote(found),
                    berth_engine::util::go::quote(key)
                ))
                .into());
            }
            let hash = str_label(&inspect, labels::CONFIG_HASH).unwrap_or_default();
            if hash.is_empty() || hash == network_hash(n) {
                return Ok(id);
            }
            dangled = remove_diverged(client, project, key, n, progress).await?;
        }
    }
    // Not found, or the name is ambiguous: listed by name, matched exactly.
    let listed: Vec<Value> = client
        .network_list(&Filters::one("name", &n.name))
        .await?
        .into_iter()
        .filter(|net| net["Name"] == n.name.as_str())
        .collect();
    for net in &listed {
        if str_label(net, labels::PROJECT) == Some(project.name.as_str())
            && str_label(net, labels::NETWORK) == Some(key)
        {
            return Ok(net["Id"].as_str().unwrap_or_default().to_string());
        }
    }
    if let Some(net) = listed.first() {
        progress(Event::warning(
            &format!("Network {}", n.name),
            format!("a network with name {} exists but was not created by compose.\nSet `external: true` to use an existing network", n.name),
        ));
        return Ok(net["Id"].as_str().unwrap_or_default().to_string());
    }
    let event = format!("Network {}", n.name);
    progress(Event::creating(&event));
    let body = network_create_body(project, key, n);
    let resp = match client.post("/networks/create", Some(&body)).await {
        Ok(r) => r.unwrap_or(Value::Null),
        Err(e) => {
            progress(Event::error(&event));
            return Err(e.context(format!("failed to create network {}", n.name)));
        }
    };
    progress(Event::created(&event));
    for c in &dangled {
        client
            .network_connect(
                &n.name,
                &NetworkConnect {
                    container: c.id.clone(),
                    endpoint_config: None,
                },
            )
            .await?;
    }
    Ok(resp["Id"].as_str().unwrap_or_default().to_string())
}

/// `removeDivergedNetwork`: the services on it stopped, their containers disconnected, the
/// network removed; the containers are returned to be reconnected.
async fn remove_diverged(
    client: &Client,
    project: &Project,
    key: &str,
    n: &NetworkConfig,
    progress: Progress<'_>,
) -> Result<Vec<Container>> {
    let services = services_using(project, |s| s.networks.contains_key(key));
    let containers = stop_services(client, project, &services, progress).await?;
    for c in &containers {
        client
            .network_disconnect(
                &n.name,
                &NetworkDisconnect {
                    container: c.id.clone(),
                    force: Some(true),
                },
            )
            .await?;
    }
    let removed = client.network_remove(&n.name).await;
    // docker compose reports the removal whatever the answer.
    progress(Event::removed(&format!("Network {}", n.name)));
    removed?;
    Ok(containers)
}

/// `resolveExternalNetwork`: exactly one network of that name (or id); none is an error
/// unless swarm may know it.
async fn resolve_external(client: &Client, n: &NetworkConfig) -> Result<String> {
    let mut nets = client.network_list(&Filters::one("name", &n.name)).await?;
    if nets.is_empty() {
        // Then the name may be an id.
        match client.network_inspect(&n.name).await {
            Ok(v) => nets.push(v),
            Err(e) if has_status(&e, 404) => {}
            Err(e) => return Err(e),
        }
    }
    nets.retain(|net| net["Name"] == n.name.as_str() || net["Id"] == n.name.as_str());
    match nets.len() {
        1 => Ok(nets[0]["Id"].as_str().unwrap_or_default().to_string()),
        0 => {
            let info = client.info().await?;
            let state = info["Swarm"]["LocalNodeState"].as_str().unwrap_or_default();
            if state != "inactive" && state != "locked" {
                // Swarm only lists overlay networks of other nodes once in use: attaching
                // will tell.
                return Ok("swarm".into());
            }
            Err(anyhow!(
                "network {} declared as external, but could not be found",
                n.name
            ))
        }
        _ => Err(anyhow!(
            "multiple networks with name {} were found. Use network ID as `name` to avoid ambiguity",
            berth_engine::util::go::quote(&n.name)
        )),
    }
}
