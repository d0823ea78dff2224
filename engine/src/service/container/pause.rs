//! `docker pause` / `unpause`: freezing and thawing the container's cgroup.

use std::sync::Arc;

use crate::error::{EngineError, Result};
use crate::model::container::Status;

use super::{Container, ContainerService};

impl ContainerService {
    /// Freeze a running container's processes (`docker pause`).
    pub async fn pause(&self, key: &str) -> Result<()> {
        let c = self.get(key)?;
        let _op = c.op.lock().await;
        match c.status() {
            Status::Running if c.shim().is_some() => {}
            Status::Paused => {
                return Err(EngineError::conflict(format!(
                    "Container {} is already paused",
                    c.id
                )))
            }
            _ => {
                return Err(EngineError::conflict(format!(
                    "Container {} is not running",
                    c.id
                )))
            }
        }
        self.set_frozen(&c.id, true).await?;
        let rec = c.update(|r| r.state.status = Status::Paused);
        self.store.save(&rec)?;
        self.emit(&c, "pause", &[]);
        Ok(())
    }

    /// Thaw a paused container (`docker unpause`).
    pub async fn unpause(&self, key: &str) -> Result<()> {
        let c = self.get(key)?;
        let _op = c.op.lock().await;
        if c.status() != Status::Paused {
            return Err(EngineError::conflict(format!(
                "Container {} is not paused",
                c.id
            )));
        }
        self.set_frozen(&c.id, false).await?;
        let rec = c.update(|r| r.state.status = Status::Running);
        self.store.save(&rec)?;
        self.emit(&c, "unpause", &[]);
        Ok(())
    }

    /// Freeze or thaw the container's cgroup off the async runtime (the kernel is polled until
    /// it has settled).
    pub(super) async fn set_frozen(&self, id: &str, frozen: bool) -> Result<()> {
        let path = format!("berth/{id}");
        self.host_blocking("freezer", move |host| host.set_frozen(&path, frozen))
            .await
    }

    /// `docker commit`'s pause: freeze a running (not paused) container's cgroup while its
    /// changes are copied, without the `pause` state or event dockerd does not show either.
    /// Returns whether it froze, so the caller thaws only what it froze. The container's
    /// operation lock is held meanwhile so a stop cannot meet a frozen cgroup.
    pub async fn freeze_for_commit(&self, c: &Arc<Container>) -> Result<bool> {
        if c.status() != Status::Running || c.shim().is_none() {
            return Ok(false);
        }
        match self.set_frozen(&c.id, true).await {
            Ok(()) => Ok(true),
            // It exited meanwhile (its cgroup went with it, maybe before the engine heard of
            // the exit): nothing runs to hold still.
            Err(EngineError::Io { source, .. })
                if source.kind() == std::io::ErrorKind::NotFound =>
            {
                Ok(false)
            }
            Err(_) if c.status() != Status::Running => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Undo `freeze_for_commit`.
    pub async fn thaw_after_commit(&self, c: &Arc<Container>) {
        if let Err(e) = self.set_frozen(&c.id, false).await {
            tracing::warn!(id = %c.id, error = %e, "could not thaw a container after commit");
        }
    }

    /// Before a stop, a SIGKILL or a forced removal: resume a paused container so its processes
    /// can handle the signal. A failure is logged; the signal is sent anyway.
    pub(super) async fn thaw_if_paused(&self, c: &Arc<Container>) {
        if c.status() != Status::Paused {
            return;
        }
        match self.set_frozen(&c.id, false).await {
            Ok(()) => {
                let rec = c.update(|r| {
                    if r.state.status == Status::Paused {
                        r.state.status = Status::Running;
                    }
                });
                if let Err(e) = self.store.save(&rec) {
                    tracing::warn!(id = %c.id, error = %e, "could not persist unpaused state");
                }
                self.emit(c, "unpause", &[]);
            }
            Err(e) => tracing::warn!(id = %c.id, error = %e, "could not thaw paused container"),
        }
    }
}
