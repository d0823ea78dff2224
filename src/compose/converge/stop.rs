//! Stopping a project's containers and the verbs like it (docker compose's `stop`, `restart`,
//! the kill of a second Ctrl-C, and the stop-then-remove used by `down`, `rm -s` and scaling
//! down): services in reverse dependency order (what depends on a service stops first),
//! containers of one service side by side, `pre_stop` hooks run before a stop.

use std::collections::BTreeMap;

use anyhow::Result;
use futures_util::future::try_join_all;

use super::start::run_hook;
use super::Compose;
use crate::compose::create::has_status;
use crate::compose::graph::Graph;
use crate::compose::labels;
use crate::compose::observed::{Container, OneOff};
use crate::compose::progress::{container_id, Event, Status};
use crate::compose::project::graph;
use crate::compose::types::{Project, ServiceConfig};

/// The dependency graph of the services these containers belong to: from the project when
/// there is one, else from the `com.docker.compose.depends_on` labels (docker compose's
/// `projectFromName`).
pub fn graph_of(project: Option<&Project>, containers: &[Container]) -> Graph {
    if let Some(p) = project {
        return graph(p);
    }
    let mut deps: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for c in containers.iter().filter(|c| !c.oneoff) {
        let entry = deps.entry(c.service.clone()).or_default();
        if let Some(list) = c.label(labels::DEPENDENCIES).filter(|l| !l.is_empty()) {
            for d in list.split(',') {
                let name = d.split(':').next().unwrap_or_default().to_string();
                if !entry.contains(&name) {
                    entry.push(name);
                }
            }
        }
    }
    Graph::new(deps.iter().map(|(n, d)| (n.as_str(), d.clone())))
}

/// Stop one container (its `pre_stop` hooks first).
pub async fn stop_container(
    compose: &Compose,
    c: &Container,
    service: Option<&ServiceConfig>,
    timeout: Option<i64>,
) -> Result<()> {
    let id = container_id(&c.name);
    compose.event(Event::working(&id, "Stopping"));
    if let Some(s) = service {
        if c.is_running() {
            for hook in &s.pre_stop {
                if let Err(e) = run_hook(compose, &c.id, hook).await {
                    if has_status(&e, 404) || has_status(&e, 409) {
                        return Ok(());
                    }
                    return Err(e);
                }
            }
        }
    }
    if let Err(e) = compose.client.container_stop(&c.id, timeout, None).await {
        compose.event(Event::new(&id, Status::Error, "Error while Stopping"));
        return Err(e);
    }
    compose.event(Event::done(&id, "Stopped"));
    Ok(())
}

/// docker compose's `stopAndRemoveContainer`.
pub async fn stop_and_remove(
    compose: &Compose,
    c: &Container,
    service: Option<&ServiceConfig>,
    timeout: Option<i64>,
    volumes: bool,
) -> Result<()> {
    let id = container_id(&c.name);
    match stop_container(compose, c, service, timeout).await {
        Err(e) if has_status(&e, 404) => {
            compose.event(Event::done(&id, "Removed"));
            return Ok(());
        }
        Err(e) => return Err(e),
        Ok(()) => {}
    }
    compose.event(Event::working(&id, "Removing"));
    if let Err(e) = compose.client.container_remove(&c.id, true, volumes).await {
        if !(has_status(&e, 404) || has_status(&e, 409)) {
            compose.event(Event::new(&id, Status::Error, "Error while Removing"));
            return Err(e);
        }
    }
    compose.event(Event::done(&id, "Removed"));
    Ok(())
}

/// `stop`: the services' containers stopped, dependents first.
pub async fn stop(
    compose: &Compose,
    project_name: &str,
    services: &[String],
    timeout: Option<i64>,
    project: Option<&Project>,
) -> Result<()> {
    let all = compose
        .containers(project_name, OneOff::Exclude, &[])
        .await?;
    let g = graph_of(project, &all);
    let all = &all;
    g.in_reverse_dependency_order(|name| async move {
        if !services.is_empty() && !services.contains(&name) {
            return Ok(());
        }
        let service = project.and_then(|p| p.services.get(&name));
        try_join_all(
            all.iter()
                .filter(|c| c.service == name)
                .map(|c| stop_container(compose, c, service, timeout)),
        )
        .await
        .map(drop)
    })
    .await
}

/// SIGKILL to the project's running containers (a second Ctrl-C during attached `up`).
pub async fn kill_all(compose: &Compose, project_name: &str, services: &[String]) -> Result<()> {
    let all = compose
        .containers(project_name, OneOff::Exclude, services)
        .await?;
    try_join_all(all.iter().filter(|c| c.is_running()).map(|c| async move {
        let id = container_id(&c.name);
        compose.event(Event::working(&id, "Killing"));
        match compose.client.container_kill(&c.id, Some("SIGKILL")).await {
            Ok(()) => compose.event(Event::done(&id, "Killed")),
            Err(e) if (has_status(&e, 404) || has_status(&e, 409)) => {}
            Err(e) => return Err(e),
        }
        Ok::<(), anyhow::Error>(())
    }))
    .await
    .map(drop)
}

/// `restart`: the services' containers restarted in dependency order.
pub async fn restart(
    compose: &Compose,
    project_name: &str,
    services: &[String],
    timeout: Option<i64>,
    project: Option<&Project>,
) -> Result<()> {
    let all = compose
        .containers(project_name, OneOff::Exclude, &[])
        .await?;
    let g = graph_of(project, &all);
    let all = &all;
    g.in_dependency_order(|name| async move {
        if !services.is_empty() && !services.contains(&name) {
            return Ok(());
        }
        try_join_all(
            all.iter()
                .filter(|c| c.service == name)
                .map(|c| async move {
                    let id = container_id(&c.name);
                    compose.event(Event::working(&id, "Restarting"));
                    compose
                        .client
                        .container_restart(&c.id, timeout, None)
                        .await?;
                    compose.event(Event::done(&id, "Started"));
                    Ok::<(), anyhow::Error>(())
                }),
        )
        .await
        .map(drop)
    })
    .await
}
