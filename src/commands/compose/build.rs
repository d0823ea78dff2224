//! `berth compose build`, `pull` and `push`: the services' images built with the engine's
//! builder, pulled, or pushed to their registries.

use anyhow::{anyhow, Result};
use futures_util::future::join_all;

use super::args::{BuildArgs, PullArgs, PushArgs};
use super::Session;
use crate::commands::Ctx;
use crate::compose::converge::build::{build_service, BuildOptions};
use crate::compose::converge::images::{image_name, pull_image, push_image};
use crate::compose::project::LoadOptions;
use crate::compose::types::ServiceConfig;

pub async fn build(ctx: &Ctx, session: &Session, a: BuildArgs) -> Result<i32> {
    let project = session
        .load(&LoadOptions {
            services: a.services.clone(),
            ..LoadOptions::default()
        })?
        .project;
    let compose = session.compose_quiet(ctx, a.quiet).await?;
    let opts = BuildOptions {
        no_cache: a.no_cache,
        pull: a.pull,
        args: a.build_args.clone(),
        show_output: !a.quiet,
    };
    for s in project.services.values() {
        if !a.services.is_empty() && !a.services.contains(&s.name) {
            continue;
        }
        if s.build.is_some() {
            build_service(&compose, &project, s, &opts).await?;
        }
    }
    Ok(0)
}

fn selected<'a>(
    services: impl Iterator<Item = &'a ServiceConfig>,
    names: &[String],
) -> Vec<&'a ServiceConfig> {
    services
        .filter(|s| names.is_empty() || names.contains(&s.name))
        .collect()
}

pub async fn pull(ctx: &Ctx, session: &Session, a: PullArgs) -> Result<i32> {
    let project = session
        .load(&LoadOptions {
            services: if a.include_deps {
                a.services.clone()
            } else {
                Vec::new()
            },
            ..LoadOptions::default()
        })?
        .project;
    let compose = session.compose_quiet(ctx, a.quiet).await?;
    let wanted: Vec<String> = if a.include_deps {
        Vec::new()
    } else {
        a.services.clone()
    };
    let mut images: Vec<(&ServiceConfig, String)> = Vec::new();
    for s in selected(project.services.values(), &wanted) {
        if s.image.is_empty() {
            continue;
        }
        if a.policy.as_deref() == Some("missing")
            && crate::compose::converge::images::local_image_id(&compose, &s.image)
                .await?
                .is_some()
        {
            continue;
        }
        if !images.iter().any(|(_, i)| *i == s.image) {
            images.push((s, s.image.clone()));
        }
    }
    let results = join_all(
        images
            .iter()
            .map(|(s, i)| async { (*s, pull_image(&compose, i, &s.platform).await) }),
    )
    .await;
    let mut failed = None;
    for (s, r) in results {
        if let Err(e) = r {
            if s.build.is_some() {
                eprintln!("WARN[0000] Some service image(s) must be built from source by running:\n    docker compose build {}", s.name);
            } else if !a.ignore_pull_failures {
                failed.get_or_insert(e);
            }
        }
    }
    match failed {
        Some(e) => Err(e),
        None => Ok(0),
    }
}

pub async fn push(ctx: &Ctx, session: &Session, a: PushArgs) -> Result<i32> {
    let project = session
        .load(&LoadOptions {
            services: if a.include_deps {
                a.services.clone()
            } else {
                Vec::new()
            },
            ..LoadOptions::default()
        })?
        .project;
    let compose = session.compose_quiet(ctx, a.quiet).await?;
    let wanted = if a.include_deps {
        Vec::new()
    } else {
        a.services.clone()
    };
    for s in selected(project.services.values(), &wanted) {
        if s.build.is_none() {
            continue;
        }
        let image = image_name(&project.name, s);
        if s.image.is_empty() {
            continue;
        }
        if let Err(e) = push_image(&compose, &image).await {
            if !a.ignore_push_failures {
                return Err(anyhow!("{e:#}"));
            }
        }
    }
    Ok(0)
}
