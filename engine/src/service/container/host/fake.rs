//! A recording fake of [`ContainerHost`] for unit tests (youki's `syscall/test.rs`): every call
//! is recorded, and the results are scripted. Its "shims" are channels: a signal is recorded and,
//! when the script says the process dies of it, answered with an `Exited` event; a test can also
//! make the process exit on its own.

use std::collections::{HashSet, VecDeque};
use std::path::Path;
use std::sync::{Arc, Mutex};

use futures_util::future::BoxFuture;
use tokio::sync::mpsc;

use crate::error::{EngineError, Result};
use crate::runtime::protocol::Frame;
use crate::runtime::selfexe::ShimExecutable;
use crate::runtime::shim_client::{ShimConnection, ShimEvent, ShimHandle};
use crate::runtime::spec::{CgroupSpec, ExitRecord, StartRecord};
use crate::runtime::strays::ShimProcess;
use crate::service::container::health::Probe;
use crate::service::container::{Container, ContainerService};
use crate::util::now_rfc3339;

use super::ContainerHost;

/// One host operation, as the fake saw it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Call {
    /// A shim was started for the container directory of this name.
    SpawnShim(String),
    ReconnectShim(String),
    /// A signal reached the container's main process.
    Signal(i32),
    Resize(u16, u16),
    Freeze(String),
    Thaw(String),
    Pids(String),
    /// New limits for the cgroup at `path` (the memory limit is what the tests look at).
    UpdateLimits {
        path: String,
        memory: Option<i64>,
    },
    Probe(Vec<String>),
    KillCgroup(String),
    KillShim(i32),
}

#[derive(Default)]
struct Script {
    calls: Vec<Call>,
    /// Signals the container's process dies of (exit code 128 + signal).
    fatal: HashSet<i32>,
    /// Errors the next shim starts fail with.
    start_failures: VecDeque<EngineError>,
    /// Results of the next probes; (0, "") once empty.
    probes: VecDeque<(i64, String)>,
    /// Event senders of the running fake shims, newest last.
    running: Vec<mpsc::UnboundedSender<ShimEvent>>,
    next_pid: i32,
    /// Container directories (by name) whose shim still runs: reconnecting finds it.
    live_shims: HashSet<String>,
    /// Shim processes the host lists.
    shim_processes: Vec<ShimProcess>,
}

/// See the module comment. Cheap to clone; clones share the script and the record.
#[derive(Clone, Default)]
pub(crate) struct FakeHost {
    script: Arc<Mutex<Script>>,
}

fn exited(exit_code: i32) -> ShimEvent {
    ShimEvent::Exited(ExitRecord {
        exit_code,
        oom_killed: false,
        finished_at: now_rfc3339(),
        error: None,
    })
}

impl FakeHost {
    /// A process that dies of SIGTERM and SIGKILL, as most do.
    pub(crate) fn new() -> FakeHost {
        let fake = FakeHost::default();
        fake.dies_of(&[libc::SIGTERM, libc::SIGKILL]);
        fake
    }

