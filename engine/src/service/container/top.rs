//! `docker top`: the processes of the container's cgroup.

use crate::error::{EngineError, Result};
use crate::model::container::Status;

use super::ContainerService;

impl ContainerService {
    /// Processes of a running container as `ps -ef` rows (`docker top`).
    pub async fn top(&self, key: &str) -> Result<crate::runtime::top::Top> {
        let c = self.get(key)?;
        if !matches!(c.status(), Status::Running | Status::Paused) || c.shim().is_none() {
            return Err(EngineError::conflict(format!(
                "Container {} is not running",
                c.id
            )));
        }
        let path = crate::runtime::spec::cgroup_path(&c.id);
        self.host_blocking("top", move |host| {
            let pids = host.cgroup_pids(&path)?;
            Ok(crate::runtime::top::ps_ef(&pids))
        })
        .await
    }
}
