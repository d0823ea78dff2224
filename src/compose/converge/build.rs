//! Building a service's image from its `build:` section with the engine's builder, as
//! `docker compose build` does with the classic builder: the context directory (or URL), the
//! Dockerfile (relative to the context, or `dockerfile_inline`), args, labels, target, network,
//! extra hosts, shm size, cache sources, secrets (from files or the environment), tagged with
//! the service's image name and its extra `tags`.

use std::path::{Path, PathBuf};

use anyhow::{anyhow, Result};

use super::images::image_name;
use super::Compose;
use crate::client::api::build::{registry_config, BuildParams};
use crate::client::build_context::{self, ContextSpec};
use crate::client::credentials::CredStore;
use crate::compose::progress::{Event, Status};
use crate::compose::types::{Project, ServiceConfig};

/// What `berth compose build` adds to every build.
#[derive(Debug, Clone, Default)]
pub struct BuildOptions {
    pub no_cache: bool,
    pub pull: bool,
    /// `--build-arg K=V` (or `K`, taken from the environment).
    pub args: Vec<String>,
    /// Print the builder's output (not with `-q`).
    pub show_output: bool,
}

/// The build parameters docker compose sends for `service`.
pub fn build_params(
    project: &Project,
    service: &ServiceConfig,
    opts: &BuildOptions,
) -> Result<BuildParams> {
    let b = service
        .build
        .as_ref()
        .ok_or_else(|| anyhow!("service {:?} has no build section", service.name))?;
    let mut p = BuildParams {
        tags: vec![image_name(&project.name, service)],
        rm: true,
        no_cache: b.no_cache || opts.no_cache,
        pull: b.pull || opts.pull,
        ..BuildParams::default()
    };
    p.tags.extend(b.tags.iter().cloned());
    for (k, v) in b.args.iter() {
        p.build_args.push((k.clone(), v.clone()));
    }
    for a in &opts.args {
        match a.split_once('=') {
            Some((k, v)) => p.build_args.push((k.to_string(), Some(v.to_string()))),
            None => p
                .build_args
                .push((a.clone(), project.environment.get(a).cloned())),
        }
    }
    p.labels = b
        .labels
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    p.target = Some(b.target.clone()).filter(|t| !t.is_empty());
    p.network = Some(b.network.clone()).filter(|n| !n.is_empty());
    p.extra_hosts = b
        .extra_hosts
        .iter()
        .flat_map(|(h, ips)| ips.iter().map(move |ip| format!("{h}:{ip}")))
        .collect();
    p.cache_from = b.cache_from.iter().cloned().collect();
    p.shm_size = Some(b.shm_size.0).filter(|s| *s > 0);
    p.platform = Some(service.platform.clone()).filter(|s| !s.is_empty());
    for s in &b.secrets {
        let Some(secret) = project.secrets.get(&s.source) else {
            return Err(anyhow!(
                "service {:?} refers to undefined build secret {}",
                service.name,
                s.source
            ));
        };
        let content = if !secret.0.file.is_empty() {
            std::fs::read(&secret.0.file)
                .map_err(|e| anyhow!("reading secret {}: {e}", secret.0.file))?
        } else if !secret.0.environment.is_empty() {
            project
                .environment
                .get(&secret.0.environment)
                .cloned()
                .unwrap_or_default()
                .into_bytes()
        } else {
            secret.0.content.clone().into_bytes()
        };
        let id = if s.target.is_empty() {
            s.source.clone()
        } else {
            s.target.clone()
        };
        p.secrets.push((id, content));
    }
    Ok(p)
}

/// Build `service`'s image; its id.
pub async fn build_service(
    compose: &Compose,
    project: &Project,
    service: &ServiceConfig,
    opts: &BuildOptions,
) -> Result<String> {
    let image = image_name(&project.name, service);
    let id = format!("Image {image}");
    compose.event(Event::working(&id, "Building"));
    let result = build(compose, project, service, opts).await;
    match &result {
        Ok(_) => compose.event(Event::done(&id, "Built")),
        Err(e) => compose.event(Event::new(&id, Status::Error, format!("{e:#}"))),
    }
    result
}

async fn build(
    compose: &Compose,
    project: &Project,
    service: &ServiceConfig,
    opts: &BuildOptions,
) -> Result<String> {
    let b = service.build.as_ref().expect("checked by build_params");
    let mut params = build_params(project, service, opts)?;
    let context = if b.context.is_empty() {
        PathBuf::from(&project.working_dir)
    } else {
        PathBuf::from(&b.context)
    };
    let spec = ContextSpec {
        dir: Some(context.clone()),
        dockerfile: if b.dockerfile_inline.is_empty() && !b.dockerfile.is_empty() {
            Some(dockerfile_path(&context, &b.dockerfile))
        } else {
            None
        },
        dockerfile_stdin: Some(b.dockerfile_inline.clone()).filter(|d| !d.is_empty()),
    };
    let prepared = tokio::task::spawn_blocking(move || {
        build_context::prepare(&spec, Box::new(std::io::empty()))
    })
    .await??;
    params.dockerfile = Some(prepared.dockerfile.clone()).filter(|d| !d.is_empty());
    params.context_dir = prepared.dir.clone();
    let auths = CredStore::from_env()
        .ok()
        .and_then(|s| s.all().ok())
        .unwrap_or_default();
    let (body, upload) = prepared.into_body();
    let mut stream = compose
        .client
        .build(&params, registry_config(&auths), body)
        .await?;
    let _ = upload.await;
    let mut image_id = None;
    while let Some(msg) = stream.next().await? {
        if let Some(err) = msg
            .get("errorDetail")
            .and_then(|d| d.get("message"))
            .or_else(|| msg.get("error"))
            .and_then(|v| v.as_str())
        {
            return Err(anyhow!("{err}"));
        }
        if let Some(id) = msg.pointer("/aux/ID").and_then(|v| v.as_str()) {
            image_id = Some(id.to_string());
        }
        if opts.show_output {
            if let Some(s) = msg.get("stream").and_then(|v| v.as_str()) {
                eprint!("{s}");
            }
        }
    }
    image_id.ok_or_else(|| anyhow!("the build of {} gave no image id", service.name))
}

/// The Dockerfile as docker compose resolves it: relative to the context.
fn dockerfile_path(context: &Path, dockerfile: &str) -> PathBuf {
    let p = Path::new(dockerfile);
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        context.join(p)
    }
}
