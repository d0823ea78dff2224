//! Sending a create (convergence.go's `createContainer` and `createMobyContainer`): the body
//! of [`super::create_body`] posted with the container's name and platform, the engine's
//! warnings reported, the container inspected, and below API 1.44 its other networks
//! connected before it starts. Also the look-ups a caller makes to fill [`Resolved`] (the
//! image's volumes for `inherit`, the proxy variables of the docker config file) and the
//! names a recreation uses.

use std::collections::BTreeMap;

use anyhow::Result;
use serde_json::{Map, Value};

use super::events::{Event, Progress, Status};
use super::{create_spec, image_name, network, CreateOptions, Resolved};
use crate::client::api::{images, query, Endpoint};
use crate::client::Client;
use crate::compose::types::{Project, ServiceConfig};

/// The `platform` query of the create: the service's, else `DOCKER_DEFAULT_PLATFORM` of the
/// project environment. Sent as written (docker compose normalises it with containerd's
/// `platforms.Parse`/`Format` first: `linux/arm` would go as `linux/arm/v7`).
pub fn platform(project: &Project, service: &ServiceConfig) -> Option<String> {
    if !service.platform.is_empty() {
        return Some(service.platform.clone());
    }
    project
        .environment
        .get("DOCKER_DEFAULT_PLATFORM")
        .filter(|p| !p.is_empty())
        .cloned()
}

/// `recreateContainer`'s temporary name for the replacement of container `replaced_id`
/// (renamed to `name` once the old one is removed).
pub fn temporary_name(replaced_id: &str, name: &str) -> String {
    let prefix: String = replaced_id.chars().take(12).collect();
    format!("{prefix}_{name}")
}

/// `recreateContainer`'s value of the `com.docker.compose.replace` label: the service's
/// `container_name`, else `<service>-<number>`.
pub fn replaced_name(service: &ServiceConfig, number: u32) -> String {
    if service.container_name.is_empty() {
        format!("{}-{number}", service.name)
    } else {
        service.container_name.clone()
    }
}

/// `createMobyContainer`: create `name`, report the engine's warnings (as events named after
/// the service), connect the remaining networks below API 1.44, and return the inspect.
#[allow(clippy::too_many_arguments)]
pub async fn create_moby_container(
    client: &Client,
    project: &Project,
    service: &ServiceConfig,
    name: &str,
    number: u32,
    opts: &CreateOptions,
    r: &Resolved,
    progress: Progress<'_>,
) -> Result<Value> {
    let spec = create_spec(project, service, number, opts, r)?;
    for w in &spec.warnings {
        progress(Event::warning(&service.name, w.clone()));
    }
    // Go's `url.Values.Encode` sorts the keys: name, then platform.
    let mut pairs = vec![("name", name.to_string())];
    if let Some(p) = platform(project, service) {
        pairs.push(("platform", p));
    }
    let created = client
        .send(Endpoint {
            method: hyper::Method::POST,
            path: format!("/containers/create{}", query(&pairs)),
            body: Some(spec.body.clone()),
        })
        .await?
        .unwrap_or(Value::Null);
    for w in created["Warnings"].as_array().into_iter().flatten() {
        let text = w.as_str().unwrap_or_default();
        progress(Event::new(&service.name, Status::Warning, text));
    }
    let id = created["Id"].as_str().unwrap_or_default().to_string();
    let network_mode = spec.body["HostConfig"]["NetworkMode"]
        .as_str()
        .unwrap_or_default();
    for (net, endpoint) in network::extra_networks(project, service, number, opts, r, network_mode)
    {
        let mut body = Map::new();
        body.insert("Container".into(), Value::String(id.clone()));
        body.insert("EndpointConfig".into(), endpoint);
        client
            .post(
                &format!("/networks/{}/connect", crate::client::seg(&net)),
                Some(&Value::Object(body)),
            )
            .await?;
    }
    client.container_inspect(&id).await
}

/// `createContainer`: [`create_moby_container`] reported as `Container <name>` Creating, then
/// Created, or the error's text.
#[allow(clippy::too_many_arguments)]
pub async fn create_container(
    client: &Client,
    project: &Project,
    service: &ServiceConfig,
    name: &str,
    number: u32,
    opts: &CreateOptions,
    r: &Resolved,
    progress: Progress<'_>,
) -> Result<Value> {
    let event = format!("Container {name}");
    progress(Event::creating(&event));
    match create_moby_container(client, project, service, name, number, opts, r, progress).await {
        Ok(c) => {
            progress(Event::created(&event));
            Ok(c)
        }
        Err(e) => {
            progress(Event::new(&event, Status::Error, format!("{e:#}")));
            Err(e)
        }
    }
}

/// The volumes the service's image declares (`Config.Volumes`), for [`Resolved::image_volumes`]
/// when recreating with `inherit` (docker compose inspects the image for that).
pub async fn image_volumes(
    client: &Client,
    project: &Project,
    service: &ServiceConfig,
) -> Result<Vec<String>> {
    let img: Value = client
        .send_as(images::inspect(&image_name(&project.name, service)))
        .await?;
    Ok(img["Config"]["Volumes"]
        .as_object()
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default())
}

/// docker's `ParseProxyConfig` for [`Resolved::proxy_env`]: the docker config file's
/// `proxies` entry for this engine (`host` as docker names it, `unix:///path`), else its
/// `default`, as upper- and lower-case variables.
pub fn proxy_env(config: &Map<String, Value>, host: &str) -> BTreeMap<String, String> {
    let mut vars = Vec::new();
    crate::commands::build::flags::add_proxy_args(config, host, &mut vars);
    vars.into_iter()
        .filter_map(|(k, v)| v.map(|v| (k, v)))
        .collect()
}
