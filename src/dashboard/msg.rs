//! What flows through the dashboard. `Msg` comes in (terminal input, engine data, file answers,
//! timers); `Effect` goes out (API calls and streams for the feed, and things only the session
//! can do: read the file system, hand the terminal to an exec, write the clipboard, quit).

use crossterm::event::Event;
use serde_json::Value;

use super::files::{FileAnswer, FileRequest};
use super::store::model::{Container, EngineInfo, HostUsage, Image, Network, Volume};
use berth_engine::model::build::BuildRecord;

/// Names one long-lived stream so its lines find their way back and it can be closed.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum StreamKey {
    /// `GET /containers/{id}/stats` (one JSON object per second).
    Stats(String),
    /// `GET /containers/{id}/logs?follow=1` for the logs view, with the view's generation: when
    /// the view reopens a stream (a new `since`), lines of the old one still in flight carry the
    /// old generation and are dropped instead of landing in the cleared buffer.
    Logs(String, u64),
    /// `GET /containers/{id}/logs?follow=1&tail=200` for the containers view's detail pane.
    DetailLogs(String),
    /// A background task's progress stream (pull, push, import, load), by task id.
    Task(u64),
}

/// How a stream's body is cut into lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    /// One JSON document per line (stats, pull/push progress).
    JsonLines,
    /// Docker's multiplexed stdout/stderr frames (logs of a non-TTY container).
    Multiplexed,
    /// Plain bytes cut at newlines (logs of a TTY container).
    Raw,
}

#[derive(Debug, Clone)]
pub struct StreamRequest {
    pub key: StreamKey,
    pub method: hyper::Method,
    pub path: String,
    pub body: Option<Value>,
    pub framing: Framing,
    /// Reopen it after a reconnect (GET streams); a POST that did work is not repeated.
    pub reopen: bool,
    /// An image reference whose registry credentials (docker's config and credential helpers)
    /// the feed sends as `X-Registry-Auth` (pull, push). The feed looks them up, because that
    /// is I/O (files, helper processes) that views must not do.
    pub auth_for: Option<String>,
    /// A local file the feed streams as the request body (import, load): read by the
    /// dashboard's process, since the engine may be elsewhere, and never held in memory whole.
    pub upload: Option<std::path::PathBuf>,
}

/// What an API call was for, so its answer goes to the right place.
#[derive(Debug, Clone, PartialEq)]
pub enum Purpose {
    /// A user action: the status line says it worked or shows the engine's message.
    Action { label: String },
    /// `GET …/json` of a container for the detail pane (env, ports, mounts, health, uptime).
    ContainerDetail { id: String },
    /// Pretty JSON for the inspect viewer.
    Inspect { title: String },
    /// `GET /containers/{id}/top` for the Top tab.
    Top { id: String },
    /// `GET /images/{id}/history`.
    History { id: String },
    /// `GET /system/df` (volume sizes).
    DiskUsage,
    /// A volume create or remove: reported like `Action`, then the sizes are asked again.
    VolumeChange { label: String },
    /// `POST /volumes/prune`: the status says how many went and the space reclaimed.
    VolumePrune,
    /// `POST /networks/prune`: the status names the networks removed.
    NetworkPrune,
    /// `POST /containers/create` from the run form; the form comes back with the engine's
    /// message when it fails.
    RunCreate {
        form: Box<super::dialogs::run_form::RunValues>,
    },
    /// `POST /containers/{id}/start` after a run form's create.
    RunStart {
        id: String,
        name: String,
        detach: bool,
    },
    /// `POST /images/prune` (the status line reports the space reclaimed).
    PruneImages,
    /// `GET /berth/v1/builds/{id}`: one build with its step logs, for the build detail.
    BuildDetail { id: String },
    /// `DELETE /berth/v1/builds/{id}`: reported like `Action`, then the list is read again.
    BuildRemove { id: String, label: String },
}

#[derive(Debug, Clone)]
pub struct ApiCall {
    pub method: hyper::Method,
    pub path: String,
    pub body: Option<Value>,
    pub purpose: Purpose,
}

/// One line of a stream.
#[derive(Debug, Clone, PartialEq)]
pub enum StreamItem {
    Json(Value),
    /// A text line; `stderr` for the error stream of a multiplexed body.
    Text {
        line: String,
        stderr: bool,
    },
}

#[derive(Debug)]
pub enum Msg {
    Input(Event),
    /// Connected (again): what the engine says about itself.
    Connected(EngineInfo),
    /// The engine stopped answering; the feed keeps retrying.
    Disconnected(String),
    Containers(Vec<Container>),
    Images(Vec<Image>),
    Volumes(Vec<Volume>),
    Networks(Vec<Network>),
    /// `GET /berth/v1/builds`, or why the engine keeps none (docker has no such endpoint).
    Builds(Result<Vec<BuildRecord>, String>),
    /// One `GET /events` message.
    Event(Value),
    Host(HostUsage),
    CallDone {
        purpose: Purpose,
        result: Result<Option<Value>, String>,
    },
    Stream {
        key: StreamKey,
        item: StreamItem,
    },
    /// A stream ended: `None` when the engine closed it normally.
    StreamEnd {
        key: StreamKey,
        error: Option<String>,
    },
    /// The answer to an `Effect::Files` request, for the dialog that asked.
    Files(FileAnswer),
    /// The one-second clock (uptimes, spinners).
    Tick,
    /// A compose file read for the Stacks view (by `StackLoad::key`): the project or why not.
    StackLoaded {
        key: String,
        result: Result<super::store::stacks::StackInfo, String>,
    },
    /// The compose file found in berth's directory, which `o` offers.
    ComposeDefault(String),
}

