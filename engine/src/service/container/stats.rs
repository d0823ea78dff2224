//! Live container stats (`GET /containers/{id}/stats`; api::stats_views gives them docker's
//! JSON shape).
//!
//! Clients compute CPU % from the difference between a sample and its `precpu_stats`, so every
//! answer needs a previous sample. The service keeps the last two samples per container: a one-shot
//! (or `stream=false`) request uses the newest one that is old enough as `precpu` and answers at
//! once instead of waiting a second for a second sample as docker does. When there is none (first
//! look at a container), the baseline is the container's start: zero CPU used at `StartedAt`, so the
//! figure is the average since start. Nothing ever sleeps.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::mpsc;

use crate::model::container::Status;
use crate::runtime::cgroups::stats::{clk_tck, CgroupStats};
use crate::runtime::cgroups::ContainerCgroup;
use crate::service::container::Container;

/// A previous sample younger than this is too short a window for a meaningful CPU % (/proc/stat
/// counts in 10 ms ticks): an older one (or the start baseline) is used instead.
const MIN_WINDOW: Duration = Duration::from_millis(100);
/// Cached samples of containers nobody asked about for this long are forgotten.
const FORGET_AFTER: Duration = Duration::from_secs(60);
/// Samples kept per container: the newest may be too young to use, the one before is not.
const KEPT: usize = 2;
/// Interval between samples of a stream, docker's.
const STREAM_INTERVAL: Duration = Duration::from_secs(1);
/// Counters of one network interface, docker's NetworkStats.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NetStats {
    pub rx_bytes: u64,
    pub rx_packets: u64,
    pub rx_errors: u64,
    pub rx_dropped: u64,
    pub tx_bytes: u64,
    pub tx_packets: u64,
    pub tx_errors: u64,
    pub tx_dropped: u64,
}

/// Everything read at one instant for one container.
#[derive(Debug, Clone)]
pub struct Sample {
    pub at: Instant,
    pub read: chrono::DateTime<chrono::Utc>,
    pub cgroup: CgroupStats,
    /// Host CPU time, ns (docker's system_cpu_usage).
    pub system_cpu_usage: u64,
    pub online_cpus: u64,
    /// Host memory, bytes: the limit shown when the container has none.
    pub mem_total: u64,
    /// Interfaces of the container's network namespace, loopback excluded.
    pub networks: Vec<(String, NetStats)>,
}

/// One stats answer: docker's zeros for a container that is not running, else a fresh sample
/// and the one its CPU % is computed against (`precpu_stats`).
#[derive(Debug, Clone)]
pub enum Report {
    NotRunning {
        name: String,
        id: String,
    },
    Sampled {
        name: String,
        id: String,
        cur: Box<Sample>,
        prev: Box<Sample>,
    },
}

#[derive(Default)]
pub struct StatsService {
    /// Container id → its most recent samples, newest first.
    last: Mutex<HashMap<String, Vec<Sample>>>,
}

impl StatsService {
    pub fn new() -> Self {
        Self::default()
    }

    /// One stats object for `c`: zeroed when it is not running (docker's answer), otherwise a
    /// fresh sample with a previous one as `precpu_stats`.
    pub async fn one(&self, c: &Arc<Container>) -> Report {
        let rec = c.record();
        if rec.state.status != Status::Running || rec.state.pid <= 0 {
            return Report::NotRunning {
                name: rec.name,
                id: rec.id,
            };
        }
        let cur = take_sample(&rec.id, rec.state.pid, &rec.host_config.network_mode).await;
        let prev = self.baseline(&rec.id, &rec.state.started_at, &cur);
        self.remember(&rec.id, &cur);
        Report::Sampled {
            name: rec.name,
            id: rec.id,
            cur: Box::new(cur),
            prev: Box::new(prev),
        }
    }

    /// The `precpu` for `cur`: the newest cached sample of this run of the container that is at
    /// least MIN_WINDOW old, else the container's start.
    fn baseline(&self, id: &str, started_at: &str, cur: &Sample) -> Sample {
        let started = chrono::DateTime::parse_from_rfc3339(started_at)
            .map(|t| t.with_timezone(&chrono::Utc))
            .unwrap_or(cur.read);
        let last = self.last.lock().unwrap_or_else(|e| e.into_inner());
        let cached = last.get(id).into_iter().flatten().find(|s| {
            // Samples from before a restart count CPU of another process (the cgroup is new).
            s.read >= started && cur.at.saturating_duration_since(s.at) >= MIN_WINDOW
        });
        match cached {
            Some(s) => s.clone(),
            None => start_baseline(cur, started),
        }
    }

    fn remember(&self, id: &str, s: &Sample) {
        let mut last = self.last.lock().unwrap_or_else(|e| e.into_inner());
        // Forget containers nobody asked about for a while (removed ones included).
        last.retain(|_, v| v.first().is_some_and(|n| n.at.elapsed() <= FORGET_AFTER));
        let kept = last.entry(id.to_string()).or_default();
        kept.insert(0, s.clone());
        kept.truncate(KEPT);
    }

