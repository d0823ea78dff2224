//! RUN: the command runs as a real container on the previous step's image, through the same
//! container service as `docker run` (default capabilities and seccomp, the build's network and
//! resource limits), with its output streamed into the build as it comes. The container's
//! overlay upper dir, less the mount points the engine made, becomes the step's layer.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use serde_json::json;

use super::mounts::StepMounts;
use super::output::Out;
use super::stage::{StageState, StepDone};
use super::{Build, BuildFailure, BUILD_CONTAINER_LABEL, PROXY_ARGS};
use crate::dockerfile::{CommandForm, Run};
use crate::error::EngineError;
use crate::model::container::CreateRequest;
use crate::service::container::logs::{self, LogOptions};

/// Most of a step's output kept in its build record (the tail).
const LOG_KEEP: usize = 64 << 10;

/// The command line a RUN executes (heredocs folded in, as BuildKit runs them).
pub fn command_of(st: &StageState, r: &Run) -> Vec<String> {
    match &r.command {
        CommandForm::Exec(v) => v.clone(),
        CommandForm::Shell(s) => {
            let mut script = s.clone();
            let only_heredoc = r.heredocs.len() == 1
                && s.trim().starts_with("<<")
                && !s.trim().contains(char::is_whitespace);
            if only_heredoc {
                // `RUN <<EOT` alone: the heredoc is the script.
                script = heredoc_body(&r.heredocs[0]);
            } else {
                // `RUN cmd <<EOT`: the shell itself feeds the heredoc to the command.
                for h in &r.heredocs {
                    script.push('\n');
                    script.push_str(&heredoc_body(h));
                    script.push_str(&h.name);
                }
            }
            let mut cmd = st.shell();
            cmd.push(script);
            cmd
        }
    }
}

/// A heredoc's body (`<<-` tabs already stripped by the parser).
fn heredoc_body(h: &crate::dockerfile::Heredoc) -> String {
    h.content.clone()
}

/// The build args a RUN sees and records (`|N K=V ...` in its history): the stage's declared
/// ARGs with values, plus proxy args given on the command line.
pub fn run_args(b: &Build, st: &StageState) -> BTreeMap<String, String> {
    let mut args = st.args.clone();
    for p in PROXY_ARGS {
        if let Some(Some(v)) = b.opts.build_args.get(*p) {
            args.entry(p.to_string()).or_insert_with(|| v.clone());
        }
    }
    args
}

pub async fn run(
    b: &Arc<Build>,
    st: &mut StageState,
    r: &Run,
    number: usize,
    out: &Out,
) -> Result<StepDone, BuildFailure> {
    let cmd = command_of(st, r);
    // dockerd's rules (buildargs.go FilterAllowed, prependEnvOnCmd): the args a RUN sees are the
    // stage's ARGs with values and the proxy args given, less those ENV overrides; when there
    // are any, the history starts `|N` followed by the declared ones, sorted (proxy args never
    // appear, but still make the prefix).
    let mut env: Vec<String> = st.img.config.env.clone().unwrap_or_default();
    let env_keys: std::collections::HashSet<String> = env
        .iter()
        .map(|e| e.split('=').next().unwrap_or_default().to_string())
        .collect();
    let allowed: BTreeMap<String, String> = run_args(b, st)
        .into_iter()
        .filter(|(k, _)| !env_keys.contains(k))
        .collect();
    let mut recorded: Vec<String> = allowed
        .iter()
        .filter(|(k, _)| st.args.contains_key(*k))
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    recorded.sort();
    let created_by = if allowed.is_empty() {
        cmd.join(" ")
    } else {
        let mut parts = vec![format!("|{}", recorded.len())];
        parts.extend(recorded.iter().cloned());
        parts.extend(cmd.iter().cloned());
        parts.join(" ")
    };
    for (k, v) in &allowed {
        env.push(format!("{k}={v}"));
    }
    let vars = st.vars();
    let specs = r.expand_mounts(&st.lex, &vars).map_err(|e| BuildFailure {
        message: e.to_string(),
        code: None,
        http_status: 500,
    })?;
    let mounts = StepMounts::prepare(b, st, &specs).await?;
    let network = r
        .network
        .clone()
        .filter(|n| n != "default")
        .unwrap_or_else(|| b.opts.network_mode.clone());
    let parent = st.image.clone();
    let key = super::cache::key(&[
        b"RUN",
        parent.as_deref().unwrap_or("scratch").as_bytes(),
        created_by.as_bytes(),
        env.join("\n").as_bytes(),
        st.img.config.user.as_bytes(),
        st.img.config.working_dir.as_bytes(),
        mounts.cache_key().as_bytes(),
        network.as_bytes(),
        r.security.as_deref().unwrap_or("").as_bytes(),
        &serde_json::to_vec(&st.img.config).unwrap_or_default(),
    ]);
    if let Some(done) = st.try_cache(b, &key)? {
        return Ok(done);
    }
    let Some(image) = parent.clone() else {
        return Err(BuildFailure {
            message: format!(
                "failed to run '{}': the stage has no filesystem yet (FROM scratch): no command can run",
                cmd.join(" ")
            ),
            code: Some(127),
            http_status: 500,
        });
    };

    let mut host = json!({
        "NetworkMode": network_mode(&network),
        "Memory": b.opts.memory,
        "MemorySwap": b.opts.memory_swap,
        "CpuShares": b.opts.cpu_shares,
        "CpuPeriod": b.opts.cpu_period,
        "CpuQuota": b.opts.cpu_quota,
        "CpusetCpus": b.opts.cpuset_cpus,
        "ExtraHosts": b.opts.extra_hosts,
        "Mounts": mounts.api_mounts(),
    });
    if b.opts.shm_size > 0 {
        host["ShmSize"] = json!(b.opts.shm_size);
    }
    if let Some(u) = &b.opts.ulimits {
        host["Ulimits"] = u.clone();
    }
    if r.security.as_deref() == Some("insecure") {
        host["Privileged"] = json!(true);
    }
    let body = json!({
        "Image": image,
        "Cmd": cmd,
        "Entrypoint": [""],
        // Secrets given as variables reach the process only, never the key or the history.
        "Env": env.iter().chain(&mounts.secret_env).collect::<Vec<_>>(),
        "User": st.img.config.user,
        "WorkingDir": st.img.config.working_dir,
        "Labels": { BUILD_CONTAINER_LABEL: b.record_id() },
        // A RUN step is not a service: no health probes while it runs.
        "Healthcheck": { "Test": ["NONE"] },
        "HostConfig": host,
    });
    let req: CreateRequest = serde_json::from_value(body)
        .map_err(|e| EngineError::internal(format!("build container request: {e}")))?;
    let engine = &b.engine;
    let (cid, _) = engine.containers.create(&engine.images, None, req).await?;
    out.stream(&format!(" ---> Running in {}\n", &cid[..12]));
    let result = execute(b, &cid, number, out).await;
    let code = match result {
        Ok(code) => code,
        Err(e) => {
            let _ = engine.containers.remove(&cid, true).await;
            mounts.release(b);
            return Err(e);
        }
    };
    if code != 0 {
        if b.opts.force_rm {
            let _ = engine.containers.remove(&cid, true).await;
        }
        mounts.release(b);
        let what = match &r.command {
            CommandForm::Exec(v) => format!("[{}]", v.join(" ")),
            CommandForm::Shell(_) => cmd.join(" "),
        };
        let what = if matches!(r.command, CommandForm::Exec(_)) {
            // dockerd prints the exec form's argv joined, like the shell form.
            what.trim_start_matches('[')
                .trim_end_matches(']')
                .to_string()
        } else {
            what
        };
        return Err(BuildFailure {
            message: format!("The command '{what}' returned a non-zero code: {code}"),
            code: Some(code),
            http_status: 500,
        });
    }
    // The layer: the container's changes, less the mount points it was given.
    let upper = engine
        .containers
        .dir(&cid)
        .join(crate::runtime::spec::files::UPPER);
    let lowers = engine.images.resolve(&image)?.layer_dirs;
    let targets = mounts.targets();
    // The container's upper dir becomes the layer unless the container is kept (`--rm=false`).
    let removed = b.opts.rm || b.opts.force_rm;
    let layer = {
        let images = engine.images.clone();
        tokio::task::spawn_blocking(move || {
            crate::builder::rootfs::clean_mount_stubs(&upper, &lowers, &targets)?;
            crate::builder::rootfs::ingest_upper(&images, &upper, removed)
        })
        .await
        .map_err(|e| EngineError::internal(format!("layer task failed: {e}")))??
    };
    mounts.release(b);
    if removed {
        out.stream(&format!("Removing intermediate container {}\n", &cid[..12]));
        let _ = engine.containers.remove(&cid, true).await;
    }
    st.commit(b, &created_by, layer, key).await
}

