//! Which project a command acts on, decided as docker compose decides it. Commands that read
//! what runs (ps, logs, kill, rm…) work from the project name alone: `-p demo` without compose
//! files finds the containers by their labels, as `docker compose -p demo ps` does. The files
//! are read only to learn the name and the service list when there are files to read.

use anyhow::Result;
use serde_json::Value;

use super::Session;
use crate::client::api::{containers, Filters};
use crate::client::Client;
use crate::compose::labels;
use crate::compose::observed::OneOff;
use crate::compose::project::{LoadOptions, Loaded};
use crate::exit::ExitError;

/// docker compose prints its own errors as a bare line and exits 1 (no `Error:` prefix).
pub fn fail(message: impl Into<String>) -> anyhow::Error {
    ExitError::with(1, message)
}

/// docker compose's `projectOrName`: without `-f` but with `-p`, the name alone; otherwise the
/// project loaded (without resolving service environments: only names matter here), its name
/// lowercased as the backend lowercases it. A project that fails to load still has a name when
/// COMPOSE_PROJECT_NAME is set.
pub fn project_or_name(session: &Session, services: &[String]) -> Result<(Option<Loaded>, String)> {
    if session.flags.files.is_empty() {
        if let Some(name) = &session.flags.project_name {
            return Ok((None, name.to_lowercase()));
        }
    }
    let how = LoadOptions {
        services: services.to_vec(),
        discard_env_files: true,
        skip_resolve_environment: true,
    };
    match session.load(&how) {
        Ok(loaded) => {
            let name = loaded.project.name.to_lowercase();
            Ok((Some(loaded), name))
        }
        Err(e) => match env_project_name(session) {
            Some(name) => Ok((None, name)),
            None => Err(fail(e.to_string())),
        },
    }
}

/// docker compose's `toProjectName`: `-p`, then COMPOSE_PROJECT_NAME, then the loaded files.
pub fn project_name(session: &Session) -> Result<String> {
    if let Some(name) = &session.flags.project_name {
        return Ok(name.to_lowercase());
    }
    if let Some(name) = env_project_name(session) {
        return Ok(name);
    }
    let loaded = session
        .load(&LoadOptions::default())
        .map_err(|e| fail(e.to_string()))?;
    Ok(loaded.project.name.to_lowercase())
}

fn env_project_name(session: &Session) -> Option<String> {
    session
        .env
        .get("COMPOSE_PROJECT_NAME")
        .filter(|n| !n.is_empty())
        .map(|n| n.to_lowercase())
}

/// The services a loaded project enables, in name order.
pub fn service_names(loaded: &Option<Loaded>) -> Option<Vec<String>> {
    loaded
        .as_ref()
        .map(|l| l.project.services.keys().cloned().collect())
}

/// docker compose's `getSpecifiedContainer`: the container of `service` numbered `index` (0:
/// the lowest number, one-off containers last), as the engine lists it.
pub async fn specified_container(
    client: &Client,
    project: &str,
    oneoff: OneOff,
    all: bool,
    service: &str,
    index: u32,
) -> Result<Value> {
    let mut filters = Filters::one("label", &labels::project_filter(project));
    filters.add("label", &labels::service_filter(service));
    filters.add("label", labels::CONFIG_HASH);
    match oneoff {
        OneOff::Include => {}
        OneOff::Exclude => filters.add("label", &format!("{}=False", labels::ONEOFF)),
        OneOff::Only => filters.add("label", &format!("{}=True", labels::ONEOFF)),
    }
    if index > 0 {
        filters.add("label", &format!("{}={index}", labels::CONTAINER_NUMBER));
    }
    let mut list: Vec<Value> = client
        .send_as(containers::list(all, None, false, &filters))
        .await?;
    let key = |c: &Value| {
        let oneoff = c["Labels"][labels::ONEOFF] == "True";
        let number: i64 = c["Labels"][labels::CONTAINER_NUMBER]
            .as_str()
            .and_then(|n| n.parse().ok())
            .unwrap_or(0);
        (oneoff, number)
    };
    list.sort_by_key(key);
    match list.into_iter().next() {
        Some(c) => Ok(c),
        None if index > 0 => Err(fail(format!(
            "service {service:?} is not running container #{index}"
        ))),
        None => Err(fail(format!("service {service:?} is not running"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compose::options::ProjectFlags;

    fn session(files: &[&str], name: Option<&str>, env: &[(&str, &str)]) -> Session {
        Session {
            flags: ProjectFlags {
                files: files.iter().map(|f| f.to_string()).collect(),
                project_name: name.map(String::from),
                ..Default::default()
            },
            env: env
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            // No compose file there nor in its parents.
            cwd: std::path::PathBuf::from("/proc"),
        }
    }

    #[test]
    fn a_name_alone_needs_no_files() {
        let (loaded, name) = project_or_name(&session(&[], Some("Demo"), &[]), &[]).unwrap();
        assert!(loaded.is_none());
        assert_eq!(name, "demo");
        assert_eq!(
            project_name(&session(&[], Some("demo"), &[])).unwrap(),
            "demo"
        );
    }

    #[test]
    fn the_environment_names_a_project_without_files() {
        let s = session(&[], None, &[("COMPOSE_PROJECT_NAME", "envname")]);
        let (loaded, name) = project_or_name(&s, &[]).unwrap();
        assert!(loaded.is_none());
        assert_eq!(name, "envname");
        assert_eq!(project_name(&s).unwrap(), "envname");
    }

    #[test]
    fn no_name_and_no_files_is_docker_composes_error() {
        let e = project_or_name(&session(&[], None, &[]), &[]).unwrap_err();
        assert_eq!(e.to_string(), "no configuration file provided: not found");
    }
}
