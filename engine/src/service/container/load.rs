//! Engine start: read the records, reconnect to the shims that still run (adopting those a kill
//! left unrecorded), settle the rest, then end what no record accounts for (`recover`).

use std::sync::Arc;

use crate::model::container::Status;
use crate::runtime::spec::{cgroup_path, files, ExitRecord};
use crate::util::now_rfc3339;

use super::{health, restart, Container, ContainerService};

impl ContainerService {
    /// Read every container record (blocking; run it off the async threads).
    pub fn load(&self) {
        *self.interrupted.lock().expect("interrupted removals") = self.store.sweep_leftovers();
        let records = self.store.load_all();
        {
            let mut index = self.index.write().expect("index");
            for rec in records {
                index.names.insert(rec.name.clone(), rec.id.clone());
                index.by_id.insert(rec.id.clone(), Container::new(rec));
            }
        }
    }

    /// Resolves once `load` and `reconcile` have run; requests that read containers wait for it.
    pub async fn ready(&self) {
        let mut rx = self.loaded.subscribe();
        let _ = rx.wait_for(|loaded| *loaded).await;
    }

    /// After `load`: reconnect to the shims of containers that were running, settle the state of
    /// those that exited meanwhile, remove exited AutoRemove containers, then open for requests.
    /// Runs in the background so the engine answers `/_ping` at once whatever the number of
    /// containers.
    pub async fn reconcile(self: &Arc<Self>) {
        let was_running = self.running_ids();
        self.reconnect_all().await;
        self.reap_strays(&was_running).await;
        self.finish_interrupted_removals();
        if let Some(nets) = self.networks().cloned() {
            let mut running = std::collections::BTreeSet::new();
            let mut existing = std::collections::BTreeSet::new();
            for c in self.list() {
                if matches!(
                    c.status(),
                    Status::Running | Status::Paused | Status::Restarting
                ) {
                    running.insert(c.id.clone());
                }
                existing.insert(c.id.clone());
            }
            let _ = tokio::task::spawn_blocking(move || nets.reconcile(&running, &existing)).await;
        }
        self.loaded.send_replace(true);
        restart::restart_at_engine_start(self).await;
    }

    pub(super) async fn reconnect_all(self: &Arc<Self>) {
        let all: Vec<Arc<Container>> = self
            .index
            .read()
            .expect("index")
            .by_id
            .values()
            .cloned()
            .collect();
        // Concurrently: each reconnect is a socket round trip to one shim, and a restarted engine
        // with hundreds of running containers should be fully back in milliseconds.
        futures_util::future::join_all(all.into_iter().map(|c| self.reconnect_one(c))).await;
    }

    pub(super) async fn reconnect_one(self: &Arc<Self>, c: Arc<Container>) {
        let status = c.status();
        let dir = self.dir(&c.id);
        let was_running = is_running(status);
        // A shim can run for a record that does not say so: the engine was killed between the
        // shim's start and the record's save (the client may have been told it started). It is
        // adopted, so no container runs unlisted.
        if was_running || dir.join(files::SHIM_SOCKET).exists() {
            match self.host.reconnect_shim(&dir).await {
                Ok(Some((handle, started, events))) => {
                    if !was_running {
                        tracing::warn!(id = %c.id, "adopting a container whose start a kill left unrecorded");
                        let rec = c.update(|r| {
                            r.state.status = Status::Running;
                            r.state.pid = started.pid;
                            r.state.started_at = started.started_at.clone();
                            r.state.exit_code = 0;
                            r.state.error.clear();
                        });
                        if let Err(e) = self.store.save(&rec) {
                            tracing::error!(id = %c.id, error = %e, "could not persist an adopted container");
                        }
                        c.life.send_modify(|l| l.running = true);
                    } else {
                        tracing::info!(id = %c.id, "reconnected to running container");
                    }
                    *c.shim.lock().expect("shim lock") = Some(handle);
                    self.spawn_monitor(c.clone(), events);
                    health::start(self, &c);
                    return;
                }
                Ok(None) => {}
                Err(e) => tracing::warn!(id = %c.id, error = %e, "reconnect failed"),
            }
        }
        if was_running {
            // No shim answers: whatever is left in its cgroup must not run on unseen, and must
            // be gone before the restart policy starts the container again in that cgroup.
            let path = cgroup_path(&c.id);
            match self
                .host_blocking("reaping a cgroup", move |h| h.kill_cgroup(&path))
                .await
            {
                Ok(0) => {}
                Ok(n) => {
                    tracing::warn!(id = %c.id, processes = n, "killed processes its lost shim left running")
                }
                Err(e) => {
                    tracing::warn!(id = %c.id, error = %e, "reaping the cgroup of a lost shim")
                }
            }
            let exit = self.host.exit_record(&dir).unwrap_or_else(|| ExitRecord {
                exit_code: 255,
                oom_killed: false,
                finished_at: now_rfc3339(),
                error: Some("container's shim disappeared while the engine was down".into()),
            });
            self.on_exit(&c, exit);
        } else if status == Status::Exited && c.record().host_config.auto_remove {
            let _ = self.remove_with_volumes(&c.id, true, true).await;
        }
    }
}

pub(super) fn is_running(status: Status) -> bool {
    matches!(
        status,
        Status::Running | Status::Paused | Status::Restarting
    )
}
