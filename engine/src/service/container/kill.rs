//! `docker kill`: one signal to the container's main process.

use std::time::Duration;

use crate::error::{EngineError, Result};
use crate::model::container::Status;
use crate::util::signals;

use super::{restart, ContainerService};

impl ContainerService {
    pub async fn kill(&self, key: &str, signal: Option<&str>) -> Result<()> {
        let c = self.get(key)?;
        let sig = kill_signal(signal)?;
        let cancels = restart::signal_cancels(&c.record(), sig);
        if matches!(
            c.status(),
            Status::Running | Status::Paused | Status::Restarting
        ) {
            self.mark_manually_stopped(&c, cancels);
        }
        match (c.status(), c.shim()) {
            // Waiting for a policy restart: nothing to signal. SIGKILL or the stop signal end
            // the restart; another signal leaves it pending, as in docker.
            (Status::Restarting, None) => {
                if cancels {
                    self.settle_cancelled_restart(&c);
                }
                Ok(())
            }
            (Status::Running | Status::Paused | Status::Restarting, Some(shim)) => {
                // SIGKILL must take effect now: thaw a paused container so it can die. Other
                // signals stay pending until unpause, as in docker.
                if sig == libc::SIGKILL {
                    self.thaw_if_paused(&c).await;
                }
                self.emit(&c, "kill", &[("signal", sig.to_string())]);
                shim.signal(sig);
                if sig == libc::SIGKILL {
                    // docker's kill returns once a SIGKILL'd container is gone.
                    let mut life = c.subscribe_life();
                    let _ = tokio::time::timeout(
                        Duration::from_secs(10),
                        Self::wait_stopped(&mut life),
                    )
                    .await;
                }
                Ok(())
            }
            _ => Err(EngineError::conflict(format!(
                "Container {} is not running",
                c.id
            ))),
        }
    }
}

/// The signal of a kill: the one asked for (a name or a number), SIGKILL by default.
pub(super) fn kill_signal(signal: Option<&str>) -> Result<i32> {
    match signal {
        Some(s) if !s.is_empty() => signals::parse(s),
        _ => Ok(libc::SIGKILL),
    }
}
