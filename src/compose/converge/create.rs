//! `create` (the first half of `up`): images pulled or built, networks and volumes ensured,
//! orphan containers reported or removed, then every service converged in dependency order.

use std::collections::BTreeSet;

use anyhow::{anyhow, Result};

use super::convergence::Convergence;
use super::images::ensure_images;
use super::{stop, Compose, CreateOptions};
use crate::compose::create as containers;
use crate::compose::observed::{Container, OneOff};
use crate::compose::types::Project;

/// compose-go's `CheckContainerNameUnicity`.
pub fn check_container_names(project: &Project) -> Result<()> {
    let mut seen = BTreeSet::new();
    for s in project.services.values() {
        if s.container_name.is_empty() {
            continue;
        }
        if !seen.insert(s.container_name.clone()) {
            return Err(anyhow!(
                "container name {:?} is already in use by service {:?}",
                s.container_name,
                s.name
            ));
        }
    }
    Ok(())
}

/// docker compose's `isOrphaned`: a container of a service the file no longer has, or an
/// exited one-off container.
pub fn is_orphan(project: &Project, c: &Container) -> bool {
    if c.oneoff {
        return c.state == "exited" || c.state == "dead";
    }
    !project.services.contains_key(&c.service)
        && !project.disabled_services.contains_key(&c.service)
}

/// Create what `project` describes (the project is updated with the image labels).
pub async fn create(
    compose: &Compose,
    project: &mut Project,
    opts: &CreateOptions,
) -> Result<Convergence> {
    check_container_names(project)?;
    // docker compose's up resolves env_file into environment and drops it before hashing (label
    // files stay): the config hash must be the one docker compose computes.
    for s in project.services.values_mut() {
        s.env_files.clear();
    }
    ensure_images(compose, project, opts).await?;
    let progress = |e: crate::compose::progress::Event| compose.event(e);
    let networks = containers::ensure_networks(&compose.client, project, &progress).await?;
    let volumes =
        containers::ensure_volumes(&compose.client, project, opts.assume_yes, &progress).await?;
    let observed = compose
        .containers(&project.name, OneOff::Include, &[])
        .await?;
    let orphans: Vec<&Container> = observed.iter().filter(|c| is_orphan(project, c)).collect();
    if !orphans.is_empty() && !opts.ignore_orphans {
        if opts.remove_orphans {
            for c in &orphans {
                stop::stop_and_remove(compose, c, None, opts.timeout, false).await?;
            }
        } else {
            let names: Vec<&str> = orphans.iter().map(|c| c.name.as_str()).collect();
            eprintln!(
                "WARN[0000] Found orphan containers ({}) for this project. If you removed or renamed this service in your compose file, you can run this command with the --remove-orphans flag to clean it up.",
                format_names(&names)
            );
        }
    }
    let services: Vec<String> = project.services.keys().cloned().collect();
    let state = Convergence::new(&services, &observed, networks, volumes);
    state.apply(compose, project, opts).await?;
    Ok(state)
}

/// Go's `%s` of a string slice: `[a b]`.
fn format_names(names: &[&str]) -> String {
    format!("[{}]", names.join(" "))
}
