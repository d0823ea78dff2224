//! `berth compose config`: the project as docker compose normalises it, in YAML (default) or
//! JSON exactly as docker compose prints them, or one list (services, volumes, networks,
//! profiles, images, config hashes).

use anyhow::Result;

use super::args::ConfigArgs;
use super::Session;
use crate::commands::out;
use crate::compose::create::image_name;
use crate::compose::project::{LoadOptions, Loaded};
use crate::compose::types::{service_hash, to_go_json_indent, to_yaml};

pub fn run(session: &Session, a: ConfigArgs) -> Result<i32> {
    // docker compose lists services, volumes, networks and hashes of the whole project: the
    // services named on the command line only select for the model, --profiles and --images.
    let whole_project = a.services || a.volumes || a.networks || a.hash.is_some();
    let Loaded { project, .. } = session.load(&LoadOptions {
        services: if whole_project {
            Vec::new()
        } else {
            a.services_filter.clone()
        },
        discard_env_files: true,
        // The lists are made without reading env_files (WithoutEnvironmentResolution).
        skip_resolve_environment: whole_project || a.profiles || a.images,
    })?;
    // The lists go straight to stdout, -q and -o notwithstanding, as docker compose's do.
    let list = |items: Vec<String>| {
        out(&lines(items.iter()));
        Ok(0)
    };
    if a.services {
        return list(project.services.keys().cloned().collect());
    }
    if a.volumes {
        return list(project.volumes.keys().cloned().collect());
    }
    if a.networks {
        return list(project.networks.keys().cloned().collect());
    }
    if let Some(which) = &a.hash {
        // docker compose's runHash: `*` or a comma-separated list (not trimmed), sorted, each
        // printed as it comes; a name that is not an enabled service stops it as compose-go's
        // GetService refuses it.
        let mut wanted: Vec<String> = if which == "*" {
            project.services.keys().cloned().collect()
        } else {
            which.split(',').map(String::from).collect()
        };
        wanted.sort();
        for name in &wanted {
            let Some(s) = project.services.get(name) else {
                let why = if project.disabled_services.contains_key(name) {
                    "disabled"
                } else {
                    "not found"
                };
                anyhow::bail!("no such service: {name}: {why}");
            };
            out(&format!("{name} {}\n", service_hash(s)));
        }
        return Ok(0);
    }
    if a.profiles {
        let mut all: Vec<String> = project
            .services
            .values()
            .chain(project.disabled_services.values())
            .flat_map(|s| s.profiles.iter().cloned())
            .collect();
        all.sort();
        all.dedup();
        return list(all);
    }
    if a.images {
        return list(
            project
                .services
                .values()
                .map(|s| image_name(&project.name, s))
                .collect(),
        );
    }
    // docker compose writes the interpolated model so that it can be loaded again: every `$`
    // left in it (an escaped `$$`, a value read from an env file) is escaped again.
    let text = if a.format.as_deref() == Some("json") {
        to_go_json_indent(&project)
    } else {
        to_yaml(&project)
    };
    let text = text.replace('$', "$$");
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
