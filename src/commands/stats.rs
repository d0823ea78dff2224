//! `berth stats`: docker's live resource-usage table.
//!
//! `--no-stream` asks each container for one sample (`stream=false`; the engine answers at once
//! with a meaningful `precpu_stats`). Streaming opens one stats stream per container and redraws
//! the table every second: clear screen + table on a terminal, successive tables otherwise. With
//! no container named, the set follows the running (or, with `-a`, all) containers.

use std::collections::HashSet;
use std::io::IsTerminal;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Result;
use clap::Args;
use http_body_util::BodyExt;
use serde::Deserialize;
use serde_json::{json, Value};

use super::{out, Ctx};
use crate::client::api::{containers, Filters};
use crate::client::{Client, DaemonError};
use crate::format::template::Template;
use crate::format::{render_rows, units};

#[derive(Args, Debug, Default)]
pub struct StatsArgs {
    /// Show all containers (default shows just running).
    #[arg(short = 'a', long)]
    pub all: bool,
    /// Disable streaming stats and only pull the first result.
    #[arg(long)]
    pub no_stream: bool,
    /// Do not truncate output.
    #[arg(long)]
    pub no_trunc: bool,
    /// Format output: table, json, or a Go template.
    #[arg(long)]
    pub format: Option<String>,
    pub containers: Vec<String>,
}

const STATS_TABLE: &str =
    "table {{.ID}}\t{{.Name}}\t{{.CPUPerc}}\t{{.MemUsage}}\t{{.MemPerc}}\t{{.NetIO}}\t{{.BlockIO}}\t{{.PIDs}}";

fn headers() -> Value {
    json!({
        "Container": "CONTAINER",
        "ID": "CONTAINER ID",
        "Name": "NAME",
        "CPUPerc": "CPU %",
        "MemUsage": "MEM USAGE / LIMIT",
        "MemPerc": "MEM %",
        "NetIO": "NET I/O",
        "BlockIO": "BLOCK I/O",
        "PIDs": "PIDS",
    })
}

