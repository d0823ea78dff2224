//! `down`: the project's containers stopped and removed (dependents first), orphans too on
//! request, then its networks, and with `-v` its volumes, with `--rmi` its images. Works from
//! the loaded project or, with only a name, from what the labels say is there (docker compose's
//! `getProjectWithResources`), so a project started by docker compose comes down the same.

use std::collections::BTreeMap;

use anyhow::Result;
use futures_util::future::join_all;
use serde_json::Value;

use super::create::is_orphan;
use super::images::image_name;
use super::stop::{graph_of, stop_and_remove};
use super::Compose;
use crate::client::api::{volumes, Filters};
use crate::compose::create::has_status;
use crate::compose::labels;
use crate::compose::observed::{self, Container, OneOff};
use crate::compose::progress::{Event, Status};
use crate::compose::types::{NetworkConfig, Project, VolumeConfig};

/// What `down` is asked.
#[derive(Debug, Clone, Default)]
pub struct DownOptions {
    pub services: Vec<String>,
    pub remove_orphans: bool,
    pub volumes: bool,
    /// `--rmi local` (images built for the project) or `all`.
    pub images: Option<String>,
    pub timeout: Option<i64>,
}

/// The networks and volumes of a project that exist on the engine, keyed as in the file.
pub async fn actual_resources(
    compose: &Compose,
    name: &str,
) -> Result<(
    BTreeMap<String, NetworkConfig>,
    BTreeMap<String, VolumeConfig>,
)> {
    let mut nets = BTreeMap::new();
    for n in observed::project_networks(&compose.client, name).await? {
        let key = n["Labels"][labels::NETWORK]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let net = NetworkConfig {
            name: n["Name"].as_str().unwrap_or_default().to_string(),
            ..Default::default()
        };
        nets.insert(
            if key.is_empty() {
                net.name.clone()
            } else {
                key
            },
            net,
        );
    }
    let mut vols = BTreeMap::new();
    for v in observed::project_volumes(&compose.client, name).await? {
        let key = v["Labels"][labels::VOLUME]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let vol = VolumeConfig {
            name: v["Name"].as_str().unwrap_or_default().to_string(),
            ..Default::default()
        };
        vols.insert(
            if key.is_empty() {
                vol.name.clone()
            } else {
                key
            },
            vol,
        );
    }
    Ok((nets, vols))
}

/// Take the project down.
pub async fn down(
    compose: &Compose,
    name: &str,
    project: Option<&Project>,
    opts: &DownOptions,
) -> Result<()> {
    let include = if opts.remove_orphans {
        OneOff::Include
    } else {
        OneOff::Exclude
    };
    let containers = compose.containers(name, include, &[]).await?;
    let (nets, vols) = match project {
        Some(p) => (p.networks.clone(), p.volumes.clone()),
        None => actual_resources(compose, name).await?,
    };
    let services: Vec<String> = opts
        .services
        .iter()
        .filter(|s| match project {
            Some(p) => p.services.contains_key(*s),
            None => containers.iter().any(|c| &c.service == *s),
        })
        .cloned()
        .collect();
    if !opts.services.is_empty() && services.is_empty() {
        return Ok(());
    }
    let mut anything = !containers.is_empty();
    let g = graph_of(project, &containers);
    // With services named, those and what depends on them.
    let selected: Option<Vec<String>> = (!services.is_empty()).then(|| {
        let mut all: Vec<String> = services.clone();
        for s in &services {
            all.extend(g.dependents(s));
        }
        all
    });
    let cs = &containers;
    let selected_ref = &selected;
    g.in_reverse_dependency_order(|svc| async move {
        if selected_ref.as_ref().is_some_and(|s| !s.contains(&svc)) {
            return Ok(());
        }
        let service = project.and_then(|p| p.services.get(&svc));
        let mine: Vec<&Container> = cs
            .iter()
            .filter(|c| c.service == svc && !c.oneoff)
            .collect();
        let results = join_all(
            mine.iter()
                .map(|c| stop_and_remove(compose, c, service, opts.timeout, opts.volumes)),
        )
        .await;
        results.into_iter().collect::<Result<Vec<_>>>().map(drop)
    })
    .await?;
    if opts.remove_orphans {
        let orphans: Vec<&Container> = match project {
            Some(p) => containers.iter().filter(|c| is_orphan(p, c)).collect(),
            None => containers.iter().filter(|c| c.oneoff).collect(),
        };
        for c in orphans {
            stop_and_remove(compose, c, None, opts.timeout, false).await?;
        }
    }
    if selected.is_some() {
        // Only some services came down: the project's networks and volumes stay.
        return Ok(());
    }
    let mut ops = Vec::new();
    for (key, n) in &nets {
        if !n.external {
            ops.push(Box::pin(remove_network(compose, name, key, &n.name))
                as std::pin::Pin<
                    Box<dyn std::future::Future<Output = Result<bool>> + Send + '_>,
                >);
        }
    }
    if let Some(mode) = &opts.images {
        for image in images_to_remove(compose, name, project, &containers, mode).await? {
            ops.push(Box::pin(remove_image(compose, image)));
        }
    }
    if opts.volumes {
        for v in vols.values() {
            if !v.external {
                ops.push(Box::pin(remove_volume(compose, &v.name)));
            }
        }
    }
    for r in join_all(ops).await {
        anything |= r?;
    }
    if !anything {
        eprintln!("WARN[0000] Warning: No resource found to remove for project {name:?}.");
    }
    Ok(())
}

