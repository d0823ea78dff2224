//! What the exec router (`api::exec`) asks of the engine, and `Engine`'s answers (moby's
//! `execBackend`).

use std::future::Future;
use std::sync::Arc;

use crate::error::Result;
use crate::service::container::exec::{Exec, ExecConfig, StartOptions, Started};
use crate::service::Engine;

pub trait ExecBackend: Send + Sync + 'static {
    /// NotFound unless `container` names a container (checked before the exec body is parsed).
    fn exec_container_exists(&self, container: &str) -> Result<()>;
    /// Validate and register an exec instance in `container`; nothing runs yet.
    fn exec_create(&self, container: &str, config: ExecConfig) -> Result<String>;
    fn exec(&self, id: &str) -> Result<Arc<Exec>>;
    /// Resize the exec's TTY: now when it runs, else at start.
    fn exec_resize(&self, id: &str, rows: u16, cols: u16) -> Result<()>;
    /// Run it. Detached: `None`, the process runs in the background; attached: its stdin and
    /// output.
    fn exec_start(
        &self,
        id: &str,
        opts: &StartOptions,
    ) -> impl Future<Output = Result<Option<Started>>> + Send;
}

impl ExecBackend for Engine {
    fn exec_container_exists(&self, container: &str) -> Result<()> {
        self.containers.get(container).map(drop)
    }

    fn exec_create(&self, container: &str, config: ExecConfig) -> Result<String> {
        self.execs.create(container, config)
    }

    fn exec(&self, id: &str) -> Result<Arc<Exec>> {
        self.execs.get(id)
    }

    fn exec_resize(&self, id: &str, rows: u16, cols: u16) -> Result<()> {
        self.execs.resize(id, rows, cols)
    }

    async fn exec_start(&self, id: &str, opts: &StartOptions) -> Result<Option<Started>> {
        self.execs.start(id, opts).await
    }
}
