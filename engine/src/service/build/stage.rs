//! One stage of a build: its FROM, ONBUILD triggers of the base, then each instruction as a step
//! (`Step i/n : ...`), with the cache consulted first; what each instruction does is in
//! `dispatch` (RUN in `run`, COPY/ADD/WORKDIR in `copy`). Every step commits
//! an intermediate image (`commit`), recorded in the cache index under the step's key.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

use super::cache::{self, CacheEntry};
use super::config::ImageState;
use super::output::Out;
use super::plan::Base;
use super::{Build, BuildFailure};
use crate::dockerfile::{self, ShellLex};
use crate::error::EngineError;
use crate::image::reference::Reference;
use crate::model::build::StepStatus;
use crate::service::image::commit_child::ChildImage;
use crate::service::image::ingest::{IngestLease, IngestedLayer};
use crate::service::image::pull::PullOptions;
use crate::service::image::pull_progress::Progress;
use crate::service::image::short_id;

/// Where a stage is between steps.
pub struct StageState {
    pub index: usize,
    /// The current image (None on `FROM scratch` before the first commit).
    pub image: Option<String>,
    pub img: ImageState,
    /// ARGs declared in this stage, with their values.
    pub args: BTreeMap<String, String>,
    /// Whether this stage set CMD (ENTRYPOINT then keeps it).
    pub cmd_set: bool,
    pub lex: ShellLex,
}

/// What a step ended with.
pub struct StepDone {
    pub cached: bool,
    pub layer_size: Option<u64>,
}

pub(super) fn fail(message: impl Into<String>) -> BuildFailure {
    BuildFailure {
        message: message.into(),
        code: None,
        http_status: 500,
    }
}

impl StageState {
    /// The variables word expansion sees: the stage's ARGs, overridden by ENV (docker's rule).
    pub fn vars(&self) -> BTreeMap<String, String> {
        let mut v = self.args.clone();
        for e in self.img.config.env.iter().flatten() {
            match e.split_once('=') {
                Some((k, val)) => v.insert(k.to_string(), val.to_string()),
                None => v.insert(e.clone(), String::new()),
            };
        }
        v
    }

    /// The shell for shell-form commands (SHELL, default `/bin/sh -c`).
    pub fn shell(&self) -> Vec<String> {
        match &self.img.config.shell {
            Some(s) if !s.is_empty() => s.clone(),
            _ => vec!["/bin/sh".into(), "-c".into()],
        }
    }

    pub(super) fn expand(&self, word: &str) -> Result<String, BuildFailure> {
        self.lex
            .expand_word(word, &self.vars())
            .map_err(|e| fail(e.to_string()))
    }

    pub(super) fn expand_words(&self, word: &str) -> Result<Vec<String>, BuildFailure> {
        self.lex
            .expand_words(word, &self.vars())
            .map_err(|e| fail(e.to_string()))
    }

    /// A cache hit for `key`: the state becomes the cached image's.
    pub fn try_cache(&mut self, b: &Build, key: &str) -> Result<Option<StepDone>, BuildFailure> {
        if b.opts.no_cache {
            return Ok(None);
        }
        let images = &b.engine.images;
        let Some(entry) = b.builds().cache.get(key, |id| images.contains(id)) else {
            return Ok(None);
        };
        if let Some(allowed) = &b.cache_allowed {
            if !allowed.contains(&entry.image) {
                return Ok(None);
            }
        }
        let Ok((id, bytes)) = images.config_bytes(&entry.image) else {
            return Ok(None);
        };
        let state = ImageState::from_base(Some(&bytes))
            .map_err(|e| fail(format!("cached image {id}: {e}")))?;
        self.img = state;
        self.image = Some(id);
        let size = (entry.size > 0).then_some(entry.size);
        // Only the entry's age changes: written off the build's path.
        let engine = b.engine.clone();
        tokio::task::spawn_blocking(move || engine.builds.cache.touch(entry));
        Ok(Some(StepDone {
            cached: true,
            layer_size: size,
        }))
    }