async fn remove_network(compose: &Compose, project: &str, key: &str, name: &str) -> Result<bool> {
    let mut filters = Filters::one("label", &labels::project_filter(project));
    filters.add("label", &format!("{}={key}", labels::NETWORK));
    let list = compose.client.network_list(&filters).await?;
    if list.is_empty() {
        return Ok(false);
    }
    let event = format!("Network {name}");
    compose.event(Event::working(&event, "Removing"));
    let mut found = 0;
    for n in list.iter().filter(|n| n["Name"] == name) {
        let id = n["Id"].as_str().unwrap_or_default();
        let inspect: Value = match compose.client.network_inspect(id).await {
            Ok(v) => v,
            Err(e) if has_status(&e, 404) => {
                compose.event(Event::new(
                    &event,
                    Status::Warning,
                    "No resource found to remove",
                ));
                return Ok(true);
            }
            Err(e) => return Err(e),
        };
        if inspect["Containers"]
            .as_object()
            .is_some_and(|c| !c.is_empty())
        {
            compose.event(Event::new(
                &event,
                Status::Warning,
                "Resource is still in use",
            ));
            found += 1;
            continue;
        }
        match compose.client.network_remove(id).await {
            Ok(()) => {}
            Err(e) if has_status(&e, 404) => continue,
            Err(e) => {
                compose.event(Event::new(&event, Status::Error, "Error"));
                return Err(e.context(format!("failed to remove network {name}")));
            }
        }
        compose.event(Event::done(&event, "Removed"));
        found += 1;
    }
    if found == 0 {
        compose.event(Event::new(
            &event,
            Status::Warning,
            "No resource found to remove",
        ));
    }
    Ok(true)
}

async fn remove_volume(compose: &Compose, name: &str) -> Result<bool> {
    let event = format!("Volume {name}");
    match compose.client.send(volumes::inspect(name)).await {
        Err(e) if has_status(&e, 404) => return Ok(false),
        Err(e) => return Err(e),
        Ok(_) => {}
    }
    compose.event(Event::working(&event, "Removing"));
    match compose.client.volume_remove(name, true).await {
        Ok(()) => compose.event(Event::done(&event, "Removed")),
        Err(e) if has_status(&e, 409) => compose.event(Event::new(
            &event,
            Status::Warning,
            "Resource is still in use",
        )),
        Err(e) if has_status(&e, 404) => {
            compose.event(Event::done(&event, "Warning: No resource found to remove"))
        }
        Err(e) => return Err(e),
    }
    Ok(true)
}

async fn remove_image(compose: &Compose, image: String) -> Result<bool> {
    let event = format!("Image {image}");
    compose.event(Event::working(&event, "Removing"));
    match compose.client.image_remove(&image, false, false).await {
        Ok(_) => compose.event(Event::done(&event, "Removed")),
        Err(e) if has_status(&e, 409) => compose.event(Event::new(
            &event,
            Status::Warning,
            "Resource is still in use",
        )),
        Err(e) if has_status(&e, 404) => {
            compose.event(Event::done(&event, "Warning: No resource found to remove"))
        }
        Err(e) => return Err(e),
    }
    Ok(true)
}

/// docker compose's image pruner: `local` removes the images compose named itself (services
/// without `image:`), `all` every image the services use.
async fn images_to_remove(
    compose: &Compose,
    name: &str,
    project: Option<&Project>,
    containers: &[Container],
    mode: &str,
) -> Result<Vec<String>> {
    let mut out: Vec<String> = Vec::new();
    match project {
        Some(p) => {
            for s in p.services.values() {
                if mode == "all" || s.image.is_empty() {
                    out.push(image_name(&p.name, s));
                }
            }
        }
        None => {
            for c in containers {
                let default = format!("{name}-{}", c.service);
                if mode == "all" || c.image == default {
                    out.push(c.image.clone());
                }
            }
        }
    }
    out.sort();
    out.dedup();
    // Only images the engine has.
    let mut present = Vec::new();
    for image in out {
        if super::images::local_image_id(compose, &image)
            .await?
            .is_some()
        {
            present.push(image);
        }
    }
    Ok(present)
}
