//! The store: everything the dashboard knows about the engine, updated only from feed messages
//! (lists, events, stats, logs, task progress) and read by the views. Views keep their own UI
//! state (selection, filters); the store keeps data.

pub mod logs;
pub mod model;
pub mod stacks;
pub mod stats;
pub mod tasks;

use std::collections::{HashMap, VecDeque};

use serde_json::Value;

use berth_engine::model::build::{BuildRecord, BuildStatus};
use model::{Container, EngineInfo, HostUsage, Image, Network, Volume};
use stats::StatsHistory;
use tasks::Task;

/// Events kept for the events view.
pub const MAX_EVENTS: usize = 2_000;

#[derive(Debug, Clone, PartialEq)]
pub enum Connection {
    Connecting,
    Connected,
    /// Lost, with the reason; the feed is retrying.
    Lost(String),
}

#[derive(Debug, Clone)]
pub struct Store {
    pub connection: Connection,
    pub info: Option<EngineInfo>,
    pub host: Option<HostUsage>,
    pub containers: Vec<Container>,
    pub images: Vec<Image>,
    pub volumes: Vec<Volume>,
    pub networks: Vec<Network>,
    /// The engine's build records, newest first (summaries: no step logs).
    pub builds: Vec<BuildRecord>,
    /// Why there are no build records to show: the engine does not keep them (docker answers
    /// 404 to `/berth/v1/builds`) or the last read failed.
    pub builds_error: Option<String>,
    /// `GET /containers/{id}/json` answers, by container id.
    pub details: HashMap<String, Value>,
    pub stats: HashMap<String, StatsHistory>,
    /// Newest last.
    pub events: VecDeque<Value>,
    pub tasks: Vec<Task>,
    /// Volume sizes from `GET /system/df`, by name (`-1`: unknown).
    pub volume_sizes: HashMap<String, i64>,
    /// Which lists have arrived since connecting: views say "loading" until then.
    pub loaded: Loaded,
    /// The compose files read for the Stacks view (opened, or named by a project's labels).
    pub stack_files: Vec<stacks::StackFile>,
    /// The compose file `o` offers first (found in berth's directory).
    pub compose_default: String,
}

/// Objects the engine said it removed, by name (`Store::forget`).
#[derive(Debug, Clone, PartialEq)]
pub enum Gone {
    Volumes(Vec<String>),
    Networks(Vec<String>),
    /// Build records, by id.
    Builds(Vec<String>),
}

#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Loaded {
    pub containers: bool,
    pub images: bool,
    pub volumes: bool,
    pub networks: bool,
    pub builds: bool,
}

impl Default for Store {
    fn default() -> Self {
        Store {
            connection: Connection::Connecting,
            info: None,
            host: None,
            containers: Vec::new(),
            images: Vec::new(),
            volumes: Vec::new(),
            networks: Vec::new(),
            builds: Vec::new(),
            builds_error: None,
            details: HashMap::new(),
            stats: HashMap::new(),
            events: VecDeque::new(),
            tasks: Vec::new(),
            volume_sizes: HashMap::new(),
            loaded: Loaded::default(),
            stack_files: Vec::new(),
            compose_default: "./compose.yaml".into(),
        }
    }
}

impl Store {
    pub fn set_containers(&mut self, list: Vec<Container>) {
        // Forget what belongs to containers that are gone.
        self.details
            .retain(|id, _| list.iter().any(|c| &c.id == id));
        self.stats.retain(|id, _| list.iter().any(|c| &c.id == id));
        self.containers = list;
        self.loaded.containers = true;
    }

    pub fn push_event(&mut self, ev: Value) {
        if self.events.len() == MAX_EVENTS {
            self.events.pop_front();
        }
        self.events.push_back(ev);
    }

    pub fn container(&self, id: &str) -> Option<&Container> {
        self.containers.iter().find(|c| c.id == id)
    }

    /// Containers using an image (by image id), for the images view's "in use" column.
    pub fn containers_using_image(&self, image_id: &str) -> usize {
        self.containers
            .iter()
            .filter(|c| c.image_id == image_id)
            .count()
    }

    /// Names of containers mounting a volume.
    pub fn containers_using_volume(&self, name: &str) -> Vec<&str> {
        self.containers
            .iter()
            .filter(|c| c.mounts.iter().any(|m| m.name.as_deref() == Some(name)))
            .map(Container::name)
            .collect()
    }

    /// Names of containers attached to a network (by name or id).
    pub fn containers_on_network(&self, net: &Network) -> Vec<&str> {
        self.containers
            .iter()
            .filter(|c| {
                c.network_settings.as_ref().is_some_and(|ns| {
                    ns.networks
                        .iter()
                        .any(|(name, ep)| name == &net.name || ep.network_id == net.id)
                })
            })
            .map(Container::name)
            .collect()
    }

    /// Drops what an engine answer says is gone (a prune's `VolumesDeleted`, `NetworksDeleted`),
    /// so the lists are right as soon as the answer is shown. On a live engine the events of
    /// the removals re-read the lists a moment later anyway; without this the status line said
    /// "removed 2 volumes" over a list that still showed them until then.
    pub fn forget(&mut self, gone: &Gone) {
        match gone {
            Gone::Volumes(names) => self.volumes.retain(|v| !names.contains(&v.name)),
            Gone::Networks(names) => self.networks.retain(|n| !names.contains(&n.name)),
            Gone::Builds(ids) => self.builds.retain(|b| !ids.contains(&b.id)),
        }
    }

    /// A builds list from the feed, or why there is none (the old list stays: a failed poll
    /// must not blank the view).
    pub fn set_builds(&mut self, list: Result<Vec<BuildRecord>, String>) {
        match list {
            Ok(list) => {
                self.builds = list;
                self.builds_error = None;
            }
            Err(e) => self.builds_error = Some(e),
        }
        self.loaded.builds = true;
    }

    pub fn build(&self, id: &str) -> Option<&BuildRecord> {
        self.builds.iter().find(|b| b.id == id)
    }

    /// Whether a build is still running (the list is then polled, and the detail re-read).
    pub fn builds_running(&self) -> bool {
        self.builds.iter().any(|b| b.status == BuildStatus::Running)
    }

    pub fn task_mut(&mut self, id: u64) -> Option<&mut Task> {
        self.tasks.iter_mut().find(|t| t.id == id)
    }

    pub fn running_tasks(&self) -> usize {
        self.tasks.iter().filter(|t| t.is_running()).count()
    }
}
