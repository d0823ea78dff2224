//! `berth compose rm`: remove the project's stopped containers (of the named services), as
//! docker compose does: running ones are left alone (their state read again, the list being
//! racy), the removal is confirmed first (`Going to remove demo-web-1`) unless `-f`, and `-s`
//! stops the services first, dependents before what they depend on.

use std::collections::BTreeMap;

use anyhow::Result;
use futures_util::future::join_all;
use serde_json::Value;

use super::args::RmArgs;
use super::prompt::confirm;
use super::ps::list;
use super::ps_format::canonical_name;
use super::target::{project_or_name, service_names};
use super::Session;
use crate::client::{Client, DaemonError};
use crate::commands::{out, Ctx};
use crate::compose::graph::Graph;
use crate::compose::labels;
use crate::compose::observed::OneOff;
use crate::compose::progress::{container_id, Event, Progress, Status};
use crate::compose::project::{self, Loaded};

fn name_of(c: &Value) -> String {
    let names: Vec<String> = c["Names"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|n| n.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default();
    canonical_name(&names, c["Id"].as_str().unwrap_or_default())
}

fn service_of(c: &Value) -> &str {
    c["Labels"][labels::SERVICE].as_str().unwrap_or_default()
}

/// The services and their dependencies as the containers' labels record them
/// (`com.docker.compose.depends_on`: `db:service_started:false,…`), for a project known by
/// name only, as docker compose rebuilds one.
fn graph_from_labels(containers: &[Value]) -> Graph {
    let mut deps: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for c in containers {
        let entry = deps.entry(service_of(c).to_string()).or_default();
        let label = c["Labels"][labels::DEPENDENCIES]
            .as_str()
            .unwrap_or_default();
        for d in label.split(',').filter(|d| !d.is_empty()) {
            let name = d.split(':').next().unwrap_or_default().to_string();
            if !entry.contains(&name) {
                entry.push(name);
            }
        }
    }
    Graph::new(deps.iter().map(|(n, d)| (n.as_str(), d.clone())))
}

/// docker compose's `Stop` for `rm -s`: each service's containers once everything depending
/// on it is stopped, with its progress lines.
async fn stop(
    client: &Client,
    project: &str,
    loaded: Option<&Loaded>,
    services: &[String],
    progress: &Progress,
) -> Result<()> {
    let containers = list(client, project, OneOff::Exclude, true, &[]).await?;
    let graph = match loaded {
        Some(l) => project::graph(&l.project),
        None => graph_from_labels(&containers),
    };
    let wanted: Vec<String> = if services.is_empty() {
        graph.names().cloned().collect()
    } else {
        services.to_vec()
    };
    graph
        .in_reverse_dependency_order(|service| {
            let mine: Vec<&Value> = if wanted.contains(&service) {
                containers
                    .iter()
                    .filter(|c| service_of(c) == service)
                    .collect()
            } else {
                Vec::new()
            };
            async move {
                let results = join_all(mine.into_iter().map(|c| async move {
                    let id = container_id(&name_of(c));
                    progress.event(Event::working(id.clone(), "Stopping"));
                    let call = client
                        .container_stop(c["Id"].as_str().unwrap_or_default(), None, None)
                        .await;
                    match call {
                        Ok(()) => {
                            progress.event(Event::done(id, "Stopped"));
                            Ok(())
                        }
                        Err(e) => {
                            progress.event(Event::new(id, Status::Error, "Error while Stopping"));
                            Err(e)
                        }
                    }
                }))
                .await;
                results.into_iter().collect::<Result<()>>()
            }
        })
        .await
}

pub async fn run(ctx: &Ctx, session: &Session, a: RmArgs) -> Result<i32> {
    let (loaded, name) = project_or_name(session, &a.services)?;
    let client = ctx.client().await?;
    let progress = Progress::stderr();
    if a.stop {
        stop(&client, &name, loaded.as_ref(), &a.services, &progress).await?;
    }
    let mut containers = list(&client, &name, OneOff::Exclude, true, &a.services).await?;
    if let Some(services) = service_names(&loaded) {
        containers.retain(|c| services.iter().any(|s| s == service_of(c)));
    }
    let mut stopped = Vec::new();
    for c in containers {
        match client
            .container_inspect(c["Id"].as_str().unwrap_or_default())
            .await
        {
            Ok(i) if i["State"]["Running"] == true => {}
            Ok(_) => stopped.push(c),
            // Gone already (auto-removed).
            Err(e)
                if e.downcast_ref::<DaemonError>()
                    .is_some_and(|d| d.status == 404) => {}
            Err(e) => return Err(e),
        }
    }
    if stopped.is_empty() {
        eprintln!("No stopped containers");
        return Ok(0);
    }
    let names: Vec<String> = stopped.iter().map(name_of).collect();
    let message = format!("Going to remove {}", names.join(", "));
    if a.force {
        out(&format!("{message}\n"));
    } else if !confirm(&message)? {
        return Ok(0);
    }
    let results = join_all(stopped.iter().zip(&names).map(|(c, n)| {
        let (client, progress) = (client.clone(), progress.clone());
        let id = c["Id"].as_str().unwrap_or_default().to_string();
        let event_id = container_id(n);
        async move {
            progress.event(Event::working(event_id.clone(), "Removing"));
            client.container_remove(&id, a.force, a.volumes).await?;
            progress.event(Event::done(event_id, "Removed"));
            Ok::<(), anyhow::Error>(())
        }
    }))
    .await;
    results.into_iter().collect::<Result<()>>()?;
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn dependencies_come_back_from_the_labels() {
        let c = |service: &str, deps: &str| json!({"Labels": {labels::SERVICE: service, labels::DEPENDENCIES: deps}});
        let g = graph_from_labels(&[
            c("web", "db:service_started:false,cache:service_healthy:true"),
            c("db", ""),
            c("cache", ""),
        ]);
        let names: Vec<&String> = g.names().collect();
        assert_eq!(names, ["cache", "db", "web"]);
        let deps: Vec<&String> = g.dependencies("web").collect();
        assert_eq!(deps, ["cache", "db"]);
    }
}
