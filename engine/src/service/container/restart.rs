//! Restart policies (`--restart no|on-failure[:N]|always|unless-stopped`), docker's rules:
//!
//! - When the main process exits on its own, the policy decides whether the container starts
//!   again: `always` yes, `unless-stopped` unless the user stopped it, `on-failure` for a
//!   non-zero exit while fewer than `MaximumRetryCount` restarts were made (0 = no limit).
//! - Between exit and restart the container is `restarting`; the wait grows from 100 ms,
//!   doubling up to one minute, and starts over once the container ran for 10 s or more
//!   (docker's restartmanager).
//! - A stop or a kill through the API cancels the pending and any future policy restart until
//!   the user starts the container again (docker's ExitOnNext / HasBeenManuallyStopped).
//! - When the engine starts, stopped containers whose policy says so are started again.
//!
//! The per-container back-off and cancellation live in memory ([`RestartState`]); what must
//! survive an engine restart (restart count, the manual-stop flag) is in the container record.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::oneshot;

use crate::error::{EngineError, Result};
use crate::model::container::{ContainerRecord, HostConfig, RestartPolicy, Status};
use crate::service::container::{Container, ContainerService};
use crate::util::ZERO_TIME;

/// First wait before a restart.
const DEFAULT_BACKOFF: Duration = Duration::from_millis(100);
/// Longest wait before a restart.
const MAX_BACKOFF: Duration = Duration::from_secs(60);
/// A container that ran this long starts its back-off over.
const RESET_AFTER: Duration = Duration::from_secs(10);

/// A validated restart policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Policy {
    No,
    Always,
    UnlessStopped,
    /// `max` 0 means no limit.
    OnFailure {
        max: i64,
    },
}

impl Policy {
    /// Validate as docker's daemon does (`ValidateRestartPolicy`); errors are 400s.
    pub fn parse(p: &RestartPolicy) -> Result<Policy> {
        let count = p.maximum_retry_count;
        match p.name.as_str() {
            // Versions before docker 25 sent an empty name by default; any count is accepted.
            "" => Ok(Policy::No),
            "no" | "always" | "unless-stopped" => {
                if count != 0 {
                    let mut msg = "invalid restart policy: maximum retry count can only be used with 'on-failure'".to_string();
                    if count < 0 {
                        msg.push_str(" and cannot be negative");
                    }
                    return Err(EngineError::invalid(msg));
                }
                Ok(match p.name.as_str() {
                    "no" => Policy::No,
                    "always" => Policy::Always,
                    _ => Policy::UnlessStopped,
                })
            }
            "on-failure" => {
                if count < 0 {
                    return Err(EngineError::invalid(
                        "invalid restart policy: maximum retry count cannot be negative",
                    ));
                }
                Ok(Policy::OnFailure { max: count })
            }
            other => Err(EngineError::invalid(format!(
                "invalid restart policy: unknown policy '{other}'; use one of 'no', 'always', 'on-failure', or 'unless-stopped'"
            ))),
        }
    }

    /// Of a stored record: records are validated at create, so anything else reads as `no`.
    pub fn of(rec: &ContainerRecord) -> Policy {
        Policy::parse(&rec.host_config.restart_policy).unwrap_or(Policy::No)
    }

    /// docker's ShouldRestart decision, without the back-off.
    pub fn wants_restart(self, exit_code: i32, manually_stopped: bool, restart_count: i64) -> bool {
        match self {
            Policy::No => false,
            Policy::Always => true,
            Policy::UnlessStopped => !manually_stopped,
            Policy::OnFailure { max } => exit_code != 0 && (max == 0 || restart_count < max),
        }
    }
}

/// Create-time check of the host config (a 400 for anything docker refuses).
pub fn validate(host: &HostConfig) -> Result<()> {
    let policy = Policy::parse(&host.restart_policy)?;
    if host.auto_remove && policy != Policy::No {
        return Err(EngineError::invalid(
            "can't create 'AutoRemove' container with restart policy",
        ));
    }
    Ok(())
}

