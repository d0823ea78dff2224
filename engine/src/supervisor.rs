//! Living under a service manager (systemd) without depending on one:
//!
//! - socket activation: the listening socket passed as fd 3 (`LISTEN_FDS`/`LISTEN_PID`) is
//!   served instead of binding `--socket`;
//! - readiness: `READY=1` once the API serves, `STOPPING=1` on shutdown (`NOTIFY_SOCKET`);
//! - journald: logs go to the journal when stderr is the journal stream (`JOURNAL_STREAM`);
//! - [`Launch`]: how this process was started, reported by `GET /berth/v1/engine`.
//!
//! Each piece is inert when its variable is absent, so `berth engine` from a shell or from the
//! client's autostart behaves as it always did.

use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::net::UnixListener;
use std::path::{Path, PathBuf};

use nix::sys::socket::{getsockname, getsockopt, sockopt, SockType, UnixAddr};
use serde::{Deserialize, Serialize};

use crate::error::{EngineError, Result};

/// The listening socket a service manager handed over.
#[derive(Debug)]
pub struct InheritedSocket {
    pub listener: UnixListener,
    /// Its filesystem path (`None` for an abstract or unnamed socket).
    pub path: Option<PathBuf>,
}

/// Take the socket passed by systemd (or `systemd-socket-activate`) when `LISTEN_PID` names this
/// process. The variables are removed either way so shims and containers never inherit them,
/// and the fds are made close-on-exec so the listener does not leak into children.
///
/// Must run before any thread exists (it edits the environment).
pub fn take_inherited_listener() -> Result<Option<InheritedSocket>> {
    // SAFETY: called at the start of `daemon::run`, before the async runtime, the shim copy or
    // any other thread exists, so nothing can read the environment concurrently.
    let fds = unsafe { sd_notify::listen_fds_and_unset_env() };
    std::env::remove_var("LISTEN_FDNAMES");
    let fds: Vec<_> = fds
        .map_err(|e| EngineError::invalid(format!("socket activation: {e}")))?
        .collect();
    let Some((&first, extra)) = fds.split_first() else {
        return Ok(None);
    };
    for &fd in extra {
        tracing::warn!(fd, "ignoring an extra socket passed by the service manager");
        // SAFETY: passed to this process and used by nothing else; closing it is ours to do.
        drop(unsafe { OwnedFd::from_raw_fd(fd) });
    }
    // SAFETY: fd 3 was passed to this process for it to own (sd_listen_fds(3)).
    let fd = unsafe { OwnedFd::from_raw_fd(first) };
    let path = check_listening_unix_stream(&fd)?;
    let listener = UnixListener::from(fd);
    listener.set_nonblocking(true).map_err(|e| {
        EngineError::internal(format!(
            "socket activation: making fd {first} non-blocking: {e}"
        ))
    })?;
    Ok(Some(InheritedSocket { listener, path }))
}

/// A `berth.socket` with `ListenDatagram=` or a TCP port would fail in confusing ways later.
fn check_listening_unix_stream(fd: &OwnedFd) -> Result<Option<PathBuf>> {
    let wrong = |why: String| {
        EngineError::invalid(format!(
            "socket activation: fd {} is not a listening unix stream socket ({why})",
            fd.as_raw_fd()
        ))
    };
    match getsockopt(fd, sockopt::SockType) {
        Ok(SockType::Stream) => {}
        Ok(other) => return Err(wrong(format!("type {other:?}"))),
        Err(e) => return Err(wrong(e.to_string())),
    }
    if !getsockopt(fd, sockopt::AcceptConn).map_err(|e| wrong(e.to_string()))? {
        return Err(wrong("not listening".into()));
    }
    let addr: UnixAddr = getsockname(fd.as_raw_fd()).map_err(|e| wrong(e.to_string()))?;
    Ok(addr.path().map(Path::to_path_buf))
}

/// Whether a service manager asked for readiness notifications.
pub fn notify_socket_set() -> bool {
    std::env::var_os("NOTIFY_SOCKET").is_some()
}

/// `READY=1`: the API answers from now on.
pub fn notify_ready(socket: &Path) {
    let status = format!("serving the Docker Engine API on {}", socket.display());
    notify(&[
        sd_notify::NotifyState::Ready,
        sd_notify::NotifyState::MainPid(std::process::id()),
        sd_notify::NotifyState::Status(&status),
    ]);
}

/// `STOPPING=1`: shutting down (containers keep running).
pub fn notify_stopping() {
    notify(&[
        sd_notify::NotifyState::Stopping,
        sd_notify::NotifyState::Status("stopping; containers keep running"),
    ]);
}

fn notify(states: &[sd_notify::NotifyState]) {
    if !notify_socket_set() {
        return;
    }
    if let Err(e) = sd_notify::notify(states) {
        tracing::warn!(error = %e, "cannot notify the service manager");
    }
}

