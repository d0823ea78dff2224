//! `docker top`: the container's processes as the columns of `ps -ef`, built from /proc so the
//! engine does not depend on a host `ps` (and its output format).

use chrono::{DateTime, Local, TimeZone};
use serde::Serialize;

/// The answer of `GET /containers/{id}/top`.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "PascalCase")]
pub struct Top {
    pub titles: Vec<String>,
    pub processes: Vec<Vec<String>>,
}

/// `ps -ef`'s columns, the ones docker shows when no ps_args are given.
pub const TITLES: [&str; 8] = ["UID", "PID", "PPID", "C", "STIME", "TTY", "TIME", "CMD"];

/// The fields of /proc/<pid>/stat we use.
#[derive(Debug, Clone, PartialEq)]
struct Stat {
    comm: String,
    ppid: i32,
    tty_nr: u32,
    /// utime + stime, in clock ticks.
    cpu_ticks: u64,
    /// Start time after boot, in clock ticks.
    start_ticks: u64,
}

/// Parse /proc/<pid>/stat. The command name is in parentheses and may itself hold spaces and
/// parentheses, so the fields are counted from the last ')'.
fn parse_stat(s: &str) -> Option<Stat> {
    let open = s.find('(')?;
    let close = s.rfind(')')?;
    let comm = s.get(open + 1..close)?.to_string();
    let rest: Vec<&str> = s.get(close + 1..)?.split_whitespace().collect();
    // rest[0] is field 3 (state); field n is rest[n - 3].
    let field = |n: usize| rest.get(n - 3).copied();
    let num = |n: usize| field(n)?.parse::<u64>().ok();
    Some(Stat {
        comm,
        ppid: field(4)?.parse().ok()?,
        tty_nr: field(7)?.parse::<i64>().ok()? as u32,
        cpu_ticks: num(14)? + num(15)?,
        start_ticks: num(22)?,
    })
}

/// Real uid from /proc/<pid>/status.
fn parse_uid(status: &str) -> Option<u32> {
    status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
}

/// The user name of `uid` from the host's /etc/passwd (ps runs on the host in docker, so names
/// are the host's), or the number.
fn user_name(passwd: &str, uid: u32) -> String {
    passwd
        .lines()
        .find_map(|l| {
            let mut it = l.split(':');
            let name = it.next()?;
            (it.nth(1)?.parse::<u32>().ok()? == uid).then(|| name.to_string())
        })
        .unwrap_or_else(|| uid.to_string())
}

/// The terminal name ps prints for a `tty_nr` (kernel dev_t encoding), "?" for none.
fn tty_name(tty_nr: u32) -> String {
    if tty_nr == 0 {
        return "?".into();
    }
    let major = (tty_nr >> 8) & 0xfff;
    let minor = (tty_nr & 0xff) | ((tty_nr >> 12) & 0xfff00);
    match major {
        136..=143 => format!("pts/{}", (major - 136) * 256 + minor),
        4 if minor < 64 => format!("tty{minor}"),
        4 => format!("ttyS{}", minor - 64),
        5 if minor == 0 => "tty".into(),
        5 if minor == 1 => "console".into(),
        _ => "?".into(),
    }
}

/// Cumulative CPU time as ps's TIME: [DD-]HH:MM:SS.
fn cpu_time(secs: u64) -> String {
    let (d, h, m, s) = (
        secs / 86400,
        (secs / 3600) % 24,
        (secs / 60) % 60,
        secs % 60,
    );
    if d > 0 {
        format!("{d}-{h:02}:{m:02}:{s:02}")
    } else {
        format!("{h:02}:{m:02}:{s:02}")
    }
}

/// ps's STIME: the time of day for a process started today, else month and day, else the year.
fn start_time(start: DateTime<Local>, now: DateTime<Local>) -> String {
    if start.date_naive() == now.date_naive() {
        start.format("%H:%M").to_string()
    } else if start.format("%Y").to_string() == now.format("%Y").to_string() {
        start.format("%b%d").to_string()
    } else {
        start.format("%Y").to_string()
    }
}

/// ps's C: CPU time over elapsed time, as an integer percentage (capped at 99 as in procps).
fn cpu_percent(cpu_ticks: u64, elapsed_ticks: u64) -> u64 {
    if elapsed_ticks == 0 {
        return 0;
    }
    (cpu_ticks * 100 / elapsed_ticks).min(99)
}

/// Boot time (seconds since the epoch) from /proc/stat.
fn boot_time() -> Option<i64> {
    let s = std::fs::read_to_string("/proc/stat").ok()?;
    s.lines()
        .find_map(|l| l.strip_prefix("btime "))
        .and_then(|v| v.trim().parse().ok())
}

/// Seconds since boot from /proc/uptime.
fn uptime_secs() -> Option<f64> {
    let s = std::fs::read_to_string("/proc/uptime").ok()?;
    s.split_whitespace().next()?.parse().ok()
}

