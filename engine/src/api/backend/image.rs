//! What the image routers (`api::images`, `image_archive`, `registry`, `system_df`) ask of the
//! engine, and `Engine`'s answers (moby's `router/image/backend.go`: `imageBackend`,
//! `importExportBackend`, `registryBackend`).

use std::future::Future;
use std::io::Read;
use std::path::PathBuf;
use std::sync::Arc;

use bytes::Bytes;
use tokio::sync::mpsc;

use crate::error::Result;
use crate::image::archive::write::SaveImage;
use crate::image::history::HistoryItem;
use crate::image::import::Platform;
use crate::image::reference::Reference;
use crate::model::image::{ImageDeleteItem, ImageInspect, ImageSummary};
use crate::registry::{Credentials, RegResult};
use crate::service::commit::CommitOptions;
use crate::service::image::archive::{self as image_archive, LoadEvent};
use crate::service::image::ingest::IngestLease;
use crate::service::image::pull::{Progress, PullOptions, Resolved};
use crate::service::image::push::{self, PushOptions, PushPlan};
use crate::service::image::{ImageListFilter, ImportOptions};
use crate::service::Engine;

/// The local image store: list, inspect, tag, remove, import, push.
pub trait ImageBackend: Send + Sync + 'static {
    fn image_list(&self, filter: &ImageListFilter) -> Result<Vec<ImageSummary>>;
    fn image_inspect(&self, name: &str) -> Result<ImageInspect>;
    fn image_history(&self, name: &str) -> impl Future<Output = Result<Vec<HistoryItem>>> + Send;
    /// The unpacked layer directories of image `id`, lowest first (none when it is gone).
    fn image_layer_dirs(&self, id: &str) -> Vec<PathBuf>;
    fn image_tag(
        &self,
        name: &str,
        repo: &str,
        tag: Option<&str>,
    ) -> impl Future<Output = Result<()>> + Send;
    /// Untag or delete; images that containers use are refused unless `force`.
    fn image_remove(
        &self,
        name: &str,
        force: bool,
        noprune: bool,
    ) -> impl Future<Output = Result<Vec<ImageDeleteItem>>> + Send;
    /// Remove the images no container uses that pass `filter` and are older than `until`.
    fn image_prune(
        &self,
        filter: ImageListFilter,
        until: Option<i64>,
    ) -> impl Future<Output = Result<(Vec<ImageDeleteItem>, u64)>> + Send;
    /// Import a root filesystem tarball; the new image's id.
    fn image_import(
        &self,
        body: Box<dyn Read + Send>,
        opts: ImportOptions,
    ) -> impl Future<Output = Result<String>> + Send;
    /// What a push of `name` (and `tag`) would upload: bad name → 400, nothing local → 404.
    fn image_push_plan(&self, name: &str, tag: Option<&str>) -> Result<PushPlan>;
    /// `POST /commit`: a container's changes and config as a new image; its id.
    fn image_commit(&self, opts: CommitOptions) -> impl Future<Output = Result<String>> + Send;
    /// Run the push, streaming docker's progress lines into `tx`.
    fn image_push(
        self: Arc<Self>,
        plan: PushPlan,
        opts: PushOptions,
        tx: mpsc::Sender<Bytes>,
    ) -> impl Future<Output = Result<()>> + Send;
}

/// `docker save` and `docker load`. Both block (they read and write archives).
pub trait ImageArchiveBackend: Send + Sync + 'static {
    /// Resolve the names of a save and pin their blobs (NotFound for an unknown name).
    fn image_save_prepare(&self, names: &[String]) -> Result<(IngestLease, Vec<SaveImage>)>;
    /// Load an archive into the store: docker's report lines.
    fn image_load(
        &self,
        body: Box<dyn Read + Send>,
        emit: &(dyn Fn(LoadEvent) + Sync),
    ) -> Result<Vec<String>>;
}

