//! A fake backend for router unit tests: a few named containers that are running or not, an
//! empty volume store, and a log of every backend call, so a test can check both the HTTP answer
//! and what reached (or did not reach) the engine. Calls no test needs panic.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::{Method, Request, StatusCode};
use serde_json::Value;
use tokio::sync::{mpsc, oneshot};

use super::{ContainerBackend, VolumeBackend};
use crate::api::response::{error_response, ApiResponse};
use crate::api::ApiRequest;
use crate::error::{EngineError, Result};
use crate::model::container::{ContainerRecord, ContainerSummary, CreateRequest};
use crate::model::volume::{VolumeCreateRequest, VolumeRecord};
use crate::runtime::shim_client::ShimHandle;
use crate::runtime::top::Top;
use crate::service::container::logs::LogOptions;
use crate::service::container::update::UpdateRequest;
use crate::service::container::Container;
use crate::service::volume::VolumeUsage;

#[derive(Default)]
pub struct FakeBackend {
    /// Container name → running.
    running: Mutex<HashMap<String, bool>>,
    calls: Mutex<Vec<String>>,
}

impl FakeBackend {
    /// A backend knowing the containers `(name, running)`.
    pub fn with_containers(containers: &[(&str, bool)]) -> Arc<Self> {
        let running = containers
            .iter()
            .map(|(name, running)| (name.to_string(), *running))
            .collect();
        Arc::new(FakeBackend {
            running: Mutex::new(running),
            calls: Mutex::default(),
        })
    }

    /// Every backend call so far, e.g. `["stop web"]`.
    pub fn calls(&self) -> Vec<String> {
        self.calls.lock().unwrap().clone()
    }

    fn record(&self, call: String) {
        self.calls.lock().unwrap().push(call);
    }

    /// Whether `key` is running: NotFound with docker's wording when there is no such container.
    fn is_running(&self, key: &str) -> Result<bool> {
        self.running
            .lock()
            .unwrap()
            .get(key)
            .copied()
            .ok_or_else(|| EngineError::not_found(format!("No such container: {key}")))
    }
}

/// The request a client would send: `uri` with its version prefix and query, `body` as given.
pub fn request<B>(backend: &Arc<B>, method: Method, uri: &str, body: &str) -> ApiRequest<B> {
    let req = Request::builder()
        .method(method)
        .uri(uri)
        .body(
            Full::new(Bytes::from(body.to_owned()))
                .map_err(|never| match never {})
                .boxed(),
        )
        .expect("test request");
    ApiRequest::new(backend.clone(), req).expect("routable test request")
}

/// What the client gets for a handler's result: the status and the JSON body (`Null` when
/// empty), errors turned into docker's `{"message"}` as the router does.
pub async fn answer(res: Result<ApiResponse>) -> (StatusCode, Value) {
    let resp = res.unwrap_or_else(|e| error_response(&e));
    let status = resp.status();
    let body = resp.into_body().collect().await.expect("body").to_bytes();
    let value = if body.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&body).expect("JSON body")
    };
    (status, value)
}

impl ContainerBackend for FakeBackend {
    fn container(&self, key: &str) -> Result<Arc<Container>> {
        unimplemented!("fake backend: container {key}")
    }

    fn containers(&self) -> Vec<Arc<Container>> {
        unimplemented!("fake backend: containers")
    }

    fn container_dir(&self, id: &str) -> PathBuf {
        unimplemented!("fake backend: container_dir {id}")
    }

    fn container_exec_ids(&self, id: &str) -> Vec<String> {
        unimplemented!("fake backend: container_exec_ids {id}")
    }

    fn container_network_inspect(&self, _rec: &ContainerRecord, _doc: &mut Value) {
        unimplemented!("fake backend: container_network_inspect")
    }

    fn container_network_summary(&self, _rec: &ContainerRecord, _s: &mut ContainerSummary) {
        unimplemented!("fake backend: container_network_summary")
    }

    fn container_link_names(&self) -> std::collections::HashMap<String, Vec<String>> {
        Default::default()
    }

    fn container_remove_link(&self, key: &str) -> Result<()> {
        unimplemented!("fake backend: container_remove_link {key}")
    }

    fn resolve_image_id(&self, reference: &str) -> Option<String> {
        unimplemented!("fake backend: resolve_image_id {reference}")
    }

    async fn container_create(
        &self,
        name: Option<&str>,
        req: CreateRequest,
    ) -> Result<(String, Vec<String>)> {
        let name = name.unwrap_or_default();
        self.record(format!("create {name} {}", req.config.image));
        self.running.lock().unwrap().insert(name.to_owned(), false);
        Ok((format!("id-of-{name}"), Vec::new()))
    }