/// Per-container restart bookkeeping (docker's RestartManager), in memory.
#[derive(Debug, Default)]
pub struct RestartState {
    /// The wait used for the last restart; zero before the first.
    backoff: Duration,
    /// Set by a stop or kill through the API: no policy restart until the user starts it again.
    cancelled: bool,
    /// Set while a policy restart runs: a start that fails does not schedule another one
    /// (docker leaves the container stopped then).
    starting: bool,
    /// Dropped or fired to cancel the pending restart.
    pending: Option<oneshot::Sender<()>>,
}

impl RestartState {
    /// The main process exited after running for `ran_for`: Some(wait) when `policy` restarts
    /// the container (docker's ShouldRestart and the back-off), None when it stays stopped.
    pub fn after_exit(
        &mut self,
        policy: Policy,
        exit_code: i32,
        manually_stopped: bool,
        restart_count: i64,
        ran_for: Duration,
    ) -> Option<Duration> {
        if policy == Policy::No || self.cancelled || self.starting {
            return None;
        }
        if !policy.wants_restart(exit_code, manually_stopped, restart_count) {
            return None;
        }
        self.backoff = next_backoff(self.backoff, ran_for);
        Some(self.backoff)
    }

    /// A stop or kill through the API: no more policy restarts, and a pending one is dropped.
    pub fn cancel(&mut self) {
        self.cancelled = true;
        self.pending = None;
    }

    /// A user's start or restart: the back-off and the cancellation start over.
    pub fn reset(&mut self) {
        self.cancelled = false;
        self.backoff = Duration::ZERO;
        self.pending = None;
    }
}

/// The next wait: 100 ms, doubling up to a minute, back to 100 ms after a run of 10 s or more.
pub fn next_backoff(previous: Duration, ran_for: Duration) -> Duration {
    let previous = if ran_for >= RESET_AFTER {
        Duration::ZERO
    } else {
        previous
    };
    if previous.is_zero() {
        DEFAULT_BACKOFF
    } else {
        (previous * 2).min(MAX_BACKOFF)
    }
}

fn ran_for(started_at: &str, finished_at: &str) -> Duration {
    let parse = |t: &str| chrono::DateTime::parse_from_rfc3339(t).ok();
    match (parse(started_at), parse(finished_at)) {
        (Some(s), Some(f)) => (f - s).to_std().unwrap_or_default(),
        _ => Duration::ZERO,
    }
}

fn lock(c: &Container) -> std::sync::MutexGuard<'_, RestartState> {
    c.restart_state().lock().expect("restart state")
}

/// On the exit of the main process: Some(wait) when the policy restarts the container. The
/// caller marks it `restarting` and calls [`schedule`].
pub fn decide(c: &Container, exit_code: i32, finished_at: &str) -> Option<Duration> {
    let rec = c.record();
    if rec.host_config.auto_remove {
        return None;
    }
    lock(c).after_exit(
        Policy::of(&rec),
        exit_code,
        rec.has_been_manually_stopped,
        rec.restart_count,
        ran_for(&rec.state.started_at, finished_at),
    )
}

/// Wait, then start the container again (unless cancelled meanwhile).
pub fn schedule(svc: Arc<ContainerService>, c: Arc<Container>, wait: Duration) {
    let (tx, rx) = oneshot::channel();
    // Replacing an older sender cancels whatever was pending (there should be none).
    lock(&c).pending = Some(tx);
    tracing::debug!(id = %c.id, ?wait, "restart scheduled by policy");
    tokio::spawn(async move {
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = rx => {
                svc.settle_cancelled_restart(&c);
                return;
            }
        }
        lock(&c).pending = None;
        if let Err(e) = svc.start_by_policy(&c, Status::Restarting).await {
            tracing::warn!(id = %c.id, error = %e, "restart by policy failed");
        }
    });
}

/// A stop or kill through the API: no more policy restarts, and a pending one is dropped.
pub fn cancel(c: &Container) {
    lock(c).cancel();
}

