//! `start` (the second half of `up`): every service's containers started once what it
//! depends on is ready by its `depends_on` condition — started, healthy, or completed
//! successfully — then, with `--wait`, every service awaited until running or healthy. Secrets
//! and configs given as content are copied in first, `post_start` hooks run after.

use std::time::Duration;

use anyhow::{anyhow, Result};
use futures_util::future::try_join_all;
use serde_json::Value;

use super::{Compose, StartOptions};
use crate::client::api::exec::ExecCreate;
use crate::compose::create as containers;
use crate::compose::observed::{Container, OneOff};
use crate::compose::progress::{container_id, Event, Status};
use crate::compose::project::graph;
use crate::compose::types::{
    DependsOnConfig, Project, ServiceConfig, ServiceDependency, ServiceHook,
};

/// How often a dependency's state is polled. docker compose polls every 500 ms; an inspect
/// costs berth's engine well under a millisecond, so a health gate is noticed sooner.
const POLL: Duration = Duration::from_millis(100);

/// docker compose's `running_or_healthy`: what `--wait` waits for.
const RUNNING_OR_HEALTHY: &str = "running_or_healthy";

/// Start the project's services in dependency order.
pub async fn start(compose: &Compose, project: &Project, opts: &StartOptions) -> Result<()> {
    let containers = compose
        .containers(&project.name, OneOff::Exclude, &[])
        .await?;
    let containers = &containers;
    graph(project)
        .in_dependency_order(|name| async move {
            let service = &project.services[&name];
            start_service(compose, project, service, containers, opts.wait_timeout).await
        })
        .await?;
    if opts.wait {
        let mut depends = DependsOnConfig::new();
        for s in project.services.values() {
            depends.insert(
                s.name.clone(),
                ServiceDependency {
                    condition: dependency_condition(s, project),
                    required: true,
                    ..Default::default()
                },
            );
        }
        let waited = wait_dependencies(compose, project, &project.name, &depends, containers);
        match opts.wait_timeout {
            Some(t) => match tokio::time::timeout(t, waited).await {
                Ok(r) => r?,
                Err(_) => {
                    return Err(anyhow!(
                        "application not healthy after {}",
                        crate::compose::types::format_go_duration(t.as_nanos() as i64)
                    ))
                }
            },
            None => waited.await?,
        }
    }
    Ok(())
}

/// docker compose's `getDependencyCondition`: a service others wait on to complete is awaited
/// to complete; any other to be running or healthy.
fn dependency_condition(service: &ServiceConfig, project: &Project) -> String {
    let completes = project.services.values().any(|s| {
        s.depends_on
            .get(&service.name)
            .is_some_and(|d| d.condition == "service_completed_successfully")
    });
    if completes {
        "service_completed_successfully".into()
    } else {
        RUNNING_OR_HEALTHY.into()
    }
}

async fn start_service(
    compose: &Compose,
    project: &Project,
    service: &ServiceConfig,
    all: &[Container],
    timeout: Option<Duration>,
) -> Result<()> {
    if service.deploy.as_ref().and_then(|d| d.replicas) == Some(0) {
        return Ok(());
    }
    let wait = wait_dependencies(compose, project, &service.name, &service.depends_on, all);
    match timeout {
        Some(t) => tokio::time::timeout(t, wait)
            .await
            .map_err(|_| anyhow!("timeout waiting for dependencies"))??,
        None => wait.await?,
    }
    let mine: Vec<&Container> = all.iter().filter(|c| c.service == service.name).collect();
    if mine.is_empty() {
        if service.get_scale() == 0 {
            return Ok(());
        }
        return Err(anyhow!(
            "service {:?} has no container to start",
            service.name
        ));
    }
    for c in mine {
        if c.state == "running" {
            continue;
        }
        containers::inject_secrets_and_configs(&compose.client, project, service, &c.id).await?;
        let id = container_id(&c.name);
        compose.event(Event::working(&id, "Starting"));
        compose.client.container_start(&c.id).await?;
        for hook in &service.post_start {
            run_hook(compose, &c.id, hook).await?;
        }
        compose.event(Event::done(&id, "Started"));
    }
    Ok(())
}

/// docker compose's `waitDependencies`: each dependency with a condition other than
/// `service_started` polled until met, side by side.
pub async fn wait_dependencies(
    compose: &Compose,
    project: &Project,
    dependant: &str,
    dependencies: &DependsOnConfig,
    containers: &[Container],
) -> Result<()> {
    let mut waits = Vec::new();
    for (dep, cfg) in dependencies {
        if cfg.condition == "service_started" || cfg.condition.is_empty() {
            continue;
        }
        match project.services.get(dep) {
            None if project.disabled_services.contains_key(dep) => continue,
            None => return Err(anyhow!("no such service: {dep}")),
            Some(s) if s.get_scale() == 0 || s.provider.is_some() => continue,
            Some(_) => {}
        }
        let waiting: Vec<&Container> = containers.iter().filter(|c| &c.service == dep).collect();
        for c in &waiting {
            compose.event(Event::working(container_id(&c.name), "Waiting"));
        }
        if waiting.is_empty() {
            if cfg.required {
                return Err(anyhow!("{dependant} is missing dependency {dep}"));
            }
            eprintln!("WARN[0000] {dependant} is missing dependency {dep}");
            continue;
        }
        waits.push(wait_one(compose, dep, cfg, waiting));
    }
    try_join_all(waits).await.map(drop)
}

