//! The image builder (`POST /build`): docker's legacy builder, inside the engine.
//!
//! A build reads the Dockerfile from the received context (`builder::context`), plans the stages
//! the target needs (`plan`), and runs them, independent ones in parallel (`stages` starts and
//! forwards them, `stage` runs one; `options` is what was asked and how a build fails). Every
//! instruction is a step that commits an untagged intermediate image on the previous one, so
//! ` ---> <id>` lines name real images and `docker history` shows each step; RUN steps are real
//! containers (`run`), COPY/ADD write into a temporary overlay (`copy`). Each step's result is
//! remembered in the cache index (`cache`) under a BuildKit-like key, so an unchanged rebuild
//! gives the same image. The response is dockerd's stream (`output`); each build is also kept as
//! a record (`records`) for `GET /berth/v1/builds` and the dashboard. `prune` is
//! `POST /build/prune` and the build cache in `system df`.

pub mod cache;
pub mod config;
mod copy;
pub(crate) mod dispatch;
mod mounts;
mod options;
pub mod output;
pub mod plan;
pub mod prune;
pub mod records;
mod run;
mod stage;
mod stages;

pub use options::{BuildFailure, BuildOptions, PROXY_ARGS};
use stages::{finish_success, run_stages};

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use bytes::Bytes;
use tokio::sync::{mpsc, watch};

use crate::builder::context::BuildContext;
use crate::dockerfile::{self, Dockerfile, ShellLex};
use crate::error::Result;
use crate::image::reference::Reference;
use crate::model::build::{BuildRecord, BuildStatus, BuildStep, StepStatus};
use crate::registry::auth::Credentials;
use crate::service::Engine;

use cache::CacheIndex;
use output::Out;
use records::BuildRecords;

/// The builder's durable state under `<data>/builder/`.
pub struct BuildService {
    root: PathBuf,
    pub cache: CacheIndex,
    pub records: BuildRecords,
    /// Locks for `RUN --mount=type=cache,sharing=locked`, by cache id.
    cache_locks: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
    /// Cache mount ids in use right now (for `sharing=private`).
    cache_in_use: Mutex<HashMap<String, usize>>,
}

/// The label on a build's RUN containers; an engine that restarts removes what a killed build
/// left behind.
pub const BUILD_CONTAINER_LABEL: &str = "io.berth.build";

impl BuildService {
    pub fn open(data_root: &Path) -> Result<BuildService> {
        let root = data_root.join("builder");
        crate::store::blobs::ensure_private_dir(&root)?;
        // Scratch space of builds a killed engine left (contexts, overlays): nothing in it is
        // referenced by anything durable.
        let tmp = root.join("tmp");
        if tmp.exists() {
            crate::builder::rootfs::remove_scratch(&tmp);
        }
        crate::store::blobs::ensure_private_dir(&tmp)?;
        crate::store::blobs::ensure_private_dir(&root.join("mounts"))?;
        Ok(BuildService {
            cache: CacheIndex::open(&root)?,
            records: BuildRecords::open(&root)?,
            root,
            cache_locks: Mutex::new(HashMap::new()),
            cache_in_use: Mutex::new(HashMap::new()),
        })
    }

    /// A private scratch directory for one build's context and overlays.
    pub fn scratch(&self) -> PathBuf {
        self.root.join("tmp")
    }

    fn cache_mounts_dir(&self) -> PathBuf {
        self.root.join("mounts")
    }
}

/// One build in progress: what every stage shares.
pub(crate) struct Build {
    pub engine: Arc<Engine>,
    pub opts: BuildOptions,
    pub context: BuildContext,
    pub dockerfile: Dockerfile,
    pub plan: plan::Plan,
    /// Global ARGs (before the first FROM) with build args applied: what FROM lines see and
    /// what a stage's `ARG name` (without a value) inherits.
    pub meta_args: BTreeMap<String, String>,
    /// The images a step may take from the cache; None = any (no `cachefrom`).
    pub cache_allowed: Option<HashSet<String>>,
    pub record: Mutex<BuildRecord>,
    /// Build args some ARG declared (for docker's "were not consumed" warning).
    pub consumed_args: Mutex<HashSet<String>>,
    /// Each stage's final image, published when the stage ends.
    pub stage_images: BTreeMap<usize, watch::Sender<Option<std::result::Result<String, String>>>>,
    /// Set when the build must stop (a stage failed, or the client went away): running steps
    /// stop, no more steps start.
    pub cancelled: watch::Sender<bool>,
    /// The client went away (the record says `cancelled` rather than `failed`).
    pub client_left: std::sync::atomic::AtomicBool,
    /// This build's scratch dir (secrets, overlays); removed at the end.
    pub scratch: PathBuf,
    /// Saves the record as the steps go.
    pub progress: Arc<records::Progress>,
}