    /// Commit the step: history entry, optional layer, a child image of the current one, and
    /// the cache entry under `key`.
    pub async fn commit(
        &mut self,
        b: &Build,
        created_by: &str,
        layer: Option<(IngestLease, IngestedLayer)>,
        key: String,
    ) -> Result<StepDone, BuildFailure> {
        let created = crate::util::now_rfc3339();
        let parent = self.image.clone();
        let (lease, layer) = match layer {
            Some((l, layer)) => (l, Some(layer)),
            None => (b.engine.images.lease(), None),
        };
        let config = self.img.commit_bytes(
            parent.as_deref(),
            created_by,
            layer.as_ref().map(|l| l.diff_id.as_str()),
            &created,
        );
        let size = layer.as_ref().map(|l| l.content_size);
        let images = b.engine.images.clone();
        let child = ChildImage {
            parent: parent.clone(),
            layer,
            config,
        };
        let id = tokio::task::spawn_blocking(move || images.commit_child(lease, child))
            .await
            .map_err(|e| EngineError::internal(format!("commit task failed: {e}")))??;
        let now = crate::util::now_rfc3339();
        b.builds().cache.put(&CacheEntry {
            key,
            image: id.clone(),
            parent,
            description: created_by.to_string(),
            size: size.unwrap_or(0),
            created: now.clone(),
            last_used: now,
            usage_count: 0,
        })?;
        self.image = Some(id);
        Ok(StepDone {
            cached: false,
            layer_size: size,
        })
    }

    /// A step that only changes the config: cached by the parent, the history text and the
    /// resulting config.
    pub(super) async fn config_step(
        &mut self,
        b: &Build,
        history_text: &str,
        nop_spaces: &str,
    ) -> Result<StepDone, BuildFailure> {
        let created_by = format!(
            "{} #(nop){nop_spaces}{history_text}",
            self.shell().join(" ")
        );
        let key = cache::key(&[
            b"CONFIG",
            self.image.as_deref().unwrap_or("scratch").as_bytes(),
            created_by.as_bytes(),
            &serde_json::to_vec(&self.img.config).unwrap_or_default(),
            self.img.author.as_deref().unwrap_or("").as_bytes(),
        ]);
        if let Some(done) = self.try_cache(b, &key)? {
            return Ok(done);
        }
        self.commit(b, &created_by, None, key).await
    }
}

/// `--from=<stage|index|image>` → an image id (waiting for the stage when it is one).
pub async fn resolve_from(
    b: &Arc<Build>,
    index: usize,
    from: &str,
) -> Result<String, BuildFailure> {
    if let Some(j) = super::plan::stage_ref(&b.dockerfile, index, from) {
        return stage_image(b, j).await;
    }
    base_image(b, from, &Out::discard()).await
}

/// Wait for stage `j` to finish and give its image.
async fn stage_image(b: &Arc<Build>, j: usize) -> Result<String, BuildFailure> {
    let Some(tx) = b.stage_images.get(&j) else {
        return Err(fail(format!("stage {j} is not part of this build")));
    };
    let mut rx = tx.subscribe();
    let v = rx
        .wait_for(|v| v.is_some())
        .await
        .map_err(|_| fail("the build ended"))?
        .clone();
    match v {
        Some(Ok(id)) => Ok(id),
        Some(Err(e)) => Err(fail(e)),
        None => Err(fail("the build ended")),
    }
}

/// A base image by name: local, or pulled (always with `pull=1`), its progress in the build.
async fn base_image(b: &Arc<Build>, name: &str, out: &Out) -> Result<String, BuildFailure> {
    let images = &b.engine.images;
    if !b.opts.pull {
        if let Ok((id, _)) = images.config_bytes(name) {
            return Ok(id);
        }
    }
    let reference = Reference::parse(name)?.with_default_tag();
    let platform = match &b.opts.platform {
        Some(p) if !p.is_empty() => Some(crate::image::import::parse_platform(Some(p))?),
        _ => None,
    };
    let opts = PullOptions {
        credentials: b.credentials_for(&reference),
        reference: reference.clone(),
        platform,
    };
    let progress = Progress::new(out.sender());
    b.engine
        .pulls
        .run(images, &opts, None, &progress)
        .await
        .map_err(|e| {
            if matches!(e, EngineError::NotFound(_)) {
                fail(format!(
                    "pull access denied for {}, repository does not exist or may require 'docker login': {e}",
                    reference.familiar_name()
                ))
            } else {
                fail(e.to_string())
            }
        })?;
    Ok(images.config_bytes(&reference.full())?.0)
}

