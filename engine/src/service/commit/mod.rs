//! `docker commit` (`POST /commit`): a container's filesystem changes become a layer on top of
//! its image, with the container's config (plus `--change` instructions) as the new image's
//! config, as dockerd's `CreateImageFromContainer` and `CommitImage` do. It spans two
//! aggregates (the container's upper dir and state, the image store), so it lives on `Engine`.
//!
//! The upper dir of a running container is copied (frozen meanwhile when `pause`, the default,
//! so no half-written file is caught) and the copy, with the engine's mount points taken out as
//! the builder does for a RUN step, is what becomes the layer: the live upper dir stays the
//! container's.

pub mod changes;

use std::path::PathBuf;

use serde_json::{json, Map, Value};

use super::build::config::RunConfig;
use super::image::commit_child::ChildImage;
use super::image::tag::target_reference;
use super::Engine;
use crate::error::{EngineError, Result};

/// What `POST /commit` asks for.
#[derive(Debug, Clone, Default)]
pub struct CommitOptions {
    pub container: String,
    pub repo: Option<String>,
    pub tag: Option<String>,
    pub comment: String,
    pub author: String,
    pub pause: bool,
    pub changes: Vec<String>,
    /// The request body's config, when the client sent one (docker-py's `conf`); the
    /// container's config fills what it leaves empty.
    pub config: Option<Value>,
}

impl Engine {
    /// Commit a container as a new image; returns its id (`sha256:...`).
    pub async fn commit(&self, o: CommitOptions) -> Result<String> {
        let c = self.containers.get(&o.container)?;
        // The tag is checked before anything is written, as dockerd's router does.
        let target = match o.repo.as_deref().filter(|r| !r.is_empty()) {
            Some(repo) => Some(target_reference(repo, o.tag.as_deref())?),
            None => None,
        };
        let rec = c.record();
        let mut container_config = to_run_config(serde_json::to_value(&rec.config)?)?;
        // The HOSTNAME berth records in a container's Env at create is the runtime's (dockerd
        // sets it when it starts the process): not part of the image.
        let own_hostname = format!("HOSTNAME={}", rec.config.hostname);
        if let Some(env) = &mut container_config.env {
            env.retain(|e| *e != own_hostname);
        }
        let mut config = match o.config.filter(|v| !v.is_null()) {
            Some(v) => merge(to_run_config(v)?, &container_config),
            None => container_config.clone(),
        };
        changes::apply(&mut config, &o.changes)?;

        let upper = self
            .containers
            .dir(&c.id)
            .join(crate::runtime::spec::files::UPPER);
        let scratch = self.data_root.join("tmp").join(format!(
            "commit-{}-{}",
            &c.id[..12],
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or_default()
        ));
        let frozen = if o.pause {
            self.containers.freeze_for_commit(&c).await?
        } else {
            false
        };
        let copied = {
            let (upper, scratch) = (upper.clone(), scratch.clone());
            tokio::task::spawn_blocking(move || crate::builder::rootfs::copy_tree(&upper, &scratch))
                .await
                .map_err(|e| EngineError::internal(format!("commit task failed: {e}")))
        };
        if frozen {
            self.containers.thaw_after_commit(&c).await;
        }
        let layer = match copied.and_then(|r| r) {
            Ok(()) => self.layer_of(&scratch, &rec).await,
            Err(e) => Err(e),
        };
        let _ = std::fs::remove_dir_all(&scratch);
        let (lease, layer) = match layer? {
            Some((lease, layer)) => (lease, Some(layer)),
            None => (self.images.lease(), None),
        };

        let (parent_id, parent_bytes) = self.images.config_bytes(&rec.image_id)?;
        let parent: Value = serde_json::from_slice(&parent_bytes)?;
        let created = crate::util::now_rfc3339();
        let bytes = image_config(&ImageConfigParts {
            parent: &parent,
            config: &config,
            container_config: &container_config,
            container_id: &c.id,
            author: &o.author,
            comment: &o.comment,
            created: &created,
            new_layer: layer.as_ref().map(|l| l.diff_id.as_str()),
        })?;
        let images = self.images.clone();
        let child = ChildImage {
            parent: Some(parent_id),
            layer,
            config: bytes,
        };
        let id = tokio::task::spawn_blocking(move || images.commit_child(lease, child))
            .await
            .map_err(|e| EngineError::internal(format!("commit task failed: {e}")))??;
        let image_ref = match &target {
            Some(t) => {
                self.images.tag(&id, &t.name(), t.tag.as_deref()).await?;
                t.familiar()
            }
            None => String::new(),
        };
        self.containers.emit(
            &c,
            "commit",
            &[
                ("comment", o.comment.clone()),
                ("imageID", id.clone()),
                ("imageRef", image_ref),
            ],
        );
        Ok(id)
    }

