//! Finding the running engine without starting one: ask the socket (`/_ping`, `/version`,
//! `/info`, `/berth/v1/engine`), fall back to `<data-root>/engine.pid`, and read what the
//! kernel knows about the process (`/proc/PID/{stat,cmdline,cgroup}`).

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Result;
use berth_engine::pidfile;
use berth_engine::supervisor::Launch;
use serde_json::Value;

use crate::client::{Client, ConnectError, DaemonError};
use crate::exit::ExitError;

/// An engine that answered on its socket.
#[derive(Debug)]
pub struct Answering {
    pub socket: PathBuf,
    pub version: Value,
    pub info: Value,
    /// `None` for an engine that predates `GET /berth/v1/engine`.
    pub launch: Option<Launch>,
    /// From `launch`, else from the pid file in the engine's data root.
    pub pid: Option<u32>,
    pub data_root: Option<PathBuf>,
}

impl Answering {
    pub fn containers_running(&self) -> Option<u64> {
        self.info["ContainersRunning"].as_u64()
    }

    pub fn containers_total(&self) -> Option<u64> {
        self.info["Containers"].as_u64()
    }

    /// The systemd unit holding the engine: reported by the engine, or read from its cgroup.
    pub fn unit(&self) -> Option<String> {
        match &self.launch {
            Some(l) => l.unit.clone(),
            None => self.pid.and_then(unit_of_pid),
        }
    }
}

/// Ask the engine on `socket`; `Ok(None)` when nothing answers there.
pub async fn ask(socket: &Path) -> Result<Option<Answering>> {
    let client = match Client::connect(socket).await {
        Ok(c) => c,
        Err(e) => match e.downcast_ref::<ConnectError>() {
            // Something may well be listening: "not running" would be a wrong answer.
            Some(c) if c.source.kind() == std::io::ErrorKind::PermissionDenied => {
                return Err(ExitError::with(
                    1,
                    format!(
                        "cannot reach the berth engine on {}: permission denied (root or the socket's group needed)",
                        socket.display()
                    ),
                ))
            }
            Some(_) => return Ok(None),
            None => return Err(e),
        },
    };
    let version = client.version().await?;
    let info = client.info().await?;
    let launch = match client.berth_engine::<Launch>().await {
        Ok(l) => Some(l),
        Err(e)
            if e.downcast_ref::<DaemonError>()
                .is_some_and(|d| d.status == 404) =>
        {
            None
        }
        Err(e) => return Err(e),
    };
    let data_root = launch
        .as_ref()
        .map(|l| l.data_root.clone())
        .or_else(|| info["DockerRootDir"].as_str().map(PathBuf::from));
    let pid = launch.as_ref().map(|l| l.pid).or_else(|| {
        data_root
            .as_deref()
            .and_then(|d| pidfile::read(d).ok().flatten())
            .map(|c| c.pid)
            .filter(|p| is_engine_process(*p))
    });
    Ok(Some(Answering {
        socket: socket.to_path_buf(),
        version,
        info,
        launch,
        pid,
        data_root,
    }))
}

/// The live engine named by `<data_root>/engine.pid`, if any (a stale file names a dead or
/// reused pid: both are checked).
pub fn engine_of_data_root(data_root: &Path) -> Option<u32> {
    pidfile::read(data_root)
        .ok()
        .flatten()
        .map(|c| c.pid)
        .filter(|p| is_engine_process(*p))
}

/// The process exists, is not a zombie, and runs `… engine …` (guards against a reused pid).
pub fn is_engine_process(pid: u32) -> bool {
    is_alive(pid)
        && std::fs::read(format!("/proc/{pid}/cmdline")).is_ok_and(|c| cmdline_is_engine(&c))
}

fn cmdline_is_engine(cmdline: &[u8]) -> bool {
    let mut args = cmdline.split(|b| *b == 0);
    let Some(exe) = args.next() else { return false };
    let exe_is_berth = exe
        .rsplit(|b| *b == b'/')
        .next()
        .is_some_and(|name| name.starts_with(b"berth"));
    exe_is_berth && args.any(|a| a == b"engine")
}

