//! `berth compose run`: a one-off container of a service (docker compose's
//! `RunOneOffContainer`): the service's dependencies brought up first (not with `--no-deps`),
//! then a container named `project-service-run-<id>` labelled as a one-off, with the command,
//! entrypoint, environment, labels, user, working directory, volumes and ports given on the
//! command line (the service's ports only with `--service-ports`), attached like `docker run`
//! and exiting with the command's status (or detached with `-d`, its id printed).

use std::io::IsTerminal;

use anyhow::{anyhow, Result};

use super::args::RunArgs;
use super::up::apply_scale;
use super::Session;
use crate::commands::run::attached::{attached, Attached};
use crate::commands::{out, Ctx};
use crate::compose::converge::convergence::create_raw;
use crate::compose::converge::{create, images, start, BuildPolicy, CreateOptions, StartOptions};
use crate::compose::labels;
use crate::compose::load::{ports::parse_port_config, volume::parse_volume};
use crate::compose::observed::OneOff;
use crate::compose::project::{self, LoadOptions};
use crate::compose::types::{shell_split, ServicePortConfig, ServiceVolumeConfig, ShellCommand};

pub async fn run(ctx: &Ctx, session: &Session, a: RunArgs) -> Result<i32> {
    let mut project = session
        .load(&LoadOptions {
            services: vec![a.service.clone()],
            ..LoadOptions::default()
        })?
        .project;
    if a.no_deps {
        project = project::select(project, std::slice::from_ref(&a.service), false)?;
    }
    apply_scale(&mut project, &[])?;
    let compose = session.compose(ctx).await?;
    let build = if a.build {
        BuildPolicy::Always
    } else {
        BuildPolicy::IfMissing
    };
    // The dependencies first, as `up -d` would bring them.
    if !a.no_deps {
        let mut deps = project.clone();
        deps.services.remove(&a.service);
        if !deps.services.is_empty() {
            let names: Vec<String> = deps.services.keys().cloned().collect();
            let opts = CreateOptions {
                services: names.clone(),
                remove_orphans: a.remove_orphans,
                inherit: true,
                build,
                pull: a.pull.clone(),
                ..CreateOptions::default()
            };
            create::create(&compose, &mut deps, &opts).await?;
            start::start(
                &compose,
                &deps,
                &StartOptions {
                    services: names,
                    ..StartOptions::default()
                },
            )
            .await?;
        }
    }
    let tty = !a.no_tty && std::io::stdout().is_terminal() && std::io::stdin().is_terminal();
    let mut service = project
        .services
        .get(&a.service)
        .cloned()
        .ok_or_else(|| anyhow!("no such service: {}", a.service))?;
    service.tty = tty;
    service.stdin_open = true;
    if !a.service_ports {
        service.ports.clear();
        for p in &a.publish {
            for v in parse_port_config(p).map_err(anyhow::Error::msg)? {
                service
                    .ports
                    .push(serde_json::from_value::<ServicePortConfig>(v)?);
            }
        }
    }
    for v in &a.volumes {
        let parsed = parse_volume(v).map_err(anyhow::Error::msg)?;
        service
            .volumes
            .push(serde_json::from_value::<ServiceVolumeConfig>(parsed)?);
    }
    if !a.command.is_empty() {
        service.command = Some(ShellCommand(a.command.clone()));
    }
    if let Some(e) = &a.entrypoint {
        service.entrypoint = Some(ShellCommand(shell_split(e).map_err(anyhow::Error::msg)?));
        if a.command.is_empty() {
            service.command = Some(ShellCommand(Vec::new()));
        }
    }
    if let Some(u) = &a.user {
        service.user = u.clone();
    }
    if let Some(w) = &a.workdir {
        service.working_dir = w.clone();
    }
    for e in &a.env {
        match e.split_once('=') {
            Some((k, v)) => {
                service
                    .environment
                    .0
                    .insert(k.to_string(), Some(v.to_string()));
            }
            None => {
                if let Some(v) = project.environment.get(e) {
                    service.environment.0.insert(e.clone(), Some(v.clone()));
                }
            }
        }
    }
    for l in &a.labels {
        let (k, v) = l
            .split_once('=')
            .ok_or_else(|| anyhow!("label must be set as KEY=VALUE"))?;
        service.labels.0.insert(k.to_string(), v.to_string());
    }
    // docker's stringid.GenerateRandomID: 32 random bytes in hex.
    let mut slug = [0u8; 32];
    std::io::Read::read_exact(&mut std::fs::File::open("/dev/urandom")?, &mut slug)?;
    let slug = hex::encode(slug);
    let name = a
        .name
        .clone()
        .unwrap_or_else(|| format!("{}-{}-run-{}", project.name, service.name, &slug[..12]));
    service.container_name = name.clone();
    service.scale = Some(1);
    service.restart.clear();
    if let Some(d) = service.deploy.as_mut() {
        d.restart_policy = None;
    }
    service.custom_labels.0.insert(labels::SLUG.into(), slug);
    service
        .custom_labels
        .0
        .insert(labels::ONEOFF.into(), "True".into());
    project
        .services
        .insert(service.name.clone(), service.clone());
    let opts = CreateOptions {
        build,
        pull: a.pull.clone(),
        ..CreateOptions::default()
    };
    let mut only = project.clone();
    only.services.retain(|n, _| n == &a.service);
    images::ensure_images(&compose, &mut only, &opts).await?;
    let service = only.services[&a.service].clone();
    let observed = compose
        .containers(&project.name, OneOff::Include, &[])
        .await?;
    if !a.no_deps {
        start::wait_dependencies(
            &compose,
            &project,
            &service.name,
            &service.depends_on,
            &observed,
        )
        .await?;
    }
    let service = crate::compose::create::resolve_service_references(&service, &observed)?;
    let created = create_raw(
        &compose,
        &project,
        &service,
        &name,
        1,
        None,
        None,
        a.use_aliases,
        true,
        a.rm,
    )
    .await?;
    crate::compose::create::inject_secrets_and_configs(
        &compose.client,
        &project,
        &service,
        &created.id,
    )
    .await?;
    if a.detach {
        compose.client.container_start(&created.id).await?;
        out(&format!("{}\n", created.id));
        return Ok(0);
    }
    attached(
        &compose.client,
        &created.id,
        Attached {
            stdin: true,
            stdout: true,
            stderr: true,
            tty,
            sig_proxy: !tty,
            condition: if a.rm { "removed" } else { "next-exit" },
            detach_keys: None,
        },
    )
    .await
}
