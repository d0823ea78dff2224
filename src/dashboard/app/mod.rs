//! The app: all dashboard state and the one place messages change it. `update` takes a `Msg`
//! (key, mouse, engine data, tick) and changes state; `draw` renders it; `take_effects` hands the
//! session what only it can do (talk to the feed, suspend for an exec, quit). No I/O happens
//! here, which is what lets the snapshot tests drive the whole app with key events.

use std::collections::{BTreeSet, HashMap};
use std::time::{Duration, Instant};

use tui_input::Input;

use super::config::Config;
use super::dialogs::{self, Dialog, Outcome};
use super::files::FileAnswer;
use super::msg::{
    BuildRequest, Effect, FeedRequest, Framing, Msg, Purpose, StreamKey, StreamRequest,
};
use super::store::tasks::Task;
use super::store::{Connection, Store};
use super::views::builds::BuildsView;
use super::views::containers::ContainersView;
use super::views::events::EventsView;
use super::views::images::ImagesView;
use super::views::logs::LogsView;
use super::views::networks::NetworksView;
use super::views::stacks::StacksView;
use super::views::volumes::VolumesView;
use super::views::{Cmd, Cx, Level, View, ViewId};

mod draw;
mod input;
mod stacks;
mod streams;

pub use draw::short;

/// How long a status message replaces the key hints.
const STATUS_FOR: Duration = Duration::from_secs(6);
/// A stats stream that ended is not reopened sooner than this (a container that stops and an
/// engine that refuses must not turn into a reconnect loop).
const STATS_RETRY: Duration = Duration::from_secs(5);

struct Views {
    containers: ContainersView,
    images: ImagesView,
    volumes: VolumesView,
    networks: NetworksView,
    events: EventsView,
    builds: BuildsView,
    stacks: StacksView,
    logs: LogsView,
}

impl Views {
    fn get(&mut self, id: ViewId) -> &mut dyn View {
        match id {
            ViewId::Containers => &mut self.containers,
            ViewId::Images => &mut self.images,
            ViewId::Volumes => &mut self.volumes,
            ViewId::Networks => &mut self.networks,
            ViewId::Events => &mut self.events,
            ViewId::Builds => &mut self.builds,
            ViewId::Stacks => &mut self.stacks,
            ViewId::Logs => &mut self.logs,
        }
    }

    fn get_ref(&self, id: ViewId) -> &dyn View {
        match id {
            ViewId::Containers => &self.containers,
            ViewId::Images => &self.images,
            ViewId::Volumes => &self.volumes,
            ViewId::Networks => &self.networks,
            ViewId::Events => &self.events,
            ViewId::Builds => &self.builds,
            ViewId::Stacks => &self.stacks,
            ViewId::Logs => &self.logs,
        }
    }
}

pub struct App {
    pub store: Store,
    pub config: Config,
    views: Views,
    current: ViewId,
    /// Where Esc from the logs view goes back to.
    previous: ViewId,
    dialogs: Vec<Box<dyn Dialog>>,
    /// The `/` filter line while it is being typed.
    filter: Option<Input>,
    status: Option<(Level, String, Instant)>,
    pub mouse: bool,
    effects: Vec<Effect>,
    next_task: u64,
    dirty: bool,
    quit: bool,
    /// Tab bar geometry for clicks: (row, column ranges).
    tabs: (u16, Vec<(u16, u16)>),
    body_height: u16,
    /// Stats streams asked of the feed, and when each last ended.
    stats_open: BTreeSet<String>,
    stats_ended: HashMap<String, Instant>,
    /// A fixed clock for snapshot tests.
    pub clock: Option<chrono::DateTime<chrono::Utc>>,
}

impl App {
    pub fn new(config: Config) -> App {
        let mouse = config.mouse;
        App {
            store: Store::default(),
            config,
            views: Views {
                containers: ContainersView::default(),
                images: ImagesView::default(),
                volumes: VolumesView::default(),
                networks: NetworksView::default(),
                events: EventsView::default(),
                builds: BuildsView::default(),
                stacks: StacksView::default(),
                logs: LogsView::default(),
            },
            current: ViewId::Containers,
            previous: ViewId::Containers,
            dialogs: Vec::new(),
            filter: None,
            status: None,
            mouse,
            effects: Vec::new(),
            next_task: 1,
            dirty: true,
            quit: false,
            tabs: (0, Vec::new()),
            body_height: 20,
            stats_open: BTreeSet::new(),
            stats_ended: HashMap::new(),
            clock: None,
        }
    }

    pub fn current(&self) -> ViewId {
        self.current
    }

