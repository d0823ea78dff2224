//! Engine side of the shim: spawn a shim for a container, or reconnect to a running one after an
//! engine restart, and talk to it over the protocol.
//!
//! STUB: interface only; the implementation lands with the shim.

use std::path::Path;

use bytes::Bytes;
use tokio::sync::mpsc;

use crate::error::{EngineError, Result};
use crate::runtime::selfexe::ShimExecutable;
use crate::runtime::spec::{ExitRecord, StartRecord};

/// What a shim reports about its container, in order. `Exited` is always the last event and is
/// delivered exactly once, also when the connection to the shim breaks (then from `exit.json`, or
/// with an error saying the shim died).
#[derive(Debug, Clone)]
pub enum ShimEvent {
    Stdout(Bytes),
    Stderr(Bytes),
    Exited(ExitRecord),
}

/// A live connection to one container's shim. Cheap to clone; commands are queued to a writer task.
#[derive(Debug, Clone)]
pub struct ShimHandle {}

pub type ShimConnection = (ShimHandle, StartRecord, mpsc::UnboundedReceiver<ShimEvent>);

impl ShimHandle {
    /// Exec the shim for the `bundle.json` already written in `container_dir` and wait until the
    /// container's process runs. A container that cannot start (exec failure, bad user, mount
    /// error) is an `Err` whose message says why; the shim has then written `exit.json`.
    pub async fn spawn(_exe: &ShimExecutable, _container_dir: &Path) -> Result<ShimConnection> {
        Err(EngineError::internal("shim not available"))
    }

    /// Reconnect to the shim of a container that was running when the engine stopped.
    /// `Ok(None)` when no shim answers (the container's exit, if any, is in `exit.json`).
    pub async fn reconnect(_container_dir: &Path) -> Result<Option<ShimConnection>> {
        Ok(None)
    }

    pub fn write_stdin(&self, _data: Bytes) {}
    /// Close the container's stdin (the attach client half-closed).
    pub fn close_stdin(&self) {}
    /// Deliver a signal to the container's main process if it still runs.
    pub fn signal(&self, _signal: i32) {}
    pub fn resize(&self, _rows: u16, _cols: u16) {}
}

/// Read `exit.json` from a container directory, if the shim wrote one.
pub fn read_exit_record(container_dir: &Path) -> Option<ExitRecord> {
    let data = std::fs::read(container_dir.join(crate::runtime::spec::files::EXIT_RECORD)).ok()?;
    serde_json::from_slice(&data).ok()
}
