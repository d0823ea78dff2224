//! Compose stacks: the compose files the dashboard has read (opened by the user with `o` or
//! `--compose-file`, or named by a running project's `config_files` label) and what each holds,
//! and the requests the feed runs for them (load a file, up, down, …). The stacks themselves
//! are derived (`derive.rs`) from these files and the container list, so they follow the
//! engine's events like every other list.

pub mod derive;

#[cfg(test)]
mod tests;

/// The project a file holds, as much of it as the Stacks view shows. Made by the feed from a
/// loaded `compose::types::Project` (the view never reads files).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct StackInfo {
    pub name: String,
    pub working_dir: String,
    /// Absolute paths, as docker compose labels them.
    pub config_files: Vec<String>,
    /// The enabled services (profiles applied), by name.
    pub services: Vec<ServiceInfo>,
    /// Every profile any service names (enabled or not), sorted.
    pub profiles: Vec<String>,
    /// `berth compose config`'s YAML of the project.
    pub yaml: String,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct ServiceInfo {
    pub name: String,
    /// Its image (`<project>-<service>` for one that is only built).
    pub image: String,
    /// How many containers it should run.
    pub scale: i64,
    /// Published ports as written: `8080:80/tcp`.
    pub ports: Vec<String>,
    /// It has a `build:` section.
    pub build: bool,
}

/// One compose file set the dashboard knows.
#[derive(Debug, Clone, PartialEq)]
pub struct StackFile {
    /// The files (`-f`), as given; their comma-joined text is the entry's key.
    pub files: Vec<String>,
    /// The project directory (`working_dir` label); `None`: the first file's directory.
    pub working_dir: Option<String>,
    /// The project name a label gave; `None`: the file decides.
    pub name: Option<String>,
    /// Opened by the user (listed even without containers) rather than found from a label.
    pub opened: bool,
    /// The profiles chosen with `P`, used for loading and `up`.
    pub profiles: Vec<String>,
    /// A load is under way.
    pub loading: bool,
    /// The last load: the project, or why it failed (kept while a new load runs).
    pub loaded: Option<Result<StackInfo, String>>,
}

impl StackFile {
    pub fn key(&self) -> String {
        self.files.join(",")
    }

    pub fn info(&self) -> Option<&StackInfo> {
        self.loaded.as_ref().and_then(|l| l.as_ref().ok())
    }

    pub fn error(&self) -> Option<&str> {
        match &self.loaded {
            Some(Err(e)) => Some(e),
            _ => None,
        }
    }

    /// The project name it stands for: the loaded one, else the label's, else the file.
    pub fn project_name(&self) -> String {
        self.info()
            .map(|i| i.name.clone())
            .or_else(|| self.name.clone())
            .unwrap_or_else(|| self.key())
    }

    /// What the feed needs to load it again.
    pub fn load_request(&self) -> StackLoad {
        StackLoad {
            files: self.files.clone(),
            working_dir: self.working_dir.clone(),
            name: self.name.clone(),
            profiles: self.profiles.clone(),
        }
    }
}

/// `FeedRequest::LoadStack`: read a compose project (I/O: the feed does it).
#[derive(Debug, Clone, PartialEq)]
pub struct StackLoad {
    pub files: Vec<String>,
    pub working_dir: Option<String>,
    pub name: Option<String>,
    pub profiles: Vec<String>,
}

impl StackLoad {
    pub fn key(&self) -> String {
        self.files.join(",")
    }
}

/// Which project a verb works on: its name, and the files when known (`up` needs them; `down`,
/// `stop` and `restart` work from the name alone, as docker compose's `-p NAME` does).
#[derive(Debug, Clone, PartialEq)]
pub struct StackTarget {
    pub name: String,
    /// `None`: no file known, the verb works by name.
    pub load: Option<StackLoad>,
}

/// The verbs the Stacks view runs, as `berth compose` flags would say them.
#[derive(Debug, Clone, PartialEq)]
pub enum StackOp {
    /// `up -d`.
    Up,
    /// `down` (`-v`: its volumes too).
    Down {
        volumes: bool,
    },
    Restart,
    Stop,
    Start,
    Pull,
    /// `up -d --build --no-deps SERVICE`.
    Build {
        service: String,
    },
    /// `up -d --force-recreate --no-deps SERVICE`.
    Recreate {
        service: String,
    },
    /// `up -d --scale SERVICE=N --no-deps SERVICE`.
    Scale {
        service: String,
        replicas: i64,
    },
}

impl StackOp {
    /// The task list's title: `up shop`, `scale shop web=3`.
    pub fn title(&self, project: &str) -> String {
        match self {
            StackOp::Up => format!("up {project}"),
            StackOp::Down { volumes: true } => format!("down -v {project}"),
            StackOp::Down { volumes: false } => format!("down {project}"),
            StackOp::Restart => format!("restart {project}"),
            StackOp::Stop => format!("stop {project}"),
            StackOp::Start => format!("start {project}"),
            StackOp::Pull => format!("pull {project}"),
            StackOp::Build { service } => format!("build {project} {service}"),
            StackOp::Recreate { service } => format!("recreate {project} {service}"),
            StackOp::Scale { service, replicas } => {
                format!("scale {project} {service}={replicas}")
            }
        }
    }

    /// Whether the verb needs the compose file (the rest work from the name).
    pub fn needs_file(&self) -> bool {
        !matches!(
            self,
            StackOp::Down { .. } | StackOp::Restart | StackOp::Stop
        )
    }
}

/// `FeedRequest::Stack`: a verb, its progress on the task's stream.
#[derive(Debug, Clone, PartialEq)]
pub struct StackRun {
    pub key: crate::dashboard::msg::StreamKey,
    pub target: StackTarget,
    pub op: StackOp,
}

/// What the store does with a load's answer.
pub fn apply_loaded(files: &mut [StackFile], key: &str, result: Result<StackInfo, String>) {
    if let Some(f) = files.iter_mut().find(|f| f.key() == key) {
        f.loading = false;
        f.loaded = Some(result);
    }
}