/// Requests to the feed, the only part that talks to the engine.
#[derive(Debug, Clone)]
pub enum FeedRequest {
    Call(ApiCall),
    Open(StreamRequest),
    Close(StreamKey),
    /// Re-read every list now.
    Resync,
    /// Re-read the builds list now (the Builds view opened, a record was removed).
    RefreshBuilds,
    /// Send a build: tar the context directory and `POST /build`, its progress lines on the
    /// task's stream. The feed does it because reading the directory is I/O.
    Build(BuildRequest),
    /// Read a compose project (files, `.env`, interpolation): answered by `Msg::StackLoaded`.
    LoadStack(super::store::stacks::StackLoad),
    /// Run a compose verb with `compose::converge`, its progress on the task's stream.
    Stack(super::store::stacks::StackRun),
}

/// A build the dashboard starts (the build form, rebuild): what `berth build` would be given.
#[derive(Debug, Clone, PartialEq)]
pub struct BuildSpec {
    /// The context directory on this machine (relative: to where berth started).
    pub context_dir: std::path::PathBuf,
    /// The Dockerfile's path inside the context; `None`: `Dockerfile`.
    pub dockerfile: Option<String>,
    pub tags: Vec<String>,
    pub target: Option<String>,
    pub build_args: Vec<(String, String)>,
}

impl BuildSpec {
    /// What the task list calls it: `build shop/web:dev from ~/src/shop`.
    pub fn title(&self) -> String {
        let dir = self.context_dir.display();
        match self.tags.first() {
            Some(t) if self.tags.len() > 1 => {
                format!("build {t} (+{}) from {dir}", self.tags.len() - 1)
            }
            Some(t) => format!("build {t} from {dir}"),
            None => format!("build {dir}"),
        }
    }
}

/// `FeedRequest::Build`: the spec and the task stream its progress goes to.
#[derive(Debug, Clone)]
pub struct BuildRequest {
    pub key: StreamKey,
    pub spec: BuildSpec,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    Feed(FeedRequestEq),
    /// Read the file system off the screen's thread (path completion, a file's kind).
    Files(FileRequest),
    /// Suspend the dashboard and run an interactive shell in the container.
    Exec {
        container: String,
        command: Vec<String>,
    },
    /// Suspend the dashboard and attach to the container's main process.
    Attach {
        container: String,
    },
    OpenUrl(String),
    /// Copy through the terminal (OSC 52), so it works over ssh too.
    Clipboard(String),
    SetMouse(bool),
    WriteFile {
        path: String,
        contents: String,
    },
    Quit,
}

/// `FeedRequest` carried in an `Effect`; compared by its debug text so effects can be asserted
/// in tests.
#[derive(Debug, Clone)]
pub struct FeedRequestEq(pub FeedRequest);

impl PartialEq for FeedRequestEq {
    fn eq(&self, other: &Self) -> bool {
        format!("{:?}", self.0) == format!("{:?}", other.0)
    }
}

impl Effect {
    pub fn call(method: hyper::Method, path: impl Into<String>, purpose: Purpose) -> Effect {
        Effect::Feed(FeedRequestEq(FeedRequest::Call(ApiCall {
            method,
            path: path.into(),
            body: None,
            purpose,
        })))
    }

    pub fn call_with(
        method: hyper::Method,
        path: impl Into<String>,
        body: Value,
        purpose: Purpose,
    ) -> Effect {
        Effect::Feed(FeedRequestEq(FeedRequest::Call(ApiCall {
            method,
            path: path.into(),
            body: Some(body),
            purpose,
        })))
    }

    /// The API call `endpoint` (from `client::api`), answered to `purpose`.
    pub fn api(endpoint: crate::client::api::Endpoint, purpose: Purpose) -> Effect {
        Effect::Feed(FeedRequestEq(FeedRequest::Call(ApiCall {
            method: endpoint.method,
            path: endpoint.path,
            body: endpoint.body,
            purpose,
        })))
    }

    pub fn open(req: StreamRequest) -> Effect {
        Effect::Feed(FeedRequestEq(FeedRequest::Open(req)))
    }

    pub fn close(key: StreamKey) -> Effect {
        Effect::Feed(FeedRequestEq(FeedRequest::Close(key)))
    }

    pub fn feed(req: FeedRequest) -> Effect {
        Effect::Feed(FeedRequestEq(req))
    }
}
