//! docker's `PidMode`, `IpcMode` and `UTSMode`: which PID, IPC and UTS namespaces a container
//! runs in. Checked at create (a `container:` target must exist and is stored by id; a hostname
//! with `--uts host` is refused), resolved at start into the runtime spec's `Namespaces` (the
//! target must run; an IPC donor must be `shareable` or `host`), with dockerd 20.10's words and
//! statuses. The `container:` prefix and the name→id resolution are `shared_net`'s.

use std::path::PathBuf;

use crate::error::{EngineError, Result};
use crate::model::container::{ContainerConfig, ContainerRecord, HostConfig, Status};
use crate::runtime::spec::{Namespaces, SharedNamespace};

use super::shared_net::target;
use super::ContainerService;

const PID_MODE: &str = "PidMode";
const IPC_MODE: &str = "IpcMode";
const UTS_MODE: &str = "UTSMode";

fn mode<'a>(host: &'a HostConfig, key: &str) -> &'a str {
    host.extra.get(key).and_then(|v| v.as_str()).unwrap_or("")
}

/// The containers whose namespaces `host` joins (`PidMode`, `IpcMode` `container:` targets).
pub fn targets(host: &HostConfig) -> impl Iterator<Item = &str> {
    [PID_MODE, IPC_MODE]
        .into_iter()
        .filter_map(|k| target(mode(host, k)))
}

/// docker's create-time checks: `--uts host` cannot be given a hostname (400, dockerd's words).
pub fn validate(config: &ContainerConfig, host: &HostConfig) -> Result<()> {
    if mode(host, UTS_MODE) == "host" && !config.hostname.is_empty() {
        return Err(EngineError::invalid(
            "conflicting options: hostname and the UTS mode",
        ));
    }
    Ok(())
}

/// The container a `container:` mode names, if it is running (dockerd's `checkContainer`).
fn running(rec: &ContainerRecord) -> Result<()> {
    match rec.state.status {
        Status::Running | Status::Paused if rec.state.pid > 0 => Ok(()),
        Status::Restarting => Err(EngineError::internal(format!(
            "Container {} is restarting, wait until the container is running",
            rec.id
        ))),
        _ => Err(EngineError::internal(format!(
            "container {} is not running",
            rec.id
        ))),
    }
}

fn ns_path(rec: &ContainerRecord, kind: &str) -> SharedNamespace {
    // The target's init holds the namespace, its own or one it joined itself.
    SharedNamespace::Path(PathBuf::from(format!("/proc/{}/ns/{kind}", rec.state.pid)))
}

impl ContainerService {
    /// At create: `container:<name>` targets become `container:<id>`, as dockerd stores them;
    /// a target that does not exist is dockerd's 400 "No such container".
    pub(super) fn resolve_namespace_targets(&self, host: &mut HostConfig) -> Result<()> {
        for key in [PID_MODE, IPC_MODE] {
            let Some(name) = target(mode(host, key)).filter(|n| !n.is_empty()) else {
                continue;
            };
            let Some(resolved) = self.resolve_target(name) else {
                return Err(EngineError::invalid(format!("No such container: {name}")));
            };
            host.extra.insert(key.into(), resolved.into());
        }
        Ok(())
    }

    /// At start: the namespaces the container runs in. Errors are dockerd's (500s).
    pub(super) fn namespaces(&self, host: &HostConfig) -> Result<Namespaces> {
        let pid = match mode(host, PID_MODE) {
            "host" => SharedNamespace::Host,
            m => match target(m) {
                Some(key) => {
                    let joined = self.lookup(key).map_err(|e| {
                        EngineError::internal(format!(
                            "cannot join PID of a non running container: {key}: {e}"
                        ))
                    })?;
                    let rec = joined.record();
                    running(&rec)?;
                    ns_path(&rec, "pid")
                }
                // dockerd runs any other value as a private namespace.
                None => SharedNamespace::Private,
            },
        };
        let ipc_mode = mode(host, IPC_MODE);
        let (ipc, shm_from) = match ipc_mode {
            "" | "private" | "shareable" | "none" => (SharedNamespace::Private, None),
            "host" => (SharedNamespace::Host, None),
            m => match target(m) {
                Some(key) => self.ipc_donor(key)?,
                None => {
                    return Err(EngineError::internal(format!("Invalid IPC mode: {m}")));
                }
            },
        };
        Ok(Namespaces {
            pid,
            ipc,
            uts: match mode(host, UTS_MODE) {
                "host" => SharedNamespace::Host,
                _ => SharedNamespace::Private,
            },
            no_shm: ipc_mode == "none",
            shm_from,
        })
    }

    /// The container a `container:` mode names, or dockerd's reason why there is none.
    fn lookup(&self, key: &str) -> std::result::Result<std::sync::Arc<super::Container>, String> {
        if key.is_empty() {
            return Err("invalid name or ID supplied: \"\"".into());
        }
        self.get(key).map_err(|e| e.to_string())
    }

    /// dockerd's `getIPCContainer`: the donor must run and share its IPC (`shareable`, or the
    /// host's, which is then joined directly). A shareable donor's /dev/shm comes along: the
    /// namespace path to clone it from.
    fn ipc_donor(&self, key: &str) -> Result<(SharedNamespace, Option<PathBuf>)> {
        let prefix = |msg: String| {
            EngineError::internal(format!("can't join IPC of container {key}: {msg}"))
        };
        let donor = self.lookup(key).map_err(prefix)?;
        let rec = donor.record();
        running(&rec).map_err(|e| prefix(e.to_string()))?;
        match mode(&rec.host_config, IPC_MODE) {
            "shareable" => Ok((
                ns_path(&rec, "ipc"),
                Some(PathBuf::from(format!("/proc/{}/ns/mnt", rec.state.pid))),
            )),
            "host" => Ok((SharedNamespace::Host, None)),
            _ => Err(prefix(
                "non-shareable IPC (hint: use IpcMode:shareable for the donor container)".into(),
            )),
        }
    }
}
