//! Converging one service at a time, in dependency order (docker compose's `convergence`): the
//! service's containers are brought to its scale (new ones numbered after the highest, extra
//! ones stopped and removed), a container whose configuration hash or image changed is
//! recreated (the replacement created under a temporary name, the old one stopped and
//! removed, the new one renamed, anonymous volumes carried over), and the rest are left
//! running as they are. Containers of one service are handled side by side.

use std::collections::BTreeMap;
use std::sync::Mutex;

use anyhow::{anyhow, Result};
use futures_util::future::try_join_all;
use serde_json::{json, Value};

use super::{sorted_by_name, stop, Compose, CreateOptions, Recreate};
use crate::compose::create::{self as containers, Resolved};
use crate::compose::labels;
use crate::compose::observed::{Container, OneOff};
use crate::compose::progress::{container_id, Event, Status};
use crate::compose::project::graph;
use crate::compose::types::{service_hash, Labels, Project, ServiceConfig};

/// The containers of each service as they stand, updated as services converge.
pub struct Convergence {
    observed: Mutex<BTreeMap<String, Vec<Container>>>,
    /// Network key → engine id, volume key → engine name (for the recreate checks).
    pub networks: BTreeMap<String, String>,
    pub volumes: BTreeMap<String, String>,
}

impl Convergence {
    pub fn new(
        services: &[String],
        state: &[Container],
        networks: BTreeMap<String, String>,
        volumes: BTreeMap<String, String>,
    ) -> Convergence {
        let mut observed: BTreeMap<String, Vec<Container>> =
            services.iter().map(|s| (s.clone(), Vec::new())).collect();
        for c in state.iter().filter(|c| !c.oneoff) {
            observed
                .entry(c.service.clone())
                .or_default()
                .push(c.clone());
        }
        Convergence {
            observed: Mutex::new(observed),
            networks,
            volumes,
        }
    }

    fn get(&self, service: &str) -> Vec<Container> {
        self.observed
            .lock()
            .map(|o| o.get(service).cloned().unwrap_or_default())
            .unwrap_or_default()
    }

    fn set(&self, service: &str, containers: Vec<Container>) {
        if let Ok(mut o) = self.observed.lock() {
            o.insert(service.to_string(), containers);
        }
    }

    /// Converge every service of `project`, each once what it depends on has converged.
    pub async fn apply(
        &self,
        compose: &Compose,
        project: &Project,
        opts: &CreateOptions,
    ) -> Result<()> {
        graph(project)
            .in_dependency_order(|name| async move {
                let service = project.services[&name].clone();
                let strategy = if opts.services.contains(&name) || opts.services.is_empty() {
                    opts.recreate
                } else {
                    opts.recreate_dependencies
                };
                self.ensure_service(compose, project, service, strategy, opts)
                    .await
            })
            .await
    }

    async fn ensure_service(
        &self,
        compose: &Compose,
        project: &Project,
        mut service: ServiceConfig,
        recreate: Recreate,
        opts: &CreateOptions,
    ) -> Result<()> {
        let expected = service.get_scale().max(0) as usize;
        if expected > 1 && !service.container_name.is_empty() {
            return Err(anyhow!(
                "WARNING: The {:?} service is using the custom container name {:?}. Docker requires each container to have a unique name. Remove the custom name to scale the service",
                service.name,
                service.container_name
            ));
        }
        service = containers::resolve_service_references(&service, &self.all())?;
        let mut current = self.get(&service.name);
        // Up-to-date containers first, by number; the obsolete ones are the first to go.
        let obsolete: Vec<bool> = current
            .iter()
            .map(|c| self.must_recreate(&service, c, recreate))
            .collect();
        let mut order: Vec<usize> = (0..current.len()).collect();
        order.sort_by_key(|&i| (obsolete[i], current[i].number));
        let sorted: Vec<(Container, bool)> = order
            .iter()
            .map(|&i| (current[i].clone(), obsolete[i]))
            .collect();
        current.clear();
        let actual = sorted.len();
        let next = sorted.iter().map(|(c, _)| c.number).max().unwrap_or(0) + 1;

        let mut work = Vec::new();
        for (i, (ctr, must)) in sorted.into_iter().enumerate() {
            if i >= expected {
                let service = &service;
                work.push(Box::pin(async move {
                    stop::stop_and_remove(compose, &ctr, Some(service), opts.timeout, false)
                        .await
                        .map(|_| None)
                })
                    as std::pin::Pin<
                        Box<
                            dyn std::future::Future<Output = Result<Option<Container>>> + Send + '_,
                        >,
                    >);
                continue;
            }
            if must {
                self.stop_dependents(compose, project, &service).await?;
                let service = &service;
                work.push(Box::pin(async move {
                    recreate_container(
                        compose,
                        project,
                        service,
                        &ctr,
                        opts.inherit,
                        opts.timeout,
                        self,
                    )
                    .await
                    .map(Some)
                }));
                continue;
            }
            match ctr.state.as_str() {
                "running" => compose.event(Event::done(container_id(&ctr.name), "Running")),
                "created" | "restarting" | "exited" => {}
                _ => {
                    work.push(Box::pin(async move {
                        let id = container_id(&ctr.name);
                        compose.event(Event::working(&id, "Restart"));
                        compose.client.container_start(&ctr.id).await?;
                        compose.event(Event::done(&id, "Restarted"));
                        Ok(Some(ctr))
                    }));
                    continue;
                }
            }
            current.push(ctr);
        }
        for i in 0..expected.saturating_sub(actual) {
            let number = next + i as u32;
            let service = &service;
            work.push(Box::pin(async move {
                let name = containers::container_name(&project.name, service, number);
                create_container(compose, project, service, &name, number, None, None, self)
                    .await
                    .map(Some)
            }));
        }
        let results = try_join_all(work).await;
        let made = results?;
        current.extend(made.into_iter().flatten());
        self.set(&service.name, sorted_by_name(current));
        Ok(())
    }