async fn wait_one(
    compose: &Compose,
    dep: &str,
    cfg: &ServiceDependency,
    waiting: Vec<&Container>,
) -> Result<()> {
    let events = |text: &str, status: Status| {
        for c in &waiting {
            compose.event(Event::new(container_id(&c.name), status, text));
        }
    };
    loop {
        tokio::time::sleep(POLL).await;
        match cfg.condition.as_str() {
            RUNNING_OR_HEALTHY | "service_healthy" => {
                let fallback = cfg.condition == RUNNING_OR_HEALTHY;
                match is_healthy(compose, &waiting, fallback).await {
                    Ok(true) => {
                        events("Healthy", Status::Done);
                        return Ok(());
                    }
                    Ok(false) => {}
                    Err(e) if !cfg.required => {
                        let why = if fallback {
                            format!("optional dependency {dep:?} is not running or is unhealthy")
                        } else {
                            format!("optional dependency {dep:?} failed to start")
                        };
                        events(&format!("Skipped: {why}"), Status::Warning);
                        eprintln!("WARN[0000] {why}: {e}");
                        return Ok(());
                    }
                    Err(e) if fallback => return Err(e),
                    Err(e) => {
                        events("Error", Status::Error);
                        return Err(anyhow!("dependency failed to start: {e}"));
                    }
                }
            }
            "service_completed_successfully" => {
                if let Some(code) = exited(compose, &waiting).await? {
                    if code == 0 {
                        events("Exited", Status::Done);
                        return Ok(());
                    }
                    let why = format!("{dep:?} didn't complete successfully: exit {code}");
                    if !cfg.required {
                        events(
                            &format!("Skipped: optional dependency {why}"),
                            Status::Warning,
                        );
                        eprintln!("WARN[0000] optional dependency {why}");
                        return Ok(());
                    }
                    let msg = format!("service {why}");
                    events(&msg, Status::Error);
                    return Err(anyhow!(msg));
                }
            }
            other => {
                eprintln!("WARN[0000] unsupported depends_on condition: {other}");
                return Ok(());
            }
        }
    }
}

/// docker compose's `isServiceHealthy`.
async fn is_healthy(
    compose: &Compose,
    containers: &[&Container],
    fallback_running: bool,
) -> Result<bool> {
    for c in containers {
        let i: Value = compose.client.container_inspect(&c.id).await?;
        let name = i["Name"]
            .as_str()
            .unwrap_or_default()
            .trim_start_matches('/');
        let status = i["State"]["Status"].as_str().unwrap_or_default();
        if status == "exited" {
            return Err(anyhow!(
                "container {name} exited ({})",
                i["State"]["ExitCode"].as_i64().unwrap_or(0)
            ));
        }
        let has_check = !i["Config"]["Healthcheck"].is_null()
            && i["Config"]["Healthcheck"]["Test"]
                .as_array()
                .is_some_and(|t| !t.is_empty());
        if !has_check && fallback_running {
            return Ok(status == "running");
        }
        match i["State"]["Health"]["Status"].as_str() {
            None => return Err(anyhow!("container {name} has no healthcheck configured")),
            Some("healthy") => {}
            Some("unhealthy") => return Err(anyhow!("container {name} is unhealthy")),
            Some("starting") => return Ok(false),
            Some(other) => {
                return Err(anyhow!(
                    "container {name} had unexpected health status {other:?}"
                ))
            }
        }
    }
    Ok(true)
}

/// docker compose's `isServiceCompleted`: the exit code of the first exited container.
async fn exited(compose: &Compose, containers: &[&Container]) -> Result<Option<i64>> {
    for c in containers {
        let i: Value = compose.client.container_inspect(&c.id).await?;
        if i["State"]["Status"] == "exited" {
            return Ok(Some(i["State"]["ExitCode"].as_i64().unwrap_or(0)));
        }
    }
    Ok(None)
}

/// Run a `post_start`/`pre_stop` hook in the container and wait for it; a non-zero exit fails.
pub async fn run_hook(compose: &Compose, container: &str, hook: &ServiceHook) -> Result<()> {
    let cmd: Vec<String> = hook
        .command
        .as_ref()
        .map(|c| c.0.clone())
        .unwrap_or_default();
    let env: Vec<String> = hook
        .environment
        .iter()
        .map(|(k, v)| match v {
            Some(v) => format!("{k}={v}"),
            None => k.clone(),
        })
        .collect();
    let exec = compose
        .client
        .exec_create(
            container,
            &ExecCreate {
                user: hook.user.clone(),
                privileged: hook.privileged,
                working_dir: hook.working_dir.clone(),
                env,
                cmd,
                ..ExecCreate::default()
            },
        )
        .await?;
    let id = exec["Id"].as_str().unwrap_or_default().to_string();
    compose.client.exec_start_detached(&id, false).await?;
    loop {
        let state = compose.client.exec_inspect(&id).await?;
        if state["Running"] != Value::Bool(true) {
            let code = state["ExitCode"].as_i64().unwrap_or(0);
            if code != 0 {
                return Err(anyhow!("hook exited with status {code}"));
            }
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