/// A user's start or restart: the back-off and the cancellation start over.
pub fn reset(c: &Container) {
    lock(c).reset();
}

/// Whether the policy is bringing the container back: a restart pending, or its start under way.
pub fn in_progress(c: &Container) -> bool {
    c.status() == Status::Restarting || lock(c).starting
}

/// Brackets the start made by the policy itself (see [`RestartState::starting`]).
pub fn set_starting(c: &Container, starting: bool) {
    lock(c).starting = starting;
}

/// Whether the kill signal ends policy restarts: SIGKILL or the container's stop signal
/// (docker's ExitOnNext).
pub fn signal_cancels(rec: &ContainerRecord, sig: i32) -> bool {
    if sig == libc::SIGKILL {
        return true;
    }
    let stop = rec
        .config
        .stop_signal
        .as_deref()
        .filter(|s| !s.is_empty())
        .and_then(|s| crate::util::signals::parse(s).ok())
        .unwrap_or(libc::SIGTERM);
    sig == stop
}

/// Whether a stopped container is started again when the engine starts (docker's restore:
/// the policy applied to the last exit, for containers that ran before).
pub fn wants_start_at_engine_start(rec: &ContainerRecord) -> bool {
    if !matches!(rec.state.status, Status::Exited) || rec.host_config.auto_remove {
        return false;
    }
    if rec.state.started_at.is_empty() || rec.state.started_at == ZERO_TIME {
        return false;
    }
    match Policy::of(rec) {
        Policy::No => false,
        Policy::Always => true,
        Policy::UnlessStopped => !rec.has_been_manually_stopped,
        // Docker's restore ignores the manual stop for on-failure; a container the user
        // stopped is left alone here.
        p @ Policy::OnFailure { .. } => {
            !rec.has_been_manually_stopped
                && p.wants_restart(rec.state.exit_code, false, rec.restart_count)
        }
    }
}

/// At engine start, after reconnecting to running containers: start the stopped containers
/// whose policy asks for it, concurrently; a container that joins another's network
/// (`container:<id>`) waits for the wave that starts that one.
pub async fn restart_at_engine_start(svc: &Arc<ContainerService>) {
    let mut pending: Vec<Arc<Container>> = svc
        .list()
        .into_iter()
        .filter(|c| wants_start_at_engine_start(&c.record()))
        .collect();
    while !pending.is_empty() {
        let ids: Vec<String> = pending.iter().map(|c| c.id.clone()).collect();
        let (mut wave, mut later): (Vec<_>, Vec<_>) = pending
            .into_iter()
            .partition(|c| !joins_one_of(svc, c, &ids));
        if wave.is_empty() {
            // A cycle of `container:` modes cannot start in any order: try them all.
            wave = std::mem::take(&mut later);
        }
        futures_util::future::join_all(wave.into_iter().map(|c| start_at_engine_start(svc, c)))
            .await;
        pending = later;
    }
}

/// Whether `c` joins the network of another container among `ids`.
fn joins_one_of(svc: &ContainerService, c: &Container, ids: &[String]) -> bool {
    let rec = c.record();
    super::shared_net::target(&rec.host_config.network_mode)
        .and_then(|key| svc.get(key).ok())
        .is_some_and(|t| t.id != c.id && ids.contains(&t.id))
}

async fn start_at_engine_start(svc: &Arc<ContainerService>, c: Arc<Container>) {
    tracing::info!(id = %c.id, "starting container by its restart policy");
    // As docker's restore: a fresh start, the count and the manual stop start over.
    svc.modify(&c, false, |r| {
        r.restart_count = 0;
        r.has_been_manually_stopped = false;
    });
    if let Err(e) = svc.start_by_policy(&c, Status::Exited).await {
        tracing::warn!(id = %c.id, error = %e, "restart at engine start failed");
    }
}

