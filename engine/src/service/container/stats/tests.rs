//! Unit tests of the stats sampling parsers and the CPU baseline.

use super::*;
use crate::runtime::cgroups::stats::BlkioEntry;

const PROC_STAT: &str = "cpu  100 5 50 1000 10 1 2 7 0 0\n\
                         cpu0 50 2 25 500 5 1 1 3 0 0\n\
                         intr 12345\n";

const NET_DEV: &str = "\
Inter-|   Receive                                                |  Transmit
 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
    lo:    1000      10    0    0    0     0          0         0     1000      10    0    0    0     0       0          0
  eth0:    5000      40    1    2    0     0          0         0     3000      30    3    4    0     0       0          0
";

#[test]
fn system_cpu_usage_sums_seven_fields_in_ns() {
    // 100+5+50+1000+10+1+2 = 1168 ticks; steal (7) is not counted.
    assert_eq!(parse_proc_stat(PROC_STAT, 100), Some(11_680_000_000));
    assert_eq!(parse_proc_stat(PROC_STAT, 250), Some(4_672_000_000));
    assert_eq!(parse_proc_stat("cpu 1 2\n", 100), None);
    assert_eq!(parse_proc_stat("", 100), None);
}

#[test]
fn net_dev_skips_loopback() {
    let nets = parse_net_dev(NET_DEV);
    assert_eq!(
        nets,
        vec![(
            "eth0".to_string(),
            NetStats {
                rx_bytes: 5000,
                rx_packets: 40,
                rx_errors: 1,
                rx_dropped: 2,
                tx_bytes: 3000,
                tx_packets: 30,
                tx_errors: 3,
                tx_dropped: 4,
            }
        )]
    );
    assert!(parse_net_dev("garbage").is_empty());
}

#[test]
fn mem_total_in_bytes() {
    assert_eq!(
        parse_mem_total("MemTotal:        2000 kB\nMemFree: 1 kB\n"),
        Some(2_048_000)
    );
    assert_eq!(parse_mem_total("MemFree: 1 kB\n"), None);
}

/// A sample with these CPU, host CPU and memory-limit figures (the stats JSON tests use it too).
pub(crate) fn sample(total: u64, system: u64, limit: Option<u64>) -> Sample {
    let mut cgroup = CgroupStats::default();
    cgroup.cpu.total_usage = total;
    cgroup.cpu.percpu_usage = vec![total];
    cgroup.memory.usage = 1000;
    cgroup.memory.limit = limit;
    cgroup.memory.stat.insert("inactive_file".into(), 100);
    cgroup.pids.current = 3;
    cgroup.blkio.io_service_bytes_recursive = vec![BlkioEntry {
        major: 8,
        minor: 0,
        op: "read".into(),
        value: 42,
    }];
    Sample {
        at: Instant::now(),
        read: chrono::Utc::now(),
        cgroup,
        system_cpu_usage: system,
        online_cpus: 2,
        mem_total: 8000,
        networks: parse_net_dev(NET_DEV),
    }
}

#[test]
fn start_baseline_gives_the_average_since_start() {
    // 2 CPUs, started 10 s ago, 5 s of CPU used: 25% of the machine (docker's figure: 50%).
    let mut cur = sample(5_000_000_000, 100_000_000_000, None);
    cur.online_cpus = 2;
    let started = cur.read - chrono::Duration::seconds(10);
    let base = start_baseline(&cur, started);
    assert_eq!(base.cgroup.cpu.total_usage, 0);
    assert_eq!(base.system_cpu_usage, 100_000_000_000 - 20_000_000_000);
    assert_eq!(base.read, started);
}

#[test]
fn baseline_skips_samples_too_young_or_from_before_a_restart() {
    let svc = StatsService::new();
    let started = chrono::Utc::now() - chrono::Duration::seconds(5);
    let started_s = started.to_rfc3339();
    let mut old = sample(1, 10, None);
    old.at = Instant::now() - Duration::from_millis(500);
    old.read = chrono::Utc::now() - chrono::Duration::milliseconds(500);
    svc.remember("c", &old);
    let young = sample(2, 20, None);
    svc.remember("c", &young);
    let cur = sample(3, 30, None);
    // The young one is skipped for the one before it.
    assert_eq!(svc.baseline("c", &started_s, &cur).system_cpu_usage, 10);
    // After a restart (StartedAt later than both), the start baseline is used.
    let restarted = chrono::Utc::now().to_rfc3339();
    let base = svc.baseline("c", &restarted, &cur);
    assert_eq!(base.cgroup.cpu.total_usage, 0);
    // Unknown container: start baseline, never a wait.
    assert_eq!(
        svc.baseline("other", &started_s, &cur)
            .cgroup
            .cpu
            .total_usage,
        0
    );
}
