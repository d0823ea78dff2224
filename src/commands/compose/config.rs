//! `berth compose config`: the project as docker compose normalises it, in YAML (default) or
//! JSON exactly as docker compose prints them, or one list (services, volumes, networks,
//! profiles, images, config hashes).

use anyhow::Result;

use super::args::ConfigArgs;
use super::Session;
use crate::commands::out;
use crate::compose::project::{LoadOptions, Loaded};
use crate::compose::types::{service_hash, to_go_json_indent, to_yaml};

/// The image a service runs: its `image`, or `<project>-<service>` for one that is built.
pub fn image_name(project: &str, service: &crate::compose::types::ServiceConfig) -> String {
    if service.image.is_empty() {
        format!("{project}-{}", service.name)
    } else {
        service.image.clone()
    }
}

pub fn run(session: &Session, a: ConfigArgs) -> Result<i32> {
    let Loaded { project, .. } = session.load(&LoadOptions {
        services: a.services_filter.clone(),
        discard_env_files: true,
        skip_resolve_environment: a.hash.is_some() || a.profiles,
    })?;
    let text = if a.services {
        lines(project.services.keys())
    } else if a.volumes {
        lines(project.volumes.keys())
    } else if a.networks {
        lines(project.networks.keys())
    } else if a.profiles {
        let mut all: Vec<&String> = project
            .services
            .values()
            .chain(project.disabled_services.values())
            .flat_map(|s| s.profiles.iter())
            .collect();
        all.sort();
        all.dedup();
        lines(all.into_iter())
    } else if a.images {
        lines(
            project
                .services
                .values()
                .map(|s| image_name(&project.name, s)),
        )
    } else if let Some(which) = &a.hash {
        let wanted: Vec<&str> = which.split(',').map(str::trim).collect();
        let mut text = String::new();
        for (name, s) in &project.services {
            if wanted.contains(&"*") || wanted.contains(&name.as_str()) {
                text.push_str(&format!("{name} {}\n", service_hash(s)));
            }
        }
        text
    } else {
        // docker compose writes the interpolated model so that it can be loaded again: every
        // `$` left in it (an escaped `$$`, a value read from an env file) is escaped again.
        let text = if a.format.as_deref() == Some("json") {
            to_go_json_indent(&project)
        } else {
            to_yaml(&project)
        };
        text.replace('$', "$$")
    };
    if a.quiet {
        return Ok(0);
    }
    match &a.output {
        Some(path) => std::fs::write(path, text.as_bytes())
            .map_err(|e| anyhow::anyhow!("open {path}: {}", crate::compose::load::os_error(&e)))?,
        None => out(&text),
    }
    Ok(0)
}

fn lines<T: std::fmt::Display>(items: impl Iterator<Item = T>) -> String {
    items.map(|i| format!("{i}\n")).collect()
}