    fn script(&self) -> std::sync::MutexGuard<'_, Script> {
        self.script.lock().expect("fake host script")
    }

    /// From now on the container's process dies of exactly these signals.
    pub(crate) fn dies_of(&self, signals: &[i32]) {
        self.script().fatal = signals.iter().copied().collect();
    }

    /// The next shim start fails with `err`.
    pub(crate) fn fail_next_start(&self, err: EngineError) {
        self.script().start_failures.push_back(err);
    }

    /// A shim runs for the container directory `name` (one a killed engine left behind).
    pub(crate) fn shim_lives(&self, name: &str, pid: i32) {
        let mut s = self.script();
        s.live_shims.insert(name.to_owned());
        s.shim_processes.push(ShimProcess {
            pid,
            dir_name: name.to_owned(),
        });
    }

    /// The next probes exit with these codes.
    pub(crate) fn probe_results(&self, codes: &[i64]) {
        let mut s = self.script();
        s.probes
            .extend(codes.iter().map(|c| (*c, format!("exit {c}"))));
    }

    /// The newest container process exits on its own with `code`.
    pub(crate) fn exit(&self, code: i32) {
        if let Some(tx) = self.script().running.pop() {
            let _ = tx.send(exited(code));
        }
    }

    pub(crate) fn calls(&self) -> Vec<Call> {
        self.script().calls.clone()
    }

    /// The signals delivered so far, in order.
    pub(crate) fn signals(&self) -> Vec<i32> {
        self.calls()
            .into_iter()
            .filter_map(|c| match c {
                Call::Signal(s) => Some(s),
                _ => None,
            })
            .collect()
    }

    /// How many shims were started.
    pub(crate) fn starts(&self) -> usize {
        self.calls()
            .iter()
            .filter(|c| matches!(c, Call::SpawnShim(_)))
            .count()
    }

    fn record(&self, call: Call) {
        self.script().calls.push(call);
    }

    /// A connection to a fake shim whose process runs until a fatal signal or [`Self::exit`].
    fn connect(&self) -> ShimConnection {
        let (cmd_tx, mut cmd_rx) = mpsc::unbounded_channel::<Frame>();
        let (ev_tx, ev_rx) = mpsc::unbounded_channel();
        let pid = {
            let mut s = self.script();
            s.next_pid += 1;
            s.running.push(ev_tx.clone());
            1000 + s.next_pid
        };
        let fake = self.clone();
        tokio::spawn(async move {
            while let Some(frame) = cmd_rx.recv().await {
                match frame {
                    Frame::Signal(sig) => {
                        fake.record(Call::Signal(sig));
                        if fake.script().fatal.contains(&sig) {
                            let _ = ev_tx.send(exited(128 + sig));
                        }
                    }
                    Frame::Resize { rows, cols } => fake.record(Call::Resize(rows, cols)),
                    _ => {}
                }
            }
        });
        let started = StartRecord {
            pid,
            shim_pid: pid + 1,
            started_at: now_rfc3339(),
        };
        (ShimHandle::from_commands(cmd_tx), started, ev_rx)
    }
}

fn name_of(dir: &Path) -> String {
    dir.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

impl ContainerHost for FakeHost {
    fn spawn_shim<'a>(
        &'a self,
        _exe: &'a ShimExecutable,
        dir: &'a Path,
    ) -> BoxFuture<'a, Result<ShimConnection>> {
        self.record(Call::SpawnShim(name_of(dir)));
        let failure = self.script().start_failures.pop_front();
        Box::pin(async move {
            match failure {
                Some(err) => Err(err),
                None => Ok(self.connect()),
            }
        })
    }

    fn reconnect_shim<'a>(
        &'a self,
        dir: &'a Path,
    ) -> BoxFuture<'a, Result<Option<ShimConnection>>> {
        let name = name_of(dir);
        self.record(Call::ReconnectShim(name.clone()));
        let live = self.script().live_shims.contains(&name);
        Box::pin(async move { Ok(live.then(|| self.connect())) })
    }

    fn exit_record(&self, _dir: &Path) -> Option<ExitRecord> {
        None
    }

    fn set_frozen(&self, path: &str, frozen: bool) -> Result<()> {
        self.record(if frozen {
            Call::Freeze(path.into())
        } else {
            Call::Thaw(path.into())
        });
        Ok(())
    }

    fn cgroup_pids(&self, path: &str) -> Result<Vec<i32>> {
        self.record(Call::Pids(path.into()));
        Ok(Vec::new())
    }

    fn update_limits(&self, spec: &CgroupSpec) -> Result<()> {
        self.record(Call::UpdateLimits {
            path: spec.path.clone(),
            memory: spec.memory,
        });
        Ok(())
    }

    fn exec_probe<'a>(
        &'a self,
        _svc: &'a ContainerService,
        _c: &'a Container,
        probe: &'a Probe,
    ) -> BoxFuture<'a, Result<(i64, String)>> {
        self.record(Call::Probe(probe.argv.clone()));
        let result = self
            .script()
            .probes
            .pop_front()
            .unwrap_or((0, String::new()));
        Box::pin(async move { Ok(result) })
    }

    fn shim_processes(&self, _containers_dir: &Path) -> Vec<ShimProcess> {
        self.script().shim_processes.clone()
    }

    fn kill_cgroup(&self, path: &str) -> Result<usize> {
        self.record(Call::KillCgroup(path.into()));
        Ok(0)
    }

    fn kill_shim(&self, pid: i32) {
        let mut s = self.script();
        s.calls.push(Call::KillShim(pid));
        s.shim_processes.retain(|p| p.pid != pid);
    }
}
