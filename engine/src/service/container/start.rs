//! `docker start`: the record becomes a runtime spec, the shim starts the process, a monitor
//! task forwards its output and its exit.

use std::path::Path;
use std::sync::Arc;

use tokio::sync::mpsc;

use crate::error::{EngineError, Result};
use crate::model::container::{ContainerRecord, Status};
use crate::runtime::shim_client::ShimEvent;
use crate::runtime::spec::{files, ExitRecord};
use crate::store::atomic::write_json_atomic;
use crate::util::now_rfc3339;

use super::{health, restart, spec, Container, ContainerService, Output};

impl ContainerService {
    pub async fn start(self: &Arc<Self>, key: &str) -> Result<()> {
        let c = self.get(key)?;
        let _op = c.op.lock().await;
        if matches!(c.status(), Status::Created | Status::Exited) {
            self.reset_restart_policy(&c);
        }
        self.start_locked(&c).await
    }

    /// A user's start or restart: policy restarts count from zero and are allowed again.
    pub(super) fn reset_restart_policy(&self, c: &Arc<Container>) {
        restart::reset(c);
        c.update(|r| {
            r.restart_count = 0;
            r.has_been_manually_stopped = false;
        });
    }

    /// A start made by the restart policy: only if the container is still in state `expect`
    /// (a stop, kill or removal meanwhile wins). A failed start is not retried.
    pub(crate) async fn start_by_policy(
        self: &Arc<Self>,
        c: &Arc<Container>,
        expect: Status,
    ) -> Result<()> {
        self.wait_for_targets(c).await;
        let _op = c.op.lock().await;
        if c.life.borrow().removed || c.status() != expect {
            return Ok(());
        }
        c.update(|r| r.state.status = Status::Exited);
        restart::set_starting(c, true);
        let res = self.start_locked(c).await;
        restart::set_starting(c, false);
        res
    }

    pub(super) async fn start_locked(self: &Arc<Self>, c: &Arc<Container>) -> Result<()> {
        let rec = c.record();
        match rec.state.status {
            Status::Running | Status::Restarting => {
                return Err(EngineError::NotModified("container already started".into()))
            }
            Status::Paused => {
                return Err(EngineError::conflict(
                    "cannot start a paused container, try unpause instead",
                ))
            }
            Status::Removing | Status::Dead => {
                return Err(EngineError::conflict(format!(
                    "container {} is marked for removal and cannot be started",
                    rec.id
                )))
            }
            Status::Created | Status::Exited => {}
        }
        let dir = self.dir(&rec.id);
        let joined = match self.prepare_bundle(&rec, &dir) {
            Ok(joined) => joined,
            Err(e) => {
                // Nothing ran, but `docker run --rm` waits for the removal, as dockerd's
                // failed start removes an AutoRemove container.
                if rec.host_config.auto_remove {
                    let (svc, id) = (self.clone(), rec.id.clone());
                    tokio::spawn(async move { svc.remove_with_volumes(&id, true, true).await });
                }
                return Err(e);
            }
        };
        let _ = std::fs::remove_file(dir.join(files::EXIT_RECORD));
        match self.host.spawn_shim(&self.shim_exe, &dir).await {
            Ok((handle, started, events)) => {
                let rec = c.update(|r| {
                    if let Some(j) = &joined {
                        // docker shows the hostname the container runs with.
                        r.config.hostname = j.hostname.clone();
                    }
                    r.state.status = Status::Running;
                    r.state.pid = started.pid;
                    r.state.started_at = started.started_at.clone();
                    r.state.exit_code = 0;
                    r.state.error.clear();
                    r.state.oom_killed = false;
                });
                self.store.save(&rec)?;
                *c.shim.lock().expect("shim lock") = Some(handle);
                c.life.send_modify(|l| {
                    l.running = true;
                    l.error = None;
                });
                self.spawn_monitor(c.clone(), events);
                self.emit(c, "start", &[]);
                health::start(self, c);
                Ok(())
            }
            Err(err) => {
                let exit = self.host.exit_record(&dir).unwrap_or_else(|| ExitRecord {
                    exit_code: 128,
                    oom_killed: false,
                    finished_at: now_rfc3339(),
                    error: Some(err.to_string()),
                });
                let mut exit = exit;
                if exit.error.is_none() {
                    exit.error = Some(err.to_string());
                }
                // A container that failed to start is Exited with the error, as in docker, and an
                // AutoRemove one is removed (`docker run --rm` waits for that before it reports).
                self.on_exit(c, exit);
                Err(err)
            }
        }
    }

    /// Everything the shim needs before it can run: mounts ready, the namespaces it joins
    /// resolved (their targets must run), networks attached, `bundle.json` written.
    fn prepare_bundle(
        &self,
        rec: &ContainerRecord,
        dir: &Path,
    ) -> Result<Option<super::shared_net::JoinedNetwork>> {
        if let Some(hooks) = self.mount_hooks() {
            hooks.before_start(rec)?;
        }
        let joined = self.joined_network(&rec.id, &rec.host_config.network_mode)?;
        let namespaces = self.namespaces(&rec.host_config)?;
        let mut spec = spec::runtime_spec(&self.data_root, dir, rec)?;
        spec.namespaces = namespaces;
        if let Some(j) = &joined {
            spec.network = j.namespace.clone();
            spec.hostname = j.hostname.clone();
            spec.etc_dir = Some(j.etc_dir.clone());
        }
        let links = self.resolve_links(rec)?;
        spec.process.env = super::links::with_link_env(spec.process.env, links.env);
        if let Some(nets) = self.networks() {
            if let Some(ns) = nets.attach_linked(rec, dir, links.hosts)? {
                spec.network = crate::runtime::spec::NetworkNamespace::Path(ns);
            }
        }
        if let Err(e) = write_json_atomic(&dir.join(files::BUNDLE), &spec) {
            if let Some(nets) = self.networks() {
                nets.release(&rec.id);
            }
            return Err(e);
        }
        Ok(joined)
    }

    pub(super) fn spawn_monitor(
        self: &Arc<Self>,
        c: Arc<Container>,
        mut events: mpsc::UnboundedReceiver<ShimEvent>,
    ) {
        let svc = self.clone();
        tokio::spawn(async move {
            while let Some(ev) = events.recv().await {
                match ev {
                    ShimEvent::Stdout(b) => {
                        c.send_output(Output::Stdout(b));
                    }
                    ShimEvent::Stderr(b) => {
                        c.send_output(Output::Stderr(b));
                    }
                    ShimEvent::Exited(exit) => {
                        svc.on_exit(&c, exit);
                        return;
                    }
                }
            }
        });
    }
}