/// Registries: pull and login.
pub trait RegistryBackend: Send + Sync + 'static {
    /// Resolve a tag or digest to an image manifest for `platform` (errors before any progress
    /// is written, so the API answers them with a status code).
    fn registry_resolve(
        &self,
        reference: &Reference,
        tag_or_digest: &str,
        platform: Option<&Platform>,
        creds: Option<Credentials>,
    ) -> impl Future<Output = Result<Resolved>> + Send;
    /// A whole pull after `first` (the already resolved manifest of a single-tag pull).
    fn registry_pull(
        &self,
        opts: &PullOptions,
        first: Option<Resolved>,
        progress: &Progress,
    ) -> impl Future<Output = Result<()>> + Send;
    /// Whether the registry takes `creds`.
    fn registry_login(&self, creds: &Credentials) -> impl Future<Output = RegResult<()>> + Send;
    /// `GET /distribution/{name}/json`: the registry's descriptor and platforms for `reference`.
    fn registry_distribution(
        &self,
        reference: &Reference,
        creds: Option<Credentials>,
    ) -> impl Future<Output = Result<serde_json::Value>> + Send;
}

impl ImageBackend for Engine {
    async fn image_commit(&self, opts: CommitOptions) -> Result<String> {
        self.commit(opts).await
    }

    fn image_list(&self, filter: &ImageListFilter) -> Result<Vec<ImageSummary>> {
        self.images.list(filter)
    }

    fn image_inspect(&self, name: &str) -> Result<ImageInspect> {
        self.images.inspect(name)
    }

    async fn image_history(&self, name: &str) -> Result<Vec<HistoryItem>> {
        self.images.history(name).await
    }

    fn image_layer_dirs(&self, id: &str) -> Vec<PathBuf> {
        self.images
            .resolve(id)
            .map(|r| r.layer_dirs)
            .unwrap_or_default()
    }

    async fn image_tag(&self, name: &str, repo: &str, tag: Option<&str>) -> Result<()> {
        self.images.tag(name, repo, tag).await
    }

    async fn image_remove(
        &self,
        name: &str,
        force: bool,
        noprune: bool,
    ) -> Result<Vec<ImageDeleteItem>> {
        let usage = self.containers.image_usage();
        self.images.remove(name, force, noprune, usage).await
    }

    async fn image_prune(
        &self,
        filter: ImageListFilter,
        until: Option<i64>,
    ) -> Result<(Vec<ImageDeleteItem>, u64)> {
        let usage = self.containers.image_usage();
        self.images.prune(filter, until, usage).await
    }

    async fn image_import(
        &self,
        body: Box<dyn Read + Send>,
        opts: ImportOptions,
    ) -> Result<String> {
        self.images.import(body, opts).await
    }

    fn image_push_plan(&self, name: &str, tag: Option<&str>) -> Result<PushPlan> {
        push::plan(self, name, tag)
    }

    async fn image_push(
        self: Arc<Self>,
        plan: PushPlan,
        opts: PushOptions,
        tx: mpsc::Sender<Bytes>,
    ) -> Result<()> {
        push::push(self, plan, opts, tx).await
    }
}

impl ImageArchiveBackend for Engine {
    fn image_save_prepare(&self, names: &[String]) -> Result<(IngestLease, Vec<SaveImage>)> {
        image_archive::prepare_save(&self.images, names)
    }

    fn image_load(
        &self,
        body: Box<dyn Read + Send>,
        emit: &(dyn Fn(LoadEvent) + Sync),
    ) -> Result<Vec<String>> {
        image_archive::load(&self.images, body, emit)
    }
}

impl RegistryBackend for Engine {
    async fn registry_resolve(
        &self,
        reference: &Reference,
        tag_or_digest: &str,
        platform: Option<&Platform>,
        creds: Option<Credentials>,
    ) -> Result<Resolved> {
        self.pulls
            .resolve(reference, tag_or_digest, platform, creds)
            .await
    }

    async fn registry_pull(
        &self,
        opts: &PullOptions,
        first: Option<Resolved>,
        progress: &Progress,
    ) -> Result<()> {
        self.pulls.run(&self.images, opts, first, progress).await
    }

    async fn registry_login(&self, creds: &Credentials) -> RegResult<()> {
        self.pulls.registry().check_login(creds).await
    }

    async fn registry_distribution(
        &self,
        reference: &Reference,
        creds: Option<Credentials>,
    ) -> Result<serde_json::Value> {
        self.pulls.distribution_inspect(reference, creds).await
    }
}
