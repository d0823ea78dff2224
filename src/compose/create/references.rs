//! What a create takes from containers that already exist: `service:` references turned into
//! container ids (convergence.go's `resolveServiceReferences`), and the legacy links
//! (`getLinks`). docker compose resolves references before hashing the service, so the
//! config hash of a service with `network_mode: service:db` covers `container:<id of db>`.

use anyhow::Result;
use serde_json::Value;

use super::CreateError;
use crate::client::api::{containers as api, Filters};
use crate::client::Client;
use crate::compose::labels;
use crate::compose::observed::Container;
use crate::compose::types::ServiceConfig;

const SERVICE_PREFIX: &str = "service:";
const CONTAINER_PREFIX: &str = "container:";

/// `getCanonicalContainerName`: the name without a link path (`/db`, not `/web-1/db`).
pub fn canonical_name(c: &Container) -> String {
    let names: Vec<&str> = c.summary["Names"]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    if names.is_empty() {
        // Seen during removal: the short id stands in.
        return c.id.chars().take(12).collect();
    }
    names
        .iter()
        .find(|n| n.rfind('/') == Some(0))
        .unwrap_or(&names[0])
        .trim_start_matches('/')
        .to_string()
}

/// The id of the first container (by name, `Containers.sorted()`) of `service` in `observed`.
fn first_container(observed: &[Container], service: &str) -> Option<String> {
    observed
        .iter()
        .filter(|c| c.service == service)
        .min_by_key(|c| canonical_name(c))
        .map(|c| c.id.clone())
}

/// `resolveServiceReferences`: `volumes_from: [svc]`, `network_mode`, `ipc` and `pid` of
/// `service:svc` point at the first container of that service in `observed` (the
/// convergence's state, containers created earlier in the run included);
/// `volumes_from: [container:x]` becomes `x`. Apply it once: resolved ids are not references.
pub fn resolve_service_references(
    service: &ServiceConfig,
    observed: &[Container],
) -> Result<ServiceConfig, CreateError> {
    let mut s = service.clone();
    for v in s.volumes_from.iter_mut() {
        let mut spec = v.split(':');
        let head = spec.next().unwrap_or_default();
        if head == "container" {
            *v = spec.next().unwrap_or_default().to_string();
            continue;
        }
        *v = first_container(observed, head).ok_or_else(|| {
            CreateError::new(format!(
                "cannot share volume with service {head}: container missing"
            ))
        })?;
    }
    for (field, what) in [
        (&mut s.network_mode, "network"),
        (&mut s.ipc, "IPC"),
        (&mut s.pid, "PID"),
    ] {
        if let Some(name) = field.strip_prefix(SERVICE_PREFIX).map(str::to_string) {
            let id = first_container(observed, &name).ok_or_else(|| {
                CreateError::new(format!(
                    "cannot share {what} namespace with service {name}: container missing"
                ))
            })?;
            *field = format!("{CONTAINER_PREFIX}{id}");
        }
    }
    Ok(s)
}

/// `getLinks`, given the project's containers (not one-off) as the engine lists them: for
/// each `links` entry and each container of the linked service, the link under its alias,
/// `<service>-<number>` and `<project>-<service>-<number>` (docker compose uses the number of
/// the container being created there, not the linked one's); the one-off's own service when
/// the service is labelled one-off; then `external_links`.
pub fn links(
    project: &str,
    service: &ServiceConfig,
    number: u32,
    containers: &[Container],
) -> Vec<String> {
    let of = |name: &str| -> Vec<String> {
        containers
            .iter()
            .filter(|c| c.service == name && !c.oneoff)
            .map(canonical_name)
            .collect()
    };
    // A one-off container is number 0 here and -1 in docker compose, which writes it in
    // these aliases (`db--1`).
    let number: i64 = if number == 0 { -1 } else { i64::from(number) };
    let mut out = Vec::new();
    for raw in &service.links {
        let split: Vec<&str> = raw.split(':').collect();
        let linked = split[0];
        let alias = if split.len() == 2 { split[1] } else { linked };
        for c in of(linked) {
            out.push(format!("{c}:{alias}"));
            out.push(format!("{c}:{linked}-{number}"));
            out.push(format!("{c}:{project}-{linked}-{number}"));
        }
    }
    if service.labels.get(labels::ONEOFF).map(String::as_str) == Some("True") {
        for c in of(&service.name) {
            let short = c
                .strip_prefix(&format!("{project}-"))
                .unwrap_or(&c)
                .to_string();
            out.push(format!("{c}:{}", service.name));
            out.push(format!("{c}:{short}"));
            out.push(format!("{c}:{c}"));
        }
    }
    for raw in &service.external_links {
        let split: Vec<&str> = raw.split(':').collect();
        let alias = if split.len() == 2 { split[1] } else { split[0] };
        out.push(format!("{}:{alias}", split[0]));
    }
    out
}

/// [`links`] with the containers listed from the engine (all states, one-offs excluded), in
/// the engine's order as docker compose takes them.
pub async fn get_links(
    client: &Client,
    project: &str,
    service: &ServiceConfig,
    number: u32,
) -> Result<Vec<String>> {
    let mut linked: Vec<String> = service
        .links
        .iter()
        .map(|l| l.split(':').next().unwrap_or_default().to_string())
        .collect();
    if service.labels.get(labels::ONEOFF).map(String::as_str) == Some("True") {
        linked.push(service.name.clone());
    }
    let mut containers = Vec::new();
    if !linked.is_empty() {
        let mut filters = Filters::one("label", &labels::project_filter(project));
        filters.add("label", &format!("{}=False", labels::ONEOFF));
        let list: Vec<Value> = client
            .send_as(api::list(true, None, false, &filters))
            .await?;
        containers = list.iter().map(Container::from_summary).collect();
    }
    Ok(links(project, service, number, &containers))
}