/// `ps -ef` rows for `pids`. A process that exits while being read is left out (as ps does).
pub fn ps_ef(pids: &[i32]) -> Top {
    // SAFETY: sysconf has no preconditions.
    let hz = match unsafe { libc::sysconf(libc::_SC_CLK_TCK) } {
        n if n > 0 => n as u64,
        _ => 100,
    };
    let passwd = std::fs::read_to_string("/etc/passwd").unwrap_or_default();
    let btime = boot_time().unwrap_or(0);
    let uptime_ticks = (uptime_secs().unwrap_or(0.0) * hz as f64) as u64;
    let now = Local::now();
    let mut processes = Vec::with_capacity(pids.len());
    for &pid in pids {
        let dir = format!("/proc/{pid}");
        let (Ok(stat), Ok(status)) = (
            std::fs::read_to_string(format!("{dir}/stat")),
            std::fs::read_to_string(format!("{dir}/status")),
        ) else {
            continue;
        };
        let Some(st) = parse_stat(&stat) else {
            continue;
        };
        let cmdline = std::fs::read(format!("{dir}/cmdline")).unwrap_or_default();
        let args: Vec<String> = cmdline
            .split(|b| *b == 0)
            .filter(|a| !a.is_empty())
            .map(|a| String::from_utf8_lossy(a).into_owned())
            .collect();
        let cmd = if args.is_empty() {
            format!("[{}]", st.comm)
        } else {
            args.join(" ")
        };
        let uid = parse_uid(&status).map_or_else(|| "?".into(), |u| user_name(&passwd, u));
        let start_secs = btime + (st.start_ticks / hz) as i64;
        let stime = Local
            .timestamp_opt(start_secs, 0)
            .single()
            .map_or_else(|| "?".into(), |t| start_time(t, now));
        processes.push(vec![
            uid,
            pid.to_string(),
            st.ppid.to_string(),
            cpu_percent(st.cpu_ticks, uptime_ticks.saturating_sub(st.start_ticks)).to_string(),
            stime,
            tty_name(st.tty_nr),
            cpu_time(st.cpu_ticks / hz),
            cmd,
        ]);
    }
    Top {
        titles: TITLES.iter().map(|t| t.to_string()).collect(),
        processes,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_with_parentheses_in_the_name() {
        let s = "42 (a) b (c)) S 7 42 42 34816 42 4194560 100 0 0 0 250 50 0 0 20 0 1 0 12345 \
                 1000 100 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0";
        let st = parse_stat(s).unwrap();
        assert_eq!(st.comm, "a) b (c)");
        assert_eq!(st.ppid, 7);
        assert_eq!(st.tty_nr, 34816);
        assert_eq!(st.cpu_ticks, 300);
        assert_eq!(st.start_ticks, 12345);
        assert!(parse_stat("garbage").is_none());
    }

    #[test]
    fn columns_are_formatted_like_ps() {
        assert_eq!(tty_name(0), "?");
        assert_eq!(tty_name(34816), "pts/0"); // 136:0
        assert_eq!(tty_name((136 << 8) | 5), "pts/5");
        assert_eq!(tty_name((4 << 8) | 1), "tty1");
        assert_eq!(cpu_time(0), "00:00:00");
        assert_eq!(cpu_time(3725), "01:02:05");
        assert_eq!(cpu_time(90061), "1-01:01:01");
        assert_eq!(cpu_percent(50, 100), 50);
        assert_eq!(cpu_percent(500, 100), 99);
        assert_eq!(cpu_percent(5, 0), 0);
        assert_eq!(
            parse_uid("Name:\tsh\nUid:\t1000\t1000\t1000\t1000\n"),
            Some(1000)
        );
        let passwd = "root:x:0:0:root:/root:/bin/sh\nbob:x:1000:1000::/home/bob:/bin/sh\n";
        assert_eq!(user_name(passwd, 0), "root");
        assert_eq!(user_name(passwd, 1000), "bob");
        assert_eq!(user_name(passwd, 4242), "4242");
    }

    #[test]
    fn start_time_format() {
        let now = Local.with_ymd_and_hms(2026, 5, 10, 15, 0, 0).unwrap();
        let today = Local.with_ymd_and_hms(2026, 5, 10, 9, 7, 0).unwrap();
        let earlier = Local.with_ymd_and_hms(2026, 3, 2, 9, 7, 0).unwrap();
        let last_year = Local.with_ymd_and_hms(2025, 3, 2, 9, 7, 0).unwrap();
        assert_eq!(start_time(today, now), "09:07");
        assert_eq!(start_time(earlier, now), "Mar02");
        assert_eq!(start_time(last_year, now), "2025");
    }

    #[test]
    fn lists_this_process() {
        let me = std::process::id() as i32;
        let top = ps_ef(&[me, i32::MAX]);
        assert_eq!(top.titles, TITLES);
        assert_eq!(top.processes.len(), 1, "{top:?}");
        let row = &top.processes[0];
        assert_eq!(row[1], me.to_string());
        assert_eq!(row[2], std::os::unix::process::parent_id().to_string());
        assert!(row[7].contains("berth_engine"), "{row:?}");
    }
}
