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

use super::shared_net::JoinedNetwork;
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
        let joined = match self.prepare_start(&rec, &dir) {
            Ok(j) => j,
            Err(err) => {
                self.fail_start(c, &dir, &err);
                return Err(err);
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
                self.fail_start(c, &dir, &err);
                Err(err)
            }
        }
    }

    /// Everything a start does before the shim: mount checks, the network to join, the spec
    /// (log options, limits), links and the network attachment; the bundle written to `dir`.
    fn prepare_start(
        self: &Arc<Self>,
        rec: &ContainerRecord,
        dir: &Path,
    ) -> Result<Option<JoinedNetwork>> {
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

    /// A container that failed to start keeps its status (a new one stays Created, as docker
    /// lists it) with the error and exit code 128 unless the shim recorded one (127 for a
    /// missing command); `die` is published and waiters wake. No restart policy applies, and an
    /// AutoRemove container is removed: `docker run --rm` waits for that before it reports, and
    /// dockerd removes it whatever the failure was.
    fn fail_start(self: &Arc<Self>, c: &Arc<Container>, dir: &Path, err: &EngineError) {
        let mut exit = self.host.exit_record(dir).unwrap_or_else(|| ExitRecord {
            exit_code: 128,
            oom_killed: false,
            finished_at: now_rfc3339(),
            error: Some(err.to_string()),
        });
        if exit.error.is_none() {
            exit.error = Some(err.to_string());
        }
        let before = c.status();
        health::stop(self, c);
        self.record_exit(c, &exit, false);
        if before == Status::Created && !c.life.borrow().removed {
            let rec = c.update(|r| r.state.status = Status::Created);
            if self.dir(&rec.id).exists() {
                if let Err(e) = self.store.save(&rec) {
                    tracing::error!(id = %rec.id, error = %e, "could not persist start failure");
                }
            }
        }
        if c.record().host_config.auto_remove {
            self.remove_in_background(c);
        }
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
