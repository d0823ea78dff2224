//! What a killed engine can leave running on the host, found and ended: shim processes of this
//! engine (recognised by their argument, a directory under this data root) and the processes
//! left in a container's cgroup. The container service decides which of them belong to no
//! container it lists; this module only finds and kills.

use std::path::Path;
use std::time::{Duration, Instant};

use crate::error::Result;
use crate::runtime::cgroups::ContainerCgroup;
use crate::runtime::selfexe::SHIM_ARG;

/// A shim process and the name of the container directory it serves (an id, or a `.removing-`
/// / `.tmp-` leftover of one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShimProcess {
    pub pid: i32,
    pub dir_name: String,
}

impl ShimProcess {
    /// The container id in the directory name.
    pub fn container_id(&self) -> &str {
        self.dir_name
            .trim_start_matches(".removing-")
            .trim_start_matches(".tmp-")
    }
}

/// Every live shim whose container directory is directly under `containers_dir`.
pub fn shim_processes(containers_dir: &Path) -> Vec<ShimProcess> {
    let mut out = Vec::new();
    let Ok(procs) = std::fs::read_dir("/proc") else {
        return out;
    };
    for entry in procs.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<i32>().ok())
        else {
            continue;
        };
        let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) else {
            continue;
        };
        let mut args = cmdline.split(|b| *b == 0).map(String::from_utf8_lossy);
        let (Some(_exe), Some(arg), Some(dir)) = (args.next(), args.next(), args.next()) else {
            continue;
        };
        if arg != SHIM_ARG {
            continue;
        }
        let dir = Path::new(dir.as_ref());
        if dir.parent() == Some(containers_dir) {
            if let Some(name) = dir.file_name().and_then(|n| n.to_str()) {
                out.push(ShimProcess {
                    pid,
                    dir_name: name.to_owned(),
                });
            }
        }
    }
    out
}

/// SIGKILL every process of the cgroup at `path` (frozen first, so none forks meanwhile), wait
/// for them to be gone and remove the cgroup. Returns how many processes were killed; a cgroup
/// that does not exist is not an error.
pub fn kill_cgroup(path: &str) -> Result<usize> {
    let cg = ContainerCgroup::open(path)?;
    let killed = kill_all(&cg);
    cg.destroy()?;
    Ok(killed)
}

/// SIGKILL every process of `cg` (frozen first, so none forks meanwhile) and wait (up to a few
/// seconds) for them to be gone. Returns how many there were.
pub fn kill_all(cg: &ContainerCgroup) -> usize {
    let Ok(pids) = cg.pids() else {
        return 0;
    };
    if !pids.is_empty() {
        let _ = cg.freeze();
        for pid in &pids {
            // SAFETY: plain kill(2) of a pid read from the cgroup.
            unsafe { libc::kill(*pid, libc::SIGKILL) };
        }
        let _ = cg.thaw();
        let deadline = Instant::now() + Duration::from_secs(5);
        while cg.pids().is_ok_and(|p| !p.is_empty()) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
    }
    pids.len()
}

/// SIGKILL a shim and wait (up to a few seconds) for its process to be gone.
pub fn kill_shim(pid: i32) {
    // SAFETY: plain kill(2); the pid was just read as one of our shims.
    unsafe { libc::kill(pid, libc::SIGKILL) };
    let deadline = Instant::now() + Duration::from_secs(5);
    while Path::new(&format!("/proc/{pid}")).exists() && Instant::now() < deadline {
        // A zombie whose parent (a dead engine) is gone is reaped by init quickly.
        if std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| {
            s.rsplit(')')
                .next()
                .is_some_and(|r| r.trim_start().starts_with('Z'))
        }) {
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn container_id_of_leftover_dirs() {
        let p = |d: &str| ShimProcess {
            pid: 1,
            dir_name: d.into(),
        };
        assert_eq!(p("abc").container_id(), "abc");
        assert_eq!(p(".removing-abc").container_id(), "abc");
        assert_eq!(p(".tmp-abc").container_id(), "abc");
    }
}
