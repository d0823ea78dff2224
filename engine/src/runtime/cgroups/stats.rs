//! Reading a container cgroup's resource usage (what `docker stats` shows), on v1 and v2.
//!
//! Every reader takes the directory holding the controller's files so the v2 parser can be
//! unit-tested against fixture directories (this host is v1). A missing or unreadable file gives
//! zero/empty values rather than an error: a controller may be absent (no io controller delegated,
//! swap accounting off) and stats are best-effort by nature, as in docker.

use std::collections::BTreeMap;
use std::path::Path;

use super::{CgroupVersion, ContainerCgroup};

/// One block I/O counter of a device: docker's BlkioStatEntry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlkioEntry {
    pub major: u64,
    pub minor: u64,
    /// Lower-case operation: "read", "write" (v1 also "sync", "async", "discard", "total").
    pub op: String,
    pub value: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MemoryStats {
    /// Current usage in bytes (v1 memory.usage_in_bytes, v2 memory.current).
    pub usage: u64,
    /// Peak usage (v1 only, as in docker).
    pub max_usage: Option<u64>,
    /// Times the limit was hit (v1 only).
    pub failcnt: Option<u64>,
    /// The limit, `None` when unlimited (the caller substitutes the host's memory).
    pub limit: Option<u64>,
    /// memory.stat as is.
    pub stat: BTreeMap<String, u64>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CpuStats {
    /// Total CPU time consumed, ns.
    pub total_usage: u64,
    /// Per-CPU time, ns (v1 only; v2 has no per-CPU accounting).
    pub percpu_usage: Vec<u64>,
    pub usage_in_usermode: u64,
    pub usage_in_kernelmode: u64,
    pub periods: u64,
    pub throttled_periods: u64,
    /// ns.
    pub throttled_time: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PidsStats {
    pub current: u64,
    /// `None` when unlimited.
    pub limit: Option<u64>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BlkioStats {
    pub io_service_bytes_recursive: Vec<BlkioEntry>,
    pub io_serviced_recursive: Vec<BlkioEntry>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CgroupStats {
    pub memory: MemoryStats,
    pub cpu: CpuStats,
    pub pids: PidsStats,
    pub blkio: BlkioStats,
}

/// v1 limits at or above this are "unlimited" (the kernel reports PAGE_COUNTER_MAX × page size,
/// 0x7FFFFFFFFFFFF000 on 64-bit).
const V1_UNLIMITED: u64 = 1 << 62;

impl ContainerCgroup {
    /// Current resource usage of this container's cgroup.
    pub fn stats(&self) -> CgroupStats {
        match self.version() {
            CgroupVersion::V1 => {
                let dir = |c: &str| self.controller_dir(c);
                read_v1(
                    dir("memory").as_deref(),
                    dir("cpuacct").as_deref(),
                    dir("cpu").as_deref(),
                    dir("pids").as_deref(),
                    dir("blkio").as_deref(),
                )
            }
            CgroupVersion::V2 => match self.controller_dir("memory") {
                Some(d) => read_v2(&d),
                None => CgroupStats::default(),
            },
        }
    }
}

fn read(dir: &Path, file: &str) -> Option<String> {
    std::fs::read_to_string(dir.join(file)).ok()
}

fn read_u64(dir: &Path, file: &str) -> Option<u64> {
    read(dir, file)?.trim().parse().ok()
}

/// "key value" lines (memory.stat, cpu.stat, cpuacct.stat) as a map; unparsable lines skipped.
pub(crate) fn parse_flat_keyed(text: &str) -> BTreeMap<String, u64> {
    text.lines()
        .filter_map(|l| {
            let mut it = l.split_whitespace();
            let k = it.next()?;
            let v = it.next()?.parse().ok()?;
            Some((k.to_string(), v))
        })
        .collect()
}

/// A single value or "max" (v2 memory.max, pids.max).
fn parse_max(text: &str) -> Option<u64> {
    match text.trim() {
        "max" | "" => None,
        v => v.parse().ok(),
    }
}

/// Clock ticks per second (`sysconf(_SC_CLK_TCK)`, 100 when unknown).
pub(crate) fn clk_tck() -> u64 {
    // SAFETY: sysconf has no memory-safety preconditions.
    let t = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if t > 0 {
        t as u64
    } else {
        100
    }
}

/// Reads a v1 container cgroup; each argument is that controller's directory, if mounted.
pub fn read_v1(
    memory: Option<&Path>,
    cpuacct: Option<&Path>,
    cpu: Option<&Path>,
    pids: Option<&Path>,
    blkio: Option<&Path>,
) -> CgroupStats {
    let mut s = CgroupStats::default();
    if let Some(d) = memory {
        s.memory = MemoryStats {
            usage: read_u64(d, "memory.usage_in_bytes").unwrap_or(0),
            max_usage: read_u64(d, "memory.max_usage_in_bytes"),
            failcnt: read_u64(d, "memory.failcnt"),
            limit: read_u64(d, "memory.limit_in_bytes").filter(|l| *l < V1_UNLIMITED),
            stat: read(d, "memory.stat")
                .map(|t| parse_flat_keyed(&t))
                .unwrap_or_default(),
        };
    }
    if let Some(d) = cpuacct {
        s.cpu.total_usage = read_u64(d, "cpuacct.usage").unwrap_or(0);
        s.cpu.percpu_usage = read(d, "cpuacct.usage_percpu")
            .map(|t| {
                t.split_whitespace()
                    .filter_map(|v| v.parse().ok())
                    .collect()
            })
            .unwrap_or_default();
        // cpuacct.stat is in USER_HZ ticks.
        let stat = read(d, "cpuacct.stat")
            .map(|t| parse_flat_keyed(&t))
            .unwrap_or_default();
        let ns = |k: &str| stat.get(k).copied().unwrap_or(0) * (1_000_000_000 / clk_tck());
        s.cpu.usage_in_usermode = ns("user");
        s.cpu.usage_in_kernelmode = ns("system");
    }
    if let Some(d) = cpu {
        let stat = read(d, "cpu.stat")
            .map(|t| parse_flat_keyed(&t))
            .unwrap_or_default();
        s.cpu.periods = stat.get("nr_periods").copied().unwrap_or(0);
        s.cpu.throttled_periods = stat.get("nr_throttled").copied().unwrap_or(0);
        s.cpu.throttled_time = stat.get("throttled_time").copied().unwrap_or(0);
    }
    if let Some(d) = pids {
        s.pids = PidsStats {
            current: read_u64(d, "pids.current").unwrap_or(0),
            limit: read(d, "pids.max").and_then(|t| parse_max(&t)),
        };
    }
    if let Some(d) = blkio {
        // The _recursive files exist since 4.x; older kernels only have the flat ones.
        let pick = |base: &str| {
            read(d, &format!("{base}_recursive"))
                .or_else(|| read(d, base))
                .map(|t| parse_v1_blkio(&t))
                .unwrap_or_default()
        };
        s.blkio.io_service_bytes_recursive = pick("blkio.throttle.io_service_bytes");
        s.blkio.io_serviced_recursive = pick("blkio.throttle.io_serviced");
    }
    s
}

/// v1 blkio lines "8:0 Read 4096"; the trailing "Total N" line (no device) is skipped.
pub(crate) fn parse_v1_blkio(text: &str) -> Vec<BlkioEntry> {
    text.lines()
        .filter_map(|l| {
            let mut it = l.split_whitespace();
            let (major, minor) = it.next()?.split_once(':')?;
            let op = it.next()?.to_ascii_lowercase();
            let value = it.next()?.parse().ok()?;
            Some(BlkioEntry {
                major: major.parse().ok()?,
                minor: minor.parse().ok()?,
                op,
                value,
            })
        })
        .collect()
}

/// v2 io.stat lines "8:0 rbytes=1 wbytes=2 rios=3 wios=4 dbytes=0 dios=0" → (bytes, ios) entries
/// with ops "read"/"write", as docker reports them.
pub(crate) fn parse_v2_io_stat(text: &str) -> (Vec<BlkioEntry>, Vec<BlkioEntry>) {
    let mut bytes = Vec::new();
    let mut ios = Vec::new();
    for line in text.lines() {
        let mut it = line.split_whitespace();
        let Some((major, minor)) = it.next().and_then(|d| d.split_once(':')) else {
            continue;
        };
        let (Ok(major), Ok(minor)) = (major.parse::<u64>(), minor.parse::<u64>()) else {
            continue;
        };
        let kv: BTreeMap<&str, u64> = it
            .filter_map(|f| {
                let (k, v) = f.split_once('=')?;
                Some((k, v.parse().ok()?))
            })
            .collect();
        let entry = |op: &str, key: &str| BlkioEntry {
            major,
            minor,
            op: op.into(),
            value: kv.get(key).copied().unwrap_or(0),
        };
        bytes.push(entry("read", "rbytes"));
        bytes.push(entry("write", "wbytes"));
        ios.push(entry("read", "rios"));
        ios.push(entry("write", "wios"));
    }
    (bytes, ios)
}

/// Reads a v2 container cgroup directory (every controller's files are in it).
pub fn read_v2(dir: &Path) -> CgroupStats {
    let memory = MemoryStats {
        usage: read_u64(dir, "memory.current").unwrap_or(0),
        max_usage: None,
        failcnt: None,
        limit: read(dir, "memory.max").and_then(|t| parse_max(&t)),
        stat: read(dir, "memory.stat")
            .map(|t| parse_flat_keyed(&t))
            .unwrap_or_default(),
    };
    let cpu = read(dir, "cpu.stat")
        .map(|t| parse_flat_keyed(&t))
        .unwrap_or_default();
    let us = |k: &str| cpu.get(k).copied().unwrap_or(0) * 1000;
    let cpu = CpuStats {
        total_usage: us("usage_usec"),
        percpu_usage: Vec::new(),
        usage_in_usermode: us("user_usec"),
        usage_in_kernelmode: us("system_usec"),
        periods: cpu.get("nr_periods").copied().unwrap_or(0),
        throttled_periods: cpu.get("nr_throttled").copied().unwrap_or(0),
        throttled_time: us("throttled_usec"),
    };
    let pids = PidsStats {
        current: read_u64(dir, "pids.current").unwrap_or(0),
        limit: read(dir, "pids.max").and_then(|t| parse_max(&t)),
    };
    let blkio = match read(dir, "io.stat") {
        Some(t) => {
            let (bytes, ios) = parse_v2_io_stat(&t);
            BlkioStats {
                io_service_bytes_recursive: bytes,
                io_serviced_recursive: ios,
            }
        }
        None => BlkioStats::default(),
    };
    CgroupStats {
        memory,
        cpu,
        pids,
        blkio,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn fixture(name: &str) -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("src/runtime/cgroups/testdata")
            .join(name)
    }

    fn e(major: u64, minor: u64, op: &str, value: u64) -> BlkioEntry {
        BlkioEntry {
            major,
            minor,
            op: op.into(),
            value,
        }
    }

    #[test]
    fn v2_fixture_is_read_in_docker_units() {
        let s = read_v2(&fixture("v2-limited"));
        assert_eq!(s.memory.usage, 23_855_104);
        assert_eq!(s.memory.limit, Some(67_108_864));
        assert_eq!(s.memory.max_usage, None);
        assert_eq!(s.memory.stat["anon"], 20_971_520);
        assert_eq!(s.memory.stat["file"], 1_339_392);
        assert_eq!(s.memory.stat["inactive_file"], 1_200_128);
        assert_eq!(s.memory.stat.len(), 8);
        // usec → ns.
        assert_eq!(s.cpu.total_usage, 1_754_321_000);
        assert_eq!(s.cpu.usage_in_usermode, 1_500_000_000);
        assert_eq!(s.cpu.usage_in_kernelmode, 254_321_000);
        assert!(s.cpu.percpu_usage.is_empty());
        assert_eq!(s.cpu.periods, 120);
        assert_eq!(s.cpu.throttled_periods, 17);
        assert_eq!(s.cpu.throttled_time, 345_678_000);
        assert_eq!(
            s.pids,
            PidsStats {
                current: 6,
                limit: Some(100)
            }
        );
        assert_eq!(
            s.blkio.io_service_bytes_recursive,
            vec![
                e(8, 0, "read", 4_096_000),
                e(8, 0, "write", 20_480),
                e(253, 1, "read", 0),
                e(253, 1, "write", 8_192),
            ]
        );
        assert_eq!(
            s.blkio.io_serviced_recursive,
            vec![
                e(8, 0, "read", 250),
                e(8, 0, "write", 5),
                e(253, 1, "read", 0),
                e(253, 1, "write", 2),
            ]
        );
    }

    #[test]
    fn v2_unlimited_and_missing_controllers() {
        // memory.max and pids.max say "max"; there is no io.stat (io not delegated).
        let s = read_v2(&fixture("v2-unlimited"));
        assert_eq!(s.memory.usage, 4096);
        assert_eq!(s.memory.limit, None);
        assert_eq!(s.pids.limit, None);
        assert_eq!(s.pids.current, 1);
        assert!(s.blkio.io_service_bytes_recursive.is_empty());
        assert_eq!(s.cpu.total_usage, 12_000);
        // A directory that does not exist reads as zeros, not a panic.
        assert_eq!(read_v2(&fixture("nonexistent")), CgroupStats::default());
    }

    #[test]
    fn v1_fixture_is_read_in_docker_units() {
        let d = fixture("v1");
        let s = read_v1(Some(&d), Some(&d), Some(&d), Some(&d), Some(&d));
        assert_eq!(s.memory.usage, 10_485_760);
        assert_eq!(s.memory.max_usage, Some(12_582_912));
        assert_eq!(s.memory.failcnt, Some(0));
        assert_eq!(s.memory.limit, None, "the v1 'unlimited' value");
        assert_eq!(s.memory.stat["cache"], 8_192);
        assert_eq!(s.memory.stat["total_inactive_file"], 4_096);
        assert_eq!(s.cpu.total_usage, 2_000_000_000);
        assert_eq!(s.cpu.percpu_usage, vec![1_500_000_000, 500_000_000]);
        let tick = 1_000_000_000 / clk_tck();
        assert_eq!(s.cpu.usage_in_usermode, 150 * tick);
        assert_eq!(s.cpu.usage_in_kernelmode, 30 * tick);
        assert_eq!(s.cpu.throttled_time, 999);
        assert_eq!(s.pids.current, 3);
        assert_eq!(s.pids.limit, None);
        // The recursive file wins over the flat one; "Total" lines are dropped.
        assert_eq!(
            s.blkio.io_service_bytes_recursive,
            vec![
                e(8, 0, "read", 1024),
                e(8, 0, "write", 2048),
                e(8, 0, "sync", 0),
                e(8, 0, "async", 3072),
                e(8, 0, "discard", 0),
                e(8, 0, "total", 3072),
            ]
        );
        assert!(s.blkio.io_serviced_recursive.is_empty());
    }

    #[test]
    fn real_v1_cgroup_reports_its_process() {
        // This host's own cgroup v1 hierarchy, with a real process in a fresh container cgroup.
        if super::super::detect() != CgroupVersion::V1 {
            eprintln!("skipping: not a cgroup v1 host");
            return;
        }
        let spec = crate::runtime::spec::CgroupSpec {
            path: format!("berth-stats-test-{}/c", std::process::id()),
            memory: Some(32 << 20),
            memory_swap: None,
            cpu_shares: None,
            cpu_quota: None,
            cpu_period: None,
            pids_limit: Some(50),
            all_devices: false,
        };
        let cg = ContainerCgroup::create(&spec).unwrap();
        // The shell waits for a line on stdin so that its work (and memory) is charged to the
        // cgroup it joins first: v1 does not move existing charges.
        let mut child = std::process::Command::new("sh")
            .args([
                "-c",
                "read _; s=$(seq 1 20000); i=0; while [ $i -lt 100000 ]; do i=$((i+1)); done",
            ])
            .stdin(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        cg.add_process(child.id() as i32).unwrap();
        {
            use std::io::Write;
            child.stdin.take().unwrap().write_all(b"go\n").unwrap();
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
        let s = cg.stats();
        child.kill().ok();
        child.wait().unwrap();
        let parents: Vec<PathBuf> = ["memory", "cpu", "cpuacct", "pids", "blkio"]
            .iter()
            .filter_map(|c| cg.controller_dir(c))
            .filter_map(|d| d.parent().map(Path::to_path_buf))
            .collect();
        cg.destroy().unwrap();
        for p in parents {
            let _ = std::fs::remove_dir(p);
        }
        assert_eq!(s.memory.limit, Some(32 << 20));
        assert!(s.memory.usage > 0, "{s:?}");
        assert!(s.cpu.total_usage > 0, "{s:?}");
        assert!(!s.cpu.percpu_usage.is_empty());
        assert_eq!(s.pids.current, 1);
        assert_eq!(s.pids.limit, Some(50));
    }
}
