//! The views (one per tab) and what they share with the app: the context they get, the commands
//! they queue, and the `View` trait the app drives them through.

pub mod builds;
pub mod containers;
pub mod detail;
pub mod events;
pub mod images;
pub mod list;
pub mod logs;
pub mod networks;
pub mod stacks;
pub mod table;
pub mod volumes;

use crossterm::event::MouseEvent;
use ratatui::layout::Rect;
use ratatui::Frame;

use super::config::Config;
use super::dialogs::Dialog;
use super::keymap::{Action, Context};
use super::msg::{Effect, StreamRequest};
use super::store::{Gone, Store};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ViewId {
    Containers,
    Images,
    Volumes,
    Networks,
    Events,
    Builds,
    Stacks,
    Logs,
}

impl ViewId {
    /// The tabs in order (logs is opened from containers, not a tab of its own until then).
    pub const TABS: [ViewId; 7] = [
        ViewId::Containers,
        ViewId::Images,
        ViewId::Volumes,
        ViewId::Networks,
        ViewId::Events,
        ViewId::Builds,
        ViewId::Stacks,
    ];

    pub fn title(self) -> &'static str {
        match self {
            ViewId::Containers => "Containers",
            ViewId::Images => "Images",
            ViewId::Volumes => "Volumes",
            ViewId::Networks => "Networks",
            ViewId::Events => "Events",
            ViewId::Builds => "Builds",
            ViewId::Stacks => "Stacks",
            ViewId::Logs => "Logs",
        }
    }

    pub fn context(self) -> Context {
        match self {
            ViewId::Containers => Context::Containers,
            ViewId::Images => Context::Images,
            ViewId::Volumes => Context::Volumes,
            ViewId::Networks => Context::Networks,
            ViewId::Events => Context::Events,
            ViewId::Builds => Context::Builds,
            ViewId::Stacks => Context::Stacks,
            ViewId::Logs => Context::Logs,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Info,
    Error,
}

/// Which containers a logs view follows.
#[derive(Debug, Clone, PartialEq)]
pub struct LogTarget {
    /// What the title says: a container name, "compose project shop", "3 containers".
    pub title: String,
    /// (id, name) pairs, in a stable order (the order decides each prefix's colour).
    pub containers: Vec<(String, String)>,
}

/// What views and dialogs ask the app to do (gitui's internal event queue): the app applies
/// these after the handler returns, so no handler needs the whole app.
pub enum Cmd {
    Effect(Effect),
    Dialog(Box<dyn Dialog>),
    Status(Level, String),
    SwitchView(ViewId),
    OpenLogs(LogTarget),
    /// Long work with a progress stream; the app numbers it and shows it in the tasks list.
    StartTask {
        title: String,
        method: hyper::Method,
        path: String,
        body: Option<serde_json::Value>,
        /// Show the progress dialog now (the user can send it to the background with Esc).
        show: bool,
        /// Send this image reference's registry credentials (see `StreamRequest::auth_for`).
        auth_for: Option<String>,
        /// Stream this local file as the request body (see `StreamRequest::upload`).
        upload: Option<std::path::PathBuf>,
    },
    /// Switch to the containers view with this container (by id) selected, as soon as it is
    /// in the list (a container just created may not be yet).
    SelectContainer(String),
    /// Apply an action to the current view (the palette does this).
    Action(Action),
    /// Open or replace a stream, by request.
    Stream(StreamRequest),
    /// Drop objects the engine said it removed from the store (`Store::forget`).
    Forget(Gone),
    /// Start a build as a background task (the build form, rebuild); `show` opens its
    /// progress dialog.
    StartBuild {
        spec: super::msg::BuildSpec,
        show: bool,
    },
    /// Read a compose file for the Stacks view (`opened`: the user opened it, so it is listed
    /// even without containers).
    LoadStack {
        load: super::store::stacks::StackLoad,
        opened: bool,
    },
    /// Run a compose verb as a background task.
    StackTask {
        target: super::store::stacks::StackTarget,
        op: super::store::stacks::StackOp,
        show: bool,
    },
}

/// What handlers get: read access to data and config, and the queue for what should happen.
pub struct Cx<'a> {
    pub store: &'a Store,
    pub config: &'a Config,
    pub queue: &'a mut Vec<Cmd>,
    /// Set by the session: terminal size, for views that page.
    pub page: usize,
}

impl Cx<'_> {
    pub fn push(&mut self, cmd: Cmd) {
        self.queue.push(cmd);
    }

    pub fn effect(&mut self, e: Effect) {
        self.queue.push(Cmd::Effect(e));
    }

    pub fn error(&mut self, text: impl Into<String>) {
        self.queue.push(Cmd::Status(Level::Error, text.into()));
    }

    pub fn info(&mut self, text: impl Into<String>) {
        self.queue.push(Cmd::Status(Level::Info, text.into()));
    }

    pub fn dialog(&mut self, d: impl Dialog + 'static) {
        self.queue.push(Cmd::Dialog(Box::new(d)));
    }
}

/// What drawing gets.
pub struct DrawCx<'a> {
    pub store: &'a Store,
    pub config: &'a Config,
    /// Wall clock for uptimes; fixed in snapshot tests.
    pub now: chrono::DateTime<chrono::Utc>,
}

pub trait View {
    fn id(&self) -> ViewId;

    /// The tab's title with a count, e.g. "Containers (3/5)".
    fn tab_title(&self, store: &Store) -> String;

    fn draw(&mut self, f: &mut Frame, area: Rect, cx: &DrawCx);

    /// The actions that do something here now, in footer order (gitui's `commands()`): the
    /// footer shows them with their keys from the keymap.
    fn commands(&self, store: &Store) -> Vec<Action>;

    /// Handles an action; `false` lets the app try its global meaning.
    fn on_action(&mut self, action: Action, cx: &mut Cx) -> bool;

    fn on_mouse(&mut self, _ev: MouseEvent, _cx: &mut Cx) -> bool {
        false
    }

    /// The `/` filter text (live while typing).
    fn set_filter(&mut self, text: &str, store: &Store);
    fn filter(&self) -> &str;

    /// What the footer says while `/` text is typed (a view may use `/` to search a pane).
    fn filter_label(&self) -> String {
        format!("filter {}: ", self.id().title().to_lowercase())
    }

    /// The one-second clock, for the view on screen: periodic work (the detail pane's Top tab
    /// refreshes every 2 s) and catching up with store changes that need commands.
    fn on_tick(&mut self, _cx: &mut Cx) {}

    /// The store changed: re-filter, keep the selection on the same object.
    fn on_store(&mut self, _store: &Store) {}

    /// A stream's item or end for this view (logs).
    fn on_stream(
        &mut self,
        _key: &super::msg::StreamKey,
        _item: Option<&super::msg::StreamItem>,
        _cx: &mut Cx,
    ) {
    }

    /// An API answer for this view (top, history, disk usage).
    fn on_answer(
        &mut self,
        _purpose: &super::msg::Purpose,
        _result: &Result<Option<serde_json::Value>, String>,
        _cx: &mut Cx,
    ) -> bool {
        false
    }
}
