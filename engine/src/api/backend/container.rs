//! What the container routers (`api::containers`, `container_attach`, `container_update`,
//! `stats`, `archive`) ask of the engine, and `Engine`'s answers (moby's `stateBackend`,
//! `monitorBackend`, `attachBackend` and `copyBackend` in `router/container/backend.go`).
//!
//! Containers are handed out as the service's `Arc<Container>` handles: listing and attach look
//! at records in place and subscribe to output, which a copy could not do.

use std::collections::HashMap;
use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;

use bytes::Bytes;
use serde_json::Value;
use tokio::sync::{mpsc, oneshot};

use crate::api::{network_views, stats_views};
use crate::archive::changes::Change;
use crate::archive::PathStat;
use crate::error::Result;
use crate::model::container::{ContainerRecord, ContainerSummary, CreateRequest};
use crate::runtime::shim_client::ShimHandle;
use crate::runtime::top::Top;
use crate::service::container::archive::{self, PutOptions};
use crate::service::container::logs::{self, LogOptions};
use crate::service::container::update::{self, UpdateRequest};
use crate::service::container::{Container, ContainerService};
use crate::service::Engine;

/// Lifecycle, lookup and monitoring of containers.
pub trait ContainerBackend: Send + Sync + 'static {
    /// Find by full id, name (with or without '/') or unique id prefix, as docker does.
    fn container(&self, key: &str) -> Result<Arc<Container>>;
    /// Every container, in no particular order.
    fn containers(&self) -> Vec<Arc<Container>>;
    /// The container's state directory (overlay dirs, hosts files, logs).
    fn container_dir(&self, id: &str) -> PathBuf;
    /// docker's ExecIDs: the exec instances of the container's current run.
    fn container_exec_ids(&self, id: &str) -> Vec<String>;
    /// Add what the networks know (addresses, ports) to an inspect document.
    fn container_network_inspect(&self, rec: &ContainerRecord, doc: &mut Value);
    /// Add what the networks know to a `ps` summary.
    fn container_network_summary(&self, rec: &ContainerRecord, summary: &mut ContainerSummary);
    /// Legacy link names by linked container name (`ps` shows them as extra names).
    fn container_link_names(&self) -> HashMap<String, Vec<String>>;
    /// `DELETE /containers/{parent}/{alias}?link=true`: remove a legacy link.
    fn container_remove_link(&self, key: &str) -> Result<()>;
    /// The id of the image `reference` names, if any (the `ancestor` filter).
    fn resolve_image_id(&self, reference: &str) -> Option<String>;
    /// The os, architecture and variant of the image `reference` names, if any (create's
    /// `platform=` check).
    fn image_platform(&self, reference: &str) -> Option<(String, String, Option<String>)> {
        let _ = reference;
        None
    }
    /// Create a container from `req`: its id and docker's warnings.
    fn container_create(
        &self,
        name: Option<&str>,
        req: CreateRequest,
    ) -> impl Future<Output = Result<(String, Vec<String>)>> + Send;
    fn container_start(&self, key: &str) -> impl Future<Output = Result<()>> + Send;
    /// Stop with `signal` (or the container's stop signal), killing after `timeout` seconds.
    /// NotModified when it was not running.
    fn container_stop(
        &self,
        key: &str,
        timeout: Option<i64>,
        signal: Option<&str>,
    ) -> impl Future<Output = Result<()>> + Send;
    fn container_restart(
        &self,
        key: &str,
        timeout: Option<i64>,
        signal: Option<&str>,
    ) -> impl Future<Output = Result<()>> + Send;
    fn container_kill(
        &self,
        key: &str,
        signal: Option<&str>,
    ) -> impl Future<Output = Result<()>> + Send;
    fn container_pause(&self, key: &str) -> impl Future<Output = Result<()>> + Send;
    fn container_unpause(&self, key: &str) -> impl Future<Output = Result<()>> + Send;
    /// The processes in the container, as `ps -ef` shows them.
    fn container_top(&self, key: &str) -> impl Future<Output = Result<Top>> + Send;
    fn container_rename(&self, key: &str, new_name: &str) -> Result<()>;
    /// Resize the container's TTY.
    fn container_resize(&self, key: &str, height: Option<i64>, width: Option<i64>) -> Result<()>;
    /// Register a wait for `condition` ("not-running", "next-exit", "removed"): yields (exit code,
    /// error) once it is met.
    fn container_wait(
        &self,
        key: &str,
        condition: &str,
    ) -> Result<oneshot::Receiver<(i32, Option<String>)>>;
    /// Remove the container; with `volumes`, its anonymous volumes too.
    fn container_remove(
        &self,
        key: &str,
        force: bool,
        volumes: bool,
    ) -> impl Future<Output = Result<()>> + Send;
    /// `docker update`: new limits and restart policy; returns docker's warnings.
    fn container_update(
        &self,
        key: &str,
        req: UpdateRequest,
    ) -> impl Future<Output = Result<Vec<String>>> + Send;
    /// The container's logs as stream chunks (framed unless TTY), following when asked.
    fn container_logs(&self, c: Arc<Container>, opts: LogOptions) -> mpsc::Receiver<Bytes>;
    /// Publish a container event without attributes beyond the container's own (`attach`).
    fn container_event(&self, c: &Container, action: &str);
    /// The running container's shim, waiting through a start in progress; None once it is
    /// removed (where attach sends stdin).
    fn container_shim_when_running(
        &self,
        c: &Arc<Container>,
    ) -> impl Future<Output = Option<ShimHandle>> + Send;
    /// One stats object (zeroed when not running).
    fn container_stats(&self, c: &Arc<Container>) -> impl Future<Output = Value> + Send;
    /// One stats line per second until the container stops or the receiver goes away.
    fn container_stats_stream(&self, c: Arc<Container>) -> mpsc::Receiver<Bytes>;
}

