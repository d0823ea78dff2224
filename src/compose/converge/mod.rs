//! Bringing an engine to what a project describes, and taking it down again: docker compose
//! v2's `pkg/compose` (create, convergence, start, stop, down) as a client of the Docker API.
//! The same labels, names, ordering and recreate rules as docker compose, so each tool can
//! manage what the other started.
//!
//! One verb per file: [`create`] (images, networks, volumes, orphans, then [`convergence`]),
//! [`start`] (dependency order, `depends_on` conditions, `--wait`), [`stop`] (stop, kill,
//! pause, unpause, restart), [`down`] (remove containers, networks, volumes, images);
//! [`images`] pulls and [`build`] builds what services need; [`progress`] reports each step.

pub mod build;
pub mod convergence;
pub mod create;
pub mod down;
pub mod images;

pub mod start;
pub mod stop;

use std::time::Duration;

use anyhow::Result;

use super::observed::{self, Container, OneOff};
use super::types::Project;
use crate::client::Client;
pub use crate::compose::progress::{Event, Progress, Status};

/// A client and where its progress goes: what every verb works with.
#[derive(Clone, Debug)]
pub struct Compose {
    pub client: Client,
    pub progress: Progress,
}

impl Compose {
    pub fn new(client: Client, progress: Progress) -> Compose {
        Compose { client, progress }
    }

    pub fn event(&self, e: Event) {
        self.progress.event(e)
    }

    /// The project's containers on the engine (all states).
    pub async fn containers(
        &self,
        project: &str,
        oneoff: OneOff,
        services: &[String],
    ) -> Result<Vec<Container>> {
        observed::containers(&self.client, project, oneoff, true, services).await
    }
}

/// docker compose's recreate policies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Recreate {
    /// Recreate a container whose configuration hash or image changed.
    #[default]
    Diverged,
    /// Recreate every container (`--force-recreate`).
    Force,
    /// Never recreate (`--no-recreate`).
    Never,
}

/// How images are built (`--build`, `--no-build`, neither).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BuildPolicy {
    /// Build what has a `build:` section and no image yet.
    #[default]
    IfMissing,
    /// Build every service with a `build:` section (`--build`).
    Always,
    /// Build nothing (`--no-build`).
    Never,
}

/// What `create` (and so `up`) is asked.
#[derive(Debug, Clone, Default)]
pub struct CreateOptions {
    /// The services to converge (empty: all); their dependencies are converged with the
    /// dependency policy.
    pub services: Vec<String>,
    pub remove_orphans: bool,
    pub ignore_orphans: bool,
    pub recreate: Recreate,
    pub recreate_dependencies: Recreate,
    /// Anonymous volumes carried over from a replaced container (not with `-V`).
    pub inherit: bool,
    /// Seconds to wait when a recreated container is stopped.
    pub timeout: Option<i64>,
    pub build: BuildPolicy,
    /// `--build-arg`s and `--no-cache`/`--pull` of `build` (`up --build` uses none).
    pub build_options: build::BuildOptions,
    /// `--pull always|missing|never|build`: overrides every service's pull_policy.
    pub pull: Option<String>,
    pub quiet_pull: bool,
    /// Recreate a volume whose configuration changed without asking.
    pub assume_yes: bool,
}

/// What `start` (and so `up`) is asked.
#[derive(Debug, Clone, Default)]
pub struct StartOptions {
    pub services: Vec<String>,
    /// `--wait`: block until every service is running or healthy (or completed).
    pub wait: bool,
    pub wait_timeout: Option<Duration>,
}

/// Prefer the project's own view of a service's containers: sorted by name, as docker compose's
/// `Containers.sorted`.
pub fn sorted_by_name(mut containers: Vec<Container>) -> Vec<Container> {
    containers.sort_by(|a, b| a.name.cmp(&b.name));
    containers
}

/// The services of the project in the order docker compose lists them (by name).
pub fn service_names(project: &Project) -> Vec<String> {
    project.services.keys().cloned().collect()
}
