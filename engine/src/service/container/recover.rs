//! Engine start after a kill: what no record accounts for is ended, and removals the kill
//! interrupted are finished. Runs after the shims were reconnected (and unrecorded starts
//! adopted), before requests are served:
//!
//! - a shim of this engine (found by its argument, a directory under this data root) that serves
//!   no running container, its directory gone or half-removed, is killed with its container's
//!   processes and cgroup;
//! - a container that was not running has its cgroup emptied and removed, should one be left;
//! - a container unlisted by a removal the kill interrupted has its networking forgotten and its
//!   anonymous volumes removed when the removal asked for that (`rm -v`).
//!
//! Containers that were running and whose shim is lost were reaped by `reconnect_one` before their
//! restart policy could start them again; they are left alone here.

use std::collections::HashSet;
use std::sync::Arc;

use crate::runtime::spec::cgroup_path;

use super::load::is_running;
use super::ContainerService;

impl ContainerService {
    /// Ids of the containers whose record says they run.
    pub(super) fn running_ids(&self) -> HashSet<String> {
        self.list()
            .into_iter()
            .filter(|c| is_running(c.status()))
            .map(|c| c.id.clone())
            .collect()
    }

    pub(super) async fn reap_strays(self: &Arc<Self>, was_running: &HashSet<String>) {
        let running = self.running_ids();
        // Not running before nor after reconnecting: nothing of theirs should be alive.
        let idle: Vec<String> = self
            .list()
            .into_iter()
            .map(|c| c.id.clone())
            .filter(|id| !running.contains(id) && !was_running.contains(id))
            .collect();
        let listed: HashSet<String> = self.list().into_iter().map(|c| c.id.clone()).collect();
        let containers_dir = self.store.root().to_path_buf();
        let was_running = was_running.clone();
        let res = self
            .host_blocking("reaping strays", move |host| {
                for shim in host.shim_processes(&containers_dir) {
                    let id = shim.container_id().to_owned();
                    let accounted = shim.dir_name == id && running.contains(&id);
                    // A listed container that ran before the kill was settled by reconnect_one,
                    // which ended its processes; its shim exits on its own.
                    if accounted || (listed.contains(&id) && was_running.contains(&id)) {
                        continue;
                    }
                    tracing::warn!(pid = shim.pid, dir = %shim.dir_name, "ending a shim no container accounts for");
                    if let Err(e) = host.kill_cgroup(&cgroup_path(&id)) {
                        tracing::warn!(%id, error = %e, "reaping the cgroup of a stray shim");
                    }
                    host.kill_shim(shim.pid);
                }
                for id in idle {
                    match host.kill_cgroup(&cgroup_path(&id)) {
                        Ok(0) => {}
                        Ok(n) => tracing::warn!(%id, processes = n, "killed processes left in the cgroup of a stopped container"),
                        Err(e) => tracing::warn!(%id, error = %e, "removing a leftover cgroup"),
                    }
                }
                Ok(())
            })
            .await;
        if let Err(e) = res {
            tracing::warn!(error = %e, "reaping strays");
        }
    }

    /// The rest of the removals a kill interrupted once their containers were unlisted.
    pub(super) fn finish_interrupted_removals(&self) {
        let interrupted = std::mem::take(&mut *self.interrupted.lock().expect("interrupted"));
        for r in interrupted {
            tracing::info!(id = %r.record.id, "finishing a removal a kill interrupted");
            if let Some(nets) = self.networks() {
                nets.forget(&r.record.id);
            }
            if let Some(hooks) = self.mount_hooks() {
                hooks.after_remove(&r.record, r.remove_volumes);
            }
        }
    }
}