impl Build {
    pub fn builds(&self) -> &BuildService {
        &self.engine.builds
    }

    /// This build's record id (the label on its RUN containers).
    pub fn record_id(&self) -> String {
        self.record
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .id
            .clone()
    }

    pub fn is_cancelled(&self) -> bool {
        *self.cancelled.borrow()
    }

    /// Update one step of the record (step numbers are 1-based) and save it, so the
    /// dashboard follows a running build step by step.
    pub fn step(&self, number: usize, f: impl FnOnce(&mut BuildStep)) {
        let snapshot = {
            let mut r = self.record.lock().unwrap_or_else(|p| p.into_inner());
            if let Some(s) = r.steps.get_mut(number - 1) {
                f(s);
            }
            r.clone()
        };
        self.progress.update(snapshot);
    }

    /// Save the record as it is now, without waiting for the paced writer (after a step that
    /// did real work, before one that may take long: the dashboard and a restarted engine see
    /// how far the build got).
    pub fn save_progress_now(&self) {
        self.progress.flush();
    }

    /// Credentials for pulling `reference` from `X-Registry-Config`.
    pub fn credentials_for(&self, reference: &Reference) -> Option<Credentials> {
        let domain = reference.domain.as_str();
        let keys: Vec<String> = if domain == "docker.io" {
            vec![
                "https://index.docker.io/v1/".into(),
                "index.docker.io".into(),
                "docker.io".into(),
            ]
        } else {
            vec![
                domain.to_string(),
                format!("https://{domain}"),
                format!("http://{domain}"),
            ]
        };
        keys.iter()
            .find_map(|k| self.opts.registry_auth.get(k))
            .cloned()
    }
}

/// Run a build. Messages go to `tx` in dockerd's shapes; the build goes on (and its record is
/// finished) even when the client leaves, except that a departed client cancels it as docker
/// does. Returns the image id.
pub async fn run_build(
    engine: Arc<Engine>,
    opts: BuildOptions,
    context: BuildContext,
    tx: mpsc::UnboundedSender<Bytes>,
) -> std::result::Result<String, BuildFailure> {
    let started = Instant::now();
    let out = Out::new(tx.clone(), opts.quiet);
    let dockerfile_name = if opts.dockerfile.is_empty() {
        "Dockerfile".to_string()
    } else {
        opts.dockerfile.clone()
    };
    let mut record = BuildRecord {
        id: hex::encode(rand::random::<[u8; 32]>()),
        tags: opts.tags.iter().map(|t| t.familiar()).collect(),
        context_dir: opts.context_dir.clone(),
        dockerfile: dockerfile_name.clone(),
        target: opts.target.clone(),
        build_args: opts
            .build_args
            .iter()
            .filter_map(|(k, v)| v.clone().map(|v| (k.clone(), v)))
            .collect(),
        status: BuildStatus::Running,
        started: crate::util::now_rfc3339(),
        finished: None,
        duration_ms: None,
        image_id: None,
        error: None,
        steps: Vec::new(),
    };
    let prepared = prepare(&engine, &opts, &context, &dockerfile_name);
    let (dockerfile, plan, meta_args) = match prepared {
        Ok(p) => p,
        Err(e) => {
            record.status = BuildStatus::Failed;
            record.error = Some(e.message.clone());
            finish_record(&engine, record, started);
            return Err(e);
        }
    };
    for (k, ins) in dockerfile.global_arg_steps.iter().enumerate() {
        let mut step = step_entry(k + 1, "global", &ins.original);
        step.status = StepStatus::Done;
        record.steps.push(step);
    }
    for &i in &plan.stages {
        let stage = &dockerfile.stages[i];
        let label = stage.name.clone().unwrap_or_else(|| i.to_string());
        let first = plan.first_step[&i];
        record
            .steps
            .push(step_entry(first, &label, &stage.from.original));
        for (k, ins) in stage.instructions.iter().enumerate() {
            record
                .steps
                .push(step_entry(first + 1 + k, &label, &ins.original));
        }
    }
    let _ = engine.builds.records.write_progress(&record);

    let cache_allowed = if opts.cache_from.is_empty() {
        None
    } else {
        Some(engine.images.ancestry(&opts.cache_from))
    };
    let scratch = engine
        .builds
        .scratch()
        .join(format!("build-{}", &record.id[..16]));
    if let Err(e) = crate::store::blobs::ensure_private_dir(&scratch) {
        return Err(e.into());
    }
    let mut stage_images = BTreeMap::new();
    for &i in &plan.stages {
        stage_images.insert(i, watch::channel(None).0);
    }
    let build = Arc::new(Build {
        engine: engine.clone(),
        opts,
        context,
        dockerfile,
        plan,
        meta_args,
        cache_allowed,
        record: Mutex::new(record),
        consumed_args: Mutex::new(HashSet::new()),
        stage_images,
        cancelled: watch::channel(false).0,
        client_left: std::sync::atomic::AtomicBool::new(false),
        scratch,
        progress: {
            let engine = engine.clone();
            records::Progress::new(move |r| {
                if let Err(e) = engine.builds.records.write_progress(r) {
                    tracing::debug!(error = %e, "saving the build record failed");
                }
            })
        },
    });
    let progress_writer = tokio::spawn(build.progress.clone().run());

    // Global ARGs: steps with nothing to do but be printed.
    for (k, ins) in build.dockerfile.global_arg_steps.iter().enumerate() {
        out.stream(&format!(
            "Step {}/{} : {}",
            k + 1,
            build.plan.total_steps,
            ins.original
        ));
        out.stream("\n");
    }
    let result = run_stages(&build, &out).await;
    let result = match result {
        Ok(id) => finish_success(&build, &out, id).await,
        Err(e) => Err(e),
    };
    if let Err(f) = &result {
        out.release_held();
        out.error(f.code, &f.message);
    }
    // No progress save may land after the final one.
    build.progress.close();
    let _ = progress_writer.await;
    let mut record = build
        .record
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .clone();
    match &result {
        Ok(id) => {
            record.status = BuildStatus::Succeeded;
            record.image_id = Some(id.clone());
        }
        Err(e) => {
            record.status = if build.client_left.load(std::sync::atomic::Ordering::Relaxed) {
                BuildStatus::Cancelled
            } else {
                BuildStatus::Failed
            };
            record.error = Some(e.message.clone());
            for s in &mut record.steps {
                if s.status == StepStatus::Running {
                    s.status = StepStatus::Failed;
                }
            }
        }
    }
    finish_record(&engine, record, started);
    tracing::debug!(ms = started.elapsed().as_secs_f64() * 1e3, "build finished");
    // The client's stream ends here; the scratch dir and the context (a tmpfs, whose unmount
    // takes a while for a big one) go away behind it.
    drop(out);
    drop(tx);
    tokio::task::spawn_blocking(move || {
        crate::builder::rootfs::remove_scratch(&build.scratch);
        drop(build);
        let _ = engine.builds.records.trim();
    });
    result
}

