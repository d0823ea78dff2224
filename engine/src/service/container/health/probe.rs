//! A healthcheck ready to run (command and effective timings) and how each result moves the
//! status: starting → healthy / unhealthy, the failing streak, the kept log.

use std::time::Duration;

use crate::model::container::{ContainerRecord, Health, HealthcheckResult};

use super::{HEALTHY, STARTING, UNHEALTHY};
use crate::model::health::HealthConfig;

pub(super) const DEFAULT_INTERVAL: Duration = Duration::from_secs(30);
pub(super) const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
const DEFAULT_START_INTERVAL: Duration = Duration::from_secs(5);
pub(super) const DEFAULT_RETRIES: i64 = 3;
/// Results kept in `State.Health.Log`.
pub(super) const MAX_LOG_ENTRIES: usize = 5;

/// A healthcheck ready to run: the command and the effective timings.
#[derive(Debug, Clone, PartialEq)]
pub struct Probe {
    pub argv: Vec<String>,
    pub interval: Duration,
    pub timeout: Duration,
    pub start_period: Duration,
    pub start_interval: Duration,
    pub retries: i64,
}

fn or_default(ns: i64, default: Duration) -> Duration {
    if ns > 0 {
        Duration::from_nanos(ns as u64)
    } else {
        default
    }
}

impl Probe {
    /// The container's probe, None without a (runnable) healthcheck.
    pub fn of(rec: &ContainerRecord) -> Option<Probe> {
        let cfg = HealthConfig::from_value(rec.config.healthcheck.as_ref()?).ok()?;
        let shell = rec
            .config
            .extra
            .get("Shell")
            .and_then(|v| serde_json::from_value::<Vec<String>>(v.clone()).ok())
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| vec!["/bin/sh".into(), "-c".into()]);
        Probe::from_config(&cfg, &shell)
    }

    pub fn from_config(cfg: &HealthConfig, shell: &[String]) -> Option<Probe> {
        let argv = match cfg.test.first().map(String::as_str) {
            Some("CMD") => cfg.test[1..].to_vec(),
            Some("CMD-SHELL") => {
                let mut a = shell.to_vec();
                a.extend(cfg.test[1..].iter().cloned());
                a
            }
            _ => return None,
        };
        if argv.is_empty() || cfg.test.len() < 2 {
            return None;
        }
        Some(Probe {
            argv,
            interval: or_default(cfg.interval, DEFAULT_INTERVAL),
            timeout: or_default(cfg.timeout, DEFAULT_TIMEOUT),
            start_period: or_default(cfg.start_period, Duration::ZERO),
            start_interval: or_default(cfg.start_interval, DEFAULT_START_INTERVAL),
            retries: if cfg.retries > 0 {
                cfg.retries
            } else {
                DEFAULT_RETRIES
            },
        })
    }

    /// The wait before the next probe: the start interval while starting within the start
    /// period, else the interval.
    pub(super) fn next_wait(&self, starting: bool, since_start: Duration) -> Duration {
        if !self.start_period.is_zero() && starting && since_start <= self.start_period {
            self.start_interval
        } else {
            self.interval
        }
    }
}

/// Fold one result into the health state (docker's handleProbeResult). Returns the new status
/// when it changed.
pub fn apply_result(
    h: &mut Health,
    probe: &Probe,
    result: HealthcheckResult,
    since_start_at_probe: Duration,
) -> Option<String> {
    let old = h.status.clone();
    let success = result.exit_code == 0;
    h.log.push(result);
    if h.log.len() > MAX_LOG_ENTRIES {
        let extra = h.log.len() - MAX_LOG_ENTRIES;
        h.log.drain(..extra);
    }
    if success {
        h.failing_streak = 0;
        h.status = HEALTHY.into();
    } else {
        // While starting (no success yet) within the start period, failures do not count.
        let counts = !(h.status == STARTING && since_start_at_probe < probe.start_period);
        if counts {
            h.failing_streak += 1;
            if h.failing_streak >= probe.retries {
                h.status = UNHEALTHY.into();
            }
        }
    }
    (h.status != old).then(|| h.status.clone())
}