    /// Every container converged so far (what `service:` references and links point at).
    fn all(&self) -> Vec<Container> {
        self.observed
            .lock()
            .map(|o| o.values().flatten().cloned().collect())
            .unwrap_or_default()
    }

    /// docker compose's `mustRecreate`.
    fn must_recreate(
        &self,
        expected: &ServiceConfig,
        actual: &Container,
        policy: Recreate,
    ) -> bool {
        match policy {
            Recreate::Never => return false,
            Recreate::Force => return true,
            Recreate::Diverged => {}
        }
        let hash = service_hash(expected);
        let image = expected
            .custom_labels
            .get(labels::IMAGE_DIGEST)
            .map(String::as_str);
        if actual.label(labels::CONFIG_HASH) != Some(hash.as_str())
            || actual.label(labels::IMAGE_DIGEST) != image
        {
            return true;
        }
        if actual.is_running() {
            let attached = actual.network_ids();
            for net in expected.networks.keys() {
                if let Some(id) = self.networks.get(net) {
                    if !attached.iter().any(|a| a == id) {
                        return true;
                    }
                }
            }
        }
        let mounted = actual.volume_names();
        for v in &expected.volumes {
            if v.type_ != "volume" || v.source.is_empty() {
                continue;
            }
            if let Some(name) = self.volumes.get(&v.source) {
                if !mounted.iter().any(|m| m == name) {
                    return true;
                }
            }
        }
        false
    }

    /// Containers of services that depend on `service` with `restart: true` are stopped before
    /// it is recreated (they are started again by `start`).
    async fn stop_dependents(
        &self,
        compose: &Compose,
        project: &Project,
        service: &ServiceConfig,
    ) -> Result<()> {
        let dependents: Vec<String> = project
            .services
            .values()
            .filter(|s| s.depends_on.get(&service.name).is_some_and(|d| d.restart))
            .map(|s| s.name.clone())
            .collect();
        if dependents.is_empty() {
            return Ok(());
        }
        stop::stop(compose, &project.name, &dependents, None, Some(project)).await?;
        for name in &dependents {
            let mut cs = self.get(name);
            for c in cs.iter_mut() {
                c.state = "exited".into();
            }
            self.set(name, cs);
        }
        Ok(())
    }

    /// Containers of a service once converged (to share namespaces, volumes, links).
    pub fn service_containers(&self, service: &str) -> Vec<Container> {
        self.get(service)
    }
}

/// The labels a service's containers get: its own, then compose's (docker compose's
/// `mergeLabels(service.Labels, service.CustomLabels)`).
pub fn merged_labels(service: &ServiceConfig) -> Labels {
    let mut l = service.labels.clone();
    for (k, v) in service.custom_labels.iter() {
        l.0.insert(k.clone(), v.clone());
    }
    l
}

/// Create one container of `service` named `name`; a summary of what was created.
#[allow(clippy::too_many_arguments)]
pub async fn create_container(
    compose: &Compose,
    project: &Project,
    service: &ServiceConfig,
    name: &str,
    number: u32,
    inherit: Option<Value>,
    replace_label: Option<String>,
    _state: &Convergence,
) -> Result<Container> {
    let id = container_id(name);
    compose.event(Event::working(&id, "Creating"));
    let result = create_raw(
        compose,
        project,
        service,
        name,
        number,
        inherit,
        replace_label,
        true,
        false,
        false,
    )
    .await;
    match &result {
        Ok(_) => compose.event(Event::done(&id, "Created")),
        Err(e) => compose.event(Event::new(&id, Status::Error, format!("{e:#}"))),
    }
    result
}

