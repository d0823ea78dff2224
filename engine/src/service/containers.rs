//! Container operations and the container state machine:
//! created → running → exited (→ running again on start/restart) → removed.
//!
//! Each container has a record (persisted on every state change), an operation lock that
//! serialises lifecycle operations, the handle of its shim while it runs, a `watch` channel of its
//! lifecycle (what `wait` listens to) and a broadcast of its output (what `attach` listens to).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use bytes::Bytes;
use tokio::sync::{broadcast, mpsc, watch};

use crate::error::{EngineError, Result};
use crate::model::container::{ContainerRecord, CreateRequest, Status};
use crate::runtime::cgroups::ContainerCgroup;
use crate::runtime::selfexe::ShimExecutable;
use crate::runtime::shim_client::{read_exit_record, ShimEvent, ShimHandle};
use crate::runtime::spec::{files, ExitRecord};
use crate::service::create;
use crate::service::events::{container_attributes, kind, EventBus};
use crate::service::image::ImageService;
use crate::service::{health, restart};
use crate::store::atomic::write_json_atomic;
use crate::store::containers::ContainerStore;
use crate::util::now_rfc3339;
use crate::util::signals;

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
    record: Mutex<ContainerRecord>,
    op: tokio::sync::Mutex<()>,
    shim: Mutex<Option<ShimHandle>>,
    life: watch::Sender<Life>,
    /// Created when the first client attaches and dropped once none is left: its ring of
    /// `OUTPUT_CAPACITY` slots is allocated up front (~64 KiB), too much to keep for every
    /// running container. Output sent while nobody listens is dropped either way.
    output: Mutex<Option<broadcast::Sender<Output>>>,
    /// Restart-policy back-off and cancellation (service::restart).
    restart: Mutex<restart::RestartState>,
    /// The running health monitor, if any (service::health).
    health: health::MonitorSlot,
}

/// Output chunks an attached client may fall behind by before it sees `Lagged`.
const OUTPUT_CAPACITY: usize = 1024;

