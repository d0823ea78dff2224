//! What the system routers (`api::system`, `api::berth`, `system_df`) and the top-level router
//! ask of the engine beyond the resources, and `Engine`'s answers (moby's
//! `router/system/backend.go`).

use std::future::Future;
use std::path::Path;

use crate::error::Result;
use crate::service::container::Counts;
use crate::service::image::check::CheckReport;
use crate::service::Engine;
use crate::supervisor::Launch;

pub trait SystemBackend: Send + Sync + 'static {
    /// Resolves once the container index is loaded (everything but the liveness endpoints
    /// waits for it).
    fn ready(&self) -> impl Future<Output = ()> + Send;
    /// Stable id of this engine's data root (docker's `ID` in /info).
    fn engine_id(&self) -> &str;
    fn data_root(&self) -> &Path;
    /// Containers by state, for /info.
    fn container_counts(&self) -> Counts;
    fn image_count(&self) -> usize;
    /// Why bridge networking could not be set up on this host, if it could not.
    fn network_host_error(&self) -> Option<String>;
    /// This engine process: pid, socket, socket activation, systemd unit.
    fn launch(&self) -> &Launch;
    /// Re-verify the image store, optionally repairing it.
    fn image_check(&self, repair: bool) -> impl Future<Output = Result<CheckReport>> + Send;
}

impl SystemBackend for Engine {
    async fn ready(&self) {
        self.containers.ready().await
    }

    fn engine_id(&self) -> &str {
        &self.engine_id
    }

    fn data_root(&self) -> &Path {
        &self.data_root
    }

    fn container_counts(&self) -> Counts {
        self.containers.counts()
    }

    fn image_count(&self) -> usize {
        self.images.count()
    }

    fn network_host_error(&self) -> Option<String> {
        self.networks.host_error()
    }

    fn launch(&self) -> &Launch {
        &self.launch
    }

    async fn image_check(&self, repair: bool) -> Result<CheckReport> {
        self.images.check(repair).await
    }
}