fn network_mode(n: &str) -> String {
    match n {
        "" | "default" => "bridge".into(),
        other => other.to_string(),
    }
}

/// Start the container, stream its output into the build, and wait for its exit status. A
/// departed client stops it.
async fn execute(b: &Arc<Build>, cid: &str, number: usize, out: &Out) -> Result<i32, BuildFailure> {
    let engine = &b.engine;
    let exited = engine.containers.wait(cid, "next-exit")?;
    // A RUN may take long: the record on disk says so before it starts.
    b.save_progress_now();
    engine.containers.start(cid).await?;
    let container = engine.containers.get(cid)?;
    let mut rx = logs::stream(
        container,
        engine.containers.log_path(cid),
        LogOptions {
            stdout: true,
            stderr: true,
            since: None,
            until: None,
            timestamps: false,
            tail: None,
            follow: true,
            tty: false,
        },
    );
    let mut cancelled = b.cancelled.subscribe();
    let mut log = String::new();
    loop {
        tokio::select! {
            chunk = rx.recv() => {
                let Some(chunk) = chunk else { break };
                for (stream, text) in crate::model::stream::decode_frames(&chunk) {
                    let text = String::from_utf8_lossy(&text).into_owned();
                    if stream == 2 {
                        out.stderr(&text);
                    } else {
                        out.stream(&text);
                    }
                    log.push_str(&text);
                    if log.len() > 2 * LOG_KEEP {
                        let cut = log.len() - LOG_KEEP;
                        let cut = (cut..log.len()).find(|i| log.is_char_boundary(*i)).unwrap_or(cut);
                        log.drain(..cut);
                    }
                }
            }
            _ = async { let _ = cancelled.wait_for(|c| *c).await; } => {
                let _ = engine.containers.kill(cid, Some("SIGKILL")).await;
                b.step(number, |s| s.log = log.clone());
                return Err(BuildFailure { message: "the build was cancelled".into(), code: None , http_status: 500});
            }
        }
    }
    b.step(number, |s| s.log = log);
    let (code, err) = tokio::time::timeout(Duration::from_secs(60), exited)
        .await
        .map_err(|_| EngineError::internal("the build container did not report its exit"))?
        .map_err(|_| EngineError::internal("the build container vanished"))?;
    if let Some(e) = err.filter(|e| !e.is_empty()) {
        if code != 0 {
            return Err(BuildFailure {
                message: e,
                code: Some(code),
                http_status: 500,
            });
        }
    }
    Ok(code)
}
