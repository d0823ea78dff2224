//! `docker rm`: a stopped container (or, forced, a running one after SIGKILL) leaves the store,
//! the index and its networks; its anonymous volumes go too when asked.

use std::time::Duration;

use crate::error::{EngineError, Result};
use crate::model::container::Status;

use super::{restart, ContainerService};

impl ContainerService {
    pub async fn remove(&self, key: &str, force: bool) -> Result<()> {
        self.remove_with_volumes(key, force, false).await
    }

    /// `DELETE /containers/{id}?v=`: with `volumes`, the container's anonymous volumes go too.
    pub async fn remove_with_volumes(&self, key: &str, force: bool, volumes: bool) -> Result<()> {
        let c = self.get(key)?;
        let _op = c.op.lock().await;
        if c.life.borrow().removed {
            return Ok(());
        }
        let status = c.status();
        if matches!(
            status,
            Status::Running | Status::Paused | Status::Restarting
        ) {
            if !force {
                return Err(EngineError::conflict(format!(
                    "You cannot remove a running container {}. Stop the container before attempting removal or force remove",
                    c.id
                )));
            }
            restart::cancel(&c);
            self.settle_cancelled_restart(&c);
            if let Some(shim) = c.shim() {
                let mut life = c.subscribe_life();
                self.thaw_if_paused(&c).await;
                self.emit(&c, "kill", &[("signal", libc::SIGKILL.to_string())]);
                shim.signal(libc::SIGKILL);
                if tokio::time::timeout(Duration::from_secs(15), Self::wait_stopped(&mut life))
                    .await
                    .is_err()
                {
                    return Err(EngineError::internal(format!(
                        "could not kill container {}: it did not exit",
                        c.id
                    )));
                }
            }
        }
        let name = c.record().name;
        self.store.remove(&c.id, volumes)?;
        if let Some(nets) = self.networks() {
            nets.forget(&c.id);
        }
        {
            let mut index = self.index.write().expect("index");
            index.by_id.remove(&c.id);
            if index.names.get(&name) == Some(&c.id) {
                index.names.remove(&name);
            }
        }
        self.emit(&c, "destroy", &[]);
        if let Some(hooks) = self.mount_hooks() {
            hooks.after_remove(&c.record(), volumes);
        }
        c.life.send_modify(|l| l.removed = true);
        Ok(())
    }
}
