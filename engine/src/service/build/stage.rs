//! One stage of a build: its FROM, ONBUILD triggers of the base, then each instruction as a step
//! (`Step i/n : ...`), with the cache consulted first. Instructions that only change the config
//! (ENV, LABEL, CMD, ...) are handled here; RUN in `run`, COPY/ADD in `copy`. Every step commits
//! an intermediate image (`commit`), recorded in the cache index under the step's key.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

use serde_json::{json, Value};

use super::cache::{self, CacheEntry};
use super::config::{
    go_list, go_quote_list, healthcheck_history, healthcheck_test, set_env, ImageState,
};
use super::output::Out;
use super::plan::Base;
use super::{Build, BuildFailure};
use crate::dockerfile::{self, CommandForm, Instruction, Kind, ShellLex, Stage};
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

fn fail(message: impl Into<String>) -> BuildFailure {
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

    fn expand(&self, word: &str) -> Result<String, BuildFailure> {
        self.lex
            .expand_word(word, &self.vars())
            .map_err(|e| fail(e.to_string()))
    }

    fn expand_words(&self, word: &str) -> Result<Vec<String>, BuildFailure> {
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
        b.builds().cache.touch(entry);
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
    async fn config_step(
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

/// Append `labels=` of the query as a LABEL step (dockerd adds it to the target stage).
pub fn append_labels(stage: &mut Stage, labels: &BTreeMap<String, String>) {
    let pairs: Vec<(String, String)> = labels.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    let text = pairs
        .iter()
        .map(|(k, v)| format!("{}={}", quote_word(k), quote_word(v)))
        .collect::<Vec<_>>()
        .join(" ");
    let location = stage
        .instructions
        .last()
        .map(|i| i.location)
        .unwrap_or(stage.from.location);
    stage.instructions.push(Instruction {
        kind: Kind::Label(
            pairs
                .iter()
                .map(|(k, v)| (quote_word(k), quote_word(v)))
                .collect(),
        ),
        original: format!("LABEL {text}"),
        location,
    });
}

/// A word as a Dockerfile would spell it so that expansion gives it back unchanged: double
/// quotes when it has anything the lexer treats specially.
fn quote_word(w: &str) -> String {
    if !w.is_empty()
        && !w
            .chars()
            .any(|c| c.is_whitespace() || matches!(c, '"' | '\'' | '$' | '\\' | '`' | '='))
    {
        return w.to_string();
    }
    let mut out = String::from("\"");
    for c in w.chars() {
        if matches!(c, '"' | '$' | '\\' | '`') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
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
            let done = dispatch(b, &mut st, ins, first, out).await?;
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
        let done = match dispatch(b, &mut st, ins, number, out).await {
            Ok(d) => d,
            Err(e) => {
                b.step(number, |s| {
                    s.status = StepStatus::Failed;
                    s.duration_ms = Some(started.elapsed().as_millis() as u64);
                });
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

/// Carry out one instruction.
async fn dispatch(
    b: &Arc<Build>,
    st: &mut StageState,
    ins: &Instruction,
    number: usize,
    out: &Out,
) -> Result<StepDone, BuildFailure> {
    match &ins.kind {
        Kind::From => Err(fail("FROM inside a stage")),
        Kind::Run(r) => super::run::run(b, st, r, number, out).await,
        Kind::Copy(c) => super::copy::run(b, st, c, false, number).await,
        Kind::Add(c) => super::copy::run(b, st, c, true, number).await,
        Kind::Workdir(w) => super::copy::workdir(b, st, w).await,
        Kind::Env(pairs) => {
            let mut text = Vec::new();
            for (k, v) in pairs {
                let key = st.expand(k)?;
                let value = st.expand(v)?;
                if key.is_empty() {
                    return Err(fail("ENV names can not be blank"));
                }
                let env = st.img.config.env.get_or_insert_with(Vec::new);
                set_env(env, &key, &value);
                text.push(format!("{key}={value}"));
            }
            st.config_step(b, &format!("ENV {}", text.join(" ")), "  ")
                .await
        }
        Kind::Label(pairs) => {
            let mut text = Vec::new();
            for (k, v) in pairs {
                let key = st.expand(k)?;
                let value = st.expand(v)?;
                if key.is_empty() {
                    return Err(fail("LABEL names can not be blank"));
                }
                st.img
                    .config
                    .labels
                    .get_or_insert_with(BTreeMap::new)
                    .insert(key.clone(), value.clone());
                text.push(format!("{key}={value}"));
            }
            st.config_step(b, &format!("LABEL {}", text.join(" ")), "  ")
                .await
        }
        Kind::Maintainer(m) => {
            let m = st.expand(m)?;
            st.img.author = Some(m.clone());
            st.config_step(b, &format!("MAINTAINER {m}"), "  ").await
        }
        Kind::Expose(words) => {
            let mut ports = Vec::new();
            for w in words {
                ports.extend(st.expand_words(w)?);
            }
            let exposed = st
                .img
                .config
                .exposed_ports
                .get_or_insert_with(BTreeMap::new);
            for p in &ports {
                for spec in expand_port(p)? {
                    exposed.insert(spec, json!({}));
                }
            }
            // dockerd's history lists the ports sorted (as strings).
            let mut listed = ports.clone();
            listed.sort();
            st.config_step(b, &format!("EXPOSE {}", listed.join(" ")), "  ")
                .await
        }
        Kind::Volume(words) => {
            let mut vols = Vec::new();
            for w in words {
                let v = st.expand(w)?;
                let v = v.trim().to_string();
                if v.is_empty() {
                    return Err(fail("VOLUME specified can not be an empty string"));
                }
                vols.push(v);
            }
            let map = st.img.config.volumes.get_or_insert_with(BTreeMap::new);
            for v in &vols {
                map.insert(v.clone(), json!({}));
            }
            st.config_step(b, &format!("VOLUME {}", go_list(&vols)), "  ")
                .await
        }
        Kind::User(u) => {
            let u = st.expand(u)?;
            st.img.config.user = u.clone();
            st.config_step(b, &format!("USER {u}"), "  ").await
        }
        Kind::Stopsignal(s) => {
            let s = st.expand(s)?;
            crate::util::signals::parse(&s).map_err(|_| fail(format!("Invalid signal: {s}")))?;
            st.img.config.stop_signal = Some(s.clone());
            st.config_step(b, &format!("STOPSIGNAL {s}"), "  ").await
        }
        Kind::Cmd(form) => {
            let cmd = command(st, form);
            st.img.config.cmd = Some(cmd.clone());
            st.cmd_set = true;
            st.config_step(b, &format!("CMD {}", go_quote_list(&cmd)), "  ")
                .await
        }
        Kind::Entrypoint(form) => {
            let ep = command(st, form);
            // `ENTRYPOINT []` (or a bare ENTRYPOINT) clears it: dockerd stores null.
            st.img.config.entrypoint = (!ep.is_empty()).then(|| ep.clone());
            if !st.cmd_set {
                st.img.config.cmd = None;
            }
            st.config_step(b, &format!("ENTRYPOINT {}", go_quote_list(&ep)), "  ")
                .await
        }
        Kind::Shell(sh) => {
            if sh.is_empty() {
                return Err(fail("SHELL requires at least one argument"));
            }
            st.img.config.shell = Some(sh.clone());
            st.config_step(b, &format!("SHELL {}", go_list(sh)), "  ")
                .await
        }
        Kind::Healthcheck(rest) => {
            let mut hc: Value = crate::model::health::parse_instruction(rest)?;
            // The history shows the instruction's own values; the config gets the merge below.
            let text = healthcheck_history(&hc);
            if let Some(old) = &st.img.config.healthcheck {
                let old_test = healthcheck_test(old);
                if old_test.first().is_some_and(|t| t != "NONE") {
                    out.stream(&format!(
                        "Note: overriding previous HEALTHCHECK: {}\n",
                        go_list(&old_test)
                    ));
                }
                // dockerd's commit merges the new config over the image's: the timings the
                // instruction leaves unset come from the previous HEALTHCHECK.
                for k in [
                    "Interval",
                    "Timeout",
                    "StartPeriod",
                    "StartInterval",
                    "Retries",
                ] {
                    let unset = hc.get(k).and_then(Value::as_i64).unwrap_or(0) == 0;
                    if let (true, Some(v)) =
                        (unset, old.get(k).filter(|v| v.as_i64().unwrap_or(0) != 0))
                    {
                        hc[k] = v.clone();
                    }
                }
            }
            st.img.config.healthcheck = Some(hc);
            st.config_step(b, &text, "  ").await
        }
        Kind::Arg(decls) => {
            let mut text = Vec::new();
            for a in decls {
                let value = match b.opts.build_args.get(&a.name) {
                    Some(Some(v)) => Some(v.clone()),
                    _ => match &a.default {
                        Some(d) => Some(st.expand(d)?),
                        // `ARG NAME` re-declaring a global ARG takes its value.
                        None => b.meta_args.get(&a.name).cloned(),
                    },
                };
                b.consumed_args
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .insert(a.name.clone());
                match value {
                    Some(v) => {
                        st.args.insert(a.name.clone(), v);
                    }
                    None => {
                        st.args.remove(&a.name);
                    }
                }
                text.push(match &a.default {
                    Some(d) => format!("{}={d}", a.name),
                    None => a.name.clone(),
                });
            }
            st.config_step(b, &format!("ARG {}", text.join(" ")), "  ")
                .await
        }
        Kind::Onbuild(trigger) => {
            let t = trigger.trim().to_string();
            st.img
                .config
                .on_build
                .get_or_insert_with(Vec::new)
                .push(t.clone());
            st.config_step(b, &format!("ONBUILD {t}"), "  ").await
        }
    }
}

/// CMD/ENTRYPOINT argv: the exec form as written, the shell form through the stage's shell.
fn command(st: &StageState, form: &CommandForm) -> Vec<String> {
    match form {
        CommandForm::Exec(v) => v.clone(),
        CommandForm::Shell(s) => {
            let mut c = st.shell();
            c.push(s.clone());
            c
        }
    }
}

/// One EXPOSE word as docker's nat.ParsePortSpecs reads it: `80`, `80/udp`, `8000-8002/tcp`.
fn expand_port(word: &str) -> Result<Vec<String>, BuildFailure> {
    let (ports, proto) = match word.split_once('/') {
        Some((p, proto)) => (p, proto.to_ascii_lowercase()),
        None => (word, "tcp".to_string()),
    };
    if !matches!(proto.as_str(), "tcp" | "udp" | "sctp") {
        return Err(fail(format!("invalid proto: {proto}")));
    }
    // An `ip:hostPort:containerPort` form keeps only the container port (docker warns).
    let ports = ports.rsplit(':').next().unwrap_or(ports);
    let bad = || fail(format!("invalid containerPort: {ports}"));
    let (lo, hi) = match ports.split_once('-') {
        Some((a, b)) => (
            a.parse::<u16>().map_err(|_| bad())?,
            b.parse::<u16>().map_err(|_| bad())?,
        ),
        None => {
            let p = ports.parse::<u16>().map_err(|_| bad())?;
            (p, p)
        }
    };
    if hi < lo {
        return Err(fail(format!(
            "invalid range specified for container port: {ports}"
        )));
    }
    Ok((lo..=hi).map(|p| format!("{p}/{proto}")).collect())
}

#[cfg(test)]
mod tests {
    use super::expand_port;

    #[test]
    fn ports_expand_as_docker() {
        assert_eq!(expand_port("80").unwrap(), vec!["80/tcp"]);
        assert_eq!(expand_port("53/UDP").unwrap(), vec!["53/udp"]);
        assert_eq!(
            expand_port("8000-8002").unwrap(),
            vec!["8000/tcp", "8001/tcp", "8002/tcp"]
        );
        assert!(expand_port("x").is_err());
        assert!(expand_port("80/foo").is_err());
    }
}
