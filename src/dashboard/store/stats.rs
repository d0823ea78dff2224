//! Per-container stats history: one point per stats message, kept for the last minutes in a
//! fixed ring, with rates computed from the engine's cumulative counters.

use std::collections::VecDeque;

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::Value;

use crate::commands::stats::{cpu_percent, mem_usage, StatsJson};

/// Points kept per container: five minutes at the engine's one-per-second pace.
pub const HISTORY: usize = 300;

#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct StatPoint {
    pub cpu_percent: f64,
    pub mem_used: f64,
    pub mem_limit: f64,
    /// Bytes per second.
    pub net_rx: f64,
    pub net_tx: f64,
    pub blk_read: f64,
    pub blk_write: f64,
    pub pids: u64,
}

#[derive(Debug, Clone, Copy, Default)]
struct Counters {
    at: Option<DateTime<Utc>>,
    net_rx: u64,
    net_tx: u64,
    blk_read: u64,
    blk_write: u64,
}

#[derive(Debug, Clone, Default)]
pub struct StatsHistory {
    points: VecDeque<StatPoint>,
    last: Option<Counters>,
}

fn counters(s: &StatsJson, at: Option<DateTime<Utc>>) -> Counters {
    let (net_rx, net_tx) = s
        .networks
        .iter()
        .flat_map(|n| n.values())
        .fold((0, 0), |(r, t), n| (r + n.rx_bytes, t + n.tx_bytes));
    let (blk_read, blk_write) = s
        .blkio_stats
        .io_service_bytes_recursive
        .iter()
        .flatten()
        .fold((0, 0), |(r, w), e| {
            match e.op.to_ascii_lowercase().as_str() {
                "read" => (r + e.value, w),
                "write" => (r, w + e.value),
                _ => (r, w),
            }
        });
    Counters {
        at,
        net_rx,
        net_tx,
        blk_read,
        blk_write,
    }
}

impl StatsHistory {
    /// Adds one `GET /containers/{id}/stats` message. Messages without a CPU reading (the
    /// zeroed first frame of a stopped container) are skipped.
    pub fn push(&mut self, v: &Value) {
        // Decoded straight from the borrowed value: no copy of the document per message.
        let Ok(s) = StatsJson::deserialize(v) else {
            return;
        };
        let at = v["read"]
            .as_str()
            .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
            .map(|t| t.with_timezone(&Utc));
        let now = counters(&s, at);
        let (mut net_rx, mut net_tx, mut blk_read, mut blk_write) = (0.0, 0.0, 0.0, 0.0);
        if let Some(prev) = self.last {
            let secs = match (prev.at, now.at) {
                (Some(a), Some(b)) => ((b - a).num_milliseconds() as f64 / 1000.0).max(0.001),
                _ => 1.0,
            };
            let rate = |a: u64, b: u64| b.saturating_sub(a) as f64 / secs;
            net_rx = rate(prev.net_rx, now.net_rx);
            net_tx = rate(prev.net_tx, now.net_tx);
            blk_read = rate(prev.blk_read, now.blk_read);
            blk_write = rate(prev.blk_write, now.blk_write);
        }
        self.last = Some(now);
        if self.points.len() == HISTORY {
            self.points.pop_front();
        }
        self.points.push_back(StatPoint {
            cpu_percent: cpu_percent(&s),
            mem_used: mem_usage(&s.memory_stats),
            mem_limit: s.memory_stats.limit as f64,
            net_rx,
            net_tx,
            blk_read,
            blk_write,
            pids: s.pids_stats.current,
        });
    }

    pub fn latest(&self) -> Option<&StatPoint> {
        self.points.back()
    }

    pub fn points(&self) -> &VecDeque<StatPoint> {
        &self.points
    }

    /// The last `n` values of one series, oldest first (for sparklines and charts).
    pub fn series(&self, n: usize, f: impl Fn(&StatPoint) -> f64) -> Vec<f64> {
        let skip = self.points.len().saturating_sub(n);
        self.points.iter().skip(skip).map(f).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn sample(t: &str, cpu: u64, sys: u64, rx: u64) -> Value {
        json!({
            "read": t,
            "cpu_stats": {"cpu_usage": {"total_usage": cpu}, "system_cpu_usage": sys, "online_cpus": 2},
            "precpu_stats": {"cpu_usage": {"total_usage": cpu / 2}, "system_cpu_usage": sys / 2},
            "memory_stats": {"usage": 1000, "limit": 4000, "stats": {"inactive_file": 200}},
            "networks": {"eth0": {"rx_bytes": rx, "tx_bytes": 0}},
            "pids_stats": {"current": 3}
        })
    }

    #[test]
    fn rates_come_from_counter_deltas_and_the_ring_is_bounded() {
        let mut h = StatsHistory::default();
        h.push(&sample("2026-01-01T00:00:00Z", 100, 1000, 0));
        h.push(&sample("2026-01-01T00:00:02Z", 100, 1000, 4096));
        let p = h.latest().unwrap();
        assert_eq!(p.net_rx, 2048.0);
        assert_eq!(p.mem_used, 800.0);
        assert_eq!(p.pids, 3);
        assert!((p.cpu_percent - 20.0).abs() < 1e-9, "{}", p.cpu_percent);
        for i in 0..(HISTORY + 50) {
            h.push(&sample("2026-01-01T00:00:03Z", 100, 1000, i as u64));
        }
        assert_eq!(h.points().len(), HISTORY);
        assert_eq!(h.series(10, |p| p.cpu_percent).len(), 10);
    }
}
