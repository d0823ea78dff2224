//! The stacks the Stacks view lists, derived from the container list (every compose project
//! found by its labels, running or stopped) and the compose files read (a project opened from a
//! file with no containers yet is listed as not running, with its services from the file).

use std::collections::BTreeMap;

use super::{StackFile, StackTarget};
use crate::compose::labels;
use crate::compose::observed::ProjectSummary;
use crate::dashboard::store::model::Container;
use crate::dashboard::store::Store;

/// One compose project.
#[derive(Debug, Clone, PartialEq)]
pub struct Stack {
    pub name: String,
    /// Its containers (indexes into the store's list; one-off `run` containers left out),
    /// sorted by name.
    pub containers: Vec<usize>,
    /// Its compose file entry (index into `Store::stack_files`).
    pub file: Option<usize>,
    pub services: Vec<ServiceRow>,
    /// The files as the labels (or the loaded file) name them, comma-separated.
    pub config_files: String,
}

/// One service of a stack: from the file, the containers, or both.
#[derive(Debug, Clone, PartialEq)]
pub struct ServiceRow {
    pub name: String,
    pub image: String,
    /// Indexes into the store's containers.
    pub containers: Vec<usize>,
    pub running: usize,
    /// The scale the file asks for (`None`: known only from containers).
    pub scale: Option<i64>,
    pub ports: String,
    pub health: String,
    /// created, running, exited, …; "not created" when it has no container.
    pub state: String,
}

impl Stack {
    /// docker compose ls's STATUS (`exited(1), running(2)`), or "not running".
    pub fn status(&self, store: &Store) -> String {
        if self.containers.is_empty() {
            return "not running".into();
        }
        let mut states: BTreeMap<String, usize> = BTreeMap::new();
        for &i in &self.containers {
            *states.entry(store.containers[i].state.clone()).or_default() += 1;
        }
        ProjectSummary {
            name: self.name.clone(),
            states,
            config_files: String::new(),
            working_dir: String::new(),
        }
        .status()
    }

    pub fn running(&self, store: &Store) -> usize {
        self.containers
            .iter()
            .filter(|&&i| store.containers[i].is_running())
            .count()
    }

    /// `1/2`: services with a running container, of all services.
    pub fn services_text(&self) -> String {
        let up = self.services.iter().filter(|s| s.running > 0).count();
        format!("{up}/{}", self.services.len())
    }

    /// `2 healthy, 1 unhealthy`; empty when no container has a health check.
    pub fn health_text(&self, store: &Store) -> String {
        health_of(self.containers.iter().map(|&i| &store.containers[i]))
    }

    /// The published ports of its containers.
    pub fn ports_text(&self, store: &Store) -> String {
        let mut out: Vec<String> = Vec::new();
        for &i in &self.containers {
            for p in &store.containers[i].ports {
                if let Some(public) = p.public {
                    let s = format!("{public}->{}/{}", p.private, p.proto);
                    if !out.contains(&s) {
                        out.push(s);
                    }
                }
            }
        }
        out.join(", ")
    }

    pub fn service(&self, name: &str) -> Option<&ServiceRow> {
        self.services.iter().find(|s| s.name == name)
    }

    /// What a verb needs to find the project: the file entry's load request, or the name.
    pub fn target(&self, store: &Store) -> StackTarget {
        StackTarget {
            name: self.name.clone(),
            load: self.file.map(|i| store.stack_files[i].load_request()),
        }
    }
}

