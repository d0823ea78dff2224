//! Live container stats in docker's JSON shape (`GET /containers/{id}/stats`).
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

use bytes::Bytes;
use serde_json::{json, Map, Value};
use tokio::sync::mpsc;

use crate::model::container::Status;
use crate::runtime::cgroups::stats::{BlkioEntry, CgroupStats, CpuStats};
use crate::runtime::cgroups::ContainerCgroup;
use crate::service::container::Container;
use crate::util::rfc3339;

/// A previous sample younger than this is too short a window for a meaningful CPU % (/proc/stat
/// counts in 10 ms ticks): an older one (or the start baseline) is used instead.
const MIN_WINDOW: Duration = Duration::from_millis(100);
/// Cached samples of containers nobody asked about for this long are forgotten.
const FORGET_AFTER: Duration = Duration::from_secs(60);
/// Samples kept per container: the newest may be too young to use, the one before is not.
const KEPT: usize = 2;
/// Interval between samples of a stream, docker's.
const STREAM_INTERVAL: Duration = Duration::from_secs(1);
/// Docker's zero time, what it reports for samples that were not taken.
const ZERO_TIME: &str = "0001-01-01T00:00:00Z";

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
    pub async fn one(&self, c: &Arc<Container>) -> Value {
        let rec = c.record();
        if rec.state.status != Status::Running || rec.state.pid <= 0 {
            return zero_stats(&rec.name, &rec.id);
        }
        let cur = take_sample(&rec.id, rec.state.pid, &rec.host_config.network_mode).await;
        let prev = self.baseline(&rec.id, &rec.state.started_at, &cur);
        self.remember(&rec.id, &cur);
        to_json(&rec.name, &rec.id, &cur, Some(&prev))
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

    /// Stream one JSON line per second until the container stops or the receiver goes away. A
    /// container that is not running gets one zeroed object, then the stream ends (docker).
    pub fn stream(self: &Arc<Self>, c: Arc<Container>) -> mpsc::Receiver<Bytes> {
        let (tx, rx) = mpsc::channel(4);
        let svc = self.clone();
        tokio::spawn(async move {
            let rec = c.record();
            if rec.state.status != Status::Running || rec.state.pid <= 0 {
                let _ = tx.send(line(&zero_stats(&rec.name, &rec.id))).await;
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
                if tx
                    .send(line(&to_json(&rec.name, &rec.id, &cur, Some(&base))))
                    .await
                    .is_err()
                {
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

fn line(v: &Value) -> Bytes {
    let mut data = serde_json::to_vec(v).unwrap_or_default();
    data.push(b'\n');
    Bytes::from(data)
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

fn clk_tck() -> u64 {
    // SAFETY: sysconf has no memory-safety preconditions.
    let t = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if t > 0 {
        t as u64
    } else {
        100
    }
}

fn online_cpus() -> u64 {
    // SAFETY: as above.
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

fn zero_cpu() -> Value {
    json!({
        "cpu_usage": { "total_usage": 0, "usage_in_kernelmode": 0, "usage_in_usermode": 0 },
        "throttling_data": { "periods": 0, "throttled_periods": 0, "throttled_time": 0 },
    })
}

fn cpu_json(cpu: &CpuStats, system: u64, online: u64) -> Value {
    let mut usage = json!({
        "total_usage": cpu.total_usage,
        "usage_in_kernelmode": cpu.usage_in_kernelmode,
        "usage_in_usermode": cpu.usage_in_usermode,
    });
    if !cpu.percpu_usage.is_empty() {
        usage["percpu_usage"] = json!(cpu.percpu_usage);
    }
    json!({
        "cpu_usage": usage,
        "system_cpu_usage": system,
        "online_cpus": online,
        "throttling_data": {
            "periods": cpu.periods,
            "throttled_periods": cpu.throttled_periods,
            "throttled_time": cpu.throttled_time,
        },
    })
}

fn blkio_list(entries: &[BlkioEntry]) -> Value {
    if entries.is_empty() {
        return Value::Null;
    }
    entries
        .iter()
        .map(|e| json!({ "major": e.major, "minor": e.minor, "op": e.op, "value": e.value }))
        .collect()
}

fn blkio_json(recursive_bytes: &[BlkioEntry], recursive_ios: &[BlkioEntry]) -> Value {
    json!({
        "io_service_bytes_recursive": blkio_list(recursive_bytes),
        "io_serviced_recursive": blkio_list(recursive_ios),
        "io_queue_recursive": null,
        "io_service_time_recursive": null,
        "io_wait_time_recursive": null,
        "io_merged_recursive": null,
        "io_time_recursive": null,
        "sectors_recursive": null,
    })
}

/// Docker's answer for a container that is not running: every counter zero.
pub fn zero_stats(name: &str, id: &str) -> Value {
    json!({
        "read": ZERO_TIME,
        "preread": ZERO_TIME,
        "pids_stats": {},
        "blkio_stats": blkio_json(&[], &[]),
        "num_procs": 0,
        "storage_stats": {},
        "cpu_stats": zero_cpu(),
        "precpu_stats": zero_cpu(),
        "memory_stats": {},
        "name": format!("/{name}"),
        "id": id,
    })
}

/// The stats object of sample `cur` with `prev` as its precpu.
pub fn to_json(name: &str, id: &str, cur: &Sample, prev: Option<&Sample>) -> Value {
    let cg = &cur.cgroup;
    let mut memory = Map::new();
    memory.insert("usage".into(), json!(cg.memory.usage));
    if let Some(m) = cg.memory.max_usage {
        memory.insert("max_usage".into(), json!(m));
    }
    memory.insert("stats".into(), json!(cg.memory.stat));
    if let Some(f) = cg.memory.failcnt {
        memory.insert("failcnt".into(), json!(f));
    }
    // Unlimited (or a limit above the host's memory) shows as the host's memory, as in docker.
    let limit = match cg.memory.limit {
        Some(l) if cur.mem_total == 0 || l < cur.mem_total => l,
        _ => cur.mem_total,
    };
    memory.insert("limit".into(), json!(limit));

    let mut pids = Map::new();
    pids.insert("current".into(), json!(cg.pids.current));
    if let Some(l) = cg.pids.limit {
        pids.insert("limit".into(), json!(l));
    }

    let mut v = json!({
        "read": rfc3339(cur.read),
        "preread": prev.map_or_else(|| ZERO_TIME.to_string(), |p| rfc3339(p.read)),
        "pids_stats": pids,
        "blkio_stats": blkio_json(
            &cg.blkio.io_service_bytes_recursive,
            &cg.blkio.io_serviced_recursive,
        ),
        "num_procs": 0,
        "storage_stats": {},
        "cpu_stats": cpu_json(&cg.cpu, cur.system_cpu_usage, cur.online_cpus),
        "precpu_stats": prev.map_or_else(zero_cpu, |p| {
            cpu_json(&p.cgroup.cpu, p.system_cpu_usage, p.online_cpus)
        }),
        "memory_stats": memory,
        "name": format!("/{name}"),
        "id": id,
    });
    if !cur.networks.is_empty() {
        let nets: Map<String, Value> = cur
            .networks
            .iter()
            .map(|(n, s)| {
                (
                    n.clone(),
                    json!({
                        "rx_bytes": s.rx_bytes, "rx_packets": s.rx_packets,
                        "rx_errors": s.rx_errors, "rx_dropped": s.rx_dropped,
                        "tx_bytes": s.tx_bytes, "tx_packets": s.tx_packets,
                        "tx_errors": s.tx_errors, "tx_dropped": s.tx_dropped,
                    }),
                )
            })
            .collect();
        v["networks"] = Value::Object(nets);
    }
    v
}

#[cfg(test)]
mod tests;