/// The create call itself (also used by `run` for one-off containers).
#[allow(clippy::too_many_arguments)]
pub async fn create_raw(
    compose: &Compose,
    project: &Project,
    service: &ServiceConfig,
    name: &str,
    number: u32,
    inherit: Option<Value>,
    replace_label: Option<String>,
    use_network_aliases: bool,
    attach_stdin: bool,
    auto_remove: bool,
) -> Result<Container> {
    let mut labels = merged_labels(service);
    if let Some(r) = replace_label {
        labels.0.insert(labels::CONTAINER_REPLACE.into(), r);
    }
    let opts = containers::CreateOptions {
        auto_remove,
        attach_stdin,
        use_network_aliases,
        labels: labels.0.clone(),
    };
    // An image's own VOLUMEs matter when anonymous volumes are carried over.
    let image_volumes: Vec<String> = match &inherit {
        Some(_) => {
            let image = super::images::image_name(&project.name, service);
            match compose
                .client
                .send(crate::client::api::images::inspect(&image))
                .await
            {
                Ok(Some(i)) => i["Config"]["Volumes"]
                    .as_object()
                    .map(|m| m.keys().cloned().collect())
                    .unwrap_or_default(),
                _ => Vec::new(),
            }
        }
        None => Vec::new(),
    };
    let resolved = Resolved {
        networks: project
            .networks
            .iter()
            .map(|(k, n)| (k.clone(), n.name.clone()))
            .collect(),
        inherit,
        links: {
            let all = compose
                .containers(&project.name, OneOff::Exclude, &[])
                .await?;
            containers::links(&project.name, service, number, &all)
        },
        image_volumes,
        image_digest: service.custom_labels.get(labels::IMAGE_DIGEST).cloned(),
        api_version: compose.client.api_version().to_string(),
        proxy_env: proxy_env(compose),
    };
    let spec = containers::create_spec(project, service, number, &opts, &resolved)?;
    for w in &spec.warnings {
        eprintln!("WARN[0000] {w}");
    }
    let body = spec.body;
    let created = compose.client.container_create(Some(name), &body).await?;
    let id = created["Id"].as_str().unwrap_or_default().to_string();
    let inspect = compose.client.container_inspect(&id).await?;
    Ok(Container::from_summary(&summary_of(&inspect)))
}

/// docker's `ParseProxyConfig` for this engine: the docker config file's proxies as
/// environment variables.
fn proxy_env(compose: &Compose) -> BTreeMap<String, String> {
    let Some(cfg) = crate::client::credentials::CredStore::from_env()
        .ok()
        .and_then(|s| s.config().ok())
    else {
        return BTreeMap::new();
    };
    let host = format!("unix://{}", compose.client.socket().display());
    let mut args = Vec::new();
    crate::commands::build::flags::add_proxy_args(&cfg, &host, &mut args);
    args.into_iter()
        .filter_map(|(k, v)| v.map(|v| (k, v)))
        .collect()
}

/// A container list entry built from an inspect (what the convergence keeps).
pub fn summary_of(inspect: &Value) -> Value {
    json!({
        "Id": inspect["Id"],
        "Names": [inspect["Name"]],
        "Image": inspect["Config"]["Image"],
        "Labels": inspect["Config"]["Labels"],
        "State": inspect["State"]["Status"],
        "Created": 0,
        "NetworkSettings": {"Networks": inspect["NetworkSettings"]["Networks"]},
        "Mounts": inspect["Mounts"],
    })
}

/// docker compose's `recreateContainer`.
async fn recreate_container(
    compose: &Compose,
    project: &Project,
    service: &ServiceConfig,
    replaced: &Container,
    inherit: bool,
    timeout: Option<i64>,
    state: &Convergence,
) -> Result<Container> {
    let event = container_id(&replaced.name);
    compose.event(Event::working(&event, "Recreate"));
    let result = async {
        let number = replaced.number;
        let inherited = if inherit {
            Some(compose.client.container_inspect(&replaced.id).await?)
        } else {
            None
        };
        let replaced_name = if service.container_name.is_empty() {
            format!("{}-{number}", service.name)
        } else {
            service.container_name.clone()
        };
        let name = containers::container_name(&project.name, service, number);
        let tmp = format!("{}_{name}", &replaced.id[..12.min(replaced.id.len())]);
        let created = create_raw(
            compose,
            project,
            service,
            &tmp,
            number,
            inherited,
            Some(replaced_name),
            true,
            false,
            false,
        )
        .await?;
        let _ = state;
        compose
            .client
            .container_stop(&replaced.id, timeout, None)
            .await?;
        compose
            .client
            .container_remove(&replaced.id, false, false)
            .await?;
        compose.client.container_rename(&tmp, &name).await?;
        let mut c = created;
        c.name = name;
        Ok::<Container, anyhow::Error>(c)
    }
    .await;
    match &result {
        Ok(_) => compose.event(Event::done(&event, "Recreated")),
        Err(e) => compose.event(Event::new(&event, Status::Error, format!("{e:#}"))),
    }
    result
}
