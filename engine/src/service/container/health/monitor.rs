//! The per-container monitor task: probe every interval while the container runs, fold the
//! results into `State.Health`, publish `health_status` events on changes.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, SecondsFormat, Utc};
use tokio::sync::watch;

use crate::model::container::{Health, HealthcheckResult, Status};
use crate::service::container::{Container, ContainerService};

use super::probe::{apply_result, Probe};
use super::{STARTING, UNHEALTHY};

/// Per-container monitor handle: sending `true` (or dropping it) stops the monitor.
pub type MonitorSlot = Mutex<Option<watch::Sender<bool>>>;

/// The container (re)started or the engine reconnected to it: status `starting` and a new
/// monitor, when it has a healthcheck.
pub fn start(svc: &Arc<ContainerService>, c: &Arc<Container>) {
    stop_monitor(c);
    let rec = c.record();
    let Some(probe) = Probe::of(&rec) else {
        return;
    };
    svc.modify(c, false, |r| {
        let h = r.state.health.get_or_insert_with(Health::default);
        h.status = STARTING.into();
        h.failing_streak = 0;
    });
    let (tx, rx) = watch::channel(false);
    *c.health_monitor().lock().expect("health monitor") = Some(tx);
    tokio::spawn(monitor(svc.clone(), c.clone(), probe, rx));
}

fn stop_monitor(c: &Container) -> bool {
    match c.health_monitor().lock().expect("health monitor").take() {
        Some(tx) => {
            let _ = tx.send(true);
            true
        }
        None => false,
    }
}

/// The container stopped: end its monitor; its status reads `unhealthy` from now on (the
/// caller persists the record).
pub fn stop(svc: &ContainerService, c: &Container) {
    if stop_monitor(c) {
        svc.modify(c, false, |r| {
            if let Some(h) = &mut r.state.health {
                h.status = UNHEALTHY.into();
            }
        });
    }
}

fn since(started_at: &str, at: DateTime<Utc>) -> Duration {
    DateTime::parse_from_rfc3339(started_at)
        .ok()
        .and_then(|s| (at - s.with_timezone(&Utc)).to_std().ok())
        .unwrap_or_default()
}

fn stopped(rx: &watch::Receiver<bool>) -> bool {
    *rx.borrow() || rx.has_changed().is_err()
}

async fn monitor(
    svc: Arc<ContainerService>,
    c: Arc<Container>,
    probe: Probe,
    mut stop: watch::Receiver<bool>,
) {
    tracing::debug!(id = %c.id, ?probe, "health monitor started");
    loop {
        let rec = c.record();
        let starting = rec
            .state
            .health
            .as_ref()
            .is_some_and(|h| h.status == STARTING);
        let wait = probe.next_wait(starting, since(&rec.state.started_at, Utc::now()));
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = stop.wait_for(|s| *s) => return,
        }
        match c.status() {
            Status::Running => {}
            // A frozen container cannot run a probe; the status stays as it is until unpause.
            Status::Paused => continue,
            _ => return,
        }
        let result = tokio::select! {
            r = run_probe(&svc, &c, &probe) => r,
            // Dropping the probe kills its helper (kill_on_drop); the probe dies with the
            // container anyway.
            _ = stop.wait_for(|s| *s) => return,
        };
        if stopped(&stop) {
            return;
        }
        let started_at = c.record().state.started_at;
        let at = DateTime::parse_from_rfc3339(&result.start)
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_else(|_| Utc::now());
        let since_start = since(&started_at, at);
        let mut changed = None;
        svc.modify(&c, false, |r| {
            let h = r.state.health.get_or_insert_with(|| Health {
                status: STARTING.into(),
                ..Health::default()
            });
            changed = apply_result(h, &probe, result, since_start);
        });
        if let Some(status) = changed {
            if stopped(&stop) {
                return;
            }
            svc.modify(&c, true, |_| {});
            tracing::debug!(id = %c.id, %status, "health status changed");
            svc.emit(&c, &format!("health_status: {status}"), &[]);
        }
    }
}

fn now_nanos() -> (DateTime<Utc>, String) {
    let t = Utc::now();
    (t, t.to_rfc3339_opts(SecondsFormat::Nanos, true))
}

async fn run_probe(svc: &ContainerService, c: &Container, probe: &Probe) -> HealthcheckResult {
    let (_, start) = now_nanos();
    let (exit_code, output) = match svc.host.exec_probe(svc, c, probe).await {
        Ok(r) => r,
        Err(e) => (-1, e.to_string()),
    };
    HealthcheckResult {
        start,
        end: now_nanos().1,
        exit_code,
        output,
    }
}