    pub fn should_quit(&self) -> bool {
        self.quit
    }

    pub fn is_dirty(&self) -> bool {
        self.dirty
    }

    pub fn take_effects(&mut self) -> Vec<Effect> {
        std::mem::take(&mut self.effects)
    }

    pub fn status(&self) -> Option<(Level, &str)> {
        self.status.as_ref().map(|(l, s, _)| (*l, s.as_str()))
    }

    pub fn dialog_open(&self) -> bool {
        !self.dialogs.is_empty()
    }

    // ----- messages -----

    pub fn update(&mut self, msg: Msg) {
        match msg {
            Msg::Input(ev) => self.on_input(ev),
            Msg::Connected(info) => {
                let was_lost = matches!(self.store.connection, Connection::Lost(_));
                self.store.connection = Connection::Connected;
                if was_lost {
                    self.set_status(Level::Info, format!("reconnected to {}", info.host));
                }
                self.store.info = Some(info);
                // Streams of the old connection are reopened by the feed; stats restart.
                self.stats_ended.clear();
                self.dirty = true;
            }
            Msg::Disconnected(reason) => {
                self.store.connection = Connection::Lost(reason);
                self.dirty = true;
            }
            Msg::Containers(list) => {
                self.fetch_details(&list);
                self.store.set_containers(list);
                self.read_label_files();
                self.store_changed();
            }
            Msg::Images(list) => {
                self.store.images = list;
                self.store.loaded.images = true;
                self.store_changed();
            }
            Msg::Volumes(list) => {
                self.store.volumes = list;
                self.store.loaded.volumes = true;
                self.store_changed();
            }
            Msg::Networks(list) => {
                self.store.networks = list;
                self.store.loaded.networks = true;
                self.store_changed();
            }
            Msg::Builds(list) => {
                self.store.set_builds(list);
                self.store_changed();
            }
            Msg::Event(ev) => {
                self.store.push_event(ev);
                self.store_changed();
            }
            Msg::Host(h) => {
                self.store.host = Some(h);
                self.dirty = true;
            }
            Msg::CallDone { purpose, result } => self.on_answer(purpose, result),
            Msg::Stream { key, item } => self.on_stream(key, Some(item)),
            Msg::StreamEnd { key, error } => self.on_stream_end(key, error),
            Msg::Files(answer) => self.on_files(answer),
            Msg::StackLoaded { key, result } => self.stack_loaded(key, result),
            Msg::ComposeDefault(path) => self.store.compose_default = path,
            Msg::Tick => {
                if let Some((_, _, at)) = &self.status {
                    if at.elapsed() >= STATUS_FOR {
                        self.status = None;
                    }
                }
                // Uptimes and running tasks change with time; other views only on data.
                if self.current == ViewId::Containers || self.store.running_tasks() > 0 {
                    self.dirty = true;
                }
                let current = self.current;
                let ((), queue) = self.handle(|views, cx| views.get(current).on_tick(cx));
                if !queue.is_empty() {
                    self.apply(queue);
                }
            }
        }
    }

    fn set_status(&mut self, level: Level, text: String) {
        self.status = Some((level, text, Instant::now()));
        self.dirty = true;
    }

    /// Asks for `GET /containers/{id}/json` of containers that are new or changed state (the
    /// detail pane, uptimes and health come from it).
    fn fetch_details(&mut self, list: &[super::store::model::Container]) {
        for c in list {
            let changed = match self.store.container(&c.id) {
                None => true,
                Some(old) => {
                    old.state != c.state
                        || old.status.contains("health") != c.status.contains("health")
                        || old.names != c.names
                }
            };
            if changed || !self.store.details.contains_key(&c.id) {
                self.effects.push(Effect::api(
                    crate::client::api::containers::inspect(&c.id),
                    Purpose::ContainerDetail { id: c.id.clone() },
                ));
            }
        }
    }

    fn store_changed(&mut self) {
        for id in ViewId::TABS.into_iter().chain([ViewId::Logs]) {
            self.views.get(id).on_store(&self.store);
        }
        self.dirty = true;
    }

