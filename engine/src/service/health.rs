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

use std::io;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Deserializer};
use serde_json::{json, Value};
use tokio::io::AsyncReadExt;
use tokio::sync::watch;

use crate::error::{EngineError, IoContext, Result};
use crate::model::container::{ContainerRecord, Health, HealthcheckResult, Status};
use crate::runtime::exec_helper::{parse_status, ExecSpec};
use crate::runtime::selfexe::EXEC_ARG;
use crate::runtime::spec::{files, RuntimeSpec};
use crate::service::containers::{Container, ContainerService};

pub const STARTING: &str = "starting";
pub const HEALTHY: &str = "healthy";
pub const UNHEALTHY: &str = "unhealthy";
/// What `ps --filter health=` calls a container without health state.
pub const NONE: &str = "none";

const DEFAULT_INTERVAL: Duration = Duration::from_secs(30);
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
const DEFAULT_START_INTERVAL: Duration = Duration::from_secs(5);
const DEFAULT_RETRIES: i64 = 3;
/// Results kept in `State.Health.Log`.
const MAX_LOG_ENTRIES: usize = 5;
/// Output kept per result.
const MAX_OUTPUT: usize = 4096;
/// Smallest positive duration accepted (docker's MinimumDuration).
const MIN_DURATION_NS: i64 = 1_000_000;
/// How long output is still read after the probe exited (a background child holding the pipe
/// open must not stall the monitor).
const DRAIN_GRACE: Duration = Duration::from_millis(500);

/// docker's StrSlice: a string or an array of strings; null is empty.
fn str_or_vec<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum StrOrVec {
        Str(String),
        Vec(Vec<String>),
    }
    Ok(match Option::<StrOrVec>::deserialize(d)? {
        None => Vec::new(),
        Some(StrOrVec::Str(s)) => vec![s],
        Some(StrOrVec::Vec(v)) => v,
    })
}

/// docker's HealthConfig as sent by clients and stored in image configs (durations in ns).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct HealthConfig {
    #[serde(deserialize_with = "str_or_vec")]
    pub test: Vec<String>,
    pub interval: i64,
    pub timeout: i64,
    pub start_period: i64,
    pub start_interval: i64,
    pub retries: i64,
}

impl HealthConfig {
    pub fn from_value(v: &Value) -> Result<HealthConfig> {
        serde_json::from_value(v.clone())
            .map_err(|e| EngineError::invalid(format!("invalid Healthcheck: {e}")))
    }

    /// docker's wire shape (zero values left out, as Go's omitempty does).
    pub fn to_value(&self) -> Value {
        let mut m = serde_json::Map::new();
        m.insert("Test".into(), json!(self.test));
        for (k, v) in [
            ("Interval", self.interval),
            ("Timeout", self.timeout),
            ("StartPeriod", self.start_period),
            ("StartInterval", self.start_interval),
            ("Retries", self.retries),
        ] {
            if v != 0 {
                m.insert(k.into(), json!(v));
            }
        }
        Value::Object(m)
    }

    /// Create-time checks (docker's validateHealthCheck, plus a known test kind).
    pub fn validate(&self) -> Result<()> {
        for (name, v) in [
            ("Interval", self.interval),
            ("Timeout", self.timeout),
            ("StartPeriod", self.start_period),
            ("StartInterval", self.start_interval),
        ] {
            if v != 0 && v < MIN_DURATION_NS {
                return Err(EngineError::invalid(format!(
                    "{name} in Healthcheck cannot be less than 1ms"
                )));
            }
        }
        if self.retries < 0 {
            return Err(EngineError::invalid(
                "Retries in Healthcheck cannot be negative",
            ));
        }
        match self.test.first().map(String::as_str) {
            None | Some("NONE") => Ok(()),
            Some("CMD") | Some("CMD-SHELL") if self.test.len() >= 2 => Ok(()),
            Some(kind @ ("CMD" | "CMD-SHELL")) => Err(EngineError::invalid(format!(
                "Healthcheck.Test {kind} needs a command"
            ))),
            Some(other) => Err(EngineError::invalid(format!(
                "unknown Healthcheck.Test type {other:?}: use NONE, CMD or CMD-SHELL"
            ))),
        }
    }
}

