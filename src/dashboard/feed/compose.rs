//! Compose for the Stacks view, through the same library `berth compose` uses: reading a
//! project (`compose::project::load`: files, `.env`, interpolation — I/O, so here and not in
//! the app) into what the view shows, and running a verb (`compose::converge`) with its
//! progress events forwarded, in order, to the task's stream as JSON progress lines the task
//! list already understands (`{"id": "Container shop-web-1", "status": "Started"}`).

use anyhow::{anyhow, Result};
use serde_json::json;
use tokio::sync::mpsc::{unbounded_channel, Sender};

use crate::client::Client;
use crate::commands::compose::up::apply_scale;
use crate::compose::converge::build::BuildOptions;
use crate::compose::converge::down::{down, DownOptions};
use crate::compose::converge::images::{image_name, pull_image};
use crate::compose::converge::{
    create, start, stop, BuildPolicy, Compose, CreateOptions, Event, Progress, Recreate,
    StartOptions, Status,
};
use crate::compose::options::ProjectFlags;
use crate::compose::project::{self, LoadOptions};
use crate::compose::types::{escape_dollar_sign, to_yaml, Project};
use crate::dashboard::msg::{Msg, StreamItem};
use crate::dashboard::store::stacks::{ServiceInfo, StackInfo, StackLoad, StackOp, StackRun};

/// Reads the project `req` names, as `berth compose -f FILE… -p NAME --project-directory DIR
/// --profile P…` would (blocking: call it off the async threads).
pub fn load_project(req: &StackLoad) -> Result<Project> {
    let cwd = std::env::current_dir()?;
    let env = std::env::vars().collect();
    let flags = ProjectFlags {
        files: req.files.clone(),
        project_name: req.name.clone(),
        profiles: req.profiles.clone(),
        env_files: Vec::new(),
        project_directory: req.working_dir.clone(),
    };
    let loaded = project::load(&flags, &env, &cwd, &LoadOptions::default())?;
    Ok(loaded.project)
}

/// What the view shows of a project.
pub fn info(p: &Project) -> StackInfo {
    let mut profiles: Vec<String> = p
        .services
        .values()
        .chain(p.disabled_services.values())
        .flat_map(|s| s.profiles.iter().cloned())
        .collect();
    profiles.sort();
    profiles.dedup();
    StackInfo {
        name: p.name.clone(),
        working_dir: p.working_dir.clone(),
        config_files: p.compose_files.clone(),
        services: p
            .services
            .values()
            .map(|s| ServiceInfo {
                name: s.name.clone(),
                image: image_name(&p.name, s),
                scale: s.get_scale(),
                ports: s
                    .ports
                    .iter()
                    .map(|port| match port.published.as_str() {
                        "" => format!("{}/{}", port.target, port.protocol),
                        host => format!("{host}:{}/{}", port.target, port.protocol),
                    })
                    .collect(),
                build: s.build.is_some(),
            })
            .collect(),
        profiles,
        // As `berth compose config` prints it (a `$` left in the model is escaped again).
        yaml: escape_dollar_sign(&to_yaml(p)),
    }
}

/// `FeedRequest::LoadStack`, answered with `Msg::StackLoaded`.
pub async fn load(req: StackLoad) -> Msg {
    let key = req.key();
    let result = tokio::task::spawn_blocking(move || load_project(&req).map(|p| info(&p)))
        .await
        .map_err(|e| anyhow!("reading the compose file: {e}"))
        .and_then(|r| r)
        .map_err(|e| format!("{e:#}"));
    Msg::StackLoaded { key, result }
}

/// Runs the verb; its progress goes to the task's stream while it runs. The caller reports the
/// end (after this returns every event has been sent).
pub async fn run(client: &Client, req: &StackRun, items: &Sender<Msg>) -> Result<()> {
    let (tx, mut rx) = unbounded_channel::<Event>();
    // The library reports from inside its futures (a plain callback): an unbounded hop keeps
    // it from waiting, and one forwarder keeps the events in order on the bounded queue.
    let progress = Progress::new(move |e| {
        let _ = tx.send(e.clone());
    });
    let key = req.key.clone();
    let out = items.clone();
    let forward = tokio::spawn(async move {
        while let Some(e) = rx.recv().await {
            let mut v = json!({"id": e.id, "status": e.text});
            if e.status == Status::Error {
                v = json!({"id": e.id, "status": format!("Error {}", e.text)});
            }
            let msg = Msg::Stream {
                key: key.clone(),
                item: StreamItem::Json(v),
            };
            if out.send(msg).await.is_err() {
                return;
            }
        }
    });
    let compose = Compose::new(client.clone(), progress);
    let result = verb(&compose, req).await;
    // Closing the last sender ends the forwarder once it has sent everything.
    drop(compose);
    let _ = forward.await;
    result
}

