//! The feed: the only part of the dashboard that talks to the engine. It connects (starting the
//! bundled engine when allowed), follows `GET /events` and re-reads exactly the lists an event
//! touches, runs API calls and streams the app asks for, and samples host usage. Everything it
//! learns goes to the app as a `Msg`; nothing here ever waits on the screen, and the screen
//! never waits on it.
//!
//! When the engine goes away the feed says so, retries every second, and on reconnecting
//! re-reads every list and reopens the GET streams that were open.

pub mod build;
pub mod host;
pub mod lines;
pub mod upload;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Result;
use http_body_util::BodyExt;
use serde_json::Value;
use tokio::sync::mpsc::{unbounded_channel, Sender, UnboundedReceiver, UnboundedSender};
use tokio::task::JoinHandle;

use super::msg::{ApiCall, BuildRequest, FeedRequest, Msg, StreamItem, StreamKey, StreamRequest};
use super::store::model::EngineInfo;
use crate::client::api::{containers, images, networks, volumes, Filters};
use crate::client::{autostart, empty, full, Client};
use berth_engine::model::build::BuildStatus;
use lines::LineSplitter;

const RETRY: Duration = Duration::from_secs(1);
/// Events arrive in bursts (a compose up is dozens); one list read answers a whole burst.
const DEBOUNCE: Duration = Duration::from_millis(60);
const HOST_EVERY: Duration = Duration::from_secs(2);
/// How often the builds list is read while a build runs (builds send no events until they tag).
const BUILDS_POLL: Duration = Duration::from_secs(2);
/// How far back the events view starts.
const EVENT_HISTORY_SECS: i64 = 15 * 60;

#[derive(Clone)]
pub struct FeedHandle {
    tx: UnboundedSender<FeedRequest>,
}

impl FeedHandle {
    pub fn send(&self, req: FeedRequest) {
        // The feed lives as long as the session; a send after it stopped changes nothing.
        let _ = self.tx.send(req);
    }
}

/// Which lists an event makes stale.
#[derive(Debug, Default, Clone, Copy, PartialEq)]
pub struct Stale {
    pub containers: bool,
    pub images: bool,
    pub volumes: bool,
    pub networks: bool,
    pub builds: bool,
}

impl Stale {
    pub const ALL: Stale = Stale {
        containers: true,
        images: true,
        volumes: true,
        networks: true,
        builds: true,
    };

    pub const BUILDS: Stale = Stale {
        containers: false,
        images: false,
        volumes: false,
        networks: false,
        builds: true,
    };

    pub fn any(&self) -> bool {
        self.containers || self.images || self.volumes || self.networks || self.builds
    }

    pub fn merge(&mut self, o: Stale) {
        self.containers |= o.containers;
        self.images |= o.images;
        self.volumes |= o.volumes;
        self.networks |= o.networks;
        self.builds |= o.builds;
    }

    pub fn from_event(ev: &Value) -> Stale {
        let action = ev["Action"]
            .as_str()
            .or(ev["status"].as_str())
            .unwrap_or("");
        let mut s = Stale::default();
        match ev["Type"].as_str().unwrap_or("") {
            "container" => {
                // Exec, attach and copy leave the list as it was.
                let quiet = action.starts_with("exec_")
                    || matches!(
                        action,
                        "attach"
                            | "detach"
                            | "resize"
                            | "top"
                            | "archive-path"
                            | "extract-to-dir"
                            | "export"
                            | "copy"
                    );
                s.containers = !quiet;
                // A commit makes an image; a destroy may free one for prune.
                s.images = action == "commit";
                s.volumes = action == "destroy" || action == "create";
            }
            "image" => {
                s.images = true;
                // A build tags its image (and a removed image changes what a record shows).
                s.builds = matches!(action, "tag" | "untag" | "delete");
            }
            "volume" => s.volumes = true,
            "network" => {
                s.networks = true;
                s.containers = matches!(action, "connect" | "disconnect");
            }
            _ => {}
        }
        s
    }
}