/// Validate a create request's `Healthcheck` (None = inherit the image's).
pub fn validate(v: Option<&Value>) -> Result<()> {
    match v {
        None | Some(Value::Null) => Ok(()),
        Some(v) => HealthConfig::from_value(v)?.validate(),
    }
}

/// docker's merge of the request's healthcheck with the image's: a missing one is inherited
/// whole; zero fields (and an empty Test) take the image's values.
pub fn merge(user: Option<Value>, image: Option<&Value>) -> Result<Option<Value>> {
    let user = user.filter(|v| !v.is_null());
    let Some(user) = user else {
        return Ok(image.filter(|v| !v.is_null()).cloned());
    };
    let Some(image) = image.filter(|v| !v.is_null()) else {
        return Ok(Some(user));
    };
    let mut u = HealthConfig::from_value(&user)?;
    // A malformed image healthcheck is ignored rather than making the image unusable.
    let Ok(i) = HealthConfig::from_value(image) else {
        return Ok(Some(user));
    };
    if u.test.is_empty() {
        u.test = i.test;
    }
    for (mine, theirs) in [
        (&mut u.interval, i.interval),
        (&mut u.timeout, i.timeout),
        (&mut u.start_period, i.start_period),
        (&mut u.start_interval, i.start_interval),
        (&mut u.retries, i.retries),
    ] {
        if *mine == 0 {
            *mine = theirs;
        }
    }
    Ok(Some(u.to_value()))
}

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
    fn next_wait(&self, starting: bool, since_start: Duration) -> Duration {
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

/// Health status as `ps` filters see it: "none" without health state.
pub fn status_of(rec: &ContainerRecord) -> &str {
    rec.state
        .health
        .as_ref()
        .map(|h| h.status.as_str())
        .unwrap_or(NONE)
}

/// The text docker appends to "Up 3 seconds": "(healthy)", "(health: starting)".
pub fn status_suffix(rec: &ContainerRecord) -> Option<String> {
    let h = rec.state.health.as_ref()?;
    Some(if h.status == STARTING {
        "(health: starting)".into()
    } else {
        format!("({})", h.status)
    })
}

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
    let (exit_code, output) = match exec_probe(svc, c, probe).await {
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

/// The first `MAX_OUTPUT` bytes; "..." marks a cut (docker's limitedBuffer).
#[derive(Default)]
struct Limited {
    buf: Vec<u8>,
    truncated: bool,
}

impl Limited {
    fn push(&mut self, data: &[u8]) {
        let keep = MAX_OUTPUT.saturating_sub(self.buf.len()).min(data.len());
        self.buf.extend_from_slice(&data[..keep]);
        if keep < data.len() {
            self.truncated = true;
        }
    }

    fn text(&self) -> String {
        let mut s = String::from_utf8_lossy(&self.buf).into_owned();
        if self.truncated {
            s.push_str("...");
        }
        s
    }
}

/// Run the probe in the container through the exec helper: (exit code, output).
async fn exec_probe(svc: &ContainerService, c: &Container, probe: &Probe) -> Result<(i64, String)> {
    let rec = c.record();
    if rec.state.status != Status::Running || rec.state.pid <= 0 {
        return Err(EngineError::conflict(format!(
            "container {} is not running",
            c.id
        )));
    }
    let bundle = svc.dir(&c.id).join(files::BUNDLE);
    let raw = tokio::fs::read(&bundle)
        .await
        .io_context(|| format!("reading {}", bundle.display()))?;
    let container: RuntimeSpec = serde_json::from_slice(&raw)?;
    let spec = ExecSpec {
        pid: rec.state.pid,
        container,
        args: probe.argv.clone(),
        env: Vec::new(),
        cwd: String::new(),
        user: String::new(),
        tty: false,
        privileged: false,
    };

    // One pipe for stdout and stderr: the output reads in the order it was written.
    let (reader, writer) = io::pipe().io_context(|| "health probe pipe".to_string())?;
    let mut cmd = tokio::process::Command::new(svc.shim_executable().path());
    cmd.arg(EXEC_ARG)
        .env_clear()
        .kill_on_drop(true)
        .stdin(Stdio::null())
        .stdout(
            writer
                .try_clone()
                .io_context(|| "health probe pipe".to_string())?,
        )
        .stderr(writer);
    let (mut child, mut sock) =
        crate::service::exec::launch_helper(cmd, &spec, "health probe").await?;

    let output = Arc::new(Mutex::new(Limited::default()));
    let reader = tokio::net::unix::pipe::Receiver::from_owned_fd(reader.into())
        .io_context(|| "health probe pipe".to_string())?;
    let out = output.clone();
    let read_task = tokio::spawn(async move {
        let mut reader = reader;
        let mut buf = [0u8; 8192];
        loop {
            match reader.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                // Keep reading past the limit so the probe never blocks on a full pipe.
                Ok(n) => out.lock().expect("probe output").push(&buf[..n]),
            }
        }
    });

    let pid = Arc::new(Mutex::new(None::<i32>));
    let pid_w = pid.clone();
    let status_task = tokio::spawn(async move {
        let mut raw = Vec::new();
        let mut buf = [0u8; 4096];
        while raw.len() < 1 << 16 {
            match sock.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => raw.extend_from_slice(&buf[..n]),
            }
            if let Some(p) = parse_status(&raw).pid {
                *pid_w.lock().expect("probe pid") = Some(p);
            }
        }
        parse_status(&raw)
    });

    let waited = tokio::time::timeout(probe.timeout, child.wait()).await;
    let finish_reading = |task: tokio::task::JoinHandle<()>| async move {
        let abort = task.abort_handle();
        if tokio::time::timeout(DRAIN_GRACE, task).await.is_err() {
            abort.abort();
        }
    };
    match waited {
        Ok(status) => {
            let status = status.io_context(|| "waiting for the health probe".to_string())?;
            let mut code = status
                .code()
                .or_else(|| std::os::unix::process::ExitStatusExt::signal(&status).map(|s| 128 + s))
                .unwrap_or(126) as i64;
            finish_reading(read_task).await;
            let st = status_task.await.unwrap_or_default();
            let mut text = output.lock().expect("probe output").text();
            if let Some((c, msg)) = st.error {
                code = if c == 127 { 127 } else { 126 };
                text = format!(
                    "OCI runtime exec failed: exec failed: unable to start container process: {msg}: unknown"
                );
            }
            Ok((code, text))
        }
        Err(_) => {
            // The probe itself runs in the container's PID namespace as a child of the helper;
            // kill it by its host pid, then the helper.
            if let Some(p) = *pid.lock().expect("probe pid") {
                // SAFETY: plain kill(2) of the probe's host pid, which is still our helper's
                // unreaped child (the helper has not exited: its wait timed out).
                unsafe { libc::kill(p, libc::SIGKILL) };
            }
            let _ = child.start_kill();
            let _ = child.wait().await;
            finish_reading(read_task).await;
            status_task.abort();
            let out = output.lock().expect("probe output").text();
            let d = go_duration(probe.timeout);
            Ok((
                -1,
                if out.is_empty() {
                    format!("Health check exceeded timeout ({d})")
                } else {
                    format!("Health check exceeded timeout ({d}): {out}")
                },
            ))
        }
    }
}

