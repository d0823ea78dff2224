//! What attaching needs from the lifecycle: the shim once the container runs, and TTY resizes.

use std::sync::Arc;

use crate::error::{EngineError, Result};
use crate::runtime::shim_client::ShimHandle;

use super::{Container, ContainerService};

impl ContainerService {
    /// Resize the container's terminal (`docker run -t` sends this after start and on SIGWINCH).
    pub fn resize(&self, key: &str, height: Option<i64>, width: Option<i64>) -> Result<()> {
        let c = self.get(key)?;
        let dim = |v: Option<i64>, name: &str| -> Result<u16> {
            v.filter(|n| (1..=i64::from(u16::MAX)).contains(n))
                .map(|n| n as u16)
                .ok_or_else(|| EngineError::invalid(format!("invalid value for {name}: {v:?}")))
        };
        let (rows, cols) = (dim(height, "h")?, dim(width, "w")?);
        match c.shim() {
            Some(shim) => {
                shim.resize(rows, cols);
                Ok(())
            }
            None => Err(EngineError::conflict(format!(
                "Container {} is not running",
                c.id
            ))),
        }
    }

    /// Forward attach input to the container once it runs (input can arrive before `start`).
    pub async fn shim_when_running(c: &Arc<Container>) -> Option<ShimHandle> {
        let mut life = c.subscribe_life();
        loop {
            if let Some(shim) = c.shim() {
                return Some(shim);
            }
            if life.borrow().removed {
                return None;
            }
            if life.changed().await.is_err() {
                return None;
            }
        }
    }
}
