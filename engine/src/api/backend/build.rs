//! What the build router (`api::build`) needs: running a build, the build cache, build records.

use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;

use bytes::Bytes;
use tokio::sync::mpsc;

use crate::builder::context::BuildContext;
use crate::error::Result;
use crate::model::build::BuildRecord;
use crate::service::build::prune::PruneOptions;
use crate::service::build::{BuildFailure, BuildOptions};
use crate::service::Engine;

pub trait BuildBackend: Send + Sync + 'static {
    /// Where a build's context is received.
    fn build_scratch(&self) -> PathBuf;
    /// Run a build; its messages go to `tx`. Returns the image id.
    fn build_run(
        self: Arc<Self>,
        opts: BuildOptions,
        context: BuildContext,
        tx: mpsc::UnboundedSender<Bytes>,
    ) -> impl Future<Output = std::result::Result<String, BuildFailure>> + Send;
    /// `POST /build/prune`: the pruned cache ids and the bytes freed.
    fn build_prune(
        &self,
        opts: PruneOptions,
    ) -> impl Future<Output = Result<(Vec<String>, u64)>> + Send;
    /// The build cache as `system df` lists it.
    fn build_cache_usage(&self) -> Result<Vec<serde_json::Value>>;
    fn builds_list(&self) -> Result<Vec<BuildRecord>>;
    fn builds_get(&self, id: &str) -> Result<BuildRecord>;
    fn builds_remove(&self, id: &str) -> Result<()>;
}

impl BuildBackend for Engine {
    fn build_scratch(&self) -> PathBuf {
        self.builds.scratch()
    }

    async fn build_run(
        self: Arc<Self>,
        opts: BuildOptions,
        context: BuildContext,
        tx: mpsc::UnboundedSender<Bytes>,
    ) -> std::result::Result<String, BuildFailure> {
        crate::service::build::run_build(self, opts, context, tx).await
    }

    async fn build_prune(&self, opts: PruneOptions) -> Result<(Vec<String>, u64)> {
        crate::service::build::prune::prune(self, &opts).await
    }

    fn build_cache_usage(&self) -> Result<Vec<serde_json::Value>> {
        crate::service::build::prune::usage(self)
    }

    fn builds_list(&self) -> Result<Vec<BuildRecord>> {
        self.builds.records.list()
    }

    fn builds_get(&self, id: &str) -> Result<BuildRecord> {
        self.builds.records.get(id)
    }

    fn builds_remove(&self, id: &str) -> Result<()> {
        self.builds.records.remove(id)
    }
}
