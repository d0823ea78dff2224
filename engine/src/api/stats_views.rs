//! Docker's JSON shape of container stats (`GET /containers/{id}/stats`): what the CLI, compose
//! and the dashboard compute CPU %, memory and I/O from. The samples come from
//! `service::container::stats`.

use bytes::Bytes;
use serde_json::{json, Map, Value};
use tokio::sync::mpsc;

use crate::runtime::cgroups::stats::{BlkioEntry, CpuStats};
use crate::service::container::stats::{Report, Sample};
use crate::util::rfc3339;

/// Docker's zero time, what it reports for samples that were not taken.
const ZERO_TIME: &str = "0001-01-01T00:00:00Z";

/// The stats object of one report.
pub fn report_json(report: &Report) -> Value {
    match report {
        Report::NotRunning { name, id } => zero_stats(name, id),
        Report::Sampled {
            name,
            id,
            cur,
            prev,
        } => to_json(name, id, cur, Some(prev)),
    }
}

/// The reports of a stream as JSON lines. A client that goes away drops the reports too, which
/// ends the sampling at once.
pub fn lines(mut reports: mpsc::Receiver<Report>) -> mpsc::Receiver<Bytes> {
    let (tx, rx) = mpsc::channel(4);
    tokio::spawn(async move {
        loop {
            tokio::select! {
                report = reports.recv() => {
                    let Some(report) = report else { return };
                    if tx.send(line(&report_json(&report))).await.is_err() {
                        return;
                    }
                }
                _ = tx.closed() => return,
            }
        }
    });
    rx
}

/// One line of a stats stream.
fn line(v: &Value) -> Bytes {
    let mut data = serde_json::to_vec(v).unwrap_or_default();
    data.push(b'\n');
    Bytes::from(data)
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