impl Container {
    fn new(record: ContainerRecord) -> Arc<Self> {
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

    fn send_output(&self, chunk: Output) {
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

    fn update<F: FnOnce(&mut ContainerRecord)>(&self, f: F) -> ContainerRecord {
        let mut rec = self.record.lock().expect("record lock");
        f(&mut rec);
        rec.clone()
    }
}

#[derive(Default)]
struct Index {
    by_id: HashMap<String, Arc<Container>>,
    /// name (without '/') → id
    names: HashMap<String, String>,
}

pub struct Counts {
    pub total: usize,
    pub running: usize,
    pub paused: usize,
    pub stopped: usize,
}

pub struct ContainerService {
    data_root: PathBuf,
    store: ContainerStore,
    shim_exe: ShimExecutable,
    index: RwLock<Index>,
    loaded: watch::Sender<bool>,
    events: EventBus,
    /// Volumes and mounts (set once at engine start; see `service::mounts::MountHooks`).
    mount_hooks: std::sync::OnceLock<Arc<dyn crate::service::mounts::MountHooks>>,
    /// Bridge networking; set once at engine start (absent in unit tests of this service).
    networks: std::sync::OnceLock<Arc<crate::service::network::NetworkService>>,
}

impl ContainerService {
    /// Open the store without reading it: `load` fills the index, in the background at engine
    /// start, so the engine answers `/_ping` at once however many containers it has.
    pub fn open(data_root: &Path, shim_exe: ShimExecutable) -> Result<Arc<Self>> {
        Self::open_with_events(data_root, shim_exe, EventBus::new())
    }

    /// `open`, publishing container events on `events` (the engine shares one bus).
    pub fn open_with_events(
        data_root: &Path,
        shim_exe: ShimExecutable,
        events: EventBus,
    ) -> Result<Arc<Self>> {
        let store = ContainerStore::open(data_root)?;
        Ok(Arc::new(ContainerService {
            data_root: data_root.to_owned(),
            store,
            shim_exe,
            index: RwLock::new(Index::default()),
            loaded: watch::channel(false).0,
            events,
            mount_hooks: std::sync::OnceLock::new(),
            networks: std::sync::OnceLock::new(),
        }))
    }

    /// Install the volume service's hooks (once, at engine start).
    pub fn set_mount_hooks(&self, hooks: Arc<dyn crate::service::mounts::MountHooks>) {
        let _ = self.mount_hooks.set(hooks);
    }

    fn mount_hooks(&self) -> Option<&Arc<dyn crate::service::mounts::MountHooks>> {
        self.mount_hooks.get()
    }

    /// Hand the network service to the container lifecycle (engine start).
    pub fn set_networks(&self, networks: Arc<crate::service::network::NetworkService>) {
        let _ = self.networks.set(networks);
    }

    fn networks(&self) -> Option<&Arc<crate::service::network::NetworkService>> {
        self.networks.get()
    }

    pub fn events(&self) -> &EventBus {
        &self.events
    }

    /// Publish a container event (docker's LogContainerEventWithAttributes): the container's
    /// labels, image and name, plus `extra`.
    pub fn emit(&self, c: &Container, action: &str, extra: &[(&str, String)]) {
        let rec = c.record.lock().expect("record lock");
        let image = if rec.config.image.is_empty() {
            &rec.image
        } else {
            &rec.config.image
        };
        let attrs = container_attributes(&rec.config.labels, image, &rec.name, extra);
        drop(rec);
        self.events.publish(kind::CONTAINER, action, &c.id, attrs);
    }

    /// Read every container record (blocking; run it off the async threads).
    pub fn load(&self) {
        self.store.sweep_leftovers();
        let records = self.store.load_all();
        {
            let mut index = self.index.write().expect("index");
            for rec in records {
                index.names.insert(rec.name.clone(), rec.id.clone());
                index.by_id.insert(rec.id.clone(), Container::new(rec));
            }
        }
    }

    /// Resolves once `load` and `reconcile` have run; requests that read containers wait for it.
    pub async fn ready(&self) {
        let mut rx = self.loaded.subscribe();
        let _ = rx.wait_for(|loaded| *loaded).await;
    }

    /// The sealed copy of our binary that shims and exec helpers are started from.
    pub fn shim_executable(&self) -> &ShimExecutable {
        &self.shim_exe
    }

    pub fn data_root(&self) -> &Path {
        &self.data_root
    }

    pub fn dir(&self, id: &str) -> PathBuf {
        self.store.dir(id)
    }

    /// After `load`: reconnect to the shims of containers that were running, settle the state of
    /// those that exited meanwhile, remove exited AutoRemove containers, then open for requests.
    /// Runs in the background so the engine answers `/_ping` at once whatever the number of
    /// containers.
    pub async fn reconcile(self: &Arc<Self>) {
        self.reconnect_all().await;
        if let Some(nets) = self.networks().cloned() {
            let mut running = std::collections::BTreeSet::new();
            let mut existing = std::collections::BTreeSet::new();
            for c in self.list() {
                if matches!(
                    c.status(),
                    Status::Running | Status::Paused | Status::Restarting
                ) {
                    running.insert(c.id.clone());
                }
                existing.insert(c.id.clone());
            }
            let _ = tokio::task::spawn_blocking(move || nets.reconcile(&running, &existing)).await;
        }
        self.loaded.send_replace(true);
        restart::restart_at_engine_start(self).await;
    }

    async fn reconnect_all(self: &Arc<Self>) {
        let all: Vec<Arc<Container>> = self
            .index
            .read()
            .expect("index")
            .by_id
            .values()
            .cloned()
            .collect();
        // Concurrently: each reconnect is a socket round trip to one shim, and a restarted engine
        // with hundreds of running containers should be fully back in milliseconds.
        futures_util::future::join_all(all.into_iter().map(|c| self.reconnect_one(c))).await;
    }

    async fn reconnect_one(self: &Arc<Self>, c: Arc<Container>) {
        let status = c.status();
        if status == Status::Running || status == Status::Paused || status == Status::Restarting {
            let dir = self.dir(&c.id);
            match ShimHandle::reconnect(&dir).await {
                Ok(Some((handle, _started, events))) => {
                    tracing::info!(id = %c.id, "reconnected to running container");
                    *c.shim.lock().expect("shim lock") = Some(handle);
                    self.spawn_monitor(c.clone(), events);
                    health::start(self, &c);
                    return;
                }
                Ok(None) => {}
                Err(e) => tracing::warn!(id = %c.id, error = %e, "reconnect failed"),
            }
            let exit = read_exit_record(&dir).unwrap_or_else(|| ExitRecord {
                exit_code: 255,
                oom_killed: false,
                finished_at: now_rfc3339(),
                error: Some("container's shim disappeared while the engine was down".into()),
            });
            self.on_exit(&c, exit);
        } else if status == Status::Exited && c.record().host_config.auto_remove {
            let _ = self.remove_with_volumes(&c.id, true, true).await;
        }
    }

    pub fn counts(&self) -> Counts {
        let index = self.index.read().expect("index");
        let mut counts = Counts {
            total: index.by_id.len(),
            running: 0,
            paused: 0,
            stopped: 0,
        };
        for c in index.by_id.values() {
            match c.status() {
                Status::Running | Status::Restarting => counts.running += 1,
                Status::Paused => counts.paused += 1,
                _ => counts.stopped += 1,
            }
        }
        counts
    }

    /// (image id, container id, running) for every container: the image service refuses to delete
    /// images in use.
    pub fn image_usage(&self) -> Vec<(String, String, bool)> {
        self.list()
            .iter()
            .map(|c| {
                c.with_record(|rec| {
                    (
                        rec.image_id.clone(),
                        rec.id.clone(),
                        rec.state.status == Status::Running,
                    )
                })
            })
            .collect()
    }

    pub fn list(&self) -> Vec<Arc<Container>> {
        self.index
            .read()
            .expect("index")
            .by_id
            .values()
            .cloned()
            .collect()
    }

    /// Find by full id, name (with or without '/'), or unique id prefix, as docker does.
    pub fn get(&self, key: &str) -> Result<Arc<Container>> {
        let index = self.index.read().expect("index");
        if let Some(c) = index.by_id.get(key) {
            return Ok(c.clone());
        }
        let bare = key.strip_prefix('/').unwrap_or(key);
        if let Some(id) = index.names.get(bare) {
            if let Some(c) = index.by_id.get(id) {
                return Ok(c.clone());
            }
        }
        if !key.is_empty() && key.chars().all(|c| c.is_ascii_hexdigit()) {
            let mut found = index.by_id.iter().filter(|(id, _)| id.starts_with(key));
            if let Some((_, c)) = found.next() {
                if found.next().is_some() {
                    return Err(EngineError::invalid(format!(
                        "multiple IDs found with provided prefix: {key}"
                    )));
                }
                return Ok(c.clone());
            }
        }
        Err(EngineError::not_found(format!("No such container: {key}")))
    }

    pub async fn create(
        &self,
        images: &ImageService,
        name: Option<&str>,
        req: CreateRequest,
    ) -> Result<(String, Vec<String>)> {
        let image = images.resolve(&req.config.image)?;
        let id = crate::util::new_id();
        let name = match name.filter(|n| !n.is_empty()) {
            Some(n) => crate::service::names::validate(n)?,
            None => loop {
                let candidate = crate::service::names::generate();
                if !self
                    .index
                    .read()
                    .expect("index")
                    .names
                    .contains_key(&candidate)
                {
                    break candidate;
                }
            },
        };
        let net_plan = match self.networks() {
            Some(n) => n.plan_create(&req)?,
            None => None,
        };
        let (mut record, etc, warnings) =
            create::build_record(id.clone(), name.clone(), &image, req)?;
        // Reserve the name first so two creates cannot share it; the directory is written
        // without holding the index lock, and the container is listed once it is on disk.
        {
            let mut index = self.index.write().expect("index");
            if let Some(other) = index.names.get(&name) {
                return Err(EngineError::conflict(format!(
                    "Conflict. The container name \"/{name}\" is already in use by container \"{other}\". You have to remove (or rename) that container to be able to reuse that name."
                )));
            }
            index.names.insert(name.clone(), id.clone());
        }
        if let Some(hooks) = self.mount_hooks() {
            match hooks.resolve(&record, &image) {
                Ok(mounts) => record.mounts = mounts,
                Err(e) => {
                    self.index.write().expect("index").names.remove(&name);
                    return Err(e);
                }
            }
        }
        let written = self.store.create(&record, &etc);
        let mut index = self.index.write().expect("index");
        if let Err(e) = written {
            index.names.remove(&name);
            drop(index);
            if let Some(hooks) = self.mount_hooks() {
                hooks.after_remove(&record, true);
            }
            return Err(e);
        }
        if let (Some(plan), Some(nets)) = (net_plan, self.networks()) {
            if let Err(e) = nets.commit_create(plan, &record) {
                index.names.remove(&name);
                let _ = self.store.remove(&id);
                return Err(e);
            }
        }
        let c = Container::new(record);
        index.by_id.insert(id.clone(), c.clone());
        drop(index);
        self.emit(&c, "create", &[]);
        Ok((id, warnings))
    }

    pub async fn start(self: &Arc<Self>, key: &str) -> Result<()> {
        let c = self.get(key)?;
        let _op = c.op.lock().await;
        if matches!(c.status(), Status::Created | Status::Exited) {
            self.reset_restart_policy(&c);
        }
        self.start_locked(&c).await
    }

    /// A user's start or restart: policy restarts count from zero and are allowed again.
    fn reset_restart_policy(&self, c: &Arc<Container>) {
        restart::reset(c);
        c.update(|r| {
            r.restart_count = 0;
            r.has_been_manually_stopped = false;
        });
    }

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

    /// A start made by the restart policy: only if the container is still in state `expect`
    /// (a stop, kill or removal meanwhile wins). A failed start is not retried.
    pub(crate) async fn start_by_policy(
        self: &Arc<Self>,
        c: &Arc<Container>,
        expect: Status,
    ) -> Result<()> {
        let _op = c.op.lock().await;
        if c.life.borrow().removed || c.status() != expect {
            return Ok(());
        }
        c.update(|r| r.state.status = Status::Exited);
        restart::set_starting(c, true);
        let res = self.start_locked(c).await;
        restart::set_starting(c, false);
        res
    }

    async fn start_locked(self: &Arc<Self>, c: &Arc<Container>) -> Result<()> {
        let rec = c.record();
        match rec.state.status {
            Status::Running | Status::Restarting => {
                return Err(EngineError::NotModified("container already started".into()))
            }
            Status::Paused => {
                return Err(EngineError::conflict(
                    "cannot start a paused container, try unpause instead",
                ))
            }
            Status::Removing | Status::Dead => {
                return Err(EngineError::conflict(format!(
                    "container {} is marked for removal and cannot be started",
                    rec.id
                )))
            }
            Status::Created | Status::Exited => {}
        }
        let dir = self.dir(&rec.id);
        if let Some(hooks) = self.mount_hooks() {
            hooks.before_start(&rec)?;
        }
        let mut spec = create::runtime_spec(&self.data_root, &dir, &rec)?;
        if let Some(nets) = self.networks() {
            if let Some(ns) = nets.attach(&rec, &dir)? {
                spec.network = crate::runtime::spec::NetworkNamespace::Path(ns);
            }
        }
        if let Err(e) = write_json_atomic(&dir.join(files::BUNDLE), &spec) {
            if let Some(nets) = self.networks() {
                nets.release(&rec.id);
            }
            return Err(e);
        }
        let _ = std::fs::remove_file(dir.join(files::EXIT_RECORD));
        match ShimHandle::spawn(&self.shim_exe, &dir).await {
            Ok((handle, started, events)) => {
                let rec = c.update(|r| {
                    r.state.status = Status::Running;
                    r.state.pid = started.pid;
                    r.state.started_at = started.started_at.clone();
                    r.state.exit_code = 0;
                    r.state.error.clear();
                    r.state.oom_killed = false;
                });
                self.store.save(&rec)?;
                *c.shim.lock().expect("shim lock") = Some(handle);
                c.life.send_modify(|l| {
                    l.running = true;
                    l.error = None;
                });
                self.spawn_monitor(c.clone(), events);
                self.emit(c, "start", &[]);
                health::start(self, c);
                Ok(())
            }
            Err(err) => {
                let exit = read_exit_record(&dir).unwrap_or_else(|| ExitRecord {
                    exit_code: 128,
                    oom_killed: false,
                    finished_at: now_rfc3339(),
                    error: Some(err.to_string()),
                });
                let mut exit = exit;
                if exit.error.is_none() {
                    exit.error = Some(err.to_string());
                }
                // A container that failed to start is Exited with the error, as in docker, and an
                // AutoRemove one is removed (`docker run --rm` waits for that before it reports).
                self.on_exit(c, exit);
                Err(err)
            }
        }
    }

    fn spawn_monitor(
        self: &Arc<Self>,
        c: Arc<Container>,
        mut events: mpsc::UnboundedReceiver<ShimEvent>,
    ) {
        let svc = self.clone();
        tokio::spawn(async move {
            while let Some(ev) = events.recv().await {
                match ev {
                    ShimEvent::Stdout(b) => {
                        c.send_output(Output::Stdout(b));
                    }
                    ShimEvent::Stderr(b) => {
                        c.send_output(Output::Stderr(b));
                    }
                    ShimEvent::Exited(exit) => {
                        svc.on_exit(&c, exit);
                        return;
                    }
                }
            }
        });
    }

    fn record_exit(&self, c: &Arc<Container>, exit: &ExitRecord, restarting: bool) {
        let started_at = c.record().state.started_at;
        let rec = c.update(|r| {
            if restarting {
                // docker's SetRestarting: counted now, started again after the back-off.
                r.state.status = Status::Restarting;
                r.restart_count += 1;
            } else {
                r.state.status = Status::Exited;
            }
            r.state.pid = 0;
            r.state.exit_code = exit.exit_code;
            r.state.oom_killed = exit.oom_killed;
            r.state.finished_at = exit.finished_at.clone();
            r.state.error = exit.error.clone().unwrap_or_default();
        });
        if let Err(e) = self.store.save(&rec) {
            tracing::error!(id = %rec.id, error = %e, "could not persist exit state");
        }
        *c.shim.lock().expect("shim lock") = None;
        // Published before waiters wake, so `die` precedes the `stop` or `destroy` it unblocks.
        if exit.oom_killed {
            self.emit(c, "oom", &[]);
        }
        let duration = exec_duration(&started_at, &exit.finished_at);
        self.emit(
            c,
            "die",
            &[
                ("exitCode", exit.exit_code.to_string()),
                ("execDuration", duration.to_string()),
            ],
        );
        if let Some(hooks) = self.mount_hooks() {
            hooks.after_exit(&rec);
        }
        // Networking is released after `die` (docker's order: die, network disconnect) and
        // before waiters wake, so they find the namespace and the DNAT rules already gone.
        if let Some(nets) = self.networks() {
            nets.release(&c.id);
        }
        c.send_output(Output::End);
        c.life.send_modify(|l| {
            l.running = false;
            l.exits += 1;
            l.exit_code = exit.exit_code;
            l.error = exit.error.clone();
        });
    }

    fn on_exit(self: &Arc<Self>, c: &Arc<Container>, exit: ExitRecord) {
        tracing::debug!(id = %c.id, code = exit.exit_code, "container exited");
        health::stop(self, c);
        let restart_after = restart::decide(c, exit.exit_code, &exit.finished_at);
        self.record_exit(c, &exit, restart_after.is_some());
        if let Some(wait) = restart_after {
            restart::schedule(self.clone(), c.clone(), wait);
            return;
        }
        if c.record().host_config.auto_remove {
            let svc = self.clone();
            let id = c.id.clone();
            tokio::spawn(async move {
                if let Err(e) = svc.remove_with_volumes(&id, true, true).await {
                    tracing::warn!(%id, error = %e, "auto-remove failed");
                }
            });
        }
    }

    async fn wait_stopped(life: &mut watch::Receiver<Life>) {
        let _ = life.wait_for(|l| !l.running).await;
    }

    pub async fn stop(
        self: &Arc<Self>,
        key: &str,
        timeout: Option<i64>,
        signal: Option<&str>,
    ) -> Result<()> {
        let c = self.get(key)?;
        let _op = c.op.lock().await;
        self.stop_locked(&c, timeout, signal).await
    }

    async fn stop_locked(
        &self,
        c: &Arc<Container>,
        timeout: Option<i64>,
        signal: Option<&str>,
    ) -> Result<()> {
        let rec = c.record();
        if !matches!(
            rec.state.status,
            Status::Running | Status::Paused | Status::Restarting
        ) {
            return Err(EngineError::NotModified("container already stopped".into()));
        }
        // A stop through the API ends policy restarts (docker's HasBeenManuallyStopped).
        self.mark_manually_stopped(c, true);
        if self.settle_cancelled_restart(c) {
            self.emit(c, "stop", &[]);
            return Ok(());
        }
        let sig = match signal.or(rec.config.stop_signal.as_deref()) {
            Some(s) if !s.is_empty() => signals::parse(s)?,
            _ => libc::SIGTERM,
        };
        let secs = timeout.or(rec.config.stop_timeout).unwrap_or(10);
        let Some(shim) = c.shim() else {
            return Err(EngineError::internal(format!(
                "container {} has no running shim to stop",
                rec.id
            )));
        };
        let mut life = c.subscribe_life();
        // A frozen process cannot act on any signal, so a paused container is resumed first.
        self.thaw_if_paused(c).await;
        // Published before signalling so `kill` always precedes the `die` it causes.
        self.emit(c, "kill", &[("signal", sig.to_string())]);
        shim.signal(sig);
        let stopped = if secs < 0 {
            Self::wait_stopped(&mut life).await;
            true
        } else {
            tokio::time::timeout(
                Duration::from_secs(secs as u64),
                Self::wait_stopped(&mut life),
            )
            .await
            .is_ok()
        };
        if !stopped {
            tracing::info!(id = %rec.id, "stop timeout elapsed, killing");
            self.emit(c, "kill", &[("signal", libc::SIGKILL.to_string())]);
            shim.signal(libc::SIGKILL);
            Self::wait_stopped(&mut life).await;
        }
        self.emit(c, "stop", &[]);
        Ok(())
    }

    /// Record a stop or kill through the API; `cancel` also drops pending and future policy
    /// restarts.
    fn mark_manually_stopped(&self, c: &Arc<Container>, cancel: bool) {
        if cancel {
            restart::cancel(c);
        }
        self.modify(c, true, |r| r.has_been_manually_stopped = true);
    }

    pub async fn kill(&self, key: &str, signal: Option<&str>) -> Result<()> {
        let c = self.get(key)?;
        let sig = match signal {
            Some(s) if !s.is_empty() => signals::parse(s)?,
            _ => libc::SIGKILL,
        };
        let cancels = restart::signal_cancels(&c.record(), sig);
        if matches!(
            c.status(),
            Status::Running | Status::Paused | Status::Restarting
        ) {
            self.mark_manually_stopped(&c, cancels);
        }
        match (c.status(), c.shim()) {
            // Waiting for a policy restart: nothing to signal. SIGKILL or the stop signal end
            // the restart; another signal leaves it pending, as in docker.
            (Status::Restarting, None) => {
                if cancels {
                    self.settle_cancelled_restart(&c);
                }
                Ok(())
            }
            (Status::Running | Status::Paused | Status::Restarting, Some(shim)) => {
                // SIGKILL must take effect now: thaw a paused container so it can die. Other
                // signals stay pending until unpause, as in docker.
                if sig == libc::SIGKILL {
                    self.thaw_if_paused(&c).await;
                }
                self.emit(&c, "kill", &[("signal", sig.to_string())]);
                shim.signal(sig);
                if sig == libc::SIGKILL {
                    // docker's kill returns once a SIGKILL'd container is gone.
                    let mut life = c.subscribe_life();
                    let _ = tokio::time::timeout(
                        Duration::from_secs(10),
                        Self::wait_stopped(&mut life),
                    )
                    .await;
                }
                Ok(())
            }
            _ => Err(EngineError::conflict(format!(
                "Container {} is not running",
                c.id
            ))),
        }
    }

    /// Resize the container's terminal (`docker run -t` sends this after start and on SIGWINCH).
    pub fn resize(&self, key: &str, height: Option<i64>, width: Option<i64>) -> Result<()> {
        let c = self.get(key)?;
        let dim = |v: Option<i64>, name: &str| -> Result<u16> {
            v.filter(|n| (1..=i64::from(u16::MAX)).contains(n))
                .map(|n| n as u16)
                .ok_or_else(|| EngineError::invalid(format!("invalid value for {name}: {v:?}")))
        };
        let (rows, cols) = (dim(height, "h")?, dim(width, "w")?);
        match c.shim() {
            Some(shim) => {
                shim.resize(rows, cols);
                Ok(())
            }
            None => Err(EngineError::conflict(format!(
                "Container {} is not running",
                c.id
            ))),
        }
    }

    /// Freeze a running container's processes (`docker pause`).
    pub async fn pause(&self, key: &str) -> Result<()> {
        let c = self.get(key)?;
        let _op = c.op.lock().await;
        match c.status() {
            Status::Running if c.shim().is_some() => {}
            Status::Paused => {
                return Err(EngineError::conflict(format!(
                    "Container {} is already paused",
                    c.id
                )))
            }
            _ => {
                return Err(EngineError::conflict(format!(
                    "Container {} is not running",
                    c.id
                )))
            }
        }
        Self::set_frozen(&c.id, true).await?;
        let rec = c.update(|r| r.state.status = Status::Paused);
        self.store.save(&rec)?;
        self.emit(&c, "pause", &[]);
        Ok(())
    }

    /// Thaw a paused container (`docker unpause`).
    pub async fn unpause(&self, key: &str) -> Result<()> {
        let c = self.get(key)?;
        let _op = c.op.lock().await;
        if c.status() != Status::Paused {
            return Err(EngineError::conflict(format!(
                "Container {} is not paused",
                c.id
            )));
        }
        Self::set_frozen(&c.id, false).await?;
        let rec = c.update(|r| r.state.status = Status::Running);
        self.store.save(&rec)?;
        self.emit(&c, "unpause", &[]);
        Ok(())
    }

    /// Freeze or thaw the container's cgroup off the async runtime (the kernel is polled until
    /// it has settled).
    async fn set_frozen(id: &str, frozen: bool) -> Result<()> {
        let path = format!("berth/{id}");
        tokio::task::spawn_blocking(move || {
            let cg = ContainerCgroup::open(&path)?;
            if frozen {
                cg.freeze()
            } else {
                cg.thaw()
            }
        })
        .await
        .map_err(|e| EngineError::internal(format!("freezer task failed: {e}")))?
    }

    /// Before a stop, a SIGKILL or a forced removal: resume a paused container so its processes
    /// can handle the signal. A failure is logged; the signal is sent anyway.
    async fn thaw_if_paused(&self, c: &Arc<Container>) {
        if c.status() != Status::Paused {
            return;
        }
        match Self::set_frozen(&c.id, false).await {
            Ok(()) => {
                let rec = c.update(|r| {
                    if r.state.status == Status::Paused {
                        r.state.status = Status::Running;
                    }
                });
                if let Err(e) = self.store.save(&rec) {
                    tracing::warn!(id = %c.id, error = %e, "could not persist unpaused state");
                }
                self.emit(c, "unpause", &[]);
            }
            Err(e) => tracing::warn!(id = %c.id, error = %e, "could not thaw paused container"),
        }
    }

    /// Processes of a running container as `ps -ef` rows (`docker top`).
    pub async fn top(&self, key: &str) -> Result<crate::runtime::top::Top> {
        let c = self.get(key)?;
        if !matches!(c.status(), Status::Running | Status::Paused) || c.shim().is_none() {
            return Err(EngineError::conflict(format!(
                "Container {} is not running",
                c.id
            )));
        }
        let path = format!("berth/{}", c.id);
        tokio::task::spawn_blocking(move || {
            let pids = ContainerCgroup::open(&path)?.pids()?;
            Ok(crate::runtime::top::ps_ef(&pids))
        })
        .await
        .map_err(|e| EngineError::internal(format!("top task failed: {e}")))?
    }

    pub async fn restart(
        self: &Arc<Self>,
        key: &str,
        timeout: Option<i64>,
        signal: Option<&str>,
    ) -> Result<()> {
        let c = self.get(key)?;
        let _op = c.op.lock().await;
        match self.stop_locked(&c, timeout, signal).await {
            Ok(()) | Err(EngineError::NotModified(_)) => {}
            Err(e) => return Err(e),
        }
        self.reset_restart_policy(&c);
        self.start_locked(&c).await?;
        self.emit(&c, "restart", &[]);
        Ok(())
    }

    pub async fn remove(&self, key: &str, force: bool) -> Result<()> {
        self.remove_with_volumes(key, force, false).await
    }

    /// `DELETE /containers/{id}?v=`: with `volumes`, the container's anonymous volumes go too.
    pub async fn remove_with_volumes(&self, key: &str, force: bool, volumes: bool) -> Result<()> {
        let c = self.get(key)?;
        let _op = c.op.lock().await;
        if c.life.borrow().removed {
            return Ok(());
        }
        let status = c.status();
        if matches!(
            status,
            Status::Running | Status::Paused | Status::Restarting
        ) {
            if !force {
                return Err(EngineError::conflict(format!(
                    "You cannot remove a running container {}. Stop the container before attempting removal or force remove",
                    c.id
                )));
            }
            restart::cancel(&c);
            self.settle_cancelled_restart(&c);
            if let Some(shim) = c.shim() {
                let mut life = c.subscribe_life();
                self.thaw_if_paused(&c).await;
                self.emit(&c, "kill", &[("signal", libc::SIGKILL.to_string())]);
                shim.signal(libc::SIGKILL);
                if tokio::time::timeout(Duration::from_secs(15), Self::wait_stopped(&mut life))
                    .await
                    .is_err()
                {
                    return Err(EngineError::internal(format!(
                        "could not kill container {}: it did not exit",
                        c.id
                    )));
                }
            }
        }
        let name = c.record().name;
        self.store.remove(&c.id)?;
        if let Some(nets) = self.networks() {
            nets.forget(&c.id);
        }
        {
            let mut index = self.index.write().expect("index");
            index.by_id.remove(&c.id);
            if index.names.get(&name) == Some(&c.id) {
                index.names.remove(&name);
            }
        }
        self.emit(&c, "destroy", &[]);
        if let Some(hooks) = self.mount_hooks() {
            hooks.after_remove(&c.record(), volumes);
        }
        c.life.send_modify(|l| l.removed = true);
        Ok(())
    }

    pub fn rename(&self, key: &str, new_name: &str) -> Result<()> {
        let new_name = crate::service::names::validate(new_name)?;
        let c = self.get(key)?;
        let mut index = self.index.write().expect("index");
        let old = c.record().name;
        if old == new_name {
            return Err(EngineError::invalid(
                "Renaming a container with the same name as its current name",
            ));
        }
        if let Some(other) = index.names.get(&new_name) {
            return Err(EngineError::conflict(format!(
                "Conflict. The container name \"/{new_name}\" is already in use by container \"{other}\". You have to remove (or rename) that container to be able to reuse that name."
            )));
        }
        let rec = c.update(|r| r.name = new_name.clone());
        if let Err(e) = self.store.save(&rec) {
            c.update(|r| r.name = old);
            return Err(e);
        }
        index.names.remove(&old);
        index.names.insert(new_name.clone(), c.id.clone());
        if let Some(nets) = self.networks() {
            nets.renamed(&c.id, &new_name);
        }
        drop(index);
        // docker reports the old name with its leading '/'.
        self.emit(&c, "rename", &[("oldName", format!("/{old}"))]);
        Ok(())
    }

    /// Wait for a condition: "not-running" (default), "next-exit" or "removed". Registers at call
    /// time and returns a receiver that yields (exit code, error) once.
    pub fn wait(
        &self,
        key: &str,
        condition: &str,
    ) -> Result<tokio::sync::oneshot::Receiver<(i32, Option<String>)>> {
        let c = self.get(key)?;
        let mut life = c.subscribe_life();
        let snapshot = life.borrow().clone();
        let (tx, rx) = tokio::sync::oneshot::channel();
        match condition {
            "" | "not-running" => {
                if !snapshot.running {
                    let _ = tx.send((snapshot.exit_code, snapshot.error));
                    return Ok(rx);
                }
                tokio::spawn(async move {
                    if let Ok(l) = life.wait_for(|l| !l.running).await {
                        let _ = tx.send((l.exit_code, l.error.clone()));
                    }
                });
            }
            "next-exit" => {
                let seen = snapshot.exits;
                tokio::spawn(async move {
                    if let Ok(l) = life.wait_for(|l| l.exits > seen || l.removed).await {
                        let _ = tx.send((l.exit_code, l.error.clone()));
                    }
                });
            }
            "removed" => {
                tokio::spawn(async move {
                    if let Ok(l) = life.wait_for(|l| l.removed).await {
                        // dockerd answers a removal with `"Error": null` even after a failed
                        // start: with an error here, `docker run --rm` of a missing command
                        // logs a second "Error waiting for container" line.
                        let _ = tx.send((l.exit_code, None));
                    }
                });
            }
            other => {
                return Err(EngineError::invalid(format!(
                    "invalid condition: \"{other}\""
                )))
            }
        }
        Ok(rx)
    }

    /// Forward attach input to the container once it runs (input can arrive before `start`).
    pub async fn shim_when_running(c: &Arc<Container>) -> Option<ShimHandle> {
        let mut life = c.subscribe_life();
        loop {
            if let Some(shim) = c.shim() {
                return Some(shim);
            }
            if life.borrow().removed {
                return None;
            }
            if life.changed().await.is_err() {
                return None;
            }
        }
    }

    /// Change a container's record and persist it (`docker update`).
    pub fn update_record<F: FnOnce(&mut ContainerRecord)>(
        &self,
        c: &Arc<Container>,
        f: F,
    ) -> Result<ContainerRecord> {
        let rec = c.update(f);
        self.store.save(&rec)?;
        Ok(rec)
    }

    pub fn log_path(&self, id: &str) -> PathBuf {
        self.dir(id).join(files::CONTAINER_LOG)
    }
}

/// Whole seconds between two RFC 3339 times (docker's `execDuration` on `die`); 0 when either
/// is missing or the container never started.
fn exec_duration(started_at: &str, finished_at: &str) -> i64 {
    let parse = |t: &str| chrono::DateTime::parse_from_rfc3339(t).ok();
    match (parse(started_at), parse(finished_at)) {
        (Some(s), Some(f)) if s.timestamp() > 0 => (f - s).num_seconds().max(0),
        _ => 0,
    }
}