    async fn container_start(&self, key: &str) -> Result<()> {
        unimplemented!("fake backend: start {key}")
    }

    async fn container_stop(
        &self,
        key: &str,
        timeout: Option<i64>,
        signal: Option<&str>,
    ) -> Result<()> {
        self.record(format!("stop {key} {timeout:?} {signal:?}"));
        if !self.is_running(key)? {
            return Err(EngineError::NotModified(format!(
                "container {key} is not running"
            )));
        }
        self.running.lock().unwrap().insert(key.to_owned(), false);
        Ok(())
    }

    async fn container_restart(
        &self,
        key: &str,
        _timeout: Option<i64>,
        _signal: Option<&str>,
    ) -> Result<()> {
        unimplemented!("fake backend: restart {key}")
    }

    async fn container_kill(&self, key: &str, signal: Option<&str>) -> Result<()> {
        self.record(format!("kill {key} {signal:?}"));
        if !self.is_running(key)? {
            return Err(EngineError::conflict(format!(
                "container {key} is not running"
            )));
        }
        Ok(())
    }

    async fn container_pause(&self, key: &str) -> Result<()> {
        unimplemented!("fake backend: pause {key}")
    }

    async fn container_unpause(&self, key: &str) -> Result<()> {
        unimplemented!("fake backend: unpause {key}")
    }

    async fn container_top(&self, key: &str) -> Result<Top> {
        unimplemented!("fake backend: top {key}")
    }

    fn container_rename(&self, key: &str, new_name: &str) -> Result<()> {
        unimplemented!("fake backend: rename {key} {new_name}")
    }

    fn container_resize(&self, key: &str, _height: Option<i64>, _width: Option<i64>) -> Result<()> {
        unimplemented!("fake backend: resize {key}")
    }

    fn container_wait(
        &self,
        key: &str,
        _condition: &str,
    ) -> Result<oneshot::Receiver<(i32, Option<String>)>> {
        unimplemented!("fake backend: wait {key}")
    }

    async fn container_remove(&self, key: &str, _force: bool, _volumes: bool) -> Result<()> {
        unimplemented!("fake backend: remove {key}")
    }

    async fn container_update(&self, key: &str, _req: UpdateRequest) -> Result<Vec<String>> {
        unimplemented!("fake backend: update {key}")
    }

    fn container_logs(&self, c: Arc<Container>, _opts: LogOptions) -> mpsc::Receiver<Bytes> {
        unimplemented!("fake backend: logs {}", c.id)
    }

    fn container_event(&self, c: &Container, action: &str) {
        unimplemented!("fake backend: event {} {action}", c.id)
    }

    async fn container_shim_when_running(&self, c: &Arc<Container>) -> Option<ShimHandle> {
        unimplemented!("fake backend: shim of {}", c.id)
    }

    async fn container_stats(&self, c: &Arc<Container>) -> Value {
        unimplemented!("fake backend: stats {}", c.id)
    }

    fn container_stats_stream(&self, c: Arc<Container>) -> mpsc::Receiver<Bytes> {
        unimplemented!("fake backend: stats stream {}", c.id)
    }
}

impl VolumeBackend for FakeBackend {
    fn volume(&self, name: &str) -> Result<VolumeRecord> {
        Err(EngineError::not_found(format!(
            "get {name}: no such volume"
        )))
    }

    fn volumes(&self) -> Vec<VolumeRecord> {
        Vec::new()
    }

    fn volumes_in_use(&self) -> HashSet<String> {
        HashSet::new()
    }

    fn volume_to_api(&self, rec: &VolumeRecord) -> Value {
        serde_json::json!({ "Name": rec.name, "Labels": rec.labels, "Options": rec.options })
    }

    fn volume_create(&self, req: VolumeCreateRequest) -> Result<VolumeRecord> {
        self.record(format!("volume create {}", req.name));
        Ok(VolumeRecord {
            name: req.name,
            driver: "local".into(),
            created_at: String::new(),
            labels: req.labels,
            options: req.driver_opts,
            anonymous: false,
        })
    }

    fn volume_remove(&self, name: &str, _force: bool) -> Result<()> {
        unimplemented!("fake backend: volume remove {name}")
    }

    fn volume_prune(
        &self,
        _all: bool,
        _keep: &dyn Fn(&VolumeRecord) -> bool,
    ) -> Result<(Vec<String>, u64)> {
        unimplemented!("fake backend: volume prune")
    }

    fn volume_usage(&self) -> Vec<VolumeUsage> {
        unimplemented!("fake backend: volume usage")
    }
}
