//! `berth engine stop`: a graceful SIGTERM to the engine, then wait until the process is gone.
//! Containers keep running (the engine leaves them to their shims and reconnects on its next
//! start). The engine is found through the socket, else through `<data-root>/engine.pid`.
//!
//! An engine run by systemd is stopped through systemd instead (`systemctl stop` of its unit
//! and of the sockets that trigger it): a bare SIGTERM would leave the socket unit listening,
//! and the next connection would start the engine again.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::Result;
use nix::errno::Errno;
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

use super::probe;
use super::systemd::{systemctl, systemd_running};
use super::StopArgs;
use crate::commands::{out, Ctx};
use crate::exit::ExitError;

/// After the timeout the engine is killed: safe, as it is built to survive `kill -9`
/// (containers and records are unaffected), and this gives the wait a bound.
const AFTER_KILL_WAIT: Duration = Duration::from_secs(5);

/// The engine to stop.
#[derive(Debug)]
pub struct Target {
    pub pid: u32,
    /// Containers running when it was found (`None` when the socket did not answer).
    pub containers_running: Option<u64>,
    /// The systemd unit holding it.
    pub unit: Option<String>,
}

pub async fn stop(ctx: &Ctx, args: StopArgs) -> Result<i32> {
    let target = find(&ctx.socket, &args.data_root).await?;
    let timeout = Duration::from_secs(args.timeout);
    let how = match target.unit.as_deref() {
        Some(unit) if systemd_running() => {
            let units = stop_with_systemctl(unit)?;
            format!(", systemctl stop {}", units.join(" "))
        }
        _ => {
            if terminate(target.pid, timeout)? == Ending::Killed {
                format!(", killed after {}s", args.timeout)
            } else {
                String::new()
            }
        }
    };
    let containers = match target.containers_running {
        Some(0) => "no containers were running".to_owned(),
        Some(1) => "1 container keeps running".to_owned(),
        Some(n) => format!("{n} containers keep running"),
        None => "containers keep running".to_owned(),
    };
    out(&format!(
        "berth engine stopped (pid {}{how}); {containers}\n",
        target.pid
    ));
    Ok(0)
}

/// The engine answering on `socket`, or the one named by `data_root`'s pid file.
pub async fn find(socket: &Path, data_root: &Path) -> Result<Target> {
    if let Some(engine) = probe::ask(socket).await? {
        let Some(pid) = engine.pid else {
            let root = engine.data_root.as_deref().unwrap_or(data_root);
            return Err(ExitError::with(
                1,
                format!(
                    "the berth engine on {} answers but its pid is unknown (no live pid in {})",
                    socket.display(),
                    berth_engine::pidfile::path_in(root).display()
                ),
            ));
        };
        return Ok(Target {
            pid,
            containers_running: engine.containers_running(),
            unit: engine.unit(),
        });
    }
    match probe::engine_of_data_root(data_root) {
        Some(pid) => Ok(Target {
            pid,
            containers_running: None,
            unit: probe::unit_of_pid(pid),
        }),
        None => Err(ExitError::with(
            1,
            format!(
                "berth engine is not running (no answer on {}, no live pid in {})",
                socket.display(),
                berth_engine::pidfile::path_in(data_root).display()
            ),
        )),
    }
}

#[derive(Debug, PartialEq, Eq)]
pub enum Ending {
    Exited,
    Killed,
}

/// SIGTERM, wait up to `timeout` for the process to go, then SIGKILL.
pub fn terminate(pid: u32, timeout: Duration) -> Result<Ending> {
    signal(pid, Signal::SIGTERM)?;
    if wait_gone(pid, timeout) {
        return Ok(Ending::Exited);
    }
    signal(pid, Signal::SIGKILL)?;
    if wait_gone(pid, AFTER_KILL_WAIT) {
        return Ok(Ending::Killed);
    }
    Err(ExitError::with(
        1,
        format!("the berth engine (pid {pid}) is still running after SIGKILL"),
    ))
}

fn signal(pid: u32, sig: Signal) -> Result<()> {
    match kill(Pid::from_raw(pid as i32), sig) {
        // Gone already: what we wanted.
        Ok(()) | Err(Errno::ESRCH) => Ok(()),
        Err(Errno::EPERM) => Err(ExitError::with(
            1,
            format!("cannot stop the berth engine (pid {pid}): permission denied (run as root)"),
        )),
        Err(e) => Err(ExitError::with(
            1,
            format!("cannot signal the berth engine (pid {pid}): {e}"),
        )),
    }
}

/// Poll until the process has exited (a zombie counts: it no longer holds the lock or socket).
fn wait_gone(pid: u32, timeout: Duration) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        if !probe::is_alive(pid) {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// `systemctl stop` the sockets that trigger `unit` and `unit` itself; returns them.
/// `KillMode=process` in berth.service makes this stop the engine only.
fn stop_with_systemctl(unit: &str) -> Result<Vec<String>> {
    let triggers = Command::new("systemctl")
        .args(["show", "--property=TriggeredBy", "--value", unit])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default();
    let units = units_to_stop(unit, &triggers);
    let mut argv = vec!["stop".to_owned()];
    argv.extend(units.iter().cloned());
    systemctl(&argv)?;
    Ok(units)
}

/// The triggering sockets first, so no connection restarts the service in between.
fn units_to_stop(unit: &str, triggered_by: &str) -> Vec<String> {
    let mut units: Vec<String> = triggered_by
        .split_whitespace()
        .filter(|u| u.ends_with(".socket"))
        .map(str::to_owned)
        .collect();
    units.push(unit.to_owned());
    units
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sockets_are_stopped_before_the_service() {
        assert_eq!(
            units_to_stop("berth.service", "berth.socket\n"),
            vec!["berth.socket", "berth.service"]
        );
        assert_eq!(units_to_stop("berth.service", ""), vec!["berth.service"]);
        assert_eq!(
            units_to_stop("x.service", "x.socket y.path"),
            vec!["x.socket", "x.service"]
        );
    }

    #[test]
    fn a_child_that_exits_on_sigterm_is_reported_exited() {
        let mut child = Command::new("sleep").arg("60").spawn().unwrap();
        let pid = child.id();
        assert_eq!(
            terminate(pid, Duration::from_secs(5)).unwrap(),
            Ending::Exited
        );
        let _ = child.wait();
    }

    #[test]
    fn a_child_that_ignores_sigterm_is_killed() {
        // An ignored disposition survives exec: this sleep ignores SIGTERM.
        let mut child = Command::new("sh")
            .args(["-c", "trap '' TERM; exec sleep 60"])
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(200));
        let pid = child.id();
        assert_eq!(
            terminate(pid, Duration::from_millis(300)).unwrap(),
            Ending::Killed
        );
        let _ = child.wait();
    }
}