fn health_of<'a>(containers: impl Iterator<Item = &'a Container>) -> String {
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for c in containers {
        if let Some(h) = c.health() {
            *counts.entry(h).or_default() += 1;
        }
    }
    counts
        .iter()
        .map(|(h, n)| format!("{n} {h}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The projects' files named by their containers' labels, not yet read: the app asks the feed
/// for them (key, files, working dir, project name).
pub fn unread_label_files(store: &Store) -> Vec<StackFile> {
    let mut out: Vec<StackFile> = Vec::new();
    for c in &store.containers {
        let Some(project) = c.project() else { continue };
        let Some(files) = c.labels.get(labels::CONFIG_FILES) else {
            continue;
        };
        if files.is_empty() || files == "N/A" {
            continue;
        }
        let key = files.clone();
        if store.stack_files.iter().any(|f| f.key() == key) || out.iter().any(|f| f.key() == key) {
            continue;
        }
        out.push(StackFile {
            files: files.split(',').map(String::from).collect(),
            working_dir: c.labels.get(labels::WORKING_DIR).cloned(),
            name: Some(project.to_string()),
            opened: false,
            profiles: Vec::new(),
            loading: true,
            loaded: None,
        });
    }
    out
}

/// Every stack, by name.
pub fn stacks(store: &Store) -> Vec<Stack> {
    let mut by_name: BTreeMap<String, Stack> = BTreeMap::new();
    for (i, c) in store.containers.iter().enumerate() {
        let Some(project) = c.project() else { continue };
        if c.labels.get(labels::ONEOFF).map(String::as_str) == Some("True") {
            continue;
        }
        let s = by_name.entry(project.to_string()).or_insert_with(|| Stack {
            name: project.to_string(),
            containers: Vec::new(),
            file: None,
            services: Vec::new(),
            config_files: String::new(),
        });
        s.containers.push(i);
        if s.config_files.is_empty() {
            if let Some(f) = c.labels.get(labels::CONFIG_FILES) {
                s.config_files = f.clone();
            }
        }
    }
    // A file goes with the project of its name; an opened file with no containers is a stack
    // of its own (a file that failed to load too: its row says why).
    for (fi, f) in store.stack_files.iter().enumerate() {
        let name = f.project_name();
        match by_name.get_mut(&name) {
            // An opened file wins over a label's (it is the one the user chose).
            Some(s) if s.file.is_none() || f.opened => s.file = Some(fi),
            Some(_) => {}
            None if f.opened => {
                by_name.insert(
                    name.clone(),
                    Stack {
                        name,
                        containers: Vec::new(),
                        file: Some(fi),
                        services: Vec::new(),
                        config_files: f
                            .info()
                            .map(|i| i.config_files.join(","))
                            .unwrap_or_else(|| f.key()),
                    },
                );
            }
            None => {}
        }
    }
    let mut out: Vec<Stack> = by_name.into_values().collect();
    for s in &mut out {
        s.containers
            .sort_by(|&a, &b| store.containers[a].name().cmp(store.containers[b].name()));
        s.services = services(s, store);
    }
    out
}

/// The file's services (in its order: by name), then services only containers know.
fn services(stack: &Stack, store: &Store) -> Vec<ServiceRow> {
    let info = stack.file.and_then(|i| store.stack_files[i].info());
    let mut rows: Vec<ServiceRow> = info
        .into_iter()
        .flat_map(|i| &i.services)
        .map(|s| ServiceRow {
            name: s.name.clone(),
            image: s.image.clone(),
            containers: Vec::new(),
            running: 0,
            scale: Some(s.scale),
            ports: s.ports.join(", "),
            health: String::new(),
            state: String::new(),
        })
        .collect();
    for &i in &stack.containers {
        let c = &store.containers[i];
        let name = c.labels.get(labels::SERVICE).cloned().unwrap_or_default();
        let row = match rows.iter_mut().position(|r| r.name == name) {
            Some(p) => &mut rows[p],
            None => {
                rows.push(ServiceRow {
                    name,
                    image: c.image.clone(),
                    containers: Vec::new(),
                    running: 0,
                    scale: None,
                    ports: String::new(),
                    health: String::new(),
                    state: String::new(),
                });
                rows.last_mut().expect("just pushed")
            }
        };
        row.containers.push(i);
    }
    for r in &mut rows {
        let cs: Vec<&Container> = r.containers.iter().map(|&i| &store.containers[i]).collect();
        r.running = cs.iter().filter(|c| c.is_running()).count();
        r.health = health_of(cs.iter().copied());
        r.state = if cs.is_empty() {
            "not created".into()
        } else if r.running > 0 {
            "running".into()
        } else {
            cs[0].state.clone()
        };
        let published: Vec<String> = cs
            .iter()
            .map(|c| c.ports_text())
            .filter(|p| !p.is_empty())
            .collect();
        if !published.is_empty() {
            r.ports = published.join(", ");
        }
    }
    rows.sort_by(|a, b| a.name.cmp(&b.name));
    rows
}