/// The fields of a stats object the table uses (docker's StatsResponse, trimmed).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct StatsJson {
    pub id: String,
    pub name: String,
    pub cpu_stats: CpuJson,
    pub precpu_stats: CpuJson,
    pub memory_stats: MemJson,
    pub pids_stats: PidsJson,
    pub blkio_stats: BlkioJson,
    pub networks: Option<std::collections::HashMap<String, NetJson>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct CpuJson {
    pub cpu_usage: CpuUsage,
    pub system_cpu_usage: u64,
    pub online_cpus: u64,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct CpuUsage {
    pub total_usage: u64,
    pub percpu_usage: Option<Vec<u64>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct MemJson {
    pub usage: u64,
    pub limit: u64,
    pub stats: Option<std::collections::HashMap<String, u64>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct PidsJson {
    pub current: u64,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct BlkioJson {
    pub io_service_bytes_recursive: Option<Vec<BlkioEntry>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct BlkioEntry {
    pub op: String,
    pub value: u64,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct NetJson {
    pub rx_bytes: u64,
    pub tx_bytes: u64,
}

/// docker CLI's CPU %: Δcontainer / Δsystem × online CPUs × 100.
pub fn cpu_percent(s: &StatsJson) -> f64 {
    let cpu_delta =
        s.cpu_stats.cpu_usage.total_usage as f64 - s.precpu_stats.cpu_usage.total_usage as f64;
    let system_delta = s.cpu_stats.system_cpu_usage as f64 - s.precpu_stats.system_cpu_usage as f64;
    let mut online = s.cpu_stats.online_cpus as f64;
    if online == 0.0 {
        online = s
            .cpu_stats
            .cpu_usage
            .percpu_usage
            .as_ref()
            .map_or(0, Vec::len) as f64;
    }
    if system_delta > 0.0 && cpu_delta > 0.0 {
        cpu_delta / system_delta * online * 100.0
    } else {
        0.0
    }
}

/// docker CLI's memory usage: without the inactive page cache (v1 `total_inactive_file`, v2
/// `inactive_file`).
pub fn mem_usage(m: &MemJson) -> f64 {
    let stats = m.stats.as_ref();
    let get = |k: &str| stats.and_then(|s| s.get(k)).copied();
    if let Some(v) = get("total_inactive_file") {
        if v < m.usage {
            return (m.usage - v) as f64;
        }
    } else if let Some(v) = get("inactive_file") {
        if v < m.usage {
            return (m.usage - v) as f64;
        }
    }
    m.usage as f64
}

/// One table row (docker's stats formatter fields).
pub fn row(container: &str, s: &StatsJson, trunc: bool) -> Value {
    let mem = mem_usage(&s.memory_stats);
    let limit = s.memory_stats.limit as f64;
    let mem_pct = if limit != 0.0 {
        mem / limit * 100.0
    } else {
        0.0
    };
    let (rx, tx) = s
        .networks
        .iter()
        .flat_map(|n| n.values())
        .fold((0u64, 0u64), |(r, t), n| (r + n.rx_bytes, t + n.tx_bytes));
    let (blk_r, blk_w) = s
        .blkio_stats
        .io_service_bytes_recursive
        .iter()
        .flatten()
        .fold((0u64, 0u64), |(r, w), e| {
            match e.op.to_ascii_lowercase().as_str() {
                "read" => (r + e.value, w),
                "write" => (r, w + e.value),
                _ => (r, w),
            }
        });
    let id = if trunc {
        s.id.chars().take(12).collect()
    } else {
        s.id.clone()
    };
    json!({
        "Container": container,
        "ID": id,
        "Name": s.name.trim_start_matches('/'),
        "CPUPerc": format!("{:.2}%", cpu_percent(s)),
        "MemUsage": format!("{} / {}", units::bytes_size(mem), units::bytes_size(limit)),
        "MemPerc": format!("{mem_pct:.2}%"),
        "NetIO": format!(
            "{} / {}",
            units::human_size_precision(rx as f64, 3),
            units::human_size_precision(tx as f64, 3)
        ),
        "BlockIO": format!(
            "{} / {}",
            units::human_size_precision(blk_r as f64, 3),
            units::human_size_precision(blk_w as f64, 3)
        ),
        "PIDs": s.pids_stats.current.to_string(),
    })
}

/// The row docker shows for a container whose stats could not be read (gone meanwhile).
fn invalid_row(container: &str, id: &str, name: &str, trunc: bool) -> Value {
    let id: String = if trunc {
        id.chars().take(12).collect()
    } else {
        id.to_string()
    };
    json!({
        "Container": container, "ID": id, "Name": name.trim_start_matches('/'),
        "CPUPerc": "--", "MemUsage": "-- / --", "MemPerc": "--", "NetIO": "--",
        "BlockIO": "--", "PIDs": "--",
    })
}

#[derive(Deserialize)]
struct ListEntry {
    #[serde(rename = "Id")]
    id: String,
}

/// Containers to show when none are named: running ones, or all with `-a`.
async fn list_ids(client: &Client, all: bool) -> Result<Vec<String>> {
    let list: Vec<ListEntry> = client
        .send_as(containers::list(all, None, false, &Filters::none()))
        .await?;
    Ok(list.into_iter().map(|c| c.id).collect())
}

fn render(a: &StatsArgs, rows: &[Value]) -> Result<String> {
    render_rows(a.format.as_deref(), STATS_TABLE, &headers(), rows)
}

pub async fn stats(ctx: &Ctx, a: StatsArgs) -> Result<i32> {
    if let Some(f) = &a.format {
        if !matches!(f.trim(), "" | "table" | "json") {
            Template::parse(f.trim().strip_prefix("table ").unwrap_or(f))
                .map_err(anyhow::Error::msg)?;
        }
    }
    let client = Arc::new(ctx.client().await?);
    // Named containers must exist (docker fails before showing anything).
    let mut errors = Vec::new();
    for name in &a.containers {
        if let Err(e) = client.container_inspect(name).await {
            errors.push(match e.downcast_ref::<DaemonError>() {
                Some(d) => d.to_string(),
                None => format!("Error: {e:#}"),
            });
        }
    }
    if !errors.is_empty() {
        for e in errors {
            eprintln!("{e}");
        }
        return Ok(1);
    }
    if a.no_stream {
        no_stream(&client, &a).await
    } else {
        stream(client, &a).await
    }
}

async fn one_sample(client: &Client, key: &str) -> Result<StatsJson> {
    client.send_as(containers::stats(key, false)).await
}

async fn no_stream(client: &Arc<Client>, a: &StatsArgs) -> Result<i32> {
    let keys = if a.containers.is_empty() {
        list_ids(client, a.all).await?
    } else {
        a.containers.clone()
    };
    // Ask concurrently: each answer is quick, but a hundred containers add up.
    let tasks: Vec<_> = keys
        .iter()
        .map(|k| {
            let (client, k) = (client.clone(), k.clone());
            tokio::spawn(async move { one_sample(&client, &k).await })
        })
        .collect();
    let trunc = !a.no_trunc;
    let mut rows = Vec::new();
    for (key, t) in keys.iter().zip(tasks) {
        match t.await? {
            Ok(s) => rows.push(row(key, &s, trunc)),
            // Removed between listing and asking: docker leaves it out.
            Err(_) if a.containers.is_empty() => {}
            Err(_) => rows.push(invalid_row(key, key, key, trunc)),
        }
    }
    out(&render(a, &rows)?);
    Ok(0)
}

/// One container shown by the streaming view: its latest row, and whether its stream is over.
struct Tracked {
    key: String,
    row: Option<Value>,
    done: bool,
}

type Shared = Arc<Mutex<Vec<Tracked>>>;

/// Follow one container's stats stream, updating its row; marks it done when the stream ends.
async fn follow(client: Arc<Client>, key: String, shared: Shared, trunc: bool) {
    let update = |f: &mut dyn FnMut(&mut Tracked)| {
        let mut v = shared.lock().expect("stats rows");
        if let Some(t) = v.iter_mut().find(|t| t.key == key) {
            f(t);
        }
    };
    let resp = match client.open(containers::stats(&key, true), &[]).await {
        Ok(r) => r,
        Err(_) => {
            update(&mut |t| t.done = true);
            return;
        }
    };
    let mut body = resp.into_body();
    let mut buf: Vec<u8> = Vec::new();
    while let Some(frame) = body.frame().await {
        let Ok(frame) = frame else { break };
        let Some(data) = frame.data_ref() else {
            continue;
        };
        buf.extend_from_slice(data);
        while let Some(pos) = buf.iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = buf.drain(..=pos).collect();
            if let Ok(s) = serde_json::from_slice::<StatsJson>(&line) {
                let r = row(&key, &s, trunc);
                update(&mut |t| t.row = Some(r.clone()));
            }
        }
    }
    update(&mut |t| t.done = true);
}

async fn stream(client: Arc<Client>, a: &StatsArgs) -> Result<i32> {
    let shared: Shared = Arc::new(Mutex::new(Vec::new()));
    let trunc = !a.no_trunc;
    let follow_all = a.containers.is_empty();
    let tty = std::io::stdout().is_terminal();
    // Follow each key that is new or whose stream ended (stopped, then maybe restarted); a
    // re-followed container keeps its last row until a new sample arrives.
    let track = |keys: Vec<String>| {
        let mut v = shared.lock().expect("stats rows");
        for key in keys {
            match v.iter_mut().find(|t| t.key == key) {
                Some(t) if !t.done => continue,
                Some(t) => t.done = false,
                None => v.push(Tracked {
                    key: key.clone(),
                    row: None,
                    done: false,
                }),
            }
            tokio::spawn(follow(client.clone(), key, shared.clone(), trunc));
        }
    };
    let mut first = true;
    loop {
        let keys = if follow_all {
            // Re-list each tick so containers started meanwhile appear and removed ones go.
            let ids = list_ids(&client, a.all).await?;
            let present: HashSet<&String> = ids.iter().collect();
            shared
                .lock()
                .expect("stats rows")
                .retain(|t| present.contains(&t.key));
            ids
        } else {
            a.containers.clone()
        };
        track(keys);
        if first {
            // Let the first samples arrive so the first table is not empty.
            tokio::time::sleep(Duration::from_millis(500)).await;
            first = false;
        }
        let rows: Vec<Value> = shared
            .lock()
            .expect("stats rows")
            .iter()
            .filter_map(|t| t.row.clone())
            .collect();
        let text = render(a, &rows)?;
        if tty {
            out(&format!("\x1b[2J\x1b[H{text}"));
        } else {
            out(&text);
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docker_size_units() {
        assert_eq!(units::bytes_size(0.0), "0B");
        assert_eq!(units::bytes_size(1536.0), "1.5KiB");
        assert_eq!(units::bytes_size(64.0 * 1024.0 * 1024.0), "64MiB");
        assert_eq!(units::bytes_size(1_932_735_283.0), "1.8GiB");
        assert_eq!(units::bytes_size(123_456_789.0), "117.7MiB");
        assert_eq!(units::human_size_precision(0.0, 3), "0B");
        assert_eq!(units::human_size_precision(1234.0, 3), "1.23kB");
        assert_eq!(units::human_size_precision(999_600.0, 3), "1e+03kB");
        assert_eq!(units::human_size_precision(20_480_000.0, 3), "20.5MB");
        assert_eq!(units::format_g(0.000012, 3), "1.2e-05");
    }

    #[test]
    fn row_matches_docker_cli_computation() {
        let v = json!({
            "id": "0123456789abcdef0123",
            "name": "/web",
            "cpu_stats": {"cpu_usage": {"total_usage": 3_000_000_000u64},
                          "system_cpu_usage": 20_000_000_000u64, "online_cpus": 2},
            "precpu_stats": {"cpu_usage": {"total_usage": 1_000_000_000u64},
                             "system_cpu_usage": 10_000_000_000u64, "online_cpus": 2},
            "memory_stats": {"usage": 10_485_760, "limit": 104_857_600,
                             "stats": {"total_inactive_file": 2_097_152}},
            "pids_stats": {"current": 5},
            "blkio_stats": {"io_service_bytes_recursive": [
                {"major": 8, "minor": 0, "op": "read", "value": 1000},
                {"major": 8, "minor": 0, "op": "Write", "value": 2000},
                {"major": 8, "minor": 0, "op": "total", "value": 3000}]},
            "networks": {"eth0": {"rx_bytes": 1500, "tx_bytes": 500},
                         "eth1": {"rx_bytes": 500, "tx_bytes": 0}}
        });
        let s: StatsJson = serde_json::from_value(v).unwrap();
        let r = row("web", &s, true);
        assert_eq!(r["ID"], "0123456789ab");
        assert_eq!(r["Name"], "web");
        assert_eq!(r["CPUPerc"], "40.00%");
        assert_eq!(r["MemUsage"], "8MiB / 100MiB");
        assert_eq!(r["MemPerc"], "8.00%");
        assert_eq!(r["NetIO"], "2kB / 500B");
        assert_eq!(r["BlockIO"], "1kB / 2kB");
        assert_eq!(r["PIDs"], "5");
    }

    #[test]
    fn zeroed_stats_show_zeros() {
        let s: StatsJson = serde_json::from_value(json!({
            "id": "abc", "name": "/db", "read": "0001-01-01T00:00:00Z",
            "cpu_stats": {"cpu_usage": {"total_usage": 0}},
            "precpu_stats": {"cpu_usage": {"total_usage": 0}},
            "memory_stats": {}, "pids_stats": {},
            "blkio_stats": {"io_service_bytes_recursive": null}
        }))
        .unwrap();
        let r = row("db", &s, true);
        assert_eq!(r["CPUPerc"], "0.00%");
        assert_eq!(r["MemUsage"], "0B / 0B");
        assert_eq!(r["MemPerc"], "0.00%");
        assert_eq!(r["NetIO"], "0B / 0B");
        assert_eq!(r["PIDs"], "0");
    }
}