    /// The copied upper dir as a layer (None when the container changed nothing).
    async fn layer_of(
        &self,
        scratch: &std::path::Path,
        rec: &crate::model::container::ContainerRecord,
    ) -> Result<
        Option<(
            super::image::ingest::IngestLease,
            super::image::ingest::IngestedLayer,
        )>,
    > {
        let lowers: Vec<PathBuf> = rec.layer_dirs.clone();
        let targets: Vec<String> = rec.mounts.iter().map(|m| m.destination.clone()).collect();
        let images = self.images.clone();
        let scratch = scratch.to_path_buf();
        tokio::task::spawn_blocking(move || {
            crate::builder::rootfs::clean_mount_stubs(&scratch, &lowers, &targets)?;
            crate::builder::rootfs::ingest_upper(&images, &scratch, true)
        })
        .await
        .map_err(|e| EngineError::internal(format!("commit task failed: {e}")))?
    }
}

fn to_run_config(v: Value) -> Result<RunConfig> {
    // Go's zero values: a null field is the field's default.
    let v = match v {
        Value::Object(m) => Value::Object(m.into_iter().filter(|(_, v)| !v.is_null()).collect()),
        other => other,
    };
    serde_json::from_value(v).map_err(|e| EngineError::invalid(format!("invalid config: {e}")))
}

/// dockerd's `merge(userConf, imageConf)` (daemon/commit.go): what the client's config leaves
/// empty comes from the container's.
fn merge(mut user: RunConfig, base: &RunConfig) -> RunConfig {
    if user.user.is_empty() {
        user.user = base.user.clone();
    }
    if let Some(base_ports) = &base.exposed_ports {
        let ports = user.exposed_ports.get_or_insert_with(Default::default);
        for (k, v) in base_ports {
            ports.entry(k.clone()).or_insert_with(|| v.clone());
        }
    }
    let env = user.env.get_or_insert_with(Vec::new);
    for e in base.env.iter().flatten() {
        let key = e.split('=').next().unwrap_or(e);
        if !env.iter().any(|u| u.split('=').next() == Some(key)) {
            env.push(e.clone());
        }
    }
    if let Some(base_labels) = &base.labels {
        let labels = user.labels.get_or_insert_with(Default::default);
        for (k, v) in base_labels {
            labels.entry(k.clone()).or_insert_with(|| v.clone());
        }
    }
    if user.cmd.as_ref().is_none_or(Vec::is_empty) {
        user.cmd = base.cmd.clone();
    }
    if user.entrypoint.as_ref().is_none_or(Vec::is_empty) {
        user.entrypoint = base.entrypoint.clone();
    }
    if user.healthcheck.is_none() {
        user.healthcheck = base.healthcheck.clone();
    }
    if user.working_dir.is_empty() {
        user.working_dir = base.working_dir.clone();
    }
    if let Some(base_vols) = &base.volumes {
        let vols = user.volumes.get_or_insert_with(Default::default);
        for (k, v) in base_vols {
            vols.entry(k.clone()).or_insert_with(|| v.clone());
        }
    }
    if user.stop_signal.is_none() {
        user.stop_signal = base.stop_signal.clone();
    }
    user
}

struct ImageConfigParts<'a> {
    parent: &'a Value,
    config: &'a RunConfig,
    container_config: &'a RunConfig,
    container_id: &'a str,
    author: &'a str,
    comment: &'a str,
    created: &'a str,
    new_layer: Option<&'a str>,
}

/// The new image's config bytes in dockerd's shape: the parent's platform, history and layers,
/// plus one history entry whose `created_by` is the container's command (as dockerd writes it).
fn image_config(p: &ImageConfigParts) -> Result<Vec<u8>> {
    let mut history = p
        .parent
        .get("history")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let mut h = Map::new();
    h.insert("created".into(), json!(p.created));
    if !p.author.is_empty() {
        h.insert("author".into(), json!(p.author));
    }
    let created_by = p.container_config.cmd.clone().unwrap_or_default().join(" ");
    h.insert("created_by".into(), json!(created_by));
    if !p.comment.is_empty() {
        h.insert("comment".into(), json!(p.comment));
    }
    if p.new_layer.is_none() {
        h.insert("empty_layer".into(), json!(true));
    }
    history.push(Value::Object(h));
    let mut diff_ids = p
        .parent
        .pointer("/rootfs/diff_ids")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    if let Some(d) = p.new_layer {
        diff_ids.push(json!(d));
    }
    let s = |k: &str| p.parent.get(k).and_then(Value::as_str);
    let mut m = Map::new();
    m.insert(
        "architecture".into(),
        json!(s("architecture").unwrap_or("amd64")),
    );
    if !p.author.is_empty() {
        m.insert("author".into(), json!(p.author));
    }
    if !p.comment.is_empty() {
        m.insert("comment".into(), json!(p.comment));
    }
    m.insert("config".into(), serde_json::to_value(p.config)?);
    m.insert("container".into(), json!(p.container_id));
    m.insert(
        "container_config".into(),
        serde_json::to_value(p.container_config)?,
    );
    m.insert("created".into(), json!(p.created));
    m.insert(
        "docker_version".into(),
        json!(concat!("berth-", env!("CARGO_PKG_VERSION"))),
    );
    m.insert("history".into(), Value::Array(history));
    m.insert("os".into(), json!(s("os").unwrap_or("linux")));
    m.insert(
        "rootfs".into(),
        json!({ "type": "layers", "diff_ids": diff_ids }),
    );
    if let Some(v) = s("variant") {
        m.insert("variant".into(), json!(v));
    }
    Ok(serde_json::to_vec(&Value::Object(m))?)
}
