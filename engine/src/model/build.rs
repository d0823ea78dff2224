//! Build records: what the engine keeps about each build it ran (bounded, under the data root) and
//! serves at `GET /berth/v1/builds` (summaries, newest first) and `GET /berth/v1/builds/{id}` (one
//! build with every step's log). docker has no such endpoint; the dashboard's Builds view reads it.
//! snake_case on the wire, like berth's other `/berth/v1/` answers.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Where a build is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BuildStatus {
    Running,
    Succeeded,
    Failed,
    /// The client went away (or the engine stopped) before the build finished.
    Cancelled,
}

/// Where one step is. A step is one Dockerfile instruction (a stage's FROM included), numbered
/// as docker's `Step i/n` lines number them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StepStatus {
    Pending,
    Running,
    /// Its result came from the build cache.
    Cached,
    /// It ran and committed its result.
    Done,
    Failed,
}

/// One build, as `GET /berth/v1/builds/{id}` answers it. The list endpoint sends the same shape
/// with every step's `log` left empty.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BuildRecord {
    /// 64 hex digits (the list shows the first 12).
    pub id: String,
    /// `-t` tags, as given ("name:tag" normalised by the engine).
    #[serde(default)]
    pub tags: Vec<String>,
    /// The directory the client built from, when the client says (berth's CLI and dashboard send
    /// it in `X-Berth-Build-Context`); what "rebuild" re-sends.
    #[serde(default)]
    pub context_dir: Option<String>,
    /// The Dockerfile's path inside the context (the `dockerfile` query parameter).
    pub dockerfile: String,
    #[serde(default)]
    pub target: Option<String>,
    /// `--build-arg` names and values (build args are not secrets; secrets never appear here).
    #[serde(default)]
    pub build_args: BTreeMap<String, String>,
    pub status: BuildStatus,
    /// RFC 3339.
    pub started: String,
    /// RFC 3339, once finished.
    #[serde(default)]
    pub finished: Option<String>,
    /// Wall time, once finished.
    #[serde(default)]
    pub duration_ms: Option<u64>,
    /// The built image ("sha256:..."), on success.
    #[serde(default)]
    pub image_id: Option<String>,
    /// Why it failed, in the words the client was sent.
    #[serde(default)]
    pub error: Option<String>,
    #[serde(default)]
    pub steps: Vec<BuildStep>,
}

/// One step of a build.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BuildStep {
    /// 1-based, docker's `Step i/n` numbering.
    pub number: usize,
    /// The stage this step belongs to: its name, or its index when unnamed.
    pub stage: String,
    /// The instruction as docker prints it after `Step i/n : `.
    pub instruction: String,
    pub status: StepStatus,
    #[serde(default)]
    pub duration_ms: Option<u64>,
    /// Bytes of the layer this step added (None for steps that only change the config).
    #[serde(default)]
    pub layer_size: Option<u64>,
    /// The image this step committed ("sha256:...").
    #[serde(default)]
    pub image_id: Option<String>,
    /// What the step printed (a RUN's output; bounded, the tail kept).
    #[serde(default)]
    pub log: String,
}

impl BuildRecord {
    /// The list endpoint's form: the same record without step logs.
    pub fn summary(&self) -> BuildRecord {
        let mut s = self.clone();
        for step in &mut s.steps {
            step.log.clear();
        }
        s
    }
}
