//! Host CPU and memory use for the header, from /proc/stat and /proc/meminfo (the engine is on
//! a unix socket, so it runs on this host).

use super::super::store::model::HostUsage;

/// Busy and total jiffies from the first line of /proc/stat.
fn cpu_times(stat: &str) -> Option<(u64, u64)> {
    let line = stat.lines().next()?.strip_prefix("cpu ")?;
    let v: Vec<u64> = line
        .split_whitespace()
        .filter_map(|x| x.parse().ok())
        .collect();
    if v.len() < 4 {
        return None;
    }
    let total: u64 = v.iter().take(8).sum();
    // idle + iowait are not busy.
    let idle = v[3] + v.get(4).copied().unwrap_or(0);
    Some((total - idle, total))
}

fn meminfo(text: &str) -> Option<(u64, u64)> {
    let field = |name: &str| {
        text.lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse::<u64>().ok())
            .map(|kib| kib * 1024)
    };
    let total = field("MemTotal:")?;
    let available = field("MemAvailable:")?;
    Some((total.saturating_sub(available), total))
}

/// Keeps the previous CPU reading to turn counters into a percentage.
#[derive(Default)]
pub struct HostSampler {
    prev: Option<(u64, u64)>,
}

impl HostSampler {
    pub fn sample(&mut self) -> Option<HostUsage> {
        let stat = std::fs::read_to_string("/proc/stat").ok()?;
        let mem = std::fs::read_to_string("/proc/meminfo").ok()?;
        self.sample_from(&stat, &mem)
    }

    fn sample_from(&mut self, stat: &str, mem: &str) -> Option<HostUsage> {
        let (busy, total) = cpu_times(stat)?;
        let cpu_percent = match self.prev.replace((busy, total)) {
            Some((pb, pt)) if total > pt => {
                (busy - pb.min(busy)) as f64 / (total - pt) as f64 * 100.0
            }
            _ => 0.0,
        };
        let (mem_used, mem_total) = meminfo(mem)?;
        Some(HostUsage {
            cpu_percent,
            mem_used,
            mem_total,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_from_two_readings() {
        let mem = "MemTotal:       1000 kB\nMemFree:  100 kB\nMemAvailable:    250 kB\n";
        let mut s = HostSampler::default();
        let first = s
            .sample_from("cpu  100 0 100 800 0 0 0 0 0 0\n", mem)
            .unwrap();
        assert_eq!(first.cpu_percent, 0.0);
        assert_eq!(first.mem_used, 750 * 1024);
        assert_eq!(first.mem_total, 1000 * 1024);
        let second = s
            .sample_from("cpu  150 0 150 900 0 0 0 0 0 0\n", mem)
            .unwrap();
        assert_eq!(second.cpu_percent, 50.0);
        assert!(s.sample().is_some());
    }
}
