//! `docker stop`: the stop signal, then SIGKILL once the timeout has elapsed.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;

use crate::error::{EngineError, Result};
use crate::model::container::{ContainerConfig, Status};
use crate::util::signals;

use super::{restart, Container, ContainerService, Life};

/// How a stop goes: `signal`, then SIGKILL once `grace` has elapsed (None: wait forever).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct StopPlan {
    pub signal: i32,
    pub grace: Option<Duration>,
}

impl StopPlan {
    /// The request's signal and timeout, else the container's (the image's `StopSignal`,
    /// `--stop-timeout`), else SIGTERM and 10 s. A negative timeout waits for ever.
    pub(super) fn of(
        config: &ContainerConfig,
        timeout: Option<i64>,
        signal: Option<&str>,
    ) -> Result<StopPlan> {
        let signal = match signal.or(config.stop_signal.as_deref()) {
            Some(s) if !s.is_empty() => signals::parse(s)?,
            _ => libc::SIGTERM,
        };
        let secs = timeout.or(config.stop_timeout).unwrap_or(10);
        let grace = (secs >= 0).then(|| Duration::from_secs(secs as u64));
        Ok(StopPlan { signal, grace })
    }
}

impl ContainerService {
    pub(super) async fn wait_stopped(life: &mut watch::Receiver<Life>) {
        let _ = life.wait_for(|l| !l.running).await;
    }

    pub async fn stop(
        self: &Arc<Self>,
        key: &str,
        timeout: Option<i64>,
        signal: Option<&str>,
    ) -> Result<()> {
        let c = self.get(key)?;
        let _op = c.op.lock().await;
        self.stop_locked(&c, timeout, signal).await
    }

    pub(super) async fn stop_locked(
        &self,
        c: &Arc<Container>,
        timeout: Option<i64>,
        signal: Option<&str>,
    ) -> Result<()> {
        let rec = c.record();
        if !matches!(
            rec.state.status,
            Status::Running | Status::Paused | Status::Restarting
        ) {
            return Err(EngineError::NotModified("container already stopped".into()));
        }
        // A stop through the API ends policy restarts (docker's HasBeenManuallyStopped).
        self.mark_manually_stopped(c, true);
        if self.settle_cancelled_restart(c) {
            self.emit(c, "stop", &[]);
            return Ok(());
        }
        let StopPlan { signal: sig, grace } = StopPlan::of(&rec.config, timeout, signal)?;
        let Some(shim) = c.shim() else {
            return Err(EngineError::internal(format!(
                "container {} has no running shim to stop",
                rec.id
            )));
        };
        let mut life = c.subscribe_life();
        // A frozen process cannot act on any signal, so a paused container is resumed first.
        self.thaw_if_paused(c).await;
        // Published before signalling so `kill` always precedes the `die` it causes.
        self.emit(c, "kill", &[("signal", sig.to_string())]);
        shim.signal(sig);
        let stopped = match grace {
            None => {
                Self::wait_stopped(&mut life).await;
                true
            }
            Some(grace) => tokio::time::timeout(grace, Self::wait_stopped(&mut life))
                .await
                .is_ok(),
        };
        if !stopped {
            tracing::info!(id = %rec.id, "stop timeout elapsed, killing");
            self.emit(c, "kill", &[("signal", libc::SIGKILL.to_string())]);
            shim.signal(libc::SIGKILL);
            Self::wait_stopped(&mut life).await;
        }
        self.emit(c, "stop", &[]);
        Ok(())
    }

    /// Record a stop or kill through the API; `cancel` also drops pending and future policy
    /// restarts.
    pub(super) fn mark_manually_stopped(&self, c: &Arc<Container>, cancel: bool) {
        if cancel {
            restart::cancel(c);
        }
        self.modify(c, true, |r| r.has_been_manually_stopped = true);
    }
}