/// Go's `time.Duration.String()` for the durations shown to users ("300ms", "1m30s").
pub fn go_duration(d: Duration) -> String {
    let ns = d.as_nanos();
    if ns == 0 {
        return "0s".into();
    }
    let trim = |v: f64| {
        let s = format!("{v:.9}");
        let s = s.trim_end_matches('0').trim_end_matches('.');
        s.to_string()
    };
    if ns < 1_000 {
        return format!("{ns}ns");
    }
    if ns < 1_000_000 {
        return format!("{}µs", trim(ns as f64 / 1e3));
    }
    if ns < 1_000_000_000 {
        return format!("{}ms", trim(ns as f64 / 1e6));
    }
    let total_secs = d.as_secs();
    let (h, m) = (total_secs / 3600, (total_secs % 3600) / 60);
    let s = (total_secs % 60) as f64 + f64::from(d.subsec_nanos()) / 1e9;
    let mut out = String::new();
    if h > 0 {
        out.push_str(&format!("{h}h"));
    }
    if h > 0 || m > 0 {
        out.push_str(&format!("{m}m"));
    }
    out.push_str(&format!("{}s", trim(s)));
    out
}

/// `HEALTHCHECK [--interval=D] [--timeout=D] [--start-period=D] [--start-interval=D]
/// [--retries=N] CMD command` or `HEALTHCHECK NONE` (a Dockerfile instruction, for
/// `import --change`), as the image config's `Healthcheck`.
pub fn parse_instruction(rest: &str) -> Result<Value> {
    let mut cfg = HealthConfig::default();
    let mut rest = rest.trim();
    while let Some(opt) = rest.strip_prefix("--") {
        let end = opt.find(char::is_whitespace).unwrap_or(opt.len());
        let (flag, after) = opt.split_at(end);
        rest = after.trim_start();
        let (name, value) = flag.split_once('=').ok_or_else(|| {
            EngineError::invalid(format!("HEALTHCHECK option --{flag} needs a value"))
        })?;
        let dur = || {
            crate::util::parse_go_duration(value)
                .filter(|d| *d >= 0)
                .ok_or_else(|| {
                    EngineError::invalid(format!(
                        "HEALTHCHECK --{name}: time: invalid duration \"{value}\""
                    ))
                })
        };
        match name {
            "interval" => cfg.interval = dur()?,
            "timeout" => cfg.timeout = dur()?,
            "start-period" => cfg.start_period = dur()?,
            "start-interval" => cfg.start_interval = dur()?,
            "retries" => {
                cfg.retries = value.parse().map_err(|_| {
                    EngineError::invalid(format!("HEALTHCHECK --retries: invalid number {value:?}"))
                })?
            }
            other => {
                return Err(EngineError::invalid(format!(
                    "Unknown flag: {other} in HEALTHCHECK"
                )))
            }
        }
    }
    let (kind, cmd) = match rest.find(char::is_whitespace) {
        Some(i) => (&rest[..i], rest[i..].trim()),
        None => (rest, ""),
    };
    match kind.to_ascii_uppercase().as_str() {
        "NONE" => {
            if !cmd.is_empty() {
                return Err(EngineError::invalid("HEALTHCHECK NONE takes no arguments"));
            }
            cfg = HealthConfig {
                test: vec!["NONE".into()],
                ..HealthConfig::default()
            };
        }
        "CMD" => {
            if cmd.is_empty() {
                return Err(EngineError::invalid(
                    "Missing command after HEALTHCHECK CMD",
                ));
            }
            cfg.test = match serde_json::from_str::<Vec<String>>(cmd) {
                Ok(argv) if cmd.starts_with('[') => {
                    let mut t = vec!["CMD".to_string()];
                    t.extend(argv);
                    t
                }
                _ => vec!["CMD-SHELL".into(), cmd.into()],
            };
        }
        other => {
            return Err(EngineError::invalid(format!(
                "Unknown type {other:?} in HEALTHCHECK (try CMD)"
            )))
        }
    }
    cfg.validate()?;
    Ok(cfg.to_value())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn probe(start_period_ms: u64, retries: i64) -> Probe {
        Probe {
            argv: vec!["true".into()],
            interval: Duration::from_millis(100),
            timeout: Duration::from_millis(100),
            start_period: Duration::from_millis(start_period_ms),
            start_interval: Duration::from_millis(10),
            retries,
        }
    }

    fn result(code: i64) -> HealthcheckResult {
        HealthcheckResult {
            exit_code: code,
            ..HealthcheckResult::default()
        }
    }

    #[test]
    fn config_parses_validates_and_merges() {
        let c =
            HealthConfig::from_value(&json!({"Test": "CMD-SHELL true", "Interval": 5})).unwrap();
        assert_eq!(c.test, ["CMD-SHELL true"]);
        let err = c.validate().unwrap_err().to_string();
        assert!(
            err.contains("Interval in Healthcheck cannot be less than 1ms"),
            "{err}"
        );
        assert!(validate(Some(&json!({"Test": ["CMD"], "Interval": 0}))).is_err());
        assert!(validate(Some(&json!({"Test": ["BOGUS", "x"]}))).is_err());
        assert!(validate(Some(&json!({"Retries": -1}))).is_err());
        assert!(validate(Some(&json!({"Test": ["NONE"]}))).is_ok());
        assert!(validate(Some(&json!({"Test": "x", "Timeout": "soon"}))).is_err());
        assert!(validate(None).is_ok());

        let image =
            json!({"Test": ["CMD", "img-check"], "Interval": 7_000_000_000i64, "Retries": 9});
        // Nothing asked: the image's, whole.
        assert_eq!(merge(None, Some(&image)).unwrap(), Some(image.clone()));
        // Only timings asked: the image's test fills in.
        let m = merge(Some(json!({"Interval": 1_000_000})), Some(&image))
            .unwrap()
            .unwrap();
        assert_eq!(m["Test"], json!(["CMD", "img-check"]));
        assert_eq!(m["Interval"], 1_000_000);
        assert_eq!(m["Retries"], 9);
        // NONE overrides.
        let m = merge(Some(json!({"Test": ["NONE"]})), Some(&image))
            .unwrap()
            .unwrap();
        assert_eq!(m["Test"], json!(["NONE"]));
        assert_eq!(merge(None, None).unwrap(), None);
    }

    #[test]
    fn probes_from_configs() {
        let sh = vec!["/bin/sh".to_string(), "-c".into()];
        let p = Probe::from_config(
            &HealthConfig {
                test: vec!["CMD-SHELL".into(), "exit 1".into()],
                ..HealthConfig::default()
            },
            &sh,
        )
        .unwrap();
        assert_eq!(p.argv, ["/bin/sh", "-c", "exit 1"]);
        assert_eq!(p.interval, DEFAULT_INTERVAL);
        assert_eq!(p.timeout, DEFAULT_TIMEOUT);
        assert_eq!(p.retries, DEFAULT_RETRIES);
        assert_eq!(p.start_period, Duration::ZERO);
        let p = Probe::from_config(
            &HealthConfig {
                test: vec!["CMD".into(), "cat".into(), "/ok".into()],
                interval: 2_000_000,
                retries: 1,
                ..HealthConfig::default()
            },
            &sh,
        )
        .unwrap();
        assert_eq!(p.argv, ["cat", "/ok"]);
        assert_eq!(p.interval, Duration::from_millis(2));
        for test in [vec![], vec!["NONE".to_string()], vec!["CMD".into()]] {
            let cfg = HealthConfig {
                test,
                ..HealthConfig::default()
            };
            assert!(Probe::from_config(&cfg, &sh).is_none());
        }
    }

    #[test]
    fn results_drive_the_status() {
        let p = probe(0, 2);
        let mut h = Health {
            status: STARTING.into(),
            ..Health::default()
        };
        assert_eq!(apply_result(&mut h, &p, result(1), Duration::ZERO), None);
        assert_eq!(h.failing_streak, 1);
        assert_eq!(
            apply_result(&mut h, &p, result(1), Duration::ZERO).as_deref(),
            Some(UNHEALTHY)
        );
        assert_eq!(
            apply_result(&mut h, &p, result(0), Duration::ZERO).as_deref(),
            Some(HEALTHY)
        );
        assert_eq!(h.failing_streak, 0);
        for _ in 0..10 {
            apply_result(&mut h, &p, result(-1), Duration::ZERO);
        }
        assert_eq!(h.log.len(), MAX_LOG_ENTRIES);
        assert_eq!(h.failing_streak, 10);
        assert_eq!(h.status, UNHEALTHY);
    }

    #[test]
    fn start_period_failures_do_not_count_until_a_success() {
        let p = probe(1000, 1);
        let mut h = Health {
            status: STARTING.into(),
            ..Health::default()
        };
        let early = Duration::from_millis(10);
        assert_eq!(apply_result(&mut h, &p, result(1), early), None);
        assert_eq!((h.failing_streak, h.status.as_str()), (0, STARTING));
        // After the period they count.
        assert_eq!(
            apply_result(&mut h, &p, result(1), Duration::from_secs(2)).as_deref(),
            Some(UNHEALTHY)
        );
        // Once healthy, failures count even within the period.
        let mut h = Health {
            status: STARTING.into(),
            ..Health::default()
        };
        apply_result(&mut h, &p, result(0), early);
        assert_eq!(
            apply_result(&mut h, &p, result(1), early).as_deref(),
            Some(UNHEALTHY)
        );
        // The start interval applies only while starting within the period.
        assert_eq!(p.next_wait(true, early), Duration::from_millis(10));
        assert_eq!(p.next_wait(false, early), Duration::from_millis(100));
        assert_eq!(
            p.next_wait(true, Duration::from_secs(5)),
            Duration::from_millis(100)
        );
    }

    #[test]
    fn output_is_limited() {
        let mut l = Limited::default();
        l.push(&[b'a'; 3000]);
        l.push(&[b'b'; 3000]);
        let t = l.text();
        assert_eq!(t.len(), MAX_OUTPUT + 3);
        assert!(t.ends_with("b..."));
    }

    #[test]
    fn durations_like_go() {
        assert_eq!(crate::util::parse_go_duration("30s"), Some(30_000_000_000));
        assert_eq!(
            crate::util::parse_go_duration("1m30s"),
            Some(90_000_000_000)
        );
        assert_eq!(crate::util::parse_go_duration("200ms"), Some(200_000_000));
        assert_eq!(crate::util::parse_go_duration("0"), Some(0));
        assert_eq!(crate::util::parse_go_duration("10"), None);
        assert_eq!(crate::util::parse_go_duration("abc"), None);
        assert_eq!(go_duration(Duration::from_millis(300)), "300ms");
        assert_eq!(go_duration(Duration::from_secs(30)), "30s");
        assert_eq!(go_duration(Duration::from_secs(90)), "1m30s");
        assert_eq!(go_duration(Duration::from_millis(1500)), "1.5s");
        assert_eq!(go_duration(Duration::from_secs(3600)), "1h0m0s");
    }

    #[test]
    fn dockerfile_instruction() {
        let v = parse_instruction("--interval=5s --retries=2 CMD wget -q -O- localhost || exit 1")
            .unwrap();
        assert_eq!(
            v["Test"],
            json!(["CMD-SHELL", "wget -q -O- localhost || exit 1"])
        );
        assert_eq!(v["Interval"], 5_000_000_000i64);
        assert_eq!(v["Retries"], 2);
        let v = parse_instruction(r#"CMD ["cat", "/ok"]"#).unwrap();
        assert_eq!(v["Test"], json!(["CMD", "cat", "/ok"]));
        assert_eq!(parse_instruction("NONE").unwrap()["Test"], json!(["NONE"]));
        assert!(parse_instruction("").is_err());
        assert!(parse_instruction("CMD").is_err());
        assert!(parse_instruction("--interval=fast CMD true").is_err());
        assert!(parse_instruction("--bogus=1 CMD true").is_err());
        assert!(parse_instruction("RUN true").is_err());
    }
}