    fn on_answer(&mut self, purpose: Purpose, result: Result<Option<serde_json::Value>, String>) {
        self.dirty = true;
        if let Some(d) = self.dialogs.last_mut() {
            if d.on_answer(&purpose, &result) {
                return;
            }
        }
        if let Purpose::ContainerDetail { id } = &purpose {
            if let Ok(Some(v)) = &result {
                if self.store.container(id).is_some() {
                    self.store.details.insert(id.clone(), v.clone());
                }
            }
            self.store_changed();
            return;
        }
        let handled = self.with_views(|views, cx| {
            ViewId::TABS
                .into_iter()
                .chain([ViewId::Logs])
                .any(|id| views.get(id).on_answer(&purpose, &result, cx))
        });
        if handled {
            return;
        }
        match (&purpose, &result) {
            (Purpose::Action { label }, Ok(_)) => {
                self.set_status(Level::Info, format!("{label}: done"))
            }
            (Purpose::Action { label }, Err(e)) => {
                self.set_status(Level::Error, format!("{label}: {e}"))
            }
            (_, Err(e)) => self.set_status(Level::Error, e.clone()),
            _ => {}
        }
    }

    /// A file system answer goes to the dialog on top, which asked for it (it drops answers to
    /// text that changed since); with the dialog closed meanwhile, nobody waits for it.
    fn on_files(&mut self, answer: FileAnswer) {
        self.dirty = true;
        if let Some(mut d) = self.dialogs.pop() {
            let (outcome, queue) = self.handle(|_, cx| d.on_files(&answer, cx));
            if outcome == Outcome::Keep {
                self.dialogs.push(d);
            }
            self.apply(queue);
        }
    }

    /// Runs a handler with the views and a context over the store and config (disjoint
    /// borrows of the app), returning what it queued for the caller to apply.
    fn handle<R>(&mut self, f: impl FnOnce(&mut Views, &mut Cx) -> R) -> (R, Vec<Cmd>) {
        let mut queue = Vec::new();
        let result = {
            let mut cx = Cx {
                store: &self.store,
                config: &self.config,
                queue: &mut queue,
                // Table rows on screen: the body less a header and a margin.
                page: self.body_height.saturating_sub(2) as usize,
            };
            f(&mut self.views, &mut cx)
        };
        (result, queue)
    }

    /// `handle`, then apply what it queued.
    fn with_views<R>(&mut self, f: impl FnOnce(&mut Views, &mut Cx) -> R) -> R {
        let (result, queue) = self.handle(f);
        self.apply(queue);
        result
    }

    /// Runs what handlers queued.
    fn apply(&mut self, queue: Vec<Cmd>) {
        for cmd in queue {
            match cmd {
                Cmd::Effect(e) => self.effects.push(e),
                Cmd::Dialog(d) => self.dialogs.push(d),
                Cmd::Status(level, text) => self.set_status(level, text),
                Cmd::SwitchView(v) => self.switch(v),
                Cmd::OpenLogs(target) => {
                    let ((), q) = self.handle(|views, cx| views.logs.open(target, cx));
                    if self.current != ViewId::Logs {
                        self.previous = self.current;
                    }
                    self.current = ViewId::Logs;
                    self.apply(q);
                }
                Cmd::StartTask {
                    title,
                    method,
                    path,
                    body,
                    show,
                    auth_for,
                    upload,
                } => {
                    let id = self.next_task;
                    self.next_task += 1;
                    let mut task = Task::new(id, title);
                    task.upload = upload.clone();
                    self.store.tasks.push(task);
                    self.effects.push(Effect::open(StreamRequest {
                        key: StreamKey::Task(id),
                        method,
                        path,
                        body,
                        framing: Framing::JsonLines,
                        reopen: false,
                        auth_for,
                        upload,
                    }));
                    if show {
                        self.dialogs
                            .push(Box::new(dialogs::tasks::TaskDialog::one(id)));
                    }
                }
                Cmd::StartBuild { spec, show } => {
                    let id = self.next_task;
                    self.next_task += 1;
                    let mut task = Task::new(id, spec.title());
                    task.build = Some(spec.clone());
                    self.store.tasks.push(task);
                    self.effects
                        .push(Effect::feed(FeedRequest::Build(BuildRequest {
                            key: StreamKey::Task(id),
                            spec,
                        })));
                    if show {
                        self.dialogs
                            .push(Box::new(dialogs::tasks::TaskDialog::one(id)));
                    }
                }
                Cmd::Action(a) => self.on_action(a),
                Cmd::Stream(req) => self.effects.push(Effect::open(req)),
                Cmd::SelectContainer(id) => {
                    self.views.containers.select(&id, &self.store);
                    self.switch(ViewId::Containers);
                }
                Cmd::LoadStack { load, opened } => self.load_stack(load, opened),
                Cmd::StackTask { target, op, show } => self.stack_task(target, op, show),
                Cmd::Forget(gone) => {
                    self.store.forget(&gone);
                    self.store_changed();
                }
            }
        }
        self.dirty = true;
    }
}