/// Files in and out of a container (`/changes`, `/export`, `/archive`).
pub trait ContainerCopyBackend: Send + Sync + 'static {
    fn container_changes(&self, key: &str) -> impl Future<Output = Result<Vec<Change>>> + Send;
    /// The whole filesystem as a tar stream.
    fn container_export(
        &self,
        key: &str,
    ) -> impl Future<Output = Result<mpsc::Receiver<Bytes>>> + Send;
    fn container_stat_path(
        &self,
        key: &str,
        path: &str,
    ) -> impl Future<Output = Result<PathStat>> + Send;
    /// The stat of `path` and a tar stream of it.
    fn container_archive(
        &self,
        key: &str,
        path: &str,
    ) -> impl Future<Output = Result<(PathStat, mpsc::Receiver<Bytes>)>> + Send;
    /// Extract the tar arriving on `body` into the directory `path`.
    fn container_extract(
        &self,
        key: &str,
        path: &str,
        opts: PutOptions,
        body: mpsc::Receiver<Bytes>,
    ) -> impl Future<Output = Result<()>> + Send;
}

impl ContainerBackend for Engine {
    fn container(&self, key: &str) -> Result<Arc<Container>> {
        self.containers.get(key)
    }

    fn containers(&self) -> Vec<Arc<Container>> {
        self.containers.list()
    }

    fn container_dir(&self, id: &str) -> PathBuf {
        self.containers.dir(id)
    }

    fn container_exec_ids(&self, id: &str) -> Vec<String> {
        self.execs.ids_for(id)
    }

    fn container_network_inspect(&self, rec: &ContainerRecord, doc: &mut Value) {
        network_views::decorate_inspect(&self.networks, rec, doc);
    }

    fn container_network_summary(&self, rec: &ContainerRecord, summary: &mut ContainerSummary) {
        network_views::decorate_summary(&self.networks, rec, summary);
    }

    fn container_link_names(&self) -> HashMap<String, Vec<String>> {
        self.containers.link_names()
    }

    fn container_remove_link(&self, key: &str) -> Result<()> {
        self.containers.remove_link(key)
    }

