//! `docker wait`: not-running, next-exit or removed, from the container's lifecycle channel.

use crate::error::{EngineError, Result};

use super::ContainerService;

impl ContainerService {
    /// Wait for a condition: "not-running" (default), "next-exit" or "removed". Registers at call
    /// time and returns a receiver that yields (exit code, error) once.
    pub fn wait(
        &self,
        key: &str,
        condition: &str,
    ) -> Result<tokio::sync::oneshot::Receiver<(i32, Option<String>)>> {
        let c = self.get(key)?;
        let mut life = c.subscribe_life();
        let snapshot = life.borrow().clone();
        let (tx, rx) = tokio::sync::oneshot::channel();
        match condition {
            "" | "not-running" => {
                if !snapshot.running {
                    let _ = tx.send((snapshot.exit_code, snapshot.error));
                    return Ok(rx);
                }
                tokio::spawn(async move {
                    if let Ok(l) = life.wait_for(|l| !l.running).await {
                        let _ = tx.send((l.exit_code, l.error.clone()));
                    }
                });
            }
            "next-exit" => {
                let seen = snapshot.exits;
                tokio::spawn(async move {
                    if let Ok(l) = life.wait_for(|l| l.exits > seen || l.removed).await {
                        let _ = tx.send((l.exit_code, l.error.clone()));
                    }
                });
            }
            "removed" => {
                tokio::spawn(async move {
                    if let Ok(l) = life.wait_for(|l| l.removed).await {
                        // dockerd answers a removal with `"Error": null` even after a failed
                        // start: with an error here, `docker run --rm` of a missing command
                        // logs a second "Error waiting for container" line.
                        let _ = tx.send((l.exit_code, None));
                    }
                });
            }
            other => {
                return Err(EngineError::invalid(format!(
                    "invalid condition: \"{other}\""
                )))
            }
        }
        Ok(rx)
    }
}