fn step_entry(number: usize, stage: &str, instruction: &str) -> BuildStep {
    BuildStep {
        number,
        stage: stage.to_string(),
        instruction: instruction.to_string(),
        status: StepStatus::Pending,
        duration_ms: None,
        layer_size: None,
        image_id: None,
        log: String::new(),
    }
}

fn finish_record(engine: &Engine, mut record: BuildRecord, started: Instant) {
    record.finished = Some(crate::util::now_rfc3339());
    record.duration_ms = Some(started.elapsed().as_millis() as u64);
    if let Err(e) = engine.builds.records.write(&record) {
        tracing::warn!(error = %e, "writing the build record failed");
    }
}

/// Read and parse the Dockerfile, apply `.dockerignore`, plan the stages.
#[allow(clippy::type_complexity)]
fn prepare(
    engine: &Engine,
    opts: &BuildOptions,
    context: &BuildContext,
    dockerfile_name: &str,
) -> std::result::Result<(Dockerfile, plan::Plan, BTreeMap<String, String>), BuildFailure> {
    let _ = engine;
    // dockerd answers a missing Dockerfile with a 500, a bad one with a 400.
    let text = context
        .read_dockerfile(dockerfile_name)
        .map_err(|e| BuildFailure {
            message: e.to_string(),
            code: None,
            http_status: 500,
        })?;
    context.apply_ignore(dockerfile_name)?;
    let mut df = dockerfile::parse(&text).map_err(|e| BuildFailure {
        message: e.to_string(),
        code: None,
        http_status: 400,
    })?;
    let lex = ShellLex::new(df.escape);
    let mut meta = BTreeMap::new();
    for a in &df.global_args {
        let value = match opts.build_args.get(&a.name) {
            Some(Some(v)) => Some(v.clone()),
            _ => match &a.default {
                Some(d) => Some(lex.expand_word(d, &meta).map_err(|e| BuildFailure {
                    message: e.to_string(),
                    code: None,
                    http_status: 400,
                })?),
                None => None,
            },
        };
        if let Some(v) = value {
            meta.insert(a.name.clone(), v);
        }
    }
    let plan = plan::plan(&df, opts.target.as_deref(), &meta)?;
    // `labels=` is a LABEL step at the end of the target stage, as dockerd adds it.
    if !opts.labels.is_empty() {
        let target = *plan.stages.last().expect("a plan has a stage");
        dispatch::append_labels(&mut df.stages[target], &opts.labels);
        return Ok((
            df.clone(),
            plan::plan(&df, opts.target.as_deref(), &meta)?,
            meta,
        ));
    }
    Ok((df, plan, meta))
}
