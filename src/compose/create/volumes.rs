//! The project's volumes on the engine (`ensureProjectVolumes`, `ensureVolume`,
//! `createVolume`, `removeDivergedVolume`): an external one must exist; another is created
//! with docker compose's labels, or found by name. One whose config hash no longer matches the
//! file is recreated (its services' containers stopped and removed first) only with
//! `assume_yes`: docker compose asks first, and a library cannot ask.

use std::collections::BTreeMap;
use std::fmt;

use anyhow::{anyhow, Result};
use serde_json::{json, Map, Value};

use super::diverged::{has_status, remove_containers, services_using, stop_services};
use super::events::{Event, Progress};
use super::str_map;
use crate::client::api::volumes as api;
use crate::client::Client;
use crate::compose::labels;
use crate::compose::types::{volume_hash, Project, VolumeConfig};
use berth_engine::util::go::quote;

/// A volume exists with another configuration and recreating it (losing its data) was not
/// agreed to. Its text is docker compose's question, so a CLI can ask it and call again with
/// `assume_yes` (answering no keeps the volume in docker compose; here it stops the `up`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VolumeDiverged {
    /// The engine name of the volume.
    pub volume: String,
}

impl fmt::Display for VolumeDiverged {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(
            f,
            "Volume {} exists but doesn't match configuration in compose file. Recreate (data will be lost)?",
            quote(&self.volume)
        )
    }
}

impl std::error::Error for VolumeDiverged {}

/// `ensureProjectVolumes`: every volume of the project, key → engine name. Go ranges over a
/// map: here in key order.
pub async fn ensure_volumes(
    client: &Client,
    project: &Project,
    assume_yes: bool,
    progress: Progress<'_>,
) -> Result<BTreeMap<String, String>> {
    let mut names = BTreeMap::new();
    for (key, v) in &project.volumes {
        let name = ensure_volume(client, project, key, v, assume_yes, progress).await?;
        names.insert(key.clone(), name);
    }
    Ok(names)
}

/// The labels a volume is created with: the file's, then compose's own, the config hash last.
pub fn volume_labels(project: &Project, key: &str, v: &VolumeConfig) -> BTreeMap<String, String> {
    let mut l = v.labels.0.clone();
    l.extend(v.custom_labels.0.clone());
    l.insert(labels::VOLUME.into(), key.into());
    l.insert(labels::PROJECT.into(), project.name.clone());
    l.insert(labels::VERSION.into(), labels::COMPOSE_VERSION.into());
    l.insert(labels::CONFIG_HASH.into(), volume_hash(v));
    l
}

/// The body of `POST /volumes/create` (docker's `volume.CreateOptions`, all `omitempty`).
pub fn volume_create_body(project: &Project, key: &str, v: &VolumeConfig) -> Value {
    let mut b = Map::new();
    if !v.driver.is_empty() {
        b.insert("Driver".into(), json!(v.driver));
    }
    if !v.driver_opts.is_empty() {
        b.insert("DriverOpts".into(), str_map(v.driver_opts.iter()));
    }
    b.insert("Labels".into(), json!(volume_labels(project, key, v)));
    if !v.name.is_empty() {
        b.insert("Name".into(), json!(v.name));
    }
    Value::Object(b)
}

/// `ensureVolume`.
async fn ensure_volume(
    client: &Client,
    project: &Project,
    key: &str,
    v: &VolumeConfig,
    assume_yes: bool,
    progress: Progress<'_>,
) -> Result<String> {
    let inspected: Value = match client.send_as(api::inspect(&v.name)).await {
        Ok(i) => i,
        Err(e) if has_status(&e, 404) => {
            if v.external {
                return Err(anyhow!("external volume {} not found", quote(&v.name)));
            }
            create_volume(client, project, key, v, progress).await?;
            return Ok(v.name.clone());
        }
        Err(e) => return Err(e),
    };
    if v.external {
        return Ok(v.name.clone());
    }
    // It exists: is it the expected one?
    let event = format!("Volume {}", v.name);
    match inspected["Labels"].get(labels::PROJECT).and_then(Value::as_str) {
        None => progress(Event::warning(
            &event,
            format!(
                "volume {} already exists but was not created by Docker Compose. Use `external: true` to use an existing volume",
                quote(&v.name)
            ),
        )),
        Some(p) if p != project.name => progress(Event::warning(
            &event,
            format!(
                "volume {} already exists but was created for project {} (expected {}). Use `external: true` to use an existing volume",
                quote(&v.name),
                quote(p),
                quote(&project.name)
            ),
        )),
        _ => {}
    }
    let actual = inspected["Labels"]
        .get(labels::CONFIG_HASH)
        .and_then(Value::as_str);
    if actual.is_some_and(|a| a != volume_hash(v)) {
        if !assume_yes {
            return Err(VolumeDiverged {
                volume: v.name.clone(),
            }
            .into());
        }
        remove_diverged(client, project, key, v, progress).await?;
        create_volume(client, project, key, v, progress).await?;
        return Ok(v.name.clone());
    }
    Ok(inspected["Name"].as_str().unwrap_or_default().to_string())
}

/// `createVolume`, with its progress.
async fn create_volume(
    client: &Client,
    project: &Project,
    key: &str,
    v: &VolumeConfig,
    progress: Progress<'_>,
) -> Result<()> {
    let event = format!("Volume {}", v.name);
    progress(Event::creating(&event));
    let body = volume_create_body(project, key, v);
    if let Err(e) = client.post("/volumes/create", Some(&body)).await {
        progress(Event::error(&event));
        return Err(e);
    }
    progress(Event::created(&event));
    Ok(())
}

/// `removeDivergedVolume`: the services mounting it stopped and their containers removed
/// (their anonymous volumes cannot be inherited then, as in docker compose), the volume
/// removed.
async fn remove_diverged(
    client: &Client,
    project: &Project,
    key: &str,
    v: &VolumeConfig,
    progress: Progress<'_>,
) -> Result<()> {
    let services = services_using(project, |s| s.volumes.iter().any(|m| m.source == key));
    let containers = stop_services(client, project, &services, progress).await?;
    remove_containers(client, &containers, progress).await?;
    client.volume_remove(&v.name, true).await
}
