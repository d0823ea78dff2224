//! Unit tests of the container state machines against the recording fake host
//! (`host/fake.rs`): no shim, no cgroup, no root. Each test gets its own data root.

mod health;
mod pause;
mod recover;
mod restart;
mod stop_kill;

use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};

use crate::model::container::{ContainerRecord, CreateRequest, Status};
use crate::model::image::ResolvedImage;
use crate::runtime::selfexe::ShimExecutable;
use crate::service::events::EventBus;

use super::host::fake::FakeHost;
use super::ContainerService;

/// A container service on a fake host, in a temporary data root.
struct Fixture {
    svc: Arc<ContainerService>,
    host: FakeHost,
    _root: tempfile::TempDir,
}

impl Fixture {
    fn new() -> Fixture {
        let root = tempfile::tempdir().expect("temp dir");
        let host = FakeHost::new();
        // Never executed: the fake host starts no shim.
        let shim = root.path().join("shim");
        std::fs::write(&shim, b"").expect("shim file");
        let exe = ShimExecutable::from_file(&shim).expect("sealed shim copy");
        let svc = ContainerService::open_with_host(
            root.path(),
            exe,
            EventBus::new(),
            Arc::new(host.clone()),
        )
        .expect("container service");
        Fixture {
            svc,
            host,
            _root: root,
        }
    }

    /// The same data root opened by a new service on `host`, as an engine started after a kill
    /// finds it (records read, shims reconnected, strays reaped).
    async fn restart_engine(&self, host: &FakeHost) -> Arc<ContainerService> {
        let shim = self._root.path().join("shim");
        let exe = ShimExecutable::from_file(&shim).expect("sealed shim copy");
        let svc = ContainerService::open_with_host(
            self._root.path(),
            exe,
            EventBus::new(),
            Arc::new(host.clone()),
        )
        .expect("container service");
        svc.load();
        svc.reconcile().await;
        svc
    }

    /// `docker create` of `body` (a create request; Image and Cmd are filled in).
    fn create(&self, body: Value) -> String {
        let mut body = body;
        let obj = body.as_object_mut().expect("a JSON object");
        obj.entry("Image").or_insert(json!("img"));
        obj.entry("Cmd").or_insert(json!(["sleep", "60"]));
        let req: CreateRequest = serde_json::from_value(body).expect("create request");
        let image = ResolvedImage {
            id: format!("sha256:{}", "0".repeat(64)),
            config: Default::default(),
            layer_dirs: Vec::new(),
        };
        self.svc.create_from(&image, None, req).expect("create").0
    }

    /// `docker run -d`: create and start.
    async fn run(&self, body: Value) -> String {
        let id = self.create(body);
        self.svc.start(&id).await.expect("start");
        id
    }

    fn record(&self, id: &str) -> ContainerRecord {
        self.svc.get(id).expect("container").record()
    }

    fn status(&self, id: &str) -> Status {
        self.svc.get(id).expect("container").status()
    }

    /// The container events published so far, as docker names their actions.
    fn actions(&self) -> Vec<String> {
        self.svc
            .events()
            .past(None, None)
            .iter()
            .map(|e| e.action.clone())
            .collect()
    }

    /// Wait (up to 5 s) until the events published include `want`, in this order.
    async fn until_events(&self, want: &[&str]) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        loop {
            let actions = self.actions();
            let mut rest = actions.iter();
            if want.iter().all(|w| rest.any(|a| a == w)) {
                return;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "timed out waiting for events {want:?}: {actions:?}"
            );
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    }

    /// Wait (up to 5 s) until `f` holds of the container's record.
    async fn until(&self, id: &str, what: &str, f: impl Fn(&ContainerRecord) -> bool) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        loop {
            let rec = self.record(id);
            if f(&rec) {
                return;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "timed out waiting for {what}: {:?}",
                rec.state
            );
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    }
}
