//! The state of one container: its record, operation lock, shim handle, lifecycle channel and
//! output broadcast, and the record changes the lifecycle makes (persisted or not).

use std::sync::{Arc, Mutex};

use bytes::Bytes;
use tokio::sync::{broadcast, watch};

use crate::model::container::{ContainerRecord, Status};
use crate::runtime::shim_client::ShimHandle;

use super::{health, restart, ContainerService};

/// Lifecycle as `wait` sees it.
#[derive(Debug, Clone, Default)]
pub struct Life {
    pub running: bool,
    /// How many times the container has exited (or failed to start); `next-exit` waits for this
    /// to grow.
    pub exits: u64,
    pub exit_code: i32,
    pub error: Option<String>,
    pub removed: bool,
}

/// Output chunks for attached clients; `End` when the process has exited and all output was sent.
#[derive(Debug, Clone)]
pub enum Output {
    Stdout(Bytes),
    Stderr(Bytes),
    End,
}

pub struct Container {
    pub id: String,
    pub(super) record: Mutex<ContainerRecord>,
    pub(super) op: tokio::sync::Mutex<()>,
    pub(super) shim: Mutex<Option<ShimHandle>>,
    pub(super) life: watch::Sender<Life>,
    /// Created when the first client attaches and dropped once none is left: its ring of
    /// `OUTPUT_CAPACITY` slots is allocated up front (~64 KiB), too much to keep for every
    /// running container. Output sent while nobody listens is dropped either way.
    pub(super) output: Mutex<Option<broadcast::Sender<Output>>>,
    /// Restart-policy back-off and cancellation (container::restart).
    pub(super) restart: Mutex<restart::RestartState>,
    /// The running health monitor, if any (container::health).
    pub(super) health: health::MonitorSlot,
}

/// Output chunks an attached client may fall behind by before it sees `Lagged`.
const OUTPUT_CAPACITY: usize = 1024;

impl Container {
    pub(super) fn new(record: ContainerRecord) -> Arc<Self> {
        let life = Life {
            running: matches!(record.state.status, Status::Running | Status::Paused),
            exit_code: record.state.exit_code,
            ..Life::default()
        };
        Arc::new(Container {
            id: record.id.clone(),
            record: Mutex::new(record),
            op: tokio::sync::Mutex::new(()),
            shim: Mutex::new(None),
            life: watch::channel(life).0,
            output: Mutex::new(None),
            restart: Mutex::new(restart::RestartState::default()),
            health: Mutex::new(None),
        })
    }

    pub fn record(&self) -> ContainerRecord {
        self.record.lock().expect("record lock").clone()
    }

    /// Look at the record without copying it (listing 200 containers: copies were most of the
    /// cost). `f` must not call back into this container.
    pub fn with_record<R>(&self, f: impl FnOnce(&ContainerRecord) -> R) -> R {
        f(&self.record.lock().expect("record lock"))
    }

    pub fn status(&self) -> Status {
        self.record.lock().expect("record lock").state.status
    }

    pub fn subscribe_output(&self) -> broadcast::Receiver<Output> {
        let mut output = self.output.lock().expect("output lock");
        output
            .get_or_insert_with(|| broadcast::channel(OUTPUT_CAPACITY).0)
            .subscribe()
    }

    pub(super) fn send_output(&self, chunk: Output) {
        let mut output = self.output.lock().expect("output lock");
        if let Some(tx) = output.as_ref() {
            if tx.receiver_count() == 0 {
                *output = None;
            } else {
                let _ = tx.send(chunk);
            }
        }
    }

    pub fn subscribe_life(&self) -> watch::Receiver<Life> {
        self.life.subscribe()
    }

    pub(crate) fn restart_state(&self) -> &Mutex<restart::RestartState> {
        &self.restart
    }

    pub(crate) fn health_monitor(&self) -> &health::MonitorSlot {
        &self.health
    }

    pub fn shim(&self) -> Option<ShimHandle> {
        self.shim.lock().expect("shim lock").clone()
    }

    /// Hold the lifecycle operation lock (no start/stop/remove meanwhile), e.g. while the
    /// engine writes into a stopped container's overlay.
    pub async fn lock_op(&self) -> tokio::sync::MutexGuard<'_, ()> {
        self.op.lock().await
    }

    pub(super) fn update<F: FnOnce(&mut ContainerRecord)>(&self, f: F) -> ContainerRecord {
        let mut rec = self.record.lock().expect("record lock");
        f(&mut rec);
        rec.clone()
    }
}

impl ContainerService {
    /// Change a record for the restart and health modules, optionally persisting it.
    pub(crate) fn modify(
        &self,
        c: &Container,
        persist: bool,
        f: impl FnOnce(&mut ContainerRecord),
    ) -> ContainerRecord {
        let rec = c.update(f);
        if persist {
            if let Err(e) = self.store.save(&rec) {
                tracing::warn!(id = %rec.id, error = %e, "could not persist container state");
            }
        }
        rec
    }

    /// A cancelled policy restart: `restarting` becomes `exited`. True when it was restarting.
    pub(crate) fn settle_cancelled_restart(&self, c: &Container) -> bool {
        let mut was = false;
        let rec = c.update(|r| {
            if r.state.status == Status::Restarting {
                r.state.status = Status::Exited;
                was = true;
            }
        });
        if was {
            if let Err(e) = self.store.save(&rec) {
                tracing::warn!(id = %rec.id, error = %e, "could not persist exited state");
            }
        }
        was
    }
}
