//! What docker compose does to containers before it replaces a network or volume whose
//! configuration changed (`removeDivergedNetwork`, `removeDivergedVolume`): the services using
//! it are stopped (then disconnected, or removed), so the resource can go and the
//! containers be recreated against the new one. Also the small engine-error tests both need.

use anyhow::Result;

use super::events::{Event, Progress};
use crate::client::Client;
use crate::client::DaemonError;
use crate::compose::observed::{self, Container, OneOff};
use crate::compose::types::Project;

/// The engine answered with this HTTP status (somewhere in the error's chain).
pub fn has_status(e: &anyhow::Error, status: u16) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<DaemonError>()
            .is_some_and(|d| d.status == status)
    })
}

/// docker compose's progress name of a container.
pub fn container_event_id(c: &Container) -> String {
    format!("Container {}", super::references::canonical_name(c))
}

/// The services of `project` matching `uses`, sorted.
pub fn services_using(
    project: &Project,
    uses: impl Fn(&crate::compose::types::ServiceConfig) -> bool,
) -> Vec<String> {
    project
        .services
        .values()
        .filter(|s| uses(s))
        .map(|s| s.name.clone())
        .collect()
}

/// `stop` of those services, then their containers (all states, no one-offs) as
/// `getContainers` lists them. Running containers are stopped with their own stop timeout,
/// reported as docker compose reports a stop.
pub async fn stop_services(
    client: &Client,
    project: &Project,
    services: &[String],
    progress: Progress<'_>,
) -> Result<Vec<Container>> {
    if services.is_empty() {
        return Ok(Vec::new());
    }
    let containers =
        observed::containers(client, &project.name, OneOff::Exclude, true, services).await?;
    for c in containers.iter().filter(|c| c.is_running()) {
        let id = container_event_id(c);
        progress(Event::stopping(&id));
        client.container_stop(&c.id, None, None).await?;
        progress(Event::stopped(&id));
    }
    Ok(containers)
}

/// docker compose's `remove` of stopped containers, with its progress.
pub async fn remove_containers(
    client: &Client,
    containers: &[Container],
    progress: Progress<'_>,
) -> Result<()> {
    for c in containers {
        let id = container_event_id(c);
        progress(Event::removing(&id));
        client.container_remove(&c.id, false, false).await?;
        progress(Event::removed(&id));
    }
    Ok(())
}
