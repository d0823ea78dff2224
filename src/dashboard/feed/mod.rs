//! The feed: the only part of the dashboard that talks to the engine. It connects (starting the
//! bundled engine when allowed), follows `GET /events` and re-reads exactly the lists an event
//! touches, runs API calls and streams the app asks for, and samples host usage. Everything it
//! learns goes to the app as a `Msg`; nothing here ever waits on the screen, and the screen
//! never waits on it.
//!
//! When the engine goes away the feed says so, retries every second, and on reconnecting
//! re-reads every list and reopens the GET streams that were open.

pub mod build;
pub mod compose;
mod fetch;
pub mod host;
pub mod lines;
mod stale;
pub mod upload;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Result;
use http_body_util::BodyExt;
use tokio::sync::mpsc::{unbounded_channel, Sender, UnboundedReceiver, UnboundedSender};
use tokio::task::JoinHandle;

use super::msg::{ApiCall, BuildRequest, FeedRequest, Msg, StreamItem, StreamKey, StreamRequest};
use super::store::stacks::{StackLoad, StackRun};
use crate::client::api::Filters;
use crate::client::{autostart, Client};
use lines::LineSplitter;

pub use fetch::error_text;
use fetch::*;
pub use stale::Stale;

const RETRY: Duration = Duration::from_secs(1);
/// Events arrive in bursts (a compose up is dozens); one list read answers a whole burst.
const DEBOUNCE: Duration = Duration::from_millis(60);
const HOST_EVERY: Duration = Duration::from_secs(2);
/// How often the builds list is read while a build runs (builds send no events until they tag).
const BUILDS_POLL: Duration = Duration::from_secs(2);
/// How far back the events view starts.
const EVENT_HISTORY_SECS: i64 = 15 * 60;

/// How many stream items (log lines, stats, progress) may wait for the app. A full queue makes
/// the stream pumps wait, which makes the engine wait: a container that logs faster than the
/// screen can take costs a bounded amount of memory, never an ever-growing queue.
pub const ITEM_QUEUE: usize = 4096;

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
            // Reading a compose file needs no engine.
            FeedRequest::LoadStack(req) => self.load_stack(req),
            FeedRequest::Stack(req) => {
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
                    Some(FeedRequest::LoadStack(req)) => self.load_stack(req),
                    Some(FeedRequest::Stack(req)) => self.stack(&client, req),
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

    /// Reads a compose project off the async threads; the answer comes as a message.
    fn load_stack(&self, req: StackLoad) {
        let msgs = self.msgs.clone();
        tokio::spawn(async move {
            let _ = msgs.send(compose::load(req).await);
        });
    }

    /// Runs a compose verb in the background, its progress on the task's stream
    /// (`compose::run`), then the stream's end.
    fn stack(&mut self, client: &Client, req: StackRun) {
        let client = client.clone();
        let items = self.items.clone();
        let key = req.key.clone();
        let task = tokio::spawn(async move {
            let error = compose::run(&client, &req, &items)
                .await
                .err()
                .map(|e| error_text(&e));
            let _ = items
                .send(Msg::StreamEnd {
                    key: req.key,
                    error,
                })
                .await;
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

#[cfg(test)]
mod tests;
