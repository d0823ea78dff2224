//! A project ready to run: the flags resolved ([`super::options`]), the files loaded
//! ([`super::load`]) and decoded ([`super::types`]), then what compose-go does after decoding:
//! profiles (services without an active profile are disabled), the consistency checks
//! (undefined services, networks, volumes, secrets, dependency cycles…), and each service's
//! environment completed from its `env_file`s and its labels from its `label_file`s.

mod consistency;
mod env;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use super::graph::Graph;
use super::labels;
use super::load::{self, Env, LoadError};
use super::options::{self, ProjectFlags};
use super::types::{Labels, Mapping, Project, ServiceConfig};

/// A loaded project and what to tell the user about it.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub project: Project,
    /// Warnings in docker compose's words, each once.
    pub warnings: Vec<String>,
    /// The files as given (absolute), for the `config_files` label.
    pub config_paths: Vec<String>,
    /// The environment files read for the project (`environment_file` label).
    pub env_files: Vec<String>,
}

/// What a command asks of the load (docker compose's `ToProject` options).
#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    /// The services the command names: enabled even when their profile is not, and with what
    /// they depend on the only ones kept.
    pub services: Vec<String>,
    /// `config` drops `env_file`/`label_file` once resolved; other commands keep them (they
    /// are part of the config hash docker compose labels containers with).
    pub discard_env_files: bool,
    /// `config --hash`/`--profiles`: service environments left as written (no env files read).
    pub skip_resolve_environment: bool,
}

/// Load the project the flags designate, as docker compose's `ToProject` does.
pub fn load(
    flags: &ProjectFlags,
    os_env: &Env,
    cwd: &Path,
    how: &LoadOptions,
) -> Result<Loaded, LoadError> {
    let opts = options::resolve(flags, os_env, cwd)?;
    let model = load::load_model(&opts.load)?;
    let mut project = Project::from_canonical(model.value.clone())
        .map_err(|e| model.error_at(&e.path, decoding_failed(&e.path, &e.message)))?;
    project.working_dir = opts.load.working_dir.display().to_string();
    project.compose_files = opts.config_paths.clone();
    project.environment = Mapping(model.environment.clone());
    let mut project = with_profiles(project, &opts.profiles);
    consistency::check_consistency(&mut project).map_err(|r| model.error_at(&r.path, r.message))?;
    let mut warnings = opts.warnings;
    warnings.extend(model.warnings.iter().cloned());
    if !how.skip_resolve_environment {
        env::resolve_service_environment(&mut project, how.discard_env_files, &mut warnings)
            .map_err(|r| model.error_at(&r.path, r.message))?;
    }
    env::resolve_service_labels(&mut project, how.discard_env_files, &mut warnings)
        .map_err(|r| model.error_at(&r.path, r.message))?;
    let mut project = with_services_enabled(project, &how.services);
    set_custom_labels(&mut project, &opts.env_file_flags);
    if !how.services.is_empty() {
        project = select(project, &how.services, true)?;
    }
    without_unnecessary_resources(&mut project);
    Ok(Loaded {
        project,
        warnings,
        config_paths: opts.config_paths,
        env_files: opts.env_files,
    })
}

/// How docker compose reports a value the typed model refuses: mapstructure's error, which
/// names the value by its path with map keys in brackets (`services[web].healthcheck.interval`).
fn decoding_failed(path: &str, message: &str) -> String {
    /// The Go maps (the others are structs and slices) whose keys a path goes through.
    const MAPS: &[&[&str]] = &[
        &["services"],
        &["networks"],
        &["volumes"],
        &["secrets"],
        &["configs"],
        &["models"],
        &["services", "*", "depends_on"],
        &["services", "*", "networks"],
        &["services", "*", "ulimits"],
        &["services", "*", "models"],
    ];
    let mut out = String::new();
    let mut seen: Vec<&str> = Vec::new();
    for seg in path.split('.').filter(|s| !s.is_empty()) {
        let (key, index) = match seg.find('[') {
            Some(i) => (&seg[..i], &seg[i..]),
            None => (seg, ""),
        };
        let in_map = MAPS.iter().any(|m| {
            m.len() == seen.len() && m.iter().zip(&seen).all(|(p, s)| *p == "*" || p == s)
        });
        if in_map {
            out.push_str(&format!("[{key}]"));
        } else {
            if !out.is_empty() {
                out.push('.');
            }
            out.push_str(key);
        }
        out.push_str(index);
        seen.push(key);
    }
    format!("decoding failed due to the following error(s):\n\n'{out}' {message}")
}