/// Running (or sleeping, stopped…) rather than gone or a zombie waiting for its parent.
pub fn is_alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| parse_stat(&s))
        .is_some_and(|st| st.state != 'Z' && st.state != 'X')
}

/// How long the process has been running, from its start time in `/proc/PID/stat`.
pub fn uptime_of(pid: u32) -> Option<Duration> {
    let stat = parse_stat(&std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?)?;
    let system_uptime: f64 = std::fs::read_to_string("/proc/uptime")
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()?;
    // SAFETY: sysconf has no preconditions.
    let ticks_per_second = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if ticks_per_second <= 0 {
        return None;
    }
    let started = stat.start_ticks as f64 / ticks_per_second as f64;
    Some(Duration::from_secs_f64((system_uptime - started).max(0.0)))
}

/// The systemd unit whose cgroup holds `pid`.
pub fn unit_of_pid(pid: u32) -> Option<String> {
    let cgroup = std::fs::read_to_string(format!("/proc/{pid}/cgroup")).ok()?;
    berth_engine::supervisor::systemd_unit_of_cgroup(&cgroup)
}

#[derive(Debug, PartialEq, Eq)]
struct Stat {
    state: char,
    /// Field 22: clock ticks after boot.
    start_ticks: u64,
}

/// `/proc/PID/stat`: the command name is in parentheses and may hold spaces or `)`, so fields
/// are counted after the last `)`.
fn parse_stat(text: &str) -> Option<Stat> {
    let rest = &text[text.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    Some(Stat {
        state: fields.first()?.chars().next()?,
        // Fields after the name start at 3 (state); starttime is field 22.
        start_ticks: fields.get(22 - 3)?.parse().ok()?,
    })
}

/// "9s", "4m 12s", "2h 5m", "3d 4h": the two largest units.
pub fn format_uptime(d: Duration) -> String {
    let s = d.as_secs();
    let (days, hours, minutes, seconds) = (s / 86_400, s / 3600 % 24, s / 60 % 60, s % 60);
    if days > 0 {
        format!("{days}d {hours}h")
    } else if hours > 0 {
        format!("{hours}h {minutes}m")
    } else if minutes > 0 {
        format!("{minutes}m {seconds}s")
    } else {
        format!("{seconds}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_fields_are_counted_after_the_name() {
        let line = "4242 (berth (x) y) S 1 4242 4242 0 -1 4194560 900 0 0 0 12 7 0 0 20 0 \
                    9 0 123456 1000000 200 18446744073709551615\n";
        assert_eq!(
            parse_stat(line),
            Some(Stat {
                state: 'S',
                start_ticks: 123456
            })
        );
        assert_eq!(parse_stat("12 (zombie) Z 1"), None);
        assert_eq!(parse_stat("garbage"), None);
    }

    #[test]
    fn this_process_is_alive_and_has_an_uptime() {
        assert!(is_alive(std::process::id()));
        assert!(uptime_of(std::process::id()).is_some());
    }

    #[test]
    fn engine_cmdlines() {
        assert!(cmdline_is_engine(b"/usr/local/bin/berth\0engine\0"));
        assert!(cmdline_is_engine(
            b"/x/target/debug/berth\0engine\0--socket\0/tmp/s\0"
        ));
        assert!(!cmdline_is_engine(b"/usr/bin/berth\0ps\0"));
        assert!(!cmdline_is_engine(b"/usr/bin/sleep\0engine\0"));
        assert!(!cmdline_is_engine(b""));
    }

    #[test]
    fn uptime_shows_two_units() {
        let f = |s| format_uptime(Duration::from_secs(s));
        assert_eq!(f(0), "0s");
        assert_eq!(f(59), "59s");
        assert_eq!(f(252), "4m 12s");
        assert_eq!(f(2 * 3600 + 5 * 60 + 9), "2h 5m");
        assert_eq!(f(3 * 86_400 + 4 * 3600 + 1), "3d 4h");
    }
}