impl ContainerService {
    pub async fn restart(
        self: &Arc<Self>,
        key: &str,
        timeout: Option<i64>,
        signal: Option<&str>,
    ) -> Result<()> {
        let c = self.get(key)?;
        let _op = c.op.lock().await;
        match self.stop_locked(&c, timeout, signal).await {
            Ok(()) | Err(EngineError::NotModified(_)) => {}
            Err(e) => return Err(e),
        }
        self.reset_restart_policy(&c);
        self.start_locked(&c).await?;
        self.emit(&c, "restart", &[]);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rp(name: &str, n: i64) -> RestartPolicy {
        RestartPolicy {
            name: name.into(),
            maximum_retry_count: n,
        }
    }

    #[test]
    fn policies_validate_like_docker() {
        assert_eq!(Policy::parse(&rp("", 0)).unwrap(), Policy::No);
        assert_eq!(Policy::parse(&rp("", 5)).unwrap(), Policy::No);
        assert_eq!(Policy::parse(&rp("no", 0)).unwrap(), Policy::No);
        assert_eq!(Policy::parse(&rp("always", 0)).unwrap(), Policy::Always);
        assert_eq!(
            Policy::parse(&rp("unless-stopped", 0)).unwrap(),
            Policy::UnlessStopped
        );
        assert_eq!(
            Policy::parse(&rp("on-failure", 3)).unwrap(),
            Policy::OnFailure { max: 3 }
        );
        let err = Policy::parse(&rp("sometimes", 0)).unwrap_err().to_string();
        assert!(err.contains("unknown policy 'sometimes'"), "{err}");
        let err = Policy::parse(&rp("always", 2)).unwrap_err().to_string();
        assert!(err.contains("only be used with 'on-failure'"), "{err}");
        let err = Policy::parse(&rp("always", -1)).unwrap_err().to_string();
        assert!(err.contains("cannot be negative"), "{err}");
        assert!(Policy::parse(&rp("on-failure", -1)).is_err());
    }

    #[test]
    fn auto_remove_conflicts_with_a_policy() {
        let mut h = HostConfig {
            auto_remove: true,
            ..HostConfig::default()
        };
        assert!(validate(&h).is_ok());
        h.restart_policy = rp("no", 0);
        assert!(validate(&h).is_ok());
        h.restart_policy = rp("always", 0);
        let err = validate(&h).unwrap_err().to_string();
        assert!(err.contains("AutoRemove"), "{err}");
    }

    #[test]
    fn decisions_follow_the_policy() {
        assert!(!Policy::No.wants_restart(1, false, 0));
        assert!(Policy::Always.wants_restart(0, true, 100));
        assert!(Policy::UnlessStopped.wants_restart(0, false, 0));
        assert!(!Policy::UnlessStopped.wants_restart(0, true, 0));
        let f = Policy::OnFailure { max: 2 };
        assert!(!f.wants_restart(0, false, 0));
        assert!(f.wants_restart(1, false, 0));
        assert!(f.wants_restart(1, false, 1));
        assert!(!f.wants_restart(1, false, 2));
        assert!(Policy::OnFailure { max: 0 }.wants_restart(3, false, 1000));
    }

    #[test]
    fn backoff_doubles_caps_and_resets() {
        let short = Duration::from_millis(5);
        let mut d = Duration::ZERO;
        let mut seen = Vec::new();
        for _ in 0..12 {
            d = next_backoff(d, short);
            seen.push(d.as_millis());
        }
        assert_eq!(&seen[..4], &[100, 200, 400, 800]);
        assert_eq!(*seen.last().unwrap(), 60_000);
        assert!(seen.windows(2).all(|w| w[1] >= w[0]));
        assert_eq!(
            next_backoff(Duration::from_secs(60), Duration::from_secs(10)),
            DEFAULT_BACKOFF
        );
        assert_eq!(
            ran_for("2024-01-01T00:00:00Z", "2024-01-01T00:00:12.5Z"),
            Duration::from_millis(12_500)
        );
        assert_eq!(ran_for(ZERO_TIME, "garbage"), Duration::ZERO);
    }
}
