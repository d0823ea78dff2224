//! Health checks (image `HEALTHCHECK`, `--health-*` flags), docker's rules:
//!
//! - While a container with a healthcheck runs, a monitor runs the probe inside it every
//!   `Interval` (every `StartInterval` while `starting` within `StartPeriod`), the first one
//!   after one interval. A probe runs like `docker exec` (the exec helper joins the container's
//!   namespaces and cgroup) but is not an exec instance: it is not listed in `ExecIDs`.
//! - Exit 0 is a success, anything else a failure; a probe still running after `Timeout` is
//!   killed and counts as a failure with exit code -1. The first 4 KiB of stdout+stderr are kept.
//! - Status: `starting` → `healthy` on a success; `unhealthy` once `FailingStreak` reaches
//!   `Retries`. Failures during the start period do not count while still `starting`.
//! - `State.Health.Log` keeps the last 5 results; every status change is a
//!   `health_status: <status>` event. When the container stops the status becomes `unhealthy`
//!   (docker does the same "for compatibility reasons"); a start begins again at `starting`.

pub(super) mod exec_probe;
mod monitor;
mod probe;
#[cfg(test)]
mod tests;

pub use crate::model::health::{go_duration, merge, parse_instruction, validate, HealthConfig};
pub use monitor::{start, stop, MonitorSlot};
pub use probe::{apply_result, Probe};

pub const STARTING: &str = "starting";
pub const HEALTHY: &str = "healthy";
pub const UNHEALTHY: &str = "unhealthy";