/// How many stream items (log lines, stats, progress) may wait for the app. A full queue makes
/// the stream pumps wait, which makes the engine wait: a container that logs faster than the
/// screen can take costs a bounded amount of memory, never an ever-growing queue.
pub const ITEM_QUEUE: usize = 4096;

/// Starts the feed. Control messages (connection, lists, answers) go to `msgs`; stream items
/// and stream ends, in order, to `items`, which is bounded (`ITEM_QUEUE`).
pub fn spawn(
    socket: PathBuf,
    autostart: bool,
    msgs: UnboundedSender<Msg>,
    items: Sender<Msg>,
) -> FeedHandle {
    let (tx, rx) = unbounded_channel();
    tokio::spawn(run(socket, autostart, rx, msgs.clone(), items));
    tokio::spawn(sample_host(msgs));
    FeedHandle { tx }
}

async fn sample_host(msgs: UnboundedSender<Msg>) {
    let mut sampler = host::HostSampler::default();
    let mut last = None;
    loop {
        if let Some(u) = sampler.sample() {
            // Only a visible change is worth a redraw.
            let key = ((u.cpu_percent * 10.0) as i64, u.mem_used >> 20);
            if last != Some(key) {
                last = Some(key);
                if msgs.send(Msg::Host(u)).is_err() {
                    return;
                }
            }
        }
        tokio::time::sleep(HOST_EVERY).await;
    }
}

struct Feed {
    socket: PathBuf,
    autostart: bool,
    msgs: UnboundedSender<Msg>,
    items: Sender<Msg>,
    /// GET streams to reopen after a reconnect.
    reopen: BTreeMap<StreamKey, StreamRequest>,
    running: BTreeMap<StreamKey, JoinHandle<()>>,
    /// `timeNano` of the newest event seen, so a reconnect replays only what was missed.
    last_event: Arc<AtomicI64>,
    /// Whether the last builds list had a running build (`None`: not read, or the engine keeps
    /// no build records): while it has, the list is polled.
    builds_running: Option<bool>,
    /// Builds this feed sent that have not ended: the list is polled while there are any (their
    /// record may not exist yet when the first poll reads the list).
    builds_sent: usize,
}

async fn run(
    socket: PathBuf,
    autostart: bool,
    mut reqs: UnboundedReceiver<FeedRequest>,
    msgs: UnboundedSender<Msg>,
    items: Sender<Msg>,
) {
    let mut feed = Feed {
        socket,
        autostart,
        msgs,
        items,
        reopen: BTreeMap::new(),
        running: BTreeMap::new(),
        last_event: Arc::new(AtomicI64::new(0)),
        builds_running: None,
        builds_sent: 0,
    };
    let mut last_error: Option<String> = None;
    loop {
        let client = match autostart::connect(&feed.socket, feed.autostart).await {
            Ok(c) => c,
            Err(e) => {
                let why = format!("{e:#}");
                if last_error.as_ref() != Some(&why) {
                    last_error = Some(why.clone());
                    if feed.msgs.send(Msg::Disconnected(why)).is_err() {
                        return;
                    }
                }
                // Keep serving requests while waiting, so nothing the user does hangs.
                let retry = tokio::time::sleep(RETRY);
                tokio::pin!(retry);
                loop {
                    tokio::select! {
                        _ = &mut retry => break,
                        r = reqs.recv() => match r {
                            None => return,
                            Some(r) => feed.offline(r),
                        },
                    }
                }
                continue;
            }
        };
        match feed.connected(client, &mut reqs).await {
            Ok(Some(reason)) => {
                let _ = feed.msgs.send(Msg::Disconnected(reason.clone()));
                last_error = Some(reason);
            }
            Ok(None) => return,
            Err(e) => {
                let reason = format!("{e:#}");
                let _ = feed.msgs.send(Msg::Disconnected(reason.clone()));
                last_error = Some(reason);
            }
        }
        feed.stop_streams("the engine connection was lost");
        if last_error.is_some() {
            // Give a restarting engine a moment before the first retry.
            tokio::time::sleep(RETRY / 4).await;
        }
    }
}