async fn verb(compose: &Compose, req: &StackRun) -> Result<()> {
    let name = &req.target.name;
    let project = match &req.target.load {
        Some(l) => {
            let l = l.clone();
            match tokio::task::spawn_blocking(move || load_project(&l)).await? {
                Ok(p) => Some(p),
                // down, stop and restart work from the name when the file is gone.
                Err(_) if !req.op.needs_file() => None,
                Err(e) => return Err(e),
            }
        }
        None if req.op.needs_file() => {
            return Err(anyhow!(
                "no compose file known for project {name:?}: open it with o"
            ))
        }
        None => None,
    };
    match (&req.op, project) {
        (StackOp::Down { volumes }, p) => {
            let opts = DownOptions {
                volumes: *volumes,
                ..DownOptions::default()
            };
            down(compose, name, p.as_ref(), &opts).await
        }
        (StackOp::Stop, p) => stop::stop(compose, name, &[], None, p.as_ref()).await,
        (StackOp::Restart, p) => stop::restart(compose, name, &[], None, p.as_ref()).await,
        (_, None) => Err(anyhow!("no compose file known for project {name:?}")),
        (StackOp::Start, Some(p)) => start::start(compose, &p, &StartOptions::default()).await,
        (StackOp::Up, Some(mut p)) => up(compose, &mut p, &[], Recreate::Diverged, false).await,
        (StackOp::Pull, Some(p)) => pull(compose, &p).await,
        (StackOp::Build { service }, Some(p)) => {
            let mut p = project::select(p, std::slice::from_ref(service), false)?;
            up(
                compose,
                &mut p,
                std::slice::from_ref(service),
                Recreate::Diverged,
                true,
            )
            .await
        }
        (StackOp::Recreate { service }, Some(p)) => {
            let mut p = project::select(p, std::slice::from_ref(service), false)?;
            up(
                compose,
                &mut p,
                std::slice::from_ref(service),
                Recreate::Force,
                false,
            )
            .await
        }
        (StackOp::Scale { service, replicas }, Some(mut p)) => {
            apply_scale(&mut p, &[format!("{service}={replicas}")])?;
            let mut p = project::select(p, std::slice::from_ref(service), false)?;
            up(
                compose,
                &mut p,
                std::slice::from_ref(service),
                Recreate::Diverged,
                false,
            )
            .await
        }
    }
}

/// `up -d` of `services` (empty: all), as `berth compose up` does it.
async fn up(
    compose: &Compose,
    p: &mut Project,
    services: &[String],
    recreate: Recreate,
    build: bool,
) -> Result<()> {
    let opts = CreateOptions {
        services: services.to_vec(),
        recreate,
        inherit: true,
        build: if build {
            BuildPolicy::Always
        } else {
            BuildPolicy::IfMissing
        },
        build_options: BuildOptions {
            show_output: false,
            ..BuildOptions::default()
        },
        ..CreateOptions::default()
    };
    create::create(compose, p, &opts).await?;
    start::start(
        compose,
        p,
        &StartOptions {
            services: services.to_vec(),
            ..StartOptions::default()
        },
    )
    .await
}

/// `pull`: every service's image, one after the other (their progress lines interleave less).
async fn pull(compose: &Compose, p: &Project) -> Result<()> {
    let mut done: Vec<&str> = Vec::new();
    for s in p.services.values() {
        if s.image.is_empty() || done.contains(&s.image.as_str()) {
            continue;
        }
        pull_image(compose, &s.image, &s.platform).await?;
        done.push(&s.image);
    }
    Ok(())
}

/// The compose file `o` offers first: the one compose's discovery picks in `dir`.
pub fn default_file(dir: &std::path::Path) -> String {
    crate::compose::options::DEFAULT_FILES
        .iter()
        .find(|f| dir.join(f).is_file())
        .map(|f| format!("./{f}"))
        .unwrap_or_else(|| "./compose.yaml".into())
}
