//! The host operations the container lifecycle performs, behind one trait (youki's
//! `syscall/syscall.rs`): starting and reconnecting shims, the exit record a shim leaves, cgroup
//! freeze/thaw, processes and limits, and health probes. Signals and resizes go to the container
//! through the `ShimHandle` a shim connection returns.
//!
//! [`RuntimeHost`] delegates to the runtime code; the state machines of this module are unit
//! tested against the recording fake in `host/fake.rs` (youki's `syscall/test.rs`).

use std::path::Path;

use futures_util::future::BoxFuture;

use crate::error::{EngineError, Result};
use crate::runtime::cgroups::ContainerCgroup;
use crate::runtime::selfexe::ShimExecutable;
use crate::runtime::shim_client::{read_exit_record, ShimConnection, ShimHandle};
use crate::runtime::spec::{CgroupSpec, ExitRecord};
use crate::runtime::strays::{self, ShimProcess};

use super::health::Probe;
use super::{Container, ContainerService};

#[cfg(test)]
pub(crate) mod fake;

/// What the container lifecycle asks of the host. The cgroup calls block (the kernel is polled
/// until a freeze has settled); callers run them off the async threads.
pub trait ContainerHost: Send + Sync {
    /// Exec the shim for the `bundle.json` in `dir` and wait until the container's process
    /// runs (`ShimHandle::spawn`).
    fn spawn_shim<'a>(
        &'a self,
        exe: &'a ShimExecutable,
        dir: &'a Path,
    ) -> BoxFuture<'a, Result<ShimConnection>>;

    /// Reconnect to the shim of a container that ran when the engine stopped; None when no
    /// shim answers (`ShimHandle::reconnect`).
    fn reconnect_shim<'a>(&'a self, dir: &'a Path)
        -> BoxFuture<'a, Result<Option<ShimConnection>>>;

    /// The exit record a shim left in `dir`, if any.
    fn exit_record(&self, dir: &Path) -> Option<ExitRecord>;

    /// Freeze (`true`) or thaw the cgroup at `path` (blocking).
    fn set_frozen(&self, path: &str, frozen: bool) -> Result<()>;

    /// Host pids of the processes in the cgroup at `path` (blocking).
    fn cgroup_pids(&self, path: &str) -> Result<Vec<i32>>;

    /// Write the limits `spec` sets to its live cgroup (blocking).
    fn update_limits(&self, spec: &CgroupSpec) -> Result<()>;

    /// Run one health probe in the running container: (exit code, output).
    fn exec_probe<'a>(
        &'a self,
        svc: &'a ContainerService,
        c: &'a Container,
        probe: &'a Probe,
    ) -> BoxFuture<'a, Result<(i64, String)>>;

    /// The live shims of containers under `containers_dir` (blocking).
    fn shim_processes(&self, containers_dir: &Path) -> Vec<ShimProcess>;

    /// Kill every process of the cgroup at `path` and remove it (blocking); how many there were.
    fn kill_cgroup(&self, path: &str) -> Result<usize>;

    /// SIGKILL a shim process and wait for it to go (blocking).
    fn kill_shim(&self, pid: i32);
}

/// The real host: shims, cgroupfs and the exec helper.
pub struct RuntimeHost;

impl ContainerHost for RuntimeHost {
    fn spawn_shim<'a>(
        &'a self,
        exe: &'a ShimExecutable,
        dir: &'a Path,
    ) -> BoxFuture<'a, Result<ShimConnection>> {
        Box::pin(ShimHandle::spawn(exe, dir))
    }

    fn reconnect_shim<'a>(
        &'a self,
        dir: &'a Path,
    ) -> BoxFuture<'a, Result<Option<ShimConnection>>> {
        Box::pin(ShimHandle::reconnect(dir))
    }

    fn exit_record(&self, dir: &Path) -> Option<ExitRecord> {
        read_exit_record(dir)
    }

    fn set_frozen(&self, path: &str, frozen: bool) -> Result<()> {
        let cg = ContainerCgroup::open(path)?;
        if frozen {
            cg.freeze()
        } else {
            cg.thaw()
        }
    }

    fn cgroup_pids(&self, path: &str) -> Result<Vec<i32>> {
        ContainerCgroup::open(path)?.pids()
    }

    fn update_limits(&self, spec: &CgroupSpec) -> Result<()> {
        ContainerCgroup::open(&spec.path)?.update_limits(spec)
    }

    fn exec_probe<'a>(
        &'a self,
        svc: &'a ContainerService,
        c: &'a Container,
        probe: &'a Probe,
    ) -> BoxFuture<'a, Result<(i64, String)>> {
        Box::pin(super::health::exec_probe::exec_probe(svc, c, probe))
    }

    fn shim_processes(&self, containers_dir: &Path) -> Vec<ShimProcess> {
        strays::shim_processes(containers_dir)
    }

    fn kill_cgroup(&self, path: &str) -> Result<usize> {
        strays::kill_cgroup(path)
    }

    fn kill_shim(&self, pid: i32) {
        strays::kill_shim(pid)
    }
}

impl ContainerService {
    /// Run a blocking host call off the async threads; `what` names it in a join error.
    pub(super) async fn host_blocking<T: Send + 'static>(
        &self,
        what: &str,
        f: impl FnOnce(&dyn ContainerHost) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let host = self.host.clone();
        tokio::task::spawn_blocking(move || f(host.as_ref()))
            .await
            .map_err(|e| EngineError::internal(format!("{what} task failed: {e}")))?
    }
}