impl Feed {
    /// A request while there is no engine: calls fail at once, streams wait for the reconnect.
    fn offline(&mut self, r: FeedRequest) {
        match r {
            FeedRequest::Call(call) => {
                let _ = self.msgs.send(Msg::CallDone {
                    purpose: call.purpose,
                    result: Err("not connected to the engine".into()),
                });
            }
            FeedRequest::Open(req) if req.reopen => {
                self.reopen.insert(req.key.clone(), req);
            }
            FeedRequest::Open(req) => {
                let _ = self.msgs.send(Msg::StreamEnd {
                    key: req.key,
                    error: Some("not connected to the engine".into()),
                });
            }
            FeedRequest::Close(key) => {
                self.reopen.remove(&key);
            }
            FeedRequest::Build(req) => {
                let _ = self.msgs.send(Msg::StreamEnd {
                    key: req.key,
                    error: Some("not connected to the engine".into()),
                });
            }
            FeedRequest::Resync | FeedRequest::RefreshBuilds => {}
        }
    }

    fn stop_streams(&mut self, why: &str) {
        for (key, task) in std::mem::take(&mut self.running) {
            task.abort();
            if !self.reopen.contains_key(&key) {
                let _ = self.msgs.send(Msg::StreamEnd {
                    key,
                    error: Some(why.to_string()),
                });
            }
        }
    }

    /// Serves one connection. `Ok(None)`: the app is gone; `Ok(Some(reason))`: connection lost.
    async fn connected(
        &mut self,
        client: Client,
        reqs: &mut UnboundedReceiver<FeedRequest>,
    ) -> Result<Option<String>> {
        // Subscribe before listing, so no change falls between the list and the first event.
        // The first connection replays the last minutes (the events view starts with recent
        // history); a reconnect replays what happened while the engine was away.
        let last = self.last_event.load(Ordering::Relaxed);
        let since = if last > 0 {
            let next = last + 1;
            format!("{}.{:09}", next / 1_000_000_000, next % 1_000_000_000)
        } else {
            (chrono::Utc::now().timestamp() - EVENT_HISTORY_SECS).to_string()
        };
        let events = client.events(Some(&since), None, &Filters::none()).await?;
        let last_event = self.last_event.clone();
        let info = engine_info(&client).await?;
        if self.msgs.send(Msg::Connected(info)).is_err() {
            return Ok(None);
        }
        let (stale_tx, mut stale_rx) = unbounded_channel::<Stale>();
        let (lost_tx, mut lost_rx) = unbounded_channel::<String>();
        let ev_msgs = self.msgs.clone();
        let events_task = tokio::spawn(async move {
            let mut body = events.into_body();
            let mut split = LineSplitter::new(super::msg::Framing::JsonLines);
            let why = loop {
                match body.frame().await {
                    Some(Ok(frame)) => {
                        let Ok(data) = frame.into_data() else {
                            continue;
                        };
                        let items = match split.push(&data) {
                            Ok(items) => items,
                            Err(e) => break e,
                        };
                        for item in items {
                            if let StreamItem::Json(ev) = item {
                                if let Some(t) = ev["timeNano"].as_i64() {
                                    last_event.fetch_max(t, Ordering::Relaxed);
                                }
                                let _ = stale_tx.send(Stale::from_event(&ev));
                                let _ = ev_msgs.send(Msg::Event(ev));
                            }
                        }
                    }
                    Some(Err(e)) => break format!("the event stream broke: {e}"),
                    None => break "the engine closed the event stream".to_string(),
                }
            };
            let _ = lost_tx.send(why);
        });
        let _events_guard = AbortOnDrop(events_task);

        self.builds_running = refresh(&client, &self.msgs, Stale::ALL).await;
        for req in self.reopen.values().cloned().collect::<Vec<_>>() {
            self.open(&client, req);
        }
        // Builds started here report their end, which re-reads the list. (Those of a lost
        // connection were stopped with it.)
        self.builds_sent = 0;
        let (built_tx, mut built_rx) = unbounded_channel::<()>();
        let mut poll = tokio::time::interval(BUILDS_POLL);
        poll.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);