/// Run stage `index`: returns its final image.
pub async fn run(b: &Arc<Build>, index: usize, out: &Out) -> Result<String, BuildFailure> {
    let stage = &b.dockerfile.stages[index];
    let total = b.plan.total_steps;
    let first = b.plan.first_step[&index];
    // FROM
    let started = Instant::now();
    if let Some(p) = &stage.platform {
        // `FROM --platform=$BUILDPLATFORM` and the like: only the host's platform is built.
        let lex = ShellLex::new(b.dockerfile.escape);
        let mut vars = b.meta_args.clone();
        let host = crate::image::import::host_platform();
        let host_name = format!("linux/{}", host.architecture);
        for k in ["BUILDPLATFORM", "TARGETPLATFORM"] {
            vars.entry(k.to_string())
                .or_insert_with(|| host_name.clone());
        }
        vars.entry("BUILDOS".into())
            .or_insert_with(|| "linux".into());
        vars.entry("TARGETOS".into())
            .or_insert_with(|| "linux".into());
        vars.entry("BUILDARCH".into())
            .or_insert_with(|| host.architecture.clone());
        vars.entry("TARGETARCH".into())
            .or_insert_with(|| host.architecture.clone());
        let p = lex.expand_word(p, &vars).map_err(|e| fail(e.to_string()))?;
        let want = crate::image::import::parse_platform(Some(&p))?;
        if want.architecture != host.architecture {
            return Err(fail(format!(
                "FROM --platform={p}: berth builds for this machine's platform ({host_name}) only"
            )));
        }
    }
    out.stream(&format!("Step {first}/{total} : {}", stage.from.original));
    out.stream("\n");
    b.step(first, |s| s.status = StepStatus::Running);
    let (image, config) = match b.plan.bases[&index].clone() {
        Base::Scratch => (None, None),
        Base::Stage(j) => {
            let id = stage_image(b, j).await?;
            let (id, bytes) = b.engine.images.config_bytes(&id)?;
            (Some(id), Some(bytes))
        }
        Base::Image(name) => {
            let id = base_image(b, &name, out).await?;
            let (id, bytes) = b.engine.images.config_bytes(&id)?;
            (Some(id), Some(bytes))
        }
    };
    let img = ImageState::from_base(config.as_deref())
        .map_err(|e| fail(format!("base image config: {e}")))?;
    let mut st = StageState {
        index,
        image: image.clone(),
        img,
        args: BTreeMap::new(),
        cmd_set: false,
        lex: ShellLex::new(b.dockerfile.escape),
    };
    // dockerd prints " ---> " with nothing after it for scratch.
    out.stream(&format!(
        " ---> {}\n",
        image.as_deref().map(short_id).unwrap_or_default()
    ));
    // ONBUILD triggers of the base run right after FROM, then leave the config.
    let triggers = st.img.config.on_build.take().unwrap_or_default();
    if !triggers.is_empty() {
        let n = triggers.len();
        out.stream(&format!(
            "# Executing {n} build trigger{}\n",
            if n == 1 { "" } else { "s" }
        ));
        let parsed = dockerfile::parse_triggers(&triggers)
            .map_err(|e| fail(format!("failed to parse ONBUILD triggers: {e}")))?;
        for ins in &parsed {
            let done = super::dispatch::dispatch(b, &mut st, ins, first, out).await?;
            finish_step_output(&st, &done, out);
        }
    }
    b.step(first, |s| {
        s.status = StepStatus::Done;
        s.image_id = st.image.clone();
        s.duration_ms = Some(started.elapsed().as_millis() as u64);
    });

    for (k, ins) in stage.instructions.iter().enumerate() {
        if b.is_cancelled() {
            return Err(fail("the build was cancelled"));
        }
        let number = first + 1 + k;
        let started = Instant::now();
        out.stream(&format!("Step {number}/{total} : {}", ins.original));
        out.stream("\n");
        b.step(number, |s| s.status = StepStatus::Running);
        let done = match super::dispatch::dispatch(b, &mut st, ins, number, out).await {
            Ok(d) => d,
            Err(e) => {
                b.step(number, |s| {
                    s.status = StepStatus::Failed;
                    s.duration_ms = Some(started.elapsed().as_millis() as u64);
                });
                b.save_progress_now();
                return Err(e);
            }
        };
        finish_step_output(&st, &done, out);
        b.step(number, |s| {
            s.status = if done.cached {
                StepStatus::Cached
            } else {
                StepStatus::Done
            };
            s.layer_size = done.layer_size;
            s.image_id = st.image.clone();
            s.duration_ms = Some(started.elapsed().as_millis() as u64);
        });
        if !done.cached {
            b.save_progress_now();
        }
    }
    match st.image {
        Some(id) => Ok(id),
        None => Err(fail("No image was generated. Is your Dockerfile empty?")),
    }
}

fn finish_step_output(st: &StageState, done: &StepDone, out: &Out) {
    if done.cached {
        out.stream(" ---> Using cache\n");
    }
    if let Some(id) = &st.image {
        out.stream(&format!(" ---> {}\n", short_id(id)));
    }
}
