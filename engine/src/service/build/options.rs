//! What a build is asked for (`BuildOptions`, parsed by the api layer) and how one fails
//! (`BuildFailure`: docker's message, a RUN's exit code, the HTTP status while nothing was sent).

use std::collections::{BTreeMap, HashMap};

use crate::error::EngineError;
use crate::image::reference::Reference;
use crate::registry::auth::Credentials;

/// Build-time ARGs every Dockerfile may use without declaring them; they never land in the
/// image or its history (docker's builtinAllowedBuildArgs).
pub const PROXY_ARGS: &[&str] = &[
    "HTTP_PROXY",
    "http_proxy",
    "HTTPS_PROXY",
    "https_proxy",
    "FTP_PROXY",
    "ftp_proxy",
    "NO_PROXY",
    "no_proxy",
    "ALL_PROXY",
    "all_proxy",
];

/// What `POST /build` asks for, parsed and validated by the api layer.
#[derive(Debug, Clone, Default)]
pub struct BuildOptions {
    pub tags: Vec<Reference>,
    /// The Dockerfile's path inside the context ("" = "Dockerfile").
    pub dockerfile: String,
    pub quiet: bool,
    pub no_cache: bool,
    pub pull: bool,
    /// Remove intermediate containers after a successful step (docker's default).
    pub rm: bool,
    /// Remove them even after a failed step.
    pub force_rm: bool,
    pub target: Option<String>,
    /// `--build-arg`s; a null value means "declared but take the ARG's default".
    pub build_args: BTreeMap<String, Option<String>>,
    pub labels: BTreeMap<String, String>,
    pub cache_from: Vec<String>,
    pub network_mode: String,
    pub extra_hosts: Vec<String>,
    pub memory: i64,
    pub memory_swap: i64,
    pub cpu_shares: i64,
    pub cpuset_cpus: String,
    pub cpu_period: i64,
    pub cpu_quota: i64,
    pub shm_size: i64,
    pub ulimits: Option<serde_json::Value>,
    pub platform: Option<String>,
    /// `X-Registry-Config`: credentials per registry, for pulling base images.
    pub registry_auth: HashMap<String, Credentials>,
    /// The client's context directory (`X-Berth-Build-Context`), kept for rebuilds.
    pub context_dir: Option<String>,
    /// Build secrets by id (`X-Berth-Build-Secrets`); never written to an image or a log.
    pub secrets: HashMap<String, Vec<u8>>,
}

/// A failed build: the message docker sends, and a RUN's exit status when that is the cause.
#[derive(Debug)]
pub struct BuildFailure {
    pub message: String,
    pub code: Option<i32>,
    /// The HTTP status when the build fails before its first message (dockerd answers a bad
    /// Dockerfile with a 400, a missing one with a 500).
    pub http_status: u16,
}

impl From<EngineError> for BuildFailure {
    fn from(e: EngineError) -> Self {
        let http_status = match &e {
            EngineError::InvalidArgument(_) => 400,
            EngineError::NotFound(_) => 404,
            EngineError::Conflict(_) => 409,
            _ => 500,
        };
        BuildFailure {
            message: e.to_string(),
            code: None,
            http_status,
        }
    }
}