        loop {
            tokio::select! {
                r = reqs.recv() => match r {
                    None => return Ok(None),
                    Some(FeedRequest::Call(call)) => self.call(&client, call),
                    Some(FeedRequest::Open(req)) => {
                        if req.reopen {
                            self.reopen.insert(req.key.clone(), req.clone());
                        }
                        self.open(&client, req);
                    }
                    Some(FeedRequest::Close(key)) => {
                        self.reopen.remove(&key);
                        if let Some(t) = self.running.remove(&key) {
                            t.abort();
                        }
                    }
                    Some(FeedRequest::Resync) => {
                        self.builds_running = refresh(&client, &self.msgs, Stale::ALL).await;
                    }
                    Some(FeedRequest::RefreshBuilds) => {
                        self.builds_running = refresh(&client, &self.msgs, Stale::BUILDS).await;
                    }
                    Some(FeedRequest::Build(req)) => {
                        // Its record shows up as running: poll until it ends.
                        self.builds_sent += 1;
                        self.build(&client, req, built_tx.clone());
                    }
                },
                Some(first) = stale_rx.recv() => {
                    let mut stale = first;
                    tokio::time::sleep(DEBOUNCE).await;
                    while let Ok(more) = stale_rx.try_recv() {
                        stale.merge(more);
                    }
                    if stale.any() {
                        if let Some(running) = refresh(&client, &self.msgs, stale).await {
                            self.builds_running = Some(running);
                        }
                    }
                }
                Some(()) = built_rx.recv() => {
                    self.builds_sent = self.builds_sent.saturating_sub(1);
                    self.builds_running = refresh(&client, &self.msgs, Stale::BUILDS).await;
                }
                _ = poll.tick(), if self.poll_builds() => {
                    self.builds_running = refresh(&client, &self.msgs, Stale::BUILDS).await;
                }
                Some(why) = lost_rx.recv() => return Ok(Some(why)),
            }
            // Finished streams leave the table (their end was reported by the stream itself).
            self.running.retain(|_, t| !t.is_finished());
        }
    }

    fn call(&self, client: &Client, call: ApiCall) {
        let client = client.clone();
        let msgs = self.msgs.clone();
        tokio::spawn(async move {
            let result = client
                .call(call.method, &call.path, call.body.as_ref())
                .await
                .map_err(|e| error_text(&e));
            let _ = msgs.send(Msg::CallDone {
                purpose: call.purpose,
                result,
            });
        });
    }

    /// Whether to read the builds list on the poll's next tick: a build is running, or one
    /// sent from here has not ended, on an engine that keeps records (`None`: docker, whose
    /// 404 is not worth asking again every two seconds).
    fn poll_builds(&self) -> bool {
        poll_builds(self.builds_running, self.builds_sent)
    }

    /// Runs a build in the background, its progress on the task's stream (`build::run`); when
    /// it ends, `done` has the builds list read again.
    fn build(&mut self, client: &Client, req: BuildRequest, done: UnboundedSender<()>) {
        let client = client.clone();
        let items = self.items.clone();
        let key = req.key.clone();
        let task = tokio::spawn(async move {
            let error = build::run(&client, &req, &items)
                .await
                .err()
                .map(|e| error_text(&e));
            let _ = items
                .send(Msg::StreamEnd {
                    key: req.key,
                    error,
                })
                .await;
            let _ = done.send(());
        });
        self.running.insert(key, task);
    }

    fn open(&mut self, client: &Client, req: StreamRequest) {
        if let Some(old) = self.running.remove(&req.key) {
            old.abort();
        }
        let client = client.clone();
        let items = self.items.clone();
        let key = req.key.clone();
        let task = tokio::spawn(async move {
            let error = pump(&client, &req, &items)
                .await
                .err()
                .map(|e| error_text(&e));
            // Behind the stream's last item in the same queue: the end never overtakes it.
            let _ = items
                .send(Msg::StreamEnd {
                    key: req.key,
                    error,
                })
                .await;
        });
        self.running.insert(key, task);
    }
}

