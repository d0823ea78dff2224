//! The main process exited: record it, publish `die`, release networking, wake waiters, and
//! let the restart policy or AutoRemove decide what comes next.

use std::sync::Arc;

use crate::model::container::Status;
use crate::runtime::spec::ExitRecord;

use super::{health, restart, Container, ContainerService, Output};

impl ContainerService {
    pub(super) fn record_exit(&self, c: &Arc<Container>, exit: &ExitRecord, restarting: bool) {
        let started_at = c.record().state.started_at;
        let rec = c.update(|r| {
            if restarting {
                // docker's SetRestarting: counted now, started again after the back-off.
                r.state.status = Status::Restarting;
                r.restart_count += 1;
            } else {
                r.state.status = Status::Exited;
            }
            r.state.pid = 0;
            r.state.exit_code = exit.exit_code;
            r.state.oom_killed = exit.oom_killed;
            r.state.finished_at = exit.finished_at.clone();
            r.state.error = exit.error.clone().unwrap_or_default();
        });
        // A container removed meanwhile has no record left to update: nothing is lost.
        if !c.life.borrow().removed && self.dir(&rec.id).exists() {
            if let Err(e) = self.store.save(&rec) {
                tracing::error!(id = %rec.id, error = %e, "could not persist exit state");
            }
        }
        *c.shim.lock().expect("shim lock") = None;
        // Published before waiters wake, so `die` precedes the `stop` or `destroy` it unblocks.
        if exit.oom_killed {
            self.emit(c, "oom", &[]);
        }
        let duration = exec_duration(&started_at, &exit.finished_at);
        self.emit(
            c,
            "die",
            &[
                ("exitCode", exit.exit_code.to_string()),
                ("execDuration", duration.to_string()),
            ],
        );
        if let Some(hooks) = self.mount_hooks() {
            hooks.after_exit(&rec);
        }
        // Networking is released after `die` (docker's order: die, network disconnect) and
        // before waiters wake, so they find the namespace and the DNAT rules already gone.
        if let Some(nets) = self.networks() {
            nets.release(&c.id);
        }
        c.send_output(Output::End);
        c.life.send_modify(|l| {
            l.running = false;
            l.exits += 1;
            l.exit_code = exit.exit_code;
            l.error = exit.error.clone();
        });
    }

    pub(super) fn on_exit(self: &Arc<Self>, c: &Arc<Container>, exit: ExitRecord) {
        tracing::debug!(id = %c.id, code = exit.exit_code, "container exited");
        health::stop(self, c);
        let restart_after = restart::decide(c, exit.exit_code, &exit.finished_at);
        self.record_exit(c, &exit, restart_after.is_some());
        if let Some(wait) = restart_after {
            restart::schedule(self.clone(), c.clone(), wait);
            return;
        }
        if c.record().host_config.auto_remove {
            self.remove_in_background(c);
        }
    }

    /// AutoRemove: the container and its anonymous volumes go, as `docker run --rm` asks.
    pub(super) fn remove_in_background(self: &Arc<Self>, c: &Arc<Container>) {
        let svc = self.clone();
        let id = c.id.clone();
        tokio::spawn(async move {
            if let Err(e) = svc.remove_with_volumes(&id, true, true).await {
                tracing::warn!(%id, error = %e, "auto-remove failed");
            }
        });
    }
}

/// Whole seconds between two RFC 3339 times (docker's `execDuration` on `die`); 0 when either
/// is missing or the container never started.
fn exec_duration(started_at: &str, finished_at: &str) -> i64 {
    let parse = |t: &str| chrono::DateTime::parse_from_rfc3339(t).ok();
    match (parse(started_at), parse(finished_at)) {
        (Some(s), Some(f)) if s.timestamp() > 0 => (f - s).num_seconds().max(0),
        _ => 0,
    }
}
