//! `berth compose up` and `create`: the project converged onto the engine, then (for `up`)
//! started; detached (`-d`, `--wait`) it returns once started or healthy, attached it follows
//! the services' logs with coloured prefixes until they exit, Ctrl-C stopping the project (a
//! second Ctrl-C kills it).

use std::time::Duration;

use anyhow::{anyhow, Result};

use super::args::{CreateArgs, UpArgs};
use super::Session;
use crate::commands::Ctx;
use crate::compose::converge::{
    build::BuildOptions, create, start, stop, BuildPolicy, CreateOptions, Recreate, StartOptions,
};
use crate::compose::project::{self, LoadOptions};
use crate::compose::types::Project;

/// `--scale SERVICE=NUM`: compose-go's `SetScale`.
pub fn apply_scale(project: &mut Project, scales: &[String]) -> Result<()> {
    for s in scales {
        let parts: Vec<&str> = s.split('=').collect();
        let [name, num] = parts.as_slice() else {
            return Err(anyhow!(
                "invalid --scale option {s:?}. Should be SERVICE=NUM"
            ));
        };
        let n: i64 = num
            .parse()
            .map_err(|_| anyhow!("strconv.Atoi: parsing {num:?}: invalid syntax"))?;
        let service = project
            .services
            .get_mut(*name)
            .ok_or_else(|| anyhow!("no such service: {name}"))?;
        service.scale = Some(n);
        if let Some(d) = service.deploy.as_mut() {
            d.replicas = Some(n);
        }
    }
    Ok(())
}

/// What `create` and `up` share: the flags as docker compose turns them into CreateOptions.
#[allow(clippy::too_many_arguments)]
fn create_options(
    services: &[String],
    build: bool,
    no_build: bool,
    force_recreate: bool,
    no_recreate: bool,
    always_recreate_deps: bool,
    renew_anon_volumes: bool,
    remove_orphans: bool,
    pull: &Option<String>,
    timeout: Option<i64>,
    quiet_pull: bool,
) -> CreateOptions {
    let recreate = if no_recreate {
        Recreate::Never
    } else if force_recreate || renew_anon_volumes {
        Recreate::Force
    } else {
        Recreate::Diverged
    };
    let recreate_dependencies = if no_recreate {
        Recreate::Never
    } else if always_recreate_deps {
        Recreate::Force
    } else {
        Recreate::Diverged
    };
    CreateOptions {
        services: services.to_vec(),
        remove_orphans,
        ignore_orphans: std::env::var("COMPOSE_IGNORE_ORPHANS")
            .is_ok_and(|v| matches!(v.as_str(), "1" | "true" | "True" | "TRUE")),
        recreate,
        recreate_dependencies,
        inherit: !renew_anon_volumes,
        timeout,
        build: if no_build {
            BuildPolicy::Never
        } else if build {
            BuildPolicy::Always
        } else {
            BuildPolicy::IfMissing
        },
        build_options: BuildOptions {
            show_output: !quiet_pull,
            ..BuildOptions::default()
        },
        pull: pull.clone(),
        quiet_pull,
        assume_yes: false,
    }
}

fn load(session: &Session, services: &[String], no_deps: bool) -> Result<Project> {
    let loaded = session.load(&LoadOptions {
        services: services.to_vec(),
        ..LoadOptions::default()
    })?;
    let mut p = loaded.project;
    if no_deps && !services.is_empty() {
        p = project::select(p, services, false)?;
    }
    Ok(p)
}

pub async fn create_cmd(ctx: &Ctx, session: &Session, a: CreateArgs) -> Result<i32> {
    let mut project = load(session, &a.services, false)?;
    apply_scale(&mut project, &a.scale)?;
    let opts = create_options(
        &a.services,
        a.build,
        a.no_build,
        a.force_recreate,
        a.no_recreate,
        false,
        false,
        a.remove_orphans,
        &a.pull,
        None,
        false,
    );
    let compose = session.compose(ctx).await?;
    create::create(&compose, &mut project, &opts).await?;
    Ok(0)
}

pub async fn up(ctx: &Ctx, session: &Session, a: UpArgs) -> Result<i32> {
    let mut project = load(session, &a.services, a.no_deps)?;
    apply_scale(&mut project, &a.scale)?;
    if let Some(s) = &a.exit_code_from {
        if !project.services.contains_key(s) {
            return Err(anyhow!("no such service: {s}"));
        }
    }
    let opts = create_options(
        &a.services,
        a.build,
        a.no_build,
        a.force_recreate,
        a.no_recreate,
        a.always_recreate_deps,
        a.renew_anon_volumes,
        a.remove_orphans,
        &a.pull,
        a.timeout,
        a.quiet_pull,
    );
    let compose = session.compose(ctx).await?;
    create::create(&compose, &mut project, &opts).await?;
    if a.no_start {
        return Ok(0);
    }
    let detach = a.detach || a.wait;
    if detach {
        start::start(
            &compose,
            &project,
            &StartOptions {
                services: a.services.clone(),
                wait: a.wait,
                wait_timeout: a.wait_timeout.map(Duration::from_secs),
            },
        )
        .await?;
        return Ok(0);
    }
    super::attached::run(&compose, &project, &a).await
}

pub async fn start_cmd(ctx: &Ctx, session: &Session, services: Vec<String>) -> Result<i32> {
    let compose = session.compose(ctx).await?;
    let (project, name) = session.project_or_name(&services)?;
    let project = match project {
        Some(p) => p,
        None => {
            return Err(anyhow!(
                "no configuration file provided: not found for project {name:?}"
            ))
        }
    };
    start::start(
        &compose,
        &project,
        &StartOptions {
            services,
            ..StartOptions::default()
        },
    )
    .await?;
    Ok(0)
}

pub async fn stop_cmd(
    ctx: &Ctx,
    session: &Session,
    services: Vec<String>,
    timeout: Option<i64>,
) -> Result<i32> {
    let compose = session.compose(ctx).await?;
    let (project, name) = session.project_or_name(&services)?;
    stop::stop(&compose, &name, &services, timeout, project.as_ref()).await?;
    Ok(0)
}

pub async fn restart_cmd(
    ctx: &Ctx,
    session: &Session,
    services: Vec<String>,
    timeout: Option<i64>,
    no_deps: bool,
) -> Result<i32> {
    let compose = session.compose(ctx).await?;
    let (project, name) = session.project_or_name(&services)?;
    let mut targets = services.clone();
    if !no_deps && !services.is_empty() {
        if let Some(p) = &project {
            let g = project::graph(p);
            for s in &services {
                targets.extend(g.dependents(s));
            }
        }
    }
    stop::restart(&compose, &name, &targets, timeout, project.as_ref()).await?;
    Ok(0)
}