/// See `Feed::poll_builds`.
fn poll_builds(running: Option<bool>, sent: usize) -> bool {
    match running {
        Some(running) => running || sent > 0,
        None => false,
    }
}

struct AbortOnDrop(JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// The engine's own message for a refused request, without the CLI's "Error response from
/// daemon:" prefix (the status line has no room for it).
pub fn error_text(e: &anyhow::Error) -> String {
    match e.downcast_ref::<crate::client::DaemonError>() {
        Some(d) => d.message.clone(),
        None => format!("{e:#}"),
    }
}

async fn pump(client: &Client, req: &StreamRequest, items: &Sender<Msg>) -> Result<()> {
    let mut headers: Vec<(&str, &str)> = Vec::new();
    let body = match &req.body {
        Some(v) => {
            headers.push(("content-type", "application/json"));
            full(serde_json::to_vec(v)?)
        }
        None => empty(),
    };
    // Credentials as `docker pull`/`push` send them; a credential helper is a process, so the
    // lookup runs off the dashboard's thread.
    let auth = match &req.auth_for {
        Some(reference) => {
            let reference = reference.clone();
            tokio::task::spawn_blocking(move || {
                crate::client::credentials::registry_auth_header(&reference)
            })
            .await??
        }
        None => None,
    };
    if let Some(a) = &auth {
        headers.push(("X-Registry-Auth", a));
    }
    let (resp, upload) = match &req.upload {
        Some(file) => {
            let (resp, up) = upload::start(client, &req.key, &req.path, file, items).await?;
            (resp, Some(up))
        }
        None => (
            client
                .request(req.method.clone(), &req.path, body, &headers)
                .await?,
            None,
        ),
    };
    let mut body = resp.into_body();
    let mut split = LineSplitter::new(req.framing);
    while let Some(frame) = body.frame().await {
        let Ok(data) = frame?.into_data() else {
            continue;
        };
        for item in split.push(&data).map_err(anyhow::Error::msg)? {
            let msg = Msg::Stream {
                key: req.key.clone(),
                item,
            };
            if items.send(msg).await.is_err() {
                return Ok(());
            }
        }
    }
    for item in split.finish() {
        let msg = Msg::Stream {
            key: req.key.clone(),
            item,
        };
        let _ = items.send(msg).await;
    }
    if let Some(up) = upload {
        up.finish(items).await?;
    }
    Ok(())
}

async fn engine_info(client: &Client) -> Result<EngineInfo> {
    let version = client.version().await?;
    let info = client.info().await?;
    // berth says "berth"; Docker says "Docker Engine - Community" (or nothing, in distribution
    // builds, whose components still name the "Engine"); Podman names itself in its components.
    let component = version["Components"][0]["Name"].as_str().unwrap_or("");
    let name = match version["Platform"]["Name"]
        .as_str()
        .filter(|s| !s.is_empty())
    {
        Some(n) => n.to_string(),
        None if component == "Engine" => "Docker Engine".to_string(),
        None if !component.is_empty() => component.to_string(),
        None => "engine".to_string(),
    };
    Ok(EngineInfo {
        host: format!("unix://{}", client.socket().display()),
        name,
        version: version["Version"].as_str().unwrap_or("?").to_string(),
        api_version: client.api_version().to_string(),
        os: info["OperatingSystem"].as_str().unwrap_or("").to_string(),
        cpus: info["NCPU"].as_u64().unwrap_or(0),
        mem_total: info["MemTotal"].as_u64().unwrap_or(0),
    })
}

/// Re-reads the stale lists, concurrently. A failed read is reported on the event stream's
/// terms: if the engine is gone, the event stream ends and says so. Returns whether a build is
/// running, when the builds list was read.
async fn refresh(client: &Client, msgs: &UnboundedSender<Msg>, stale: Stale) -> Option<bool> {
    let containers = async {
        if stale.containers {
            let list = containers::list(true, None, false, &Filters::none());
            if let Ok(v) = client.send_as(list).await {
                let _ = msgs.send(Msg::Containers(v));
            }
        }
    };
    let images = async {
        if stale.images {
            if let Ok(v) = client.send_as(images::list(false, &Filters::none())).await {
                let _ = msgs.send(Msg::Images(v));
            }
        }
    };
    let volumes = async {
        if stale.volumes {
            if let Ok(v) = client
                .send_as::<Value>(volumes::list(&Filters::none()))
                .await
            {
                if let Ok(list) = serde_json::from_value(v["Volumes"].clone()) {
                    let _ = msgs.send(Msg::Volumes(Option::unwrap_or_default(list)));
                }
            }
        }
    };
    let networks = async {
        if stale.networks {
            if let Ok(v) = client.send_as(networks::list(&Filters::none())).await {
                let _ = msgs.send(Msg::Networks(v));
            }
        }
    };
    let builds = async {
        if !stale.builds {
            return None;
        }
        match client.build_list().await {
            Ok(list) => {
                let running = list.iter().any(|b| b.status == BuildStatus::Running);
                let _ = msgs.send(Msg::Builds(Ok(list)));
                Some(running)
            }
            Err(e) => {
                let _ = msgs.send(Msg::Builds(Err(builds_error(&e))));
                None
            }
        }
    };
    tokio::join!(containers, images, volumes, networks, builds).4
}

/// Why there are no build records: an engine without `/berth/v1/builds` (docker, an older
/// berth) says 404, which means it keeps none, not that something broke.
fn builds_error(e: &anyhow::Error) -> String {
    match e.downcast_ref::<crate::client::DaemonError>() {
        Some(d) if d.status == 404 => {
            "this engine keeps no build records (berth's engine does)".to_string()
        }
        _ => format!("reading the builds: {}", error_text(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn builds_are_polled_while_one_runs_or_one_sent_from_here_has_not_ended() {
        assert!(poll_builds(Some(true), 0));
        assert!(poll_builds(Some(false), 1));
        assert!(!poll_builds(Some(false), 0));
        // An engine that keeps no records (docker) is not asked again and again.
        assert!(!poll_builds(None, 1));
    }

    #[test]
    fn events_mark_only_what_they_touch() {
        let s = Stale::from_event(&json!({"Type": "container", "Action": "start"}));
        assert_eq!(
            s,
            Stale {
                containers: true,
                ..Default::default()
            }
        );
        let s = Stale::from_event(&json!({"Type": "container", "Action": "exec_start: sh"}));
        assert!(!s.any());
        let s = Stale::from_event(&json!({"Type": "network", "Action": "connect"}));
        assert!(s.networks && s.containers && !s.images);
        let s = Stale::from_event(&json!({"Type": "image", "Action": "pull"}));
        assert_eq!(
            s,
            Stale {
                images: true,
                ..Default::default()
            }
        );
        // A build tags its image: the builds list changes with it.
        let s = Stale::from_event(&json!({"Type": "image", "Action": "tag"}));
        assert!(s.images && s.builds && !s.containers);
        let mut all = Stale::default();
        all.merge(Stale::BUILDS);
        assert!(all.any() && all.builds && !all.images);
        let s = Stale::from_event(&json!({"Type": "volume", "Action": "create"}));
        assert_eq!(
            s,
            Stale {
                volumes: true,
                ..Default::default()
            }
        );
    }
}