/// compose-go's `HasProfile`: no profile means always on; `*` enables every profile.
pub fn has_profile(service: &ServiceConfig, profiles: &[String]) -> bool {
    service.profiles.is_empty()
        || profiles
            .iter()
            .any(|p| p == "*" || service.profiles.contains(p))
}

/// compose-go's `WithProfiles`.
pub fn with_profiles(mut project: Project, profiles: &[String]) -> Project {
    let all: BTreeMap<String, ServiceConfig> = std::mem::take(&mut project.services)
        .into_iter()
        .chain(std::mem::take(&mut project.disabled_services))
        .collect();
    for (name, s) in all {
        if has_profile(&s, profiles) {
            project.services.insert(name, s);
        } else {
            project.disabled_services.insert(name, s);
        }
    }
    project.profiles = profiles.to_vec();
    project
}

/// compose-go's `WithServicesEnabled`: the named services on, with the profiles they need.
pub fn with_services_enabled(project: Project, names: &[String]) -> Project {
    let mut profiles = project.profiles.clone();
    for n in names {
        if let Some(s) = project.disabled_services.get(n) {
            profiles.extend(s.profiles.iter().cloned());
        }
    }
    with_profiles(project, &profiles)
}

/// compose-go's `WithSelectedServices`: only `names` (and, with `with_deps`, what they depend
/// on) stay enabled; an unknown name is refused as docker compose refuses it.
pub fn select(
    mut project: Project,
    names: &[String],
    with_deps: bool,
) -> Result<Project, LoadError> {
    project = with_services_enabled(project, names);
    for n in names {
        if !project.services.contains_key(n) {
            return Err(LoadError::plain(format!("no such service: {n}")));
        }
    }
    let keep = if with_deps {
        graph(&project).with_dependencies(names)
    } else {
        names.iter().cloned().collect()
    };
    let all = std::mem::take(&mut project.services);
    for (name, mut s) in all {
        if keep.contains(&name) {
            s.depends_on.retain(|d, _| keep.contains(d));
            project.services.insert(name, s);
        } else {
            project.disabled_services.insert(name, s);
        }
    }
    Ok(project)
}

/// The dependency graph of the enabled services.
pub fn graph(project: &Project) -> Graph {
    Graph::new(
        project
            .services
            .iter()
            .map(|(n, s)| (n.as_str(), s.get_dependencies())),
    )
}

/// The labels docker compose adds to every service's containers (its `CustomLabels`).
fn set_custom_labels(project: &mut Project, env_file_flags: &[String]) {
    let files = project.compose_files.join(",");
    for (name, s) in project.services.iter_mut() {
        let mut l = BTreeMap::new();
        l.insert(labels::PROJECT.to_string(), project.name.clone());
        l.insert(labels::SERVICE.to_string(), name.clone());
        l.insert(
            labels::VERSION.to_string(),
            labels::COMPOSE_VERSION.to_string(),
        );
        l.insert(labels::WORKING_DIR.to_string(), project.working_dir.clone());
        l.insert(labels::CONFIG_FILES.to_string(), files.clone());
        l.insert(labels::ONEOFF.to_string(), "False".to_string());
        if !env_file_flags.is_empty() {
            l.insert(
                labels::ENVIRONMENT_FILE.to_string(),
                env_file_flags.join(","),
            );
        }
        s.custom_labels = Labels(l);
    }
}

/// compose-go's `WithoutUnnecessaryResources`: networks, volumes, secrets, configs and models
/// no enabled service uses are left out.
pub fn without_unnecessary_resources(project: &mut Project) {
    let mut networks = BTreeSet::new();
    let mut volumes = BTreeSet::new();
    let mut secrets = BTreeSet::new();
    let mut configs = BTreeSet::new();
    let mut models = BTreeSet::new();
    for s in project.services.values() {
        networks.extend(s.networks.keys().cloned());
        for v in &s.volumes {
            if v.type_ == "volume" && !v.source.is_empty() {
                volumes.insert(v.source.clone());
            }
        }
        secrets.extend(s.secrets.iter().map(|x| x.source.clone()));
        if let Some(b) = &s.build {
            secrets.extend(b.secrets.iter().map(|x| x.source.clone()));
        }
        configs.extend(s.configs.iter().map(|x| x.source.clone()));
        models.extend(s.models.keys().cloned());
    }
    project.networks.retain(|k, _| networks.contains(k));
    project.volumes.retain(|k, _| volumes.contains(k));
    project.secrets.retain(|k, _| secrets.contains(k));
    project.configs.retain(|k, _| configs.contains(k));
    project.models.retain(|k, _| models.contains(k));
}