    fn resolve_image_id(&self, reference: &str) -> Option<String> {
        self.images.resolve(reference).ok().map(|img| img.id)
    }

    fn image_platform(&self, reference: &str) -> Option<(String, String, Option<String>)> {
        let img = self.images.inspect(reference).ok()?;
        Some((img.os, img.architecture, img.variant))
    }

    async fn container_create(
        &self,
        name: Option<&str>,
        req: CreateRequest,
    ) -> Result<(String, Vec<String>)> {
        self.containers.create(&self.images, name, req).await
    }

    async fn container_start(&self, key: &str) -> Result<()> {
        self.containers.start(key).await
    }

    async fn container_stop(
        &self,
        key: &str,
        timeout: Option<i64>,
        signal: Option<&str>,
    ) -> Result<()> {
        self.containers.stop(key, timeout, signal).await
    }

    async fn container_restart(
        &self,
        key: &str,
        timeout: Option<i64>,
        signal: Option<&str>,
    ) -> Result<()> {
        self.containers.restart(key, timeout, signal).await
    }

    async fn container_kill(&self, key: &str, signal: Option<&str>) -> Result<()> {
        self.containers.kill(key, signal).await
    }

    async fn container_pause(&self, key: &str) -> Result<()> {
        self.containers.pause(key).await
    }

    async fn container_unpause(&self, key: &str) -> Result<()> {
        self.containers.unpause(key).await
    }

    async fn container_top(&self, key: &str) -> Result<Top> {
        self.containers.top(key).await
    }

    fn container_rename(&self, key: &str, new_name: &str) -> Result<()> {
        self.containers.rename(key, new_name)
    }

    fn container_resize(&self, key: &str, height: Option<i64>, width: Option<i64>) -> Result<()> {
        self.containers.resize(key, height, width)
    }

    fn container_wait(
        &self,
        key: &str,
        condition: &str,
    ) -> Result<oneshot::Receiver<(i32, Option<String>)>> {
        self.containers.wait(key, condition)
    }

    async fn container_remove(&self, key: &str, force: bool, volumes: bool) -> Result<()> {
        self.containers
            .remove_with_volumes(key, force, volumes)
            .await
    }

    async fn container_update(&self, key: &str, req: UpdateRequest) -> Result<Vec<String>> {
        update::update(&self.containers, key, req).await
    }

    fn container_logs(&self, c: Arc<Container>, opts: LogOptions) -> mpsc::Receiver<Bytes> {
        let path = self.containers.log_path(&c.id);
        logs::stream(c, path, opts)
    }

    fn container_event(&self, c: &Container, action: &str) {
        self.containers.emit(c, action, &[]);
    }

    async fn container_shim_when_running(&self, c: &Arc<Container>) -> Option<ShimHandle> {
        ContainerService::shim_when_running(c).await
    }

    async fn container_stats(&self, c: &Arc<Container>) -> Value {
        stats_views::report_json(&self.stats.one(c).await)
    }

    fn container_stats_stream(&self, c: Arc<Container>) -> mpsc::Receiver<Bytes> {
        stats_views::lines(self.stats.stream(c))
    }
}

impl ContainerCopyBackend for Engine {
    async fn container_changes(&self, key: &str) -> Result<Vec<Change>> {
        archive::container_changes(&self.containers, key).await
    }

    async fn container_export(&self, key: &str) -> Result<mpsc::Receiver<Bytes>> {
        archive::export(&self.containers, key).await
    }

    async fn container_stat_path(&self, key: &str, path: &str) -> Result<PathStat> {
        archive::stat(&self.containers, key, path).await
    }

    async fn container_archive(
        &self,
        key: &str,
        path: &str,
    ) -> Result<(PathStat, mpsc::Receiver<Bytes>)> {
        archive::get_archive(&self.containers, key, path).await
    }

    async fn container_extract(
        &self,
        key: &str,
        path: &str,
        opts: PutOptions,
        body: mpsc::Receiver<Bytes>,
    ) -> Result<()> {
        archive::put_archive(&self.containers, key, path, opts, body).await
    }
}