    /// Stream one report per second until the container stops or the receiver goes away. A
    /// container that is not running gets one zeroed object, then the stream ends (docker).
    pub fn stream(self: &Arc<Self>, c: Arc<Container>) -> mpsc::Receiver<Report> {
        let (tx, rx) = mpsc::channel(4);
        let svc = self.clone();
        tokio::spawn(async move {
            let rec = c.record();
            if rec.state.status != Status::Running || rec.state.pid <= 0 {
                let _ = tx
                    .send(Report::NotRunning {
                        name: rec.name,
                        id: rec.id,
                    })
                    .await;
                return;
            }
            let (pid, mode) = (rec.state.pid, rec.host_config.network_mode.clone());
            let mut prev: Option<Sample> = None;
            loop {
                let rec = c.record();
                // A restart gives a new pid: the stream follows docker and ends with the process.
                if rec.state.status != Status::Running || rec.state.pid != pid {
                    return;
                }
                let cur = take_sample(&rec.id, pid, &mode).await;
                let base = match prev.take() {
                    Some(p) => p,
                    None => svc.baseline(&rec.id, &rec.state.started_at, &cur),
                };
                svc.remember(&rec.id, &cur);
                let report = Report::Sampled {
                    name: rec.name.clone(),
                    id: rec.id.clone(),
                    cur: Box::new(cur.clone()),
                    prev: Box::new(base),
                };
                if tx.send(report).await.is_err() {
                    return;
                }
                prev = Some(cur);
                tokio::select! {
                    _ = tokio::time::sleep(STREAM_INTERVAL) => {}
                    _ = tx.closed() => return,
                }
            }
        });
        rx
    }
}

/// What the container's counters were at its start: no CPU used, and the host's CPU time then,
/// reconstructed from the elapsed wall time (every online CPU ticks once per ns of wall time).
fn start_baseline(cur: &Sample, started: chrono::DateTime<chrono::Utc>) -> Sample {
    let elapsed_ns = (cur.read - started)
        .num_nanoseconds()
        .map_or(0, |n| u64::try_from(n).unwrap_or(0));
    let since = Duration::from_nanos(elapsed_ns);
    Sample {
        at: cur.at.checked_sub(since).unwrap_or(cur.at),
        read: started,
        cgroup: CgroupStats::default(),
        system_cpu_usage: cur
            .system_cpu_usage
            .saturating_sub(elapsed_ns.saturating_mul(cur.online_cpus)),
        online_cpus: cur.online_cpus,
        mem_total: cur.mem_total,
        networks: Vec::new(),
    }
}

/// Read everything on a blocking thread (a few small procfs/cgroupfs files).
async fn take_sample(id: &str, pid: i32, network_mode: &str) -> Sample {
    let cgroup_path = format!("berth/{id}");
    let host_net = network_mode == "host";
    let read = move || sample_now(&cgroup_path, pid, host_net);
    match tokio::task::spawn_blocking(read.clone()).await {
        Ok(s) => s,
        // The blocking pool is gone only at shutdown; read inline then.
        Err(_) => read(),
    }
}

fn sample_now(cgroup_path: &str, pid: i32, host_net: bool) -> Sample {
    let read = chrono::Utc::now();
    let at = Instant::now();
    let cgroup = match ContainerCgroup::open(cgroup_path) {
        Ok(cg) => cg.stats(),
        Err(e) => {
            tracing::debug!(error = %e, "stats: cgroup");
            CgroupStats::default()
        }
    };
    let system_cpu_usage = std::fs::read_to_string("/proc/stat")
        .ok()
        .and_then(|s| parse_proc_stat(&s, clk_tck()))
        .unwrap_or(0);
    let mem_total = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|s| parse_mem_total(&s))
        .unwrap_or(0);
    // With --network host the container has no interfaces of its own: docker reports none.
    let networks = if host_net {
        Vec::new()
    } else {
        std::fs::read_to_string(format!("/proc/{pid}/net/dev"))
            .map(|s| parse_net_dev(&s))
            .unwrap_or_default()
    };
    Sample {
        at,
        read,
        cgroup,
        system_cpu_usage,
        online_cpus: online_cpus(),
        mem_total,
        networks,
    }
}

fn online_cpus() -> u64 {
    // SAFETY: sysconf has no memory-safety preconditions.
    let n = unsafe { libc::sysconf(libc::_SC_NPROCESSORS_ONLN) };
    if n > 0 {
        n as u64
    } else {
        std::thread::available_parallelism().map_or(1, |n| n.get() as u64)
    }
}

/// Host CPU time in ns from /proc/stat's "cpu" line: user..softirq (docker sums the first seven
/// fields), in clock ticks.
pub fn parse_proc_stat(text: &str, clk_tck: u64) -> Option<u64> {
    let line = text.lines().find(|l| l.starts_with("cpu "))?;
    let fields: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .take(7)
        .map(|f| f.parse().ok())
        .collect::<Option<_>>()?;
    if fields.len() < 7 {
        return None;
    }
    let ticks: u64 = fields.iter().sum();
    Some(ticks.saturating_mul(1_000_000_000) / clk_tck.max(1))
}

/// MemTotal from /proc/meminfo, in bytes.
pub fn parse_mem_total(text: &str) -> Option<u64> {
    let line = text.lines().find(|l| l.starts_with("MemTotal:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// /proc/<pid>/net/dev: per interface (loopback skipped) receive fields 0-3 and transmit fields
/// 8-11 (bytes, packets, errs, drop).
pub fn parse_net_dev(text: &str) -> Vec<(String, NetStats)> {
    text.lines()
        .skip(2)
        .filter_map(|l| {
            let (name, rest) = l.split_once(':')?;
            let name = name.trim();
            if name == "lo" || name.is_empty() {
                return None;
            }
            let f: Vec<u64> = rest
                .split_whitespace()
                .map(|v| v.parse().ok())
                .collect::<Option<_>>()?;
            if f.len() < 12 {
                return None;
            }
            Some((
                name.to_string(),
                NetStats {
                    rx_bytes: f[0],
                    rx_packets: f[1],
                    rx_errors: f[2],
                    rx_dropped: f[3],
                    tx_bytes: f[8],
                    tx_packets: f[9],
                    tx_errors: f[10],
                    tx_dropped: f[11],
                },
            ))
        })
        .collect()
}

#[cfg(test)]
pub(crate) mod tests;
