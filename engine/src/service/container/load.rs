//! Engine start: read the records, reconnect to the shims that still run, settle the rest.

use std::sync::Arc;

use crate::model::container::Status;
use crate::runtime::spec::ExitRecord;
use crate::util::now_rfc3339;

use super::{health, restart, Container, ContainerService};

impl ContainerService {
    /// Read every container record (blocking; run it off the async threads).
    pub fn load(&self) {
        self.store.sweep_leftovers();
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
        self.reconnect_all().await;
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
        if status == Status::Running || status == Status::Paused || status == Status::Restarting {
            let dir = self.dir(&c.id);
            match self.host.reconnect_shim(&dir).await {
                Ok(Some((handle, _started, events))) => {
                    tracing::info!(id = %c.id, "reconnected to running container");
                    *c.shim.lock().expect("shim lock") = Some(handle);
                    self.spawn_monitor(c.clone(), events);
                    health::start(self, &c);
                    return;
                }
                Ok(None) => {}
                Err(e) => tracing::warn!(id = %c.id, error = %e, "reconnect failed"),
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