/// True when systemd connected stderr to the journal: `JOURNAL_STREAM` is `DEV:INODE` of
/// stderr itself (not merely inherited from a parent whose stderr was the journal).
pub fn stderr_is_journal() -> bool {
    let Some((dev, ino)) = std::env::var("JOURNAL_STREAM")
        .ok()
        .and_then(|v| parse_journal_stream(&v))
    else {
        return false;
    };
    let stderr = std::io::stderr();
    nix::sys::stat::fstat(stderr.as_fd()).is_ok_and(|st| st.st_dev == dev && st.st_ino == ino)
}

fn parse_journal_stream(value: &str) -> Option<(u64, u64)> {
    let (dev, ino) = value.trim().split_once(':')?;
    Some((dev.parse().ok()?, ino.parse().ok()?))
}

/// How this engine process was started, as `GET /berth/v1/engine` reports it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "PascalCase")]
pub struct Launch {
    pub pid: u32,
    /// RFC 3339.
    pub started_at: String,
    /// The socket served (the inherited one when socket activated).
    pub socket: PathBuf,
    pub data_root: PathBuf,
    pub pid_file: PathBuf,
    /// The listening socket was passed in (`LISTEN_FDS`) rather than bound by the engine.
    pub socket_activated: bool,
    /// A service manager waits for `READY=1` (`NOTIFY_SOCKET` was set).
    pub notify: bool,
    /// The systemd unit whose cgroup holds the engine, e.g. `berth.service`.
    #[serde(default)]
    pub unit: Option<String>,
    /// The engine leads its own session: it was started in the background (berth's autostart
    /// calls setsid) rather than from a terminal or a supervisor.
    #[serde(default)]
    pub detached: bool,
}

impl Launch {
    pub fn of_this_process(
        socket: &Path,
        data_root: &Path,
        pid_file: &Path,
        socket_activated: bool,
    ) -> Launch {
        let pid = std::process::id();
        let detached = nix::unistd::getsid(None).is_ok_and(|sid| sid.as_raw() as u32 == pid);
        Launch {
            pid,
            started_at: crate::util::now_rfc3339(),
            socket: socket.to_path_buf(),
            data_root: data_root.to_path_buf(),
            pid_file: pid_file.to_path_buf(),
            socket_activated,
            notify: notify_socket_set(),
            unit: std::fs::read_to_string("/proc/self/cgroup")
                .ok()
                .and_then(|c| systemd_unit_of_cgroup(&c)),
            detached,
        }
    }
}

/// The systemd service unit in a `/proc/PID/cgroup` text: the innermost `*.service` component
/// of the v2 line (`0::`) or of the v1 `name=systemd` line. Session scopes are not services.
pub fn systemd_unit_of_cgroup(cgroup: &str) -> Option<String> {
    let path = cgroup
        .lines()
        .find_map(|l| l.strip_prefix("0::"))
        .filter(|p| *p != "/")
        .or_else(|| {
            cgroup
                .lines()
                .find_map(|l| l.split_once(":name=systemd:").map(|(_, p)| p))
        })?;
    path.split('/')
        .rev()
        .find(|c| c.ends_with(".service") && c.len() > ".service".len())
        .map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn journal_stream_is_dev_colon_inode() {
        assert_eq!(parse_journal_stream("8:12345"), Some((8, 12345)));
        assert_eq!(parse_journal_stream("8:12345\n"), Some((8, 12345)));
        assert_eq!(parse_journal_stream("8"), None);
        assert_eq!(parse_journal_stream("a:1"), None);
    }

    #[test]
    fn unit_from_cgroup_v2_and_v1() {
        assert_eq!(
            systemd_unit_of_cgroup("0::/system.slice/berth.service\n").as_deref(),
            Some("berth.service")
        );
        // Delegate=yes: the engine may sit in a sub-cgroup of its unit.
        assert_eq!(
            systemd_unit_of_cgroup("0::/system.slice/berth.service/engine\n").as_deref(),
            Some("berth.service")
        );
        assert_eq!(
            systemd_unit_of_cgroup(
                "12:memory:/x\n1:name=systemd:/system.slice/docker-ish.service\n0::/\n"
            )
            .as_deref(),
            Some("docker-ish.service")
        );
        assert_eq!(
            systemd_unit_of_cgroup("0::/user.slice/user-0.slice/session-4.scope\n"),
            None
        );
        assert_eq!(systemd_unit_of_cgroup("9:name=systemd:/\n0::/\n"), None);
    }

    #[test]
    fn launch_round_trips_through_json() {
        let l = Launch::of_this_process(
            Path::new("/s.sock"),
            Path::new("/root"),
            Path::new("/root/engine.pid"),
            true,
        );
        let json = serde_json::to_value(&l).unwrap();
        assert_eq!(json["Pid"], std::process::id());
        assert_eq!(json["SocketActivated"], true);
        let back: Launch = serde_json::from_value(json).unwrap();
        assert_eq!(back, l);
    }
}
